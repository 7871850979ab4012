"""Ratings from the database: gather finished, ranked seats, fit them (games/competition/ratings.py),
and store the result as ``RatingSnapshot`` rows. Run by the ratings task (workers/tasks.py), which
the sweep queues when a ranked match has ended and things have been quiet for a moment (a
debounce), or when the last computation is old; never in a request. Pages and the API read the
latest snapshot (``snapshot_latest``).

A player is a model contestant, an agent token, an account, or a guest's browser session, named
by a key (``user-3``, ``model-info-gain``, ``agent-2``, ``guest-<keyed hash of the session>``): the
session key itself never leaves this module."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from games.competition import ratings
from games.models import Match, ModelContestant, PuzzleInstance, RatingSnapshot, RatingsRun, Seat
from games.play import selectors

logger = logging.getLogger(__name__)

PERIODS: dict[str, int | None] = {"all": None, "30d": 30, "7d": 7}
PEOPLE_KEY = "people-all"
PEOPLE_NAME = "All people"
HISTORY_KEPT = 500  # all/all snapshots kept for players' ability over time
OTHERS_KEPT = 3


def min_matches() -> int:
    return int(getattr(settings, "ARENA_RATINGS_MIN_MATCHES", 5))


def bootstrap_rounds() -> int:
    return int(getattr(settings, "ARENA_RATINGS_ROUNDS", 100))


def debounce_s() -> float:
    return float(getattr(settings, "ARENA_RATINGS_DEBOUNCE_S", 30.0))


def max_wait_s() -> float:
    return float(getattr(settings, "ARENA_RATINGS_MAX_WAIT_S", 600.0))


def every_s() -> float:
    return float(getattr(settings, "ARENA_RATINGS_EVERY_S", 3600.0))


STALE_RUN = dt.timedelta(minutes=30)  # a run that started this long ago died; another may go


def guest_key(session_key: str) -> str:
    return selectors.player_key(
        kind=Seat.Kind.HUMAN, user_id=None, session_key=session_key, token_id=None, contestant="", handle=""
    )


def viewer_player_key(*, user_id: int | None, session_key: str) -> str | None:
    if user_id is not None:
        return f"user-{user_id}"
    return guest_key(session_key) if session_key else None


# --- gathering ----------------------------------------------------------------------------------


@dataclass
class SeatRow:
    seat_id: int
    match_id: int
    player: str
    name: str
    kind: str
    human: bool
    contestant: str
    instance_id: int
    variant: str
    family: str
    tier: str
    solved: bool
    tests_used: int
    max_tests: int
    # The seat's race clock (``selectors.race_clock``): a model's own thinking time, a person's
    # or an agent's time from the start of the match; it breaks ties between solvers.
    seconds: float
    finished: dt.datetime | None
    points: int = 0


def _int_points(value: Any) -> int:
    """``score.points`` as read through a key transform (a number, or its text on some backends)."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def seat_rows(*, family: str = "", variant: str = "", since: dt.datetime | None = None) -> list[SeatRow]:
    """Every finished seat of a finished, ranked match (aborted and unranked ones never count),
    oldest match first."""
    seats = Seat.objects.filter(match__status=Match.Status.FINISHED, match__ranked=True).exclude(
        status=Seat.Status.PLAYING
    )
    if family:
        seats = seats.filter(match__instance__family=family)
    if variant:
        seats = seats.filter(match__instance__variant__slug=variant)
    if since is not None:
        seats = seats.filter(match__finished__gte=since)
    names = dict(ModelContestant.objects.values_list("slug", "name"))
    rows = (
        seats.annotate(solved_flag=KT("score__solved"), points_value=KT("score__points"))
        .order_by("match__finished", "match_id", "id")
        .values_list(
            "id",
            "match_id",
            "kind",
            "contestant",
            "user_id",
            "user__username",
            "agent_token_id",
            "agent_token__name",
            "session_key",
            "handle",
            "solved_flag",
            "tests_used",
            "match__max_tests",
            "match__instance_id",
            "match__instance__variant__slug",
            "match__instance__family",
            "match__started",
            "finished",
            "match__finished",
            "points_value",
        )
    )
    rows = list(rows)
    thinking = selectors.model_thinking_seconds(seat_ids=seats.filter(kind=Seat.Kind.MODEL).values("id"))
    # The tier from each instance's public data (a key transform across the relation reads None
    # on SQLite); instances are few next to seats.
    tiers = dict(
        PuzzleInstance.objects.filter(pk__in={r[13] for r in rows}).values_list("pk", "public__tier")
    )
    out = []
    for (
        seat_id,
        match_id,
        kind,
        contestant,
        user_id,
        username,
        token_id,
        token_name,
        session_key,
        handle,
        solved,
        tests_used,
        max_tests,
        instance_id,
        variant_slug,
        family_id,
        started,
        seat_finished,
        match_finished,
        points,
    ) in rows:
        key = selectors.player_key(
            kind=kind,
            user_id=user_id,
            session_key=session_key,
            token_id=token_id,
            contestant=contestant,
            handle=handle,
        )
        if kind == Seat.Kind.MODEL:
            name = names.get(contestant, contestant)
        elif kind == Seat.Kind.AGENT:
            name = token_name or handle
        elif user_id is not None:
            name = username
        else:
            name = handle
        seconds = selectors.race_clock(
            kind=kind,
            started=started,
            finished=seat_finished or match_finished,
            thinking_s=thinking.get(seat_id),
        )
        out.append(
            SeatRow(
                seat_id=seat_id,
                match_id=match_id,
                player=key,
                name=name,
                kind=kind,
                human=kind == Seat.Kind.HUMAN,
                contestant=contestant if kind == Seat.Kind.MODEL else "",
                instance_id=instance_id,
                variant=variant_slug,
                family=family_id,
                tier=str(tiers[instance_id]) if tiers.get(instance_id) is not None else "",
                solved=str(solved).lower() in ("true", "1"),  # PostgreSQL says true, SQLite 1
                tests_used=tests_used,
                max_tests=max_tests,
                seconds=seconds or 0.0,
                finished=match_finished,
                points=_int_points(points),
            )
        )
    return out


# --- fitting ------------------------------------------------------------------------------------


def _codes(values: list[Any]) -> tuple[list[Any], np.ndarray]:
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values))
    return list(index), codes


def _r(value: float) -> float:
    return round(float(value), 3)


def _seat_data(rows: list[SeatRow], *, tests_aware: bool = False):
    players, player = _codes([r.player for r in rows])
    instances, item = _codes([r.instance_id for r in rows])
    matches, cluster = _codes([r.match_id for r in rows])
    variant_of: dict[int, str] = {r.instance_id: r.variant for r in rows}
    variants, item_variant = _codes([variant_of[i] for i in instances])
    y = [
        ratings.outcome_from_seat(
            solved=r.solved, tests_used=r.tests_used, max_tests=r.max_tests, tests_aware=tests_aware
        )
        for r in rows
    ]
    data = ratings.SeatData.build(player=player, item=item, cluster=cluster, y=y, item_variant=item_variant)
    return data, players, instances, variants


def _bootstrap_rate(
    rows: list[SeatRow], groups: dict[str, np.ndarray], rounds: int, seed: int
) -> dict[str, np.ndarray]:
    """Bootstrap draws of each group's solve rate (seats of the group's mask), resampling matches."""
    _, cluster = _codes([r.match_id for r in rows])
    solved = np.array([r.solved for r in rows], dtype=float)
    rng = np.random.default_rng(seed)
    n_clusters = int(cluster.max()) + 1
    draws = {g: np.empty(rounds) for g in groups}
    for i in range(rounds):
        w = ratings.cluster_weights(rng, cluster, n_clusters)
        for g, mask in groups.items():
            total = w[mask].sum()
            draws[g][i] = (w[mask] @ solved[mask]) / total if total else np.nan
    return draws


def _interval(draws: np.ndarray) -> tuple[float | None, float | None]:
    draws = draws[~np.isnan(draws)]
    if not draws.size:
        return None, None
    low, high = ratings.interval_of(draws)
    return _r(low), _r(high)


def compute(rows: list[SeatRow], *, rounds: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Everything a snapshot holds, from seat rows. Deterministic for the same rows and seed."""
    rounds = bootstrap_rounds() if rounds is None else rounds
    if not rows:
        return {
            "players": [],
            "people": None,
            "variants": [],
            "instances": [],
            "head_to_head": [],
            "gap": [],
            "calibration": [],
        }
    data, players, instances, variants = _seat_data(rows)
    result = ratings.abilities_with_intervals(data, rounds=rounds, seed=seed)
    aware_data, *_ = _seat_data(rows, tests_aware=True)
    aware, _ = ratings.fit_abilities(aware_data)

    info: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = info.setdefault(
            r.player, {"name": r.name, "kind": r.kind, "matches": 0, "solved": 0, "last": None}
        )
        p["matches"] += 1
        p["solved"] += int(r.solved)
        p["name"] = r.name  # the latest name (a guest's handle may change)
        p["last"] = r.finished
    minimum = min_matches()
    order = np.argsort(-result.ability.point, kind="stable")
    draws = result.ability_draws
    player_rows = []
    for idx in order:
        key = players[idx]
        p = info[key]
        player_rows.append(
            {
                "key": key,
                "name": p["name"],
                "kind": p["kind"],
                "matches": p["matches"],
                "solved": p["solved"],
                "solve_rate": round(p["solved"] / p["matches"], 4),
                "ability": _r(result.ability.point[idx]),
                "low": _r(result.ability.low[idx]),
                "high": _r(result.ability.high[idx]),
                "ability_tests_aware": _r(aware.ability[idx]),
                "provisional": p["matches"] < minimum,
                "last_played": p["last"].isoformat() if p["last"] else None,
                "_idx": int(idx),
            }
        )
    # Ranks among the players with enough matches; a rank is shared with the one above when the
    # bootstrap cannot tell them apart (the one above is ahead in fewer than 90 % of the rounds).
    ranked = [p for p in player_rows if not p["provisional"]]
    for i, p in enumerate(ranked):
        if i == 0:
            p["rank"], p["distinct_from_above"] = 1, True
            continue
        above = ranked[i - 1]
        ahead = float(np.mean(draws[:, above["_idx"]] > draws[:, p["_idx"]]))
        p["ahead_probability"] = round(ahead, 3)
        p["distinct_from_above"] = ahead >= 0.9
        p["rank"] = i + 1 if p["distinct_from_above"] else above["rank"]
    for p in player_rows:
        p.setdefault("rank", None)
        p.pop("_idx")

    human_idx = np.array(
        [i for i, key in enumerate(players) if info[key]["kind"] == Seat.Kind.HUMAN], dtype=np.int64
    )
    people = None
    if human_idx.size:
        point, low, high = ratings.contrast_interval(result, human_idx)
        people_rows = [r for r in rows if r.human]
        people = {
            "key": PEOPLE_KEY,
            "name": PEOPLE_NAME,
            "kind": "people",
            "players": int(human_idx.size),
            "matches": len(people_rows),
            "solved": sum(r.solved for r in people_rows),
            "solve_rate": round(sum(r.solved for r in people_rows) / len(people_rows), 4),
            "ability": _r(point),
            "low": _r(low),
            "high": _r(high),
        }

    seats_per_instance = np.bincount(data.item, minlength=data.n_items)
    solved_per_instance = np.bincount(data.item, weights=data.y, minlength=data.n_items)
    seats_per_variant = np.bincount(data.item_variant, weights=seats_per_instance, minlength=data.n_variants)
    solved_per_variant = np.bincount(
        data.item_variant, weights=solved_per_instance, minlength=data.n_variants
    )
    variant_rows = [
        {
            "variant": slug,
            "difficulty": _r(result.variant_difficulty.point[v]),
            "low": _r(result.variant_difficulty.low[v]),
            "high": _r(result.variant_difficulty.high[v]),
            "seats": int(seats_per_variant[v]),
            "solve_rate": round(float(solved_per_variant[v] / seats_per_variant[v]), 4),
        }
        for v, slug in enumerate(variants)
    ]
    instance_rows = [
        {
            "instance": int(inst),
            "variant": variants[int(data.item_variant[i])],
            "difficulty": _r(result.instance_difficulty.point[i]),
            "low": _r(result.instance_difficulty.low[i]),
            "high": _r(result.instance_difficulty.high[i]),
            "seats": int(seats_per_instance[i]),
        }
        for i, inst in enumerate(instances)
    ]
    return {
        "players": player_rows,
        "people": people,
        "variants": variant_rows,
        "instances": instance_rows,
        "head_to_head": _head_to_head(rows, info, rounds=rounds, seed=seed),
        "gap": gap(rows, rounds=rounds, seed=seed),
        "calibration": _calibration(rows, data, result.instance_difficulty.point, instances),
        "min_matches": minimum,
        "rounds": rounds,
        "level": 0.9,
        "converged": result.fit.converged,
    }


def _head_to_head(
    rows: list[SeatRow], info: dict[str, dict[str, Any]], *, rounds: int, seed: int
) -> list[dict[str, Any]]:
    """Bradley-Terry strengths from races (matches with seats of two or more players)."""
    by_match: dict[int, list[SeatRow]] = defaultdict(list)
    for r in rows:
        by_match[r.match_id].append(r)
    winners, losers, clusters = [], [], []
    index: dict[str, int] = {}
    races: dict[str, int] = defaultdict(int)
    for race_no, seats in enumerate(m for m in by_match.values() if len({s.player for s in m}) > 1):
        for s in {s.player for s in seats}:
            races[s] += 1
        codes = [
            (index.setdefault(s.player, len(index)), s.solved, s.tests_used, s.seconds, s.points)
            for s in seats
        ]
        for w, lo in ratings.race_pairs(codes):
            winners.append(w)
            losers.append(lo)
            clusters.append(race_no)
    if not winners:
        return []
    _, cluster = np.unique(np.array(clusters), return_inverse=True)
    pairs = ratings.PairData.build(winner=winners, loser=losers, cluster=cluster, n_players=len(index))
    fit = ratings.bradley_terry_with_intervals(pairs, rounds=rounds, seed=seed)
    keys = list(index)
    out = [
        {
            "key": key,
            "name": info[key]["name"],
            "kind": info[key]["kind"],
            "races": races[key],
            "strength": _r(fit.point[i]),
            "low": _r(fit.low[i]),
            "high": _r(fit.high[i]),
        }
        for i, key in enumerate(keys)
    ]
    out.sort(key=lambda p: -p["strength"])
    return out


def gap(rows: list[SeatRow], *, rounds: int, seed: int = 0) -> list[dict[str, Any]]:
    """The human-model gap per family and tier: for each model contestant that played there,
    its solve rate and ability minus those of all people pooled, with bootstrap intervals
    (a fit on that family and tier alone, so abilities are on that cell's scale)."""
    cells: dict[tuple[str, str], list[SeatRow]] = defaultdict(list)
    for r in rows:
        cells[(r.family, r.tier)].append(r)
    out = []
    for (family, tier), cell in sorted(cells.items()):
        contestants = sorted({r.contestant for r in cell if r.contestant})
        if not contestants or not any(r.human for r in cell):
            continue
        data, players, _, _ = _seat_data(cell)
        result = ratings.abilities_with_intervals(data, rounds=rounds, seed=seed)
        kinds = {r.player: r.human for r in cell}
        people = np.array([i for i, key in enumerate(players) if kinds[key]], dtype=np.int64)
        masks = {"people": np.array([r.human for r in cell])}
        for c in contestants:
            masks[c] = np.array([r.contestant == c for r in cell])
        rate_draws = _bootstrap_rate(cell, masks, rounds, seed)
        people_solved = sum(r.solved for r in cell if r.human)
        people_n = int(masks["people"].sum())
        for c in contestants:
            i = players.index(f"model-{c}")
            model_solved = sum(r.solved for r in cell if r.contestant == c)
            model_n = int(masks[c].sum())
            rate_gap = model_solved / model_n - people_solved / people_n
            # The wider of the bootstrap and Newcombe's score interval (which does not collapse
            # when a side solved everything or nothing).
            boot_low, boot_high = _interval(rate_draws[c] - rate_draws["people"])
            score_low, score_high = ratings.rate_difference_interval(
                model_solved, model_n, people_solved, people_n
            )
            ability_gap, ab_low, ab_high = ratings.contrast_interval(
                result, np.array([i], dtype=np.int64), people
            )
            out.append(
                {
                    "family": family,
                    "tier": tier,
                    "contestant": c,
                    "name": next(r.name for r in cell if r.contestant == c),
                    "people_seats": people_n,
                    "model_seats": model_n,
                    "people_solve_rate": round(people_solved / people_n, 4),
                    "model_solve_rate": round(model_solved / model_n, 4),
                    "solve_rate_gap": round(rate_gap, 4),
                    "solve_rate_gap_low": _r(min(score_low, boot_low if boot_low is not None else score_low)),
                    "solve_rate_gap_high": _r(
                        max(score_high, boot_high if boot_high is not None else score_high)
                    ),
                    "ability_gap": _r(ability_gap),
                    "ability_gap_low": _r(ab_low),
                    "ability_gap_high": _r(ab_high),
                }
            )
    return out


def _calibration(
    rows: list[SeatRow], data: Any, difficulty: np.ndarray, instances: list[int]
) -> list[dict[str, Any]]:
    """Solve rate against instance difficulty (in up to 5 bands of equal count), per player kind."""
    seat_difficulty = difficulty[data.item]
    edges = np.unique(np.quantile(difficulty, np.linspace(0, 1, 6)))
    band = np.clip(np.searchsorted(edges, seat_difficulty, side="right") - 1, 0, max(len(edges) - 2, 0))
    out = []
    kinds = np.array([r.kind for r in rows])
    solved = np.array([r.solved for r in rows], dtype=float)
    for kind in sorted(set(kinds.tolist())):
        for b in sorted(set(band.tolist())):
            mask = (kinds == kind) & (band == b)
            if mask.any():
                out.append(
                    {
                        "kind": kind,
                        "difficulty": _r(seat_difficulty[mask].mean()),
                        "seats": int(mask.sum()),
                        "solve_rate": round(float(solved[mask].mean()), 4),
                    }
                )
    return out


# --- storing and scheduling ---------------------------------------------------------------------


def scopes() -> list[str]:
    """The scopes worth a fit: everything, each family and each variant with a ranked match."""
    played = (
        Match.objects.filter(status=Match.Status.FINISHED, ranked=True)
        .values_list("instance__family", "instance__variant__slug")
        .distinct()
    )
    families = sorted({f for f, _ in played})
    variants = sorted({v for _, v in played})
    return ["all", *(f"family:{f}" for f in families), *(f"variant:{v}" for v in variants)]


def snapshot_compute(
    *, scope: str, period: str, now: dt.datetime, rounds: int | None = None
) -> RatingSnapshot:
    family = scope.removeprefix("family:") if scope.startswith("family:") else ""
    variant = scope.removeprefix("variant:") if scope.startswith("variant:") else ""
    days = PERIODS[period]
    since = now - dt.timedelta(days=days) if days else None
    rows = seat_rows(family=family, variant=variant, since=since)
    payload = compute(rows, rounds=rounds)
    ends = [r.finished for r in rows if r.finished]
    return RatingSnapshot.objects.create(
        scope=scope,
        period=period,
        model_version=ratings.MODEL_VERSION,
        computed_at=now,
        data_until=max(ends) if ends else None,
        seats=len(rows),
        matches=len({r.match_id for r in rows}),
        payload=payload,
    )


def budget_s() -> float:
    return float(getattr(settings, "ARENA_RATINGS_BUDGET_S", 300.0))


def _stalest_first(scope_names: list[str]) -> list[tuple[str, str]]:
    """Every (scope, period), those fitted longest ago first (never fitted: first of all), the
    overall one first among equals."""
    last = {
        (scope, period): at
        for scope, period, at in RatingSnapshot.objects.values_list("scope", "period")
        .annotate(at=Max("computed_at"))
        .values_list("scope", "period", "at")
    }
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    pairs = [(scope, period) for scope in scope_names for period in PERIODS]
    return sorted(pairs, key=lambda sp: (last.get(sp) or never, sp != ("all", "all")))


def ratings_refresh(*, now: dt.datetime | None = None, rounds: int | None = None) -> dict[str, Any]:
    """Recompute the scopes and periods, one run at a time (a duplicate run stops at once). A run
    stops starting new fits after ``budget_s`` (well inside the task's time limit); the next run
    begins with the ones it left, since the stalest go first."""
    now = now or timezone.now()
    RatingsRun.objects.get_or_create(pk=1)
    claimed = (
        RatingsRun.objects.filter(pk=1)
        .filter(Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_RUN))
        .update(running_since=now)
    )
    if not claimed:
        return {"status": "duplicate"}
    started = time.monotonic()
    computed = 0
    report: dict[str, Any] = {"status": "error"}
    try:
        pairs = _stalest_first(scopes())
        for scope, period in pairs:
            if computed and time.monotonic() - started > budget_s():
                break
            snapshot_compute(scope=scope, period=period, now=now, rounds=rounds)
            computed += 1
        _prune()
        report = {
            "status": "ok" if computed == len(pairs) else "partial",
            "snapshots": computed,
            "left_for_next_run": len(pairs) - computed,
            "seconds": round(time.monotonic() - started, 3),
        }
    finally:
        RatingsRun.objects.filter(pk=1).update(running_since=None, last_at=timezone.now(), last_report=report)
    return report


def _prune() -> None:
    with transaction.atomic():
        keep_all = RatingSnapshot.objects.filter(scope="all", period="all").values_list("pk", flat=True)[
            HISTORY_KEPT:
        ]
        RatingSnapshot.objects.filter(pk__in=list(keep_all)).delete()
        for scope, period in (
            RatingSnapshot.objects.exclude(scope="all", period="all")
            .values_list("scope", "period")
            .distinct()
        ):
            old = RatingSnapshot.objects.filter(scope=scope, period=period).values_list("pk", flat=True)[
                OTHERS_KEPT:
            ]
            RatingSnapshot.objects.filter(pk__in=list(old)).delete()


def refresh_due(*, now: dt.datetime | None = None) -> bool:
    """Whether the sweep should queue a ratings run: a ranked match ended after the last run and
    none has ended for ``debounce_s`` (or the last run is ``max_wait_s`` old), or the last run is
    ``every_s`` old (the 30- and 7-day windows move), or the last run left scopes undone; and no run
    is going on."""
    now = now or timezone.now()
    run = RatingsRun.objects.filter(pk=1).first()
    if run and run.running_since and now - run.running_since < STALE_RUN:
        return False
    if run and (run.last_report or {}).get("status") == "partial":
        return True  # the last run ran out of time: go on with what it left
    last_end = Match.objects.filter(status=Match.Status.FINISHED, ranked=True).aggregate(
        last=Max("finished")
    )["last"]
    if last_end is None:
        return False
    latest = snapshot_latest(scope="all", period="all")
    if latest is None:
        return now - last_end >= dt.timedelta(seconds=debounce_s())
    age = now - latest.computed_at
    if age >= dt.timedelta(seconds=every_s()):
        return True
    if latest.data_until is None or last_end > latest.data_until:
        return now - last_end >= dt.timedelta(seconds=debounce_s()) or age >= dt.timedelta(
            seconds=max_wait_s()
        )
    return False


def snapshot_latest(*, scope: str = "all", period: str = "all") -> RatingSnapshot | None:
    return RatingSnapshot.objects.filter(scope=scope, period=period).order_by("-computed_at", "-id").first()


def player_history(*, key: str, limit: int = 60) -> list[dict[str, Any]]:
    """A player's ability over time: their entry in each of the last ``limit`` overall snapshots."""
    out = []
    for computed_at, payload in (
        RatingSnapshot.objects.filter(scope="all", period="all")
        .order_by("-computed_at")
        .values_list("computed_at", "payload")[:limit]
    ):
        entry = next((p for p in payload.get("players", []) if p["key"] == key), None)
        if entry:
            out.append(
                {
                    "at": computed_at.isoformat(),
                    "ability": entry["ability"],
                    "low": entry["low"],
                    "high": entry["high"],
                    "matches": entry["matches"],
                }
            )
    out.reverse()
    return out


RATING_KINDS = ("human", "model", "agent")


def ratings_board(
    *, family: str = "", variant: str = "", period: str = "all", kind: str = "", viewer_key: str | None = None
) -> dict[str, Any] | None:
    """The latest ratings for one scope and period, shaped for the leaderboard page and the API:
    players (filtered by kind, the viewer marked), the pooled "all people" entry where people are
    shown, variant difficulties, head-to-head strengths, the gap and the calibration points.
    None when no snapshot has been computed yet for this scope."""
    scope = f"variant:{variant}" if variant else f"family:{family}" if family else "all"
    snap = snapshot_latest(scope=scope, period=period)
    if snap is None:
        return None
    payload = snap.payload
    # A guest's page is theirs alone (/me/): its key is a keyed hash of a session, not an address.
    players = [
        dict(p, you=p["key"] == viewer_key, public_page=not p["key"].startswith("guest-"))
        for p in payload.get("players", [])
    ]
    if kind:
        players = [p for p in players if p["kind"] == kind]
    people = payload.get("people") if kind in ("", "human") else None
    return {
        "scope": scope,
        "period": period,
        "computed_at": snap.computed_at,
        "data_until": snap.data_until,
        "model_version": snap.model_version,
        "seats": snap.seats,
        "matches": snap.matches,
        "min_matches": payload.get("min_matches", min_matches()),
        "level": payload.get("level", 0.9),
        "rounds": payload.get("rounds"),
        "players": players,
        "people": people,
        "variants": payload.get("variants", []),
        "head_to_head": [p for p in payload.get("head_to_head", []) if not kind or p["kind"] == kind],
        "gap": payload.get("gap", []),
        "calibration": [c for c in payload.get("calibration", []) if not kind or c["kind"] == kind],
    }


def board_rows(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Players in order of ability with the pooled people entry placed among them."""
    rows = list(board["players"])
    people = board.get("people")
    if people:
        at = next((i for i, p in enumerate(rows) if p["ability"] < people["ability"]), len(rows))
        rows.insert(at, dict(people, pooled=True, rank=None, provisional=False))
    return rows

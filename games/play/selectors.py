"""Reads. Everything a player or spectator sees is shaped here, from the step log.

The hidden rule leaves the server only through ``match_reveal``, which returns None until the
match is over.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from games.engine.core import EngineError, Family, Instance, all_families, get_family
from games.models import (
    Match,
    ModelCall,
    PuzzleInstance,
    PuzzleVariant,
    Seat,
    Step,
    Sweep,
    WorkerBeat,
)
from games.play import visibility
from games.play.visibility import Viewer


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def engine_instance(*, instance: PuzzleInstance) -> Instance:
    return Instance(
        family=instance.family,
        version=instance.generator_version,
        seed=instance.seed,
        params=instance.params,
        public=instance.public,
        hidden=instance.hidden,
    )


_PLAY_CACHE_SIZE = 4096
_play_cache: OrderedDict[tuple[int, int, dt.datetime | None], tuple[PuzzleInstance, Instance]] = OrderedDict()
_play_cache_lock = threading.Lock()


def instance_for_play(*, match: Match) -> tuple[PuzzleInstance, Instance]:
    """The match's puzzle instance (with its variant) and its engine object, kept in process
    memory per match so a move does not re-read and re-decode the instance and variant rows.
    A generated instance never changes (family, version, seed and params fix it). The key holds
    the match's creation time as well as its id, so an id handed out again (SQLite reuses the ids
    of rolled-back rows) never meets a stale entry. Treat the objects as read-only."""
    key = (match.pk, match.instance_id, match.created)
    with _play_cache_lock:
        hit = _play_cache.get(key)
        if hit is not None:
            _play_cache.move_to_end(key)
            return hit
    instance = PuzzleInstance.objects.select_related("variant").get(pk=match.instance_id)
    entry = (instance, engine_instance(instance=instance))
    with _play_cache_lock:
        _play_cache[key] = entry
        while len(_play_cache) > _PLAY_CACHE_SIZE:
            _play_cache.popitem(last=False)
    return entry


def family_for(*, instance: PuzzleInstance) -> Family:
    return get_family(instance.family)


def published_variants() -> list[PuzzleVariant]:
    return list(PuzzleVariant.objects.filter(published=True).order_by("family", "slug"))


def tutorial_slugs() -> set[str]:
    """The guided first puzzle's variant (a family marks it ``tutorial``)."""
    return {spec.slug for fam in all_families() for spec in fam.variants if spec.tutorial}


def tutorial_variant() -> PuzzleVariant | None:
    return PuzzleVariant.objects.filter(slug__in=tutorial_slugs(), published=True).order_by("slug").first()


def home_puzzles() -> dict[str, Any]:
    """The home page's puzzles: the starter (a published variant a family marks as the place to
    begin) and every published variant grouped by family, the starter's family first, each
    family's shipped variants in the order it lists them (its levels), then the rest by slug. The
    guided first puzzle is offered on its own (``tutorial``), not among them."""
    starters = {spec.slug for fam in all_families() for spec in fam.variants if spec.starter}
    tutorials = tutorial_slugs()
    variants = [v for v in published_variants() if v.slug not in tutorials]
    starter = next((v for v in variants if v.slug in starters), None)
    groups: dict[str, list[PuzzleVariant]] = {}
    for v in variants:
        groups.setdefault(v.family, []).append(v)

    def level(v: PuzzleVariant) -> tuple[int, str]:
        shipped = (
            [spec.slug for spec in _family_or_none(v.family).variants] if _family_or_none(v.family) else []
        )
        return (shipped.index(v.slug) if v.slug in shipped else len(shipped), v.slug)

    ordered = sorted(groups, key=lambda f: (starter is None or f != starter.family, f))
    return {
        "starter": starter,
        "tutorial": tutorial_variant(),
        "variants": variants,
        "families": [
            {
                "id": f,
                "title": fam.title if (fam := _family_or_none(f)) else f,
                "variants": sorted(groups[f], key=level),
            }
            for f in ordered
        ],
    }


def _family_or_none(family_id: str) -> Family | None:
    try:
        return get_family(family_id)
    except EngineError:
        return None


def recent_matches(*, limit: int = 10) -> list[Match]:
    return list(
        visibility.listed(
            Match.objects.filter(playtest=False)
        )  # a playtest may be on a variant not yet published
        .filter(study_entry__isnull=True)  # a study's puzzles are not public play
        .select_related("instance__variant")
        .prefetch_related("seats")
        .order_by("-created")[:limit]
    )


def step_public(*, step: Step, hypothesis: bool = True) -> dict[str, Any]:
    """A step as its seat (and, once the match is over, everyone) sees it. ``hypothesis=False``
    leaves out the hypothesis stated with a test (a spectator's delayed view of a running match:
    a stated hypothesis is as private as a guess)."""
    data: dict[str, Any] = {"seq": step.seq, "kind": step.kind, "at": iso(step.created_at)}
    if step.kind == Step.Kind.TEST:
        data["input"] = step.action.get("input")
        data["result"] = step.result.get("result")
        if hypothesis and step.hypothesis:
            data["hypothesis"] = step.hypothesis
    elif step.kind == Step.Kind.GUESS:
        data["rule"] = step.action.get("rule")
        data["verdict"] = step.result.get("verdict")
        data["score"] = step.result.get("score")
        if "attempts_left" in step.result:
            data["attempts_left"] = step.result["attempts_left"]
    elif step.action.get("reason"):  # a forfeit or a timeout: why (a model error, a bad reply...)
        data["reason"] = step.action["reason"]
        if step.action.get("turn"):
            data["turn_only"] = True  # a forfeited turn: one test used, the seat played on
    return data


def seat_history(*, seat: Seat) -> list[dict[str, Any]]:
    """The seat's tests in order, in the engine's history shape."""
    return [
        {"input": s.action.get("input"), "result": s.result.get("result")}
        for s in seat.steps.filter(kind=Step.Kind.TEST).order_by("seq")
    ]


def seat_guesses(*, seat: Seat) -> list[Any]:
    """The seat's guesses in order (more than one only where a puzzle allows several attempts)."""
    return [s.action.get("rule") for s in seat.steps.filter(kind=Step.Kind.GUESS).order_by("seq")]


def seat_summary(*, seat: Seat) -> dict[str, Any]:
    return {
        "id": seat.pk,
        "handle": seat.handle,
        "kind": seat.kind,
        "status": seat.status,
        "tests_used": seat.tests_used,
        "tests_left": max(seat.match.max_tests - seat.tests_used, 0),
        "outcome": seat.outcome,
        "score": seat.score,
    }


def seat_observation(*, seat: Seat) -> dict[str, Any]:
    """What the player in this seat knows: public info and its own step log."""
    instance = seat.match.instance
    family = family_for(instance=instance)
    history = seat_history(seat=seat)
    tests_left = max(seat.match.max_tests - seat.tests_used, 0)
    guesses = seat_guesses(seat=seat)
    return {
        "seat": seat_summary(seat=seat),
        "public": instance.public,
        "history": history,
        "tests_left": tests_left,
        # a puzzle with several attempts (``Family.attempts``): the wrong guesses so far
        "guesses": guesses,
        "attempts_left": max(family.guesses_allowed(instance.public) - len(guesses), 0)
        if seat.status == Seat.Status.PLAYING
        else 0,
        "text": family.render_observation(instance.public, history, tests_left),
        "quiz_items": quiz_items(instance=instance),
        "hypothesis": {"mode": seat.match.hypothesis_mode, "format": seat.match.hypothesis_format},
        # the input/answer/guess schemas, answer format and syntax help the family declares
        "presentation": family.shown_for(instance.public).to_dict(),
    }


def quiz_items(*, instance: PuzzleInstance) -> list[Any]:
    """The application quiz's fresh inputs (public: the same for every player; no answers)."""
    family = family_for(instance=instance)
    if family.quiz_items is None:
        return []
    return family.quiz_items(engine_instance(instance=instance))


def match_reveal(*, match: Match, view: visibility.MatchView | None = None) -> dict[str, Any] | None:
    """The hidden rule and every seat's guess, verdict and score: None until ``view`` (what one
    viewer may see) shows the instance: the match is over, and not a daily match under embargo
    for them. Without a view, the match's status alone decides (``visibility.broadcast_view``):
    for an event every receiver filters again, and for tests; a page or socket passes its view."""
    if not (view or visibility.broadcast_view(match=match)).sees_instance:
        return None
    hidden = match.instance.hidden
    family = family_for(instance=match.instance)
    seats = list(match.seats.all())
    clocks = race_clocks(match=match, seats=seats) if len(seats) > 1 else {}
    return {
        "rule": hidden.get("rule", ""),
        "race": race_result(seats=seats, clocks=clocks),
        "seats": [
            {
                "id": s.pk,
                "handle": s.handle,
                "status": s.status,
                "guess": (s.outcome or {}).get("guess"),
                # why a seat ended without a guess (a model error, a budget, a timeout)
                "reason": (s.outcome or {}).get("reason"),
                "verdict": (s.outcome or {}).get("verdict"),
                "quiz": (s.outcome or {}).get("quiz"),
                # every attempt judged in full, where a puzzle allows several guesses
                "attempts": (s.outcome or {}).get("attempts"),
                "score": s.score,
                "score_text": family.score_text(s.score),
                "finished": iso(s.finished),
                # a race: the seat's race clock in seconds (a model's own thinking time)
                "clock_s": None if clocks.get(s.pk) is None else round(clocks[s.pk], 1),
            }
            for s in seats
        ],
    }


def model_thinking_seconds(*, seat_ids: Any) -> dict[int, float]:
    """The seconds each seat spent waiting on its own model calls: the sum of their latencies
    (failed calls and format re-prompts included: the endpoint's time is the model's). ``seat_ids``
    is a list of ids or a queryset of them; seats with no call are left out."""
    rows = (
        ModelCall.objects.filter(seat_id__in=seat_ids)
        .values("seat_id")
        .annotate(total=models.Sum("latency_ms"))
        .values_list("seat_id", "total")
    )
    return {seat_id: (total or 0.0) / 1000.0 for seat_id, total in rows}


def race_clock(
    *, kind: str, started: dt.datetime | None, finished: dt.datetime | None, thinking_s: float | None
) -> float | None:
    """A seat's time in a race, in seconds; None while it has not finished. A model's clock counts
    only its own thinking (``thinking_s``, the sum of its calls' latencies), never the time its
    turns waited in a queue or for a worker; a person's or an agent's is the wall clock from the
    start of the match to their finish."""
    if finished is None:
        return None
    if kind == Seat.Kind.MODEL:
        return thinking_s or 0.0
    if started is None:
        return 0.0
    return max((finished - started).total_seconds(), 0.0)


def race_clocks(*, match: Match, seats: list[Seat]) -> dict[int, float | None]:
    """``race_clock`` of each seat of a match, by seat id."""
    thinking = model_thinking_seconds(seat_ids=[s.pk for s in seats if s.kind == Seat.Kind.MODEL])
    return {
        s.pk: race_clock(
            kind=s.kind,
            started=match.started or s.joined,
            finished=s.finished,
            thinking_s=thinking.get(s.pk),
        )
        for s in seats
    }


def race_result(*, seats: list[Seat], clocks: dict[int, float | None]) -> dict[str, Any] | None:
    """Who won a match of several seats: a right guess first, then fewer tests, then less time on
    its clock (``clocks``, from ``race_clocks``: a model's own thinking time, a person's time from
    the start). None for a match of one seat."""
    if len(seats) < 2:
        return None

    def clock(s: Seat) -> float:
        value = clocks.get(s.pk)
        return float("inf") if value is None else value

    solved = [s for s in seats if (s.score or {}).get("solved")]
    scored = [s for s in seats if int((s.score or {}).get("points") or 0) > 0]
    if not solved and scored:
        # A family scored from the history (no guess, ``Family.final_score``): most points wins,
        # then the shorter clock.
        scored.sort(key=lambda s: (-int(s.score["points"]), clock(s), s.pk))
        best = scored[0]
        points = int(best.score["points"])
        tied = len(scored) > 1 and int(scored[1].score["points"]) == points
        why = "most points, and less time" if tied else "most points"
        return {"winner": best.pk, "text": f"{best.handle} won the race: {points} points ({why})."}
    if not solved:
        return {"winner": None, "text": "Nobody found the rule, so nobody won the race."}
    solved.sort(key=lambda s: (s.tests_used, clock(s), s.pk))
    best = solved[0]
    tests = f"{best.tests_used} test" + ("" if best.tests_used == 1 else "s")
    tied = [s for s in solved[1:] if s.tests_used == best.tests_used]
    why = (
        "fewest tests, and less time"
        if tied
        else "fewest tests"
        if len(solved) > 1
        else "the only right guess"
    )
    return {"winner": best.pk, "text": f"{best.handle} won the race: solved with {tests} ({why})."}


def match_public_state(*, match: Match, viewer: Viewer) -> dict[str, Any]:
    """The match as one viewer may see it (games.play.visibility decides): a seat's own log, rivals'
    progress, and every seat's log once the match is over."""
    instance = match.instance
    family = family_for(instance=instance)
    view = visibility.match_view(match=match, viewer=viewer)
    delayed_before = view.delayed_tests_before()
    seat_rows = []
    for seat in match.seats.all():
        row = view.seat(seat_summary(seat=seat))
        if view.sees_log(seat.pk):
            row["steps"] = [step_public(step=s) for s in seat.steps.order_by("seq")]
        elif delayed_before is not None:
            tests = seat.steps.filter(kind=Step.Kind.TEST, created_at__lte=delayed_before).order_by("seq")
            row["steps"] = [step_public(step=s, hypothesis=False) for s in tests]
        seat_rows.append(row)
    return {
        "type": "state",
        "match": match.pk,
        "event_seq": match.event_seq,
        "status": match.status,
        "mode": match.mode,
        "max_tests": match.max_tests,
        "time_limit_s": match.time_limit_s,
        "created": iso(match.created),
        "started": iso(match.started),
        "finished": iso(match.finished),
        "variant": {
            "slug": instance.variant.slug,
            "title": instance.variant.title,
            "family": instance.family,
        },
        "public": instance.public,
        "description": family.describe(instance.public),
        # how the family is shown (widget, schemas, answer words, syntax): declared by the family
        "presentation": family.shown_for(instance.public).to_dict(),
        "scoring": family.scoring_text(match.max_tests),
        "quiz_items": quiz_items(instance=instance),
        # whether each test asks for the player's current hypothesis, and in what words
        "hypothesis": {"mode": match.hypothesis_mode, "format": match.hypothesis_format},
        "seats": seat_rows,
        "you": viewer.seat_id,
        "spectator_delay_s": view.spectator_delay_s,
        "reveal": match_reveal(match=match, view=view),
        # a finished daily match shown as running to this viewer: the page says why
        "daily_embargo": view.embargoed,
        "same_puzzle": same_puzzle_results(match=match),
        "daily": daily_summary(match=match, viewer=viewer),
    }


def daily_summary(*, match: Match, viewer: Viewer) -> dict[str, Any] | None:
    """For a daily match: its day, and once it is over the player's streak of days."""
    if match.daily is None:
        return None
    out: dict[str, Any] = {"day": match.daily.isoformat(), "streak": None}
    seat = next((s for s in match.seats.all() if s.pk == viewer.seat_id), None)
    if seat is not None and seat.kind == Seat.Kind.HUMAN and visibility.is_over(match.status):
        out["streak"] = daily_streak(user_id=seat.user_id, session_key=seat.session_key, today=match.daily)
    return out


def same_puzzle_results(*, match: Match) -> list[dict[str, Any]] | None:
    """How everyone else did on this very instance (a daily puzzle, a challenge), shown once this
    match is over and counting only matches that are over too, so it tells nothing early: one
    row for people, one per model. None before the end."""
    if not visibility.is_over(match.status):
        return None
    seats = Seat.objects.filter(
        match__instance_id=match.instance_id,
        match__status__in=list(visibility.OVER_STATUSES),
    ).exclude(match_id=match.pk)
    rows: dict[str, dict[str, Any]] = {}
    for seat in seats.only("kind", "handle", "score", "tests_used"):
        who = "People" if seat.kind == Seat.Kind.HUMAN else seat.handle
        row = rows.setdefault(who, {"who": who, "played": 0, "solved": 0, "tests_when_solved": []})
        row["played"] += 1
        if (seat.score or {}).get("solved"):
            row["solved"] += 1
            row["tests_when_solved"].append(seat.tests_used)
    out = []
    for row in sorted(rows.values(), key=lambda r: (r["who"] != "People", r["who"])):
        tests = row.pop("tests_when_solved")
        row["mean_tests_when_solved"] = round(sum(tests) / len(tests), 1) if tests else None
        out.append(row)
    return out


def daily_streak(*, user_id: int | None, session_key: str, today: dt.date | None = None) -> int:
    """Days in a row, up to today, on which this player (an account, or else a guest's session)
    finished a daily puzzle. A streak that reached yesterday is still alive today."""
    today = today or timezone.now().astimezone(dt.UTC).date()
    seats = Seat.objects.filter(
        kind=Seat.Kind.HUMAN, match__daily__isnull=False, match__status__in=[Match.Status.FINISHED]
    )
    if user_id:
        seats = seats.filter(user_id=user_id)
    elif session_key:
        seats = seats.filter(session_key=session_key, user__isnull=True)
    else:
        return 0
    days = set(seats.values_list("match__daily", flat=True))
    day = today if today in days else today - dt.timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= dt.timedelta(days=1)
    return streak


def match_get(*, match_id: int) -> Match | None:
    return Match.objects.select_related("instance__variant").filter(pk=match_id).first()


def seat_for_viewer(*, match: Match, session_key: str | None, user_id: int | None) -> Seat | None:
    """The seat this browser plays in this match, if any."""
    for seat in match.seats.all():
        if user_id is not None and seat.user_id == user_id:
            return seat
        if session_key and seat.session_key == session_key:
            return seat
    return None


def seat_model_calls(*, seat: Seat) -> list[dict[str, Any]]:
    """A model seat's full trace: every call in order, with the step it produced. Each row also
    says what its prompt adds to the previous call's (``new_messages``, from message number
    ``new_from``): the first call's prompt in full, then only the messages since, so a page of the
    trace grows with the conversation, not with its square. ``rewritten`` says a call's prompt
    changed earlier messages too (a compact prompt's summarised history): its new messages then
    start at the first that differs."""
    from games.models import ModelCall

    rows = []
    previous: list[Any] = []
    for call in ModelCall.objects.filter(seat=seat).select_related("step").order_by("id"):
        messages = call.messages if isinstance(call.messages, list) else []
        shared = _shared_prefix(previous, messages)
        rewritten = shared < len(previous)
        previous = messages
        rows.append(
            {
                "id": call.pk,
                "turn": call.turn,
                "attempt": call.attempt,
                "purpose": call.purpose,
                "messages": call.messages,
                "new_messages": messages[shared:],
                "new_from": shared + 1,
                "rewritten": rewritten,
                "raw_response": call.raw_response,
                "reasoning": call.reasoning,
                "parsed_action": call.parsed_action,
                "parse_error": call.parse_error,
                "tokens_in": call.tokens_in,
                "tokens_out": call.tokens_out,
                "latency_ms": round(call.latency_ms, 1),
                "cost_usd": call.cost_usd,
                "error_class": call.error_class,
                "error_message": call.error_message,
                "finish_reason": call.finish_reason,
                "reply_mode": call.reply_mode or "text",
                "step": step_public(step=call.step) if call.step else None,
                "at": iso(call.created_at),
            }
        )
    return rows


def _shared_prefix(before: list[Any], after: list[Any]) -> int:
    """How many leading messages two prompts have in common."""
    shared = 0
    for a, b in zip(before, after):
        if a != b:
            break
        shared += 1
    return shared


# -- workers and the sweep ---------------------------------------------------------------------


def workers_dead(*, worker_ids: set[str], now: dt.datetime | None = None) -> set[str]:
    """Which of these workers are dead: no beat for three heartbeats, no beat at all, or (on
    this host) no such process any more, which a restarted worker finds out at once."""
    if not worker_ids:
        return set()
    now = now or timezone.now()
    silent = dt.timedelta(seconds=3 * float(getattr(settings, "ARENA_WORKER_HEARTBEAT_S", 5)))
    beats = {b.worker_id: b for b in WorkerBeat.objects.filter(worker_id__in=worker_ids)}
    host = socket.gethostname()
    dead = set()
    for worker_id in worker_ids:
        beat = beats.get(worker_id)
        if (
            beat is None
            or now - beat.beat_at > silent
            or (beat.hostname == host and not _process_alive(beat.pid))
        ):
            dead.add(worker_id)
    return dead


def _process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")  # a zombie is a dead worker its parent has not reaped yet


def sweep_next_at() -> dt.datetime | None:
    return Sweep.objects.filter(pk=1).values_list("next_at", flat=True).first()


def player_key(
    *, kind: str, user_id: int | None, session_key: str, token_id: int | None, contestant: str, handle: str
) -> str:
    """Who played a seat, as the ratings name players: ``model-<slug>``, ``agent-<token id>``,
    ``user-<id>``, or ``guest-<keyed hash of the session>`` (the session key is a secret and never
    leaves the server; the hash is no address either)."""
    from django.utils.crypto import salted_hmac

    if kind == Seat.Kind.MODEL:
        return f"model-{contestant}"
    if kind == Seat.Kind.AGENT:
        return f"agent-{token_id}"
    if user_id is not None:
        return f"user-{user_id}"
    if session_key:
        return "guest-" + salted_hmac("arena.ratings.guest", session_key, algorithm="sha256").hexdigest()[:16]
    return f"guest-h-{handle}"

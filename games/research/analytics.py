"""Per-step research analytics, derived from the step log with the engine. Reads only.

Per step: surviving hypotheses in the family's reference space before/after a test, bits gained,
the redundant-test flag, server time since the seat's previous step, the browser's think time,
and for model seats the call that produced the step (latency, tokens, reasoning).
Per seat: solved, tests used, parsimony of the guess (its size over the hidden rule's), redundant
tests, total bits, and the surviving-hypotheses curve by test index.

Stated hypotheses (when the match asked for them; ``games.engine.beliefs``): per test, whether it
was a positive test of the player's hypothesis, whether the answer confirmed it, whether earlier
answers had already refuted it; per seat, the share of positive tests and the first test whose
hypothesis was equivalent to the hidden rule. Only hypotheses in the rule language are measured;
free-text ones are counted as stated.

A finished seat's analytics never change, so its measures are kept in the Django cache under a
key that names the seat, its join time (ids can be handed out again after a rollback) and how
many steps it has.

Aggregates cover seats of finished (or aborted) matches whose seat is done. Player labels are
``humans``, ``agents`` or the contestant slug of a model seat.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Prefetch

from games.engine import beliefs
from games.engine.core import EngineError, Instance, get_family
from games.models import HypothesisFormat, Match, ModelCall, PuzzleInstance, Seat, Step
from games.play import selectors

logger = logging.getLogger(__name__)

CACHE_VERSION = 2  # 2: stated-hypothesis measures
CACHE_TIMEOUT_S = 60 * 60 * 24 * 30
HUMANS = "humans"
AGENTS = "agents"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def player_label(*, seat: Seat) -> str:
    if seat.kind == Seat.Kind.HUMAN:
        return HUMANS
    if seat.kind == Seat.Kind.AGENT:
        return AGENTS
    return seat.contestant or "model"


def _history(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [
        {"input": s.action.get("input"), "result": s.result.get("result")}
        for s in steps
        if s.kind == Step.Kind.TEST
    ]


def _test_analytics(
    *, instance: PuzzleInstance, steps: Sequence[Step], over: bool = False
) -> list[dict[str, Any]] | None:
    """The engine's measures for each test, or None when the engine failed on this log (ours:
    logged, and the page still shows the steps, without measures). Once the match is ``over``,
    the family's measures that need the hidden rule (``reveal_analytics``) are merged in."""
    history = _history(steps)
    if not history:
        return []
    try:
        family = get_family(instance.family)
        rows = family.step_analytics(instance.public, history)
        if over and family.reveal_analytics is not None:
            inst = Instance(
                instance.family,
                instance.generator_version,
                instance.seed,
                instance.params,
                instance.public,
                instance.hidden,
            )
            rows = [{**row, **more} for row, more in zip(rows, family.reveal_analytics(inst, history))]
        return rows
    except Exception:
        logger.exception("step analytics failed for instance %s (%d tests)", instance.pk, len(history))
        return None


def _rule_hypothesis(step: Step) -> str | None:
    stated = step.hypothesis or {}
    return stated.get("text") if stated.get("format") == HypothesisFormat.RULE else None


def _belief_analytics(*, instance: PuzzleInstance, steps: Sequence[Step]) -> list[dict[str, Any]] | None:
    """``games.engine.beliefs.trace`` for the seat's tests ([] when no test came with a rule
    hypothesis), or None when the engine failed on this log (ours: logged)."""
    tests = [s for s in steps if s.kind == Step.Kind.TEST]
    if not any(_rule_hypothesis(s) for s in tests):
        return []
    history = [
        {"input": s.action.get("input"), "result": s.result.get("result"), "hypothesis": _rule_hypothesis(s)}
        for s in tests
    ]
    try:
        family = get_family(instance.family)
        return beliefs.trace(family, selectors.engine_instance(instance=instance), history)
    except Exception:
        logger.exception("hypothesis measures failed for instance %s (%d tests)", instance.pk, len(history))
        return None


def _belief_summary(steps: Sequence[Step], rows: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    measured = beliefs.summary(rows or [])
    measured["hypotheses_stated"] = sum(1 for s in steps if s.kind == Step.Kind.TEST and s.hypothesis)
    first = measured["first_equivalent_test"]
    tests = [s for s in steps if s.kind == Step.Kind.TEST]
    measured["first_equivalent_seq"] = tests[first - 1].seq if first else None
    return measured


def _guess(seat: Seat, steps: Sequence[Step]) -> str | None:
    for step in reversed(steps):
        if step.kind == Step.Kind.GUESS:
            return step.action.get("rule")
    return (seat.outcome or {}).get("guess")


def _rule_size(family_id: str, rule: str | None) -> int | None:
    if not rule:
        return None
    try:
        return get_family(family_id).rule_size(rule)
    except EngineError:
        return None


def _curve(tests: Sequence[dict[str, Any]]) -> list[int]:
    curve = ([tests[0].get("surviving_before")] + [t.get("surviving") for t in tests]) if tests else []
    return [] if any(v is None for v in curve) else curve


def _seat_summary(
    *,
    seat: Seat,
    instance: PuzzleInstance,
    steps: Sequence[Step],
    tests: Sequence[dict[str, Any]] | None,
    believed: Sequence[dict[str, Any]] | None = (),
) -> dict[str, Any]:
    analytics_failed = tests is None or believed is None
    tests = tests or []
    guess = _guess(seat, steps)
    guess_size = _rule_size(instance.family, guess)
    hidden_size = instance.hidden.get("size") or _rule_size(instance.family, instance.hidden.get("rule"))
    bits = [t["bits"] for t in tests if t.get("bits") is not None]
    return {
        "seat": seat.pk,
        "handle": seat.handle,
        "kind": seat.kind,
        "contestant": seat.contestant,
        "player": player_label(seat=seat),
        "status": seat.status,
        "family": instance.family,
        "tier": instance.public.get("tier"),
        "solved": bool((seat.score or {}).get("solved")),
        "tests_used": seat.tests_used,
        "guess": guess,
        "end_reason": (seat.outcome or {}).get("reason"),  # why it ended without a guess, if it did
        "guess_size": guess_size,
        "hidden_size": hidden_size,
        "parsimony": round(guess_size / hidden_size, 4) if guess_size and hidden_size else None,
        "redundant_tests": sum(1 for t in tests if t.get("redundant")),
        "total_bits": round(sum(bits), 6),
        # index 0 = after the given examples, before any test; index k = after test k
        # (empty for a family with no reference space, e.g. one scored from its history)
        "curve": _curve(tests),
        "hypotheses": _belief_summary(steps, believed),
        "analytics_failed": analytics_failed,
    }


# -- one seat, step by step (replays) --------------------------------------------------------------


def _calls_by_step(seat_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """For every step a model produced: the call that produced it and the turn's totals
    (failed attempts and re-prompts of the same turn count towards the turn's latency)."""
    calls = list(
        ModelCall.objects.filter(seat_id__in=list(seat_ids))
        .only(
            "id",
            "seat_id",
            "turn",
            "step_id",
            "reasoning",
            "latency_ms",
            "tokens_in",
            "tokens_out",
            "cost_usd",
        )
        .order_by("id")
    )
    per_turn: dict[tuple[int, int], list[ModelCall]] = defaultdict(list)
    for call in calls:
        per_turn[(call.seat_id, call.turn)].append(call)
    out: dict[int, dict[str, Any]] = {}
    for call in calls:
        if call.step_id is None:
            continue
        turn = per_turn[(call.seat_id, call.turn)]
        out[call.step_id] = {
            "call": call.pk,
            "turn": call.turn,
            "latency_ms": round(call.latency_ms, 1),
            "tokens_in": call.tokens_in,
            "tokens_out": call.tokens_out,
            "cost_usd": call.cost_usd,
            "reasoning": call.reasoning,
            "turn_calls": len(turn),
            "turn_latency_ms": round(sum(c.latency_ms for c in turn), 1),
        }
    return out


_SHARED_MEASURES = {"surviving_before", "surviving", "bits", "redundant", "p_true", "space_exhausted", "test"}


def _step_rows(
    *,
    seat: Seat,
    match: Match,
    steps: Sequence[Step],
    tests: Sequence[dict[str, Any]] | None,
    calls: dict[int, dict[str, Any]],
    believed: Sequence[dict[str, Any]] | None = (),
) -> list[dict[str, Any]]:
    tests = tests or []
    believed = believed or []
    rows = []
    test_index = 0
    # The first step is timed from when the seat could first move.
    previous = max(match.started, seat.joined) if match.started else seat.joined
    for step in steps:
        row: dict[str, Any] = {
            "seq": step.seq,
            "kind": step.kind,
            "at": _iso(step.created_at),
            "since_previous_ms": (
                round((step.created_at - previous).total_seconds() * 1000) if previous else None
            ),
            "think_ms": step.client_think_ms,
        }
        previous = step.created_at
        if step.kind == Step.Kind.TEST:
            measured = tests[test_index] if test_index < len(tests) else {}
            test_index += 1
            bits, p_true = measured.get("bits"), measured.get("p_true")
            row.update(
                test=test_index,
                input=step.action.get("input"),
                result=step.result.get("result"),
                surviving_before=measured.get("surviving_before"),
                surviving=measured.get("surviving"),
                bits=None if bits is None else round(bits, 6),
                redundant=measured.get("redundant"),
                p_true=None if p_true is None else round(p_true, 6),
                space_exhausted=measured.get("space_exhausted"),
                # the family's own measures (docs/FAMILIES.md; e.g. novelty, empowerment)
                measures={k: v for k, v in measured.items() if k not in _SHARED_MEASURES} or None,
            )
            if step.hypothesis:
                belief = believed[test_index - 1] if test_index <= len(believed) else {}
                row["hypothesis"] = {
                    **step.hypothesis,
                    **{k: belief.get(k) for k in ("positive", "confirmed", "already_refuted", "equivalent")},
                }
        elif step.kind == Step.Kind.GUESS:
            row.update(rule=step.action.get("rule"), verdict=step.result.get("verdict"))
        else:
            reason = step.action.get("reason") or step.action.get("attempted")
            if reason:
                row["reason"] = reason
        if seat.kind == Seat.Kind.MODEL:
            row["model"] = calls.get(step.pk)
        rows.append(row)
    return rows


def seat_analytics(*, seat: Seat) -> dict[str, Any]:
    """One seat's analytics: the summary and every step with its measures."""
    match = seat.match
    instance = match.instance
    steps = list(seat.steps.order_by("seq"))
    tests = _test_analytics(instance=instance, steps=steps, over=match.is_over)
    believed = _belief_analytics(instance=instance, steps=steps)
    calls = _calls_by_step([seat.pk]) if seat.kind == Seat.Kind.MODEL else {}
    summary = _seat_summary(seat=seat, instance=instance, steps=steps, tests=tests, believed=believed)
    summary["steps"] = _step_rows(
        seat=seat, match=match, steps=steps, tests=tests, calls=calls, believed=believed
    )
    return summary


def match_replay(*, match: Match) -> dict[str, Any]:
    """Everything the replay page plays back: all seats' steps with their analytics, one
    timeline of every step in server order, and the reveal. Only for matches that are over."""
    if not match.is_over:
        raise ValueError("a replay is only available once the match is over")
    instance = match.instance
    family = get_family(instance.family)
    seats = list(match.seats.prefetch_related(Prefetch("steps", queryset=Step.objects.order_by("seq"))))
    model_ids = [s.pk for s in seats if s.kind == Seat.Kind.MODEL]
    calls = _calls_by_step(model_ids) if model_ids else {}
    seat_rows = []
    events = []
    origin = match.started or match.created
    for seat in seats:
        seat.match = match
        steps = list(seat.steps.all())
        tests = _test_analytics(instance=instance, steps=steps, over=True)
        believed = _belief_analytics(instance=instance, steps=steps)
        row = _seat_summary(seat=seat, instance=instance, steps=steps, tests=tests, believed=believed)
        row["outcome"] = seat.outcome
        row["score"] = seat.score
        row["steps"] = _step_rows(
            seat=seat, match=match, steps=steps, tests=tests, calls=calls, believed=believed
        )
        seat_rows.append(row)
        for step in steps:
            events.append((step.created_at, seat.pk, step.seq))
    events.sort()
    return {
        "match": {
            "id": match.pk,
            "status": match.status,
            "mode": match.mode,
            "max_tests": match.max_tests,
            "created": _iso(match.created),
            "started": _iso(match.started),
            "finished": _iso(match.finished),
            "variant": {
                "slug": instance.variant.slug,
                "title": instance.variant.title,
                "family": instance.family,
            },
            "tier": instance.public.get("tier"),
            "description": family.describe(instance.public),
            "examples": instance.public.get("examples") or [],
            "presentation": family.shown_for(instance.public).to_dict(),
        },
        "seats": seat_rows,
        "timeline": [
            {"seat": seat_id, "seq": seq, "t_ms": round((at - origin).total_seconds() * 1000)}
            for at, seat_id, seq in events
        ],
        "reveal": {"rule": instance.hidden.get("rule", ""), "size": instance.hidden.get("size")},
    }


# -- many seats, summarised (the dashboard) --------------------------------------------------------


def _cache_key(seat: Seat, steps_count: int) -> str:
    joined = seat.joined.timestamp() if seat.joined else 0
    return f"arena:analytics:v{CACHE_VERSION}:seat:{seat.pk}:{joined:.6f}:{steps_count}"


def finished_seats(*, family: str | None = None) -> list[Seat]:
    qs = (
        Seat.objects.filter(match__status__in=[Match.Status.FINISHED, Match.Status.ABORTED])
        .exclude(status=Seat.Status.PLAYING)
        .exclude(match__playtest=True)  # staff playtests of unpublished variants are not data
        .select_related("match__instance")
        .annotate(steps_count=Count("steps"))
        .order_by("id")
    )
    if family:
        qs = qs.filter(match__instance__family=family)
    return list(qs)


def seat_measures_many(*, seats: Sequence[Seat]) -> list[dict[str, Any]]:
    """The per-seat summary (with its surviving curve) of finished seats, from the cache where
    possible. Seats need ``steps_count`` annotated and ``match__instance`` selected."""
    keys = {seat.pk: _cache_key(seat, seat.steps_count) for seat in seats}
    hits = cache.get_many(list(keys.values()))
    missing = [seat for seat in seats if keys[seat.pk] not in hits]
    computed: dict[str, dict[str, Any]] = {}
    if missing:
        steps_by_seat: dict[int, list[Step]] = defaultdict(list)
        for step in Step.objects.filter(seat_id__in=[s.pk for s in missing]).order_by("seat_id", "seq"):
            steps_by_seat[step.seat_id].append(step)
        for seat in missing:
            instance = seat.match.instance
            steps = steps_by_seat[seat.pk]
            tests = _test_analytics(instance=instance, steps=steps)
            believed = _belief_analytics(instance=instance, steps=steps)
            computed[keys[seat.pk]] = _seat_summary(
                seat=seat, instance=instance, steps=steps, tests=tests, believed=believed
            )
        # A failure of ours is not cached: a fixed engine gets another go.
        cache.set_many(
            {k: v for k, v in computed.items() if not v["analytics_failed"]}, timeout=CACHE_TIMEOUT_S
        )
    return [hits.get(keys[s.pk]) or computed[keys[s.pk]] for s in seats]


def _player_order(measures: Iterable[dict[str, Any]]) -> list[str]:
    """Humans first, then each model in name order, agents last."""
    names = {m["player"] for m in measures}
    models = sorted(names - {HUMANS, AGENTS})
    return [n for n in [HUMANS, *models, AGENTS] if n in names]


def _kind_of(player: str) -> str:
    return {HUMANS: "human", AGENTS: "agent"}.get(player, "model")


def solve_rate_rows(measures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per player, family and tier: a tier is a difficulty level within its own family, so tiers
    of different families are never pooled."""
    groups: dict[tuple[str, str, Any], list[bool]] = defaultdict(list)
    for m in measures:
        groups[(m["player"], m["family"], m["tier"])].append(m["solved"])
    rows = []
    for player in _player_order(measures):
        keys = sorted(((f, t) for p, f, t in groups if p == player), key=lambda k: (k[0], k[1] is None, k[1]))
        for family, tier in keys:
            solved = groups[(player, family, tier)]
            rows.append(
                {
                    "player": player,
                    "player_kind": _kind_of(player),
                    "family": family,
                    "tier": tier,
                    "seats": len(solved),
                    "solved": sum(solved),
                    "solve_rate": round(sum(solved) / len(solved), 4),
                }
            )
    return rows


def tests_used_rows(measures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int], list[bool]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for m in measures:
        groups[(m["player"], m["tests_used"])].append(m["solved"])
        totals[m["player"]] += 1
    rows = []
    for player in _player_order(measures):
        for used in sorted(u for p, u in groups if p == player):
            seats = groups[(player, used)]
            rows.append(
                {
                    "player": player,
                    "player_kind": _kind_of(player),
                    "tests_used": used,
                    "seats": len(seats),
                    "solved": sum(seats),
                    "share": round(len(seats) / totals[player], 4),
                }
            )
    return rows


def surviving_curve_rows(measures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Surviving hypotheses after k tests, averaged over the seats that ran at least k tests
    (``seats`` says how many that is at each k)."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for m in measures:
        for k, surviving in enumerate(m["curve"]):
            groups[(m["player"], k)].append(surviving)
    rows = []
    for player in _player_order(measures):
        for k in sorted(k for p, k in groups if p == player):
            values = groups[(player, k)]
            rows.append(
                {
                    "player": player,
                    "player_kind": _kind_of(player),
                    "step": k,
                    "seats": len(values),
                    "mean_surviving": round(statistics.fmean(values), 4),
                    "median_surviving": statistics.median(values),
                    "mean_log2_surviving": round(statistics.fmean(math.log2(v + 1) for v in values), 4),
                }
            )
    return rows


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def player_summary_rows(measures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_player: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in measures:
        by_player[m["player"]].append(m)
    rows = []
    for player in _player_order(measures):
        ms = by_player[player]
        solved = sum(m["solved"] for m in ms)
        rows.append(
            {
                "player": player,
                "player_kind": _kind_of(player),
                "seats": len(ms),
                "solved": solved,
                "solve_rate": round(solved / len(ms), 4),
                "mean_tests_used": _mean([m["tests_used"] for m in ms]),
                "mean_redundant_tests": _mean([m["redundant_tests"] for m in ms]),
                "mean_total_bits": _mean([m["total_bits"] for m in ms]),
                "mean_parsimony": _mean([m["parsimony"] for m in ms if m["parsimony"] is not None]),
            }
        )
    return rows


def positive_test_rows(measures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per player: tests that came with a hypothesis in the rule language, how many of them were
    positive tests (the hypothesis said the input fits; yes/no families only), how many answers
    confirmed the hypothesis, how many tests were run under a hypothesis earlier answers had
    already refuted, and when the stated hypothesis first became equivalent to the hidden rule.
    Shares are pooled over the player's tests; ``mean_seat_positive_share`` averages seats."""
    by_player: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in measures:
        stated = m.get("hypotheses") or {}
        if stated.get("hypotheses_stated"):
            by_player[m["player"]].append(stated)
    rows = []
    for player in _player_order(measures):
        seats = by_player.get(player)
        if not seats:
            continue
        parsed = sum(h["hypotheses_parsed"] for h in seats)
        positive = sum(h["positive_tests"] for h in seats)
        signed = positive + sum(h["negative_tests"] for h in seats)
        firsts = [h["first_equivalent_test"] for h in seats if h["first_equivalent_test"] is not None]
        rows.append(
            {
                "player": player,
                "player_kind": _kind_of(player),
                "seats": len(seats),
                "hypotheses_stated": sum(h["hypotheses_stated"] for h in seats),
                "hypotheses_parsed": parsed,
                "positive_tests": positive,
                "negative_tests": signed - positive,
                "positive_share": round(positive / signed, 4) if signed else None,
                "mean_seat_positive_share": _mean(
                    [h["positive_share"] for h in seats if h["positive_share"] is not None]
                ),
                "confirmed_share": round(sum(h["confirmed_tests"] for h in seats) / parsed, 4)
                if parsed
                else None,
                "refuted_kept_share": round(sum(h["refuted_kept"] for h in seats) / parsed, 4)
                if parsed
                else None,
                "seats_reaching_equivalent": len(firsts),
                "mean_first_equivalent_test": _mean(firsts),
            }
        )
    return rows


@dataclass(frozen=True)
class Plot:
    slug: str
    title: str
    description: str
    columns: tuple[str, ...]
    build: Any  # Callable[[Sequence[dict]], list[dict]]


PLOTS: dict[str, Plot] = {
    p.slug: p
    for p in (
        Plot(
            "solve-rate",
            "Solve rate by difficulty tier",
            "Share of finished seats whose guess was judged correct, per player and tier.",
            ("player", "player_kind", "family", "tier", "seats", "solved", "solve_rate"),
            solve_rate_rows,
        ),
        Plot(
            "tests-used",
            "Tests used",
            "How many tests each finished seat ran before it ended, per player (share of that player's seats).",
            ("player", "player_kind", "tests_used", "seats", "solved", "share"),
            tests_used_rows,
        ),
        Plot(
            "surviving",
            "Surviving hypotheses by step",
            "Hypotheses of the reference space still consistent after k tests (k = 0: after the given "
            "examples), averaged over the seats that ran at least k tests.",
            (
                "player",
                "player_kind",
                "step",
                "seats",
                "mean_surviving",
                "median_surviving",
                "mean_log2_surviving",
            ),
            surviving_curve_rows,
        ),
        Plot(
            "players",
            "Per-player summary",
            "Solve rate, tests, redundant tests, bits gained and parsimony (guess size / hidden rule size).",
            (
                "player",
                "player_kind",
                "seats",
                "solved",
                "solve_rate",
                "mean_tests_used",
                "mean_redundant_tests",
                "mean_total_bits",
                "mean_parsimony",
            ),
            player_summary_rows,
        ),
        Plot(
            "positive-tests",
            "Positive-test bias (stated hypotheses)",
            "Of the tests run with a stated hypothesis in the rule language: the share that were positive "
            "tests (the hypothesis said the input fits; yes/no families only), the share whose answer "
            "confirmed the hypothesis, the share run under a hypothesis earlier answers had already refuted, "
            "and the first test at which the stated hypothesis was equivalent to the hidden rule.",
            (
                "player",
                "player_kind",
                "seats",
                "hypotheses_stated",
                "hypotheses_parsed",
                "positive_tests",
                "negative_tests",
                "positive_share",
                "mean_seat_positive_share",
                "confirmed_share",
                "refuted_kept_share",
                "seats_reaching_equivalent",
                "mean_first_equivalent_test",
            ),
            positive_test_rows,
        ),
    )
}


def dashboard_measures(*, family: str | None = None) -> list[dict[str, Any]]:
    return seat_measures_many(seats=finished_seats(family=family))


def plot_rows(*, plot: str, measures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return PLOTS[plot].build(measures)


def dashboard_data(*, family: str | None = None) -> dict[str, Any]:
    measures = dashboard_measures(family=family)
    return {
        "seats": len(measures),
        "family": family,
        "plots": {slug: plot_rows(plot=slug, measures=measures) for slug in PLOTS},
    }

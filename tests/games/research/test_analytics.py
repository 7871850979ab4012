"""Per-step analytics and the dashboard aggregates, on small matches built through the services."""

import dataclasses
import datetime as dt
import itertools
import math

import pytest
from django.core.cache import cache

from games.engine.core import get_family
from games.models import ModelCall, Step
from games.play import services
from games.research import analytics
from tests import factories
from tests.workers import helpers

pytestmark = pytest.mark.django_db

RULE = factories.HIDDEN_RULE  # x + y > z, size 5
_slugs = itertools.count(1)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def make_match(*players, tier=1, rule=RULE):
    """players: (kind, contestant) pairs. Returns the running match and its seats in order."""
    variant = services.variant_create(
        slug=f"an-wason-{next(_slugs)}",
        family="wason",
        title="Analytics wason",
        params={"tier": tier, "rule": rule, "max_tests": 30},
        published=True,
    )
    match = services.match_create(variant=variant, seed=1)
    seats = [
        services.seat_join(match=match, handle=f"{kind} {i}", kind=kind, contestant=contestant)
        for i, (kind, contestant) in enumerate(players)
    ]
    return services.match_start(match=match), seats


def run_test(seat, x, y, z, **kw):
    return services.step_submit(seat=seat, action={"type": "test", "input": [x, y, z]}, **kw).step


def guess(seat, rule):
    return services.step_submit(seat=seat, action={"type": "guess", "rule": rule}).step


def engine_trace(seat, inputs_results):
    instance = seat.match.instance
    history = [{"input": list(i), "result": r} for i, r in inputs_results]
    return get_family("wason").step_analytics(instance.public, history)


def test_each_test_step_carries_the_engines_surviving_counts_bits_and_redundancy():
    _, (seat,) = make_match(("human", ""))
    run_test(seat, 1, 2, 3)
    run_test(seat, 1, 2, 3)  # the same test again cannot narrow anything
    run_test(seat, 3, 4, 5)
    guess(seat, RULE)
    seat.refresh_from_db()

    data = analytics.seat_analytics(seat=seat)

    expected = engine_trace(seat, [((1, 2, 3), False), ((1, 2, 3), False), ((3, 4, 5), True)])
    steps = data["steps"]
    assert [s["kind"] for s in steps] == ["test", "test", "test", "guess"]
    for row, engine in zip(steps[:3], expected):
        assert (row["surviving_before"], row["surviving"]) == (
            engine["surviving_before"],
            engine["surviving"],
        )
        assert row["bits"] == pytest.approx(math.log2(row["surviving_before"] / row["surviving"]))
    # the log chains: what survives one test is what the next one starts from
    assert steps[1]["surviving_before"] == steps[0]["surviving"]
    assert steps[2]["surviving_before"] == steps[1]["surviving"]
    assert [s["redundant"] for s in steps[:3]] == [False, True, False]
    assert steps[1]["bits"] == 0.0
    assert steps[3]["rule"] == RULE and steps[3]["verdict"]["correct"] is True
    assert data["redundant_tests"] == 1
    assert data["total_bits"] == pytest.approx(steps[0]["bits"] + steps[2]["bits"], abs=1e-5)
    assert data["total_bits"] == pytest.approx(
        math.log2(steps[0]["surviving_before"] / steps[2]["surviving"]), abs=1e-5
    )
    assert data["curve"] == [
        steps[0]["surviving_before"],
        steps[0]["surviving"],
        steps[1]["surviving"],
        steps[2]["surviving"],
    ]
    assert (data["solved"], data["tests_used"], data["player"]) == (True, 3, "humans")


def test_time_since_previous_step_uses_server_timestamps_and_think_time_the_clients():
    match, (seat,) = make_match(("human", ""))
    a = run_test(seat, 1, 2, 3, client_think_ms=1500)
    b = run_test(seat, 3, 4, 5)
    t0 = match.started
    Step.objects.filter(pk=a.pk).update(created_at=t0 + dt.timedelta(seconds=2))
    Step.objects.filter(pk=b.pk).update(created_at=t0 + dt.timedelta(seconds=5.5))
    seat.refresh_from_db()

    steps = analytics.seat_analytics(seat=seat)["steps"]

    assert [s["since_previous_ms"] for s in steps] == [2000, 3500]
    assert [s["think_ms"] for s in steps] == [1500, None]
    assert "model" not in steps[0]  # human steps have no model call


@pytest.mark.parametrize(
    ("rule", "solved", "parsimony"),
    [
        (RULE, True, 1.0),  # the hidden rule itself: same size
        ("z < x + y or x + y > z", True, 11 / 5),  # right, but says it twice
        ("x > y", False, 3 / 5),
    ],
)
def test_parsimony_is_the_guess_size_over_the_hidden_rule_size(rule, solved, parsimony):
    _, (seat,) = make_match(("human", ""))
    guess(seat, rule)
    seat.refresh_from_db()

    data = analytics.seat_analytics(seat=seat)

    assert data["hidden_size"] == 5
    assert data["guess_size"] == get_family("wason").rule_size(rule)
    assert data["parsimony"] == pytest.approx(parsimony)
    assert data["solved"] is solved
    assert (data["tests_used"], data["total_bits"], data["curve"]) == (0, 0, [])


def test_model_steps_carry_latency_tokens_and_reasoning_of_the_call_that_made_them():
    helpers.builtin("infogain")
    _, (human, model) = make_match(("human", ""), ("model", "infogain"))
    step = run_test(model, 1, 2, 3)
    ModelCall.objects.create(seat=model, turn=1, attempt=1, latency_ms=400.0, error_class="Timeout")
    ModelCall.objects.create(
        seat=model,
        turn=1,
        attempt=2,
        latency_ms=850.25,
        tokens_in=120,
        tokens_out=40,
        reasoning="Try a small decreasing triple first.",
        step=step,
    )
    model.refresh_from_db()

    data = analytics.seat_analytics(seat=model)

    assert data["player"] == "infogain"
    assert data["steps"][0]["model"] == {
        "call": ModelCall.objects.get(step=step).pk,
        "turn": 1,
        "latency_ms": 850.2,
        "tokens_in": 120,
        "tokens_out": 40,
        "cost_usd": 0.0,
        "reasoning": "Try a small decreasing triple first.",
        "turn_calls": 2,
        "turn_latency_ms": 1250.2,
    }


def test_the_replay_orders_every_seats_steps_on_one_timeline():
    match, (ann, bob) = make_match(("human", ""), ("human", ""))
    order = [
        run_test(ann, 1, 2, 3),
        run_test(bob, 3, 4, 5),
        run_test(ann, 2, 2, 2),
        guess(bob, "x > y"),
        guess(ann, RULE),
    ]
    for i, step in enumerate(order):
        Step.objects.filter(pk=step.pk).update(created_at=match.started + dt.timedelta(seconds=i + 1))
    match.refresh_from_db()

    replay = analytics.match_replay(match=match)

    assert [(e["seat"], e["seq"], e["t_ms"]) for e in replay["timeline"]] == [
        (ann.pk, 1, 1000),
        (bob.pk, 1, 2000),
        (ann.pk, 2, 3000),
        (bob.pk, 2, 4000),
        (ann.pk, 3, 5000),
    ]
    assert replay["reveal"] == {"rule": RULE, "size": 5}
    assert [s["solved"] for s in replay["seats"]] == [True, False]
    assert [len(s["steps"]) for s in replay["seats"]] == [3, 2]
    assert replay["match"]["presentation"]["answer_words"]["false"] == "does not fit the rule"


def test_a_running_match_has_no_replay():
    match, _ = make_match(("human", ""))
    with pytest.raises(ValueError, match="over"):
        analytics.match_replay(match=match)


# -- aggregates ------------------------------------------------------------------------------------


def play(seat, tests, rule):
    for x, y, z in tests:
        run_test(seat, x, y, z)
    guess(seat, rule)


@pytest.fixture
def league():
    """Tier 1: two humans (one solves with 2 tests, one fails with 1), infogain solves with 2.
    Tier 2: one human fails with 0 tests, infogain solves with 1, an agent fails with 1.
    A running match is left out of everything."""
    helpers.builtin("infogain")
    _, (h1, h2, m1) = make_match(("human", ""), ("human", ""), ("model", "infogain"))
    play(h1, [(1, 2, 3), (3, 4, 5)], RULE)
    play(h2, [(1, 2, 3)], "x > y")
    play(m1, [(1, 2, 3), (1, 2, 3)], RULE)
    _, (h3, m2, a1) = make_match(("human", ""), ("model", "infogain"), ("agent", ""), tier=2)
    play(h3, [], "x > y")
    play(m2, [(3, 4, 5)], RULE)
    play(a1, [(2, 2, 2)], "x == y")
    _, (running,) = make_match(("human", ""))
    run_test(running, 1, 2, 3)
    return {"h1": h1, "h2": h2, "m1": m1, "h3": h3, "m2": m2, "a1": a1, "running": running}


def test_solve_rate_by_tier_separates_humans_each_model_and_agents(league):
    rows = analytics.solve_rate_rows(analytics.dashboard_measures())
    assert rows == [
        {
            "player": "humans",
            "player_kind": "human",
            "family": "wason",
            "tier": 1,
            "seats": 2,
            "solved": 1,
            "solve_rate": 0.5,
        },
        {
            "player": "humans",
            "player_kind": "human",
            "family": "wason",
            "tier": 2,
            "seats": 1,
            "solved": 0,
            "solve_rate": 0.0,
        },
        {
            "player": "infogain",
            "player_kind": "model",
            "family": "wason",
            "tier": 1,
            "seats": 1,
            "solved": 1,
            "solve_rate": 1.0,
        },
        {
            "player": "infogain",
            "player_kind": "model",
            "family": "wason",
            "tier": 2,
            "seats": 1,
            "solved": 1,
            "solve_rate": 1.0,
        },
        {
            "player": "agents",
            "player_kind": "agent",
            "family": "wason",
            "tier": 2,
            "seats": 1,
            "solved": 0,
            "solve_rate": 0.0,
        },
    ]


def test_tests_used_distribution_counts_seats_per_number_of_tests(league):
    rows = analytics.tests_used_rows(analytics.dashboard_measures())
    assert [(r["player"], r["tests_used"], r["seats"], r["solved"], r["share"]) for r in rows] == [
        ("humans", 0, 1, 0, 0.3333),
        ("humans", 1, 1, 0, 0.3333),
        ("humans", 2, 1, 1, 0.3333),
        ("infogain", 1, 1, 1, 0.5),
        ("infogain", 2, 1, 1, 0.5),
        ("agents", 1, 1, 0, 1.0),
    ]


def test_surviving_curve_averages_over_the_seats_that_reached_each_step(league):
    measures = {m["seat"]: m for m in analytics.dashboard_measures()}
    h1, h2 = measures[league["h1"].pk]["curve"], measures[league["h2"].pk]["curve"]
    assert len(h1) == 3 and len(h2) == 2 and measures[league["h3"].pk]["curve"] == []

    rows = [r for r in analytics.surviving_curve_rows(list(measures.values())) if r["player"] == "humans"]

    assert [(r["step"], r["seats"]) for r in rows] == [(0, 2), (1, 2), (2, 1)]
    assert rows[0]["mean_surviving"] == pytest.approx((h1[0] + h2[0]) / 2)
    assert rows[1]["mean_surviving"] == pytest.approx((h1[1] + h2[1]) / 2)
    assert rows[2]["mean_surviving"] == h1[2]
    assert rows[2]["median_surviving"] == h1[2]


def test_player_summary_counts_redundant_tests_and_parsimony(league):
    rows = {r["player"]: r for r in analytics.player_summary_rows(analytics.dashboard_measures())}
    assert rows["infogain"]["seats"] == 2
    assert rows["infogain"]["mean_redundant_tests"] == 0.5  # m1 repeated its test
    assert rows["infogain"]["mean_parsimony"] == 1.0
    assert rows["humans"]["mean_tests_used"] == 1.0
    assert rows["humans"]["mean_parsimony"] == pytest.approx((1 + 3 / 5 + 3 / 5) / 3, abs=1e-4)


def test_family_filter_and_finished_only(league):
    assert len(analytics.dashboard_measures()) == 6
    assert len(analytics.dashboard_measures(family="wason")) == 6
    assert analytics.dashboard_measures(family="other") == []
    assert league["running"].pk not in {m["seat"] for m in analytics.dashboard_measures()}


def test_finished_seat_measures_are_cached(league, monkeypatch):
    first = analytics.dashboard_measures()

    def boom(**kwargs):
        raise AssertionError("recomputed a cached seat")

    monkeypatch.setattr(analytics, "_test_analytics", boom)
    assert analytics.dashboard_measures() == first


def test_a_new_step_gives_a_new_cache_key():
    _, (seat,) = make_match(("human", ""))
    seat.refresh_from_db()
    a = analytics._cache_key(seat, 1)
    assert a != analytics._cache_key(seat, 2)
    assert str(seat.pk) in a


def test_an_engine_failure_leaves_the_steps_without_measures_and_is_not_cached(monkeypatch, caplog):
    _, (seat,) = make_match(("human", ""))
    run_test(seat, 1, 2, 3)
    guess(seat, RULE)
    wason = get_family("wason")

    def broken(public, history):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(
        analytics, "get_family", lambda _id: dataclasses.replace(wason, step_analytics=broken)
    )
    seat.refresh_from_db()

    data = analytics.seat_analytics(seat=seat)
    assert data["analytics_failed"] is True
    assert [s["kind"] for s in data["steps"]] == ["test", "guess"]
    assert data["steps"][0]["result"] is False and data["steps"][0]["surviving"] is None
    assert "step analytics failed" in caplog.text
    assert analytics.dashboard_measures()[0]["analytics_failed"] is True
    monkeypatch.setattr(analytics, "get_family", get_family)
    assert analytics.dashboard_measures()[0]["analytics_failed"] is False  # recomputed, not cached


def test_tiers_of_different_families_are_never_pooled() -> None:
    measures = [
        {"player": "humans", "family": "wason", "tier": 1, "solved": True},
        {"player": "humans", "family": "eleusis", "tier": 1, "solved": False},
        {"player": "humans", "family": "eleusis", "tier": 1, "solved": False},
    ]
    rows = analytics.solve_rate_rows(measures)
    assert [(r["family"], r["tier"], r["seats"], r["solve_rate"]) for r in rows] == [
        ("eleusis", 1, 2, 0.0),
        ("wason", 1, 1, 1.0),
    ]

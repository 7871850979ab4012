"""A family with no rule to state (guess widget "none", ``Family.final_score``): a seat finishes when
its test budget is spent, scored from its own history, on both move paths (the ORM and the
hand-built statements of games.play.fastpath)."""

from __future__ import annotations

import itertools

import pytest

from games.engine import get_family
from games.models import Match, Seat, Step
from games.play import selectors, services
from tests import factories

pytestmark = pytest.mark.django_db

PATHS = ("orm", "sql")
_slugs = itertools.count(1)


def alchemy_match(*, seats: int = 1, max_tests: int = 3) -> tuple[Match, list[Seat]]:
    variant = services.variant_create(
        slug=f"test-alchemy-{next(_slugs)}",
        family="alchemy",
        title="Test alchemy",
        params={"elements": 8, "depth": 2, "max_tests": max_tests},
        published=True,
    )
    match = services.match_create(variant=variant, seed=1)
    made = [
        services.seat_join(match=match, handle=f"Player {i + 1}", session_key=factories.session_key())
        for i in range(seats)
    ]
    return services.match_start(match=match), made


def pairs(match: Match) -> tuple[list[str], list[str], str]:
    """A starting pair that makes something, one that makes nothing, and what the first makes."""
    graph = get_family("alchemy").extras["graph_of"](selectors.engine_instance(instance=match.instance))
    start = graph.start
    all_pairs = [[a, b] for i, a in enumerate(start) for b in start[i:]]
    making = next(p for p in all_pairs if tuple(p) in graph.recipes)
    nothing = next(p for p in all_pairs if tuple(p) not in graph.recipes)
    return making, nothing, graph.recipes[tuple(making)]


@pytest.mark.parametrize("path", PATHS)
def test_the_seat_finishes_when_its_budget_is_spent_scored_from_its_history(path, settings) -> None:
    settings.ARENA_MOVE_PATH = path
    match, (seat,) = alchemy_match(max_tests=3)
    making, nothing, made = pairs(match)
    first = services.step_submit(seat=seat, action={"type": "test", "input": making}, idempotency_key="1")
    assert first.step.result == {"result": made} and first.seat.status == Seat.Status.PLAYING
    # the made element is known now: it may be combined
    services.step_submit(seat=seat, action={"type": "test", "input": [made, made]}, idempotency_key="2")
    last = services.step_submit(seat=seat, action={"type": "test", "input": nothing}, idempotency_key="3")
    assert last.seat.status == Seat.Status.FINISHED and last.match.status == Match.Status.FINISHED
    seat.refresh_from_db()
    assert seat.tests_used == 3 and seat.outcome == {"budget_spent": True}
    expected = get_family("alchemy").final_score(
        selectors.engine_instance(instance=match.instance), selectors.seat_history(seat=seat), 3
    )
    assert seat.score == expected and seat.score["discovered"] >= 1 and seat.score["points"] > 0
    with pytest.raises(services.ActionError, match="already finished|has ended"):
        services.step_submit(seat=seat, action={"type": "test", "input": making})
    reveal = selectors.match_reveal(match=last.match)
    assert reveal["seats"][0]["score_text"].startswith("Discovered")


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_element_and_a_guess_are_refused_and_cost_nothing(path, settings) -> None:
    settings.ARENA_MOVE_PATH = path
    match, (seat,) = alchemy_match()
    hidden_products = {c for _, _, c in match.instance.hidden["recipes"]}
    product = sorted(hidden_products)[0]
    start = match.instance.public["start"]
    for name in (product, "nonexistent"):  # an element not yet made, and no element at all: one message
        with pytest.raises(services.ActionError, match="only combine elements you know") as info:
            services.step_submit(seat=seat, action={"type": "test", "input": [start[0], name]})
        assert "You know: " + ", ".join(start) in info.value.message
    with pytest.raises(services.ActionError, match="no rule to state"):
        services.step_submit(seat=seat, action={"type": "guess", "rule": "a + b = c"})
    seat.refresh_from_db()
    assert seat.tests_used == 0 and not Step.objects.filter(seat=seat).exists()


@pytest.mark.parametrize("path", PATHS)
def test_a_forfeited_turn_that_spends_the_budget_finishes_the_seat_and_a_forfeit_keeps_discoveries(
    path, settings
) -> None:
    settings.ARENA_MOVE_PATH = path
    match, (a, b) = alchemy_match(seats=2, max_tests=2)
    making, _, _ = pairs(match)
    services.step_submit(seat=a, action={"type": "test", "input": making})
    out = services.turn_forfeit(seat=a, reason="no action", idempotency_key="t2")
    assert out.seat.status == Seat.Status.FINISHED and out.seat.score["discovered"] == 1
    services.step_submit(seat=b, action={"type": "test", "input": making})
    quit_ = services.step_submit(seat=b, action={"type": "forfeit"})
    assert quit_.seat.status == Seat.Status.FORFEITED and quit_.seat.score["discovered"] == 1
    assert quit_.match.status == Match.Status.FINISHED


def test_the_race_goes_to_the_most_points_when_nobody_can_solve() -> None:
    match, (a, b) = alchemy_match(seats=2, max_tests=1)
    making, nothing, _ = pairs(match)
    services.step_submit(seat=b, action={"type": "test", "input": making})
    services.step_submit(seat=a, action={"type": "test", "input": nothing})
    match.refresh_from_db()
    race = selectors.match_reveal(match=match)["race"]
    assert race["winner"] == b.pk and "most points" in race["text"]
    # the ratings read the same points: more points wins the head-to-head pair
    from games.competition import rating_snapshots, ratings

    rows = {r.seat_id: r for r in rating_snapshots.seat_rows(family="alchemy")}
    assert rows[b.pk].points > 0 and rows[a.pk].points == 0
    codes = [
        (0, rows[a.pk].solved, 1, 1.0, rows[a.pk].points),
        (1, rows[b.pk].solved, 1, 1.0, rows[b.pk].points),
    ]
    assert ratings.race_pairs(codes) == [(1, 0)]


def test_the_admin_preview_plays_each_explorer_to_its_budget_and_reports_the_share_found() -> None:
    from games.play import variants

    for preview in variants.variant_preview(
        family_id="alchemy", params={"elements": 8, "depth": 2, "max_tests": 10}
    ):
        assert not preview.error
        for run in preview.solvers:
            assert run.tests_used == 10 and run.error == "" and 0 < run.agreement <= 1, run

"""Scoring is explained before and at the reveal; a race of several seats names its winner."""

import pytest

from games.engine.families import common
from games.play import selectors, services
from games.play.visibility import Viewer
from tests import factories

pytestmark = pytest.mark.django_db


def play(seat, tests, rule, key):
    for i, t in enumerate(tests):
        services.step_submit(seat=seat, action={"type": "test", "input": t}, idempotency_key=f"{key}-t{i}")
    services.step_submit(seat=seat, action={"type": "guess", "rule": rule}, idempotency_key=f"{key}-g")


def test_the_snapshot_says_how_points_are_earned_before_any_move():
    match, (seat,) = factories.match(max_tests=30)
    state = selectors.match_public_state(match=match, viewer=Viewer(seat_id=seat.pk))
    assert "100 points minus 50 × tests used ÷ 30" in state["scoring"]
    assert "0 points" in state["scoring"]


def test_the_reveal_works_out_each_score_and_names_the_race_winner():
    match, (fast, slow, wrong) = factories.match(seats=3, max_tests=30)
    play(slow, [[3, 4, 5], [1, 1, 5], [2, 2, 3]], "z < x + y", "slow")
    play(fast, [[3, 4, 5]], "z < x + y", "fast")
    play(wrong, [], "x < y", "wrong")
    match.refresh_from_db()
    reveal = selectors.match_reveal(match=match)
    by_id = {s["id"]: s for s in reveal["seats"]}
    assert by_id[fast.pk]["score_text"] == "Solved with 1 of 30 tests: 100 − 50 × 1/30 = 99 points."
    assert by_id[fast.pk]["score"]["points"] == 99
    assert by_id[slow.pk]["score_text"].startswith("Solved with 3 of 30 tests")
    assert by_id[wrong.pk]["score_text"].startswith("Not solved (0 tests used): 0 points; partial credit")
    assert reveal["race"]["winner"] == fast.pk
    assert reveal["race"]["text"] == "Player 1 won the race: solved with 1 test (fewest tests)."


def test_a_solo_match_has_no_race_and_a_race_nobody_solves_has_no_winner():
    match, (seat,) = factories.match()
    play(seat, [], "x < y", "solo")
    match.refresh_from_db()
    assert selectors.match_reveal(match=match)["race"] is None
    match, seats = factories.match(seats=2)
    for i, seat in enumerate(seats):
        play(seat, [], "x < y", f"r{i}")
    match.refresh_from_db()
    assert selectors.match_reveal(match=match)["race"] == {
        "winner": None,
        "text": "Nobody found the rule, so nobody won the race.",
    }


@pytest.mark.parametrize(("n", "text"), [(0, "0 tests"), (1, "1 test"), (2, "2 tests")])
def test_plurals(n, text):
    assert common.plural(n, "test") == text


def test_the_favicon_is_served_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("arena/favicon.svg")
    assert 'rel="icon"' in client.get("/").content.decode()


def _race_of_a_person_and_a_model(*, model_call_ms):
    """A race both seats solve with one test: the person finishes 30 s after the start; the model
    finishes 120 s after it (its turns queued behind a busy worker), its calls taking
    ``model_call_ms`` between them."""
    import datetime as dt

    from games.models import Match, ModelCall, Seat

    match, (person, model) = factories.match(seats=2, max_tests=30)
    Seat.objects.filter(pk=model.pk).update(kind=Seat.Kind.MODEL, contestant="slow-endpoint", handle="Model")
    model.refresh_from_db()
    play(model, [[3, 4, 5]], "z < x + y", "model")
    play(person, [[3, 4, 5]], "z < x + y", "person")
    for turn, ms in enumerate(model_call_ms, start=1):
        ModelCall.objects.create(seat=model, turn=turn, latency_ms=ms)
    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    Match.objects.filter(pk=match.pk).update(started=start)
    Seat.objects.filter(pk=person.pk).update(finished=start + dt.timedelta(seconds=30))
    Seat.objects.filter(pk=model.pk).update(finished=start + dt.timedelta(seconds=120))
    match.refresh_from_db()
    return match, person, model


def test_a_models_race_clock_counts_its_own_thinking_not_the_queue():
    match, person, model = _race_of_a_person_and_a_model(model_call_ms=[1200.0, 800.0])
    clocks = selectors.race_clocks(match=match, seats=list(match.seats.all()))
    assert clocks == {person.pk: 30.0, model.pk: 2.0}
    reveal = selectors.match_reveal(match=match)
    assert {s["id"]: s["clock_s"] for s in reveal["seats"]} == {person.pk: 30.0, model.pk: 2.0}
    race = reveal["race"]
    assert race["winner"] == model.pk
    assert race["text"] == "Model won the race: solved with 1 test (fewest tests, and less time)."


def test_a_model_whose_own_calls_took_longer_than_the_person_loses_the_tie():
    match, person, model = _race_of_a_person_and_a_model(model_call_ms=[25_000.0, 6_000.0])
    assert selectors.race_clocks(match=match, seats=list(match.seats.all()))[model.pk] == 31.0
    assert selectors.match_reveal(match=match)["race"]["winner"] == person.pk


def test_the_head_to_head_ratings_order_tied_solvers_by_the_same_clock():
    from games.competition import rating_snapshots
    from games.models import Match

    match, person, model = _race_of_a_person_and_a_model(model_call_ms=[1200.0, 800.0])
    Match.objects.filter(pk=match.pk).update(ranked=True)
    rows = {r.seat_id: r for r in rating_snapshots.seat_rows()}
    assert rows[model.pk].seconds == 2.0
    assert rows[person.pk].seconds == 30.0

"""Ratings from played matches: the snapshot, its debounced scheduling, and who counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from games.competition import rating_snapshots
from games.models import Match, RatingSnapshot, RatingsRun, Seat
from tests import factories
from tests.games.competition.test_leaderboard import RIGHT, WRONG, guest, model, play

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_settings(settings):
    settings.ARENA_RATINGS_ROUNDS = 20
    settings.ARENA_RATINGS_MIN_MATCHES = 3
    settings.ARENA_RATINGS_DEBOUNCE_S = 30
    settings.ARENA_RATINGS_MAX_WAIT_S = 600
    settings.ARENA_RATINGS_EVERY_S = 3600


def some_races(v, n=4):
    for i in range(n):
        play(
            v,
            (model("solver"), 0, RIGHT),
            (guest("sess-ann", "Ann"), 1, RIGHT if i % 2 else WRONG),
            (guest("sess-bob", "Bob"), 2, WRONG),
        )


def test_a_snapshot_rates_every_player_with_an_interval_and_marks_the_provisional():
    v = factories.variant()
    some_races(v, n=4)
    play(v, (guest("sess-cy", "Cy"), 0, RIGHT))  # one match: provisional
    now = timezone.now()
    snap = rating_snapshots.snapshot_compute(scope="all", period="all", now=now)
    players = {p["name"]: p for p in snap.payload["players"]}
    assert set(players) == {"Solver", "Ann", "Bob", "Cy"}
    for p in players.values():
        assert p["low"] <= p["ability"] <= p["high"]
    assert players["Cy"]["provisional"] and players["Cy"]["rank"] is None
    assert not players["Solver"]["provisional"] and players["Solver"]["rank"] == 1
    assert players["Solver"]["ability"] > players["Ann"]["ability"] > players["Bob"]["ability"]
    assert (snap.seats, snap.matches, snap.model_version) == (13, 5, "rasch-bt-ridge-1")
    people = snap.payload["people"]
    assert people["name"] == "All people" and people["players"] == 3 and people["low"] <= people["ability"]
    assert "sess-ann" not in repr(snap.payload)  # session keys never leave the module
    assert snap.payload["head_to_head"][0]["name"] == "Solver"


def test_unfinished_aborted_and_unranked_matches_do_not_count():
    v = factories.variant()
    some_races(v, n=2)
    aborted = play(v, (guest("sess-dee", "Dee"), 0, RIGHT))
    Match.objects.filter(pk=aborted.pk).update(status=Match.Status.ABORTED)
    unranked = play(v, (guest("sess-eve", "Eve"), 0, RIGHT))
    Match.objects.filter(pk=unranked.pk).update(ranked=False)
    names = {r.name for r in rating_snapshots.seat_rows()}
    assert names == {"Solver", "Ann", "Bob"}


def test_the_gap_between_people_and_each_model_has_an_interval_per_family_and_tier():
    v = factories.variant()
    some_races(v, n=4)
    (row,) = rating_snapshots.compute(rating_snapshots.seat_rows(), rounds=30)["gap"]
    assert (row["family"], row["tier"], row["contestant"]) == ("wason", "1", "solver")
    assert row["model_solve_rate"] == 1.0 and row["people_solve_rate"] == 0.25
    assert row["solve_rate_gap"] == 0.75
    assert row["solve_rate_gap_low"] <= 0.75 <= row["solve_rate_gap_high"]
    assert row["ability_gap_low"] <= row["ability_gap"] <= row["ability_gap_high"] and row["ability_gap"] > 0


def test_ratings_are_due_after_a_quiet_moment_once_a_match_ends_and_on_a_schedule():
    now = timezone.now()
    assert not rating_snapshots.refresh_due(now=now)  # nothing played
    v = factories.variant()
    some_races(v, n=1)
    ended = Match.objects.latest("finished").finished
    assert not rating_snapshots.refresh_due(now=ended + dt.timedelta(seconds=5))  # debounced
    assert rating_snapshots.refresh_due(now=ended + dt.timedelta(seconds=31))
    report = rating_snapshots.ratings_refresh(now=ended + dt.timedelta(seconds=31))
    # all, the family and the variant, each for three periods
    assert report["status"] == "ok" and report["snapshots"] == 9
    assert not rating_snapshots.refresh_due(now=ended + dt.timedelta(seconds=40))
    assert rating_snapshots.refresh_due(now=ended + dt.timedelta(seconds=31 + 3600))


def test_a_run_going_on_holds_off_another():
    v = factories.variant()
    some_races(v, n=1)
    now = timezone.now() + dt.timedelta(minutes=1)
    RatingsRun.objects.create(pk=1, running_since=now)
    assert not rating_snapshots.refresh_due(now=now + dt.timedelta(seconds=40))
    assert rating_snapshots.ratings_refresh(now=now) == {"status": "duplicate"}
    assert not RatingSnapshot.objects.exists()


def test_the_ratings_task_stores_the_snapshots():
    from workers import tasks

    v = factories.variant()
    some_races(v, n=1)
    assert tasks.ratings_refresh()["status"] == "ok"
    latest = rating_snapshots.snapshot_latest(scope=f"variant:{v.slug}", period="7d")
    assert latest is not None and latest.seats == 3
    assert RatingsRun.objects.get(pk=1).running_since is None


def test_a_kind_of_player_keeps_its_key():
    v = factories.variant()
    some_races(v, n=1)
    keys = {r.player for r in rating_snapshots.seat_rows()}
    assert "model-solver" in keys
    assert rating_snapshots.guest_key("sess-ann") in keys
    assert Seat.objects.filter(session_key="sess-ann").exists()


def test_the_ratings_do_not_depend_on_the_order_the_matches_are_read_in():
    v = factories.variant()
    some_races(v, n=4)
    rows = rating_snapshots.seat_rows()
    forward = rating_snapshots.compute(rows, rounds=10)
    backward = rating_snapshots.compute(rows[::-1], rounds=10)
    assert [p["key"] for p in forward["players"]] == [p["key"] for p in backward["players"]]
    for a, b in zip(forward["players"], backward["players"], strict=True):
        assert a["ability"] == pytest.approx(b["ability"], abs=2e-3)


def test_old_snapshots_are_pruned_but_the_overall_history_is_kept(settings):
    settings.ARENA_RATINGS_ROUNDS = 5
    v = factories.variant()
    some_races(v, n=1)
    start = timezone.now()
    for hour in range(5):
        rating_snapshots.ratings_refresh(now=start + dt.timedelta(hours=hour))
    assert RatingSnapshot.objects.filter(scope="all", period="all").count() == 5
    assert RatingSnapshot.objects.filter(scope=f"variant:{v.slug}", period="7d").count() == 3
    assert len(rating_snapshots.player_history(key="model-solver")) == 5


def test_a_run_over_its_budget_leaves_the_rest_to_the_next_which_starts_with_them(settings):
    settings.ARENA_RATINGS_BUDGET_S = 0  # stop after the first fit
    v = factories.variant()
    some_races(v, n=1)
    start = timezone.now()
    first = rating_snapshots.ratings_refresh(now=start)
    assert first == {**first, "status": "partial", "snapshots": 1, "left_for_next_run": 8}
    assert list(RatingSnapshot.objects.values_list("scope", "period")) == [("all", "all")]
    assert rating_snapshots.refresh_due(now=start + dt.timedelta(seconds=1))  # go on at once
    rating_snapshots.ratings_refresh(now=start + dt.timedelta(minutes=1))
    # the next run fits one never fitted before rather than the overall one again
    assert RatingSnapshot.objects.count() == 2
    assert RatingSnapshot.objects.filter(scope="all", period="all").count() == 1

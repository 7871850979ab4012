"""The daily puzzle: one instance per variant and day for everyone, unranked; afterwards each
player sees how the others did on it, never before."""

import datetime as dt

import pytest
from django.test import Client

from games.models import Match, ModelContestant, Seat
from games.play import daily, selectors, services
from games.play.visibility import Viewer
from tests import factories
from tests.workers.helpers import builtin, contestant

pytestmark = pytest.mark.django_db


def test_the_seed_is_the_same_for_everyone_on_a_day_and_differs_across_days_and_variants():
    a, b = factories.variant(), factories.variant()
    day = dt.date(2026, 12, 1)
    assert daily.daily_seed(variant=a, day=day) == daily.daily_seed(variant=a, day=day)
    assert daily.daily_seed(variant=a, day=day) != daily.daily_seed(variant=a, day=day + dt.timedelta(days=1))
    assert daily.daily_seed(variant=a, day=day) != daily.daily_seed(variant=b, day=day)


def test_two_people_get_the_same_instance_and_a_second_visit_returns_to_ones_own_match():
    variant = factories.variant()
    ann, bob = Client(), Client()
    first = ann.post(f"/daily/{variant.slug}/")
    second = bob.post(f"/daily/{variant.slug}/")
    matches = list(Match.objects.filter(seats__kind=Seat.Kind.HUMAN).order_by("pk"))
    assert len(matches) == 2 and matches[0].instance_id == matches[1].instance_id
    assert all(m.daily == daily.daily_day() for m in matches)
    assert not any(m.ranked for m in matches)
    assert first.url == f"/matches/{matches[0].pk}/" and second.url == f"/matches/{matches[1].pk}/"
    again = ann.post(f"/daily/{variant.slug}/")
    assert again.url == first.url and Match.objects.filter(seats__kind=Seat.Kind.HUMAN).count() == 2


def test_the_comparison_shows_after_the_end_and_counts_only_finished_matches():
    variant = factories.variant()
    seed = daily.daily_seed(variant=variant, day=daily.daily_day())
    done, seat = services.race_create(variant=variant, opponents=[], seed=seed, human_handle="Ann")
    services.match_start(match=done)
    services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="t")
    services.step_submit(seat=seat, action={"type": "guess", "rule": "z < x + y"}, idempotency_key="g")
    running, _ = services.race_create(variant=variant, opponents=[], seed=seed, human_handle="Cy")
    services.match_start(match=running)
    mine, me = services.race_create(variant=variant, opponents=[], seed=seed, human_handle="Bob")
    services.match_start(match=mine)

    state = selectors.match_public_state(match=mine, viewer=Viewer(seat_id=me.pk))
    assert state["same_puzzle"] is None  # nothing before the end
    services.step_submit(seat=me, action={"type": "guess", "rule": "x < y"}, idempotency_key="g")
    mine.refresh_from_db()
    state = selectors.match_public_state(match=mine, viewer=Viewer(seat_id=me.pk))
    assert state["same_puzzle"] == [
        {"who": "People", "played": 1, "solved": 1, "mean_tests_when_solved": 1.0}
    ]


def test_the_first_visitor_of_the_day_sets_the_daily_models_playing_once():
    variant = factories.variant()
    builtin("infogain")
    builtin("random-tester")
    paid = contestant(slug="paid", plays_daily=True)
    contestant(slug="not-daily")  # registered, not marked: it does not play
    contestant(slug="off", plays_daily=True, enabled=False)
    Client().post(f"/daily/{variant.slug}/")
    Client().post(f"/daily/{variant.slug}/")
    day = daily.daily_day()
    models = daily.daily_models_match(variant=variant, day=day)
    assert models is not None and Match.objects.filter(daily=day).count() == 3  # two people, one models' race
    assert models.status == Match.Status.RUNNING and not models.ranked
    assert sorted(models.seats.values_list("contestant", flat=True)) == sorted(
        ["infogain", "random-tester", paid.slug]
    )
    person = Match.objects.filter(seats__kind=Seat.Kind.HUMAN).first()
    assert models.instance_id == person.instance_id
    assert daily.daily_models_ensure(variant=variant, day=day) == models


def test_no_free_contestant_no_models_and_the_person_still_plays():
    variant = factories.variant()
    ModelContestant.objects.all().delete()
    response = Client().post(f"/daily/{variant.slug}/")
    assert response.status_code == 302
    assert daily.daily_models_match(variant=variant, day=daily.daily_day()) is None


def finish_daily(variant, *, day, session_key="", user=None, solve=True):
    match, seat = services.race_create(
        variant=variant,
        opponents=[],
        seed=daily.daily_seed(variant=variant, day=day),
        human_handle="P",
        session_key=session_key,
        user=user,
        ranked=False,
        daily=day,
    )
    services.match_start(match=match)
    rule = "z < x + y" if solve else "x < y"
    services.step_submit(seat=seat, action={"type": "guess", "rule": rule})
    return match, seat


def test_a_streak_counts_days_in_a_row_for_a_guest_and_for_an_account():
    from django.contrib.auth.models import User

    variant = factories.variant()
    today = dt.date(2026, 12, 10)
    for back in (0, 1, 2, 4):  # today, yesterday, the day before, then a gap
        finish_daily(variant, day=today - dt.timedelta(days=back), session_key="guest")
    assert selectors.daily_streak(user_id=None, session_key="guest", today=today) == 3
    # tomorrow, not played yet: still alive; the day after, broken
    assert selectors.daily_streak(user_id=None, session_key="guest", today=today + dt.timedelta(days=1)) == 3
    assert selectors.daily_streak(user_id=None, session_key="guest", today=today + dt.timedelta(days=2)) == 0
    assert selectors.daily_streak(user_id=None, session_key="someone else", today=today) == 0
    ada = User.objects.create_user("ada", password="x")
    finish_daily(variant, day=today - dt.timedelta(days=1), user=ada, solve=False)  # a miss still counts
    match, seat = finish_daily(variant, day=today, user=ada)
    assert selectors.daily_streak(user_id=ada.pk, session_key="", today=today) == 2
    match.refresh_from_db()
    state = selectors.match_public_state(match=match, viewer=Viewer(seat_id=seat.pk))
    assert state["daily"] == {"day": today.isoformat(), "streak": 2}
    assert selectors.match_public_state(match=match, viewer=Viewer())["daily"]["streak"] is None

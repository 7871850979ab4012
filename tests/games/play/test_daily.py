"""The daily puzzle: one instance per variant and day for everyone, unranked; afterwards each
player sees how the others did on it, never before."""

import datetime as dt

import pytest
from django.test import Client

from games.models import Match
from games.play import daily, selectors, services
from games.play.visibility import Viewer
from tests import factories

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
    matches = list(Match.objects.order_by("pk"))
    assert len(matches) == 2 and matches[0].instance_id == matches[1].instance_id
    assert not any(m.ranked for m in matches)
    assert first.url == f"/matches/{matches[0].pk}/" and second.url == f"/matches/{matches[1].pk}/"
    again = ann.post(f"/daily/{variant.slug}/")
    assert again.url == first.url and Match.objects.count() == 2


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

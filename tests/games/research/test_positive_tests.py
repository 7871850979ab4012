"""Positive-test bias on the dashboard, per player kind, from hand-made histories whose measures
are worked out by hand: a person (the write path), a model (the loopback fake model server
returning hypotheses) and an agent (the HTTP API). Hidden rule x + y > z; the puzzle shows the
example (8, 8, 6), which fits."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.test import Client

from games.api.auth import agent_token_create
from games.models import Match, Seat
from games.play import services
from games.research import analytics
from tests import factories
from tests.games.research.test_replay_dashboard_views import embedded, researcher
from tests.workers.fake_model import FakeModelServer, Reply
from tests.workers.helpers import contestant
from tests.workers.test_pipeline import drive

pytestmark = pytest.mark.django_db

RULE = factories.HIDDEN_RULE


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def hypothesis_variant():
    return factories.variant(rule=RULE, hypothesis_mode="optional")


def person_plays() -> Seat:
    variant = hypothesis_variant()
    assert variant.hypothesis_mode == "optional"
    match = services.match_create(variant=variant, seed=1)
    seat = services.seat_join(match=match, handle="Ann", session_key=factories.session_key())
    services.match_start(match=match)
    assert match.instance.public["examples"] == [{"input": [8, 8, 6], "result": True}]
    for inp, hypothesis in (
        ([1, 2, 3], "x > 0"),  # says fits: positive; refuted (1 + 2 > 3 is false)
        ([2, 2, 1], "x > 0"),  # positive; confirmed, but test 1 had refuted it already
        ([1, 1, 5], "x + y > z"),  # says does not fit: negative; confirmed; equivalent
    ):
        services.step_submit(seat=seat, action={"type": "test", "input": inp, "hypothesis": hypothesis})
    services.step_submit(seat=seat, action={"type": "guess", "rule": RULE})
    return seat


def model_plays() -> Seat:
    fake = FakeModelServer().start()
    try:
        fake.script(
            Reply(
                content='{"action": "test", "input": [1, 2, 3], "hypothesis": "z < 7"}'
            ),  # positive, refuted
            Reply(
                content='{"action": "test", "input": [0, 0, 9], "hypothesis": "z < y"}'
            ),  # negative, confirmed
            Reply(content='{"action": "guess", "rule": "z < y"}'),
        )
        model = contestant(fake, slug="fake-hypo")
        match, _ = services.race_create(variant=hypothesis_variant(), opponents=[model.slug], seed=1)
        (seat,) = match.seats.all()
        drive(seat)
    finally:
        fake.stop()
    return seat


def agent_plays() -> Seat:
    _, key = agent_token_create(name="agent-hypo")
    http = Client(headers={"Authorization": f"Bearer {key}"})

    def post(path, body):
        response = http.post(path, data=json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 201), response.content
        return response.json()

    seat = post("/api/v1/matches", {"variant": hypothesis_variant().slug, "seed": 1})["seat"]
    post(f"/api/v1/seats/{seat}/actions", {"type": "test", "input": [3, 3, 3], "hypothesis": "x + y > z"})
    post(f"/api/v1/seats/{seat}/actions", {"type": "guess", "rule": RULE})
    return Seat.objects.get(pk=seat)


def test_positive_test_share_per_player_kind() -> None:
    seats = [person_plays(), model_plays(), agent_plays()]
    assert {s.match.status for s in Seat.objects.filter(pk__in=[s.pk for s in seats])} == {
        Match.Status.FINISHED
    }
    rows = analytics.plot_rows(plot="positive-tests", measures=analytics.dashboard_measures())
    picked = {
        r["player"]: (
            r["player_kind"],
            r["positive_tests"],
            r["negative_tests"],
            r["positive_share"],
            r["confirmed_share"],
            r["refuted_kept_share"],
            r["mean_first_equivalent_test"],
        )
        for r in rows
    }
    assert picked == {
        "humans": ("human", 2, 1, 0.6667, 0.6667, 0.3333, 3),
        "fake-hypo": ("model", 1, 1, 0.5, 0.5, 0.0, None),
        "agents": ("agent", 1, 0, 1.0, 1.0, 0.0, 1),
    }
    assert [r["player"] for r in rows] == ["humans", "fake-hypo", "agents"]


def test_the_replay_shows_each_tests_hypothesis_and_its_measures() -> None:
    seat = person_plays()
    replay = analytics.match_replay(match=Match.objects.get(pk=seat.match_id))
    steps = replay["seats"][0]["steps"]
    second = steps[1]["hypothesis"]
    assert second["text"] == "x > 0" and second["positive"] is True
    assert second["confirmed"] is True and second["already_refuted"] is True
    assert steps[2]["hypothesis"]["equivalent"] is True and "hypothesis" not in steps[3]
    assert replay["seats"][0]["hypotheses"]["first_equivalent_seq"] == 3


def test_the_dashboard_shows_positive_test_share_per_player_kind_with_its_data(client) -> None:
    person_plays()
    agent_plays()
    researcher(client)
    response = client.get("/research/")
    html = response.content.decode()
    assert '<canvas id="chart-positive-tests"' in html and "Positive-test bias" in html
    plotted = embedded(response, "dashboard-data")["positive-tests"]
    assert [(r["player_kind"], r["positive_share"]) for r in plotted] == [("human", 0.6667), ("agent", 1.0)]
    table = list(
        csv.DictReader(io.StringIO(client.get("/research/data/positive-tests.csv").content.decode()))
    )
    assert [(r["player"], r["positive_share"]) for r in table] == [("humans", "0.6667"), ("agents", "1.0")]

"""An agent plays ARC tasks through the HTTP API, reading only what the API shows: the grid
schemas in the observation, a probe, a wrong answer that leaves an attempt, the right grid; and
an imported task whose tests reveal held-back demonstration pairs."""

from __future__ import annotations

import jsonschema
import pytest

from games.engine import get_family
from games.play import services
from tests.games.api.test_api import assert_error, new_api

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-arc-tests"}
    }
    settings.ARENA_API_RATE_PER_MIN = 600
    from django.core.cache import cache

    cache.clear()


def test_an_agent_probes_misses_once_and_answers_a_procedural_task_over_the_api():
    variant = services.variant_create(
        slug="arc-api",
        family="arc",
        title="Grids",
        params={"rule": "rotate(180) | recolour(1>3)", "size": 5, "attempts": 2, "max_tests": 2},
        published=True,
    )
    api, _ = new_api()
    created = api.create(variant)
    assert created.status_code == 201, created.content
    body = created.json()
    seat, obs = body["seat"], body["observation"]
    shown = obs["presentation"]
    assert shown["guess_widget"]["kind"] == "grid" and shown["widget"]["kind"] == "grid"
    assert obs["attempts_left"] == 2 and obs["guesses"] == []
    test_input = obs["public"]["test_input"]

    refused = api.act(seat, {"type": "test", "input": test_input})
    assert_error(refused, 400, "may not be the test input")
    probe = [[1, 0], [0, 2]]
    jsonschema.validate(probe, shown["input_schema"])
    tested = api.act(seat, {"type": "test", "input": probe})
    assert tested.status_code == 200 and tested.json()["result"] == [[2, 0], [0, 3]], tested.content

    bad = api.act(seat, {"type": "guess", "rule": [[1, 2], [3]]})
    assert_error(bad, 400, "every row must have 2 cells")
    wrong = api.act(seat, {"type": "guess", "rule": test_input})
    assert wrong.status_code == 200, wrong.content
    assert wrong.json()["correct"] is False and wrong.json()["finished"] is False
    assert wrong.json()["attempts_left"] == 1 and wrong.json()["hidden_answer"] is None  # nothing given away
    # the agent works the answer out from what it saw
    rotated = [row[::-1] for row in test_input[::-1]]
    answer = [[3 if c == 1 else c for c in row] for row in rotated]
    jsonschema.validate(answer, shown["guess_schema"])
    right = api.act(seat, {"type": "guess", "rule": answer})
    assert right.status_code == 200 and right.json()["correct"] is True and right.json()["finished"] is True
    for before_the_end in api.bodies[:-1]:
        assert "rotate(180)" not in before_the_end
    state = api.get(f"/api/v1/matches/{body['match']}").json()
    assert state["status"] == "finished" and state["reveal"]["rule"] == "rotate(180) | recolour(1>3)"
    [mine] = state["reveal"]["seats"]
    assert [a["verdict"]["correct"] for a in mine["attempts"]] == [False, True]


def test_an_agent_reveals_held_back_pairs_of_an_imported_task():
    variant = services.variant_create(
        slug="arc-api-imported",
        family="arc",
        title="One ARC task",
        params={"source": "training", "task": "007bbfb7", "examples": 2, "max_tests": 2, "attempts": 2},
        published=True,
    )
    api, _ = new_api()
    body = api.create(variant).json()
    seat, obs = body["seat"], body["observation"]
    public = obs["public"]
    assert obs["presentation"]["widget"] == {
        "kind": "reveal",
        "label": "demonstration pair",
        "first": 3,
        "last": 5,
    }
    assert "007bbfb7" not in str(obs)  # the task id would let an agent look the answer up
    assert_error(api.act(seat, {"type": "test", "input": public["pairs"] + 1}), 400, "its number, 1 to 5")
    revealed = api.act(seat, {"type": "test", "input": 3})
    assert revealed.status_code == 200, revealed.content
    task = get_family("arc").extras["training_tasks"]()["007bbfb7"]
    assert revealed.json()["result"] == task["train"][2]
    assert revealed.json()["observation"]["tests_left"] == 1

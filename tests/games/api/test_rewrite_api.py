"""An agent plays the ``rewrite`` family (string inputs, string answers) through the HTTP API to
the reveal: nothing in the API knows the family; the presentation says how to write a test."""

from __future__ import annotations

import pytest

from games.play import services
from tests.games.api.test_api import new_api, private_cache  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

RULE = "ab -> ba; c -> a"


def test_an_agent_plays_a_rewrite_cascade_to_the_reveal():
    variant = services.variant_create(
        slug="test-rewrite-api",
        family="rewrite",
        title="Test rewrite",
        params={"tier": 1, "rule": RULE, "max_tests": 10},
        published=True,
    )
    api, _ = new_api()
    created = api.create(variant)
    assert created.status_code == 201, created.content
    seat_id = created.json()["seat"]
    obs = created.json()["observation"]
    assert obs["public"]["family"] == "rewrite" and obs["public"]["alphabet"] == "abc"
    assert obs["presentation"]["input_schema"]["type"] == "string"
    assert obs["presentation"]["widget"]["kind"] == "string"
    assert "non-overlapping" in obs["description"]

    first = api.act(seat_id, {"type": "test", "input": "abc"})
    assert first.status_code == 200, first.content
    assert first.json()["result"] == "baa"
    bad = api.act(seat_id, {"type": "test", "input": "abz"})
    assert bad.status_code == 400 and "'z' is not one of them" in bad.json()["error"]
    bad_rule = api.act(seat_id, {"type": "guess", "rule": "ab => ba"})
    assert bad_rule.status_code == 400 and "left -> right" in bad_rule.json()["error"]

    wrong_first = api.act(seat_id, {"type": "test", "input": "cab"})
    assert wrong_first.json()["result"] == "aba"
    for body in api.bodies:
        assert RULE not in body and "ab -> ba" not in body

    guess = api.act(seat_id, {"type": "guess", "rule": "ab -> ba\nc -> a"})
    assert guess.status_code == 200, guess.content
    assert guess.json()["correct"] is True and guess.json()["finished"] is True

    state = api.get(f"/api/v1/matches/{created.json()['match']}").json()
    assert state["status"] == "finished" and state["reveal"]["rule"] == RULE
    [mine] = state["seats"]
    assert [s["kind"] for s in mine["steps"]] == ["test", "test", "guess"]
    assert mine["steps"][0]["input"] == "abc" and mine["steps"][0]["result"] == "baa"


def test_a_wrong_cascade_gets_the_shortest_differing_string():
    variant = services.variant_create(
        slug="test-rewrite-api-2",
        family="rewrite",
        title="Test rewrite",
        params={"tier": 1, "rule": RULE},
        published=True,
    )
    api, _ = new_api()
    seat_id = api.create(variant).json()["seat"]
    body = api.act(seat_id, {"type": "guess", "rule": "c -> a; ab -> ba"}).json()
    # the order matters: on "cb" the hidden cascade gives "ab", the guess "ba"
    assert body["correct"] is False
    assert (body["counterexample"], body["hidden_answer"], body["guess_answer"]) == ("cb", "ab", "ba")

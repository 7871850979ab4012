"""An agent plays the ``blackbox`` family (list programs; answers are lists and integers) through
the HTTP API to the reveal, with nothing family-specific outside the engine."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import Match, PuzzleVariant
from games.play import services
from tests.games.api.test_api import new_api, private_cache  # noqa: F401  (the autouse fixture)

pytestmark = pytest.mark.django_db

FAMILY = get_family("blackbox")


def level_1() -> PuzzleVariant:
    services.variants_sync()  # the family's shipped variants (created after every migrate)
    return PuzzleVariant.objects.get(slug="blackbox-level-1")


def test_an_agent_plays_a_blackbox_program_to_the_reveal():
    api, _ = new_api()
    created = api.create(level_1())
    assert created.status_code == 201, created.content
    body = created.json()
    seat_id, match_id = body["seat"], body["match"]
    obs = body["observation"]
    assert obs["public"]["family"] == "blackbox"
    assert obs["presentation"]["widget"]["kind"] == "integer_list"
    assert obs["presentation"]["answer_schema"]["oneOf"]
    assert "hidden program" in obs["description"]
    hidden = Match.objects.get(pk=match_id).instance.hidden["rule"]

    # the agent is the engine's own search solver, driven over HTTP: it sees what any agent sees
    solver = FAMILY.make_solver("search", obs["public"], 7)
    history: list[dict] = []
    empty = api.act(seat_id, {"type": "test", "input": []})  # the empty list is a test too
    assert empty.status_code == 200, empty.content
    history.append({"input": [], "result": empty.json()["result"]})
    typed = api.act(seat_id, {"type": "test", "input": "3, -1, 2"})  # as typed in the widget
    assert typed.status_code == 200
    assert typed.json()["observation"]["history"][-1]["input"] == [3, -1, 2]
    history.append({"input": [3, -1, 2], "result": typed.json()["result"]})
    for step in history:
        assert step["result"] == FAMILY.extras["evaluate"](hidden, step["input"])
    while True:
        action = solver.act(history, obs["tests_left"] - len(history))
        if action["type"] == "guess":
            break
        reply = api.act(seat_id, {"type": "test", "input": action["input"]})
        assert reply.status_code == 200, reply.content
        history.append({"input": action["input"], "result": reply.json()["result"]})
    bad = api.act(seat_id, {"type": "guess", "rule": "map(y, xs)"})
    assert bad.status_code == 400 and bad.json()["column"] == 5  # a syntax error does not end the game
    for before_the_end in api.bodies:
        assert hidden not in before_the_end

    guess = api.act(seat_id, {"type": "guess", "rule": action["rule"]})
    assert guess.status_code == 200
    verdict = guess.json()
    assert verdict["finished"] is True and verdict["correct"] is True, verdict
    assert verdict["score"]["tests_used"] == len(history)

    state = api.get(f"/api/v1/matches/{match_id}").json()
    assert state["status"] == "finished" and state["reveal"]["rule"] == hidden
    [mine] = state["seats"]
    assert mine["steps"][-1]["kind"] == "guess" and mine["steps"][-1]["verdict"]["correct"] is True


def test_a_wrong_program_gets_the_simplest_list_that_tells_them_apart():
    api, _ = new_api()
    body = api.create(level_1()).json()
    seat_id = body["seat"]
    verdict = api.act(seat_id, {"type": "guess", "rule": "reverse(sort(xs))"}).json()
    if verdict["correct"]:  # pragma: no cover - the seed's program is not this one
        pytest.skip("the hidden program is reverse(sort(xs))")
    cex = verdict["counterexample"]
    assert isinstance(cex, list) and verdict["hidden_answer"] != verdict["guess_answer"]
    assert verdict["guess_answer"] == sorted(cex, reverse=True)

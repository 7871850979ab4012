"""An agent plays ``alchemy`` over the HTTP API to the end of its budget, reading only what the API
shows: the pick_pair widget's options and its own history tell it which elements it knows; an
element it does not know and a guess are refused without using a test; the test that spends the
budget ends the seat with its score."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.play import services
from tests.games.api.test_api import new_api

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "api-alchemy-tests",
        }
    }
    settings.ARENA_API_RATE_PER_MIN = 600
    from django.core.cache import cache

    cache.clear()


def test_an_agent_explores_over_the_api_until_its_budget_is_spent():
    family = get_family("alchemy")
    variant = services.variant_create(
        slug="test-alchemy-api",
        family="alchemy",
        title="Recipes",
        params={"elements": 14, "depth": 3, "max_tests": 8},
        published=True,
    )
    api, _ = new_api()
    created = api.create(variant)
    assert created.status_code == 201, created.content
    body = created.json()
    seat, obs = body["seat"], body["observation"]
    shown = obs["presentation"]
    assert shown["widget"]["kind"] == "pick_pair" and shown["guess_widget"] == {"kind": "none"}
    assert shown["widget"]["options"] == obs["public"]["start"]

    start = obs["public"]["start"]
    unknown = api.act(seat, {"type": "test", "input": [start[0], "nonexistent"]})
    assert unknown.status_code == 400 and "only combine elements you know" in unknown.content.decode()
    guess = api.act(seat, {"type": "guess", "rule": "a + b = c"})
    assert guess.status_code == 400 and "no rule to state" in guess.content.decode()

    agent = family.make_solver("empowerment", obs["public"], seed=0)  # sees only the observation
    reply: dict = {}
    while not reply.get("finished"):
        action = agent.act(obs["history"], obs["tests_left"])
        response = api.act(seat, action)
        assert response.status_code == 200, response.content
        reply = response.json()
        obs = reply["observation"]
    assert len(obs["history"]) == 8 and obs["tests_left"] == 0
    assert reply["match_status"] == "finished" and reply["score"]["tests_used"] == 8
    assert reply["score"]["discovered"] == len({h["result"] for h in obs["history"] if h["result"]})
    after = api.act(seat, action)
    assert after.status_code in (400, 409) and "ended" in after.content.decode()
    state = api.get(f"/api/v1/matches/{body['match']}").json()
    hidden = state["reveal"]["rule"]
    for before_the_end in api.bodies[:-2]:
        assert hidden not in before_the_end

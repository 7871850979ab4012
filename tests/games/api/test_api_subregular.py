"""An agent plays the ``subregular`` family (string tests, string answers, local-rule guesses)
through the HTTP API to the reveal, reading only what the API shows it."""

from __future__ import annotations

import itertools

import pytest

from games.engine import get_family
from games.engine.families.subregular import TabulationSolver
from games.play import services
from tests.games.api.test_api import assert_error, new_api

pytestmark = pytest.mark.django_db

_slugs = itertools.count(1)
PARAMS = {"k": 2, "alphabet": 3, "rules": 2, "mode": "ISL", "max_tests": 30}


def subregular_variant():
    return services.variant_create(
        slug=f"test-subregular-{next(_slugs)}",
        family="subregular",
        title="Local rewrites",
        params=PARAMS,
        published=True,
    )


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-sr-tests"}
    }
    settings.ARENA_API_RATE_PER_MIN = 600
    from django.core.cache import cache

    cache.clear()


def test_an_agent_tabulates_the_windows_over_the_api_and_reaches_the_reveal():
    api, _ = new_api()
    family = get_family("subregular")
    hidden = family.generate(1, family.validate_params(PARAMS)).hidden["rule"]  # seed 1, as api.create uses
    created = api.create(subregular_variant())
    assert created.status_code == 201
    body = created.json()
    seat, obs = body["seat"], body["observation"]
    assert obs["presentation"]["input_schema"]["type"] == "string"
    assert obs["presentation"]["widget"]["kind"] == "string"
    assert "strictly-local with window 2" in obs["description"]

    agent = TabulationSolver(obs["public"], seed=0)  # an agent that sees only the observation
    history = obs["history"]
    while True:
        action = agent.act(history, obs["tests_left"])
        if action["type"] == "guess":
            break
        response = api.act(seat, action)
        assert response.status_code == 200, response.content
        assert isinstance(response.json()["result"], str) and len(response.json()["result"]) == len(
            action["input"]
        )
        obs = response.json()["observation"]
        history = obs["history"]
    assert 1 <= len(history) < 30

    guess = api.act(seat, {"type": "guess", "rule": action["rule"]})
    assert guess.status_code == 200
    assert guess.json()["correct"] is True and guess.json()["finished"] is True
    assert guess.json()["score"]["solved"] is True
    for before_the_end in api.bodies[:-1]:
        assert hidden not in before_the_end

    state = api.get(f"/api/v1/matches/{body['match']}").json()
    assert state["status"] == "finished" and state["reveal"]["rule"] == hidden


def test_a_wrong_guess_gets_the_simplest_string_where_the_outputs_differ():
    api, _ = new_api()
    family = get_family("subregular")
    hidden = family.extras["parse"](family.generate(1, family.validate_params(PARAMS)).hidden["rule"])
    seat = api.create(subregular_variant()).json()["seat"]
    body = api.act(seat, {"type": "guess", "rule": "c:c -> a"}).json()
    assert body["correct"] is False and body["finished"] is True
    word = body["counterexample"]
    guess = family.extras["parse"]("c:c -> a")
    assert body["hidden_answer"] == hidden.apply(word) != body["guess_answer"] == guess.apply(word)


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        ({"type": "test", "input": "abz"}, "'z' is not one of them"),
        ({"type": "test", "input": [1, 2]}, "a test is a string"),
        ({"type": "guess", "rule": "ab:b -> cc"}, "after '->' write one symbol"),
    ],
)
def test_bad_strings_and_rules_are_400_with_the_engine_message(action, fragment):
    api, _ = new_api()
    seat = api.create(subregular_variant()).json()["seat"]
    assert_error(api.act(seat, action), 400, fragment)

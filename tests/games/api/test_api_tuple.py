"""An admin-made 4-variable decimal ``tuple`` variant (created through the service the admin form
uses) played by an agent through the HTTP API to the reveal, reading only what the API shows."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.engine.solvers.elimination import InfoGainSolver
from games.play import services, variants
from tests.games.api.test_api import new_api

pytestmark = pytest.mark.django_db

PARAMS = {
    "variables": "a: decimal 0..2 places 1, b: decimal 0..2 places 1, c: int 0..3, d: decimal -1..1 places 1",
    "rule": "b < c",
    "instructions": "Four readings of a gauge.",
    "max_tests": 30,
}


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-tuple-tests"}
    }
    settings.ARENA_API_RATE_PER_MIN = 600
    from django.core.cache import cache

    cache.clear()


def test_the_admin_check_refuses_a_degenerate_rule_next_to_its_field():
    with pytest.raises(variants.VariantInvalid) as info:
        variants.variant_check(family_id="tuples", params={**PARAMS, "rule": "a >= 0"}, rules=[])
    assert "degenerate" in " ".join(info.value.errors.get("rule", []))


def test_an_agent_plays_an_admin_made_decimal_tuple_over_the_api_to_the_reveal():
    family = get_family("tuples")
    variants.variant_check(family_id="tuples", params=PARAMS, rules=[])  # what the admin form runs at save
    variant = services.variant_create(
        slug="test-tuple-gauge", family="tuples", title="Gauge readings", params=PARAMS, published=True
    )
    api, _ = new_api()
    created = api.create(variant)
    assert created.status_code == 201, created.content
    body = created.json()
    seat, obs = body["seat"], body["observation"]
    shown = obs["presentation"]
    assert [f["name"] for f in shown["widget"]["fields"]] == ["a", "b", "c", "d"]
    assert shown["input_schema"]["minItems"] == 4 and "Four readings of a gauge." in obs["description"]

    refused = api.act(seat, {"type": "test", "input": [0.25, 0, 0, 0]})
    assert refused.status_code == 400 and "too many decimal places" in refused.content.decode()

    space = family.extras["reference_space"](obs["public"]["spec"])
    agent = InfoGainSolver(space, obs["public"]["examples"], seed=0)  # sees only the observation
    history = obs["history"]
    while True:
        action = agent.act(history, obs["tests_left"])
        if action["type"] == "guess":
            break
        response = api.act(seat, action)
        assert response.status_code == 200, response.content
        obs = response.json()["observation"]
        history = obs["history"]
    assert 1 <= len(history) < 30
    guess = api.act(seat, {"type": "guess", "rule": action["rule"]})
    assert guess.status_code == 200 and guess.json()["correct"] is True, guess.content
    for before_the_end in api.bodies[:-1]:
        assert "b < c" not in before_the_end
    state = api.get(f"/api/v1/matches/{body['match']}").json()
    assert state["status"] == "finished" and state["reveal"]["rule"] == "b < c"

"""A model (the loopback fake server) plays ``alchemy`` through the model pipeline: its prompt
offers tests only (no rule to state), a text test ``TEST: a + b`` is read, a guess is refused with
a format reminder that offers no guess either, an element it does not know costs nothing, and the
seat finishes when its budget is spent (refused replies are re-prompted and cost nothing). No family branch in the pipeline."""

from __future__ import annotations

import json

import pytest

from games.models import ModelCall, Seat
from games.play import services
from tests.games.play.test_budget_end import pairs
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant
from tests.workers.test_pipeline import drive

pytestmark = pytest.mark.django_db


def test_a_model_combines_elements_until_its_budget_is_spent(fake) -> None:
    variant = services.variant_create(
        slug="test-alchemy-model",
        family="alchemy",
        title="Recipes",
        params={"elements": 8, "depth": 2, "max_tests": 3},
        published=True,
    )
    model = contestant(fake)
    match, _ = services.race_create(variant=variant, opponents=[model.slug], seed=1)
    making, nothing, made = pairs(match)
    fake.script(
        Reply(content="Let me start.\n" + json.dumps({"action": "test", "input": making})),
        Reply(content='{"action": "guess", "rule": "everything combines"}'),  # refused: no guess here
        Reply(content=f"Now the new one with itself.\nTEST: {made} + {made}"),
        Reply(content='{"action": "test", "input": ["nonexistent", "' + making[0] + '"]}'),  # not known
        Reply(content=json.dumps({"action": "test", "input": nothing})),
    )
    [seat] = match.seats.all()
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.outcome == {"budget_spent": True}
    steps = list(seat.steps.order_by("seq").values_list("kind", "action", "result"))
    assert steps[0] == ("test", {"input": making}, {"result": made})
    assert steps[1][1] == {"input": [made, made]}
    assert steps[2] == ("test", {"input": nothing}, {"result": None})  # after the unknown one's re-prompt
    assert seat.tests_used == 3 and seat.score["discovered"] >= 1

    system = fake.requests[0][1]["messages"][0]["content"]
    assert '"action": "test"' in system and '"action": "guess"' not in system
    assert "no rule to state" in system
    assert match.instance.hidden["rule"] not in json.dumps(fake.requests)  # never reaches the model
    reminder = fake.requests[2][1]["messages"][-1]["content"]
    assert "guess" not in reminder and '"action": "test"' in reminder
    errors = list(ModelCall.objects.filter(seat=seat).order_by("id").values_list("parse_error", flat=True))
    assert "no rule to state" in errors[1] and "only combine elements you know" in errors[3]

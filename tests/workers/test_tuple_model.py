"""A model (the loopback fake server) plays an admin-made 4-variable decimal ``tuples`` variant
through the model pipeline: its prompt shows the declared variables, a decimal test is answered
exactly, and a right guess solves it. No family branch in the pipeline."""

from __future__ import annotations

import pytest

from games.models import Seat
from games.play import services, variants
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant
from tests.workers.test_pipeline import drive

pytestmark = pytest.mark.django_db

PARAMS = {
    "variables": "a: decimal 0..2 places 1, b: decimal 0..2 places 1, c: int 0..3, d: decimal -1..1 places 1",
    "rule": "a + b == c + d",
    "instructions": "Four readings of a gauge.",
    "max_tests": 10,
}


def test_a_model_plays_an_admin_made_decimal_tuple_to_a_correct_guess(fake) -> None:
    fake.script(
        Reply(content='Let me check a sum.\n{"action": "test", "input": [0.1, 0.2, 0, 0.3]}'),
        Reply(content='{"action": "guess", "rule": "a + b == c + d"}'),
    )
    variants.variant_check(family_id="tuples", params=PARAMS, rules=[])  # what the admin form runs
    variant = services.variant_create(
        slug="test-tuple-model", family="tuples", title="Gauge readings", params=PARAMS, published=True
    )
    model = contestant(fake)
    match, _ = services.race_create(variant=variant, opponents=[model.slug], seed=1)
    [seat] = match.seats.all()
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    steps = list(seat.steps.order_by("seq").values_list("kind", "action", "result"))
    # exact decimals: 0.1 + 0.2 == 0 + 0.3 fits the rule
    assert steps[0] == ("test", {"input": [0.1, 0.2, 0, 0.3]}, {"result": True})
    first_prompt = "\n".join(m["content"] for m in fake.requests[0][1]["messages"])
    assert "Four readings of a gauge." in first_prompt
    assert all(name in first_prompt for name in ("a", "b", "c", "d"))
    assert PARAMS["rule"] not in first_prompt  # the hidden rule never reaches the model

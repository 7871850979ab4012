"""A model (the loopback fake server) plays the ``rewrite`` family through the model pipeline:
string tests as JSON or a last ``TEST:`` line, string answers in the feedback, no family branch."""

from __future__ import annotations

import pytest

from games.models import Seat
from games.play import services
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant
from tests.workers.test_pipeline import drive

pytestmark = pytest.mark.django_db

RULE = "ab -> ba; c -> a"


def test_a_model_plays_a_rewrite_cascade_to_a_correct_guess(fake) -> None:
    fake.script(
        Reply(content='Try this.\n{"action": "test", "input": "abc"}'),
        Reply(content='{"action": "guess", "rule": "ab -> ba; c -> a"}'),
    )
    variant = services.variant_create(
        slug="test-rewrite-model",
        family="rewrite",
        title="Test rewrite",
        params={"tier": 1, "rule": RULE, "max_tests": 10},
        published=True,
    )
    model = contestant(fake)
    match, _ = services.race_create(variant=variant, opponents=[model.slug], seed=1)
    [seat] = match.seats.all()
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    steps = list(seat.steps.order_by("seq").values_list("kind", "action", "result"))
    assert steps[0] == ("test", {"input": "abc"}, {"result": "baa"})
    first_prompt = fake.requests[0][1]["messages"]
    text = "\n".join(m["content"] for m in first_prompt)
    assert "non-overlapping" in text and '{"action": "test", "input": "abca"}' in text
    assert RULE not in text
    # the second request carries the answer as a string
    second = fake.requests[1][1]["messages"]
    assert '"baa"' in second[-1]["content"] and '"abc"' in second[-1]["content"]

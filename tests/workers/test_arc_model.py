"""A model (the loopback fake server) plays an ``arc`` task through the model pipeline: grids
reach it as rows of digits, it probes with a JSON grid, a wrong answer costs an attempt and is
told so, and a right JSON grid solves it. Nothing in the pipeline names the family."""

from __future__ import annotations

import json

import pytest

from games.models import Seat
from games.play import services
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant
from tests.workers.test_pipeline import drive

pytestmark = pytest.mark.django_db


def test_a_model_probes_misses_once_and_answers_with_a_json_grid(fake) -> None:
    variant = services.variant_create(
        slug="arc-model",
        family="arc",
        title="Grids",
        params={"rule": "reflect(v)", "size": 5, "attempts": 2, "max_tests": 2},
        published=True,
    )
    model = contestant(fake)
    match, _ = services.race_create(variant=variant, opponents=[model.slug], seed=2)
    [seat] = match.seats.all()
    public, answer = match.instance.public, match.instance.hidden["answer"]
    probe = [[1, 2, 0], [0, 0, 3]]
    fake.script(
        Reply(content='A probe first.\n{"action": "test", "input": ' + json.dumps(probe) + "}"),
        Reply(content='{"action": "guess", "rule": ' + json.dumps(public["test_input"]) + "}"),
        Reply(
            content='Flipped top to bottom:\n```json\n{"action": "guess", "rule": '
            + json.dumps(answer)
            + "}\n```"
        ),
    )
    drive(seat)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    kinds = list(seat.steps.order_by("seq").values_list("kind", flat=True))
    assert kinds == ["test", "guess", "guess"]
    assert seat.steps.get(seq=1).result == {"result": [[0, 0, 3], [1, 2, 0]]}

    first = "\n".join(m["content"] for m in fake.requests[0][1]["messages"])
    rows = "\n".join("".join(str(c) for c in row) for row in public["test_input"])
    assert rows in first  # grids as rows of digits
    assert '"rule": [[0, 1], [2, 0]]' in first  # the answer format asks for a JSON grid
    assert "reflect" not in first  # the hidden program never reaches the model
    third = fake.requests[2][1]["messages"]
    assert "That answer is not right. Guesses left: 1." in third[-1]["content"]

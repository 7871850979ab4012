"""Models state their hypotheses: the prompt asks (only when the match does), the reply's
"hypothesis" next to a test is stored with the step, a missing one where required gets the format
re-prompt, and the built-in solvers state the rule they would guess."""

from __future__ import annotations

import pytest

from games.models import ModelCall, Seat
from games.play import services
from tests import factories
from tests.workers.fake_model import Reply
from tests.workers.helpers import builtin, contestant
from tests.workers.test_pipeline import drive
from workers import parsing

pytestmark = pytest.mark.django_db

GUESS_RIGHT = '{"action": "guess", "rule": "z < x + y"}'


def race(*contestants, mode="optional", fmt="rule", max_tests=30):
    variant = factories.variant(max_tests=max_tests, hypothesis_mode=mode, hypothesis_format=fmt)
    match, _ = services.race_create(variant=variant, opponents=[c.slug for c in contestants], seed=1)
    return match, list(match.seats.order_by("id"))


def reply_testing(inp, hypothesis):
    return Reply(content=f'Testing.\n{{"action": "test", "input": {inp}, "hypothesis": "{hypothesis}"}}')


def test_the_reply_carries_the_hypothesis_and_the_step_stores_it(fake) -> None:
    fake.script(
        reply_testing("[1, 2, 3]", "x < y < z"),
        reply_testing("[3, 2, 1]", "x > y"),
        Reply(content=GUESS_RIGHT),
    )
    _, (seat,) = race(contestant(fake))
    drive(seat)
    assert seat.status == Seat.Status.FINISHED
    stored = [(s.kind, s.hypothesis and s.hypothesis["text"]) for s in seat.steps.order_by("seq")]
    assert stored == [("test", "x < y < z"), ("test", "x > y"), ("guess", None)]
    system = fake.requests[0][1]["messages"][0]["content"]
    assert "state your current hypothesis" in system and '"hypothesis": "<your current hypothesis>"' in system
    assert "You may leave it out" in system
    calls = list(ModelCall.objects.filter(seat=seat).order_by("id"))
    assert {c.parser_version for c in calls} == {parsing.PARSER_VERSION}
    assert calls[0].parsed_action == {"type": "test", "input": [1, 2, 3], "hypothesis": "x < y < z"}


def test_the_prompt_does_not_ask_when_the_match_does_not(fake) -> None:
    fake.script(reply_testing("[1, 2, 3]", "x < y"), Reply(content=GUESS_RIGHT))
    _, (seat,) = race(contestant(fake), mode="off")
    drive(seat)
    assert "hypothesis" not in fake.requests[0][1]["messages"][0]["content"]
    # a volunteered hypothesis is not read, so it cannot cost the model its turn
    assert [s.hypothesis for s in seat.steps.order_by("seq")] == [None, None]


def test_a_missing_required_hypothesis_gets_the_reprompt(fake) -> None:
    fake.script(
        Reply(content='{"action": "test", "input": [1, 2, 3]}'),
        reply_testing("[1, 2, 3]", "x + y > z"),
        Reply(content=GUESS_RIGHT),
    )
    _, (seat,) = race(contestant(fake), mode="required")
    drive(seat)
    first, again = ModelCall.objects.filter(seat=seat, turn=1).order_by("id")
    assert "asks for your current hypothesis" in first.parse_error and again.purpose == "reprompt"
    assert "asks for your current hypothesis" in fake.requests[1][1]["messages"][-1]["content"]
    assert seat.steps.get(seq=1).hypothesis["canonical"] == "x + y > z"


def test_free_text_is_asked_in_own_words(fake) -> None:
    fake.script(reply_testing("[2, 4, 6]", "goes up by two"), Reply(content=GUESS_RIGHT))
    _, (seat,) = race(contestant(fake), mode="required", fmt="text")
    drive(seat)
    assert "in your own words" in fake.requests[0][1]["messages"][0]["content"]
    assert seat.steps.get(seq=1).hypothesis == {"text": "goes up by two", "format": "text"}


def test_a_builtin_solver_states_the_rule_it_would_guess() -> None:
    _, (seat,) = race(builtin("infogain"), mode="required_parseable", max_tests=6)
    drive(seat)
    tests = [s for s in seat.steps.order_by("seq") if s.kind == "test"]
    assert tests and all(s.hypothesis and s.hypothesis["parsed"] for s in tests)

"""The pipeline against the real local model: llama.cpp's server serving SmolLM2-135M (the
optional extra ``.[local]``; skipped where it is not installed). Structured replies: every reply is
JSON in the family's move shape, a seat plays to its end, and a guess keeps to its family's
pattern."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.workers.local_server import LocalServer, require_llama_cpp

require_llama_cpp()

from arena import localmodel  # noqa: E402
from games.engine.core import get_family  # noqa: E402
from games.models import ModelCall, Seat, Step  # noqa: E402
from tests.workers.helpers import model_race  # noqa: E402
from tests.workers.test_pipeline import drive  # noqa: E402
from workers import prompts, schemas  # noqa: E402

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory) -> Iterator[str]:
    server = LocalServer(tmp_path_factory.mktemp("llama")).start()
    yield server.url
    server.stop()


def test_the_local_contestant_plays_a_seat_to_its_end_with_structured_replies(local_server) -> None:
    contestant, created = localmodel.ensure_contestant(local_server)
    assert created and contestant.reply_mode == "json_object" and contestant.prompt_version == 2
    _, (seat,) = model_race(contestant, max_tests=4)
    drive(seat, max_turns=12)
    assert seat.is_done, seat.status
    calls = list(ModelCall.objects.filter(seat=seat).order_by("id"))
    assert calls and all(c.error_class == "" for c in calls), [
        (c.error_class, c.error_message) for c in calls
    ]
    assert {c.reply_mode for c in calls} == {"json_object"}
    for call in calls:  # constrained decoding: every reply is one JSON move, whatever its content
        move = json.loads(call.raw_response)
        assert move["action"] in ("test", "guess"), move
        assert call.tokens_in > 0 and call.tokens_out > 0 and call.finish_reason
    steps = list(seat.steps.order_by("seq"))
    assert any(s.kind == Step.Kind.TEST for s in steps)
    assert seat.status in (Seat.Status.FINISHED, Seat.Status.FORFEITED)
    # the seat always has a last word: a guess once the tests ran out (the schema allows nothing else)
    assert steps[-1].kind in (Step.Kind.GUESS, Step.Kind.FORFEIT)


def test_ensure_contestant_points_an_existing_one_at_a_new_port(local_server) -> None:
    contestant, _ = localmodel.ensure_contestant("http://127.0.0.1:1/v1")
    contestant.max_calls = 77  # an operator's change
    contestant.save()
    again, created = localmodel.ensure_contestant(local_server)
    assert not created and again.pk == contestant.pk
    again.refresh_from_db()
    assert again.base_url == local_server and again.max_calls == 77


# A pattern bounds a rule's length only loosely (eleusis admits thousands of characters) and a
# small model sometimes rambles to the token cap, which cuts the JSON: the test asks again.
GUESS_TOKENS, GUESS_ATTEMPTS = 400, 4


@pytest.mark.parametrize("family_id", ["wason", "eleusis", "tuples", "rewrite", "subregular", "blackbox"])
def test_the_server_holds_a_guess_to_the_familys_pattern(local_server, family_id) -> None:
    """llama.cpp turns a schema its converter or grammar parser cannot read into unconstrained
    JSON without a word: a guess asked of the real server under the guess-only schema must match
    the family's pattern and parse, whatever the model makes of the prompt."""
    family = get_family(family_id)
    instance = family.generate(0, family.validate_params(family.variants[0].params))
    shown = family.shown_for(instance.public)
    messages = prompts.build_messages(family, instance.public, [], 0, prompts.COMPACT)
    body = {
        "model": localmodel.MODEL_ALIAS,
        "messages": messages,
        "max_tokens": GUESS_TOKENS,
        "response_format": {"type": "json_object", "schema": schemas.action_schema(shown, tests_left=0)},
    }
    cut = []
    for _ in range(GUESS_ATTEMPTS):
        choice = httpx.post(f"{local_server}/chat/completions", json=body, timeout=300).json()["choices"][0]
        if choice["finish_reason"] == "stop":
            break
        cut.append(choice["message"]["content"])
    else:
        pytest.fail(f"every reply ran to the token cap: {cut}")
    move = json.loads(choice["message"]["content"])
    assert move["action"] == "guess" and re.fullmatch(shown.guess_pattern, move["rule"]), move
    assert family.check_rule(move["rule"])["ok"], move


def test_the_server_holds_a_test_to_the_elements_this_seat_knows(local_server) -> None:
    """A per-seat test schema (``Family.test_schema``) reaches the real server as an enumeration
    it enforces: after one discovery the reply combines two of the elements the seat knows, which
    ``check_test`` accepts, never the placeholder it once copied."""
    family = get_family("alchemy")
    instance = family.generate(0, family.validate_params(family.variants[0].params))
    public = instance.public
    start = public["start"]
    making = next([a, b] for a in start for b in start if family.answer(instance, [a, b]))
    history = [{"input": making, "result": family.answer(instance, making)}]
    schema = schemas.action_schema(
        family.shown_for(public), tests_left=3, input_schema=family.input_schema_for(public, history)
    )
    body = {
        "model": localmodel.MODEL_ALIAS,
        "messages": prompts.build_messages(family, public, [], 3, prompts.COMPACT),
        "max_tokens": 80,
        "response_format": {"type": "json_object", "schema": schema},
    }
    choice = httpx.post(f"{local_server}/chat/completions", json=body, timeout=300).json()["choices"][0]
    assert choice["finish_reason"] == "stop", choice
    move = json.loads(choice["message"]["content"])
    query = family.parse_query(public, move["input"])
    assert move["action"] == "test" and set(move["input"]) <= {*start, history[0]["result"]}, move
    family.check_test(public, history, query)

"""Structured replies and request options: the schema of a move built from the family's
declarations, what the loopback fake model receives in each reply mode, and options refused at
save when the endpoint would never get them."""

from __future__ import annotations

import dataclasses
import json
import random
import re

import jsonschema
import pytest
from django.core.exceptions import ValidationError

from games.engine.core import QueryError, get_family
from games.models import ModelCall, ModelContestant, Seat
from games.play import services
from tests.games.play.test_budget_end import pairs
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant, model_race
from tests.workers.test_pipeline import GUESS_RIGHT, TEST, drive
from tests.workers.test_probe import ADD, contestant_form, errors
from tests.workers.test_probe import staff as staff  # noqa: F401 - the fixture
from workers import schemas

pytestmark = pytest.mark.django_db

OPTIONS = {"max_tokens": 64, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1}


def test_eleusis_cards_are_enumerations_and_the_guess_is_a_well_formed_rule() -> None:
    shown = get_family("eleusis").shown
    schema = schemas.action_schema(shown, tests_left=5)
    test, guess = schema["anyOf"]
    ranks, suits = test["properties"]["input"]["prefixItems"][:2]
    assert ranks["enum"] == list(range(1, 14)) and suits["enum"] == [0, 1, 2, 3]
    assert test["properties"]["action"]["enum"] == ["test"] and test["additionalProperties"] is False
    assert guess["properties"]["rule"]["pattern"] == shown.guess_pattern
    assert guess["required"] == ["action", "rule"]
    assert schemas.tool_schema(shown, tests_left=5)["properties"]["rule"]["pattern"] == shown.guess_pattern


def test_a_guess_with_no_declared_pattern_is_capped_text() -> None:
    shown = dataclasses.replace(get_family("blackbox").shown, guess_pattern="")
    guess = schemas.action_schema(shown, tests_left=5)["anyOf"][1]
    assert guess["properties"]["rule"]["maxLength"] == schemas.MAX_STRUCTURED_TEXT
    assert "pattern" not in guess["properties"]["rule"]


def test_with_no_tests_left_only_a_guess_fits_and_a_quiz_is_required() -> None:
    shown = get_family("wason").shown
    schema = schemas.action_schema(shown, tests_left=0, quiz_count=3)
    assert "anyOf" not in schema and schema["properties"]["action"]["enum"] == ["guess"]
    assert schema["properties"]["quiz"]["minItems"] == 3 and "quiz" in schema["required"]
    tool = schemas.tool_schema(shown, tests_left=0)
    assert tool["type"] == "object" and "input" not in tool["properties"]


def test_json_schema_mode_sends_response_format_and_every_request_option(fake) -> None:
    fake.script(Reply(content=TEST), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake, reply_mode="json_schema", request_options=OPTIONS))
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    body = fake.requests[0][1]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "move"
    test, guess = fmt["json_schema"]["schema"]["anyOf"]
    assert test["properties"]["input"]["minItems"] == 3 and guess["properties"]["action"]["enum"] == ["guess"]
    for key, value in OPTIONS.items():
        assert body[key] == value, key
    assert (
        list(ModelCall.objects.filter(seat=seat).values_list("reply_mode", flat=True)) == ["json_schema"] * 2
    )


def test_json_object_mode_is_llama_cpp_shaped_and_text_mode_sends_no_format(fake) -> None:
    fake.script(Reply(content=GUESS_RIGHT), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake, reply_mode="json_object"))
    drive(seat)
    fmt = fake.requests[0][1]["response_format"]
    assert fmt["type"] == "json_object" and "anyOf" in fmt["schema"]
    _, (plain,) = model_race(contestant(fake))
    drive(plain)
    assert "response_format" not in fake.requests[1][1]
    assert ModelCall.objects.get(seat=plain).reply_mode == "text"


def test_anthropic_tool_mode_forces_the_move_tool_and_plays_its_input(fake) -> None:
    fake.script(
        Reply(tool_input={"action": "test", "input": [1, 2, 3]}),
        Reply(content="Done.", tool_input={"action": "guess", "rule": "z < x + y"}),
    )
    _, (seat,) = model_race(
        contestant(fake, backend="anthropic", reply_mode="tool", request_options={"top_k": 5})
    )
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    path, body = fake.requests[0]
    assert path.endswith("/messages") and body["tool_choice"] == {"type": "tool", "name": "move"}
    assert body["tools"][0]["input_schema"]["properties"]["action"]["enum"] == ["test", "guess"]
    assert body["top_k"] == 5
    steps = list(seat.steps.order_by("seq").values_list("kind", flat=True))
    assert steps == ["test", "guess"]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"request_options": {"top_kk": 40}}, "request_options", "unknown request option 'top_kk'"),
        ({"request_options": {"min_p": "low"}}, "request_options", "'min_p' must be"),
        ({"request_options": {"response_format": {}}}, "request_options", "set by the arena"),
        ({"reply_mode": "tool"}, "reply_mode", "cannot ask for 'tool'"),
        ({"prompt_version": 9}, "prompt_version", "unknown prompt version 9"),
    ],
)
def test_a_bad_request_setting_is_refused_at_save(fields, field, says) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelContestant(slug="bad", name="Bad", backend="openai", model="m", **fields).save()
    assert any(says in m for m in caught.value.message_dict[field]), caught.value.message_dict
    assert not ModelContestant.objects.filter(slug="bad").exists()


def test_the_admin_form_refuses_an_unknown_option_next_to_its_field_and_saves_a_good_one(
    client,
    staff,  # noqa: F811 - the fixture
) -> None:
    response = client.post(ADD, contestant_form(request_options='{"max_tokens": 64, "typo_p": 1}'))
    assert response.status_code == 200
    assert any("unknown request option 'typo_p'" in e for e in errors(response, "request_options"))
    response = client.post(
        ADD,
        contestant_form(request_options=json.dumps(OPTIONS), reply_mode="json_object", prompt_version="2"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = ModelContestant.objects.get(slug="local-llm")
    assert (
        saved.request_options == OPTIONS and saved.reply_mode == "json_object" and saved.prompt_version == 2
    )


def test_a_compact_prompt_contestant_gets_its_history_as_the_state_text(fake) -> None:
    from workers import prompts

    turns = prompts.COMPACT_RAW_TURNS + 2
    fake.script(*[Reply(content=f'{{"action": "test", "input": [{i}, 2, 3]}}') for i in range(turns)])
    fake.script(Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake, prompt_version=2))
    drive(seat)
    assert seat.score["solved"] is True
    early, late = fake.requests[2][1]["messages"], fake.requests[-1][1]["messages"]
    assert [m["role"] for m in early][:4] == ["system", "user", "assistant", "user"]
    assert [m["role"] for m in late] == ["system", "user"]
    assert "Your tests so far:" in late[1]["content"] and f"{turns - 1}, 2, 3" in late[1]["content"]
    # the trace still has every raw reply
    replies = list(ModelCall.objects.filter(seat=seat).order_by("id").values_list("raw_response", flat=True))
    assert len(replies) == turns + 1 and replies[0] == '{"action": "test", "input": [0, 2, 3]}'


def test_each_turns_schema_holds_the_tests_this_seat_may_run_and_grows_with_a_discovery(fake) -> None:
    """A family whose testable inputs grow with the seat's own history (``test_schema``) gets a
    schema of this turn's: the elements the seat knows, each an enumeration, so a constrained
    reply can neither copy the placeholder nor name an element it has not made."""
    variant = services.variant_create(
        slug="test-structured-recipes",
        family="alchemy",
        title="Recipes",
        params={"elements": 8, "depth": 2, "max_tests": 3},
        published=True,
    )
    model = contestant(fake, reply_mode="json_object")
    match, _ = services.race_create(variant=variant, opponents=[model.slug], seed=1)
    making, nothing, made = pairs(match)
    fake.script(
        *[Reply(content=json.dumps({"action": "test", "input": q})) for q in (making, [made, made], nothing)]
    )
    [seat] = match.seats.all()
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.tests_used == 3
    start = match.instance.public["start"]
    enums = [
        body["response_format"]["schema"]["properties"]["input"]["items"]["enum"] for _, body in fake.requests
    ]
    assert enums == [start, [*start, made], [*start, made]]
    unmade = set(match.instance.hidden["depth"]) - {*start, made}
    assert not unmade & set(json.dumps([body["response_format"] for _, body in fake.requests]).split('"'))
    assert (
        list(ModelCall.objects.filter(seat=seat).values_list("reply_mode", flat=True)) == ["json_object"] * 3
    )


@pytest.mark.parametrize("family_id", ["wason", "eleusis", "tuples", "rewrite", "subregular", "blackbox"])
def test_llama_cpps_converter_reads_the_guess_pattern_as_a_grammar(family_id) -> None:
    """The server converts a schema it cannot read into unconstrained JSON without a word
    (``llama_chat_format._grammar_for_json_schema``): the converter itself must take the pattern."""
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar", reason="llama_cpp is not importable")
    family = get_family(family_id)
    shown = family.shown_for(family.generate(0, family.validate_params({})).public)
    grammar = llama_grammar.json_schema_to_gbnf(json.dumps(schemas.action_schema(shown, tests_left=0)))
    (rule,) = [line for line in grammar.splitlines() if line.startswith("rule ::=")]
    # the pattern (a rule's own words: "not", "->" or "xs"), not a free string
    assert "char" not in rule and any(f'"{word}' in rule for word in ("not ", "->", "xs")), rule[:200]


def test_llama_cpps_converter_writes_a_seats_known_elements_as_the_only_test_items() -> None:
    """The per-seat enumeration reaches the grammar as literal alternatives, not a free string
    (the converter silently loosens a schema it cannot read)."""
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar", reason="llama_cpp is not importable")
    family = get_family("alchemy")
    instance = family.generate(0, family.validate_params({}))
    start = instance.public["start"]
    making = next([a, b] for a in start for b in start if family.answer(instance, [a, b]))
    history = [{"input": making, "result": family.answer(instance, making)}]
    for seen in ([], history):
        known = family.extras["known_elements"](instance.public, seen)
        schema = schemas.action_schema(
            family.shown_for(instance.public),
            tests_left=3,
            input_schema=family.input_schema_for(instance.public, seen),
        )
        grammar = llama_grammar.json_schema_to_gbnf(json.dumps(schema))
        (items,) = [line for line in grammar.splitlines() if line.startswith("input-item ::=")]
        assert items == "input-item ::= " + " | ".join(f'"\\"{name}\\""' for name in known), items


@pytest.mark.parametrize("family_id", ["rewrite", "subregular"])
def test_a_string_test_is_held_to_the_puzzles_letters_and_length(family_id) -> None:
    """A decoder under a pattern drops ``maxLength``: the pattern itself bounds the test, so a
    constrained reply cannot write a string the puzzle refuses (a 16-letter test of a 9-letter
    puzzle did, before)."""
    family = get_family(family_id)
    for spec in family.variants:
        public = family.generate(0, family.validate_params(spec.params)).public
        test = schemas.action_schema(family.shown_for(public), tests_left=5)["anyOf"][0]
        matches = re.compile(test["properties"]["input"]["pattern"]).fullmatch
        letters, longest = sorted(set(family.random_input(random.Random(0), public))), public["max_length"]
        for text in (letters[0] * longest, "".join(letters), letters[-1]):
            assert matches(text) and family.parse_query(public, text) == text
        for text in (letters[0] * (longest + 1), "z", ""):
            assert not matches(text)


def test_a_blackbox_test_is_held_to_the_instances_own_values_and_length() -> None:
    """The presentation's -20..20 and eight items are the widest any variant allows: a structured
    reply is held to this puzzle's, so it cannot write a list the puzzle refuses (a small model sent
    -12 to a -9..9 puzzle, before)."""
    family = get_family("blackbox")
    for spec in family.variants:
        public = family.generate(0, family.validate_params(spec.params)).public
        r, n = public["value_range"], public["max_length"]
        test = schemas.action_schema(family.shown_for(public), tests_left=5)["anyOf"][0]
        listed = test["properties"]["input"]
        assert listed["items"]["enum"] == list(range(-r, r + 1)) and listed["maxItems"] == n
        assert family.shown_for(public).widget["max_length"] == n
        assert family.parse_query(public, [-r] * n) == [-r] * n
        assert family.parse_query(public, [r, 0, -r][:n]) == [r, 0, -r][:n]
        for refused in ([r + 1], [-r - 1], [0] * (n + 1)):
            with pytest.raises(QueryError):
                family.parse_query(public, refused)


def test_an_arc_grid_in_a_structured_reply_is_rectangular() -> None:
    """JSON Schema cannot say "every row as long as the first": the grid is written as one
    alternative per width, so a ragged grid fits none (and a rectangular one exactly one)."""
    family = get_family("arc")
    public = family.generate(0, family.validate_params({})).public
    shown = family.shown_for(public)
    for schema in (
        schemas.action_schema(shown, tests_left=0)["properties"]["rule"],
        schemas.tool_schema(shown, tests_left=0)["properties"]["rule"],
    ):
        assert [w["items"]["minItems"] for w in schema["anyOf"]] == list(range(1, 31))
        assert all(w["items"]["maxItems"] == w["items"]["minItems"] for w in schema["anyOf"])
        assert "x-rectangular" not in json.dumps(schema)
        fits = jsonschema.Draft202012Validator(schema).is_valid
        assert fits([[1, 2, 3], [0, 0, 9]]) and fits([[5]])
        assert not fits([[1, 2, 3], [0, 0]]) and not fits([[1], [2, 3]]) and not fits([[10]])
        check = family.check_rule([[1, 2, 3], [0, 0]])
        assert check["ok"] is False  # the engine refuses what the schema now keeps out
    # the presentation an agent or a browser reads keeps the plain grid, with the mark
    assert shown.guess_schema["x-rectangular"] is True and "anyOf" not in shown.guess_schema

"""Reading actions out of model replies: tolerant of prose, strict about the action."""

from __future__ import annotations

import pytest

from workers.parsing import ParseError, parse_action


@pytest.mark.parametrize(
    ("reply", "action"),
    [
        ('{"action": "test", "input": [2, 4, 6]}', {"type": "test", "input": [2, 4, 6]}),
        (
            'Let me think.\nMaybe increasing?\n{"action": "test", "input": [1, 2, 3]}',
            {"type": "test", "input": [1, 2, 3]},
        ),
        ('```json\n{"action": "guess", "rule": "x < y < z"}\n```', {"type": "guess", "rule": "x < y < z"}),
        (
            'Example: {"action": "test", "input": [0, 0, 0]}. Final:\n{"action": "guess", "rule": "x < y"}',
            {"type": "guess", "rule": "x < y"},
        ),
        ('{"Type": "TEST", "Input": "1, 2.5, 3"}', {"type": "test", "input": [1, 2.5, 3]}),
        ('{"rule": "`x % 2 == 0`"}', {"type": "guess", "rule": "x % 2 == 0"}),
        ("I will test now.\nTEST: 3, 5, 7", {"type": "test", "input": [3, 5, 7]}),
        ("**GUESS**: x + y == z", {"type": "guess", "rule": "x + y == z"}),
        ('{"action": {"type": "test", "input": [9, 8, 7]}}', {"type": "test", "input": [9, 8, 7]}),
    ],
)
def test_accepts_prose_fences_and_variants(reply: str, action: dict) -> None:
    assert parse_action(reply) == action


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "empty"),
        ("I think the rule is about numbers.", "no action found"),
        ('{"action": "test", "input": [1, 2', "cut off"),
        ('{"action": "jump"}', "unknown action 'jump'"),
        ('{"action": "guess"}', 'a guess needs "rule"'),
        ('{"action": "test"}', 'a test needs "input"'),
        ('{"action": "test", "input": 5}', '"input" must be a list'),
        ('{"foo": 1}', 'no "action"'),
    ],
)
def test_rejects_with_a_clear_reason(reply: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_action(reply)
    assert message in info.value.message


def test_values_are_left_for_the_engine_to_judge() -> None:
    assert parse_action('{"action": "test", "input": "1, two, 3"}') == {
        "type": "test",
        "input": [1, "two", 3],
    }


def test_quiz_answers_ride_with_the_guess() -> None:
    reply = '{"action": "guess", "rule": "x < y", "quiz": [true, "no", false, "yes"]}'
    assert parse_action(reply) == {"type": "guess", "rule": "x < y", "quiz": [True, False, False, True]}
    with pytest.raises(ParseError, match="true or false"):
        parse_action('{"action": "guess", "rule": "x < y", "quiz": [1.5]}')


def test_a_family_with_string_inputs_gets_the_text_as_written() -> None:
    schema = {"type": "string"}
    assert parse_action('{"action": "test", "input": "1, 2, 3"}', input_schema=schema) == {
        "type": "test",
        "input": "1, 2, 3",
    }
    assert parse_action("Let me try.\nTEST: abba", input_schema=schema) == {"type": "test", "input": "abba"}
    # any other input schema: text is read as numbers, as before
    assert parse_action("TEST: 3, 5, 7", input_schema={"type": "array"}) == {
        "type": "test",
        "input": [3, 5, 7],
    }


def test_a_tests_hypothesis_is_read_only_when_asked_for() -> None:
    reply = 'Thinking.\n{"action": "test", "input": [1, 2, 3], "hypothesis": " `x < y` "}'
    assert parse_action(reply, hypothesis=True) == {"type": "test", "input": [1, 2, 3], "hypothesis": "x < y"}
    assert parse_action(reply) == {"type": "test", "input": [1, 2, 3]}
    lines = "I think it grows.\nHYPOTHESIS: x < y < z\nTEST: 1, 2, 3"
    assert parse_action(lines, hypothesis=True)["hypothesis"] == "x < y < z"


def test_a_hypothesis_on_its_own_is_not_an_action() -> None:
    # Parser version 1 read this reply as a guess (ending the game); version 2 reads the test.
    reply = '{"action": "test", "input": [1, 2, 3]}\nMy current idea: {"hypothesis": "x < y"}'
    assert parse_action(reply) == {"type": "test", "input": [1, 2, 3]}
    with pytest.raises(ParseError, match="no action found"):
        parse_action('{"hypothesis": "x < y"}')


def test_a_hypothesis_that_is_not_text_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match='"hypothesis" must be text'):
        parse_action('{"action": "test", "input": [1, 2, 3], "hypothesis": 5}', hypothesis=True)

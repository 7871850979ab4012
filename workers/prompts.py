"""Prompt building for model players (pure: no I/O, no Django).

One template per prompt version, the same for every family. The family supplies
its own instructions (``describe``), state text (``render_observation``) and,
through its declared presentation, the answer format, how inputs and answers
are written and the examples of the format reminder, so a model reads the same
information a person sees on the match page, and nothing else: prompts are
built from the public info and the seat's own history only.

A conversation is a list of chat messages ``{"role": ..., "content": ...}``:
the system message (instructions + answer format), the first user message
(the starting state), then one assistant message per earlier model reply and
one user message per result, as in multi-turn research harnesses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from games.engine.core import Family, get_family

CURRENT_VERSION = 1
# Version 2, compact, for small models and small context windows: no example rule a model can
# copy as its guess (the family's syntax help stays), one line of answer format instead of "think
# as much as you like", short feedback after a forfeited turn, and once the chat has more than
# ``COMPACT_RAW_TURNS`` exchanges the history is the state text (every test and its answer, the
# tests left) in one message instead of the raw exchanges; the raw replies stay in the trace.
COMPACT = 2
VERSIONS = (1, COMPACT)
COMPACT_RAW_TURNS = 4
COMPACT_REASON_CHARS = 70

# Every family-specific word comes from the family's declarations (``Family.presentation``): its
# answer format, a valid test and a syntax example for the reminder, how inputs and answers are
# written. Nothing here names a family.
_GENERIC_EXAMPLES = ("...", "...")
FORMAT_REMINDER = (
    "I could not read an action from your reply ({error}). Reply again and end with exactly one JSON "
    'object such as {{"action": "test", "input": {test}}} or {{"action": "guess", "rule": "{rule}"}}.'
)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what the model replied and what came back."""

    reply: str
    feedback: str


def system_prompt(
    family: Family, public: Mapping[str, Any], version: int = CURRENT_VERSION, quiz_items: Sequence[Any] = ()
) -> str:
    if version not in VERSIONS:
        raise ValueError(f"unknown prompt version {version}; known: {', '.join(map(str, VERSIONS))}")
    shown = family.shown_for(public)
    if version == COMPACT:
        return _compact_system_prompt(family, public, quiz_items)
    text = f"{family.describe(public)}\n\n{shown.answer_format()}"
    if quiz_items:
        listed = "; ".join(shown.format_input(item) for item in quiz_items)
        text += (
            "\n\nApplication quiz: when you state the rule, also predict for each of these inputs whether it "
            f"fits the hidden rule: {listed}. Add them to your guess as a list of true/false in the same "
            'order, e.g. {"action": "guess", "rule": "<rule>", "quiz": [true, false, ...]}.'
        )
    return text


def first_user_prompt(family: Family, public: Mapping[str, Any], tests_left: int) -> str:
    return f"{family.render_observation(public, [], tests_left)}\nWhat is your first move?"


def feedback_text(
    action: Mapping[str, Any],
    result: Any,
    tests_left: int,
    family: Family | None = None,
    version: int = CURRENT_VERSION,
) -> str:
    """What the player is told after a test, in the words a person would see."""
    if version == COMPACT and action.get("type") == "forfeit":
        return (
            f"Turn forfeited ({_short(str(result))}). Tests left: {tests_left}. Reply with one JSON object."
        )
    if action.get("type") == "test":
        if family is not None:
            shown = family.shown.format_input(action.get("input"))
            verdict = family.shown.format_answer(result)
        else:  # no family at hand: a tuple and a yes/no answer, or the plain JSON
            value = action.get("input")
            shown = (
                "(" + ", ".join(_num(v) for v in value) + ")"
                if isinstance(value, list)
                else json.dumps(value)
            )
            if isinstance(result, bool):
                verdict = "fits the rule (True)" if result else "does not fit the rule (False)"
            else:
                verdict = f"-> {json.dumps(result)}"
        return f"{shown} {verdict}. Tests left: {tests_left}. Your next move?"
    if action.get("type") == "forfeit":
        return f"That turn was forfeited: {result}. Tests left: {tests_left}. Your next move?"
    return f"Result: {json.dumps(result)}. Tests left: {tests_left}. Your next move?"


def build_messages(
    family: Family,
    public: Mapping[str, Any],
    turns: Sequence[Turn],
    tests_left_at_start: int,
    version: int = CURRENT_VERSION,
    quiz_items: Sequence[Any] = (),
    history: Sequence[Mapping[str, Any]] = (),
    tests_left: int | None = None,
) -> list[dict[str, str]]:
    """The chat so far. ``history`` (each test's input and result) and ``tests_left`` are read by
    the compact version only, to write a long history as the state text."""
    if version == COMPACT and len(turns) > COMPACT_RAW_TURNS:
        left = tests_left if tests_left is not None else tests_left_at_start - len(turns)
        forfeited = len(turns) - len(history)
        state = family.render_observation(public, list(history), left)
        if forfeited > 0:
            state += f"\nTurns forfeited so far: {forfeited}."
        return [
            {"role": "system", "content": system_prompt(family, public, version, quiz_items)},
            {"role": "user", "content": f"{state}\nYour next move?"},
        ]
    messages = [
        {"role": "system", "content": system_prompt(family, public, version, quiz_items)},
        {"role": "user", "content": first_user_prompt(family, public, tests_left_at_start)},
    ]
    for turn in turns:
        messages.append({"role": "assistant", "content": turn.reply})
        messages.append({"role": "user", "content": turn.feedback})
    return messages


def reprompt_messages(
    messages: Sequence[Mapping[str, str]],
    bad_reply: str,
    error: str,
    family_id: str | None = None,
    version: int = CURRENT_VERSION,
    public: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    if version == COMPACT:
        placeholder = "[...]"
        if family_id is not None:
            placeholder = get_family(family_id).shown_for(public).input_placeholder
        reminder = (
            f"Could not read a move ({_short(error)}). Reply with only one JSON object: "
            f'{{"action": "test", "input": {placeholder}}} or {{"action": "guess", "rule": "<your rule>"}}.'
        )
        return [
            *[dict(m) for m in messages],
            {"role": "assistant", "content": bad_reply},
            {"role": "user", "content": reminder},
        ]
    test, rule = _GENERIC_EXAMPLES
    if family_id is not None:
        shown = get_family(family_id).shown
        test, rule = json.dumps(shown.input_example), shown.rule_example
    return [
        *[dict(m) for m in messages],
        {"role": "assistant", "content": bad_reply},
        {"role": "user", "content": FORMAT_REMINDER.format(error=error, test=test, rule=rule)},
    ]


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else repr(v)


# "for example: <rule>" up to the end of its line, in any family's description (v2 drops it).
_RULE_EXAMPLE_CLAUSE = re.compile(r"[,.]?\s*\b(?:for example|e\.g\.):.*$", re.IGNORECASE | re.MULTILINE)


def _compact_system_prompt(family: Family, public: Mapping[str, Any], quiz_items: Sequence[Any]) -> str:
    shown = family.shown_for(public)
    lines = []
    for line in family.describe(public).splitlines():
        cut = _RULE_EXAMPLE_CLAUSE.sub(".", line).rstrip()
        if cut and cut != ".":
            lines.append(cut)
    text = "\n".join(lines)
    text += (
        "\n\nReply with one JSON object and nothing else:\n"
        f'{{"action": "test", "input": {shown.input_placeholder}}} to test {shown.test_noun}, or\n'
        '{"action": "guess", "rule": "<your rule>"} to state the rule (this ends your game).'
    )
    if quiz_items:
        listed = "; ".join(shown.format_input(item) for item in quiz_items)
        text += (
            f'\nWith your guess, add "quiz": {len(quiz_items)} true/false predictions, in order, of '
            f"whether these inputs fit the hidden rule: {listed}."
        )
    return text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= COMPACT_REASON_CHARS else text[: COMPACT_REASON_CHARS - 1] + "…"

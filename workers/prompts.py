"""Prompt building for model players (pure: no I/O, no Django).

One template per family and version. The family supplies its own instructions
(``describe``) and state text (``render_observation``), so a model reads the
same information a person sees on the match page, and nothing else: prompts
are built from the public info and the seat's own history only.

A conversation is a list of chat messages ``{"role": ..., "content": ...}``:
the system message (instructions + answer format), the first user message
(the starting state), then one assistant message per earlier model reply and
one user message per result, as in multi-turn research harnesses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from games.engine.core import Family

CURRENT_VERSION = 1

_FORMAT = {
    "wason": (
        "Answer format: think as much as you like, then end your reply with exactly one JSON object "
        "on its own line, either\n"
        '  {"action": "test", "input": [x, y, z]}   to test a triple, or\n'
        '  {"action": "guess", "rule": "<rule>"}     to state the rule (this ends your game).\n'
        "Only the last JSON object in your reply counts."
    ),
    "eleusis": (
        "Answer format: think as much as you like, then end your reply with exactly one JSON object "
        "on its own line, either\n"
        '  {"action": "test", "input": [prev_rank, prev_suit, rank, suit]}   to test a pair of cards, or\n'
        '  {"action": "guess", "rule": "<rule>"}     to state the rule (this ends your game).\n'
        "Only the last JSON object in your reply counts."
    ),
}
_GENERIC_FORMAT = (
    "Answer format: end your reply with exactly one JSON object on its own line: "
    '{"action": "test", "input": ...} or {"action": "guess", "rule": "..."}.'
)
# A valid test and a syntax example per family for the format reminder (never a rule the
# generator can produce).
_REMINDER_EXAMPLES = {
    "wason": ("[1, 2, 3]", "min(x, z) > 3 and y != 4"),
    "eleusis": ("[12, 3, 5, 0]", "rank + suit > prev_rank and prev_suit != 2"),
}
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
    if version != 1:
        raise ValueError(f"unknown prompt version {version}; known: 1")
    text = f"{family.describe(public)}\n\n{_FORMAT.get(family.id, _GENERIC_FORMAT)}"
    if quiz_items:
        listed = "; ".join("(" + ", ".join(_num(v) for v in item) + ")" for item in quiz_items)
        text += (
            "\n\nApplication quiz: when you state the rule, also predict for each of these inputs whether it "
            f"fits the hidden rule: {listed}. Add them to your guess as a list of true/false in the same "
            'order, e.g. {"action": "guess", "rule": "<rule>", "quiz": [true, false, ...]}.'
        )
    return text


def first_user_prompt(family: Family, public: Mapping[str, Any], tests_left: int) -> str:
    return f"{family.render_observation(public, [], tests_left)}\nWhat is your first move?"


def feedback_text(
    action: Mapping[str, Any], result: Any, tests_left: int, family: Family | None = None
) -> str:
    """What the player is told after a test, in the words a person would see."""
    if action.get("type") == "test":
        format_query = family.extras.get("format_query") if family is not None else None
        if format_query is not None:
            shown = format_query(action.get("input", []))
        else:
            shown = "(" + ", ".join(_num(v) for v in action.get("input", [])) + ")"
        verdict = "fits the rule (True)" if result is True else "does not fit the rule (False)"
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
) -> list[dict[str, str]]:
    messages = [
        {"role": "system", "content": system_prompt(family, public, version, quiz_items)},
        {"role": "user", "content": first_user_prompt(family, public, tests_left_at_start)},
    ]
    for turn in turns:
        messages.append({"role": "assistant", "content": turn.reply})
        messages.append({"role": "user", "content": turn.feedback})
    return messages


def reprompt_messages(
    messages: Sequence[Mapping[str, str]], bad_reply: str, error: str, family_id: str = "wason"
) -> list[dict[str, str]]:
    test, rule = _REMINDER_EXAMPLES.get(family_id, _REMINDER_EXAMPLES["wason"])
    return [
        *[dict(m) for m in messages],
        {"role": "assistant", "content": bad_reply},
        {"role": "user", "content": FORMAT_REMINDER.format(error=error, test=test, rule=rule)},
    ]


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else repr(v)

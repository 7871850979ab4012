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
    'object such as {{"action": "test", "input": {test}}} or {{"action": "guess", "rule": {rule}}}.'
)
# A family with no guess (guess widget "none"): tests only, until the budget is spent.
FORMAT_REMINDER_NO_GUESS = (
    "I could not read an action from your reply ({error}). Reply again and end with exactly one JSON "
    'object such as {{"action": "test", "input": {test}}}.'
)


@dataclass(frozen=True)
class HypothesisAsk:
    """The match asks for the player's current hypothesis before each test (``Match.hypothesis_mode``
    other than "off"): ``mode`` optional | required | required_parseable, ``format`` rule | text."""

    mode: str
    format: str

    def text(self, shown: Any, example: bool = True) -> str:
        """``example``: show the family's example rule (the compact version has none to parrot)."""
        words = (
            "as a rule in the same language as a guess" + (f" (e.g. {shown.rule_example})" if example else "")
            if self.format == "rule"
            else "in your own words"
        )
        if self.mode == "optional":
            need = "You may leave it out when you have no hypothesis yet."
        elif self.mode == "required_parseable" and self.format == "rule":
            need = "It is required with every test and must be a well-formed rule."
        else:
            need = "It is required with every test."
        return (
            f"Before each test, state your current hypothesis about the hidden rule, {words}: add it to the "
            f'test as "hypothesis", e.g. {{"action": "test", "input": '
            f"{shown.input_placeholder if example else shown.test_placeholder}, "
            f'"hypothesis": "<your current hypothesis>"}}. {need} Stating a hypothesis does not end your '
            "game; only a guess does."
        )


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what the model replied and what came back."""

    reply: str
    feedback: str


def system_prompt(
    family: Family,
    public: Mapping[str, Any],
    version: int = CURRENT_VERSION,
    quiz_items: Sequence[Any] = (),
    hypothesis: HypothesisAsk | None = None,
) -> str:
    if version not in VERSIONS:
        raise ValueError(f"unknown prompt version {version}; known: {', '.join(map(str, VERSIONS))}")
    shown = family.shown_for(public)
    if version == COMPACT:
        return _compact_system_prompt(family, public, quiz_items, hypothesis)
    text = f"{family.describe(public)}\n\n{shown.answer_format()}"
    if hypothesis is not None:
        text += "\n\n" + hypothesis.text(shown)
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
    if action.get("type") == "guess":  # a wrong guess where the puzzle allows several
        left = int(result.get("attempts_left", 0)) if isinstance(result, Mapping) else 0
        return f"That answer is not right. Guesses left: {left}. Tests left: {tests_left}. Your next move?"
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
    hypothesis: HypothesisAsk | None = None,
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
            {"role": "system", "content": system_prompt(family, public, version, quiz_items, hypothesis)},
            {"role": "user", "content": f"{state}\nYour next move?"},
        ]
    messages = [
        {"role": "system", "content": system_prompt(family, public, version, quiz_items, hypothesis)},
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
        placeholder, shown = "[...]", None
        if family_id is not None:
            shown = get_family(family_id).shown_for(public)
            placeholder = shown.test_placeholder
        text = (
            f"Could not read a move ({_short(error)}). Reply with only one JSON object: "
            f'{{"action": "test", "input": {placeholder}}}'
            + (f" or {_compact_guess(shown)}." if shown is None or shown.has_guess else ".")
        )
    else:
        reminder, test, rule = FORMAT_REMINDER, _GENERIC_EXAMPLES[0], json.dumps(_GENERIC_EXAMPLES[1])
        if family_id is not None:
            shown = get_family(family_id).shown
            test, rule = json.dumps(shown.input_example), shown.guess_example_json()
            if not shown.has_guess:
                reminder = FORMAT_REMINDER_NO_GUESS
        text = reminder.format(error=error, test=test, rule=rule)
    return [
        *[dict(m) for m in messages],
        {"role": "assistant", "content": bad_reply},
        {"role": "user", "content": text},
    ]


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else repr(v)


# "for example: <rule>" up to the end of its line, in any family's description (v2 drops it).
_RULE_EXAMPLE_CLAUSE = re.compile(r"[,.]?\s*\b(?:for example|e\.g\.):.*$", re.IGNORECASE | re.MULTILINE)


def _compact_guess(shown: Any) -> str:
    """The guess move in the compact version: a placeholder, never an example a model can parrot."""
    text_guess = shown is None or shown.guess_schema.get("type", "string") == "string"
    value = '"<your rule>"' if text_guess else "<your answer, as JSON>"
    return f'{{"action": "guess", "rule": {value}}}'


def _compact_system_prompt(
    family: Family,
    public: Mapping[str, Any],
    quiz_items: Sequence[Any],
    hypothesis: HypothesisAsk | None = None,
) -> str:
    shown = family.shown_for(public)
    lines = []
    for line in family.describe(public).splitlines():
        cut = _RULE_EXAMPLE_CLAUSE.sub(".", line).rstrip()
        if cut and cut != ".":
            lines.append(cut)
    text = "\n".join(lines)
    text += (
        "\n\nReply with one JSON object and nothing else:\n"
        f'{{"action": "test", "input": {shown.test_placeholder}}} to test {shown.test_noun}'
        + (f", or\n{_compact_guess(shown)} to {shown.guess_noun}." if shown.has_guess else ".")
    )
    if hypothesis is not None:
        text += "\n" + hypothesis.text(shown, example=False)
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

"""Reading an action out of a model's reply (pure).

Tolerant of prose, markdown and code fences around the answer; strict about
the action itself. The last well-formed action in the reply wins, so a model
may think aloud (and even write example JSON) before its final answer.

Accepted shapes, case-insensitive keys:

* ``{"action": "test", "input": [1, 2, 3]}`` (``type`` is a synonym of
  ``action``; ``triple``/``query``/``values`` of ``input``)
* ``{"action": "guess", "rule": "x < y < z"}`` (``answer``/``hypothesis`` of
  ``rule``); where the family's guess is not text, its JSON value (``"rule": [[0, 1], [2, 0]]``)
* a last line ``TEST: 1, 2, 3`` or ``GUESS: x < y < z``
* when the match asks for stated hypotheses (``parse_action(..., hypothesis=True)``), a test may
  carry ``"hypothesis": "<the model's current rule>"`` next to its input (or a line
  ``HYPOTHESIS: ...`` with a ``TEST:`` line); it is returned as the action's ``"hypothesis"``

Numbers and rules are only extracted here; whether they are in range or
well-formed is the engine's business (the services validate every action).
What a test input may be comes from the family's declared input schema: a
family whose input is a string gets the text as written; any other input
written as text ("1, 2.5, 3") is read as a list of numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MAX_REPLY_CHARS = 200_000

# The version of this reader, stored with every model call it reads (ModelCall.parser_version);
# bump it whenever a reply could be read differently, and ``manage.py rescore --parser-version N``
# reports which stored replies the current reader reads differently from version N.
#   1: the first reader.
#   2: stated hypotheses: a test's "hypothesis" (and a HYPOTHESIS: line) is read when the match
#      asks for one; an object holding only "hypothesis" (no action, input or rule) is no longer
#      read as a guess (a model stating its current hypothesis on its own would have ended its game).
PARSER_VERSION = 2


class ParseError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_LINE = re.compile(r"^\s*(?:\*\*)?(test|guess)(?:\*\*)?\s*[:=]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_HYPOTHESIS_LINE = re.compile(
    r"^\s*(?:\*\*)?hypothesis(?:\*\*)?\s*[:=]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE
)
_INPUT_KEYS = ("input", "triple", "query", "values", "test")
_RULE_KEYS = ("rule", "answer", "hypothesis", "guess")


def parse_action(
    text: str,
    input_schema: Mapping[str, Any] | None = None,
    guess_schema: Mapping[str, Any] | None = None,
    *,
    hypothesis: bool = False,
) -> dict[str, Any]:
    """The last action in ``text``. With ``hypothesis`` (the match asks for stated hypotheses), a
    test's ``"hypothesis"`` comes with it; otherwise any hypothesis is left out. ``guess_schema``:
    a family whose guess is not text (an answer such as a grid) gets the guess's JSON value as
    written; text is still passed on for the engine to read."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("the reply was empty")
    text = text[-MAX_REPLY_CHARS:]
    schema = input_schema or {}
    # Text is passed as written to a family whose input is a string or a list of strings (its
    # parse_query reads the text form); any other family's text is read as numbers.
    text_input = schema.get("type") == "string" or (
        schema.get("type") == "array" and (schema.get("items") or {}).get("type") == "string"
    )
    value_guess = (guess_schema or {}).get("type", "string") != "string"
    int_input = schema.get("type") == "integer"
    candidates = _json_objects(text)
    actions = []
    errors = []
    for obj in candidates:
        if _only_hypothesis(obj):  # a stated hypothesis on its own is not an action (version 2)
            continue
        try:
            actions.append(_from_object(obj, text_input, value_guess, int_input, hypothesis))
        except ParseError as exc:
            errors.append(exc.message)
    if actions:
        return actions[-1]
    line_action = _from_lines(text, text_input, hypothesis)
    if line_action is not None:
        return line_action
    if errors:
        raise ParseError(errors[-1])
    if "{" in text and "}" not in text[text.rindex("{") :]:
        raise ParseError("the JSON object at the end of the reply is cut off")
    raise ParseError(
        'no action found; end the reply with {"action": "test", "input": [...]} or '
        '{"action": "guess", "rule": "..."}'
    )


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in the text (fenced blocks and bare braces), in order."""
    found: list[tuple[int, dict[str, Any]]] = []
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            found.append((i, obj))
        i = text.find("{", end)
    return [obj for _, obj in sorted(found, key=lambda t: t[0])]


def _lower_keys(obj: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in obj.items()}


def _only_hypothesis(raw: dict[str, Any]) -> bool:
    keys = set(_lower_keys(raw))
    return "hypothesis" in keys and not keys & {"action", "type", *_INPUT_KEYS, "rule", "answer", "guess"}


def _hypothesis_of(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("hypothesis") is None:
        return {}
    value = obj["hypothesis"]
    if not isinstance(value, str):
        raise ParseError(f'"hypothesis" must be text (your current rule), got {type(value).__name__}')
    return {"hypothesis": _strip_code(value)} if value.strip() else {}


def _from_object(
    raw: dict[str, Any],
    text_input: bool = False,
    value_guess: bool = False,
    int_input: bool = False,
    hypothesis: bool = False,
) -> dict[str, Any]:
    obj = _lower_keys(raw)
    kind = obj.get("action", obj.get("type"))
    if isinstance(kind, dict):  # {"action": {"type": "test", ...}}
        inner = _from_object(kind, text_input, value_guess, int_input, hypothesis)
        if hypothesis and inner["type"] == "test" and "hypothesis" not in inner:
            inner.update(_hypothesis_of(obj))
        return inner
    if not isinstance(kind, str):
        if any(k in obj for k in _RULE_KEYS) and not any(k in obj for k in _INPUT_KEYS):
            kind = "guess"
        elif any(k in obj for k in _INPUT_KEYS):
            kind = "test"
        else:
            raise ParseError('the JSON object has no "action" ("test" or "guess")')
    kind = kind.strip().lower()
    if kind == "test":
        value = next((obj[k] for k in _INPUT_KEYS if k in obj), None)
        if value is None:
            raise ParseError('a test needs "input", e.g. {"action": "test", "input": [1, 2, 3]}')
        stated = _hypothesis_of(obj) if hypothesis else {}
        if isinstance(value, str):
            if text_input:
                return {"type": "test", "input": value, **stated}
            value = _numbers_from_text(value)
        if isinstance(value, dict) or (int_input and isinstance(value, int) and not isinstance(value, bool)):
            return {"type": "test", "input": value, **stated}
        if int_input and isinstance(value, str) and value.strip().isdigit():
            return {"type": "test", "input": int(value.strip()), **stated}
        if not isinstance(value, list):
            raise ParseError(f'"input" must be a list of numbers, got {type(value).__name__}')
        return {"type": "test", "input": value, **stated}
    if kind == "guess":
        rule = next((obj[k] for k in _RULE_KEYS if k in obj), None)
        if value_guess and isinstance(rule, list) and rule:
            return {"type": "guess", "rule": rule}
        if not isinstance(rule, str) or not rule.strip():
            raise ParseError('a guess needs "rule" as text, e.g. {"action": "guess", "rule": "x < y"}')
        out: dict[str, Any] = {"type": "guess", "rule": _strip_code(rule)}
        if "quiz" in obj:
            out["quiz"] = _quiz_answers(obj["quiz"])
        return out
    raise ParseError(f'unknown action {kind!r}; use "test" or "guess"')


_TRUE = {"true", "yes", "y", "t", "1", "fits"}
_FALSE = {"false", "no", "n", "f", "0", "does not fit"}


def _quiz_answers(value: Any) -> list[bool]:
    if not isinstance(value, list):
        raise ParseError('"quiz" must be a list of true/false answers')
    out = []
    for item in value:
        if isinstance(item, bool):
            out.append(item)
        elif isinstance(item, str) and item.strip().lower() in _TRUE | _FALSE:
            out.append(item.strip().lower() in _TRUE)
        else:
            raise ParseError(f'"quiz" answers must be true or false, got {item!r}')
    return out


def _numbers_from_text(value: str) -> list[Any]:
    parts = [p for p in re.split(r"[\s,;()\[\]]+", value) if p]
    out: list[Any] = []
    for p in parts:
        try:
            out.append(int(p))
        except ValueError:
            try:
                out.append(float(p))
            except ValueError:
                out.append(p)  # left for the engine to reject with its own message
    return out


def _strip_code(rule: str) -> str:
    rule = rule.strip()
    if rule.startswith("`") and rule.endswith("`"):
        rule = rule.strip("`").strip()
    return rule


def _from_lines(text: str, text_input: bool = False, hypothesis: bool = False) -> dict[str, Any] | None:
    body = "\n".join(_FENCE.findall(text)) or text
    matches = _LINE.findall(body) or _LINE.findall(text)
    if not matches:
        return None
    kind, rest = matches[-1]
    if kind.lower() == "test":
        action = {"type": "test", "input": _strip_code(rest) if text_input else _numbers_from_text(rest)}
        stated = (_HYPOTHESIS_LINE.findall(body) or _HYPOTHESIS_LINE.findall(text)) if hypothesis else []
        if stated and _strip_code(stated[-1]):
            action["hypothesis"] = _strip_code(stated[-1])
        return action
    return {"type": "guess", "rule": _strip_code(rest)}

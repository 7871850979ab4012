"""The JSON schema of one move, built from the family's declared presentation (pure).

A structured reply (``games.model_options.REPLY_MODES``) is constrained to this schema by the
endpoint. Servers that decode under a grammar (llama.cpp) enforce a value set written as an
``enum`` but not numeric ``minimum``/``maximum``, so every small integer range (a card's rank or
suit) becomes an enumeration here. Strings keep their pattern, and a guess takes the family's
``Presentation.guess_pattern`` (its well-formed rules); a long ``maxLength`` is capped so the
grammar stays small (the engine checks the guess itself, with its own message). A test's input is
the seat's own at this turn when the family narrows it (``Family.input_schema_for``: the tests its
``check_test`` allows, as enumerations), so the schema is built per seat and turn.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from games.engine.core import Presentation
from games.models import HYPOTHESIS_MAX_LENGTH

# An integer range with at most this many values is written as an enumeration.
MAX_ENUM_VALUES = 64
# The longest guess a structured reply may hold (a rule of every family so far is far shorter).
MAX_STRUCTURED_TEXT = 240
# A family's mark on a list of lists whose rows are all one length (a grid of colours).
RECTANGULAR = "x-rectangular"


def constrained(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with small integer ranges as enumerations, long strings capped and a rectangular
    grid written as one alternative per row width."""
    out = copy.deepcopy(dict(schema))
    if out.pop(RECTANGULAR, False):
        return rectangular(out)
    kind = out.get("type")
    if kind == "integer" and "minimum" in out and "maximum" in out:
        low, high = int(out["minimum"]), int(out["maximum"])
        if 0 <= high - low < MAX_ENUM_VALUES:
            out["enum"] = list(range(low, high + 1))
    if kind == "string" and "pattern" not in out:
        out["maxLength"] = min(int(out.get("maxLength", MAX_STRUCTURED_TEXT)), MAX_STRUCTURED_TEXT)
    if "items" in out and isinstance(out["items"], Mapping):
        out["items"] = constrained(out["items"])
    if "prefixItems" in out:
        out["prefixItems"] = [constrained(item) for item in out["prefixItems"]]
    for key in ("oneOf", "anyOf"):
        if key in out:
            out[key] = [constrained(option) for option in out[key]]
    if "properties" in out:
        out["properties"] = {name: constrained(spec) for name, spec in out["properties"].items()}
    return out


def rectangular(grid: dict[str, Any]) -> dict[str, Any]:
    """A list of rows marked ``"x-rectangular"`` (every row as long as the first), which JSON Schema
    cannot say: ``anyOf`` one list of rows per width the rows allow, each row exactly that long, so a
    constrained reply cannot write a ragged grid (a small model wrote ragged grids turn after turn, before)."""
    row = constrained(grid["items"])
    if "maxItems" not in row:
        return constrained(grid)
    low, high = max(1, int(row.get("minItems", 1))), int(row["maxItems"])
    widths = [
        constrained({**grid, "items": {**row, "minItems": w, "maxItems": w}}) for w in range(low, high + 1)
    ]
    return {"anyOf": widths, **({"description": grid["description"]} if "description" in grid else {})}


def rule_schema(shown: Presentation) -> dict[str, Any]:
    """The guess's schema, held to the family's well-formed guesses when it declares them (a
    pattern the grammar enforces, so a constrained reply cannot write a rule that does not parse)."""
    if shown.guess_pattern:
        return constrained({**shown.guess_schema, "pattern": shown.guess_pattern})
    return constrained(shown.guess_schema)


def action_schema(
    shown: Presentation,
    *,
    tests_left: int,
    quiz_count: int = 0,
    hypothesis: bool = False,
    input_schema: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One move: a test (while tests are left) or a guess, with the quiz answers when there is a
    quiz. Written as ``anyOf`` of two closed objects, so neither can borrow the other's keys. A
    family with no guess has only the test; ``hypothesis`` (the match asks for stated hypotheses)
    lets a test carry one. ``input_schema`` is the test input's schema for this seat now
    (``Family.input_schema_for``: a family whose testable inputs grow with the seat's history
    narrows it per turn); without it, the presentation's."""
    guess_properties: dict[str, Any] = {
        "action": {"type": "string", "enum": ["guess"]},
        "rule": rule_schema(shown),
    }
    guess_required = ["action", "rule"]
    if quiz_count:
        guess_properties["quiz"] = {
            "type": "array",
            "items": {"type": "boolean"},
            "minItems": quiz_count,
            "maxItems": quiz_count,
        }
        guess_required.append("quiz")
    guess = {
        "type": "object",
        "properties": guess_properties,
        "required": guess_required,
        "additionalProperties": False,
    }
    if tests_left <= 0 and shown.has_guess:
        return guess
    test_properties: dict[str, Any] = {
        "action": {"type": "string", "enum": ["test"]},
        "input": constrained(shown.input_schema if input_schema is None else input_schema),
    }
    if hypothesis:
        test_properties["hypothesis"] = {"type": "string", "maxLength": HYPOTHESIS_MAX_LENGTH}
    test = {
        "type": "object",
        "properties": test_properties,
        "required": ["action", "input"],
        "additionalProperties": False,
    }
    return {"anyOf": [test, guess]} if shown.has_guess else test


def tool_schema(
    shown: Presentation,
    *,
    tests_left: int,
    quiz_count: int = 0,
    hypothesis: bool = False,
    input_schema: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The same move as one flat object, for tool use (Anthropic asks a tool's input schema to be
    an object at the top): ``action`` says which of ``input`` and ``rule`` counts. ``input_schema``
    as in ``action_schema``."""
    actions = (["test"] if tests_left > 0 or not shown.has_guess else []) + (
        ["guess"] if shown.has_guess else []
    )
    properties: dict[str, Any] = {"action": {"type": "string", "enum": actions}}
    if shown.has_guess:
        properties["rule"] = {
            **rule_schema(shown),
            "description": f"with a guess: {shown.guess_label}",
        }
    if hypothesis:
        properties["hypothesis"] = {
            "type": "string",
            "maxLength": HYPOTHESIS_MAX_LENGTH,
            "description": "with a test: your current hypothesis",
        }
    if "test" in actions:
        properties["input"] = {
            **constrained(shown.input_schema if input_schema is None else input_schema),
            "description": f"with a test: {shown.test_noun}",
        }
    if quiz_count:
        properties["quiz"] = {
            "type": "array",
            "items": {"type": "boolean"},
            "minItems": quiz_count,
            "maxItems": quiz_count,
            "description": "with a guess: the quiz answers, in order",
        }
    return {"type": "object", "properties": properties, "required": ["action"]}

"""The puzzle family contract and the registry.

A family is one module under ``games.engine.families`` that builds a
``Family`` object and registers it with ``register``. Everything here is pure:
no Django, no I/O, no mutable globals besides the registry that modules fill
once at import time.

Shapes that cross the engine boundary are plain JSON-able data:

* ``Instance.public`` is everything a player may see before the match ends.
* ``Instance.hidden`` holds the hidden rule; it is only for the oracle, the
  judge and the reveal.
* a history is a list of ``{"input": <query>, "result": <answer>}`` dicts in
  the order the tests were run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class EngineError(ValueError):
    """A problem a user caused: bad params, a malformed query, a bad rule.

    ``message`` says what was wrong and what is allowed; ``column`` (1-based)
    points into a rule's text when the error is about a rule.
    """

    def __init__(self, message: str, *, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "column": self.column}


class ParamsError(EngineError):
    pass


class QueryError(EngineError):
    pass


class RuleError(EngineError):
    pass


@dataclass(frozen=True)
class Instance:
    """One generated puzzle: reproducible from (family, version, seed, params)."""

    family: str
    version: int
    seed: int
    params: dict[str, Any]
    public: dict[str, Any]
    hidden: dict[str, Any]

    def to_dict(self, *, include_hidden: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "family": self.family,
            "version": self.version,
            "seed": self.seed,
            "params": self.params,
            "public": self.public,
        }
        if include_hidden:
            data["hidden"] = self.hidden
        return data


@dataclass(frozen=True)
class Verdict:
    """The judge's decision on a guess."""

    correct: bool
    counterexample: Any
    hidden_answer: Any  # the hidden rule's answer at the counterexample
    guess_answer: Any  # the guess's answer at the counterexample
    agreement: float  # fraction of the family's agreement domain where both agree
    checked: int  # how many points were compared

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "counterexample": self.counterexample,
            "hidden_answer": self.hidden_answer,
            "guess_answer": self.guess_answer,
            "agreement": self.agreement,
            "checked": self.checked,
        }


class Solver(Protocol):
    """A baseline player. It sees only what a player sees: the public info and
    the history of its own tests. ``act`` returns the next action:
    ``{"type": "test", "input": ...}`` or ``{"type": "guess", "rule": ...}``.
    ``act`` is a pure function of (public, seed, history) so a stateless worker
    can rebuild the solver every turn."""

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]: ...


SolverFactory = Callable[[Mapping[str, Any], int], Solver]


@dataclass(frozen=True)
class Family:
    id: str
    version: int
    title: str
    params_schema: dict[str, Any]
    generate: Callable[[int, Mapping[str, Any]], Instance]
    parse_query: Callable[[Mapping[str, Any], Any], Any]
    answer: Callable[[Instance, Any], Any]
    check_rule: Callable[[str], dict[str, Any]]
    judge: Callable[[Instance, str], Verdict]
    score: Callable[..., dict[str, Any]]
    describe: Callable[[Mapping[str, Any]], str]
    render_observation: Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]], int], str]
    solvers: Mapping[str, SolverFactory]
    step_analytics: Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], list[dict[str, Any]]]
    rule_size: Callable[[str], int]
    extras: Mapping[str, Any] = field(default_factory=dict)
    # The application quiz (optional per family): fresh inputs to predict after the guess,
    # and its scoring against the hidden rule and against the player's own stated rule.
    quiz_items: Callable[[Instance], list[Any]] | None = None
    quiz_score: Callable[[Instance, str | None, Sequence[Any]], dict[str, Any]] | None = None

    def validate_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return validate_params(self.params_schema, params or {})

    def make_solver(self, name: str, public: Mapping[str, Any], seed: int) -> Solver:
        if name not in self.solvers:
            raise EngineError(f"unknown solver {name!r}; available: {', '.join(sorted(self.solvers))}")
        return self.solvers[name](public, seed)

    def describe_schema(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "params_schema": self.params_schema,
            "solvers": sorted(self.solvers),
        }


_REGISTRY: dict[str, Family] = {}


def register(family: Family) -> Family:
    if family.id in _REGISTRY and _REGISTRY[family.id] is not family:
        raise RuntimeError(f"family {family.id!r} registered twice")
    _REGISTRY[family.id] = family
    return family


def get_family(family_id: str) -> Family:
    _load_builtin_families()
    try:
        return _REGISTRY[family_id]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise EngineError(f"unknown family {family_id!r}; known families: {known}") from None


def all_families() -> list[Family]:
    _load_builtin_families()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _load_builtin_families() -> None:
    # Importing the package registers every family module it lists.
    from games.engine import families  # noqa: F401


def seeded_rng(*parts: Any) -> random.Random:
    """A ``random.Random`` seeded from a stable text key, identical across
    processes and platforms (string seeds are hashed with SHA-512)."""
    key = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return random.Random(key)


# -- a small JSON Schema subset, enough for family params -----------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "string": (str,),
}


def validate_params(schema: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and check ``params`` against an object schema with scalar
    properties (type, minimum, maximum, enum). Unknown keys are rejected."""
    if not isinstance(params, Mapping):
        raise ParamsError(f"params must be a JSON object, got {type(params).__name__}")
    props: Mapping[str, Any] = schema.get("properties", {})
    unknown = sorted(set(params) - set(props))
    if unknown:
        raise ParamsError(f"unknown parameter {unknown[0]!r}; allowed: {', '.join(sorted(props))}")
    out: dict[str, Any] = {}
    for name, spec in props.items():
        value = params.get(name, spec.get("default"))
        kind = spec.get("type", "number")
        ok_types = _JSON_TYPES[kind]
        if isinstance(value, bool) and kind != "boolean":
            ok = False
        elif kind == "integer" and isinstance(value, float) and value.is_integer():
            value, ok = int(value), True
        else:
            ok = isinstance(value, ok_types)
        if not ok:
            raise ParamsError(f"parameter {name!r} must be of type {kind}, got {value!r}")
        if "enum" in spec and value not in spec["enum"]:
            raise ParamsError(f"parameter {name!r} must be one of {spec['enum']}, got {value!r}")
        if "minimum" in spec and value < spec["minimum"]:
            raise ParamsError(f"parameter {name!r} must be >= {spec['minimum']}, got {value!r}")
        if "maximum" in spec and value > spec["maximum"]:
            raise ParamsError(f"parameter {name!r} must be <= {spec['maximum']}, got {value!r}")
        out[name] = value
    return out

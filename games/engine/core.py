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
    can rebuild the solver every turn. A solver of a family with several attempts
    (``Family.attempts``) also takes ``guesses``: its earlier wrong guesses, in order."""

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]: ...


SolverFactory = Callable[[Mapping[str, Any], int], Solver]

# The generic input widgets the browser has (static/arena/match.js), each driven by the options a
# family declares; a new family picks one and adds no code outside games/engine.
#   number_tuple  {"fields": [{"name", "label"}]}: one number box per field; value: list of numbers
#   card_pair     {"fields": [4 names: rank, suit, rank, suit], "cards": [label, label],
#                  "ranks": [{"value", "text"}], "suits": [{"value", "symbol", "name", "tone"}]}
#   integer_list  {"label", "max_length"}: one text box "3, 1, 2"; value: list of integers
#   string        {"label", "alphabet", "max_length"}: one text box; value: a string
#   grid          {"palette": [{"value", "name"}], "max_side", "source"}: the grid editor
#                 (static/arena/grid.js; "source": the public key of a grid it can copy, optional);
#                 value: a list of rows of colours 0-9
#   reveal        {"label", "first", "last"}: one button that asks for the next item not yet seen
#                 (numbered first..last; a test that takes no input of the player's); value: its number
#   pick_pair     {"labels": [first, second], "options": [names], "grow": bool}: two pickers over
#                 the options, plus (with "grow") every string answer in the seat's own history,
#                 in the order first seen (the elements a player has made); value: two strings
WIDGETS = ("number_tuple", "card_pair", "integer_list", "string", "pick_pair", "grid", "reveal")

# How a guess is entered (``Presentation.guess_widget``):
#   rule   {"kind": "rule"}: a text box for a rule in the family's language, with the live checker;
#          the guess value is a string (every family so far).
#   grid   {"kind": "grid", "palette", "max_side", "source", "attempts"}: the grid editor (as the
#          input widget), starting from the public grid "source" names; the guess value is a list of
#          rows (a family declaring ``Family.solution``); "attempts": guesses allowed, for the page.
#   none   {"kind": "none"}: no guess at all: a seat finishes when its test budget is spent, scored by
#          ``Family.final_score`` from its history (which such a family must declare).
# A family whose answer is not a rule declares another kind here and in static/arena/match.js
# (e.g. a grid drawn in an editor, or no guess at all when the game ends on its budget).
GUESS_WIDGETS = ("rule", "none", "grid")


@dataclass(frozen=True)
class VariantSpec:
    """A published variant a family ships: seeded at start-up (``games.play.variants_sync``)
    without a migration of its own."""

    slug: str
    title: str
    params: Mapping[str, Any]
    description: str = ""
    # The puzzle a first-time visitor is offered to begin with (the home page's "Start here"):
    # an easy, classic one. At most one across the registry is expected; the first one wins.
    starter: bool = False
    # The guided first puzzle ("Learn in one minute"): an easy, fixed rule, played with a hint at
    # each step; unranked and not listed among the puzzles. At most one across the registry.
    tutorial: bool = False


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _default_simplicity_key(value: Any) -> tuple[Any, ...]:
    text = _json_text(value)
    return (len(text), text)


@dataclass(frozen=True)
class Presentation:
    """Everything the rest of the arena needs to show a family, declared by the family.

    ``format_input`` / ``format_answer`` write a test input and an oracle answer as text (prompts,
    observations, screen readers); ``answer_words`` names a boolean answer for the page
    ({"true": "fits the rule", ...}) or is empty for other answer types; ``test_noun`` and
    ``input_placeholder`` make the model's answer format ("to test a triple", ``[x, y, z]``);
    ``input_example`` is a valid test and ``rule_example`` a well-formed guess no generator
    produces (the format reminder and the guess box use them); ``guess_label`` names what the
    guess is over ("a rule over x, y, z"); ``syntax_help`` lists the guess language.
    """

    input_schema: Mapping[str, Any]
    answer_schema: Mapping[str, Any]
    guess_schema: Mapping[str, Any]
    widget: Mapping[str, Any]
    test_noun: str
    input_placeholder: str
    input_example: Any
    rule_example: str
    guess_label: str
    syntax_help: str
    format_input: Callable[[Any], str] = _json_text
    format_answer: Callable[[Any], str] = _json_text
    answer_words: Mapping[str, str] = field(default_factory=dict)
    simplicity_key: Callable[[Any], tuple[Any, ...]] = _default_simplicity_key
    simplicity_order: str = "shorter JSON text first"
    guess_widget: Mapping[str, Any] = field(default_factory=lambda: {"kind": "rule"})
    # How the pages draw inputs, answers and guesses: "text" (``present.js``'s words) or "grid"
    # (a list of rows of colours 0-9 drawn as coloured cells, a pair {input, output} as two).
    value_display: str = "text"
    # The guess in the model's answer format: its JSON value (a rule is a string, an answer may be
    # a grid) and what giving it does.
    guess_placeholder: str = '"<rule>"'
    guess_noun: str = "state the rule (this ends your game)"
    # The well-formed guesses a constrained decoder may write (a structured reply's ``rule``
    # carries it as its JSON-schema ``pattern``): an anchored regular expression that admits every
    # rule the family's generators and solvers write, and only texts ``check_rule`` accepts.
    # Empty: the guess is free text of ``guess_schema``, checked only after the reply.
    guess_pattern: str = ""
    # The test input as the compact prompt writes it (version 2 on), when ``input_placeholder`` is
    # itself a valid test a model would copy (``[3, 1, 2]``): names, not values. Empty: the
    # placeholder. Version 1's text keeps ``input_placeholder``, so its prompts stay as they were.
    input_names: str = ""

    @property
    def test_placeholder(self) -> str:
        """The test input in the compact prompt: never a valid test to copy."""
        return self.input_names or self.input_placeholder

    def __post_init__(self) -> None:
        if self.widget.get("kind") not in WIDGETS:
            raise ValueError(f"unknown widget {self.widget.get('kind')!r}; known: {', '.join(WIDGETS)}")
        if self.guess_widget.get("kind") not in GUESS_WIDGETS:
            raise ValueError(
                f"unknown guess widget {self.guess_widget.get('kind')!r}; known: {', '.join(GUESS_WIDGETS)}"
            )

    @property
    def has_guess(self) -> bool:
        """Whether a player states a rule at all (guess widget other than "none")."""
        return self.guess_widget.get("kind") != "none"

    def answer_format(self) -> str:
        """The model's answer format, in the same words for every family."""
        if not self.has_guess:
            return (
                "Answer format: think as much as you like, then end your reply with exactly one JSON object "
                "on its own line:\n"
                f'  {{"action": "test", "input": {self.input_placeholder}}}   to test {self.test_noun}.\n'
                "There is no rule to state: the game ends when your tests are spent. "
                "Only the last JSON object in your reply counts."
            )
        return (
            "Answer format: think as much as you like, then end your reply with exactly one JSON object "
            "on its own line, either\n"
            f'  {{"action": "test", "input": {self.input_placeholder}}}   to test {self.test_noun}, or\n'
            f'  {{"action": "guess", "rule": {self.guess_placeholder}}}     to {self.guess_noun}.\n'
            "Only the last JSON object in your reply counts."
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON the pages get (no callables)."""
        return {
            "input_schema": self.input_schema,
            "answer_schema": self.answer_schema,
            "guess_schema": self.guess_schema,
            "widget": self.widget,
            "guess_widget": dict(self.guess_widget),
            "input_example": self.input_example,
            "rule_example": self.rule_example,
            "guess_label": self.guess_label,
            "syntax_help": self.syntax_help,
            "answer_words": dict(self.answer_words),
            "simplicity_order": self.simplicity_order,
            "value_display": self.value_display,
        }

    def guess_example_json(self) -> str:
        """``rule_example`` as the JSON value of a guess: quoted when a guess is a string, as it
        is when the guess is another JSON value (its text is then JSON)."""
        return (
            json.dumps(self.rule_example) if self.guess_schema.get("type") == "string" else self.rule_example
        )


SPACE_METHODS = ("enumerated", "counted", "estimated")


@dataclass(frozen=True)
class ReferenceSpace:
    """How a family's per-step analytics (surviving hypotheses, bits, redundant tests) get their
    hypothesis space, for the export's dataset card. ``method``: ``enumerated`` (every hypothesis
    of the space is listed and checked against each answer), ``counted`` (the survivors are
    counted exactly in closed form, never listed) or ``estimated`` (the true space is too large to
    list: the figures come from a listed part of it, so they estimate the real ones and a hidden
    rule outside that part empties it). ``description`` says what the space holds and, for an
    estimate, what it leaves out."""

    method: str
    description: str

    def __post_init__(self) -> None:
        if self.method not in SPACE_METHODS:
            raise ValueError(
                f"unknown reference space method {self.method!r}; known: {', '.join(SPACE_METHODS)}"
            )


@dataclass(frozen=True)
class Family:
    id: str
    version: int
    title: str
    params_schema: dict[str, Any]
    generate: Callable[[int, Mapping[str, Any]], Instance]
    parse_query: Callable[[Mapping[str, Any], Any], Any]
    answer: Callable[[Instance, Any], Any]
    # A guess is JSON (``Presentation.guess_schema``): a rule's text for most families, another value
    # (an ARC grid) for a family that declares ``solution``. ``check_rule`` reads it as typed.
    check_rule: Callable[[Any], dict[str, Any]]
    judge: Callable[[Instance, Any], Verdict]
    score: Callable[..., dict[str, Any]]
    describe: Callable[[Mapping[str, Any]], str]
    render_observation: Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]], int], str]
    solvers: Mapping[str, SolverFactory]
    step_analytics: Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], list[dict[str, Any]]]
    rule_size: Callable[[Any], int]
    extras: Mapping[str, Any] = field(default_factory=dict)
    # The application quiz (optional per family): fresh inputs to predict after the guess,
    # and its scoring against the hidden rule and against the player's own stated rule.
    quiz_items: Callable[[Instance], list[Any]] | None = None
    quiz_score: Callable[[Instance, str | None, Sequence[Any]], dict[str, Any]] | None = None
    # How the family is shown and written; required of every registered family (``register``).
    presentation: Presentation | None = None
    # The published variants the family ships (slug, title, params), seeded at start-up.
    variants: tuple[VariantSpec, ...] = ()
    # A generator of random testable inputs (for the contract suite and baseline testers):
    # (rng, public) -> an input the oracle accepts.
    random_input: Callable[[random.Random, Mapping[str, Any]], Any] | None = None
    # What a guess answers at a test input, by the same oracle as the hidden rule's answers:
    # (instance, guess text, query) -> answer. The judge's verdict must agree with it.
    guess_answer: Callable[[Instance, str, Any], Any] | None = None
    # How points are earned, in words: before the match (max_tests -> text) and for one seat's
    # score dict at the reveal (score -> text, e.g. "solved with 5 of 30 tests: ... = 92 points").
    scoring_help: Callable[[int], str] | None = None
    explain_score: Callable[[Mapping[str, Any]], str] | None = None
    # Optional: the presentation of one puzzle from its public data, for a family whose variants
    # differ in shape (``tuples``: the number and names of the variables); default ``presentation``.
    present: Callable[[Mapping[str, Any]], Presentation] | None = None
    # Optional: for a family whose guess is an *answer* (the output of the hidden transformation on
    # the puzzle's test input) rather than a rule, the accepted answer. The judge is then a match on
    # it (partial credit in ``agreement``, the places that differ in ``counterexample``), the
    # contract suite checks that instead of rule equivalence, and ``guess_answer`` is not needed.
    solution: Callable[[Instance], Any] | None = None
    # Optional: how many guesses a seat may make in the puzzle with this public data (default 1).
    # A wrong guess with attempts left is logged as a guess step and the seat plays on; what it
    # learns then is only that the guess was wrong (the verdict in full comes with its last one).
    attempts: Callable[[Mapping[str, Any]], int] | None = None
    # Optional: a param filled from uploaded files (its schema has ``"x-upload": {"accept", "help"}``;
    # the admin's variant form shows a file field): (param, [(file name, bytes)]) -> the param's value,
    # or an ``EngineError`` naming the file and the fault.
    read_upload: Callable[[str, Sequence[tuple[str, bytes]]], Any] | None = None
    # Optional: which tests this seat may run given its own history, for a family whose testable
    # inputs grow with what the player has found (``alchemy``: only elements it knows):
    # (public, history, parsed query) -> None, or QueryError saying what is allowed (no test used).
    check_test: Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]], Any], None] | None = None
    # Optional, beside ``check_test``: the test input's JSON schema for one seat at one moment, the
    # tests ``check_test`` allows written as a schema (``alchemy``: the elements it knows as an
    # ``enum``), so a structured reply cannot write a refused test: (public, history) -> a schema in
    # place of the presentation's ``input_schema``, or None (no narrowing now). It may show only what
    # the public data and the seat's own history already show the seat.
    test_schema: (
        Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], Mapping[str, Any] | None] | None
    ) = None
    # Optional, required with the guess widget "none": a seat's score once its test budget is spent
    # (or it stops), from its history: (instance, history, max_tests) -> a score dict as ``score``.
    final_score: Callable[[Instance, Sequence[Mapping[str, Any]], int], dict[str, Any]] | None = None
    # Optional: per-test measures that need the hidden rule (e.g. an element's true empowerment),
    # computed only where the hidden rule may be shown (a finished match's exports and replay):
    # (instance, history) -> one dict per test, merged with ``step_analytics``'s.
    reveal_analytics: Callable[[Instance, Sequence[Mapping[str, Any]]], list[dict[str, Any]]] | None = None
    # How the analytics' reference space is made (enumerated, counted or estimated), in words
    # for the export's dataset card; required of every registered family (``register``).
    reference_space: ReferenceSpace | None = None

    @property
    def shown(self) -> Presentation:
        if self.presentation is None:
            raise RuntimeError(f"family {self.id!r} declares no presentation")
        return self.presentation

    def shown_for(self, public: Mapping[str, Any] | None) -> Presentation:
        """The presentation of the puzzle with this public data (``present``), else ``shown``."""
        if self.present is not None and public is not None:
            return self.present(public)
        return self.shown

    def input_schema_for(
        self, public: Mapping[str, Any] | None, history: Sequence[Mapping[str, Any]] = ()
    ) -> Mapping[str, Any]:
        """The test input's schema for a seat with this history: ``test_schema``'s when it narrows
        it, else the puzzle's presentation's ``input_schema``."""
        if self.test_schema is not None and public is not None:
            narrowed = self.test_schema(public, history)
            if narrowed is not None:
                return narrowed
        return self.shown_for(public).input_schema

    def guesses_allowed(self, public: Mapping[str, Any] | None) -> int:
        return max(1, int(self.attempts(public))) if self.attempts is not None and public is not None else 1

    def right_guess(self, instance: Instance) -> Any:
        """A guess the judge accepts: the solution of an answer family, else the hidden rule."""
        return self.solution(instance) if self.solution is not None else instance.hidden["rule"]

    def scoring_text(self, max_tests: int) -> str:
        return self.scoring_help(max_tests) if self.scoring_help else ""

    def score_text(self, score: Mapping[str, Any] | None) -> str:
        return self.explain_score(score) if self.explain_score and score else ""

    def knobs(self) -> dict[str, list[Any]]:
        """The difficulty knobs (params marked ``"x-knob": true``) and every setting of each,
        easiest first: the schema's ``"x-knob-levels"`` when it lists them (a knob whose larger
        values are easier, like a test budget), else every enum value or integer in order."""
        out: dict[str, list[Any]] = {}
        for name, spec in self.params_schema.get("properties", {}).items():
            if not spec.get("x-knob"):
                continue
            if "x-knob-levels" in spec:
                out[name] = list(spec["x-knob-levels"])
            elif "enum" in spec:
                out[name] = list(spec["enum"])
            else:
                out[name] = list(range(int(spec["minimum"]), int(spec["maximum"]) + 1))
        return out

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
            "presentation": self.shown.to_dict(),
            "variants": [v.slug for v in self.variants],
        }


_REGISTRY: dict[str, Family] = {}


def register(family: Family) -> Family:
    if family.id in _REGISTRY and _REGISTRY[family.id] is not family:
        raise RuntimeError(f"family {family.id!r} registered twice")
    if family.presentation is None or family.random_input is None or family.reference_space is None:
        raise RuntimeError(
            f"family {family.id!r} must declare presentation, random_input and reference_space"
        )
    if family.guess_answer is None and family.solution is None:
        raise RuntimeError(
            f"family {family.id!r} must declare guess_answer (or solution, for answer guesses)"
        )
    if not family.presentation.has_guess and family.final_score is None:
        raise RuntimeError(f"family {family.id!r} has no guess, so it must declare final_score")
    for spec in family.variants:
        family.validate_params(spec.params)  # a shipped variant with bad params fails at import
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

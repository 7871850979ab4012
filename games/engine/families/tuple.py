"""Family ``tuples`` (module ``tuple``): a hidden number rule over an admin-declared tuple of named variables.

A puzzle type without code: the variant's params declare 1-6 variables, each an integer or a
decimal with a fixed number of places in a closed range, written as one text param (the admin's
variant form has a text box for it)::

    x: int 0..99, y: int 0..99
    a: decimal -1..1 places 1; b: decimal 0..2 places 2

A test gives every variable a value of its domain; the rule is a condition in the number-rule
language (``games.engine.dsl``) over those names, evaluated with exact decimal arithmetic
(``games.engine.exact``, as ``wason`` version 3). The hidden rule is hand-written (param
``rule``) and refused when it does not parse or is always/never true on the domain.

The judge's domain: every testable tuple when there are at most ``EXHAUSTIVE_LIMIT`` of them
(then the verdict is exact); otherwise the product of each variable's simplest values (plus its
bounds) and seeded random tuples of the domain. Points are compared simplest first
(``simplicity_key``), so the counterexample is the simplest differing point of the domain.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine import analytics, exact
from games.engine.core import (
    Family,
    Instance,
    ParamsError,
    Presentation,
    QueryError,
    ReferenceSpace,
    RuleError,
    VariantSpec,
    Verdict,
    register,
    seeded_rng,
    validate_params,
)
from games.engine.dsl import Rule, parse_rule, rule_pattern
from games.engine.families import common
from games.engine.hypotheses import HypothesisSpace
from games.engine.solvers.elimination import InfoGainSolver, RandomSolver

FAMILY_ID = "tuples"
VERSION = 1
MAX_VARIABLES = 6
MAX_PLACES = 3
MAX_ABS = 10**6
EXHAUSTIVE_LIMIT = 250_000
SAMPLE_POINTS = 20_000
RESERVED = {
    "and",
    "or",
    "not",
    "if",
    "else",
    "True",
    "False",
    "abs",
    "min",
    "max",
    "int",
    "round",
    "floor",
    "ceil",
    "sqrt",
    "gcd",
    "is_int",
    "is_square",
}
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,11}")
SPEC_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<kind>int|integer|decimal)\s+"
    r"(?P<lo>-?\d+(?:\.\d+)?)\s*\.\.\s*(?P<hi>-?\d+(?:\.\d+)?)(?:\s+places\s+(?P<places>\d+))?\s*$"
)
RULE_EXAMPLE_TEMPLATE = "{a} > {b} or {a} == 1"

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "variables": {
            "type": "string",
            "default": "x: int 0..99, y: int 0..99",
            "description": "the tuple: 1-6 variables separated by commas or semicolons, each "
            "'name: int LO..HI' or 'name: decimal LO..HI places P' (P 1-3 decimal places), e.g. "
            "'a: decimal -1..1 places 1, b: int 0..9'",
        },
        "rule": {
            "type": "string",
            "default": "x < y",
            "description": "the hidden rule, a condition over the variables (required; refused "
            "if always or never true on the domain)",
        },
        "instructions": {
            "type": "string",
            "default": "",
            "description": "extra instructions shown to players (what the numbers stand for)",
        },
        # The difficulty knob: the rule and the variables are the admin's, so the generator has
        # nothing else to make harder. Fewer tests, harder puzzle (easiest level first); the
        # number of examples did not change any baseline solver's solve rate (bench_families).
        "max_tests": {
            "x-knob": True,
            "x-knob-levels": [20, 8, 5, 3],
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "default": 20,
            "description": "test budget before the final guess",
        },
        "examples": {
            "type": "integer",
            "minimum": 0,
            "maximum": 3,
            "default": 1,
            "description": "tuples that fit the rule, shown at the start",
        },
    },
}


@dataclass(frozen=True)
class Var:
    name: str
    places: int  # 0 for an integer
    lo: int  # in units of 10**-places
    hi: int

    @property
    def scale(self) -> int:
        return int(10**self.places)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "integer" if self.places == 0 else "decimal",
            "places": self.places,
            "min": _num(Fraction(self.lo, self.scale)),
            "max": _num(Fraction(self.hi, self.scale)),
        }


def _num(f: Fraction) -> int | float:
    return int(f) if f.denominator == 1 else float(f)


def parse_variables(text: str) -> tuple[Var, ...]:
    """The variables param, or a ParamsError saying what is wrong."""
    items = [s for s in re.split(r"[,;\n]", text) if s.strip()]
    if not 1 <= len(items) <= MAX_VARIABLES:
        raise ParamsError(
            f"parameter 'variables' must declare 1 to {MAX_VARIABLES} variables, got {len(items)}"
        )
    out: list[Var] = []
    for item in items:
        m = SPEC_RE.match(item)
        if not m:
            raise ParamsError(
                f"parameter 'variables': cannot read {item.strip()!r}; write 'name: int LO..HI' "
                "or 'name: decimal LO..HI places P'"
            )
        name = m["name"]
        if not NAME_RE.fullmatch(name) or name in RESERVED:
            raise ParamsError(
                f"parameter 'variables': {name!r} cannot be a variable name (lowercase letters, "
                "digits and _, starting with a letter, at most 12, not a keyword or function)"
            )
        if any(v.name == name for v in out):
            raise ParamsError(f"parameter 'variables': {name!r} is declared twice")
        is_int = m["kind"] in ("int", "integer")
        if is_int and m["places"] not in (None, "0"):
            raise ParamsError(f"parameter 'variables': integer {name!r} has no decimal places")
        places = 0 if is_int else int(m["places"] or 1)
        if not is_int and not 1 <= places <= MAX_PLACES:
            raise ParamsError(f"parameter 'variables': {name!r} may have 1 to {MAX_PLACES} decimal places")
        scale = 10**places
        lo_f, hi_f = Fraction(m["lo"]), Fraction(m["hi"])
        if (lo_f * scale).denominator != 1 or (hi_f * scale).denominator != 1:
            raise ParamsError(
                f"parameter 'variables': the bounds of {name!r} must have at most {places} decimal places"
            )
        if lo_f >= hi_f:
            raise ParamsError(
                f"parameter 'variables': the range of {name!r} is empty or one value ({m['lo']}..{m['hi']})"
            )
        if max(abs(lo_f), abs(hi_f)) > MAX_ABS:
            raise ParamsError(f"parameter 'variables': the bounds of {name!r} must be within ±{MAX_ABS}")
        out.append(Var(name, places, int(lo_f * scale), int(hi_f * scale)))
    return tuple(out)


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    p = validate_params(PARAMS_SCHEMA, params or {})
    variables = parse_variables(p["variables"])
    if not p["rule"].strip():
        raise ParamsError(
            "parameter 'rule' is required: the hidden rule over " + ", ".join(v.name for v in variables)
        )
    try:
        rule = parse_rule(p["rule"], [v.name for v in variables])
    except RuleError as exc:
        raise ParamsError(f"parameter 'rule' is not a valid rule: {exc.message}") from None
    truth = _hidden_truth(p["variables"], rule.text)
    if truth.all():
        raise ParamsError("parameter 'rule' is degenerate: always true on the evaluation domain")
    if not truth.any():
        raise ParamsError("parameter 'rule' is degenerate: never true on the evaluation domain")
    return p


def _vars_of(public: Mapping[str, Any]) -> tuple[Var, ...]:
    return parse_variables(public["spec"])


# -- the domain ---------------------------------------------------------------------------------


def _value_key(v: Fraction) -> tuple[Any, ...]:
    return (v.denominator != 1, v.denominator, abs(v), v < 0, v)


def simplicity_key(point: Sequence[Any]) -> tuple[Any, ...]:
    """By the largest denominator of the values (integers, then halves, quarters, fifths,
    tenths, ...), then by the sum and the maximum of the absolute values, then fewer negative
    values, then the values."""
    fr = [exact.to_fraction(v) for v in point]
    mags = tuple(abs(v) for v in fr)
    return (max(f.denominator for f in fr), sum(mags), max(mags), sum(v < 0 for v in fr), mags, tuple(fr))


def _values(var: Var) -> list[Fraction]:
    return [Fraction(k, var.scale) for k in range(var.lo, var.hi + 1)]


def _scale_of(variables: Sequence[Var]) -> int:
    return int(10 ** max(v.places for v in variables))


@functools.lru_cache(maxsize=32)
def domain(spec: str) -> tuple[npt.NDArray[np.int64], int, bool]:
    """(points as multiples of 1/scale, shape (N, n), simplest first (``simplicity_key``);
    scale; exhaustive?)."""
    variables = parse_variables(spec)
    scale = _scale_of(variables)
    size = math.prod(v.hi - v.lo + 1 for v in variables)
    exhaustive = size <= EXHAUSTIVE_LIMIT
    if exhaustive:
        axes = [np.arange(v.lo, v.hi + 1, dtype=np.int64) * (scale // v.scale) for v in variables]
        grids = np.meshgrid(*axes, indexing="ij")
        arr = np.stack([g.ravel() for g in grids], axis=1)
    else:
        per = max(2, int(EXHAUSTIVE_LIMIT ** (1 / len(variables)) // 2))
        cores = []
        for v in variables:
            lo, hi = Fraction(v.lo, v.scale), Fraction(v.hi, v.scale)
            vals: set[Fraction] = set()
            share = max(2, per // (v.places + 1))
            for places in range(v.places + 1):  # the simplest values at each number of places
                step = Fraction(1, 10**places)
                centre = min(max(Fraction(0), lo), hi)
                k0 = math.floor(centre / step)
                level = [k * step for k in range(k0 - share, k0 + share + 1) if lo <= k * step <= hi]
                vals.update(level)
            vals.update(Fraction(k, v.scale) for k in (v.lo, v.lo + 1, v.hi - 1, v.hi))
            cores.append(sorted({int(f * scale) for f in vals}))
        pts = list(itertools.product(*cores))
        rng = np.random.default_rng(list(spec.encode()))
        rand = np.stack(
            [rng.integers(v.lo, v.hi + 1, size=SAMPLE_POINTS) * (scale // v.scale) for v in variables], axis=1
        )
        arr = np.unique(np.concatenate([np.asarray(pts, dtype=np.int64), rand]), axis=0)
    mags = np.abs(arr)
    dens = scale // np.gcd(arr, scale)
    keys = [arr[:, i] for i in reversed(range(arr.shape[1]))]
    keys += [mags[:, i] for i in reversed(range(arr.shape[1]))]
    keys += [(arr < 0).sum(axis=1), mags.max(axis=1), mags.sum(axis=1), dens.max(axis=1)]
    arr = arr[np.lexsort(keys)]
    arr.setflags(write=False)
    return arr, scale, exhaustive


@functools.lru_cache(maxsize=32)
def _columns(spec: str) -> tuple[list[npt.NDArray[np.int64]], list[npt.NDArray[np.int64]]]:
    arr, scale, _ = domain(spec)
    g = np.gcd(arr, scale)
    nums = [np.ascontiguousarray(arr[:, i] // g[:, i]) for i in range(arr.shape[1])]
    dens = [np.ascontiguousarray(scale // g[:, i]) for i in range(arr.shape[1])]
    return nums, dens


@functools.lru_cache(maxsize=64)
def _hidden_truth(spec: str, rule_text: str) -> npt.NDArray[np.bool_]:
    names = [v.name for v in parse_variables(spec)]
    nums, dens = _columns(spec)
    truth = exact.compile_exact(parse_rule(rule_text, names))(nums, dens)
    truth.setflags(write=False)
    return truth


def _point_json(scaled: Sequence[int], scale: int) -> list[int | float]:
    return [_num(Fraction(int(k), scale)) for k in scaled]


# -- generation, oracle, judge ------------------------------------------------------------------


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    variables = parse_variables(p["variables"])
    names = [v.name for v in variables]
    rule = parse_rule(p["rule"], names)
    rng = seeded_rng(FAMILY_ID, VERSION, seed, p)
    truth = _hidden_truth(p["variables"], rule.text)
    pts, scale, _ = domain(p["variables"])
    fits = np.flatnonzero(truth)
    simple = fits[: max(50, p["examples"])]
    chosen = sorted(rng.sample(range(len(simple)), min(p["examples"], len(simple))))
    examples = [{"input": _point_json(pts[simple[i]], scale), "result": True} for i in chosen]
    public = {
        "family": FAMILY_ID,
        "variables": [v.to_dict() for v in variables],
        "spec": p["variables"],
        "instructions": p["instructions"],
        "max_tests": p["max_tests"],
        "examples": examples,
        "arithmetic": "exact",
    }
    hidden = {"rule": rule.text, "size": rule.size, "true_fraction": float(truth.mean())}
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


def _describe_var(v: Var) -> str:
    d = v.to_dict()
    kind = (
        "an integer"
        if v.places == 0
        else f"a decimal with at most {v.places} decimal place{'s' if v.places > 1 else ''}"
    )
    return f"{v.name}: {kind} from {d['min']} to {d['max']}"


def parse_query(public: Mapping[str, Any], raw: Any) -> list[int | float]:
    variables = _vars_of(public)
    names = ", ".join(v.name for v in variables)
    n = len(variables)
    what = f"a test is {n} number{'s' if n > 1 else ''} {names}"
    if isinstance(raw, str):
        values: list[Any] = []
        for s in (s for s in raw.replace(",", " ").split() if s):
            try:
                values.append(float(s) if any(c in s for c in ".eE") else int(s))
            except ValueError:
                raise QueryError(f"{s[:40]!r} is not a number; {what}") from None
        raw = values
    if isinstance(raw, Mapping):
        missing = [v.name for v in variables if v.name not in raw]
        if missing:
            raise QueryError(f"missing value for {', '.join(missing)}; {what}")
        raw = [raw[v.name] for v in variables]
    if not isinstance(raw, (list, tuple)):
        raise QueryError(f"{what}, got {type(raw).__name__}")
    if len(raw) != n:
        raise QueryError(f"{what}, got {len(raw)} values")
    out: list[int | float] = []
    for var, v in zip(variables, raw, strict=True):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise QueryError(f"{var.name} must be a number, got {str(v)[:40]!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise QueryError(f"{var.name} must be a finite number, got {v!r}")
        if isinstance(v, int) and abs(v) > 10 * MAX_ABS:
            raise QueryError(f"{var.name} is out of range; {_describe_var(var)}")
        f = exact.to_fraction(v)
        if (f * var.scale).denominator != 1:
            raise QueryError(f"{var.name} = {v!r} has too many decimal places; {_describe_var(var)}")
        if not var.lo <= f * var.scale <= var.hi:
            raise QueryError(f"{var.name} = {v!r} is out of range; {_describe_var(var)}")
        out.append(_num(f))
    return out


def _rule(public: Mapping[str, Any], text: str) -> Rule:
    return parse_rule(text, [v.name for v in _vars_of(public)])


def answer(instance: Instance, query: Any) -> bool:
    point = parse_query(instance.public, query)
    return exact.evaluate_point(_rule(instance.public, instance.hidden["rule"]), point)


def guess_answer(instance: Instance, guess: str, query: Any) -> bool:
    point = parse_query(instance.public, query)
    return exact.evaluate_point(_rule(instance.public, guess), point)


def judge(instance: Instance, guess: str) -> Verdict:
    spec = instance.public["spec"]
    g = _rule(instance.public, guess)
    th = _hidden_truth(spec, _rule(instance.public, instance.hidden["rule"]).text)
    nums, dens = _columns(spec)
    tg = exact.compile_exact(g)(nums, dens)
    diff = th != tg
    agreement = float(np.mean(~diff))
    pts, scale, _ = domain(spec)
    if not diff.any():
        return Verdict(True, None, None, None, agreement, len(pts))
    i = int(np.argmax(diff))
    return Verdict(False, _point_json(pts[i], scale), bool(th[i]), bool(tg[i]), agreement, len(pts))


def check_rule(text: str) -> dict[str, Any]:
    """Without a puzzle at hand, a guess is read over the names it uses (any lowercase name that
    is not a keyword or a function) and the single letters; the judge reads it over the
    puzzle's own variables, and refuses any other name there."""
    used = {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text[:2000]) if NAME_RE.fullmatch(w)}
    names = sorted((used - RESERVED) | {chr(c) for c in range(ord("a"), ord("z") + 1)})
    return common.check_rule(text, lambda t: parse_rule(t, names))


def rule_size(text: str) -> int:
    return check_rule(text).get("size", 0) or 0


def random_input(rng: random.Random, public: Mapping[str, Any]) -> list[int | float]:
    """A random testable tuple: often a simple value (near zero or a bound, few places)."""
    out: list[int | float] = []
    for v in _vars_of(public):
        r = rng.random()
        if r < 0.3:  # an integer near zero, if any
            lo, hi = math.ceil(Fraction(v.lo, v.scale)), math.floor(Fraction(v.hi, v.scale))
            mid = min(max(0, lo), hi)
            k = min(max(mid + rng.randint(-5, 5), lo), hi) * v.scale if lo <= hi else rng.randint(v.lo, v.hi)
        elif r < 0.4:
            k = rng.choice((v.lo, v.hi))
        else:
            k = rng.randint(v.lo, v.hi)
        out.append(_num(Fraction(k, v.scale)))
    return out


# -- reference space and solvers -----------------------------------------------------------------


def _templates(variables: Sequence[Var]) -> list[str]:
    out: list[str] = []
    for v in variables:
        lo, hi = Fraction(v.lo, v.scale), Fraction(v.hi, v.scale)
        consts = sorted(
            {_num(Fraction(round((lo + (hi - lo) * k / 4) * v.scale), v.scale)) for k in (1, 2, 3)}
        )
        for c in consts:
            out += [f"{v.name} > {c}", f"{v.name} < {c}"]
        out += [f"{v.name} > 0", f"{v.name} < 0", f"{v.name} == 0"]
        if v.places:
            out.append(f"is_int({v.name})")
        else:
            out += [f"{v.name} % 2 == 0", f"{v.name} % 3 == 0"]
    for a, b in itertools.permutations(variables, 2):
        out += [f"{a.name} < {b.name}", f"{a.name} <= {b.name}"]
    for a, b in itertools.combinations(variables, 2):
        out += [f"{a.name} == {b.name}", f"{a.name} + {b.name} > 0"]
    return out


@functools.lru_cache(maxsize=16)
def reference_space(spec: str) -> HypothesisSpace:
    variables = parse_variables(spec)
    names = tuple(v.name for v in variables)
    pts, scale, _ = domain(spec)
    idx = np.unique(
        np.concatenate([np.arange(min(len(pts), 400)), np.linspace(0, len(pts) - 1, 1200).astype(int)])
    )
    probe_points = [_point_json(pts[i], scale) for i in idx]
    probes = np.asarray(probe_points, dtype=np.float64)
    probes.setflags(write=False)
    nums, dens = exact.columns(probe_points, len(names))
    seen: set[bytes] = set()
    texts: list[str] = []
    for t in sorted(set(_templates(variables)), key=lambda t: (parse_rule(t, names).size, t)):
        key = np.packbits(exact.compile_exact(parse_rule(t, names))(nums, dens)).tobytes()
        if key not in seen:
            seen.add(key)
            texts.append(parse_rule(t, names).text)
    return ExactSpace(texts=texts, variables=names, probes=probes)


@dataclass
class ExactSpace(HypothesisSpace):
    """A plain list of template rules, answered with exact decimals (as the oracle)."""

    def truth(self, points: Sequence[Sequence[Any]]) -> npt.NDArray[np.bool_]:
        if len(points) == 0:
            return np.zeros((len(self), 0), dtype=bool)
        nums, dens = exact.columns([[exact.to_fraction(v) for v in p] for p in points], len(self.variables))
        return np.stack([exact.compile_exact(r)(nums, dens) for r in self._rules])


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return analytics.trace(reference_space(public["spec"]), history, examples=public.get("examples") or [])


def _infogain(public: Mapping[str, Any], seed: int) -> InfoGainSolver:
    return InfoGainSolver(reference_space(public["spec"]), public.get("examples") or [], seed)


def _random(public: Mapping[str, Any], seed: int) -> RandomSolver:
    return RandomSolver(
        reference_space(public["spec"]),
        public.get("examples") or [],
        seed,
        lambda rng: random_input(rng, public),
    )


# -- texts and presentation ---------------------------------------------------------------------


def describe(public: Mapping[str, Any]) -> str:
    variables = _vars_of(public)
    names = ", ".join(v.name for v in variables)
    lines = [
        f"There is a hidden rule about tuples of numbers ({names}). Each tuple either fits the rule (True) or not (False).",
    ]
    if public.get("instructions"):
        lines.append(str(public["instructions"]))
    lines += ["The values a test may use:"] + [f"  {_describe_var(v)}" for v in variables]
    lines += [
        f"You may run up to {public['max_tests']} tests: give a tuple and you are told whether it fits.",
        "Then state the rule once. A guess ends your game; you may guess early.",
        "Your guess is correct if it agrees with the hidden rule on every tuple you could test, not only on the ones you tested.",
        f"Write the rule as a Python-style condition over {names}, for example: {_example(variables)}.",
        "Allowed: numbers, the variables, + - * / // % **, comparisons (also chained), and/or/not, "
        "'a if c else b', and the functions abs, min, max, int, round, floor, ceil, sqrt, gcd, is_int, is_square.",
        "Arithmetic on decimals is exact: 0.1 + 0.2 == 0.3.",
    ]
    return "\n".join(lines)


def _example(variables: Sequence[Var]) -> str:
    a = variables[0].name
    b = variables[1].name if len(variables) > 1 else "2"
    return RULE_EXAMPLE_TEMPLATE.format(a=a, b=b)


def _fmt(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else repr(v)


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    return common.render_observation(public, history, tests_left, show_input=format_input)


def format_input(value: Any) -> str:
    return "(" + ", ".join(_fmt(v) for v in value) + ")"


def format_answer(value: Any) -> str:
    return "fits the rule (True)" if value is True else "does not fit the rule (False)"


PRESENTATION = Presentation(
    input_schema={
        "type": "array",
        "items": {"type": "number", "description": "a value in the variable's declared domain"},
        "minItems": 1,
        "maxItems": MAX_VARIABLES,
        "description": "one number per declared variable, in order",
    },
    answer_schema={"type": "boolean", "description": "whether the tuple fits the hidden rule"},
    guess_schema={"type": "string", "maxLength": 2000, "description": "a condition over the variables"},
    guess_pattern=rule_pattern(("x", "y")),
    widget={"kind": "number_tuple", "fields": [{"name": "x", "label": "x"}, {"name": "y", "label": "y"}]},
    test_noun="a tuple",
    input_placeholder="[x, y]",
    input_example=[1, 2],
    rule_example="a > b or a == 1",
    guess_label="the variables",
    syntax_help="A Python-style condition over the puzzle's variables: numbers, + - * / // % **, comparisons "
    "(also chained), and/or/not, 'a if c else b', and the functions abs, min, max, int, round, floor, ceil, "
    "sqrt, gcd, is_int, is_square. Arithmetic on decimals is exact.",
    format_input=format_input,
    format_answer=format_answer,
    answer_words={"true": "fits the rule", "false": "does not fit the rule"},
    simplicity_key=simplicity_key,
    simplicity_order="by the largest denominator (integers, then halves, quarters, fifths, tenths, ...); then by "
    "the sum and the maximum of the absolute values (small first), then fewer negative values",
)


def present(public: Mapping[str, Any]) -> Presentation:
    """The presentation of one puzzle: one box per declared variable, named as declared."""
    variables = _vars_of(public)
    names = [v.name for v in variables]
    n = len(variables)
    example = [_num(Fraction(min(max(0, v.lo), v.hi), v.scale)) for v in variables]
    return dataclasses.replace(
        PRESENTATION,
        input_schema={
            "type": "array",
            "items": {"type": "number"},
            "prefixItems": [
                {
                    "type": "number",
                    "minimum": v.to_dict()["min"],
                    "maximum": v.to_dict()["max"],
                    "description": _describe_var(v),
                }
                for v in variables
            ],
            "minItems": n,
            "maxItems": n,
            "description": f"the tuple [{', '.join(names)}]",
        },
        guess_schema={
            "type": "string",
            "maxLength": 2000,
            "description": f"a condition over {', '.join(names)}",
        },
        guess_pattern=rule_pattern(tuple(names), conditional=True),
        widget={"kind": "number_tuple", "fields": [{"name": v, "label": v} for v in names]},
        input_placeholder="[" + ", ".join(names) + "]",
        input_example=example,
        rule_example=_example(variables),
        guess_label=", ".join(names),
    )


VARIANTS = (
    VariantSpec(
        slug="tuples-int-pairs",
        title="Pairs of integers 0-99",
        params={"variables": "x: int 0..99, y: int 0..99", "rule": "x < y", "max_tests": 20},
        description="A hidden rule about pairs of whole numbers from 0 to 99.",
    ),
    VariantSpec(
        slug="tuples-decimal-4",
        title="4-tuples of decimals",
        params={
            "variables": "a: decimal 0..2 places 1, b: decimal 0..2 places 1, "
            "c: decimal 0..2 places 1, d: decimal 0..2 places 1",
            "rule": "a + b == c + d",
            "max_tests": 30,
        },
        description="A hidden rule about four decimals from 0 to 2 (tenths).",
    ),
)

REFERENCE_SPACE = ReferenceSpace(
    "enumerated",
    "The rule templates for the puzzle's variables, listed; templates with the same answers on a "
    "sample of about 1,600 points of the judge's domain count once. A hand-written hidden rule outside "
    "the templates empties it.",
)


FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="Number tuples (admin-defined)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=common.score,
        scoring_help=common.scoring_help,
        explain_score=common.explain_score,
        describe=describe,
        render_observation=render_observation,
        solvers={"infogain": _infogain, "random": _random},
        step_analytics=step_analytics,
        rule_size=rule_size,
        reference_space=REFERENCE_SPACE,
        presentation=PRESENTATION,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        present=present,
        extras={"domain": domain, "parse_variables": parse_variables, "reference_space": reference_space},
    )
)

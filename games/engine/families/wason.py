"""Family ``wason``: a hidden boolean rule over a triple of numbers (x, y, z).

As in Wason's 2-4-6 task and WILT: the player is shown an example triple that
fits the rule, runs tests (any triple -> True/False), then states the rule. The
guess is judged by equivalence over a fixed evaluation domain, not by text.

Evaluation domain (the same in generator versions 1 and 2): the integer grid -20..20 in each
variable (68,921 points), 10,000 seeded random floats in (1, 100) and
hand-picked edge points (zeros, negatives, halves, equal components, large
values). Points are ordered simplest first (integers before floats, then by
the sum and the maximum of the absolute values) so the first disagreement is
the simplest counterexample.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine import analytics
from games.engine.core import (
    Family,
    Instance,
    ParamsError,
    QueryError,
    RuleError,
    Verdict,
    register,
    seeded_rng,
)
from games.engine.dsl import Rule, compile_rule, parse_rule
from games.engine.families import common
from games.engine.hypotheses import HypothesisSpace, points_to_columns

FAMILY_ID = "wason"
# Generator versions: 1 drew the application quiz from the hidden rule (exactly half fitting);
# 2 draws it from public data only. Rules, examples and the judge's domain did not change, so
# they keep drawing from the version 1 random streams: a seed gives the same rule in both, and
# old matches are judged on the same domain.
VERSION = 2
RULE_STREAM_VERSION = 1
PUBLIC_QUIZ_VERSION = 2
VARIABLES = ("x", "y", "z")
GRID = 20
FLOAT_POINTS = 10_000

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "tier": {
            "type": "integer",
            "minimum": 1,
            "maximum": 5,
            "default": 1,
            "description": "difficulty: 1 orderings and signs; 2 parity, equalities, one arithmetic "
            "relation; 3 sums, products, max/min; 4 two clauses joined by and/or; 5 float-sensitive "
            "and number-theoretic rules",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "default": 30,
            "description": "test budget before the final guess",
        },
        "examples": {
            "type": "integer",
            "minimum": 0,
            "maximum": 5,
            "default": 1,
            "description": "triples that fit the rule, shown at the start",
        },
        "min_true_fraction": {
            "type": "number",
            "minimum": 0.0,
            "maximum": 0.5,
            "default": 0.001,
            "description": "reject generated rules true on fewer points of the domain",
        },
        "input_bound": {
            "type": "number",
            "minimum": 100,
            "maximum": 1e9,
            "default": 1e6,
            "description": "largest absolute value a test may use",
        },
        "rule": {
            "type": "string",
            "default": "",
            "description": "a hand-written hidden rule; empty = generate one for the tier",
        },
    },
}

# -- the evaluation domain ---------------------------------------------------------------

Triple = tuple[float, float, float]


def _orderings(triple: Triple) -> Iterator[Triple]:
    """Every ordering of the triple (repeated values give repeated orderings)."""
    # an explicit r=3 is what tells the type checker each ordering is a triple too
    return itertools.permutations(triple, 3)


def _simplicity_key(p: Triple) -> tuple[Any, ...]:
    """Integers before decimals, then small before large, non-negative before negative."""
    all_int = all(float(v).is_integer() for v in p)
    mags = tuple(abs(v) for v in p)
    return (0 if all_int else 1, sum(mags), max(mags), sum(v < 0 for v in p), mags, p)


@functools.lru_cache(maxsize=1)
def domain() -> tuple[npt.NDArray[np.float64], int]:
    """(points (N, 3) simplest first, number of integer-grid points)."""
    r = np.arange(-GRID, GRID + 1, dtype=np.float64)
    gx, gy, gz = np.meshgrid(r, r, r, indexing="ij")
    grid = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1)
    ints_abs = np.abs(grid)
    negatives = (grid < 0).sum(axis=1)
    order = np.lexsort(
        (
            grid[:, 2],
            grid[:, 1],
            grid[:, 0],
            ints_abs[:, 2],
            ints_abs[:, 1],
            ints_abs[:, 0],
            negatives,
            ints_abs.max(axis=1),
            ints_abs.sum(axis=1),
        )
    )
    grid = grid[order]
    edges: set[Triple] = set()
    specials = [0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 50.0, 100.0, -100.0, 1000.0, 99.5, 1e6, -1e6]
    for a in specials:
        edges.add((a, a, a))
        for b in (0.0, 1.0, -1.0, 2.0):
            edges.update(_orderings((a, b, b)))
            edges.update(_orderings((a, b, 2 * b)))
    for a in (0.5, 1.5, 2.5, 10.5):
        edges.update({(a, a + 1, a + 2), (a, 2 * a, 3 * a), (-a, a, 0.0)})
    edges = {e for e in edges if not (all(float(v).is_integer() and abs(v) <= GRID for v in e))}
    rng = np.random.default_rng(20240601 + RULE_STREAM_VERSION)
    floats = rng.uniform(1.0, 100.0, size=(FLOAT_POINTS, 3))
    floats = np.nextafter(floats, 100.0)  # strictly inside (1, 100)
    extra = sorted(edges, key=_simplicity_key)
    pts = np.concatenate([grid, np.asarray(extra, dtype=np.float64).reshape(-1, 3), floats])
    pts.setflags(write=False)
    return pts, len(grid)


@functools.lru_cache(maxsize=1)
def _domain_columns() -> tuple[npt.NDArray[np.float64], ...]:
    pts, _ = domain()
    return tuple(np.ascontiguousarray(pts[:, i]) for i in range(3))


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Rule:
    return parse_rule(text, VARIABLES)


@functools.lru_cache(maxsize=256)
def _truth_on_domain(canonical: str) -> npt.NDArray[np.bool_]:
    values = compile_rule(parse(canonical))(_domain_columns())
    values.setflags(write=False)
    return values


def truth_on_domain(rule: Rule) -> npt.NDArray[np.bool_]:
    return _truth_on_domain(rule.text)


def _point_json(p: Sequence[float]) -> list[int | float]:
    return [int(v) if float(v).is_integer() else float(v) for v in p]


EARLY_STAGES = (256, 4096)


def _staged_truth(fa: Any, fb: Any) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Evaluate both rules on ever larger prefixes of the (simplest-first)
    domain and stop at the first prefix where they differ."""
    cols = _domain_columns()
    start = 0
    parts_a: list[npt.NDArray[np.bool_]] = []
    parts_b: list[npt.NDArray[np.bool_]] = []
    for end in (*EARLY_STAGES, len(cols[0])):
        chunk = [c[start:end] for c in cols]
        ha, hb = fa(chunk), fb(chunk)
        parts_a.append(ha)
        parts_b.append(hb)
        start = end
        if not np.array_equal(ha, hb):
            break
    return np.concatenate(parts_a), np.concatenate(parts_b)


def equivalence(a: Rule, b: Rule, *, agreement: bool = True, cache: bool = True) -> dict[str, Any]:
    """Compare two rules over the domain; the first (simplest) differing point
    is the counterexample. With ``agreement=False`` the simplest points are
    checked first and a difference there ends the check early (``checked``
    says how many points were compared); ``grid_agreement`` is then None."""
    pts, n_grid = domain()
    if cache:
        ta, tb = truth_on_domain(a), truth_on_domain(b)
    elif agreement:
        cols = _domain_columns()
        ta, tb = compile_rule(a)(cols), compile_rule(b)(cols)
    else:
        ta, tb = _staged_truth(compile_rule(a), compile_rule(b))
    diff = ta != tb
    grid_agree = float(np.mean(~diff[:n_grid])) if agreement else None
    if not diff.any():
        return {
            "equivalent": True,
            "counterexample": None,
            "a": None,
            "b": None,
            "checked": len(pts),
            "grid_agreement": grid_agree,
        }
    i = int(np.argmax(diff))
    return {
        "equivalent": False,
        "counterexample": _point_json(pts[i]),
        "a": bool(ta[i]),
        "b": bool(tb[i]),
        "checked": len(ta) if not agreement else len(pts),
        "grid_agreement": grid_agree,
    }


# -- clause templates: the generator's grammar and the reference space ---------------------

PAIRS = list(itertools.permutations(VARIABLES, 2))
UNORDERED = list(itertools.combinations(VARIABLES, 2))
PERMS = list(itertools.permutations(VARIABLES))
ADD_CONSTANTS = (1, 2, 3, 5, 10)
BOUND_CONSTANTS = (5, 10)
SUM_CONSTANTS = (0, 10, 30)


def _others(v: str) -> tuple[str, str]:
    a, b = (w for w in VARIABLES if w != v)
    return a, b


@functools.lru_cache(maxsize=1)
def clause_templates() -> dict[int, tuple[str, ...]]:
    """All single clauses by tier (tier 4 combines tiers 1-3; tier 5 is its own)."""
    t1: list[str] = []
    for v in VARIABLES:
        t1 += [f"{v} > 0", f"{v} < 0"]
        t1 += [f"{v} > {k}" for k in BOUND_CONSTANTS] + [f"{v} < {k}" for k in BOUND_CONSTANTS]
    t1 += [f"{a} < {b}" for a, b in PAIRS] + [f"{a} <= {b}" for a, b in PAIRS]
    t1 += [f"{a} < {b} < {c}" for a, b, c in PERMS] + [f"{a} <= {b} <= {c}" for a, b, c in PERMS]
    t2: list[str] = []
    for v in VARIABLES:
        t2 += [f"{v} % 2 == 0", f"{v} % 2 == 1", f"{v} % 3 == 0", f"{v} % 5 == 0"]
    t2 += [f"{a} == {b}" for a, b in UNORDERED] + [f"{a} != {b}" for a, b in UNORDERED]
    t2 += [f"{b} == {a} + {k}" for a, b in PAIRS for k in ADD_CONSTANTS]
    t2 += [f"{b} == {k} * {a}" for a, b in PAIRS for k in (2, 3)]
    t2 += [f"{m} - {a} == {b} - {m}" for m in VARIABLES for a, b in [_others(m)]]
    t3: list[str] = []
    for c in VARIABLES:
        a, b = _others(c)
        t3 += [f"{a} + {b} == {c}", f"{a} * {b} == {c}", f"{a} + {b} > {c}", f"{a} * {b} > {c}"]
        t3 += [f"max(x, y, z) == {c}", f"min(x, y, z) == {c}"]
    t3 += [f"x + y + z > {k}" for k in SUM_CONSTANTS] + [f"x + y + z < {k}" for k in SUM_CONSTANTS]
    t3 += ["x * y * z > 0", "x * y * z < 0", "(x + y + z) % 2 == 0", "(x + y + z) % 3 == 0"]
    t3 += [f"abs({a} - {b}) < {k}" for a, b in UNORDERED for k in (2, 5)]
    t5: list[str] = []
    t5 += [f"is_int({a} / {b})" for a, b in PAIRS]
    t5 += [f"gcd({a}, {b}) == 1" for a, b in UNORDERED]
    t5 += [f"is_square({v})" for v in VARIABLES] + [f"is_square({a} + {b})" for a, b in UNORDERED]
    t5 += [f"is_int({v})" for v in VARIABLES] + ["is_int(x + y + z)", "is_int((x + y + z) / 3)"]
    t5 += [f"sqrt({a} * {a} + {b} * {b}) == {c}" for c in VARIABLES for a, b in [_others(c)]]
    return {1: tuple(t1), 2: tuple(t2), 3: tuple(t3), 5: tuple(t5)}


# -- the generator --------------------------------------------------------------------------


def _sample_rule(rng: random.Random, tier: int) -> str:
    templates = clause_templates()
    if tier in (1, 2, 3):
        return rng.choice(templates[tier])
    if tier == 4:
        a = rng.choice(templates[rng.choice((1, 2, 3))])
        b = rng.choice(templates[rng.choice((1, 2, 3))])
        return f"{a} {rng.choice(('and', 'or'))} {b}"
    clause = rng.choice(templates[5])
    if rng.random() < 0.5:
        return clause
    other = rng.choice(templates[rng.choice((1, 2))])
    return f"{clause} {rng.choice(('and', 'or'))} {other}"


def _degenerate(rule: Rule, min_true_fraction: float) -> str | None:
    truth = truth_on_domain(rule)
    frac = float(truth.mean())
    if frac >= 1.0:
        return "always true on the evaluation domain"
    if frac <= 0.0:
        return "never true on the evaluation domain"
    if frac < min_true_fraction:
        return f"true on only {frac:.4%} of the evaluation domain (minimum {min_true_fraction:.4%})"
    return None


def _redundant_combination(rule: Rule) -> bool:
    """A combined rule that equals one of its own clauses is not really tier 4/5."""
    from games.engine.dsl import BoolOp

    tree = rule.tree
    if not isinstance(tree, BoolOp):
        return False
    whole = truth_on_domain(rule)
    for part in tree.operands:
        part_rule = Rule(tree=part, variables=VARIABLES)
        if np.array_equal(truth_on_domain(part_rule), whole):
            return True
    return False


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    rng = seeded_rng(FAMILY_ID, RULE_STREAM_VERSION, seed, p)
    if p["rule"]:
        try:
            rule = parse(p["rule"])
        except RuleError as exc:
            raise ParamsError(f"parameter 'rule' is not a valid rule: {exc.message}") from None
        problem = _degenerate(rule, 0.0)
        if problem:
            raise ParamsError(f"parameter 'rule' is degenerate: {problem}")
    else:
        for _ in range(10_000):
            rule = parse(_sample_rule(rng, p["tier"]))
            if _degenerate(rule, p["min_true_fraction"]) is None and not _redundant_combination(rule):
                break
        else:  # pragma: no cover - the templates make this unreachable
            raise ParamsError("could not generate a non-degenerate rule with these params")
    examples = _pick_examples(rule, rng, p["examples"])
    public = {
        "family": FAMILY_ID,
        "variables": list(VARIABLES),
        "tier": p["tier"],
        "max_tests": p["max_tests"],
        "input_bound": p["input_bound"],
        "examples": examples,
    }
    hidden = {"rule": rule.text, "size": rule.size, "true_fraction": float(truth_on_domain(rule).mean())}
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


def _pick_examples(rule: Rule, rng: random.Random, count: int) -> list[dict[str, Any]]:
    if count == 0:
        return []
    pts, n_grid = domain()
    truth = truth_on_domain(rule)
    small = np.all((pts >= 1) & (pts <= 12), axis=1)
    small[n_grid:] = False
    candidates = np.flatnonzero(truth & small)
    if len(candidates) == 0:
        candidates = np.flatnonzero(truth[:n_grid])
    if len(candidates) == 0:
        candidates = np.flatnonzero(truth)
    chosen = sorted(rng.sample(range(len(candidates)), min(count, len(candidates))))
    return [{"input": _point_json(pts[candidates[i]]), "result": True} for i in chosen]


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    from games.engine.core import validate_params

    return validate_params(PARAMS_SCHEMA, params or {})


# -- oracle, judge, score ---------------------------------------------------------------------


def parse_query(public: Mapping[str, Any], raw: Any) -> list[int | float]:
    bound = float(public.get("input_bound", 1e6))
    if isinstance(raw, str):
        parts = [s for s in raw.replace(",", " ").split() if s]
        values: list[Any] = []
        for s in parts:
            try:
                values.append(float(s) if any(c in s for c in ".eE") else int(s))
            except ValueError:
                raise QueryError(f"{s!r} is not a number; a test is three numbers x, y, z") from None
        raw = values
    if isinstance(raw, Mapping):
        missing = [v for v in VARIABLES if v not in raw]
        if missing:
            raise QueryError(f"missing value for {', '.join(missing)}; a test is three numbers x, y, z")
        raw = [raw[v] for v in VARIABLES]
    if not isinstance(raw, (list, tuple)):
        raise QueryError(f"a test is three numbers x, y, z, got {type(raw).__name__}")
    if len(raw) != 3:
        raise QueryError(f"a test is exactly three numbers x, y, z, got {len(raw)}")
    out: list[int | float] = []
    for name, v in zip(VARIABLES, raw):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise QueryError(f"{name} must be a number, got {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise QueryError(f"{name} must be a finite number, got {v!r}")
        if abs(v) > bound:
            raise QueryError(
                f"{name} = {v!r} is out of range; values must be between {-bound:g} and {bound:g}"
            )
        out.append(int(v) if isinstance(v, int) or float(v).is_integer() else float(v))
    return out


def answer(instance: Instance, query: Any) -> bool:
    point = parse_query(instance.public, query)
    rule = parse(instance.hidden["rule"])
    return bool(compile_rule(rule)(points_to_columns([point], 3))[0])


def check_rule(text: str) -> dict[str, Any]:
    return common.check_rule(text, parse)


def judge(instance: Instance, guess: str) -> Verdict:
    hidden = parse(instance.hidden["rule"])
    g = parse_rule(guess, VARIABLES)
    eq = equivalence(hidden, g)
    return Verdict(
        correct=eq["equivalent"],
        counterexample=eq["counterexample"],
        hidden_answer=eq["a"],
        guess_answer=eq["b"],
        agreement=eq["grid_agreement"],
        checked=eq["checked"],
    )


score = common.score


def rule_size(text: str) -> int:
    return parse_rule(text, VARIABLES).size


# -- text for prompts and screen readers -----------------------------------------------------------

FUNCTION_LIST = "abs, min, max, int, round, floor, ceil, sqrt, gcd, is_int, is_square"


def describe(public: Mapping[str, Any]) -> str:
    lines = [
        "There is a hidden rule about triples of numbers (x, y, z). Each triple either fits the rule (True) or not (False).",
        f"You may run up to {public['max_tests']} tests: give a triple and you are told whether it fits.",
        "Then state the rule once. A guess ends your game; you may guess early.",
        "Your guess is correct if it agrees with the hidden rule on every triple, not only on the ones you tested.",
        "Write the rule as a Python-style condition over x, y and z, for example: min(x, z) > 3 and y != 4.",
        "Allowed: numbers, x y z, + - * / // % **, comparisons (also chained, like 1 < x <= 9), and/or/not, "
        f"'a if c else b', & | ^ on integers, and the functions {FUNCTION_LIST}.",
        f"Test values must be between {-float(public['input_bound']):g} and {float(public['input_bound']):g}; decimals are allowed.",
    ]
    return "\n".join(lines)


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    lines = []
    examples = public.get("examples") or []
    if examples:
        lines.append("Examples given with the puzzle:")
        lines += [f"  ({', '.join(_fmt(v) for v in e['input'])}) -> {e['result']}" for e in examples]
    if history:
        lines.append("Your tests so far:")
        lines += [
            f"  {i}. ({', '.join(_fmt(v) for v in h['input'])}) -> {h['result']}"
            for i, h in enumerate(history, 1)
        ]
    else:
        lines.append("You have not run any tests yet.")
    lines.append(f"Tests left: {tests_left}.")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else repr(v)


# -- the reference hypothesis space ----------------------------------------------------------------


class WasonSpace(HypothesisSpace):
    """Every single clause of the generator's grammar, and every pair of
    clauses joined by ``and`` / ``or``; duplicates (same truth values on the
    probe pool) and constants are dropped, simplest kept first."""

    def __init__(self) -> None:
        templates = clause_templates()
        atoms = sorted(
            {t for tier in (1, 2, 3, 5) for t in templates[tier]}, key=lambda t: (parse(t).size, t)
        )
        self.atoms = atoms
        self.atom_rules = [parse(t) for t in atoms]
        self.variables = VARIABLES
        self.probes = probe_pool()
        atom_probe = self._atom_truth(self.probes.tolist())
        n = len(atoms)
        # candidates: (size, i, j, op) with op 0 = atom i, 1 = i and j, 2 = i or j
        sizes = [r.size for r in self.atom_rules]
        cands: list[tuple[int, int, int, int]] = [(sizes[i], i, i, 0) for i in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                cands.append((sizes[i] + sizes[j] + 1, i, j, 1))
                cands.append((sizes[i] + sizes[j] + 1, i, j, 2))
        cands.sort()
        keep_i: list[int] = []
        keep_j: list[int] = []
        keep_op: list[int] = []
        seen: set[bytes] = set()
        all_true = np.packbits(np.ones(atom_probe.shape[1], dtype=bool)).tobytes()
        all_false = np.packbits(np.zeros(atom_probe.shape[1], dtype=bool)).tobytes()
        seen.update({all_true, all_false})
        rows = []
        ci = np.array([c[1] for c in cands])
        cj = np.array([c[2] for c in cands])
        cop = np.array([c[3] for c in cands])
        chunk = 4096
        for start in range(0, len(cands), chunk):
            sl = slice(start, start + chunk)
            t = self._compose(atom_probe, ci[sl], cj[sl], cop[sl])
            packed = np.packbits(t, axis=1)
            for k in range(t.shape[0]):
                key = packed[k].tobytes()
                if key in seen:
                    continue
                seen.add(key)
                keep_i.append(int(ci[start + k]))
                keep_j.append(int(cj[start + k]))
                keep_op.append(int(cop[start + k]))
                rows.append(t[k])
        self.hi = np.array(keep_i)
        self.hj = np.array(keep_j)
        self.hop = np.array(keep_op)
        self._probe_truth = np.stack(rows)
        self.texts = [self._text(k) for k in range(len(self.hi))]

    def _text(self, k: int) -> str:
        a, b, op = self.atoms[int(self.hi[k])], self.atoms[int(self.hj[k])], self.hop[k]
        if op == 0:
            return a
        return parse(f"({a}) {'and' if op == 1 else 'or'} ({b})").text

    @staticmethod
    def _compose(atom_truth: npt.NDArray[np.bool_], i: Any, j: Any, op: Any) -> npt.NDArray[np.bool_]:
        a, b = atom_truth[i], atom_truth[j]
        op = np.asarray(op)[:, None]
        composed: npt.NDArray[np.bool_] = np.where(op == 0, a, np.where(op == 1, a & b, a | b))
        return composed

    def _atom_truth(self, points: Sequence[Sequence[float]]) -> npt.NDArray[np.bool_]:
        cols = points_to_columns(points, 3)
        return np.stack([compile_rule(r)(cols) for r in self.atom_rules])

    def truth(self, points: Sequence[Sequence[float]]) -> npt.NDArray[np.bool_]:
        if len(points) == 0:
            return np.zeros((len(self), 0), dtype=bool)
        return self._compose(self._atom_truth(points), self.hi, self.hj, self.hop)


@functools.lru_cache(maxsize=1)
def probe_pool() -> npt.NDArray[np.float64]:
    """Candidate tests for the information-gain solver, simplest first."""
    pts: set[Triple] = set()
    r = range(-3, 11)
    pts.update(
        (float(a), float(b), float(c))
        for a in r
        for b in r
        for c in r
        if (a + b + c) % 2 == 0 or max(a, b, c) < 4
    )
    for a in range(-3, 8):
        for k in ADD_CONSTANTS + (4, 6, 7):
            pts.update(_orderings((float(a), float(a + k), float(a + 2 * k))))
        for k in (2, 3):
            pts.update(_orderings((float(a), float(k * a), float(k * k * a))))
    for a in range(1, 8):
        for b in range(1, 8):
            pts.update(_orderings((float(a), float(b), float(a + b))))
            pts.update(_orderings((float(a), float(b), float(a * b))))
    for x, y, z in ((3, 4, 5), (6, 8, 10), (5, 12, 13), (8, 15, 17)):
        pts.update(_orderings((float(x), float(y), float(z))))
    for triple in (
        (1.5, 2.5, 3.5),
        (0.5, 1.0, 2.0),
        (2.5, 5.0, 7.5),
        (1.0, 2.0, 3.5),
        (4.5, 4.5, 4.5),
        (-1.5, 2.0, 3.0),
    ):
        pts.update(_orderings(triple))
    for x, y, z in ((20, 40, 60), (-20, -10, 0), (15, 30, 45), (12, 14, 16), (25, 30, 35), (-7, -5, -3)):
        pts.update(_orderings((float(x), float(y), float(z))))
    ordered = sorted(pts, key=_simplicity_key)
    arr = np.asarray(ordered, dtype=np.float64)
    arr.setflags(write=False)
    return arr


@functools.lru_cache(maxsize=1)
def reference_space() -> WasonSpace:
    return WasonSpace()


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return analytics.trace(reference_space(), history, examples=public.get("examples") or [])


# -- the application quiz ----------------------------------------------------------------------------

QUIZ_ITEMS = 6


def quiz_items(instance: Instance) -> list[list[int | float]]:
    """Fresh triples to predict with the guess: the same for every player of the instance, none
    of them a given example, deterministic in (family, version, seed, params). From version 2
    they depend on public data only (``common.public_quiz_pick``); version 1 instances keep
    their half-fitting items so their matches replay and score as they were played."""
    examples = tuple(tuple(e["input"]) for e in instance.public.get("examples") or [])
    if instance.version < PUBLIC_QUIZ_VERSION:
        params = json.dumps(instance.params, sort_keys=True)
        return [list(p) for p in _quiz_items_v1(instance.hidden["rule"], instance.seed, params, examples)]
    public_params = json.dumps(common.quiz_rng_key(instance.params), sort_keys=True)
    return [list(p) for p in _public_quiz_items(instance.seed, public_params, examples)]


@functools.lru_cache(maxsize=1)
def _quiz_pool() -> tuple[npt.NDArray[np.float64], tuple[npt.NDArray[np.bool_], ...]]:
    """The quiz's candidate triples (integers -10..20) and its strata: shapes that no rule is
    asked about, mixed in so that common rules (orderings, equalities, progressions) do not
    answer every item the same way."""
    pts, n_grid = domain()
    grid = pts[:n_grid]
    pool = grid[np.all((grid >= -10) & (grid <= 20), axis=1)]
    x, y, z = pool[:, 0], pool[:, 1], pool[:, 2]
    anything = np.ones(len(pool), dtype=bool)
    strata = (
        anything,
        anything,
        (x == y) | (y == z) | (x == z),
        ((x < y) & (y < z)) | ((x > y) & (y > z)),
        (y - x == z - y) & (x != y),
        np.all((pool >= 1) & (pool <= 12), axis=1),
    )
    return pool, strata


@functools.lru_cache(maxsize=1024)
def _public_quiz_items(
    seed: int, public_params: str, examples: tuple[tuple[Any, ...], ...]
) -> tuple[tuple[Any, ...], ...]:
    rng = seeded_rng("quiz", FAMILY_ID, PUBLIC_QUIZ_VERSION, seed, json.loads(public_params))
    pool, strata = _quiz_pool()
    eligible = common.not_examples(pool, examples)
    picked = common.public_quiz_pick(rng, eligible=eligible, strata=strata[:QUIZ_ITEMS])
    return tuple(tuple(_point_json(pool[i])) for i in picked)


@functools.lru_cache(maxsize=1024)
def _quiz_items_v1(
    rule_text: str, seed: int, params: str, examples: tuple[tuple[Any, ...], ...]
) -> tuple[Any, ...]:
    """Generator version 1: half the items fit the hidden rule (which leaked 2-3 bits)."""
    rng = seeded_rng("quiz", FAMILY_ID, 1, seed, json.loads(params))
    truth = truth_on_domain(parse(rule_text))
    pts, n_grid = domain()
    grid = pts[:n_grid]
    eligible = common.not_examples(grid, examples, np.all((grid >= -10) & (grid <= 20), axis=1))
    picked = common.half_true_pick(rng, eligible=eligible, truth=truth[:n_grid], count=QUIZ_ITEMS)
    return tuple(tuple(_point_json(grid[i])) for i in picked)


def quiz_score(instance: Instance, guess: str | None, answers: Sequence[Any]) -> dict[str, Any]:
    """The quiz answers, scored against the hidden rule and against the player's own rule."""
    return common.quiz_score(
        items=quiz_items(instance),
        arity=3,
        hidden=parse(instance.hidden["rule"]),
        guess=guess,
        parse=parse,
        answers=answers,
    )


def _random_test(rng: random.Random) -> list[int | float]:
    return [rng.randint(-10, 20) for _ in VARIABLES]


FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="Number triples (Wason 2-4-6)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=score,
        describe=describe,
        render_observation=render_observation,
        solvers=common.baseline_solvers(reference_space, _random_test),
        step_analytics=step_analytics,
        rule_size=rule_size,
        quiz_items=quiz_items,
        quiz_score=quiz_score,
        extras={
            "equivalence": equivalence,
            "parse": parse,
            "reference_space": reference_space,
            "domain": domain,
        },
    )
)

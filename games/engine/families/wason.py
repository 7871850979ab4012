"""Family ``wason``: a hidden boolean rule over a triple of numbers (x, y, z).

As in Wason's 2-4-6 task and WILT: the player is shown an example triple that
fits the rule, runs tests (any triple -> True/False), then states the rule. The
guess is judged by equivalence over a fixed evaluation domain, not by text.

Meaning of a rule (generator version 3 on): exact arithmetic on the decimals a player types
(``games.engine.exact``): 0.1 is one tenth, so ``x + y == z`` and ``z - x == y`` are one rule
and (-3, 0.1, -2.9) fits both. The judge's domain (``exact_domain``) holds, simplest first:
every integer triple in -20..20, every triple of halves in -4..4, every triple of tenths in
-0.6..0.6, triples with one half in -20..20 and two integers in -2..2, with one tenth in -20..20
and two integers in -1..1, with one integer in -100..100 and two in -1..1, sums and products of tenths in -1.5..1.5 with their operands (in every order), seeded
random tenths in -20..20, hundredths in -100..100 and thousandths in 1..100, and edge values up
to 10^6; a point is only compared when every value is within the instance's ``input_bound``, so
a counterexample is always a test the player could have run. The simplicity order: integers,
then halves, then tenths, then finer decimals; inside a class by the sum and then the maximum
of the absolute values, then fewer negative values.

Versions 1 and 2 evaluated rules in binary floating point on the domain below and keep doing so,
so their matches replay and are judged as they were played.

Evaluation domain (generator versions 1 and 2): the integer grid -20..20 in each
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

from games.engine import analytics, dsl, exact, fixed
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
)
from games.engine.dsl import MAX_MAGNITUDE, Rule, compile_rule, parse_rule
from games.engine.families import common
from games.engine.hypotheses import HypothesisSpace, points_to_columns

FAMILY_ID = "wason"
# Generator versions: 1 drew the application quiz from the hidden rule (exactly half fitting);
# 2 draws it from public data only. Rules, examples and the judge's domain did not change, so
# they keep drawing from the version 1 random streams: a seed gives the same rule in both, and
# old matches are judged on the same domain.
# 3 gives rules their exact meaning on decimals (oracle, judge and quiz); the rule, the examples
# and the quiz items of a seed are those of version 2.
VERSION = 3
RULE_STREAM_VERSION = 1
PUBLIC_QUIZ_VERSION = 2
EXACT_VERSION = 3
VARIABLES = ("x", "y", "z")
# The syntax example in the instructions (never a rule the generator produces).
RULE_EXAMPLE = "min(x, z) > 3 and y != 4"
GRID = 20
FLOAT_POINTS = 10_000

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "tier": {
            "x-knob": True,
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


# -- the exact domain (version 3 on) --------------------------------------------------------

SCALE = 1000  # every point of the exact domain is a multiple of 1/1000
HALF_RANGE = 4
TENTH_TENTHS = 6  # the cube of tenths -0.6..0.6
RELATION_RANGE = 15  # tenths
RANDOM_TENTHS = 6000
RANDOM_HUNDREDTHS = 3000
RANDOM_THOUSANDTHS = 3000
# values up to this (in 1/SCALE) keep fixed-point products of a few factors within int64
FIXED_POINT_SMALL = 1000 * SCALE


def point_class(point: Sequence[Any]) -> int:
    """0 integers, 1 halves, 2 tenths, 3 hundredths, 4 anything finer."""
    worst = 0
    for v in point:
        f = exact.to_fraction(v)
        d = f.denominator
        worst = max(worst, 0 if d == 1 else 1 if d == 2 else 2 if 10 % d == 0 else 3 if 100 % d == 0 else 4)
    return worst


def simplicity_key(point: Sequence[Any]) -> tuple[Any, ...]:
    """The documented order of counterexamples: integers, then halves, then tenths, then finer
    decimals; small before large (sum, then maximum of the absolute values); non-negative
    first; then the values themselves so the order is total."""
    fr = [exact.to_fraction(v) for v in point]
    mags = tuple(abs(v) for v in fr)
    return (point_class(point), sum(mags), max(mags), sum(v < 0 for v in fr), mags, tuple(fr))


@functools.lru_cache(maxsize=1)
def exact_domain() -> tuple[npt.NDArray[np.int64], list[npt.NDArray[np.int64]], list[npt.NDArray[np.int64]]]:
    """(points as multiples of 1/SCALE, shape (N, 3), simplest first; numerator and denominator
    columns for ``exact.compile_exact``)."""
    pts: set[tuple[int, int, int]] = set()
    r = range(-GRID * SCALE, GRID * SCALE + 1, SCALE)
    pts.update(itertools.product(r, r, r))
    halves = range(-HALF_RANGE * SCALE, HALF_RANGE * SCALE + 1, SCALE // 2)
    pts.update(itertools.product(halves, halves, halves))
    tenths = range(-TENTH_TENTHS * SCALE // 10, TENTH_TENTHS * SCALE // 10 + 1, SCALE // 10)
    pts.update(itertools.product(tenths, tenths, tenths))
    # one coordinate a half or a tenth anywhere in -20..20, the others small integers: the
    # thresholds of single-variable rules (``y < 5`` against ``y <= 4`` differ at 4.5)
    for step, reach in ((SCALE // 2, 2), (SCALE // 10, 1)):
        small = range(-reach * SCALE, reach * SCALE + 1, SCALE)
        for v in range(-GRID * SCALE, GRID * SCALE + 1, step):
            for a, b in itertools.product(small, small):
                pts.update({(v, a, b), (a, v, b), (a, b, v)})
    tiny = range(-SCALE, SCALE + 1, SCALE)
    for v in range(-100 * SCALE, 100 * SCALE + 1, SCALE):
        for a, b in itertools.product(tiny, tiny):
            pts.update({(v, a, b), (a, v, b), (a, b, v)})
    rel = range(-RELATION_RANGE * SCALE // 10, RELATION_RANGE * SCALE // 10 + 1, SCALE // 10)
    for a in rel:
        for b in rel:
            for c in (a + b, (a * b) // SCALE):
                pts.update(itertools.permutations((a, b, c), 3))
    rng = np.random.default_rng(20261201)
    for count, step, bound in (
        (RANDOM_TENTHS, SCALE // 10, 20),
        (RANDOM_HUNDREDTHS, SCALE // 100, 100),
    ):
        k = bound * SCALE // step
        pts.update(map(tuple, (rng.integers(-k, k + 1, size=(count, 3)) * step).tolist()))
    pts.update(map(tuple, rng.integers(1 * SCALE, 100 * SCALE + 1, size=(RANDOM_THOUSANDTHS, 3)).tolist()))
    specials: list[float] = [50, 100, -100, 1000, 99.5, 10**6, -(10**6), 10**5, 123.25]
    for special in specials:
        sa = int(round(special * SCALE))
        pts.add((sa, sa, sa))
        for b in (0, 1, -1, 2):
            sb = b * SCALE
            pts.update(itertools.permutations((sa, sb, sb), 3))
            pts.update(itertools.permutations((sa, sb, 2 * sb), 3))
    arr = np.array(sorted(pts), dtype=np.int64)
    mags = np.abs(arr)
    cls = np.full(len(arr), 4, dtype=np.int64)
    for level, step in ((3, SCALE // 100), (2, SCALE // 10), (1, SCALE // 2), (0, SCALE)):
        cls = np.where(np.all(arr % step == 0, axis=1), level, cls)
    order = np.lexsort(
        (
            arr[:, 2],
            arr[:, 1],
            arr[:, 0],
            mags[:, 2],
            mags[:, 1],
            mags[:, 0],
            (arr < 0).sum(axis=1),
            mags.max(axis=1),
            mags.sum(axis=1),
            cls,
        )
    )
    arr = arr[order]
    arr.setflags(write=False)
    g = np.gcd(arr, SCALE)
    nums = [np.ascontiguousarray(arr[:, i] // g[:, i]) for i in range(3)]
    dens = [np.ascontiguousarray(SCALE // g[:, i]) for i in range(3)]
    return arr, nums, dens


def _exact_point_json(scaled: Sequence[int]) -> list[int | float]:
    out: list[int | float] = []
    for v in scaled:
        q, rem = divmod(int(v), SCALE)
        out.append(q if rem == 0 else float(f"{int(v) / SCALE:.3f}"))
    return out


@functools.lru_cache(maxsize=1)
def _integer_prefix() -> tuple[int, tuple[npt.NDArray[np.float64], ...]]:
    """How many points at the start of the exact domain are triples of integers and halves (the
    simplicity order puts them first), and those points as float columns (exact: halves are
    binary fractions)."""
    arr, _, _ = exact_domain()
    n = int(np.argmin(np.all(arr % (SCALE // 2) == 0, axis=1)))
    cols = tuple(np.ascontiguousarray(arr[:n, i] / SCALE) for i in range(3))
    return n, cols


@functools.lru_cache(maxsize=1)
def _integer_prefix_finite() -> bool:
    """Every value of the integer-and-half prefix is within ``MAX_MAGNITUDE`` (the domain's
    values are at most 10**6), so the float path needs no per-value check there."""
    _, int_cols = _integer_prefix()
    return bool(max(float(np.abs(c).max(initial=0.0)) for c in int_cols) <= MAX_MAGNITUDE)


@functools.lru_cache(maxsize=1)
def _integer_prefix_peak() -> float:
    """The largest magnitude in the integer-and-half prefix (10**6, the edge values)."""
    _, int_cols = _integer_prefix()
    return max(float(np.abs(c).max(initial=0.0)) for c in int_cols)


@functools.lru_cache(maxsize=1)
def _domain_bounded() -> bool:
    """Every value of the exact domain is within ``MAX_MAGNITUDE`` (they are at most 10**6)."""
    arr, _, _ = exact_domain()
    return bool(np.abs(arr).max() <= MAX_MAGNITUDE * SCALE)


@functools.lru_cache(maxsize=1)
def _scaled_columns() -> tuple[npt.NDArray[np.int64], ...]:
    """The exact domain's columns as multiples of 1/SCALE (for ``fixed.compile_fixed``)."""
    arr, _, _ = exact_domain()
    return tuple(np.ascontiguousarray(arr[:, i]) for i in range(3))


@functools.lru_cache(maxsize=64)
def _scaled_peaks(start: int, end: int) -> tuple[int, ...]:
    """The largest magnitude of each column of the exact domain's points ``start..end`` (the
    judge's chunks recur: worked out once)."""
    return tuple(
        max(int(c[start:end].max()), -int(c[start:end].min())) if end > start else 0
        for c in _scaled_columns()
    )


@functools.lru_cache(maxsize=64)
def _fixed_point_split(
    start: int, end: int
) -> tuple[npt.NDArray[np.bool_], tuple[npt.NDArray[np.int64], ...], tuple[int, ...]]:
    """Of the exact domain's points ``start..end``: which have every value within
    ``FIXED_POINT_SMALL``, those points' columns and their largest magnitudes (the judge's chunks
    recur: worked out once)."""
    chunk = [c[start:end] for c in _scaled_columns()]
    small = np.ones(end - start, dtype=bool)
    for c in chunk:
        small &= np.abs(c) <= FIXED_POINT_SMALL
    small.setflags(write=False)
    cols = tuple(np.ascontiguousarray(c[small]) for c in chunk)
    peaks = tuple(max(int(c.max()), -int(c.min())) if len(c) else 0 for c in cols)
    return small, cols, peaks


def exact_evaluator(rule: Rule) -> Any:
    """(nums, dens, start) -> truth on the exact domain's points ``start..start+len``.

    Three evaluators, fastest first, all with the exact meaning:

    * on triples of integers and halves a rule whose every step keeps such numbers binary
      fractions (no ``/``, ``sqrt``, ``**`` or decimal constant: ``+ - *``, ``// %`` (exact on
      binary fractions in IEEE arithmetic), comparisons and the integer functions) is evaluated in
      float64 by ``dsl``, which is exact there: every value is a multiple of a power of one half
      with few bits, and one past 2**53 is also past the magnitude bound, undefined either way;
    * elsewhere ``fixed.compile_fixed`` evaluates it in int64 fixed point (every point is a
      multiple of 1/SCALE; ``sqrt`` as ``exact`` rounds it, the few roots of values past 2**52
      one by one), unless the rule needs more (``/`` outside ``is_int``, ``**``) or a chunk's
      values could overflow;
    * and ``exact.compile_exact`` (numerator and denominator pairs) takes the rest.

    Tests compare them on the whole domain."""
    bounded = _domain_bounded()
    compiled: list[Any] = []
    try:
        in_fixed_point: Any = fixed.compile_fixed(rule, SCALE)
    except fixed.Unsupported:
        in_fixed_point = None
    scaled = _scaled_columns()

    def in_exact(nums: Any, dens: Any) -> npt.NDArray[np.bool_]:
        # compiled on first use: most judgements never need it
        if not compiled:
            compiled.append(exact.compile_exact(rule))
        out: npt.NDArray[np.bool_] = compiled[0](nums, dens, bounded=bounded)
        return out

    def slow(nums: Any, dens: Any, start: int) -> npt.NDArray[np.bool_]:
        if in_fixed_point is None:
            return in_exact(nums, dens)
        end = start + len(nums[0])
        chunk = [c[start:end] for c in scaled]
        try:
            whole: npt.NDArray[np.bool_] = in_fixed_point(chunk, _scaled_peaks(start, end))
            return whole
        except fixed.Overflow:
            pass
        # the few points with large values (the edge values up to 10**6) go to the exact
        # evaluator, the rest stay in fixed point
        small, small_cols, small_peaks = _fixed_point_split(start, end)
        try:
            head = in_fixed_point(small_cols, small_peaks)
        except fixed.Overflow:
            return in_exact(nums, dens)
        out = np.empty(len(chunk[0]), dtype=bool)
        out[small] = head
        large = ~small
        if large.any():
            out[large] = in_exact([c[large] for c in nums], [c[large] for c in dens])
        return out

    if not _integer_closed(rule.tree) or (in_fixed_point is not None and _divides(rule.tree)):
        # float64 is the fastest on integers, but its % and // are many times slower than
        # integer division by a constant
        return slow
    n_int, int_cols = _integer_prefix()
    finite = _integer_prefix_finite()
    # given only the prefix's columns: a sum or product that stays within the magnitude limit
    # there is not checked value by value
    fast = compile_rule(rule, var_bound=_integer_prefix_peak() if finite else None)

    def run(nums: Any, dens: Any, start: int) -> npt.NDArray[np.bool_]:
        end = start + len(nums[0])
        if end <= n_int:
            return fast([c[start:end] for c in int_cols], finite=finite)
        if start >= n_int:
            return slow(nums, dens, start)
        k = n_int - start
        head = fast([c[start:n_int] for c in int_cols], finite=finite)
        tail = slow([c[k:] for c in nums], [c[k:] for c in dens], n_int)
        return np.concatenate([head, tail])

    return run


def _divides(node: Any) -> bool:
    if isinstance(node, dsl.Bin) and node.op in ("//", "%"):
        return True
    children: tuple[Any, ...] = ()
    if isinstance(node, dsl.Bin):
        children = (node.left, node.right)
    elif isinstance(node, (dsl.Neg, dsl.Not)):
        children = (node.operand,)
    elif isinstance(node, (dsl.Cmp, dsl.BoolOp)):
        children = node.operands
    elif isinstance(node, dsl.IfExp):
        children = (node.cond, node.then, node.orelse)
    elif isinstance(node, dsl.Call):
        children = node.args
    return any(_divides(c) for c in children)


def _integer_closed(node: Any) -> bool:
    if isinstance(node, dsl.Num):
        return isinstance(node.value, bool) or float(node.value).is_integer()
    if isinstance(node, dsl.Var):
        return True
    if isinstance(node, dsl.Bin):
        return node.op not in ("/", "**") and _integer_closed(node.left) and _integer_closed(node.right)
    if isinstance(node, dsl.Call):
        return node.func != "sqrt" and all(_integer_closed(a) for a in node.args)
    if isinstance(node, (dsl.Neg, dsl.Not)):
        return _integer_closed(node.operand)
    if isinstance(node, (dsl.Cmp, dsl.BoolOp)):
        return all(_integer_closed(o) for o in node.operands)
    if isinstance(node, dsl.IfExp):
        return all(_integer_closed(p) for p in (node.cond, node.then, node.orelse))
    return False


@functools.lru_cache(maxsize=256)
def _exact_truth(canonical: str) -> npt.NDArray[np.bool_]:
    _, nums, dens = exact_domain()
    values: npt.NDArray[np.bool_] = exact_evaluator(parse(canonical))(nums, dens, 0)
    values.setflags(write=False)
    return values


@functools.lru_cache(maxsize=16)
def _testable(bound: float) -> npt.NDArray[np.bool_]:
    arr, _, _ = exact_domain()
    mask: npt.NDArray[np.bool_] = np.all(np.abs(arr) <= bound * SCALE, axis=1)
    mask.setflags(write=False)
    return mask


@functools.lru_cache(maxsize=1)
def _exact_grid_mask() -> npt.NDArray[np.bool_]:
    arr, _, _ = exact_domain()
    mask: npt.NDArray[np.bool_] = np.all(arr % SCALE == 0, axis=1) & np.all(
        np.abs(arr) <= GRID * SCALE, axis=1
    )
    return mask


def exact_equivalence(
    a: Rule, b: Rule, *, agreement: bool = True, cache: bool = True, input_bound: float = 1e6
) -> dict[str, Any]:
    """``equivalence`` with exact arithmetic (version 3 on): the first differing testable point
    of ``exact_domain`` (simplest first) is the counterexample; ``grid_agreement`` is measured
    on the integer grid. With ``agreement=False`` the domain is evaluated in growing prefixes
    and a difference in one ends the check."""
    arr, nums, dens = exact_domain()
    testable = _testable(float(input_bound))
    if cache:
        ta, tb = _exact_truth(a.text), _exact_truth(b.text)
    elif agreement:
        ta, tb = exact_evaluator(a)(nums, dens, 0), exact_evaluator(b)(nums, dens, 0)
    else:
        fa, fb = exact_evaluator(a), exact_evaluator(b)
        parts_a: list[npt.NDArray[np.bool_]] = []
        parts_b: list[npt.NDArray[np.bool_]] = []
        start = 0
        for end in (*EARLY_STAGES, 32768, len(arr)):
            chunk_n = [c[start:end] for c in nums]
            chunk_d = [c[start:end] for c in dens]
            ha, hb = fa(chunk_n, chunk_d, start), fb(chunk_n, chunk_d, start)
            parts_a.append(ha)
            parts_b.append(hb)
            start = end
            if np.any((ha != hb) & testable[start - len(ha) : start]):
                break
        ta, tb = np.concatenate(parts_a), np.concatenate(parts_b)
    diff = (ta != tb) & testable[: len(ta)]
    grid_agree = None
    if agreement:
        grid = _exact_grid_mask()
        grid_agree = float(np.mean(ta[grid] == tb[grid]))
    if not diff.any():
        return {
            "equivalent": True,
            "counterexample": None,
            "a": None,
            "b": None,
            "checked": int(testable[: len(ta)].sum()),
            "grid_agreement": grid_agree,
        }
    i = int(np.argmax(diff))
    return {
        "equivalent": False,
        "counterexample": _exact_point_json(arr[i]),
        "a": bool(ta[i]),
        "b": bool(tb[i]),
        "checked": int(testable[: len(ta)].sum()),
        "grid_agreement": grid_agree,
    }


@functools.lru_cache(maxsize=1)
def _judge_stages() -> tuple[int, ...]:
    """Where the fast judge checks for a difference: the simplest 256 and 4,096 points, the end
    of the integer triples (the integer grid, needed whole for the partial credit, lies inside
    them), the end of the integers-and-halves prefix (float path), then chunks of the decimals."""
    arr, _, _ = exact_domain()
    n_all = len(arr)
    n_int0 = int(np.argmin(np.all(arr % SCALE == 0, axis=1)))
    n_half, _ = _integer_prefix()
    ends = {256, 4096, n_int0, n_half, n_half + 8192, n_all}
    return tuple(sorted(e for e in ends if 0 < e <= n_all))


@functools.lru_cache(maxsize=16)
def _testable_counts(bound: float) -> npt.NDArray[np.int64]:
    """``counts[n]``: how many of the first n points of the domain are testable."""
    counts: npt.NDArray[np.int64] = np.concatenate([[0], np.cumsum(_testable(bound), dtype=np.int64)])
    counts.setflags(write=False)
    return counts


@functools.lru_cache(maxsize=1)
def _grid_mask_prefix() -> npt.NDArray[np.bool_]:
    """The integer grid's positions among the integer triples (which the simplicity order puts
    first, and which hold the whole grid)."""
    n_int0 = _judge_stages()[2]
    mask = _exact_grid_mask()
    assert not mask[n_int0:].any()
    prefix: npt.NDArray[np.bool_] = np.ascontiguousarray(mask[:n_int0])
    prefix.setflags(write=False)
    return prefix


@functools.lru_cache(maxsize=1)
def _grid_size() -> int:
    return int(_exact_grid_mask().sum())


@functools.lru_cache(maxsize=1)
def _judge_calls() -> tuple[tuple[int, int], ...]:
    """The spans the judge evaluates the guess on, one evaluator call each (with the partial
    credit): the integers and halves (``_integer_prefix``: the float path, in one numpy pass per
    operation), then the decimals (fixed point). Each call costs a fixed amount besides its
    points, so the stages that only decide where a difference is reported (``checked``) are not
    separate calls (a "different" verdict found among the integer triples also evaluates the
    6,655 triples of halves, about a tenth more); a difference among the integers and halves still
    ends the check before the decimals."""
    stages = _judge_stages()
    n_half, n_all = stages[3], stages[-1]
    return ((0, n_half), (n_half, n_all))


@functools.lru_cache(maxsize=16)
def _all_testable(bound: float) -> bool:
    return bool(_testable(bound).all())


def exact_judge(
    hidden: Rule, guess: Rule, *, input_bound: float = 1e6, agreement: bool = True
) -> dict[str, Any]:
    """The judge (version 3 on), fast and with the same verdict as ``exact_equivalence``.

    The hidden rule's truth on the whole domain is computed once and kept (``_exact_truth``, by
    canonical text: one instance's hidden rule is judged against many guesses). The guess is
    evaluated on the domain in simplicity order and the check stops at the first stage
    (``_judge_stages``) holding a testable difference: the first difference in the order is the
    counterexample, exactly as over the whole domain. With ``agreement`` the guess is always
    evaluated on every integer triple first, so the partial credit (``grid_agreement``, on the
    integer grid) is the full-domain figure; there the guess is evaluated in two calls
    (``_judge_calls``: integers and halves, then decimals) and the stages only say how far the
    check went. A "same" verdict still evaluates the guess everywhere. ``checked`` counts the
    testable points compared: those up to the end of the stage holding the first difference
    (the figure is the same however the evaluation is split)."""
    arr, nums, dens = exact_domain()
    bound = float(input_bound)
    testable = _testable(bound)
    every = _all_testable(bound)
    counts = _testable_counts(bound)
    th = _exact_truth(hidden.text)
    fg = exact_evaluator(guess)
    stages = _judge_stages()
    grid_agree = None
    first = -1
    if agreement:
        # every integer triple is evaluated (they hold the whole grid, for the partial credit);
        # after them the check stops at the first call holding a testable difference
        n_int0 = stages[2]
        grid = _grid_mask_prefix()
        wrong_on_grid = 0
        for start, end in _judge_calls():
            part = fg([c[start:end] for c in nums], [c[start:end] for c in dens], start)
            differs = part != th[start:end]
            if start < n_int0:
                upto = min(end, n_int0)
                wrong_on_grid += int(np.count_nonzero(differs[: upto - start] & grid[start:upto]))
            if not every:
                differs &= testable[start:end]
            if first < 0 and differs.any():  # (np.flatnonzero writes an index array: dearer)
                first = start + int(np.argmax(differs))
            if first >= 0 and end >= n_int0:
                break
        grid_agree = (_grid_size() - wrong_on_grid) / _grid_size()
        # how far the check went: to the end of the stage holding the first difference (the
        # integer triples count as one), whatever the calls were
        if first < 0:
            start = stages[-1]
        else:
            start = n_int0 if first < n_int0 else min(e for e in stages if e > first)
    else:
        start = 0
        for end in stages:
            if first >= 0:
                break
            part = fg([c[start:end] for c in nums], [c[start:end] for c in dens], start)
            hits = np.flatnonzero((part != th[start:end]) & testable[start:end])
            if len(hits):
                first = start + int(hits[0])
            start = end
    checked = int(counts[start])
    if first < 0:
        return {
            "equivalent": True,
            "counterexample": None,
            "a": None,
            "b": None,
            "checked": checked,
            "grid_agreement": grid_agree,
        }
    i = first
    return {
        "equivalent": False,
        "counterexample": _exact_point_json(arr[i]),
        "a": bool(th[i]),
        "b": not th[i],
        "checked": checked,
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


def _degenerate_exact(rule: Rule, input_bound: float) -> str | None:
    testable = _testable(input_bound)
    truth = _exact_truth(rule.text)[testable]
    if truth.all():
        return "always true on the evaluation domain"
    if not truth.any():
        return "never true on the evaluation domain"
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
        # a hand-written rule is checked with the meaning the oracle gives it (exact decimals):
        # "x + y - y == x" is always true, whatever floating point says
        problem = _degenerate_exact(rule, float(p["input_bound"]))
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
        "arithmetic": "exact",  # version 3 on: decimals are exact (see the module docstring)
    }
    # the share of the (exact, testable) judge domain where the rule holds
    true_fraction = float(_exact_truth(rule.text)[_testable(float(p["input_bound"]))].mean())
    hidden = {"rule": rule.text, "size": rule.size, "true_fraction": true_fraction}
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
    if instance.version >= EXACT_VERSION:
        return exact.evaluate_point(rule, point)
    return bool(compile_rule(rule)(points_to_columns([point], 3))[0])


def guess_answer(instance: Instance, guess: str, query: Any) -> bool:
    """What the guess answers at a test, by the oracle's own arithmetic for the instance."""
    point = parse_query(instance.public, query)
    rule = parse_rule(guess, VARIABLES)
    if instance.version >= EXACT_VERSION:
        return exact.evaluate_point(rule, point)
    return bool(compile_rule(rule)(points_to_columns([point], 3))[0])


def check_rule(text: str) -> dict[str, Any]:
    return common.check_rule(text, parse)


def judge(instance: Instance, guess: str) -> Verdict:
    hidden = parse(instance.hidden["rule"])
    g = parse_rule(guess, VARIABLES)
    if instance.version >= EXACT_VERSION:
        eq = exact_judge(hidden, g, input_bound=float(instance.public.get("input_bound", 1e6)))
    else:
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
        f"Write the rule as a Python-style condition over x, y and z, for example: {RULE_EXAMPLE}.",
        "Allowed: numbers, x y z, + - * / // % **, comparisons (also chained, like 1 < x <= 9), and/or/not, "
        f"'a if c else b', & | ^ on integers, and the functions {FUNCTION_LIST}.",
        f"Test values must be between {-float(public['input_bound']):g} and {float(public['input_bound']):g}; decimals are allowed.",
    ]
    if public.get("arithmetic") == "exact":
        lines.append(
            "Numbers mean exactly what they say: arithmetic on decimals is exact (0.1 + 0.2 == 0.3, "
            "and -3 + 0.1 == -2.9), as in mathematics, not as in floating point."
        )
    return "\n".join(lines)


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    return common.render_observation(public, history, tests_left, show_input=format_input)


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

    def exact_truth(self, points: Sequence[Sequence[Any]]) -> npt.NDArray[np.bool_]:
        """``truth`` with exact arithmetic (generator version 3 on): the points a player tests
        are judged as the oracle answered them (``x + y == z`` holds at (-3, 0.1, -2.9))."""
        if len(points) == 0:
            return np.zeros((len(self), 0), dtype=bool)
        nums, dens = exact.columns(points, 3)
        atoms = np.stack([exact.compile_exact(r)(nums, dens) for r in self.atom_rules])
        return self._compose(atoms, self.hi, self.hj, self.hop)


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
    space = reference_space()
    exact_meaning = public.get("arithmetic") == "exact"  # version 3 on
    return analytics.trace(
        space,
        history,
        examples=public.get("examples") or [],
        evaluate=space.exact_truth if exact_meaning else None,
    )


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
    exact_answers = None
    if instance.version >= EXACT_VERSION:

        def exact_answers(rule: Rule, items: Sequence[Sequence[Any]]) -> list[bool]:
            return [exact.evaluate_point(rule, item) for item in items]

    return common.quiz_score(
        items=quiz_items(instance),
        arity=3,
        hidden=parse(instance.hidden["rule"]),
        guess=guess,
        parse=parse,
        answers=answers,
        evaluate=exact_answers,
    )


def _random_test(rng: random.Random) -> list[int | float]:
    return [rng.randint(-10, 20) for _ in VARIABLES]


def random_input(rng: random.Random, public: Mapping[str, Any]) -> list[int | float]:
    """A random testable triple: integers, halves, tenths, hundredths or thousandths, negative
    ones too, mostly small, sometimes up to the instance's ``input_bound``."""
    bound = float(public.get("input_bound", 1e6))
    out: list[int | float] = []
    for _ in VARIABLES:
        places = rng.choice((0, 0, 1, 1, 2, 3))
        scale = 10**places
        top = rng.choice((5, 20, 100, 1000, int(bound)))
        top = int(min(top, bound))
        k = rng.randint(-top * scale, top * scale)
        out.append(k // scale if k % scale == 0 else float(f"{k / scale:.{places}f}"))
    return out


def format_input(value: Any) -> str:
    return "(" + ", ".join(_fmt(v) for v in value) + ")"


def format_answer(value: Any) -> str:
    return "fits the rule (True)" if value is True else "does not fit the rule (False)"


def _simplicity_key_json(value: Any) -> tuple[Any, ...]:
    return simplicity_key(value)


SYNTAX_HELP = (
    "A Python-style condition over x, y and z. Allowed: numbers, x y z, + - * / // % **, comparisons "
    "(also chained, like 1 < x <= 9), and/or/not, 'a if c else b', & | ^ on integers, and the "
    f"functions {FUNCTION_LIST}. Arithmetic is exact on decimals: 0.1 + 0.2 == 0.3 holds."
)
PRESENTATION = Presentation(
    input_schema={
        "type": "array",
        "items": {"type": "number", "description": "a decimal number, at most input_bound in size"},
        "minItems": 3,
        "maxItems": 3,
        "description": "a triple of numbers [x, y, z]",
    },
    answer_schema={"type": "boolean", "description": "whether the triple fits the hidden rule"},
    guess_schema={"type": "string", "maxLength": 2000, "description": "a condition over x, y, z"},
    guess_pattern=dsl.rule_pattern(VARIABLES),
    widget={"kind": "number_tuple", "fields": [{"name": v, "label": v} for v in VARIABLES]},
    test_noun="a triple",
    input_placeholder="[x, y, z]",
    input_example=[1, 2, 3],
    rule_example=RULE_EXAMPLE,
    guess_label="x, y, z",
    syntax_help=SYNTAX_HELP,
    format_input=format_input,
    format_answer=format_answer,
    answer_words={"true": "fits the rule", "false": "does not fit the rule"},
    simplicity_key=_simplicity_key_json,
    simplicity_order=(
        "integers, then halves, then tenths, then finer decimals; inside a class by the sum and then the "
        "maximum of the absolute values (small first), then fewer negative values"
    ),
)
_TIER_TITLES = (
    ("Orderings and signs", "Rules about which number is bigger, and signs. The classic 2-4-6 task."),
    ("Parity and equalities", "Even and odd, equal numbers, one arithmetic relation."),
    ("Sums, products, max and min", "Rules that combine the numbers arithmetically."),
    ("Two clauses", "Two conditions joined by and / or."),
    ("Float tricks and number theory", "Fractions, divisibility and other subtle rules."),
)
VARIANTS = tuple(
    VariantSpec(
        slug=f"wason-tier-{tier}",
        title=f"Wason tier {tier}: {title}",
        params={"tier": tier, "max_tests": 30},
        description=description,
        starter=tier == 1,
    )
    for tier, (title, description) in enumerate(_TIER_TITLES, 1)
)
# The guided first puzzle: the numbers go up. The rule is written here in the open: the guide is
# unranked and teaches how to play, it is not a contest.
VARIANTS += (
    VariantSpec(
        slug="wason-learn",
        title="Learn in one minute",
        params={"tier": 1, "max_tests": 10, "rule": "x < y < z"},
        description="A guided first puzzle: a hint at each step, an easy rule.",
        tutorial=True,
    ),
)


REFERENCE_SPACE = ReferenceSpace(
    "enumerated",
    "Every clause of the generator's grammar and every pair of clauses joined by and / or, "
    "listed; rules with the same answers on a pool of about 2,300 probe triples count once (so a count "
    "is of behaviours on that pool). Hidden rules are in it; a hand-written rule outside it empties it.",
)


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
        scoring_help=common.scoring_help,
        explain_score=common.explain_score,
        describe=describe,
        render_observation=render_observation,
        solvers=common.baseline_solvers(reference_space, _random_test),
        step_analytics=step_analytics,
        rule_size=rule_size,
        quiz_items=quiz_items,
        quiz_score=quiz_score,
        reference_space=REFERENCE_SPACE,
        presentation=PRESENTATION,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        extras={
            "equivalence": exact_equivalence,
            "judge_fast": exact_judge,
            "equivalence_v2": equivalence,
            "parse": parse,
            "reference_space": reference_space,
            "domain": domain,
        },
    )
)

"""Exact evaluation of number rules: every number is the rational it is written as.

The float evaluators in ``dsl`` give ``-3 + 0.1 == -2.9`` the answer of binary floating point
(False), so ``x + y == z`` and ``z - x == y`` were different rules on decimals. Here a number a
player types is the decimal it reads as (``0.1`` is 1/10) and ``+ - * / // % **`` (integer
exponents), comparisons, ``abs min max int round floor ceil gcd is_int is_square`` are exact.
Only two things are not rational: ``sqrt`` of a rational that is not a square, and ``**`` with a
non-integer exponent. Their result is rounded to ``IRRATIONAL_PLACES`` (9) decimal places (from
the double nearest to it), so it is a rational again and everything after it is exact; this is
documented as the one approximation (``sqrt(2) * sqrt(2) == 2`` is False). Undefined values
(division by zero, ``sqrt`` of a negative, a magnitude above ``MAX_MAGNITUDE`` ...) make the rule
False at that point, as in ``dsl``.

Two evaluators share this meaning:

* ``evaluate_point``: one point with ``fractions.Fraction`` (the oracle);
* ``compile_exact``: many points at once, as numpy int64 numerator/denominator pairs. A point
  where a value would leave the int64-safe range, or becomes irrational, is marked and
  re-evaluated with ``evaluate_point``, so both always agree (a property test checks it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.dsl import (
    MAX_MAGNITUDE,
    MAX_RUNTIME_EXPONENT,
    Bin,
    BoolOp,
    Call,
    Cmp,
    IfExp,
    Neg,
    Node,
    Not,
    Num,
    Rule,
    Var,
    gcd_arr,
)

Exact = Fraction | float | bool | None  # None = undefined; float only after an irrational step

# numpy's stubs lose int64-ness through np.where and friends; the arrays here are int64 numerators
# and denominators or booleans, checked by the tests against the Fraction evaluator.
I64 = npt.NDArray[Any]
BoolArr = npt.NDArray[np.bool_]
SAFE = 2.0**62  # products below this (estimated in float) are exact in int64, and so are their sums
EXACT_FLOAT = 2**53  # integers below this convert to float64 exactly
IRRATIONAL_PLACES = 9
IRRATIONAL_SCALE = 10**IRRATIONAL_PLACES


def to_fraction(value: Any) -> Fraction:
    """The rational a typed number means: ``0.1`` is 1/10, not the double nearest to it."""
    if isinstance(value, bool):
        raise TypeError("a condition is not a number")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    return Fraction(repr(float(value)))


# -- one point (the oracle) --------------------------------------------------------------------


# MAX_MAGNITUDE as an integer (1e15 is one exactly): a Fraction is compared with it in integers,
# where comparing it with the float converted the float to a Fraction on every call.
_MAX_INT = int(MAX_MAGNITUDE)
assert _MAX_INT == MAX_MAGNITUDE


def _finite(v: Fraction | float) -> Fraction | float | None:
    if isinstance(v, Fraction):  # |n/d| > M, with d > 0
        return None if abs(v.numerator) > _MAX_INT * v.denominator else v
    if math.isnan(v) or math.isinf(v):
        return None
    return None if v > MAX_MAGNITUDE or v < -MAX_MAGNITUDE else v


def _is_int(v: Fraction | float) -> bool:
    return v == math.floor(v)


def _rounded(v: float) -> Fraction:
    """An irrational result, as the decimal with ``IRRATIONAL_PLACES`` places nearest to the
    double nearest to it: from here on everything stays rational."""
    return Fraction(round(v * IRRATIONAL_SCALE), IRRATIONAL_SCALE)


def _sqrt(a: Fraction | float) -> Fraction | float | None:
    if a < 0:
        return None
    if isinstance(a, Fraction):
        rn, rd = math.isqrt(a.numerator), math.isqrt(a.denominator)
        if rn * rn == a.numerator and rd * rd == a.denominator:
            return Fraction(rn, rd)
    return _rounded(math.sqrt(a))


def _pow(a: Fraction | float, b: Fraction | float) -> Fraction | float | None:
    if b > MAX_RUNTIME_EXPONENT or b < -MAX_RUNTIME_EXPONENT:
        return None
    if a == 0 and b < 0:
        return None
    if _is_int(b):
        if isinstance(a, Fraction):
            return _finite(a ** int(b))
        try:
            return _finite(math.pow(a, float(b)))
        except (OverflowError, ValueError):
            return None
    if a < 0:
        return None
    try:
        return _finite(_rounded(math.pow(float(a), float(b))))
    except (OverflowError, ValueError):
        return None


def _binop(op: str, a: Any, b: Any) -> Exact:
    if isinstance(a, bool):
        if op == "&":
            return bool(a and b)
        if op == "|":
            return bool(a or b)
        return bool(a != b)
    if op == "+":
        return _finite(a + b)
    if op == "-":
        return _finite(a - b)
    if op == "*":
        return _finite(a * b)
    if op in ("/", "//", "%"):
        if b == 0:
            return None
        if op == "/":
            return _finite(a / b)
        if op == "//":
            return _finite(Fraction(math.floor(a / b)))
        return _finite(a - b * math.floor(a / b))
    if op == "**":
        return _pow(a, b)
    if not (_is_int(a) and _is_int(b)):
        return None
    ia, ib = int(a), int(b)
    if op == "&":
        return Fraction(ia & ib)
    if op == "|":
        return Fraction(ia | ib)
    return Fraction(ia ^ ib)


def _cmp(op: str, a: Any, b: Any) -> bool:
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    if op == "==":
        return bool(a == b)
    return bool(a != b)


def _round_half_even(a: Fraction | float) -> Fraction:
    return Fraction(round(a))  # Python's round is half-to-even on Fraction and float alike


def _call(func: str, args: list[Any]) -> Exact:
    a = args[0]
    if func == "abs":
        magnitude: Fraction | float = abs(a)
        return magnitude
    if func == "min":
        low: Fraction | float = min(args)
        return low
    if func == "max":
        high: Fraction | float = max(args)
        return high
    if func == "int":
        return Fraction(math.trunc(a))
    if func == "round":
        return _round_half_even(a)
    if func == "floor":
        return Fraction(math.floor(a))
    if func == "ceil":
        return Fraction(math.ceil(a))
    if func == "sqrt":
        return _sqrt(a)
    if func == "gcd":
        b = args[1]
        if not (_is_int(a) and _is_int(b)):
            return None
        return Fraction(math.gcd(int(a), int(b)))
    if func == "is_int":
        return _is_int(a)
    if func == "is_square":
        if a < 0 or not _is_int(a):
            return False
        r = math.isqrt(int(a))
        return r * r == int(a)
    raise AssertionError(func)


def _eval(node: Node, env: dict[str, Fraction]) -> Exact:
    if isinstance(node, Num):
        return node.value if isinstance(node.value, bool) else to_fraction(node.value)
    if isinstance(node, Var):
        return _finite(env[node.name])
    if isinstance(node, Neg):
        v = _eval(node.operand, env)
        return None if v is None else -v
    if isinstance(node, Not):
        v = _eval(node.operand, env)
        return None if v is None else not v
    if isinstance(node, Bin):
        a = _eval(node.left, env)
        b = _eval(node.right, env)
        if a is None or b is None:
            return None
        return _binop(node.op, a, b)
    if isinstance(node, Cmp):
        left = _eval(node.operands[0], env)
        if left is None:
            return None
        for op, operand in zip(node.ops, node.operands[1:]):
            right = _eval(operand, env)
            if right is None:
                return None
            if not _cmp(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, BoolOp):
        stop = node.op == "or"
        for operand in node.operands:
            v = _eval(operand, env)
            if v is None:
                return None
            if v == stop:
                return stop
        return not stop
    if isinstance(node, IfExp):
        c = _eval(node.cond, env)
        if c is None:
            return None
        return _eval(node.then if c else node.orelse, env)
    if isinstance(node, Call):
        args: list[Any] = []
        for arg in node.args:
            v = _eval(arg, env)
            if v is None:
                return None
            args.append(v)
        return _call(node.func, args)
    raise AssertionError(node)


def evaluate_point(rule: Rule, point: Sequence[Any]) -> bool:
    """The rule's exact answer at one point (numbers as typed: ints, floats read as decimals,
    or Fractions)."""
    env = {name: to_fraction(v) for name, v in zip(rule.variables, point, strict=True)}
    value = _eval(rule.tree, env)
    return bool(value) if value is not None else False


# -- many points (the judge) -------------------------------------------------------------------
#
# A number is (num, den) int64 arrays with den > 0, not necessarily reduced. Beside the values a
# node returns ``ok`` (defined) and ``slow`` (leave this point to ``evaluate_point``): set where
# an intermediate would not fit int64 safely, or the value stops being rational.


@dataclass
class _Val:
    num: I64
    den: I64 | None  # None for a condition
    ok: BoolArr
    slow: BoolArr


@dataclass(frozen=True)
class _Ctx:
    nums: Sequence[I64]
    dens: Sequence[I64]
    n: int
    bounded: bool = False  # the caller knows every input value is within MAX_MAGNITUDE


def _reduce(num: I64, den: I64, above: int = 1) -> tuple[I64, I64]:
    """Divide out the common factor where ``den > above`` (the gcd is the costly step, so values
    stay unreduced until their denominators grow: every test below works on unreduced
    fractions)."""
    need = den > above
    if not need.any():
        return num, den
    if need.all():
        g = np.gcd(num, den)
        g[g == 0] = 1
        return num // g, den // g
    idx = np.flatnonzero(need)
    g = np.gcd(num[idx], den[idx])
    g[g == 0] = 1
    num, den = num.copy(), den.copy()
    num[idx] //= g
    den[idx] //= g
    return num, den


REDUCE_ABOVE = 2**20


def _peak(a: I64) -> float:
    """The largest magnitude in ``a`` (two reductions, no temporary array; ``-float(min)`` is
    also right for the most negative int64, which ``np.abs`` would leave negative)."""
    if not a.size:
        return 0.0
    return max(float(a.max()), -float(a.min()))


def _prod(a: I64, b: I64) -> tuple[I64, BoolArr]:
    """a * b in int64, and where that is not exact (estimated in float, with a margin). The
    per-point estimate is only made when the largest values could overflow."""
    if _peak(a) * _peak(b) < SAFE:
        return a * b, np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=bool)
    est = np.abs(a.astype(np.float64)) * np.abs(b.astype(np.float64))
    unsafe: BoolArr = est >= SAFE
    return a * b, unsafe


def _guard(num: I64, den: I64, ok: BoolArr, slow: BoolArr) -> _Val:
    """Magnitude limit (undefined above MAX_MAGNITUDE); reduce where denominators grew."""
    if den.size and _peak(num) < MAX_MAGNITUDE * float(den.min()) - 1.0:
        return _Val(*_reduce(num, den, REDUCE_ABOVE), ok, slow)  # nothing near the limit
    safe_den = np.where(slow, 1, den)
    safe_num = np.where(slow, 0, num)
    too_big = np.abs(safe_num.astype(np.float64)) > MAX_MAGNITUDE * safe_den.astype(np.float64)
    # the float comparison is only unsure within a hair of the limit: leave those to Fraction
    edge = np.abs(np.abs(safe_num.astype(np.float64)) - MAX_MAGNITUDE * safe_den.astype(np.float64)) < (
        1e-6 * safe_den.astype(np.float64) + 1.0
    )
    slow = slow | edge
    n2, d2 = _reduce(safe_num, safe_den, REDUCE_ABOVE)
    return _Val(n2, d2, ok & ~too_big, slow)


def compile_exact(rule: Rule) -> Callable[..., BoolArr]:
    """Vectorised exact truth values: ``nums[i] / dens[i]`` are the values of
    ``rule.variables[i]`` (reduced, dens > 0)."""
    fn = _compile(rule.tree, {name: i for i, name in enumerate(rule.variables)})

    def run(nums: Sequence[I64], dens: Sequence[I64], *, bounded: bool = False) -> BoolArr:
        """``bounded=True``: the caller knows every value is within ``MAX_MAGNITUDE`` (a fixed
        domain), so the per-value check of the inputs is skipped (same result)."""
        n = len(nums[0]) if nums else 0
        with np.errstate(all="ignore"):
            v = fn(_Ctx(nums, dens, n, bounded))
            truth = np.broadcast_to(np.asarray(v.num, dtype=bool), (n,)) & v.ok
            slow = np.broadcast_to(v.slow, (n,))
            out = np.array(truth, dtype=bool)
        for i in np.flatnonzero(slow):
            point = [Fraction(int(nums[k][i]), int(dens[k][i])) for k in range(len(nums))]
            out[i] = evaluate_point(rule, point)
        return out

    return run


_Compiled = Callable[[_Ctx], _Val]


def _full(ctx: _Ctx, value: bool) -> BoolArr:
    return np.full(ctx.n, value, dtype=bool)


def _compile(node: Node, index: dict[str, int]) -> _Compiled:  # noqa: C901 - one case per node
    if isinstance(node, Num):
        if isinstance(node.value, bool):
            b = node.value
            return lambda ctx: _Val(_full(ctx, b), None, _full(ctx, True), _full(ctx, False))
        f = to_fraction(node.value)
        fits = abs(f.numerator) < 2**31 and f.denominator < 2**31

        def const(ctx: _Ctx) -> _Val:
            num = np.full(ctx.n, f.numerator if fits else 0, dtype=np.int64)
            den = np.full(ctx.n, f.denominator if fits else 1, dtype=np.int64)
            return _Val(num, den, _full(ctx, True), _full(ctx, not fits))

        return const
    if isinstance(node, Var):
        i = index[node.name]

        def var(ctx: _Ctx) -> _Val:
            num, den = ctx.nums[i], ctx.dens[i]
            fine = np.zeros(ctx.n, dtype=bool)
            if ctx.bounded or _peak(num) <= MAX_MAGNITUDE * float(den.min(initial=1)):
                return _Val(num, den, ~fine, fine)
            too_big = np.abs(num.astype(np.float64)) > MAX_MAGNITUDE * den.astype(np.float64)
            return _Val(num, den, ~too_big, fine)

        return var
    if isinstance(node, Neg):
        inner = _compile(node.operand, index)

        def neg(ctx: _Ctx) -> _Val:
            v = inner(ctx)
            return _Val(-v.num, v.den, v.ok, v.slow)

        return neg
    if isinstance(node, Not):
        inner = _compile(node.operand, index)

        def not_(ctx: _Ctx) -> _Val:
            v = inner(ctx)
            return _Val(~np.asarray(v.num, dtype=bool), None, v.ok, v.slow)

        return not_
    if isinstance(node, Bin):
        return _compile_bin(node.op, _compile(node.left, index), _compile(node.right, index))
    if isinstance(node, Cmp):
        return _compile_cmp(node.ops, [_compile(o, index) for o in node.operands])
    if isinstance(node, BoolOp):
        return _compile_boolop(node.op == "or", [_compile(o, index) for o in node.operands])
    if isinstance(node, IfExp):
        cond, then, orelse = (_compile(p, index) for p in (node.cond, node.then, node.orelse))

        def ifexp(ctx: _Ctx) -> _Val:
            c = cond(ctx)
            cv = np.asarray(c.num, dtype=bool)
            t, e = then(ctx), orelse(ctx)
            num = np.where(cv, t.num, e.num)
            den = None if t.den is None or e.den is None else np.where(cv, t.den, e.den)
            ok = c.ok & np.where(cv, t.ok, e.ok)
            slow = c.slow | np.where(cv, t.slow, e.slow)
            return _Val(num, den, ok, slow)

        return ifexp
    if isinstance(node, Call):
        return _compile_call(node.func, [_compile(a, index) for a in node.args])
    raise AssertionError(node)


def _cross(a: _Val, b: _Val) -> tuple[I64, I64, BoolArr]:
    """a.num * b.den and b.num * a.den, and where that is not safe."""
    assert a.den is not None and b.den is not None
    left, s1 = _prod(a.num, b.den)
    right, s2 = _prod(b.num, a.den)
    return left, right, s1 | s2


def _cmp_arr(op: str, left: I64, right: I64) -> BoolArr:
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "==":
        eq: BoolArr = left == right
        return eq
    ne: BoolArr = left != right
    return ne


def _compare(op: str, a: _Val, b: _Val) -> tuple[BoolArr, BoolArr]:
    if a.den is None or b.den is None:  # conditions: == / != only
        left, right = np.asarray(a.num, dtype=bool), np.asarray(b.num, dtype=bool)
        return (left == right) if op == "==" else (left != right), np.zeros(left.shape, dtype=bool)
    ln, rn, slow = _cross(a, b)
    return _cmp_arr(op, ln, rn), slow


def _compile_cmp(ops: tuple[str, ...], parts: list[_Compiled]) -> _Compiled:
    def chain(ctx: _Ctx) -> _Val:
        left = parts[0](ctx)
        result = _full(ctx, True)
        ok = left.ok.copy()
        slow = left.slow.copy()
        live = left.ok & ~left.slow
        for op, part in zip(ops, parts[1:]):
            right = part(ctx)
            step, step_slow = _compare(op, left, right)
            reached = live.copy()
            ok &= right.ok | ~reached
            slow |= reached & (right.slow | step_slow)
            result &= step | ~reached
            live &= step & right.ok & ~right.slow & ~step_slow
            left = right
        return _Val(result, None, ok, slow)

    return chain


def _compile_boolop(stop: bool, parts: list[_Compiled]) -> _Compiled:
    def boolop(ctx: _Ctx) -> _Val:
        decided = _full(ctx, False)
        result = _full(ctx, not stop)
        ok = _full(ctx, True)
        slow = _full(ctx, False)
        for part in parts:
            v = part(ctx)
            vb = np.asarray(v.num, dtype=bool)
            pending = ~decided
            slow |= pending & v.slow
            bad = pending & ~v.ok & ~v.slow
            ok &= ~bad
            hit = pending & ~v.slow & v.ok & (vb if stop else ~vb)
            result[hit] = stop
            decided |= hit | bad | (pending & v.slow)
            if decided.all():
                break
        return _Val(result, None, ok, slow)

    return boolop


def _floor_div(num: I64, den: I64) -> I64:
    out: I64 = np.floor_divide(num, den)
    return out


def _compile_bin(op: str, left: _Compiled, right: _Compiled) -> _Compiled:
    def run(ctx: _Ctx) -> _Val:
        a, b = left(ctx), right(ctx)
        ok = a.ok & b.ok
        slow = a.slow | b.slow
        if a.den is None or b.den is None:
            x, y = np.asarray(a.num, dtype=bool), np.asarray(b.num, dtype=bool)
            value = x & y if op == "&" else x | y if op == "|" else x ^ y
            return _Val(value, None, ok, slow)
        an, ad, bn, bd = a.num, a.den, b.num, b.den
        if op in ("+", "-"):
            p1, s1 = _prod(an, bd)
            p2, s2 = _prod(bn, ad)
            den, s3 = _prod(ad, bd)
            return _guard(p1 + p2 if op == "+" else p1 - p2, den, ok, slow | s1 | s2 | s3)
        if op == "*":
            num, s1 = _prod(an, bn)
            den, s2 = _prod(ad, bd)
            return _guard(num, den, ok, slow | s1 | s2)
        if op in ("/", "//", "%"):
            nonzero = bn != 0
            ok = ok & nonzero
            bn_safe = np.where(nonzero, bn, 1)
            a_bd, s1 = _prod(an, bd)
            qd, s2 = _prod(ad, bn_safe)
            slow = slow | s1 | s2
            sign = np.where(qd < 0, -1, 1)
            qn, qd = a_bd * sign, qd * sign
            if op == "/":
                return _guard(qn, qd, ok, slow)
            q = _floor_div(qn, np.where(qd == 0, 1, qd))
            if op == "//":
                return _guard(q, np.ones_like(q), ok, slow)
            # a - b * q, exactly: (an * bd - bn * q * ad) / (ad * bd)
            bq, s3 = _prod(bn_safe, q)
            bqa, s4 = _prod(bq, ad)
            den, s5 = _prod(ad, bd)
            return _guard(a_bd - bqa, den, ok, slow | s3 | s4 | s5)
        if op == "**":
            # small integer exponents are exact here; everything else goes to the scalar path
            whole = bn % bd == 0
            e = np.where(whole, bn // np.where(whole, bd, 1), 0)
            int_exp = whole & (np.abs(e) <= 8)
            slow = slow | ~int_exp
            e = np.where(int_exp, e, 0)
            zero_neg = (an == 0) & (e < 0)
            ok = ok & ~zero_neg
            base_n = np.where(e < 0, ad, an)
            base_d = np.where(e < 0, an, ad)
            base_n = np.where(zero_neg, 1, base_n)
            base_d = np.where(zero_neg, 1, base_d)
            sign = np.where(base_d < 0, -1, 1)
            base_n, base_d = base_n * sign, base_d * sign
            k = np.abs(e)
            num = np.ones(ctx.n, dtype=np.int64)
            den = np.ones(ctx.n, dtype=np.int64)
            for step in range(1, 9):
                use = k >= step
                if not use.any():
                    break
                n2, s1 = _prod(num, base_n)
                d2, s2 = _prod(den, base_d)
                slow = slow | (use & (s1 | s2))
                num = np.where(use, n2, num)
                den = np.where(use, d2, den)
            return _guard(num, den, ok, slow)
        # & | ^ on numbers: integers only
        ints = (an % ad == 0) & (bn % bd == 0)
        ok = ok & ints
        ia, ib = np.where(ints, an // ad, 0), np.where(ints, bn // bd, 0)
        value = ia & ib if op == "&" else ia | ib if op == "|" else ia ^ ib
        return _guard(value, np.ones_like(value), ok, slow)

    return run


def _perfect_square(v: I64) -> BoolArr:
    good = v >= 0
    safe = np.where(good, v, 0)
    r = np.floor(np.sqrt(safe.astype(np.float64))).astype(np.int64)
    hit = (r * r == safe) | ((r + 1) * (r + 1) == safe) | ((r - 1) * (r - 1) == safe)
    out: BoolArr = good & hit
    return out


def _isqrt(v: I64) -> I64:
    r = np.floor(np.sqrt(np.maximum(v, 0).astype(np.float64))).astype(np.int64)
    r = np.where((r + 1) * (r + 1) <= v, r + 1, r)
    r = np.where(r * r > v, r - 1, r)
    return r


def _compile_call(func: str, args: list[_Compiled]) -> _Compiled:
    def run(ctx: _Ctx) -> _Val:
        vals = [a(ctx) for a in args]
        ok = _full(ctx, True)
        slow = _full(ctx, False)
        for v in vals:
            ok = ok & v.ok
            slow = slow | v.slow
        a = vals[0]
        assert a.den is not None
        an, ad = a.num, a.den
        one = np.ones(ctx.n, dtype=np.int64)
        if func == "abs":
            return _Val(np.abs(an), ad, ok, slow)
        if func in ("min", "max"):
            best = a
            for other in vals[1:]:
                ln, rn, s = _cross(best, other)
                slow = slow | s
                take = (rn < ln) if func == "min" else (rn > ln)
                assert best.den is not None and other.den is not None
                best = _Val(
                    np.where(take, other.num, best.num), np.where(take, other.den, best.den), ok, slow
                )
            return _Val(best.num, best.den, ok, slow)
        if func == "floor":
            return _Val(_floor_div(an, ad), one, ok, slow)
        if func == "ceil":
            return _Val(-_floor_div(-an, ad), one, ok, slow)
        if func == "int":
            q = np.abs(an) // ad
            return _Val(np.where(an < 0, -q, q), one, ok, slow)
        if func == "round":
            q = _floor_div(an, ad)
            twice_rem = 2 * (an - q * ad)
            up = (twice_rem > ad) | ((twice_rem == ad) & (q % 2 == 1))
            return _Val(q + up, one, ok, slow)
        if func == "sqrt":
            an, ad = _reduce(an, ad)
            ok = ok & (an >= 0)
            rational = _perfect_square(an) & _perfect_square(ad)
            # otherwise rounded to IRRATIONAL_PLACES from the double, as the scalar path does
            convertible = (np.abs(an) < EXACT_FLOAT) & (ad < EXACT_FLOAT)
            slow = slow | (ok & ~rational & ~convertible)
            root = np.sqrt(np.maximum(an, 0).astype(np.float64) / ad.astype(np.float64))
            rounded = np.rint(root * IRRATIONAL_SCALE).astype(np.int64)
            num = np.where(rational, _isqrt(np.where(rational, an, 0)), rounded)
            den = np.where(rational, _isqrt(np.where(rational, ad, 1)), IRRATIONAL_SCALE)
            n2, d2 = _reduce(num, den)
            return _Val(n2, d2, ok, slow)
        if func == "gcd":
            b = vals[1]
            assert b.den is not None
            ints = (an % ad == 0) & (b.num % b.den == 0)
            g = gcd_arr(np.where(ints, an // ad, 0), np.where(ints, b.num // b.den, 0))
            return _Val(g, one, ok & ints, slow)
        if func == "is_int":
            return _Val(an % ad == 0, None, ok, slow)
        if func == "is_square":
            whole = an % ad == 0
            return _Val(whole & _perfect_square(np.where(whole, an // ad, -1)), None, ok, slow)
        raise AssertionError(func)

    return run


def columns(points: Sequence[Sequence[Any]], arity: int) -> tuple[list[I64], list[I64]]:
    """(numerators, denominators) columns for ``compile_exact`` from typed points."""
    nums = [np.zeros(len(points), dtype=np.int64) for _ in range(arity)]
    dens = [np.ones(len(points), dtype=np.int64) for _ in range(arity)]
    for i, p in enumerate(points):
        for k in range(arity):
            f = to_fraction(p[k])
            if abs(f.numerator) >= 2**62 or f.denominator >= 2**62:
                raise ValueError(f"{p[k]!r} has too many digits for a judge domain point")
            nums[k][i], dens[k][i] = f.numerator, f.denominator
    return nums, dens

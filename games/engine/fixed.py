"""Exact evaluation of number rules on a fixed-point domain, in plain int64 arithmetic.

The judge's domain for exact decimals (``wason``) holds only multiples of ``1 / scale``. A value
computed from such points by ``+ - *``, ``// %``, comparisons and the integer functions is a
multiple of ``1 / scale ** d`` for a degree ``d`` known from the rule's shape alone (a variable or
a decimal constant has degree 1, an integer 0; a product adds degrees; a sum takes the larger
one), so each value is one int64 array ``A`` meaning ``A / scale ** d``: no denominators, no gcd,
no per-point overflow estimate. ``exact.compile_exact`` (numerator and denominator pairs) gives the
same answers but spends most of its time keeping those pairs small and safe.

Soundness: before a chunk of points is evaluated, a bound on every intermediate ``|A|`` is worked
out from the largest input in the chunk; if one could reach 2**62 the chunk is refused
(``Overflow``) and the caller uses ``exact.compile_exact``. A rule using what fixed point cannot
hold exactly (``/`` outside ``is_int(a / b)``, ``**``, bit operations, decimal constants
finer than ``1 / scale``, a condition used as a number) is refused when compiled
(``Unsupported``). The meaning is ``exact._eval``'s, undefined values included: a value beyond
``MAX_MAGNITUDE`` or a division by zero is undefined, undefined spreads to the whole rule except
where ``and`` / ``or`` / a chained comparison / ``if`` stopped before reaching it, and an undefined
rule is False. A test compares both evaluators on the whole domain for every generated clause.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.dsl import (
    MAX_MAGNITUDE,
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
from games.engine.exact import IRRATIONAL_SCALE, to_fraction

I64 = npt.NDArray[Any]
BoolArr = npt.NDArray[np.bool_]
LIMIT = 2**62  # every intermediate |A| stays below this: sums of two stay within int64
FLOAT_EXACT = 2**52  # integers below this have an exact float64 square root to round from
# below this (as a value, not scaled) a square's root rounded to IRRATIONAL_PLACES is exact
ROUNDED_ROOT_EXACT = 10**12
MAX_ONE_BY_ONE = 512  # at most this many roots past 2**52 in a chunk are worked out one by one
MAGNITUDE = int(MAX_MAGNITUDE)


class Unsupported(Exception):
    """The rule uses something fixed point cannot evaluate exactly."""


class Overflow(Exception):
    """An intermediate value of this chunk could leave the int64-safe range."""


@dataclass
class _Ctx:
    cols: Sequence[I64]
    peaks: Sequence[int]  # the largest |A| of each input column
    n: int
    scale: int


@dataclass
class _Num:
    a: I64 | np.int64  # the value is a / scale ** deg
    deg: int
    bound: int  # |a| <= bound at every point, defined or not
    ok: BoolArr | bool


@dataclass
class _Bool:
    v: BoolArr | bool
    ok: BoolArr | bool


_Fn = Callable[[_Ctx], Any]


def _and(*values: Any) -> Any:
    """The conjunction of truth values, each a bool or a bool array. A scalar is folded in here:
    numpy's ``&`` of a bool array with a scalar costs about twenty-five times that of two arrays,
    and every comparison and definedness mask passes through here."""
    out: Any = True
    for v in values:
        if np.ndim(v) == 0:
            if not bool(v):
                return False
            continue
        out = v if out is True else out & v
    return out


def _or(a: Any, b: Any) -> Any:
    if np.ndim(a) == 0:
        return True if bool(a) else b
    if np.ndim(b) == 0:
        return True if bool(b) else a
    return a | b


def _not(a: Any) -> Any:
    return (not bool(a)) if np.ndim(a) == 0 else ~a


def _check(bound: int) -> int:
    if bound >= LIMIT:
        raise Overflow
    return bound


def _lift(x: _Num, deg: int, scale: int) -> _Num:
    if x.deg == deg:
        return x
    k = scale ** (deg - x.deg)
    return _Num(x.a * k, deg, _check(x.bound * k), x.ok)


def _align(x: _Num, y: _Num, scale: int) -> tuple[_Num, _Num]:
    deg = max(x.deg, y.deg)
    return _lift(x, deg, scale), _lift(y, deg, scale)


def _finite(a: I64 | np.int64, deg: int, bound: int, ok: BoolArr | bool, scale: int) -> _Num:
    """``exact._finite``: a value beyond MAX_MAGNITUDE is undefined."""
    limit = MAGNITUDE * scale**deg
    if bound <= limit:
        return _Num(a, deg, bound, ok)
    if limit >= LIMIT:  # |a| < 2**62 <= limit: never beyond it
        return _Num(a, deg, bound, ok)
    return _Num(a, deg, bound, _and(ok, np.abs(a) <= limit))


def _num(f: _Fn, ctx: _Ctx) -> _Num:
    out = f(ctx)
    if not isinstance(out, _Num):
        raise AssertionError("a number was expected")  # ruled out at compile time
    return out


def _compile(node: Node, index: dict[str, int], scale: int) -> tuple[str, _Fn]:
    """(kind, evaluator): kind "num" or "bool"."""
    if isinstance(node, Num):
        if isinstance(node.value, bool):
            flag = bool(node.value)
            return "bool", lambda ctx: _Bool(flag, True)
        value = to_fraction(node.value)
        if value.denominator != 1 and scale % value.denominator != 0:
            raise Unsupported("a constant finer than the domain's step")
        deg = 0 if value.denominator == 1 else 1
        a = int(value * scale**deg)
        if abs(a) > MAGNITUDE * scale**deg or abs(a) >= LIMIT:
            raise Unsupported("a constant beyond the magnitude limit")
        return "num", lambda ctx: _Num(np.int64(a), deg, abs(a), True)
    if isinstance(node, Var):
        i = index[node.name]
        return "num", lambda ctx: _Num(ctx.cols[i], 1, ctx.peaks[i], True)
    if isinstance(node, Neg):
        kind, f = _compile(node.operand, index, scale)
        if kind != "num":
            raise Unsupported("minus a condition")

        def neg(ctx: _Ctx) -> _Num:
            x = _num(f, ctx)
            return _Num(-x.a, x.deg, x.bound, x.ok)

        return "num", neg
    if isinstance(node, Not):
        kind, f = _compile(node.operand, index, scale)
        if kind != "bool":
            raise Unsupported("not of a number")

        def negate(ctx: _Ctx) -> _Bool:
            b = f(ctx)
            return _Bool(~np.asarray(b.v), b.ok)

        return "bool", negate
    if isinstance(node, Bin):
        return "num", _compile_bin(node, index, scale)
    if isinstance(node, Cmp):
        return "bool", _compile_cmp(node, index, scale)
    if isinstance(node, BoolOp):
        return "bool", _compile_boolop(node, index, scale)
    if isinstance(node, IfExp):
        return _compile_if(node, index, scale)
    if isinstance(node, Call):
        return _compile_call(node, index, scale)
    raise Unsupported(type(node).__name__)


def _numbers(nodes: Sequence[Node], index: dict[str, int], scale: int) -> list[_Fn]:
    out = []
    for node in nodes:
        kind, f = _compile(node, index, scale)
        if kind != "num":
            raise Unsupported("a condition used as a number")
        out.append(f)
    return out


def _compile_bin(node: Bin, index: dict[str, int], scale: int) -> _Fn:
    op = node.op
    if op not in ("+", "-", "*", "//", "%"):
        raise Unsupported(op)
    fl, fr = _numbers((node.left, node.right), index, scale)

    def run(ctx: _Ctx) -> _Num:
        x, y = _num(fl, ctx), _num(fr, ctx)
        ok = _and(x.ok, y.ok)
        if op == "*":
            return _finite(x.a * y.a, x.deg + y.deg, _check(x.bound * y.bound), ok, ctx.scale)
        x, y = _align(x, y, ctx.scale)
        if op in ("+", "-"):
            a = x.a + y.a if op == "+" else x.a - y.a
            return _finite(a, x.deg, _check(x.bound + y.bound), ok, ctx.scale)
        if np.ndim(y.a) == 0:  # a constant divisor: numpy divides by a scalar much faster
            divisor: Any = int(y.a) or 1
            if int(y.a) == 0:
                ok = False  # undefined everywhere
        else:
            zero = y.a == 0
            divisor = np.where(zero, 1, y.a)
            ok = _and(ok, ~zero)
        if op == "//":  # floor of (x / y): an integer, at most |x.a| (|y.a| >= 1)
            return _finite(np.floor_divide(x.a, divisor), 0, x.bound, ok, ctx.scale)
        # x - y * floor(x / y), with the divisor's sign, as Python's %; written out because
        # numpy's mod is many times slower than its floor division by a constant
        return _finite(x.a - divisor * np.floor_divide(x.a, divisor), x.deg, y.bound, ok, ctx.scale)

    return run


def _compare(op: str, a: Any, b: Any) -> BoolArr:
    if op == "<":
        return np.asarray(a < b)
    if op == "<=":
        return np.asarray(a <= b)
    if op == ">":
        return np.asarray(a > b)
    if op == ">=":
        return np.asarray(a >= b)
    if op == "==":
        return np.asarray(a == b)
    if op == "!=":
        return np.asarray(a != b)
    raise Unsupported(op)


def _compile_cmp(node: Cmp, index: dict[str, int], scale: int) -> _Fn:
    fns = _numbers(node.operands, index, scale)
    ops = node.ops

    def run(ctx: _Ctx) -> _Bool:
        left = _num(fns[0], ctx)
        ok: BoolArr | bool = left.ok
        going: BoolArr | bool = left.ok  # still comparing (every comparison so far held)
        for op, f in zip(ops, fns[1:]):
            right = _num(f, ctx)
            if right.ok is not True:
                # an undefined operand only counts where the comparisons before it all held
                ok = _and(ok, _not(_and(going, _not(right.ok))))
                going = _and(going, right.ok)
            a, b = _align(left, right, ctx.scale)
            going = _and(going, _compare(op, a.a, b.a))
            left = right
        return _Bool(going, ok)

    return run


def _compile_boolop(node: BoolOp, index: dict[str, int], scale: int) -> _Fn:
    fns = []
    for operand in node.operands:
        kind, f = _compile(operand, index, scale)
        if kind != "bool":
            raise Unsupported("a number used as a condition")
        fns.append(f)
    stop = node.op == "or"

    def run(ctx: _Ctx) -> _Bool:
        pending: BoolArr | bool = True
        ok: BoolArr | bool = True
        value: BoolArr | bool = not stop
        parts = [f(ctx) for f in fns]
        if all(b.ok is True for b in parts):  # nothing undefined: no order to respect
            combine = np.logical_or if stop else np.logical_and
            return _Bool(functools.reduce(combine, (b.v for b in parts)), True)
        for b in parts:
            bv = np.asarray(b.v)
            ok = _and(ok, _not(_and(pending, _not(b.ok))))
            decided = _and(pending, b.ok, bv == stop)
            # value is ``not stop`` until decided, then ``stop``: a logical blend, not np.where
            # (which costs ten times as much on an irregular mask)
            value = _or(value, decided) if stop else _and(value, _not(decided))
            pending = _and(pending, b.ok, bv != stop)
        return _Bool(value, ok)

    return run


def _compile_if(node: IfExp, index: dict[str, int], scale: int) -> tuple[str, _Fn]:
    kind_c, fc = _compile(node.cond, index, scale)
    kind_t, ft = _compile(node.then, index, scale)
    kind_e, fe = _compile(node.orelse, index, scale)
    if kind_c != "bool" or kind_t != kind_e:
        raise Unsupported("an if with mixed kinds")

    def run(ctx: _Ctx) -> Any:
        c = fc(ctx)
        t, e = ft(ctx), fe(ctx)
        cv = np.asarray(c.v)
        ok = _and(c.ok, np.where(cv, t.ok, e.ok))
        if kind_t == "bool":
            return _Bool(np.where(cv, t.v, e.v), ok)
        t, e = _align(t, e, ctx.scale)
        return _Num(np.where(cv, t.a, e.a), t.deg, max(t.bound, e.bound), ok)

    return kind_t, run


def _whole(x: _Num, scale: int) -> tuple[I64, BoolArr]:
    """(floor of the value, whether it is an integer)."""
    unit = scale**x.deg
    a = np.asarray(x.a)
    if unit == 1:
        return a, np.ones(np.shape(a), dtype=bool)
    q = np.floor_divide(a, unit)  # by a constant: fast, unlike np.mod
    return q, np.asarray(a - q * unit == 0)


def _is_square_int(whole: I64) -> BoolArr:
    """Which integers (each below 2**52 in magnitude) are squares: the floor of the double root
    of the magnitude squares back to the value exactly at the squares (a square's double root is
    exact; a non-square, or a negative value, never equals a non-negative square), so no
    neighbour needs checking."""
    root = np.sqrt(np.abs(whole).astype(np.float64)).astype(np.int64)
    square: BoolArr = np.asarray(root * root == whole)
    return square


def _compile_call(node: Call, index: dict[str, int], scale: int) -> tuple[str, _Fn]:
    func = node.func
    if func == "is_int" and isinstance(node.args[0], Bin) and node.args[0].op == "/":
        return "bool", _compile_is_int_ratio(node.args[0], index, scale)
    if func == "sqrt":
        return "num", _compile_sqrt(node, index, scale)
    if func not in ("abs", "min", "max", "int", "floor", "ceil", "round", "gcd", "is_int", "is_square"):
        raise Unsupported(func)
    fns = _numbers(node.args, index, scale)

    def run(ctx: _Ctx) -> Any:
        vals = [_num(f, ctx) for f in fns]
        ok: BoolArr | bool = True
        for v in vals:
            ok = _and(ok, v.ok)
        x = vals[0]
        unit = ctx.scale**x.deg
        if func == "abs":
            return _Num(np.abs(x.a), x.deg, x.bound, ok)
        if func in ("min", "max"):
            deg = max(v.deg for v in vals)
            lifted = [_lift(v, deg, ctx.scale) for v in vals]
            pick = np.minimum if func == "min" else np.maximum
            a = lifted[0].a
            for v in lifted[1:]:
                a = pick(a, v.a)
            return _Num(a, deg, max(v.bound for v in lifted), ok)
        if func == "floor":
            return _Num(np.floor_divide(x.a, unit), 0, x.bound, ok)
        if func == "ceil":
            return _Num(-np.floor_divide(-x.a, unit), 0, x.bound, ok)
        if func == "int":
            q = np.abs(x.a) // unit
            return _Num(np.where(x.a < 0, -q, q), 0, x.bound, ok)
        if func == "round":  # half to even, as Python's round
            q = np.floor_divide(x.a, unit)
            twice_rem = 2 * (x.a - q * unit)
            up = (twice_rem > unit) | ((twice_rem == unit) & (q % 2 == 1))
            return _Num(q + up, 0, x.bound + 1, ok)
        if func == "is_int":
            return _Bool(_whole(x, ctx.scale)[1], ok)
        if func == "is_square":
            whole, is_whole = _whole(x, ctx.scale)
            if x.bound // unit >= FLOAT_EXACT:
                raise Overflow
            return _Bool(is_whole & _is_square_int(whole), ok)
        # gcd: defined on integers only
        y = vals[1]
        wx, ix = _whole(x, ctx.scale)
        wy, iy = _whole(y, ctx.scale)
        ints = ix & iy
        # where either is not an integer the value is undefined (masked by ints): the floors
        # stand in there as they are (bounded like the arguments; gcd_arr takes any int64)
        g = gcd_arr(
            np.broadcast_to(wx, (ctx.n,)).astype(np.int64, copy=False),
            np.broadcast_to(wy, (ctx.n,)).astype(np.int64, copy=False),
        )
        return _Num(g, 0, max(x.bound, y.bound), _and(ok, ints))

    kind = "bool" if func in ("is_int", "is_square") else "num"
    return kind, run


def _root_one_by_one(value: int, unit: int, half: int, deg: int, irrational_deg: int, scale: int) -> int:
    """``exact._sqrt`` of ``value / unit`` (``value >= 0``, ``unit == scale ** (2 * half)``) as
    fixed point of degree ``deg``, in Python integers: the exact root when ``value`` is a square
    (``unit`` is one, so value / unit is a rational square exactly then), else the double root
    of the correctly rounded double of value / unit (``int / int`` is correctly rounded, as
    ``float(Fraction)`` is), rounded to IRRATIONAL_PLACES decimals."""
    root = math.isqrt(value)
    if root * root == value:
        return int(root * scale ** (deg - half))
    return int(round(math.sqrt(value / unit) * IRRATIONAL_SCALE) * scale ** (deg - irrational_deg))


def _compile_sqrt(node: Call, index: dict[str, int], scale: int) -> _Fn:
    """``exact._sqrt``: undefined below zero; the exact root of a rational square; otherwise the
    double's root rounded to IRRATIONAL_PLACES decimals, which is fixed point of degree
    ``irrational_deg`` (scale ** irrational_deg == 10 ** IRRATIONAL_PLACES)."""
    irrational_deg = next((d for d in range(1, 10) if scale**d == IRRATIONAL_SCALE), None)
    if irrational_deg is None:
        raise Unsupported("sqrt on this scale")
    (fa,) = _numbers(node.args, index, scale)

    def run(ctx: _Ctx) -> _Num:
        x = _num(fa, ctx)
        # an even degree: A / scale**(2m) is a rational square exactly when A is a square
        x = _lift(x, x.deg + x.deg % 2, ctx.scale)
        unit = ctx.scale**x.deg
        if unit >= FLOAT_EXACT:
            raise Overflow  # the double of A / unit might not be the correctly rounded one
        half = x.deg // 2
        deg = max(half, irrational_deg)
        bound = _check((math.isqrt(x.bound // unit) + 2) * ctx.scale**deg)
        safe: Any
        if np.min(x.a) >= 0:  # (a sum of squares): no mask to carry
            ok: Any = x.ok
            safe = x.a
        else:
            ok = _and(x.ok, x.a >= 0)
            # zero where undefined (a negative): np.maximum, not np.where (ten times dearer)
            safe = np.maximum(x.a, 0)
        small_bound = x.bound
        big: I64 | None = None
        if x.bound >= FLOAT_EXACT:
            # A past 2**52 has no exact double: the few such values (the domain's edge values,
            # squared) are worked out one by one below, exactly as exact._sqrt does
            if np.ndim(safe) == 0:
                raise Overflow
            big = np.flatnonzero(safe >= FLOAT_EXACT)
            if len(big) > MAX_ONE_BY_ONE:
                raise Overflow
            values = safe[big].tolist()
            safe = safe.copy()
            safe[big] = 0
            small_bound = FLOAT_EXACT - 1
        as_float = np.asarray(safe, dtype=np.float64)  # exact: below 2**52
        # exact._sqrt's irrational branch: the double of A / unit (correctly rounded: both exact
        # doubles), its root, rounded to IRRATIONAL_PLACES decimals
        a = np.rint(np.sqrt(as_float / float(unit)) * IRRATIONAL_SCALE).astype(np.int64)
        if half > irrational_deg or small_bound // unit >= ROUNDED_ROOT_EXACT:
            root = np.sqrt(as_float).astype(np.int64)  # floor: the root of a double is >= 0
            # A < 2**52: a square's double root is exact, and a non-square's floor squared is
            # another number, so r * r == A exactly at the squares (no neighbour to check)
            square = root * root == safe
            a = np.where(square, root * ctx.scale ** (deg - half), a * ctx.scale ** (deg - irrational_deg))
        # else: for a square A = k**2 the exact root k / scale**half is a multiple of 10**-9
        # (half <= irrational_deg), below 10**6, and the three roundings above are off from it
        # by less than 10**15 * 3 * 2**-53 < 0.5 units of 10**-9: the rounded root is the exact
        # root there too (no square test, a where over the whole array, is needed)
        if big is not None and len(big):
            a = np.array(a, dtype=np.int64)  # writable
            for i, value in zip(big.tolist(), values):
                a[i] = _root_one_by_one(value, unit, half, deg, irrational_deg, ctx.scale)
        return _Num(a, deg, bound, ok)

    return run


def _compile_is_int_ratio(ratio: Bin, index: dict[str, int], scale: int) -> _Fn:
    """``is_int(p / q)``: q != 0 and q divides p (the ratio itself is not fixed point)."""
    fp, fq = _numbers((ratio.left, ratio.right), index, scale)

    def run(ctx: _Ctx) -> _Bool:
        p, q = _align(_num(fp, ctx), _num(fq, ctx), ctx.scale)
        if p.bound > MAGNITUDE:  # |p / q| could pass the magnitude limit: leave it to exact
            raise Overflow
        if max(p.bound, q.bound) >= FLOAT_EXACT:
            raise Overflow
        zero = q.a == 0
        # p / q in doubles (p and q exact: below 2**52) is an integer exactly when q divides p:
        # an integer quotient k (|k| <= |p|) is a double and the division gives it exactly;
        # otherwise p / q is at least 1 / |q| from every integer and the rounding error,
        # at most |p / q| * 2**-53, is smaller. (Where q == 0 the value is undefined anyway.)
        ratio = np.asarray(p.a, dtype=np.float64) / np.asarray(q.a, dtype=np.float64)
        divides = ratio == np.floor(ratio)
        return _Bool(divides, _and(p.ok, q.ok, ~zero))

    return run


def compile_fixed(rule: Rule, scale: int) -> Callable[..., BoolArr]:
    """Truth values on points given as int64 columns of multiples of ``1 / scale`` (every value
    within ``MAX_MAGNITUDE``). Raises ``Unsupported`` for a rule fixed point cannot hold, and the
    returned function raises ``Overflow`` for a chunk whose values could overflow."""
    index = {name: i for i, name in enumerate(rule.variables)}
    kind, fn = _compile(rule.tree, index, scale)

    def run(cols: Sequence[I64], peaks: Sequence[int] | None = None) -> BoolArr:
        """``peaks``: the largest magnitude in each column, when the caller knows it."""
        n = len(cols[0]) if cols else 0
        if peaks is None:
            peaks = [max(int(c.max()), -int(c.min())) if len(c) else 0 for c in cols]
        with np.errstate(all="ignore"):
            out = fn(_Ctx(cols, peaks, n, scale))
        value = np.asarray(out.v if kind == "bool" else out.a != 0, dtype=bool)
        if value.shape != (n,):
            value = np.broadcast_to(value, (n,))
        if np.ndim(out.ok) == 0:
            return value if bool(out.ok) else np.zeros(n, dtype=bool)
        truth: BoolArr = value & out.ok
        return truth

    return run


def fraction_of(a: int, deg: int, scale: int) -> Fraction:
    """The rational an ``(a, deg)`` pair stands for (for tests and messages)."""
    return Fraction(a, scale**deg)

"""Family ``blackbox``: a hidden program from an integer list to a list or an integer (CodeARC).

The hidden rule is a program in a small typed list language; a test is an input list and the
answer is the program's output. The guess is a program in the same language, judged by
differential testing: every short list of small values (exhaustively), seeded random lists
within the instance's bounds and edge cases (empty, singleton, negatives, duplicates, sorted,
reversed). The counterexample is the simplest differing input by the family's simplicity order
(shorter lists first, then smaller absolute values, then non-negative values), shrunk greedily
to a local minimum of that order.

The language (``parse`` / ``Program.text`` / ``evaluate``), with no ``eval``:

* the input list is ``xs``; integers; ``+ - * // %`` (floor division and Python's modulo; by
  zero they give 0); comparisons ``< <= > >= == !=``; ``and or not``; ``abs(a)``, ``max(a, b)``,
  ``min(a, b)``. Every arithmetic result is clamped to -10^9..10^9.
* list functions: ``map(f, l)``, ``filter(p, l)``, ``count(p, l)`` (``f``/``p`` an expression
  in ``x``), ``fold(f, init, l)`` (``f`` in ``acc`` and ``x``, left to right),
  ``zipwith(f, l1, l2)`` (``f`` in ``x`` and ``y``, the shorter length), ``sort(l)`` (ascending),
  ``reverse(l)``, ``take(k, l)``, ``drop(k, l)``, ``sum(l)``, ``len(l)``, ``max(l)`` and
  ``min(l)`` (0 for the empty list).
* a function argument sees only its own names (``x``, ``y``, ``acc``) and integers: no list
  is in scope inside it, so evaluation costs at most (program size) x (list length) steps and
  nothing can hang. Programs are at most 1,000 characters and 40 levels deep.
* a program returns a list or an integer.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine import analytics
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
from games.engine.families import common
from games.engine.hypotheses import HypothesisSpace

FAMILY_ID = "blackbox"
VERSION = 1
MAX_TEXT = 1000
MAX_DEPTH = 40
LIMIT = 10**9
MAX_LITERAL = 10**6
RULE_EXAMPLE = "sum(filter(x % 3 == 0, map(x - 1, xs)))"

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # The difficulty knob. The other knobs shape the puzzle but do not order its difficulty for
        # the baseline solvers (bench_families: every setting of each solved alike): the primitive
        # set is a kind of program, and wider values or longer lists make programs easier to tell
        # apart, not harder.
        "depth": {
            "x-knob": True,
            "type": "integer",
            "minimum": 1,
            "maximum": 3,
            "default": 1,
            "description": "how many list functions the hidden program composes",
        },
        "primitives": {
            "type": "string",
            "enum": ["basic", "full"],
            "default": "basic",
            "description": "basic: map, filter, sort, reverse, take, drop, sum, len, count with + - and "
            "comparisons; full adds fold, zipwith, max, min, * and %",
        },
        "value_range": {
            "type": "integer",
            "enum": [5, 9, 20],
            "default": 9,
            "description": "test values go from -value_range to value_range",
        },
        "max_length": {
            "type": "integer",
            "enum": [4, 6, 8],
            "default": 6,
            "description": "the longest input list",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "default": 20,
            "description": "test budget before the final guess",
        },
        "examples": {
            "type": "integer",
            "minimum": 0,
            "maximum": 5,
            "default": 2,
            "description": "input/output pairs shown at the start",
        },
    },
}

# -- the language: syntax tree ---------------------------------------------------------------------

INT, LIST, BOOL = "int", "list", "bool"


@dataclass(frozen=True)
class Num:
    value: int


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Bin:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Node, ...]


Node = Num | Var | Unary | Bin | Call

PREC = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4}
PREC.update({"+": 5, "-": 5, "*": 6, "//": 6, "%": 6})
UNARY_PREC = 7
CMP = ("<", "<=", ">", ">=", "==", "!=")
# list functions: name -> (bound names of the function argument or None, argument types)
LAMBDA_FNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "map": (("x",), (INT, LIST), LIST),
    "filter": (("x",), (BOOL, LIST), LIST),
    "count": (("x",), (BOOL, LIST), INT),
    "fold": (("acc", "x"), (INT, INT, LIST), INT),
    "zipwith": (("x", "y"), (INT, LIST, LIST), LIST),
}
PLAIN_FNS: dict[tuple[str, int], tuple[tuple[str, ...], str]] = {
    ("sort", 1): ((LIST,), LIST),
    ("reverse", 1): ((LIST,), LIST),
    ("take", 2): ((INT, LIST), LIST),
    ("drop", 2): ((INT, LIST), LIST),
    ("sum", 1): ((LIST,), INT),
    ("len", 1): ((LIST,), INT),
    ("max", 1): ((LIST,), INT),
    ("min", 1): ((LIST,), INT),
    ("max", 2): ((INT, INT), INT),
    ("min", 2): ((INT, INT), INT),
    ("abs", 1): ((INT,), INT),
}
FUNCTION_NAMES = sorted(set(LAMBDA_FNS) | {k[0] for k in PLAIN_FNS})


def node_size(node: Node) -> int:
    if isinstance(node, (Num, Var)):
        return 1
    if isinstance(node, Unary):
        return 1 + node_size(node.operand)
    if isinstance(node, Bin):
        return 1 + node_size(node.left) + node_size(node.right)
    return 1 + sum(node_size(a) for a in node.args)


def _prec(node: Node) -> int:
    if isinstance(node, Bin):
        return PREC[node.op]
    if isinstance(node, Unary):
        return PREC["not"] if node.op == "not" else UNARY_PREC
    if isinstance(node, Num) and node.value < 0:
        return UNARY_PREC
    return 8


def to_text(node: Node) -> str:
    """The canonical text: minimal parentheses, single spaces around binary operators."""
    if isinstance(node, Num):
        return str(node.value)
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Unary):
        inner = to_text(node.operand)
        if _prec(node.operand) < _prec(node):
            inner = f"({inner})"
        return f"not {inner}" if node.op == "not" else f"-{inner}"
    if isinstance(node, Bin):
        p = PREC[node.op]
        left, right = to_text(node.left), to_text(node.right)
        left_p, right_p = _prec(node.left), _prec(node.right)
        if left_p < p or (p == 4 and left_p == 4):
            left = f"({left})"
        if right_p <= p:
            right = f"({right})"
        return f"{left} {node.op} {right}"
    return f"{node.fn}({', '.join(to_text(a) for a in node.args)})"


# -- the parser ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"(?:([0-9]+)|([A-Za-z_][A-Za-z_0-9]*)|(//|<=|>=|==|!=|[-+*%<>(),]))")


@dataclass(frozen=True)
class Tok:
    kind: str  # "num", "name", "op", "end"
    text: str
    col: int  # 1-based


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text):
            out.append(Tok("end", "", pos + 1))
            return out
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            ch = text[pos]
            shown = repr(ch) if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
            raise RuleError(f"unexpected character {shown} at column {pos + 1}", column=pos + 1)
        start = m.start(m.lastindex or 0)
        kind = {1: "num", 2: "name", 3: "op"}[m.lastindex or 3]
        out.append(Tok(kind, m.group(m.lastindex or 0), start + 1))
        pos = m.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0
        self.arg_cols: dict[int, list[int]] = {}  # for the type checker's columns

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def fail(self, message: str, tok: Tok | None = None) -> RuleError:
        t = tok or self.tok
        found = "the end of the program" if t.kind == "end" else repr(t.text)
        return RuleError(f"{message} at column {t.col} (found {found})", column=t.col)

    def eat(self, text: str) -> Tok:
        if self.tok.text != text or self.tok.kind not in ("op", "name"):
            raise self.fail(f"expected {text!r}")
        t = self.tok
        self.i += 1
        return t

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                f"the program is nested too deeply (more than {MAX_DEPTH} levels of operators, calls and parentheses)"
            )

    def expr(self, level: int = 1) -> tuple[Node, int]:
        """(node, column of its first token)."""
        return self._expr(level)

    def nested(self, level: int) -> tuple[Node, int]:
        """An expression inside parentheses, a call or a unary operator: one level deeper."""
        self.enter()
        try:
            return self._expr(level)
        finally:
            self.depth -= 1

    def _expr(self, level: int) -> tuple[Node, int]:
        if level == 3:
            if self.tok.kind == "name" and self.tok.text == "not":
                col = self.tok.col
                self.i += 1
                operand, _ = self.nested(3)
                return Unary("not", operand), col
            return self.expr(4)
        if level == 7:
            if self.tok.kind == "op" and self.tok.text == "-":
                col = self.tok.col
                self.i += 1
                operand, _ = self.nested(7)
                if isinstance(operand, Num):
                    return Num(-operand.value), col
                return Unary("-", operand), col
            return self.atom()
        left, col = self.expr(level + 1)
        ops = {1: ("or",), 2: ("and",), 4: CMP, 5: ("+", "-"), 6: ("*", "//", "%")}[level]
        chain = 0
        try:
            while self.tok.text in ops and self.tok.kind in ("op", "name"):
                op = self.tok.text
                self.enter()  # each operator of a chain is one level of the tree
                chain += 1
                self.i += 1
                right, _ = self.expr(level + 1)
                left = Bin(op, left, right)
                if level == 4 and self.tok.text in CMP and self.tok.kind == "op":
                    raise self.fail("comparisons do not chain; join them with 'and'")
        finally:
            self.depth -= chain
        return left, col

    def atom(self) -> tuple[Node, int]:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            value = int(t.text) if len(t.text) <= 8 else MAX_LITERAL + 1
            if value > MAX_LITERAL:
                raise RuleError(
                    f"the number at column {t.col} is too large (at most {MAX_LITERAL})", column=t.col
                )
            return Num(value), t.col
        if t.kind == "op" and t.text == "(":
            self.i += 1
            node, _ = self.nested(1)
            self.eat(")")
            return node, t.col
        if t.kind == "name":
            if t.text in ("and", "or", "not"):
                raise self.fail("expected a value")
            self.i += 1
            if self.tok.kind == "op" and self.tok.text == "(":
                if t.text not in FUNCTION_NAMES:
                    raise RuleError(
                        f"unknown function {t.text!r} at column {t.col}; known: {', '.join(FUNCTION_NAMES)}",
                        column=t.col,
                    )
                self.i += 1
                args: list[tuple[Node, int]] = []
                if not (self.tok.kind == "op" and self.tok.text == ")"):
                    args.append(self.nested(1))
                    while self.tok.kind == "op" and self.tok.text == ",":
                        self.i += 1
                        args.append(self.nested(1))
                self.eat(")")
                call = Call(t.text, tuple(a for a, _ in args))
                self.arg_cols[id(call)] = [t.col] + [c for _, c in args]
                return call, t.col
            return Var(t.text), t.col
        raise self.fail("expected a value")


ArgColumns = Mapping[int, list[int]]  # id(call) -> [column of the name, columns of its arguments]


def _noun(kind: str) -> str:
    return {INT: "an integer", LIST: "a list", BOOL: "a condition"}[kind]


def _check_arg(node: Node, scope: Mapping[str, str], column: int | None, cols: ArgColumns) -> str:
    try:
        return _typecheck(node, scope, cols)
    except RuleError as exc:
        if exc.column is None and column is not None:
            raise RuleError(f"{exc.message} (column {column})", column=column) from None
        raise


def _typecheck(node: Node, scope: Mapping[str, str], cols: ArgColumns) -> str:
    if isinstance(node, Num):
        return INT
    if isinstance(node, Var):
        if node.name not in scope:
            names = ", ".join(sorted(scope)) or "none"
            raise RuleError(f"unknown name {node.name!r}; names in scope here: {names}")
        return scope[node.name]
    if isinstance(node, Unary):
        want = BOOL if node.op == "not" else INT
        if _typecheck(node.operand, scope, cols) != want:
            raise RuleError(f"'{node.op}' needs {'a condition' if want == BOOL else 'an integer'}")
        return want
    if isinstance(node, Bin):
        lt, rt = _typecheck(node.left, scope, cols), _typecheck(node.right, scope, cols)
        if node.op in ("and", "or"):
            if lt != BOOL or rt != BOOL:
                raise RuleError(f"'{node.op}' joins two conditions, got {_noun(lt)} and {_noun(rt)}")
            return BOOL
        if lt != INT or rt != INT:
            raise RuleError(f"'{node.op}' works on two integers, got {_noun(lt)} and {_noun(rt)}")
        return BOOL if node.op in CMP else INT
    columns = cols.get(id(node), [])

    def col(k: int) -> int | None:
        return columns[k + 1] if len(columns) > k + 1 else (columns[0] if columns else None)

    if node.fn in LAMBDA_FNS:
        bound, kinds, result = LAMBDA_FNS[node.fn]
        if len(node.args) != len(kinds):
            raise RuleError(f"{node.fn} takes {len(kinds)} arguments, got {len(node.args)}", column=col(-1))
        inner = {name: INT for name in bound}
        got = _check_arg(node.args[0], inner, col(0), cols)
        if got != kinds[0]:
            what = "a condition" if kinds[0] == BOOL else "an integer expression"
            raise RuleError(
                f"the first argument of {node.fn} must be {what} in {' and '.join(bound)}, got {_noun(got)}",
                column=col(0),
            )
        for k, (arg, kind) in enumerate(zip(node.args[1:], kinds[1:]), 1):
            got = _check_arg(arg, scope, col(k), cols)
            if got != kind:
                raise RuleError(
                    f"argument {k + 1} of {node.fn} must be {_noun(kind)}, got {_noun(got)}", column=col(k)
                )
        return result
    spec = PLAIN_FNS.get((node.fn, len(node.args)))
    if spec is None:
        arities = sorted(n for f, n in PLAIN_FNS if f == node.fn)
        raise RuleError(
            f"{node.fn} takes {' or '.join(map(str, arities))} argument(s), got {len(node.args)}",
            column=col(-1),
        )
    for k, (arg, kind) in enumerate(zip(node.args, spec[0])):
        got = _check_arg(arg, scope, col(k), cols)
        if got != kind:
            raise RuleError(
                f"argument {k + 1} of {node.fn} must be {_noun(kind)}, got {_noun(got)}", column=col(k)
            )
    return spec[1]


@dataclass(frozen=True)
class Program:
    tree: Node
    type: str

    @property
    def text(self) -> str:
        return to_text(self.tree)

    @property
    def size(self) -> int:
        return node_size(self.tree)


def parse(text: str) -> Program:
    """Read a program or raise ``RuleError`` with a message and a 1-based column."""
    if not isinstance(text, str):
        raise RuleError("a program is text")
    if len(text) > MAX_TEXT:
        raise RuleError(f"the program is longer than {MAX_TEXT} characters", column=MAX_TEXT + 1)
    if "\n" in text or "\r" in text:
        col = min(i for i in (text.find("\n"), text.find("\r")) if i >= 0) + 1
        raise RuleError(f"write the program on one line (line break at column {col})", column=col)
    if not text.strip():
        raise RuleError("the program is empty; for example: " + RULE_EXAMPLE, column=1)
    parser = _Parser(text)
    tree, _ = parser.expr(1)
    if parser.tok.kind != "end":
        raise parser.fail("unexpected text after the program")
    try:
        kind = _typecheck(tree, {"xs": LIST}, parser.arg_cols)
    except RuleError as exc:
        if exc.column is None:
            raise RuleError(exc.message, column=1) from None
        raise
    if kind == BOOL:
        raise RuleError("a program returns a list or an integer, not a condition", column=1)
    return Program(tree, kind)


# -- the interpreter (compiled to closures) -----------------------------------------------------------

Env = dict[str, Any]
Compiled = Callable[[Env], Any]


def _clamp(v: int) -> int:
    return LIMIT if v > LIMIT else (-LIMIT if v < -LIMIT else v)


def _div(a: int, b: int) -> int:
    return 0 if b == 0 else a // b


def _mod(a: int, b: int) -> int:
    return 0 if b == 0 else a % b


_BIN: dict[str, Callable[[int, int], Any]] = {
    "+": lambda a, b: _clamp(a + b),
    "-": lambda a, b: _clamp(a - b),
    "*": lambda a, b: _clamp(a * b),
    "//": _div,
    "%": _mod,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _compile(node: Node) -> Compiled:
    if isinstance(node, Num):
        value = node.value
        return lambda env: value
    if isinstance(node, Var):
        name = node.name
        return lambda env: env[name]
    if isinstance(node, Unary):
        inner = _compile(node.operand)
        if node.op == "not":
            return lambda env: not inner(env)
        return lambda env: _clamp(-inner(env))
    if isinstance(node, Bin):
        left, right = _compile(node.left), _compile(node.right)
        if node.op == "and":
            return lambda env: bool(left(env)) and bool(right(env))
        if node.op == "or":
            return lambda env: bool(left(env)) or bool(right(env))
        fn = _BIN[node.op]
        return lambda env: fn(left(env), right(env))
    args = [_compile(a) for a in node.args]
    name, n = node.fn, len(args)
    if name == "map":
        f, lst = args
        return lambda env: [f({"x": v}) for v in lst(env)]
    if name == "filter":
        f, lst = args
        return lambda env: [v for v in lst(env) if f({"x": v})]
    if name == "count":
        f, lst = args
        return lambda env: sum(1 for v in lst(env) if f({"x": v}))
    if name == "fold":
        f, init, lst = args

        def fold(env: Env) -> int:
            acc = init(env)
            for v in lst(env):
                acc = f({"acc": acc, "x": v})
            return int(acc)

        return fold
    if name == "zipwith":
        f, a, b = args
        return lambda env: [f({"x": u, "y": v}) for u, v in zip(a(env), b(env))]
    a0 = args[0]
    if name == "sort":
        return lambda env: sorted(a0(env))
    if name == "reverse":
        return lambda env: list(reversed(a0(env)))
    if name == "take":
        a1 = args[1]
        return lambda env: a1(env)[: max(0, a0(env))]
    if name == "drop":
        a1 = args[1]
        return lambda env: a1(env)[max(0, a0(env)) :]
    if name == "sum":
        return lambda env: _clamp(sum(a0(env)))
    if name == "len":
        return lambda env: len(a0(env))
    if name == "abs":
        return lambda env: abs(a0(env))
    if name in ("max", "min"):
        pick = max if name == "max" else min
        if n == 1:
            return lambda env: pick(a0(env), default=0)
        a1 = args[1]
        return lambda env: pick(a0(env), a1(env))
    raise RuleError(f"unknown function {name!r}")  # pragma: no cover - the checker refuses it


@functools.lru_cache(maxsize=20_000)
def compiled(text: str) -> Callable[[tuple[int, ...]], Any]:
    """The program ``text`` as a function of the input list (a tuple of ints)."""
    fn = _compile(parse(text).tree)

    def run(xs: tuple[int, ...]) -> Any:
        out = fn({"xs": list(xs)})
        return list(out) if isinstance(out, list) else int(out)

    return run


def evaluate(program: Program | str, xs: Sequence[int]) -> int | list[int]:
    text = program if isinstance(program, str) else program.text
    out: int | list[int] = compiled(text)(tuple(xs))
    return out


# -- inputs, the simplicity order, the judge's domain -------------------------------------------------


def simplicity_key(value: Any) -> tuple[Any, ...]:
    """Shorter lists first, then smaller absolute values (their sum, then the largest), then fewer
    negative values, then by the values' magnitudes (non-negative before negative)."""
    xs = [int(v) for v in value]
    return (
        len(xs),
        sum(abs(v) for v in xs),
        max((abs(v) for v in xs), default=0),
        sum(v < 0 for v in xs),
        tuple((abs(v), v < 0) for v in xs),
    )


def _bounds(public: Mapping[str, Any]) -> tuple[int, int]:
    return int(public["value_range"]), int(public["max_length"])


def random_input(rng: random.Random, public: Mapping[str, Any]) -> list[int]:
    """Any testable list; short ones, small values and repeats more often."""
    r, n = _bounds(public)
    length = rng.choice([rng.randint(0, min(3, n)), rng.randint(0, n), n])
    pool = [rng.randint(-r, r) for _ in range(3)]
    out = []
    for _ in range(length):
        roll = rng.random()
        out.append(
            rng.randint(-2, 2) if roll < 0.3 else rng.choice(pool) if roll < 0.5 else rng.randint(-r, r)
        )
    return out


@functools.lru_cache(maxsize=16)
def domain(value_range: int, max_length: int) -> tuple[tuple[int, ...], ...]:
    """The judge's inputs, simplest first: every list of length 0-2 over the whole range, every
    list of length 3 over -3..3, 4 over -2..2, 5 over -1..1 (within max_length), edge cases, and
    4,000 seeded random testable lists."""
    r, n = value_range, max_length
    points: set[tuple[int, ...]] = {()}
    for length, span in ((1, r), (2, r), (3, 3), (4, 2), (5, 1)):
        if length <= n:
            points.update(itertools.product(range(-span, span + 1), repeat=length))
    for length in range(1, n + 1):
        for v in (r, -r, 0, 1, -1):
            points.add((v,) * length)
        up = tuple(range(-(length // 2), length - length // 2))
        points.update({up, up[::-1], tuple(abs(v) for v in up), tuple(r - k for k in range(length))})
    rng = seeded_rng(FAMILY_ID, "domain", r, n)
    public = {"value_range": r, "max_length": n}
    for _ in range(4000):
        points.add(tuple(random_input(rng, public)))
    return tuple(sorted(points, key=simplicity_key))


@functools.lru_cache(maxsize=64)
def _outputs(text: str, value_range: int, max_length: int) -> tuple[str, ...]:
    run = compiled(text)
    return tuple(analytics.answer_key(run(p)) for p in domain(value_range, max_length))


def _shrink(point: tuple[int, ...], differs: Callable[[tuple[int, ...]], bool]) -> tuple[int, ...]:
    """A local minimum of the simplicity order among differing inputs: drop an element, or move a
    value toward 0 (or to its non-negative twin), while the programs still differ."""
    while True:
        candidates: set[tuple[int, ...]] = set()
        for i, v in enumerate(point):
            candidates.add(point[:i] + point[i + 1 :])
            for w in {0, v // 2 if v > 0 else -((-v) // 2), v - 1 if v > 0 else v + 1, abs(v), -v}:
                candidates.add(point[:i] + (w,) + point[i + 1 :])
        simpler = sorted(
            (c for c in candidates if simplicity_key(c) < simplicity_key(point)), key=simplicity_key
        )
        for c in simpler:
            if differs(c):
                point = c
                break
        else:
            return point


def judge(instance: Instance, guess: str) -> Verdict:
    mine = parse(guess)
    r, n = _bounds(instance.public)
    pts = domain(r, n)
    hidden_keys = _outputs(instance.hidden["rule"], r, n)
    run = compiled(mine.text)
    hidden_run = compiled(instance.hidden["rule"])
    agree, first = 0, -1
    for i, p in enumerate(pts):
        if analytics.answer_key(run(p)) == hidden_keys[i]:
            agree += 1
        elif first < 0:
            first = i
    if first < 0:
        return Verdict(True, None, None, None, 1.0, len(pts))
    cex = _shrink(pts[first], lambda c: run(c) != hidden_run(c))
    return Verdict(
        correct=False,
        counterexample=list(cex),
        hidden_answer=hidden_run(cex),
        guess_answer=run(cex),
        agreement=round(agree / len(pts), 6),
        checked=len(pts),
    )


# -- oracle -------------------------------------------------------------------------------------------


def parse_query(public: Mapping[str, Any], raw: Any) -> list[int]:
    r, n = _bounds(public)
    shape = (
        f"a test is a list of at most {n} whole numbers from {-r} to {r}, such as 3, -1, 2 (or [] for none)"
    )
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        if not raw.strip():
            raise QueryError(f"the test is empty; {shape}")
        try:
            raw = (
                [int(s) for s in text.replace(",", " ").split() if len(s) <= 12] if len(text) < 400 else None
            )
        except ValueError:
            raise QueryError(shape) from None
        if raw is None:
            raise QueryError(shape)
    if not isinstance(raw, (list, tuple)):
        raise QueryError(f"{shape}; got {raw!r}"[:200])
    if len(raw) > n:
        raise QueryError(f"the list has {len(raw)} numbers; at most {n} are allowed")
    out: list[int] = []
    for k, v in enumerate(raw, 1):
        if isinstance(v, float) and v.is_integer() and abs(v) <= r:
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            raise QueryError(f"number {k} must be a whole number, got {v!r}"[:200])
        if not -r <= v <= r:
            raise QueryError(f"number {k} = {v} is out of range: values go from {-r} to {r}"[:200])
        out.append(v)
    return out


def answer(instance: Instance, query: Any) -> int | list[int]:
    return evaluate(instance.hidden["rule"], parse_query(instance.public, query))


def guess_answer(instance: Instance, guess: str, query: Any) -> int | list[int]:
    return evaluate(parse(guess), parse_query(instance.public, query))


def check_rule(text: str) -> dict[str, Any]:
    try:
        program = parse(text)
    except RuleError as exc:
        return {"ok": False, "error": exc.message, "column": exc.column}
    return {"ok": True, "canonical": program.text, "size": program.size, "returns": program.type}


def rule_size(text: str) -> int:
    return parse(text).size


# -- the generator's grammar (also the solvers' and analytics' reference space) -------------------------


def _x() -> Var:
    return Var("x")


def map_bodies(full: bool) -> list[Node]:
    x = _x()
    out: list[Node] = [Bin("+", x, Num(c)) for c in (1, 2, 3)]
    out += [Bin("-", x, Num(c)) for c in (1, 2)]
    out += [Unary("-", x), Call("abs", (x,))]
    if full:
        out += [Bin("*", x, Num(c)) for c in (2, 3)] + [
            Bin("*", x, x),
            Bin("%", x, Num(2)),
            Bin("%", x, Num(3)),
        ]
        out += [Call("max", (x, Num(0))), Call("min", (x, Num(0)))]
    return out


def predicates(full: bool) -> list[Node]:
    x = _x()
    out: list[Node] = [Bin(">", x, Num(c)) for c in (0, 2)]
    out += [Bin("<", x, Num(c)) for c in (0, 2)]
    out += [Bin("!=", x, Num(0)), Bin(">=", x, Num(1))]
    if full:
        out += [Bin("==", Bin("%", x, Num(2)), Num(0)), Bin("==", Bin("%", x, Num(2)), Num(1))]
        out += [Bin("==", Bin("%", x, Num(3)), Num(0))]
    return out


def list_steps(full: bool) -> list[Callable[[Node], Node]]:
    """One list function applied to a list expression."""
    steps: list[Callable[[Node], Node]] = [lambda e: Call("sort", (e,)), lambda e: Call("reverse", (e,))]
    steps += [functools.partial(lambda k, e: Call("take", (Num(k), e)), k) for k in (1, 2, 3)]
    steps += [functools.partial(lambda k, e: Call("drop", (Num(k), e)), k) for k in (1, 2)]
    steps += [functools.partial(lambda b, e: Call("map", (b, e)), b) for b in map_bodies(full)]
    steps += [functools.partial(lambda p, e: Call("filter", (p, e)), p) for p in predicates(full)]
    if full:
        x, y = Var("x"), Var("y")
        for body in (Bin("+", x, y), Bin("-", x, y), Bin("*", x, y), Call("max", (x, y))):
            for other in ("reverse", "sort"):
                steps.append(
                    functools.partial(lambda b, o, e: Call("zipwith", (b, e, Call(o, (e,)))), body, other)
                )
    return steps


def reducers(full: bool) -> list[Callable[[Node], Node]]:
    out: list[Callable[[Node], Node]] = [lambda e: Call("sum", (e,)), lambda e: Call("len", (e,))]
    out += [functools.partial(lambda p, e: Call("count", (p, e)), p) for p in predicates(full)[:4]]
    if full:
        acc, x = Var("acc"), Var("x")
        out += [lambda e: Call("max", (e,)), lambda e: Call("min", (e,))]
        for body in (Bin("-", x, acc), Bin("+", Bin("*", acc, Num(2)), x)):
            out.append(functools.partial(lambda b, e: Call("fold", (b, Num(0), e)), body))
    return out


def _run_node(node: Node, xs: tuple[int, ...]) -> Any:
    return compiled(to_text(node))(xs)


def _sample_program(rng: random.Random, depth: int, full: bool) -> Node:
    steps, reds = list_steps(full), reducers(full)
    node: Node = Var("xs")
    reduce_last = rng.random() < 0.4
    probes = [(), (0,), (2, 1), (-1, 3, 3), (3, -2, 0, 1), (1, 2, 3, 4, 5), (-4, 4, -3, 2, 2, 0)]
    for _ in range(depth - (1 if reduce_last else 0)):
        for _attempt in range(100):  # a step that changes nothing (sort of a sorted list) is drawn again
            step = rng.choice(steps)(node)
            if any(_run_node(step, p) != _run_node(node, p) for p in probes):
                break
        node = step
    if reduce_last:
        node = rng.choice(reds)(node)
    return node


@functools.lru_cache(maxsize=16)
def _probes(value_range: int, max_length: int) -> tuple[tuple[int, ...], ...]:
    rng = seeded_rng(FAMILY_ID, "probes", value_range, max_length)
    public = {"value_range": value_range, "max_length": max_length}
    fixed = [(), (0,), (1,), (-1,), (2, 1), (1, 2), (-2, 3, 3), (3, -1, 2, 0)]
    return tuple(fixed + [tuple(random_input(rng, public)) for _ in range(60)])


def _degenerate(text: str, value_range: int, max_length: int) -> bool:
    probes = [p for p in _probes(value_range, max_length) if len(p) <= max_length]
    outs = {analytics.answer_key(evaluate(text, p)) for p in probes}
    identity = all(evaluate(text, p) == list(p) for p in probes)
    return len(outs) <= 2 or identity


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return validate_params(PARAMS_SCHEMA, params or {})


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    rng = seeded_rng(FAMILY_ID, VERSION, seed, p)
    full = p["primitives"] == "full"
    r, n = p["value_range"], p["max_length"]
    for _ in range(1000):
        text = to_text(_sample_program(rng, p["depth"], full))
        if not _degenerate(text, r, n):
            break
    else:  # pragma: no cover - the grammar makes this unreachable
        raise ParamsError("could not generate a non-degenerate program with these params")
    public: dict[str, Any] = {
        "family": FAMILY_ID,
        "depth": p["depth"],
        "tier": p["depth"],  # the difficulty level the dashboard groups by: the program depth
        "primitives": p["primitives"],
        "value_range": r,
        "max_length": n,
        "max_tests": p["max_tests"],
    }
    examples = []
    for _ in range(p["examples"]):
        xs = random_input(rng, public)
        examples.append({"input": xs, "result": evaluate(text, xs)})
    public["examples"] = examples
    program = parse(text)
    hidden = {"rule": program.text, "size": program.size, "returns": program.type}
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


# -- the reference space ------------------------------------------------------------------------------


class ProgramSpace(HypothesisSpace):
    """Every program of the generator's grammar with at most two list functions (depth 1 and 2,
    for the primitive set), one per behaviour on a probe set, simplest first. Depth-3 programs are
    outside it: the analytics then report the space exhausted. Answers are lists and integers, so
    ``truth`` is a matrix of answer keys."""

    def __init__(self, full: bool, value_range: int, max_length: int) -> None:
        steps, reds = list_steps(full), reducers(full)
        xs: Node = Var("xs")
        nodes: list[Node] = [s(xs) for s in steps] + [f(xs) for f in reds]
        nodes += [f(s(xs)) for s in steps for f in steps + reds]
        probes = _probes(value_range, max_length)
        seen: set[tuple[str, ...]] = set()
        texts: list[str] = []
        for node in sorted(nodes, key=lambda nd: (node_size(nd), to_text(nd))):
            text = to_text(node)
            key = tuple(analytics.answer_key(evaluate(text, p)) for p in probes)
            if key in seen:
                continue
            seen.add(key)
            texts.append(text)
        self.texts = texts
        self.variables = ("xs",)
        self.probes = np.zeros((0, 1))
        self._probe_truth = None
        self._runs = [compiled(t) for t in texts]

    def __len__(self) -> int:
        return len(self.texts)

    def truth(self, points: Sequence[Sequence[float]]) -> npt.NDArray[Any]:
        out = np.empty((len(self), len(points)), dtype=object)
        for j, p in enumerate(points):
            xs = tuple(int(v) for v in p)
            for i, run in enumerate(self._runs):
                out[i, j] = analytics.answer_key(run(xs))
        return out


@functools.lru_cache(maxsize=8)
def reference_space(primitives: str, value_range: int, max_length: int) -> ProgramSpace:
    return ProgramSpace(primitives == "full", value_range, max_length)


def _space_for(public: Mapping[str, Any]) -> ProgramSpace:
    return reference_space(str(public["primitives"]), *_bounds(public))


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return analytics.trace(_space_for(public), history, examples=public.get("examples") or [])


# -- baseline solvers ---------------------------------------------------------------------------------


class _ProgramSolver:
    """Keeps the programs of the reference space consistent with every answer seen; guesses the
    simplest of them. ``search`` tests the input that splits the survivors best (fewest expected
    survivors); ``random`` tests random inputs."""

    def __init__(self, public: Mapping[str, Any], seed: int, *, splitting: bool) -> None:
        self.public = public
        self.seed = seed
        self.splitting = splitting
        self.space = _space_for(public)
        self.examples: list[Mapping[str, Any]] = list(public.get("examples") or [])

    def _alive(self, history: Sequence[Mapping[str, Any]]) -> list[int]:
        observations = self.examples + list(history)
        alive = list(range(len(self.space)))
        for obs in observations:
            xs = tuple(obs["input"])
            want = analytics.answer_key(obs["result"])
            alive = [i for i in alive if analytics.answer_key(self.space._runs[i](xs)) == want]
        return alive

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        alive = self._alive(history)
        rng = random.Random(f"{self.seed}:{len(history)}")
        if tests_left <= 0 or len(alive) <= 1:
            return {"type": "guess", "rule": self.space.texts[alive[0]] if alive else "sort(xs)"}
        if not self.splitting:
            return {"type": "test", "input": random_input(rng, self.public)}
        candidates = [random_input(rng, self.public) for _ in range(40)]
        sample = alive[:300]
        best, best_cost = candidates[0], float("inf")
        for xs in candidates:
            groups: dict[str, int] = {}
            for i in sample:
                key = analytics.answer_key(self.space._runs[i](tuple(xs)))
                groups[key] = groups.get(key, 0) + 1
            cost = sum(c * c for c in groups.values()) + 1e-3 * simplicity_key(xs)[0]
            if cost < best_cost:
                best, best_cost = xs, cost
        if best_cost >= len(sample) ** 2:  # nothing splits them: they behave alike here
            return {"type": "guess", "rule": self.space.texts[alive[0]]}
        return {"type": "test", "input": best}


def _search(public: Mapping[str, Any], seed: int) -> _ProgramSolver:
    return _ProgramSolver(public, seed, splitting=True)


def _random(public: Mapping[str, Any], seed: int) -> _ProgramSolver:
    return _ProgramSolver(public, seed, splitting=False)


# -- the pattern of well-formed programs (constrained decoding) --------------------------------------

# The most list functions a pattern's program nests (one more may close it to an integer): the
# generators nest three at their deepest, and five of the longest fit in MAX_TEXT.
PATTERN_DEPTH = 4
_PATTERN_NUMBER = "(0|[1-9][0-9]{0,3})"
_PATTERN_OP = "( ?(\\+|-|\\*|//|%) ?)"
_PATTERN_CMP = "( ?(<=|>=|==|!=|<|>) ?)"


def _pattern_int(names: Sequence[str]) -> str:
    """An integer expression over ``names``: at most two terms, each a name or number, ``abs`` of
    a sum of two, ``max``/``min`` of two, or a bracketed sum of two."""
    simple = f"-?({'|'.join(names)}|{_PATTERN_NUMBER})"
    pair = f"{simple}{_PATTERN_OP}{simple}"
    term = f"({simple}|abs\\({simple}({_PATTERN_OP}{simple})?\\)|(max|min)\\({simple}, ?{simple}\\)|\\({pair}\\))"
    return f"{term}({_PATTERN_OP}{term})?"


def _pattern_condition(names: Sequence[str]) -> str:
    """One or two comparisons of integer expressions, each maybe negated, joined by and/or."""
    body = _pattern_int(names)
    atom = f"(not )?{body}{_PATTERN_CMP}{body}"
    return f"{atom}( (and|or) {atom})?"


@functools.lru_cache(maxsize=1)
def guess_pattern() -> str:
    """A regular expression whose every match ``parse`` reads and types: a pipeline of up to
    ``PATTERN_DEPTH`` list functions over ``xs`` (map, filter, sort, reverse, take, drop, and
    zipwith of xs with the rest), maybe closed by one returning an integer (sum, len, max, min,
    count, fold). Each opening is written once and counted with ``{d}`` against as many closing
    brackets; the count makes llama.cpp's converter write each opening as one grammar rule, so the
    grammar stays small. A function argument is kept short (see ``_pattern_int``) so the longest
    program fits in ``MAX_TEXT``."""
    sep = ", ?"
    opening = "|".join(
        [
            f"map\\({_pattern_int(['x'])}{sep}",
            f"filter\\({_pattern_condition(['x'])}{sep}",
            "(sort|reverse)\\(",
            f"(take|drop)\\({_PATTERN_NUMBER}{sep}",
            f"zipwith\\({_pattern_int(['x', 'y'])}{sep}xs{sep}",
        ]
    )
    closing = "|".join(
        [
            "(sum|len|max|min)\\(",
            f"count\\({_pattern_condition(['x'])}{sep}",
            f"fold\\({_pattern_int(['acc', 'x'])}{sep}-?{_PATTERN_NUMBER}{sep}",
        ]
    )
    pipelines = ["xs"] + [f"({opening}){{{d}}}xs\\){{{d}}}" for d in range(1, PATTERN_DEPTH + 1)]
    pipeline = "(" + "|".join(pipelines) + ")"
    return f"^(({closing}){{1}}{pipeline}\\)|{pipeline})$"


# -- texts --------------------------------------------------------------------------------------------

SYNTAX_HELP = (
    "A program over the input list xs that returns a list or an integer. List functions: map(f, l), "
    "filter(p, l), count(p, l) with f or p written in x (e.g. x * 2, x > 0); fold(f, init, l) with f in acc "
    "and x; zipwith(f, l1, l2) with f in x and y; sort(l), reverse(l), take(k, l), drop(k, l), sum(l), "
    "len(l), max(l), min(l) (0 for an empty list). Integers: + - * // % (by zero: 0), abs(a), max(a, b), "
    "min(a, b); conditions: < <= > >= == != and or not."
)


def describe(public: Mapping[str, Any]) -> str:
    r, n = _bounds(public)
    return "\n".join(
        [
            "There is a hidden program that takes a list of whole numbers and returns a list or a number.",
            f"You may run up to {public['max_tests']} tests: give a list of at most {n} whole numbers from "
            f"{-r} to {r} (the empty list too) and you are told what the program returns.",
            "Then state the program once. A guess ends your game; you may guess early.",
            "Your guess is correct if it returns the same as the hidden program on every list tried: every "
            "short list of small numbers, thousands of random lists within the bounds, and edge cases.",
            f"Write the program in this language, for example: {RULE_EXAMPLE}.",
            SYNTAX_HELP,
        ]
    )


def format_input(value: Any) -> str:
    return "[" + ", ".join(str(int(v)) for v in value) + "]"


def format_answer(value: Any) -> str:
    return format_input(value) if isinstance(value, list) else str(value)


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    return common.render_observation(
        public, history, tests_left, show_input=format_input, show_answer=format_answer
    )


PRESENTATION = Presentation(
    input_schema={
        "type": "array",
        "items": {"type": "integer", "minimum": -20, "maximum": 20},
        "maxItems": 8,
        "description": "the input list (the instance's value_range and max_length bound it further)",
    },
    answer_schema={
        "oneOf": [
            {"type": "integer"},
            {"type": "array", "items": {"type": "integer"}},
        ],
        "description": "what the program returns: an integer or a list of integers",
    },
    guess_schema={"type": "string", "maxLength": MAX_TEXT, "description": "a program over xs"},
    widget={"kind": "integer_list", "label": "input list xs", "max_length": 8},
    test_noun="an input list",
    input_placeholder="[3, 1, 2]",
    # the placeholder is itself a valid test, and a small model sent it turn after turn
    input_names="[x1, x2, ...]",
    input_example=[3, -1, 2],
    rule_example=RULE_EXAMPLE,
    guess_pattern=guess_pattern(),
    guess_label="a program over the list xs",
    syntax_help=SYNTAX_HELP,
    format_input=format_input,
    format_answer=format_answer,
    simplicity_key=simplicity_key,
    simplicity_order=(
        "shorter lists first, then a smaller sum of absolute values, then a smaller largest absolute value, "
        "then fewer negative values"
    ),
)


def present(public: Mapping[str, Any]) -> Presentation:
    """The instance's own bounds in the input's schema and widget: values from -value_range to
    value_range, at most max_length of them (a structured reply's grammar then writes only lists the
    puzzle takes; llama.cpp enforces the values as an enumeration, not as minimum/maximum)."""
    r, n = _bounds(public)
    items = {**PRESENTATION.input_schema["items"], "minimum": -r, "maximum": r}
    return dataclasses.replace(
        PRESENTATION,
        input_schema={**PRESENTATION.input_schema, "items": items, "maxItems": n},
        widget={**PRESENTATION.widget, "max_length": n},
    )


VARIANTS = (
    VariantSpec(
        slug="blackbox-level-1",
        title="Black box level 1: one list function",
        params={"depth": 1, "primitives": "basic", "value_range": 9, "max_length": 6, "max_tests": 20},
        description="map, filter, sort, take, sum... one of them, over short lists.",
    ),
    VariantSpec(
        slug="blackbox-level-2",
        title="Black box level 2: two steps",
        params={"depth": 2, "primitives": "full", "value_range": 9, "max_length": 6, "max_tests": 20},
        description="Two list functions composed, with fold, zipwith, * and % too.",
    ),
    VariantSpec(
        slug="blackbox-level-3",
        title="Black box level 3: three steps",
        params={"depth": 3, "primitives": "full", "value_range": 20, "max_length": 8, "max_tests": 30},
        description="Three list functions composed, over longer lists and a wider range.",
    ),
)

REFERENCE_SPACE = ReferenceSpace(
    "estimated",
    "Too many programs to list at every depth: the space listed is every program of the "
    "primitive set with at most two list functions, one per behaviour on 68 probe lists. Depth-3 hidden "
    "programs lie outside it (the analytics then report it exhausted), so the counts estimate the "
    "true space from its depth-1 and depth-2 part.",
)


FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="Black-box list programs (CodeARC)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=common.score,
        describe=describe,
        render_observation=render_observation,
        solvers={"search": _search, "random": _random},
        step_analytics=step_analytics,
        rule_size=rule_size,
        reference_space=REFERENCE_SPACE,
        presentation=PRESENTATION,
        present=present,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        extras={"parse": parse, "evaluate": evaluate, "domain": domain, "reference_space": reference_space},
    )
)

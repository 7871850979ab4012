"""A safe rule language for number rules.

The syntax is Python's expression syntax restricted to an allow-list. Text is
parsed with ``ast`` and converted into this module's own small tree; nothing is
ever passed to ``eval`` or ``exec``. The tree can be printed (canonical form),
evaluated at one point (plain Python floats) or compiled to a vectorised numpy
evaluation over many points; both evaluators share one semantics:

* Every number is a float64. Integer literals and integer results are exact up
  to 2**53, which the magnitude limits keep us far below.
* ``and``, ``or``, chained comparisons and ``a if c else b`` short-circuit as in
  Python, so ``z != 0 and x / z > 1`` is well defined at ``z == 0``.
* An operation that would fail — division or modulo by zero, ``sqrt`` of a
  negative number, a non-integer operand of ``& | ^ gcd``, an exponent larger
  than ``MAX_RUNTIME_EXPONENT``, a result whose magnitude exceeds
  ``MAX_MAGNITUDE``, NaN or infinity — makes the value *undefined* at that
  point. Undefined spreads upwards through the expression; a rule that is
  undefined at a point is **False** there.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.core import RuleError

MAX_TEXT_LENGTH = 2000
MAX_NODES = 120
MAX_DEPTH = 40
MAX_CONSTANT = 1e9
MAX_LITERAL_EXPONENT = 16
MAX_RUNTIME_EXPONENT = 64
MAX_MAGNITUDE = 1e15

FUNCTIONS: dict[str, tuple[int, int, str]] = {
    # name: (min args, max args, result type)
    "abs": (1, 1, "num"),
    "min": (2, 8, "num"),
    "max": (2, 8, "num"),
    "int": (1, 1, "num"),
    "round": (1, 1, "num"),
    "floor": (1, 1, "num"),
    "ceil": (1, 1, "num"),
    "sqrt": (1, 1, "num"),
    "gcd": (2, 2, "num"),
    "is_int": (1, 1, "bool"),
    "is_square": (1, 1, "bool"),
}

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_CMPOPS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_OP_NAMES: dict[type, str] = {
    ast.LShift: "shift '<<'",
    ast.RShift: "shift '>>'",
    ast.MatMult: "operator '@'",
    ast.Invert: "operator '~'",
    ast.UAdd: "unary '+'",
    ast.Is: "'is'",
    ast.IsNot: "'is not'",
    ast.In: "'in'",
    ast.NotIn: "'not in'",
}
_NODE_NAMES: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscription",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.NamedExpr: "assignment expression ':='",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.JoinedStr: "f-string",
    ast.Starred: "starred expression",
    ast.Slice: "slice",
}

# Precedence for printing (higher binds tighter), following Python's grammar.
_PREC_IF, _PREC_OR, _PREC_AND, _PREC_NOT, _PREC_CMP = 0, 1, 2, 3, 4
_PREC_BIN = {"|": 5, "^": 6, "&": 7, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10}
_PREC_UNARY, _PREC_POW, _PREC_ATOM = 11, 12, 13


# -- the tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: float | int | bool


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Bin:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Cmp:
    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class IfExp:
    cond: Node
    then: Node
    orelse: Node


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]


Node = Num | Var | Neg | Not | Bin | Cmp | BoolOp | IfExp | Call


@dataclass(frozen=True)
class Rule:
    """A parsed, type-checked boolean rule."""

    tree: Node
    variables: tuple[str, ...]

    @property
    def text(self) -> str:
        return to_text(self.tree)

    @property
    def size(self) -> int:
        return tree_size(self.tree)

    def evaluate(self, columns: Sequence[npt.ArrayLike]) -> npt.NDArray[np.bool_]:
        """Vectorised truth values at many points: ``columns[i]`` holds the
        values of ``variables[i]``."""
        return compile_rule(self)(columns)

    def evaluate_point(self, point: Sequence[float]) -> bool:
        env = {name: float(v) for name, v in zip(self.variables, point, strict=True)}
        value = _eval_scalar(self.tree, env)
        return bool(value) if value is not None else False


def language_summary(variables: Sequence[str]) -> str:
    """What ``parse_rule`` accepts over ``variables``, written from the same tables it checks
    with, so a family's instructions cannot promise less (or more) than its checker allows."""
    names = " ".join(variables)
    arithmetic = " ".join(op for op in _BINOPS.values() if op not in ("&", "|", "^"))
    bitwise = " ".join(op for op in _BINOPS.values() if op in ("&", "|", "^"))
    comparisons = " ".join(_CMPOPS.values())
    return (
        f"Allowed: numbers (whole or decimal, like 3 or 0.5), {names}, {arithmetic}, comparisons "
        f"{comparisons} (also chained, like 1 < {variables[0]} <= 9), and/or/not, 'a if c else b', "
        f"{bitwise} on integers, and the functions {', '.join(FUNCTIONS)}."
    )


# -- the pattern of well-formed rules (constrained decoding) ----------------------------

# A literal number below MAX_CONSTANT without leading zeros (Python refuses ``007``).
_PATTERN_NUMBER = "(0|[1-9][0-9]{0,8})([.][0-9]{1,6})?"
# Up to three more operands. ``**`` only raises a name, to a one-digit power: a constant power
# could pass MAX_CONSTANT and a power of a power MAX_LITERAL_EXPONENT.
_PATTERN_CHAIN = "( ?(\\+|-|\\*|//|/|%) ?{unit}){{0,3}}"
_PATTERN_POWER = "( ?\\*\\* ?[0-9])?"
_PATTERN_COMPARISON = "(<=|>=|==|!=|<|>)"
_PATTERN_JOINED = "( (and|or) {item}){{0,2}}"


def _alternatives(items: Sequence[str]) -> str:
    return "(" + "|".join(items) + ")"


@functools.lru_cache(maxsize=64)
def rule_pattern(variables: tuple[str, ...], *, depth: int = 1, conditional: bool = False) -> str:
    """A regular expression whose every match ``parse_rule`` accepts over ``variables`` (below
    its MAX_NODES size limit): the well-formed rules a constrained decoder may write, for a
    family's ``Presentation.guess_pattern``. It is anchored and uses only what JSON-schema engines
    and llama.cpp's grammar converter both read: groups, classes, alternation, ``? {m,n}`` and
    escaped operator characters (no ``\\d``, no ``\\.``, no quote).

    A regular expression cannot count brackets, and each level of nesting multiplies its length,
    so the language is cut down where rules rarely go: calls and brackets inside a number nest at
    most ``depth`` deep; after the first operand of a sum or product, and inside ``min``/``max``/
    ``gcd``, an operand is one level simpler; one level of brackets groups conditions; chains are
    short; with ``conditional``, one ``a if c else b`` whose test is a single condition and whose
    alternative has no brackets. A call takes the number of arguments ``FUNCTIONS`` allows
    (``min``/``max`` two or three) and a condition stands only where one is expected, so no match
    fails the type check. Around an operator there is one space or none."""
    names = _alternatives(sorted(variables, key=lambda name: (-len(name), name))) + _PATTERN_POWER
    unary = [name for name, (low, high, kind) in FUNCTIONS.items() if kind == "num" and low == high == 1]
    several = [name for name, (low, _, kind) in FUNCTIONS.items() if kind == "num" and low == 2]
    three = [name for name in several if FUNCTIONS[name][1] >= 3]
    conditions = [
        name for name, (low, high, kind) in FUNCTIONS.items() if kind == "bool" and low == high == 1
    ]
    simple_unit = "-?" + _alternatives([names, _PATTERN_NUMBER])
    unit, number = simple_unit, simple_unit + _PATTERN_CHAIN.format(unit=simple_unit)
    for _ in range(depth):
        argument = unit
        calls = [
            _alternatives([*unary, ""]) + "\\(" + number + "\\)",
            # gcd(a, b), min(a, b), min(a, b, c): the first argument is written once
            f"({_alternatives(several)}\\({argument}|{_alternatives(three)}\\({argument}, ?{argument}), ?{argument}\\)",
        ]
        simpler, unit = unit, "-?" + _alternatives([names, _PATTERN_NUMBER, *calls])
        number = unit + _PATTERN_CHAIN.format(unit=simpler)
    tests = [
        f"{number}( ?{_PATTERN_COMPARISON} ?{number}){{1,2}}",
        _alternatives(conditions) + "\\(" + number + "\\)",
    ]
    single = "(not )?" + _alternatives(tests)
    flat = single + _PATTERN_JOINED.format(item=single)
    atom = "(not )?" + _alternatives([*tests, "\\(" + flat + "\\)"])
    condition = atom + _PATTERN_JOINED.format(item=atom)
    if conditional:
        condition += f"( if {single} else {flat})?"
    return f"^{condition}$"


# -- parsing ---------------------------------------------------------------------------


def parse_rule(text: str, variables: Sequence[str]) -> Rule:
    """Parse ``text`` into a boolean ``Rule`` over ``variables`` or raise
    ``RuleError`` saying what is not allowed and at which (1-based) column."""
    if not isinstance(text, str):
        raise RuleError(f"a rule must be text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH:
        raise RuleError(f"rule is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}")
    stripped = text.strip()
    if not stripped:
        raise RuleError("the rule is empty; write a condition such as 'x < y < z'")
    if "\n" in stripped or "\r" in stripped:
        raise RuleError("a rule must be a single line")
    offset = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        slip = _likely_slip(stripped)
        if slip is not None:
            message, at = slip
            column = at + offset
            raise RuleError(f"{message} (column {column})", column=column) from None
        column = (exc.offset or 1) + offset
        raise RuleError(f"syntax error at column {column}: {exc.msg}", column=column) from None
    except (RecursionError, MemoryError, ValueError):
        raise RuleError("the rule is nested too deeply") from None
    converter = _Converter(tuple(variables), offset)
    try:
        node = converter.convert(tree.body, depth=0)
    except RecursionError:
        raise RuleError("the rule is nested too deeply") from None
    kind = _type_of(node, converter)
    if kind != "bool":
        raise RuleError(
            "the rule must be a condition that is true or false (for example 'x < y'), not a number",
            column=offset + 1,
        )
    return Rule(tree=node, variables=tuple(variables))


# Slips people make when they write a condition, each with what to write instead. Checked only
# when the text does not parse, so a valid rule is never second-guessed.
_SPELLED: dict[str, tuple[str, str]] = {  # what was typed: (what to write, why)
    "&&": ("and", "use 'and' to combine conditions"),
    "||": ("or", "use 'or' for either condition"),
    "=<": ("<=", "write '<=' for 'at most'"),
    "=>": (">=", "write '>=' for 'at least'"),
    "<>": ("!=", "write '!=' for 'not equal'"),
    "≤": ("<=", "write '<=' for 'at most'"),
    "≥": (">=", "write '>=' for 'at least'"),
    "≠": ("!=", "write '!=' for 'not equal'"),
    "×": ("*", "write '*' to multiply"),
    "÷": ("/", "write '/' to divide"),
    "−": ("-", "write '-' (a plain minus sign)"),
}
_TRAILING = ("==", "!=", "<=", ">=", "**", "//", "<", ">", "+", "-", "*", "/", "%", "(", ",", "=")
_TRAILING_WORDS = ("and", "or", "not", "if", "else")


def _likely_slip(text: str) -> tuple[str, int] | None:
    """The likely slip in a rule that does not parse, as (what to write instead, 1-based column),
    or None to fall back on the parser's own message."""
    for spelled, (instead, why) in _SPELLED.items():
        at = text.find(spelled)
        if at >= 0:
            fixed = text.replace(spelled, f" {instead} " if instead.isalpha() else instead)
            return (
                f"'{spelled}' is not part of the rule language: {why}, as in: {' '.join(fixed.split())}",
                at + 1,
            )
    for at, char in enumerate(text):
        before = text[at - 1] if at else ""
        after = text[at + 1] if at + 1 < len(text) else ""
        if char == "=" and before not in "=!<>" and after != "=":
            fixed = text[:at] + "==" + text[at + 1 :]
            return f"'=' assigns a value; use '==' to compare, as in: {fixed}", at + 1
        if char == "!" and after != "=":
            return "'!' is not part of the rule language: use 'not' (not x < y)", at + 1
        if char.isdigit() and after.isalpha() and after not in "eEjJ" and not _in_name(text, at):
            return f"write '{char} * {after}' to multiply (a number and a name need '*')", at + 2
    depth = 0
    opened: list[int] = []
    for at, char in enumerate(text):
        if char == "(":
            depth += 1
            opened.append(at)
        elif char == ")":
            if depth == 0:
                return "this ')' closes nothing; remove it or add a '(' before", at + 1
            depth -= 1
            opened.pop()
    if opened:
        return "this '(' is never closed; add a ')'", opened[-1] + 1
    tail = text.rstrip()
    for op in _TRAILING:
        if tail.endswith(op):
            return f"something is missing after '{op}'", len(tail) + 1
    last = tail.rsplit(None, 1)[-1] if tail else ""
    if last in _TRAILING_WORDS:
        return f"something is missing after '{last}'", len(tail) + 1
    return None


def _in_name(text: str, at: int) -> bool:
    """Whether the digit at ``at`` is part of a name such as ``x2`` (not a number like ``2x``)."""
    start = at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return text[start].isalpha() or text[start] == "_"


class _Converter:
    def __init__(self, variables: tuple[str, ...], offset: int) -> None:
        self.variables = variables
        self.offset = offset
        self.nodes = 0
        self.columns: dict[int, int] = {}

    def _col(self, node: ast.AST) -> int:
        return int(getattr(node, "col_offset", 0)) + 1 + self.offset

    def _fail(self, message: str, node: ast.AST, hint: str = "") -> RuleError:
        column = self._col(node)
        tail = f"; {hint}" if hint else ""
        return RuleError(f"{message} at column {column}{tail}", column=column)

    def _allowed_names(self) -> str:
        return ", ".join([*self.variables, *FUNCTIONS])

    def convert(self, node: ast.AST, depth: int) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._fail(f"the rule is too large (more than {MAX_NODES} parts)", node)
        if depth > MAX_DEPTH:
            raise self._fail(f"the rule is nested too deeply (more than {MAX_DEPTH} levels)", node)
        out = self._convert(node, depth + 1)
        self.columns[id(out)] = self._col(node)
        return out

    def _convert(self, node: ast.AST, depth: int) -> Node:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return Num(value)
            if isinstance(value, (int, float)):
                if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
                    raise self._fail(
                        f"constant {value!r} is too large",
                        node,
                        f"constants must be at most {MAX_CONSTANT:g}",
                    )
                return Num(value)
            if isinstance(value, complex):
                raise self._fail("complex numbers are not allowed", node)
            raise self._fail(f"constant {value!r} is not allowed", node, "only numbers are")
        if isinstance(node, ast.Name):
            if node.id in self.variables:
                return Var(node.id)
            if node.id in FUNCTIONS:
                raise self._fail(f"function {node.id!r} must be called with arguments", node)
            raise self._fail(
                f"name {node.id!r} is not allowed", node, f"allowed names: {self._allowed_names()}"
            )
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Neg(self.convert(node.operand, depth))
            if isinstance(node.op, ast.Not):
                return Not(self.convert(node.operand, depth))
            raise self._fail(f"{_OP_NAMES.get(type(node.op), 'this operator')} is not allowed", node)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self._fail(f"{_OP_NAMES.get(type(node.op), 'this operator')} is not allowed", node)
            left = self.convert(node.left, depth)
            right = self.convert(node.right, depth)
            if op == "**":
                exponent = _constant_value(right)
                if exponent is not None and abs(exponent) > MAX_LITERAL_EXPONENT:
                    raise self._fail(
                        f"exponent {_fmt(exponent)} is too large",
                        node.right,
                        f"exponents must be at most {MAX_LITERAL_EXPONENT}",
                    )
                base = _constant_value(left)
                if base is not None and exponent is not None:
                    folded = _pow_scalar(float(base), float(exponent))
                    if folded is None or abs(folded) > MAX_CONSTANT:
                        raise self._fail(
                            f"constant power {to_text(left)} ** {to_text(right)} is too large or undefined",
                            node,
                        )
            return Bin(op, left, right)
        if isinstance(node, ast.BoolOp):
            name = "and" if isinstance(node.op, ast.And) else "or"
            operands: list[Node] = []
            for operand_node in node.values:
                child = self.convert(operand_node, depth)
                if isinstance(child, BoolOp) and child.op == name:
                    operands.extend(child.operands)  # canonical: flatten a and (b and c)
                else:
                    operands.append(child)
            return BoolOp(name, tuple(operands))
        if isinstance(node, ast.Compare):
            ops: list[str] = []
            for cmp_op in node.ops:
                sym = _CMPOPS.get(type(cmp_op))
                if sym is None:
                    raise self._fail(f"comparison {_OP_NAMES.get(type(cmp_op), '?')} is not allowed", node)
                ops.append(sym)
            items = [self.convert(node.left, depth)] + [self.convert(c, depth) for c in node.comparators]
            return Cmp(tuple(ops), tuple(items))
        if isinstance(node, ast.IfExp):
            return IfExp(
                self.convert(node.test, depth),
                self.convert(node.body, depth),
                self.convert(node.orelse, depth),
            )
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self._fail("only calls of the allowed functions by name are allowed", node)
            name = node.func.id
            if name not in FUNCTIONS:
                raise self._fail(
                    f"name {name!r} is not allowed", node, f"allowed names: {self._allowed_names()}"
                )
            if node.keywords:
                raise self._fail(f"keyword arguments are not allowed in {name}()", node)
            low, high, _ = FUNCTIONS[name]
            if not low <= len(node.args) <= high:
                want = str(low) if low == high else f"{low} to {high}"
                raise self._fail(f"{name}() takes {want} arguments, got {len(node.args)}", node)
            return Call(name, tuple(self.convert(a, depth) for a in node.args))
        label = _NODE_NAMES.get(type(node), type(node).__name__)
        raise self._fail(f"{label} is not allowed", node)


def _constant_value(node: Node) -> float | None:
    """The value of a variable-free numeric subtree (None if it has variables,
    is a condition or is undefined). Used to reject huge literal powers."""
    if not _is_constant(node):
        return None
    value = _eval_scalar(node, {})
    if value is None or isinstance(value, bool):
        return None
    return float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _is_constant(node: Node) -> bool:
    if isinstance(node, Num):
        return not isinstance(node.value, bool)
    if isinstance(node, Neg):
        return _is_constant(node.operand)
    if isinstance(node, Bin):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


def _type_of(node: Node, conv: _Converter) -> str:
    """Check types bottom-up; returns 'num' or 'bool' or raises RuleError."""

    def fail(message: str, at: Node) -> RuleError:
        column = conv.columns.get(id(at))
        where = f" at column {column}" if column else ""
        return RuleError(message + where, column=column)

    def need(child: Node, kind: str, what: str) -> None:
        got = _type_of(child, conv)
        if got != kind:
            noun = "a number" if kind == "num" else "a condition (true/false)"
            raise fail(f"{what} must be {noun}", child)

    if isinstance(node, Num):
        return "bool" if isinstance(node.value, bool) else "num"
    if isinstance(node, Var):
        return "num"
    if isinstance(node, Neg):
        need(node.operand, "num", "the operand of unary '-'")
        return "num"
    if isinstance(node, Not):
        need(node.operand, "bool", "the operand of 'not'")
        return "bool"
    if isinstance(node, Bin):
        if node.op in ("&", "|", "^"):
            left = _type_of(node.left, conv)
            need(node.right, left, f"both operands of '{node.op}' must match: the right operand")
            return left
        need(node.left, "num", f"the left operand of '{node.op}'")
        need(node.right, "num", f"the right operand of '{node.op}'")
        return "num"
    if isinstance(node, Cmp):
        kinds = [_type_of(o, conv) for o in node.operands]
        for op, (a, b), (ka, kb) in zip(
            node.ops, zip(node.operands, node.operands[1:]), zip(kinds, kinds[1:])
        ):
            if ka != kb:
                raise fail(f"'{op}' compares a number with a condition", b)
            if ka == "bool" and op not in ("==", "!="):
                raise fail(f"'{op}' needs numbers; conditions can only be compared with == or !=", a)
        return "bool"
    if isinstance(node, BoolOp):
        for operand in node.operands:
            need(operand, "bool", f"each operand of '{node.op}'")
        return "bool"
    if isinstance(node, IfExp):
        need(node.cond, "bool", "the condition of 'if'")
        then = _type_of(node.then, conv)
        need(node.orelse, then, "both branches of 'if ... else' must be the same kind: the else branch")
        return then
    if isinstance(node, Call):
        for arg in node.args:
            need(arg, "num", f"each argument of {node.func}()")
        return FUNCTIONS[node.func][2]
    raise AssertionError(node)


# -- printing ------------------------------------------------------------------------


def _prec(node: Node) -> int:
    if isinstance(node, IfExp):
        return _PREC_IF
    if isinstance(node, BoolOp):
        return _PREC_OR if node.op == "or" else _PREC_AND
    if isinstance(node, Not):
        return _PREC_NOT
    if isinstance(node, Cmp):
        return _PREC_CMP
    if isinstance(node, Bin):
        return _PREC_POW if node.op == "**" else _PREC_BIN[node.op]
    if isinstance(node, Neg):
        return _PREC_UNARY
    return _PREC_ATOM


def _wrap(node: Node, min_prec: int) -> str:
    text = to_text(node)
    return f"({text})" if _prec(node) < min_prec else text


def _num_text(value: float | int | bool) -> str:
    # repr round-trips exactly; 2.0 stays a float literal as it was written
    return repr(value)


def to_text(node: Node) -> str:
    """Canonical text: minimal parentheses, single spaces around operators."""
    if isinstance(node, Num):
        return _num_text(node.value)
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Neg):
        return "-" + _wrap(node.operand, _PREC_UNARY)
    if isinstance(node, Not):
        return "not " + _wrap(node.operand, _PREC_NOT)
    if isinstance(node, Bin):
        if node.op == "**":
            return f"{_wrap(node.left, _PREC_ATOM)} ** {_wrap(node.right, _PREC_UNARY)}"
        prec = _PREC_BIN[node.op]
        return f"{_wrap(node.left, prec)} {node.op} {_wrap(node.right, prec + 1)}"
    if isinstance(node, Cmp):
        parts = [_wrap(node.operands[0], _PREC_CMP + 1)]
        for op, operand in zip(node.ops, node.operands[1:]):
            parts.append(op)
            parts.append(_wrap(operand, _PREC_CMP + 1))
        return " ".join(parts)
    if isinstance(node, BoolOp):
        prec = _PREC_OR if node.op == "or" else _PREC_AND
        return f" {node.op} ".join(_wrap(o, prec + 1) for o in node.operands)
    if isinstance(node, IfExp):
        return f"{_wrap(node.then, _PREC_OR)} if {_wrap(node.cond, _PREC_OR)} else {_wrap(node.orelse, _PREC_IF)}"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_text(a) for a in node.args)})"
    raise AssertionError(node)


def tree_size(node: Node) -> int:
    """Number of nodes: the parsimony measure."""
    if isinstance(node, (Num, Var)):
        return 1
    if isinstance(node, (Neg, Not)):
        return 1 + tree_size(node.operand)
    if isinstance(node, Bin):
        return 1 + tree_size(node.left) + tree_size(node.right)
    if isinstance(node, (Cmp, BoolOp)):
        return 1 + sum(tree_size(o) for o in node.operands)
    if isinstance(node, IfExp):
        return 1 + tree_size(node.cond) + tree_size(node.then) + tree_size(node.orelse)
    if isinstance(node, Call):
        return 1 + sum(tree_size(a) for a in node.args)
    raise AssertionError(node)


# -- scalar evaluation (one point, plain Python) -------------------------------------

_Scalar = float | bool | None  # None = undefined


def _finite(v: float) -> float | None:
    if math.isnan(v) or math.isinf(v) or abs(v) > MAX_MAGNITUDE:
        return None
    return v


def _is_intval(v: float) -> bool:
    return v == math.floor(v)


def _pow_scalar(a: float, b: float) -> float | None:
    if abs(b) > MAX_RUNTIME_EXPONENT:
        return None
    if a == 0.0 and b < 0:
        return None
    if a < 0 and not _is_intval(b):
        return None
    try:
        return _finite(math.pow(a, b))
    except (OverflowError, ValueError):
        return None


def _binop_scalar(op: str, a: float, b: float) -> _Scalar:
    if isinstance(a, bool):  # logical & | ^ on conditions
        if op == "&":
            return a and b
        if op == "|":
            return a or b
        return a != b
    if op == "+":
        return _finite(a + b)
    if op == "-":
        return _finite(a - b)
    if op == "*":
        return _finite(a * b)
    if op == "/":
        return None if b == 0 else _finite(a / b)
    if op == "//":
        return None if b == 0 else _finite(a // b)
    if op == "%":
        return None if b == 0 else _finite(a % b)
    if op == "**":
        return _pow_scalar(a, b)
    if not (_is_intval(a) and _is_intval(b)):
        return None
    ia, ib = int(a), int(b)
    if op == "&":
        return float(ia & ib)
    if op == "|":
        return float(ia | ib)
    return float(ia ^ ib)


def _cmp_scalar(op: str, a: Any, b: Any) -> bool:
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


def _isqrt_exact(v: float) -> bool:
    if v < 0 or not _is_intval(v):
        return False
    r = math.isqrt(int(v))
    return r * r == int(v)


def _call_scalar(func: str, args: list[float]) -> _Scalar:
    a = args[0]
    if func == "abs":
        return abs(a)
    if func == "min":
        return min(args)
    if func == "max":
        return max(args)
    if func == "int":
        return float(math.trunc(a))
    if func == "round":
        return float(round(a))
    if func == "floor":
        return float(math.floor(a))
    if func == "ceil":
        return float(math.ceil(a))
    if func == "sqrt":
        return None if a < 0 else math.sqrt(a)
    if func == "gcd":
        b = args[1]
        if not (_is_intval(a) and _is_intval(b)):
            return None
        return float(math.gcd(int(a), int(b)))
    if func == "is_int":
        return _is_intval(a)
    if func == "is_square":
        return _isqrt_exact(a)
    raise AssertionError(func)


def _eval_scalar(node: Node, env: dict[str, float]) -> _Scalar:
    if isinstance(node, Num):
        return node.value if isinstance(node.value, bool) else float(node.value)
    if isinstance(node, Var):
        return _finite(env[node.name])
    if isinstance(node, Neg):
        v = _eval_scalar(node.operand, env)
        return None if v is None else -v
    if isinstance(node, Not):
        v = _eval_scalar(node.operand, env)
        return None if v is None else not v
    if isinstance(node, Bin):
        a = _eval_scalar(node.left, env)
        b = _eval_scalar(node.right, env)
        if a is None or b is None:
            return None
        return _binop_scalar(node.op, a, b)
    if isinstance(node, Cmp):
        left = _eval_scalar(node.operands[0], env)
        if left is None:
            return None
        for op, operand in zip(node.ops, node.operands[1:]):
            right = _eval_scalar(operand, env)
            if right is None:
                return None
            if not _cmp_scalar(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, BoolOp):
        stop = node.op == "or"  # the value that short-circuits
        for operand in node.operands:
            v = _eval_scalar(operand, env)
            if v is None:
                return None
            if v == stop:
                return stop
        return not stop
    if isinstance(node, IfExp):
        c = _eval_scalar(node.cond, env)
        if c is None:
            return None
        return _eval_scalar(node.then if c else node.orelse, env)
    if isinstance(node, Call):
        args: list[float] = []
        for arg in node.args:
            v = _eval_scalar(arg, env)
            if v is None:
                return None
            args.append(float(v))
        return _call_scalar(node.func, args)
    raise AssertionError(node)


# -- vectorised evaluation (numpy) ---------------------------------------------------
#
# A compiled node maps the evaluation context to (values, mask). The mask marks
# where the value is defined; ``None`` means "defined everywhere", which is the
# common case and saves a boolean array operation at every node.

Arr = npt.NDArray[Any]
BoolArr = npt.NDArray[np.bool_]
Mask = BoolArr | None


@dataclass(frozen=True)
class _Ctx:
    cols: Sequence[Arr]
    col_ok: Sequence[Mask]
    n: int


Compiled = Callable[[_Ctx], tuple[Arr, Mask]]


def compile_rule(rule: Rule, *, var_bound: float | None = None) -> Callable[..., BoolArr]:
    """``var_bound``: the returned function will only be given columns whose every value is within
    it (in magnitude, finite), so a sum or product that cannot pass the magnitude limit is not
    checked value by value."""
    index = {name: i for i, name in enumerate(rule.variables)}
    fn = _compile(rule.tree, index, var_bound)

    def run(columns: Sequence[npt.ArrayLike], *, finite: bool = False) -> BoolArr:
        """``finite=True``: the caller knows every value is within ``MAX_MAGNITUDE`` (a fixed
        domain), so the per-value check is skipped (same result)."""
        cols = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
        if len(cols) != len(index):
            raise ValueError(f"expected {len(index)} columns, got {len(cols)}")
        n = len(cols[0]) if cols else 0
        with np.errstate(all="ignore"):
            col_ok: list[Mask] = (
                [None] * len(cols) if finite else [_only_if_partial(_finite_mask(c)) for c in cols]
            )
            values, ok = fn(_Ctx(cols, col_ok, n))
            values = np.asarray(values, dtype=bool)
            if values.shape != (n,):
                values = np.broadcast_to(values, (n,)).copy()
        return values if ok is None else values & ok

    return run


def _only_if_partial(mask: BoolArr) -> Mask:
    return None if bool(mask.all()) else mask


def _and(a: Mask, b: Mask) -> Mask:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _finite_mask(v: Arr) -> BoolArr:
    # NaN and infinities fail the comparison too
    finite: BoolArr = np.abs(v) <= MAX_MAGNITUDE
    return finite


def _is_int_arr(v: Arr) -> BoolArr:
    whole: BoolArr = np.isfinite(v) & (v == np.floor(v))
    return whole


def _checked(v: Arr, ok: Mask) -> tuple[Arr, Mask]:
    # the common case first: two reductions and no temporary array say every value is within
    # the bound (a NaN makes the comparison False and takes the per-value route)
    if v.size and float(v.max()) <= MAX_MAGNITUDE and -float(v.min()) <= MAX_MAGNITUDE:
        return v, ok
    return v, _and(ok, _only_if_partial(_finite_mask(v)))


def _compile(node: Node, index: dict[str, int], var_bound: float | None = None) -> Compiled:  # noqa: C901 - one case per node type
    """``var_bound``: every column's values are known to be within it (``compile_rule``)."""

    def sub(child: Node) -> Compiled:
        return _compile(child, index, var_bound)

    if isinstance(node, Num):
        const = node.value
        arr = np.asarray(const, dtype=bool if isinstance(const, bool) else np.float64)
        return lambda ctx: (arr, None)  # a 0-d array broadcasts against the columns
    if isinstance(node, Var):
        i = index[node.name]
        return lambda ctx: (ctx.cols[i], ctx.col_ok[i])
    if isinstance(node, Neg):
        inner = sub(node.operand)

        def neg(ctx: _Ctx) -> tuple[Arr, Mask]:
            v, ok = inner(ctx)
            return -v, ok

        return neg
    if isinstance(node, Not):
        inner = sub(node.operand)

        def not_(ctx: _Ctx) -> tuple[Arr, Mask]:
            v, ok = inner(ctx)
            return ~v, ok

        return not_
    if isinstance(node, Bin):
        # a sum, difference or product whose every value is known to stay within the magnitude
        # limit needs no per-value check (two reductions over the array per operation)
        within = (
            var_bound is not None
            and node.op in ("+", "-", "*")
            and _static_bound(node, var_bound) <= MAX_MAGNITUDE / 2
        )
        return _compile_bin(node.op, sub(node.left), sub(node.right), checked=not within)
    if isinstance(node, Cmp):
        return _compile_cmp(node.ops, [sub(o) for o in node.operands])
    if isinstance(node, BoolOp):
        return _compile_boolop(node.op == "or", [sub(o) for o in node.operands])
    if isinstance(node, IfExp):
        cond = sub(node.cond)
        then = sub(node.then)
        orelse = sub(node.orelse)

        def ifexp(ctx: _Ctx) -> tuple[Arr, Mask]:
            c, cok = cond(ctx)
            c = np.asarray(c, dtype=bool)
            t, tok = then(ctx)
            e, eok = orelse(ctx)
            if tok is None and eok is None:
                branch_ok: Mask = None
            else:
                branch_ok = np.where(c, True if tok is None else tok, True if eok is None else eok)
            return np.where(c, t, e), _and(cok, branch_ok)

        return ifexp
    if isinstance(node, Call):
        return _compile_call(node.func, [sub(a) for a in node.args])
    raise AssertionError(node)


def _static_bound(node: Node, var_bound: float) -> float:
    """An upper bound on the magnitude of a number expression's values when every variable is
    within ``var_bound`` (infinity where no bound is worked out: division, powers, bits, gcd,
    sqrt)."""
    if isinstance(node, Num):
        return 1.0 if isinstance(node.value, bool) else abs(float(node.value))
    if isinstance(node, Var):
        return var_bound
    if isinstance(node, Neg):
        return _static_bound(node.operand, var_bound)
    if isinstance(node, Bin):
        left, right = _static_bound(node.left, var_bound), _static_bound(node.right, var_bound)
        if node.op in ("+", "-"):
            return left + right
        if node.op == "*":
            return left * right
        return math.inf
    if isinstance(node, Call):
        bounds = [_static_bound(a, var_bound) for a in node.args]
        if node.func in ("abs", "min", "max"):
            return max(bounds)
        if node.func in ("int", "floor", "ceil", "round"):
            return bounds[0] + 1
        return math.inf
    if isinstance(node, IfExp):
        return max(_static_bound(node.then, var_bound), _static_bound(node.orelse, var_bound))
    return math.inf


def _cmp_vec(op: str, a: Arr, b: Arr) -> BoolArr:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    # numpy's stubs type == and != on arrays as Any; the annotations keep the result checked
    if op == "==":
        equal: BoolArr = a == b
        return equal
    unequal: BoolArr = a != b
    return unequal


def _compile_cmp(ops: tuple[str, ...], parts: list[Compiled]) -> Compiled:
    if len(ops) == 1:
        left, right = parts
        op = ops[0]

        def cmp1(ctx: _Ctx) -> tuple[Arr, Mask]:
            a, aok = left(ctx)
            b, bok = right(ctx)
            return _cmp_vec(op, a, b), _and(aok, bok)

        return cmp1

    def chain(ctx: _Ctx) -> tuple[Arr, Mask]:
        # Like Python: a < b < c evaluates c only where a < b held.
        left, ok = parts[0](ctx)
        result = np.ones(ctx.n, dtype=bool)
        live = np.ones(ctx.n, dtype=bool) if ok is None else ok.copy()
        for op, part in zip(ops, parts[1:]):
            right, rok = part(ctx)
            if rok is not None:
                ok = _and(ok, rok | ~live)  # undefined only where reached
            step = _cmp_vec(op, left, right)
            result &= step | ~live
            live &= step if rok is None else step & rok
            left = right
        return result, ok

    return chain


def _compile_boolop(stop: bool, parts: list[Compiled]) -> Compiled:
    """``stop`` is the value that short-circuits: True for ``or``, False for ``and``."""

    def boolop(ctx: _Ctx) -> tuple[Arr, Mask]:
        decided = np.zeros(ctx.n, dtype=bool)
        result = np.full(ctx.n, not stop, dtype=bool)
        ok: Mask = None
        for part in parts:
            v, vok = part(ctx)
            v = np.asarray(v, dtype=bool)
            pending = ~decided
            hit = pending & (v if stop else ~v)
            if vok is not None:
                bad = pending & ~vok
                ok = _and(ok, ~bad)
                hit &= vok
                decided |= bad
            # result is ``not stop`` until a part decides it: a logical blend (a masked
            # assignment costs ten times as much on an irregular mask)
            if stop:
                result |= hit
            else:
                result &= ~hit
            decided |= hit
            if decided.all():
                break
        return result, ok

    return boolop


def _compile_bin(op: str, left: Compiled, right: Compiled, *, checked: bool = True) -> Compiled:
    """``checked=False``: the values of ``+ - *`` are known to stay within the magnitude limit."""

    def run(ctx: _Ctx) -> tuple[Arr, Mask]:
        a, aok = left(ctx)
        b, bok = right(ctx)
        ok = _and(aok, bok)
        if a.dtype == bool:
            if op == "&":
                return a & b, ok
            if op == "|":
                return a | b, ok
            return a ^ b, ok
        if op in ("+", "-", "*"):
            v = a + b if op == "+" else a - b if op == "-" else a * b
            return _checked(v, ok) if checked else (v, ok)
        if op in ("/", "//", "%"):
            nonzero = b != 0
            if not np.all(nonzero):
                ok = _and(ok, np.broadcast_to(nonzero, (ctx.n,)))
                b = np.where(nonzero, b, 1.0)
            if op == "/":
                return _checked(a / b, ok)
            if op == "//":
                return _checked(np.floor_divide(a, b), ok)
            return _checked(np.mod(a, b), ok)
        if op == "**":
            good = (np.abs(b) <= MAX_RUNTIME_EXPONENT) & ~((a == 0) & (b < 0)) & ~((a < 0) & ~_is_int_arr(b))
            good = np.broadcast_to(good, (ctx.n,))
            ok = _and(ok, _only_if_partial(good))
            return _checked(np.power(np.where(good, a, 1.0), np.where(good, b, 1.0)), ok)
        good = np.broadcast_to(_is_int_arr(a) & _is_int_arr(b), (ctx.n,))
        ok = _and(ok, _only_if_partial(good))
        ia = np.where(good, a, 0).astype(np.int64)
        ib = np.where(good, b, 0).astype(np.int64)
        if op == "&":
            return _checked((ia & ib).astype(np.float64), ok)
        if op == "|":
            return _checked((ia | ib).astype(np.float64), ok)
        return _checked((ia ^ ib).astype(np.float64), ok)

    return run


def _compile_call(func: str, args: list[Compiled]) -> Compiled:
    def run(ctx: _Ctx) -> tuple[Arr, Mask]:
        evaluated = [a(ctx) for a in args]
        ok: Mask = None
        for _, aok in evaluated:
            ok = _and(ok, aok)
        a = evaluated[0][0]
        if func == "abs":
            return np.abs(a), ok
        if func in ("min", "max"):
            # pairwise: a reduce over a list first copies the arguments into one 2-d array
            pick = np.minimum if func == "min" else np.maximum
            out = evaluated[0][0]
            for v, _ in evaluated[1:]:
                out = pick(out, v)
            return np.broadcast_to(out, (ctx.n,)), ok
        if func == "int":
            return np.trunc(a), ok
        if func == "round":
            return np.round(a), ok
        if func == "floor":
            return np.floor(a), ok
        if func == "ceil":
            return np.ceil(a), ok
        if func == "sqrt":
            good = np.broadcast_to(a >= 0, (ctx.n,))
            return np.sqrt(np.where(good, a, 0.0)), _and(ok, _only_if_partial(good))
        if func == "gcd":
            b = evaluated[1][0]
            # where an argument is not an integer the value is undefined (masked below): whatever
            # integer the cast gives there only has to be one gcd_arr takes (it takes every
            # int64), so no np.where (ten times dearer than the cast) zeroes those values first
            ia = np.broadcast_to(np.asarray(a).astype(np.int64), (ctx.n,))
            ib = np.broadcast_to(np.asarray(b).astype(np.int64), (ctx.n,))
            # an integer is one its int64 cast gives back exactly (a fraction, NaN or infinity is
            # not); a defined value is within MAX_MAGNITUDE < 2**53, where the cast and the
            # comparison are exact, and beyond it the value is undefined already
            good = np.broadcast_to((ia == a) & (ib == b), (ctx.n,))
            return gcd_arr(ia, ib).astype(np.float64), _and(ok, _only_if_partial(good))
        if func == "is_int":
            return _is_int_arr(a), ok
        if func == "is_square":
            return _is_square_arr(a), ok
        raise AssertionError(func)

    return run


GCD_TABLE_RADIUS = 128


@functools.lru_cache(maxsize=1)
def _gcd_table() -> npt.NDArray[np.int64]:
    """``np.gcd`` of every pair of magnitudes 0..GCD_TABLE_RADIUS, row by row (the gcd of two
    integers is that of their magnitudes)."""
    r = np.arange(GCD_TABLE_RADIUS + 1, dtype=np.int64)
    table: npt.NDArray[np.int64] = np.gcd.outer(r, r).ravel()
    table.setflags(write=False)
    return table


def gcd_arr(ia: npt.NDArray[np.int64], ib: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.gcd`` of int64 arrays; pairs of small magnitudes (most of the judge's domains) are
    looked up in a table of ``np.gcd`` itself, several times faster than computing them, and only
    the others are computed (by index: a boolean mask assignment costs as much as the lookup)."""
    r = GCD_TABLE_RADIUS
    if ia.shape != ib.shape or not ia.size:
        computed: npt.NDArray[np.int64] = np.gcd(ia, ib)
        return computed
    ua, ub = np.abs(ia), np.abs(ib)
    # as unsigned, the most negative int64 (which np.abs leaves negative) is large too
    large = np.flatnonzero((ua.view(np.uint64) > r) | (ub.view(np.uint64) > r))
    if len(large) * 4 > ia.size:
        return np.asarray(np.gcd(ia, ib), dtype=np.int64)
    index = ua * (r + 1) + ub
    index[large] = 0
    result: npt.NDArray[np.int64] = _gcd_table().take(index)
    if len(large):
        result[large] = np.gcd(ia[large], ib[large])
    return result


def _is_square_arr(a: Arr) -> BoolArr:
    magnitude = np.abs(a)
    if a.size and float(magnitude.max()) < 2.0**52:  # (a NaN or an infinity fails the comparison)
        # r * r == a exactly at the squares: an integer below 2**52 is exact in a double, so a
        # square's root is exact, and a non-square's floored root squares to another integer;
        # r * r is a non-negative integer, so a negative value or a fraction never equals it
        r = np.floor(np.sqrt(magnitude))
        square: BoolArr = np.asarray(r * r == a)
        return square
    good = _is_int_arr(a) & (a >= 0)
    safe = np.where(good, a, 0.0)
    r = np.floor(np.sqrt(safe))
    # float sqrt can be off by one near large squares; check neighbours exactly
    hit: BoolArr = (r * r == safe) | ((r + 1) * (r + 1) == safe) | ((r - 1) * (r - 1) == safe)
    return good & hit

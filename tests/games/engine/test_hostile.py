"""Nothing a user types can escape the sandbox or hang the judge."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine import dsl
from games.engine.core import RuleError
from games.engine.dsl import MAX_DEPTH, MAX_NODES, parse_rule

V = ("x", "y", "z")
HOSTILE = [
    "__import__('os').system('echo pwned')",
    "x.__class__.__bases__[0].__subclasses__()",
    "().__class__",
    "open('/etc/passwd').read()",
    "eval('1') > 0",
    "exec('x=1')",
    "globals()['x']",
    "lambda: x",
    "[c for c in ().__class__.__mro__]",
    "{x: 1 for x in y}",
    "(y := 5) > x",
    "f'{x}' == '1'",
    "x if __debug__ else y",
    "__builtins__",
    "import os",
    "x; y",
    "9**9**9",
    "x < 9**9**9**9",
    "10**10**10 > x",
    "(" * 500 + "x" + ")" * 500 + " > 1",
    "-" * 5000 + "x > 1",
    "not " * 3000 + "x > 1",
    "x" + " + x" * 3000 + " > 1",
    "max(" * 300 + "x" + ", 1)" * 300 + " > 1",
    "x" * 1_000_000,
    "x < y" + " and x < y" * 200_000,
    "\x00",
    "x < y # comment\n; import os",
    "b'abc' == x",
    "x @ y > 1",
    "...",
    "await x",
    "x[0] > 1",
    "x.real > 1",
    "*x > 1",
    "1j > x",
    "print(x)",
    "getattr(x, 'y')",
    "type(x) == int",
]

_fragments = st.sampled_from(
    [
        "x",
        "y",
        "z",
        "1",
        "9",
        "**",
        "(",
        ")",
        "[",
        "]",
        ".",
        "__class__",
        "__import__",
        "lambda",
        ":",
        ",",
        "for",
        "in",
        "if",
        "else",
        "and",
        "not",
        "'s'",
        "os",
        "open",
        "eval",
        "+",
        "-",
        "*",
        "/",
        "==",
        "<",
        "{",
        "}",
        "=",
        ":=",
        "@",
        "~",
        "<<",
        "yield",
        "abs",
        "sqrt",
        "gcd",
        "1e309",
        "0x10",
        "\\",
        ";",
        "\n",
    ]
)
hostile_texts = st.lists(_fragments, min_size=1, max_size=60).map(" ".join)


@contextmanager
def _counting_work() -> Iterator[Counter[str]]:
    """Count the engine's units of work: a tree node converted from Python's ast, evaluated at
    one point, or compiled for numpy. The limits bound each count; a count beyond them is a
    blow-up (or a loop that would hang) without timing anything."""
    calls: Counter[str] = Counter()

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    originals = (dsl._Converter.convert, dsl._eval_scalar, dsl._compile)
    dsl._Converter.convert = counted("convert", originals[0])  # type: ignore[method-assign]
    dsl._eval_scalar = counted("eval", originals[1])
    dsl._compile = counted("compile", originals[2])
    try:
        yield calls
    finally:
        dsl._Converter.convert, dsl._eval_scalar, dsl._compile = originals  # type: ignore[method-assign]


def _depth(node: dsl.Node) -> int:
    children = [c for v in vars(node).values() for c in (v if isinstance(v, tuple) else (v,))]
    return 1 + max((_depth(c) for c in children if not isinstance(c, (str, int, float, bool))), default=0)


def _check(text: str) -> None:
    with _counting_work() as work:
        try:
            rule = parse_rule(text, V)
        except RuleError as exc:
            assert exc.message, "every rejection says what was wrong"
            assert work["convert"] <= MAX_NODES + 1, "the converter stops at the size limit"
            return
        assert work["convert"] <= MAX_NODES
        assert rule.size <= MAX_NODES and _depth(rule.tree) <= MAX_DEPTH + 1
        # Accepted text is a plain arithmetic/logic rule: evaluating it must be safe and bounded too.
        work.clear()
        assert rule.evaluate_point((1, 2, 3)) in (True, False)
        assert work["eval"] <= rule.size, "each node is evaluated at most once per point"
        values = rule.evaluate([[0, 1], [2, 3], [4, 5]])
        assert values.shape == (2,) and values.dtype == bool
        assert work["compile"] <= rule.size, "each node is compiled once, whatever the number of points"


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_known_hostile_input_is_rejected_with_a_message(text: str) -> None:
    with _counting_work() as work, pytest.raises(RuleError) as info:
        parse_rule(text, V)
    assert work["convert"] <= MAX_NODES + 1  # rejected before any blow-up, however long the text
    assert info.value.message
    assert len(info.value.message) < 400


# Hang guard, not a benchmark: a generous limit for the whole run (the thread method also stops
# a loop inside C code). How much work an input may cause is bounded by _check's counts.
@pytest.mark.timeout(300, method="thread")
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_texts)
def test_fuzzed_input_never_escapes_or_hangs(text: str) -> None:
    _check(text)


@pytest.mark.timeout(300, method="thread")
@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_unicode_is_handled(text: str) -> None:
    _check(text)


def test_no_builtins_are_reachable_from_an_accepted_rule() -> None:
    # The tree holds only our own node types: nothing callable from Python's namespace.
    from games.engine import dsl

    rule = parse_rule("abs(x) + max(y, z) > gcd(x, y)", V)
    allowed = (dsl.Num, dsl.Var, dsl.Neg, dsl.Not, dsl.Bin, dsl.Cmp, dsl.BoolOp, dsl.IfExp, dsl.Call)

    def walk(node):
        assert isinstance(node, allowed)
        for value in vars(node).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, allowed):
                    walk(child)
                else:
                    assert isinstance(child, (str, int, float, bool)), child

    walk(rule.tree)

"""Exact arithmetic for number rules: the decimals a player types mean what they say, and the
vectorised judge evaluator agrees with the one-point oracle everywhere."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine import exact
from games.engine.core import RuleError
from games.engine.dsl import parse_rule
from tests.games.engine.strategies import rules

V = ("x", "y", "z")


def parse(text: str):
    return parse_rule(text, V)


def holds(text: str, point) -> bool:
    return exact.evaluate_point(parse(text), point)


def test_decimals_are_the_rationals_they_read_as() -> None:
    assert holds("x + y == z", (-3, 0.1, -2.9))
    assert holds("z - x == y", (-3, 0.1, -2.9))
    assert holds("x + y == z", (0.1, 0.2, 0.3))
    assert holds("x * 3 == 1", (Fraction(1, 3), 0, 0))
    assert not holds("x * 3 == 1", (0.3333333333333333, 0, 0))  # a decimal, not one third
    assert holds("x / y == 0.1", (1, 10, 0))


def test_the_same_python_meaning_for_floor_modulo_rounding_and_errors() -> None:
    assert holds("x // y == -3", (-5, 2, 0))
    assert holds("x % y == 1", (-5, 2, 0))
    assert holds("x % y == 0.1", (2.1, 1, 0))  # exact: 2.1 % 1 is one tenth
    assert holds("round(x) == 2", (2.5, 0, 0))  # half to even, as Python
    assert holds("round(x) == -4", (-3.5, 0, 0))
    assert holds("int(x) == -2", (-2.7, 0, 0))
    assert holds("sqrt(x) == 1.5", (2.25, 0, 0))
    assert holds("is_int(x / y)", (6, 3, 0)) and not holds("is_int(x / y)", (7, 3, 0))
    assert not holds("x / z > 1", (5, 0, 0))  # undefined is False
    assert not holds("x ** 2 > 0", (1e9, 0, 0))  # past the magnitude bound


decimals = st.one_of(
    st.integers(-30, 30),
    st.integers(-2000, 2000).map(lambda k: k / 10),
    st.integers(-20000, 20000).map(lambda k: k / 100),
    st.integers(-(10**6), 10**6).map(lambda k: k / 1000),
    st.sampled_from([0, 0.5, -0.5, 1e6, -1e6, 123456.789]),
)
triples = st.tuples(decimals, decimals, decimals)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, st.lists(triples, min_size=1, max_size=12))
def test_vectorised_exact_evaluation_agrees_with_the_oracle(text: str, pts: list) -> None:
    try:
        rule = parse(text)
    except RuleError:
        return
    nums, dens = exact.columns(pts, 3)
    assert exact.compile_exact(rule)(nums, dens).tolist() == [exact.evaluate_point(rule, p) for p in pts]


@pytest.mark.parametrize(
    "text",
    [
        "x ** 8 * y ** 8 > z",  # past int64: left to Fractions
        "x * y * z * x * y * z == 1000000",
        "(x / 7) * 7 == x",
        "sqrt(x) * sqrt(x) == x",  # irrational on most points: the float path
        "min(x / 3, y, z) < max(x, y / 7) and x % 0.3 < 0.2",
        "round(x * 10) % 2 == 0 if y > 0 else floor(z) == ceil(z)",
        "gcd(x, y) > 1 or is_square(x * x + y * y)",
        "x ** -2 > 0.01",
    ],
)
def test_hard_cases_agree_on_a_dense_set(text: str) -> None:
    rule = parse(text)
    pts = [(a / 10, b / 4, c) for a in range(-25, 26, 3) for b in range(-9, 10, 2) for c in (-7, 0, 3, 1e6)]
    pts += [(999999.999, 123456.7, -0.001), (1e6, 1e6, 1e6), (-1e6, 0.001, 0.002)]
    nums, dens = exact.columns(pts, 3)
    assert exact.compile_exact(rule)(nums, dens).tolist() == [exact.evaluate_point(rule, p) for p in pts]

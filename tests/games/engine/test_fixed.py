"""Fixed-point evaluation (``games.engine.fixed``): on points that are multiples of 1/1000 it
gives exactly the oracle's answers (``exact.evaluate_point``), or refuses (a rule it cannot hold,
a chunk whose values could overflow) so the caller uses the exact evaluator."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine import exact, fixed
from games.engine.core import RuleError
from games.engine.dsl import parse_rule
from games.engine.families import wason
from tests.games.engine.strategies import rules

V = ("x", "y", "z")
SCALE = 1000


def fixed_truth(text: str, points: list[tuple[int, int, int]]) -> list[bool] | None:
    """Truth at points given in thousandths, or None where fixed point refuses."""
    rule = parse_rule(text, V)
    try:
        run = fixed.compile_fixed(rule, SCALE)
        cols = [np.array([p[i] for p in points], dtype=np.int64) for i in range(3)]
        return run(cols).tolist()
    except (fixed.Unsupported, fixed.Overflow):
        return None


def oracle(text: str, points: list[tuple[int, int, int]]) -> list[bool]:
    rule = parse_rule(text, V)
    return [exact.evaluate_point(rule, [Fraction(v, SCALE) for v in p]) for p in points]


thousandths = st.one_of(
    st.integers(-30, 30).map(lambda k: k * SCALE),
    st.integers(-200, 200).map(lambda k: k * 100),
    st.integers(-20000, 20000).map(lambda k: k * 10),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 500, -500, 10**9, -(10**9), 123_456_789]),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, st.lists(st.tuples(thousandths, thousandths, thousandths), min_size=1, max_size=12))
def test_fixed_point_agrees_with_the_oracle_or_refuses(text: str, pts: list) -> None:
    try:
        parse_rule(text, V)
    except RuleError:
        return
    got = fixed_truth(text, pts)
    if got is not None:
        assert got == oracle(text, pts), text


@pytest.mark.parametrize(
    "text",
    [
        "x % 2 == 0 and y % 0.3 < 0.2",  # Python's modulo, the divisor's sign, on decimals
        "x // y == -3 or z % -0.7 > -0.2",
        "y % 0 == 1 or x > 0",  # undefined before the or: the whole rule is False there
        "x > 0 or y % 0 == 1",  # decided before reaching the undefined part
        "0 < x < y // 0 < 3",  # a chained comparison stops at its first false link
        "round(x * 10) % 2 == 0 if y > 0 else floor(z) == ceil(z)",
        "int(x) == -2 or round(y) == 2",
        "gcd(x, y) > 1 or is_square(x * x + y * y)",
        "is_int(x / y) and is_int((x + y + z) / 3)",
        "sqrt(x * x + y * y) == z",  # exact roots of squares, 9 rounded places otherwise
        "sqrt(x) * sqrt(x) == x",  # roots of 10**6 squared pass int64: refused
        "sqrt(y + 1) * 2 < 5 and sqrt(x) > 0.5",
        "sqrt(x + 0.5) > 1.414 or sqrt(z) == 1.5",
        "x * y * z * x > 10",
        "min(x, y / 1, z) < max(x, 0.25)",
        "abs(x - y) < 5 and not (x == y)",
    ],
)
def test_hard_cases_agree_on_a_dense_grid(text: str) -> None:
    pts = [
        (a * 100, b * 250, c)
        for a in range(-25, 26, 3)
        for b in range(-9, 10, 2)
        for c in (-7000, 0, 3000, 2250, 1_000_000, 999)
    ]
    got = fixed_truth(text, pts)
    if "/ 1" in text or "sqrt(x) * sqrt(x)" in text:  # a bare division, a product past int64
        assert got is None
        return
    assert got is not None, f"fixed point refused {text}"
    assert got == oracle(text, pts), text


def test_a_chunk_that_could_overflow_is_refused_not_wrapped() -> None:
    run = fixed.compile_fixed(parse_rule("x * y * z * x * y > 0", V), SCALE)
    big = [np.array([10**9, 1], dtype=np.int64)] * 3
    with pytest.raises(fixed.Overflow):
        run(big)
    small = [np.array([2000, -1000], dtype=np.int64)] * 3
    assert run(small).tolist() == [True, False]


def test_the_judge_chunks_agree_with_the_exact_evaluator_for_every_generated_clause() -> None:
    """The wason judge evaluates the domain chunk by chunk (``_judge_stages``): on each chunk the
    evaluator it uses (float, fixed point, or exact for what those refuse) gives exactly what
    ``exact.compile_exact`` gives."""
    _, nums, dens = wason.exact_domain()
    templates = wason.clause_templates()
    texts = [t for tier in (1, 2, 3, 5) for t in templates[tier]]
    texts += ["x % 1.5 == 0 or y // 0.4 == 3", "sqrt(x * x + y * y) == z and z % 2 == 1"]
    stages = wason._judge_stages()
    for text in texts:
        rule = wason.parse(text)
        run, reference = wason.exact_evaluator(rule), exact.compile_exact(rule)
        for start, end in zip((0, *stages), stages):
            n = [c[start:end] for c in nums]
            d = [c[start:end] for c in dens]
            assert np.array_equal(run(n, d, start), reference(n, d)), (text, start)


def test_gcd_of_arrays_is_numpys_with_small_and_large_pairs_mixed() -> None:
    from games.engine.dsl import gcd_arr

    rng = np.random.default_rng(7)
    for reach in (100, 300, 10**6):
        a, b = rng.integers(-reach, reach, 4000), rng.integers(-reach, reach, 4000)
        assert np.array_equal(gcd_arr(a, b), np.gcd(a, b)), reach
    lowest = np.iinfo(np.int64).min  # np.abs leaves it negative: it must not pass for small
    a, b = np.array([lowest, 5, -128, 128, 129]), np.array([3, 0, 128, -129, 0])
    assert np.array_equal(gcd_arr(a, b), np.gcd(a, b))

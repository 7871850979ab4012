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
    """The wason judge evaluates the domain chunk by chunk (``_judge_stages``, and the spans of
    ``_judge_calls`` with the partial credit): on each chunk the evaluator it uses (float, fixed
    point, or exact for what those refuse) gives exactly what ``exact.compile_exact`` gives."""
    _, nums, dens = wason.exact_domain()
    templates = wason.clause_templates()
    texts = [t for tier in (1, 2, 3, 5) for t in templates[tier]]
    texts += ["x % 1.5 == 0 or y // 0.4 == 3", "sqrt(x * x + y * y) == z and z % 2 == 1"]
    texts += ["sqrt(x * y) > z", "sqrt(x) + sqrt(y) == sqrt(z)", "is_square(x * y * z)", "gcd(x * y, z) > 2"]
    texts += ["sqrt(x * x * x * x) == y", "is_int(x * y / z)", "sqrt(x / 4) == y"]
    stages = wason._judge_stages()
    spans = {*zip((0, *stages), stages), *wason._judge_calls()}
    for text in texts:
        rule = wason.parse(text)
        run, reference = wason.exact_evaluator(rule), exact.compile_exact(rule)
        for start, end in sorted(spans):
            n = [c[start:end] for c in nums]
            d = [c[start:end] for c in dens]
            assert np.array_equal(run(n, d, start), reference(n, d)), (text, start)


# values whose squares pass 2**52 (roots worked out one by one), squares of decimals and their
# neighbours (the rounded root must equal the exact one at a square), integers near 2**26
large_or_square = st.one_of(
    thousandths,
    st.integers(-(10**6), 10**6).map(lambda k: k * SCALE),
    st.integers(0, 3000).map(lambda k: k * k),
    st.integers(0, 3000).map(lambda k: k * k + 1),
    st.integers(0, 5000).map(lambda j: 10 * j * j),  # (j / 10) ** 2 in thousandths: a square
    st.integers(0, 1000).map(lambda j: 1000 * j * j),  # j ** 2
    st.integers(2**25, 2**26 + 5).map(lambda k: k * k // SCALE),
    st.sampled_from([10**9, -(10**9), 999_999_999, 4_503_599_627, 67_108_864_000]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [
            "sqrt(x * x + y * y) == z",
            "sqrt(x * y) > z",
            "sqrt(x) == y",
            "sqrt(x * x) == abs(x) and sqrt(y) < 1000.5",
            "sqrt(x * x * 4) == 2 * abs(x)",
            "round(sqrt(x * 1000000)) == y",
            "sqrt(x + y) * 1000 > z",
            "is_square(x) or is_square(x * y)",
            "is_square(x * x + y * y) and z > 0",
            "is_int(x / y) or is_int((x + y + z) / 3)",
            "is_int(x * y / z)",
            "gcd(x, y) == 1 or gcd(x * 1000, z) > 7",
            "gcd(x, y) == gcd(y, x) and gcd(x, 0) == abs(x)",
        ]
    ),
    st.lists(st.tuples(large_or_square, large_or_square, large_or_square), min_size=1, max_size=40),
)
def test_roots_squares_ratios_and_gcds_agree_with_the_oracle_or_refuse(text: str, pts: list) -> None:
    """sqrt (exact roots of squares, rounded roots otherwise, roots of values past 2**52 worked
    out one by one), is_square, is_int of a ratio and gcd in fixed point give the oracle's
    answers on large values, squares and their neighbours."""
    got = fixed_truth(text, pts)
    if got is not None:
        assert got == oracle(text, pts), text


def test_roots_past_two_to_the_52_are_worked_out_not_refused() -> None:
    """The domain's edge values (up to 10**6) squared pass 2**52 in thousandths: fixed point
    works their roots out one by one (as exact._sqrt does) instead of refusing the chunk."""
    big = [10**9, -(10**9), 10**8, 999_999_999, 1000]
    pts = [(a, b, c) for a in big for b in big for c in (10**9, 1_414_213_562, 1000, 0)]
    for text in ("sqrt(x * x + y * y) == z", "sqrt(x * x + y * y) > z", "sqrt(x * y) == z"):
        got = fixed_truth(text, pts)
        assert got is not None, text
        assert got == oracle(text, pts), text


def test_gcd_of_arrays_is_numpys_with_small_and_large_pairs_mixed() -> None:
    from games.engine.dsl import gcd_arr

    rng = np.random.default_rng(7)
    for reach in (100, 129, 140, 300, 10**6):
        a, b = rng.integers(-reach, reach, 4000), rng.integers(-reach, reach, 4000)
        assert np.array_equal(gcd_arr(a, b), np.gcd(a, b)), reach
    # mostly small with a few large (the judge's domain), and mostly large
    for share in (0.01, 0.2, 0.3, 0.9):
        a = np.where(
            rng.random(4000) < share, rng.integers(-(10**9), 10**9, 4000), rng.integers(-20, 21, 4000)
        )
        b = rng.integers(-20, 21, 4000)
        assert np.array_equal(gcd_arr(a, b), np.gcd(a, b)), share
        assert np.array_equal(gcd_arr(b, a), np.gcd(b, a)), share
    lowest = np.iinfo(np.int64).min  # np.abs leaves it negative: it must not pass for small
    a, b = np.array([lowest, 5, -128, 128, 129, 0, lowest]), np.array([3, 0, 128, -129, 0, 0, 0])
    assert np.array_equal(gcd_arr(a, b), np.gcd(a, b))
    assert np.array_equal(gcd_arr(b, a), np.gcd(b, a))


@given(st.lists(st.one_of(st.integers(-(2**52), 2**52), st.integers(-50, 50)), min_size=1, max_size=60))
def test_is_square_of_integer_arrays_is_isqrts(values: list[int]) -> None:
    """fixed's square test (the floor of the double root, squared back) on integers below 2**52
    in magnitude, and dsl's on doubles, against math.isqrt."""
    import math

    from games.engine import dsl

    whole = np.array(values, dtype=np.int64)
    expected = [v >= 0 and math.isqrt(v) ** 2 == v for v in values]
    squares = [v * v for v in range(0, 2**26, 2**26 // 50)] + [2**52 - 1, (2**26 - 1) ** 2 - 1]
    more = np.array(squares + [s + 1 for s in squares] + [s - 1 for s in squares if s], dtype=np.int64)
    assert fixed._is_square_int(whole).tolist() == expected
    assert fixed._is_square_int(more).tolist() == [math.isqrt(int(v)) ** 2 == v for v in more.tolist()]
    as_float = np.array(values + [0.5, -4.0, 2.25], dtype=np.float64)
    assert dsl._is_square_arr(as_float).tolist() == expected + [False, False, False]
    past = np.array([2.0**52 + 4, float(2**27) ** 2, 1e15], dtype=np.float64)  # the neighbour route
    assert dsl._is_square_arr(past).tolist() == [False, True, False]

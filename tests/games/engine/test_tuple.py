"""The ``tuple`` family: an admin-declared tuple of variables, each with its domain, and a
hand-written hidden rule over them (exact decimal arithmetic)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from games.engine import get_family
from games.engine.core import ParamsError, QueryError, RuleError
from games.engine.families import tuple as tf

FAMILY = get_family("tuples")
DECIMALS = {
    "variables": "a: decimal 0..2 places 1; b: decimal -1..1 places 1; c: int 0..5; d: decimal 0..1 places 2",
    "rule": "a + b == c * d",
    "instructions": "Four measurements.",
}


def make(seed: int = 0, **params):
    return FAMILY.generate(seed, FAMILY.validate_params(params))


def test_variables_are_read_with_their_domains():
    a, b, c, d = tf.parse_variables(DECIMALS["variables"])
    assert (a.name, a.places, a.lo, a.hi) == ("a", 1, 0, 20)
    assert (b.lo, b.hi, c.places, c.lo, c.hi, d.places, d.hi) == (-10, 10, 0, 0, 5, 2, 100)
    inst = make(**DECIMALS)
    assert [v["name"] for v in inst.public["variables"]] == ["a", "b", "c", "d"]
    shown = FAMILY.shown_for(inst.public)
    assert [f["name"] for f in shown.widget["fields"]] == ["a", "b", "c", "d"]
    assert shown.input_schema["minItems"] == shown.input_schema["maxItems"] == 4
    text = FAMILY.describe(inst.public)
    assert "Four measurements." in text and "d: a decimal with at most 2 decimal places from 0 to 1" in text
    assert "a + b" not in text


def test_tests_are_held_to_each_variables_domain():
    inst = make(**DECIMALS)
    assert FAMILY.parse_query(inst.public, [1.5, -0.3, 2, 0.25]) == [1.5, -0.3, 2, 0.25]
    assert FAMILY.parse_query(inst.public, "1.5, -0.3, 2, 0.25") == [1.5, -0.3, 2, 0.25]
    for bad, words in (
        ([2.1, 0, 0, 0], "a = 2.1 is out of range"),
        ([0, 0, 0.5, 0], "c = 0.5 has too many decimal places"),
        ([0, 0.05, 0, 0], "b = 0.05 has too many decimal places"),
        ([0, 0, 6, 0], "c = 6 is out of range"),
        ([0, 0, 0], "a test is 4 numbers a, b, c, d"),
        ({"a": 1}, "missing value for b, c, d"),
    ):
        with pytest.raises(QueryError, match=words):
            FAMILY.answer(inst, bad)
    rng = random.Random(3)
    for _ in range(500):
        point = FAMILY.random_input(rng, inst.public)
        assert FAMILY.parse_query(inst.public, point) == point


def test_decimals_are_exact_and_the_judge_is_sound_on_them():
    inst = make(**DECIMALS)
    assert FAMILY.answer(inst, [0.1, 0.2, 1, 0.3]) is True  # 0.1 + 0.2 == 0.3 exactly
    # the same rule written differently is judged correct (exhaustive domain: 21*21*6*101 points)
    assert FAMILY.judge(inst, "a == c * d - b").correct
    verdict = FAMILY.judge(inst, "a + b == c * d and a < 2")
    assert not verdict.correct
    cex = verdict.counterexample
    assert (
        FAMILY.answer(inst, cex) is True
        and FAMILY.guess_answer(inst, "a + b == c * d and a < 2", cex) is False
    )
    assert (verdict.hidden_answer, verdict.guess_answer) == (True, False)
    # the simplest differing tuple of the domain: a = 2 with the simplest b, c, d that fit
    assert cex[0] == 2 and tf.simplicity_key(cex) == min(
        tf.simplicity_key(p)
        for p in ([2, b / 10, c, d / 100] for b in range(-10, 11) for c in range(6) for d in range(101))
        if Fraction(2) + Fraction(p[1]).limit_denominator(100) == p[2] * Fraction(p[3]).limit_denominator(100)
    )
    # a guess over a name the puzzle does not declare is refused with the language's message
    with pytest.raises(RuleError, match="not allowed"):
        FAMILY.judge(inst, "x > 1")


def test_a_large_domain_is_sampled_with_the_simplest_points_and_bounds_first():
    params = {"variables": "p: int -1000000..1000000, q: decimal -50..50 places 3", "rule": "p > q"}
    inst = make(**params)
    pts, scale, exhaustive = tf.domain(params["variables"])
    assert not exhaustive and len(pts) < 300_000
    verdict = FAMILY.judge(inst, "p > q + 0.001")
    assert verdict.counterexample == [0, -0.001] and not verdict.correct
    verdict = FAMILY.judge(inst, "p > q or p == 1000000")
    assert verdict.correct
    verdict = FAMILY.judge(inst, "p > q and p < 1000000")
    assert verdict.counterexample[0] == 1000000


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rule": ""}, "parameter 'rule' is required"),
        ({"rule": "x <"}, "parameter 'rule' is not a valid rule"),
        ({"rule": "z < 3"}, "parameter 'rule' is not a valid rule: name 'z' is not allowed"),
        ({"rule": "x >= 0"}, "degenerate: always true"),
        ({"rule": "x > 99"}, "degenerate: never true"),
        ({"variables": "x: int 5..1", "rule": "x > 2"}, "the range of 'x' is empty"),
        ({"variables": "and: int 0..3", "rule": "1 < 2"}, "'and' cannot be a variable name"),
        ({"variables": "x: int 0..3, x: int 0..3", "rule": "x > 1"}, "'x' is declared twice"),
        ({"variables": "x: decimal 0..1 places 7", "rule": "x > 0.5"}, "1 to 3 decimal places"),
        ({"variables": "x: int 0..1.5", "rule": "x > 0"}, "at most 0 decimal places"),
        ({"variables": "x: float 0..1", "rule": "x > 0"}, "cannot read 'x: float 0..1'"),
        ({"variables": ", ".join(f"v{i}: int 0..1" for i in range(7)), "rule": "v1 > 0"}, "1 to 6 variables"),
    ],
)
def test_bad_params_are_refused_with_a_clear_message(params, message):
    with pytest.raises(ParamsError, match=message.replace("(", r"\(")):
        make(**params)


def test_the_built_in_solver_finds_a_rule_of_its_space_on_decimals():
    params = {
        "variables": "a: decimal 0..2 places 1, b: decimal 0..2 places 1, c: int 0..3, d: int 0..3",
        "rule": "b < d",
    }
    inst = make(1, **params)
    solver = FAMILY.make_solver("infogain", inst.public, 0)
    history: list[dict] = []
    for _ in range(40):
        action = solver.act(history, 40 - len(history))
        if action["type"] == "guess":
            break
        history.append({"input": action["input"], "result": FAMILY.answer(inst, action["input"])})
    assert action["type"] == "guess" and FAMILY.judge(inst, action["rule"]).correct
    steps = FAMILY.step_analytics(inst.public, history)
    assert len(steps) == len(history) and steps[-1]["surviving"] >= 1

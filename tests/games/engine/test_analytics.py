"""Per-step analytics on hand-checked cases, and the reference space."""

from __future__ import annotations

import math

import numpy as np
import pytest

from games.engine import analytics
from games.engine.families import wason
from games.engine.hypotheses import HypothesisSpace

SPACE = HypothesisSpace(
    texts=["x < y", "x > 0", "x < y < z", "z > 10"],
    variables=("x", "y", "z"),
    probes=np.array([[0.0, 0.0, 0.0]]),
)


def step(inp, result):
    return {"input": inp, "result": result}


def test_hand_checked_trace() -> None:
    history = [
        step([1, 2, 3], True),
        step([5, 6, 7], True),
        step([2, 1, 0], False),
        step([-1, 5, 0], True),
        step([0, 0, 0], True),
    ]
    rows = analytics.trace(SPACE, history)
    assert [r["surviving_before"] for r in rows] == [4, 3, 3, 2, 1]
    assert [r["surviving"] for r in rows] == [3, 3, 2, 1, 0]
    assert rows[0]["bits"] == pytest.approx(math.log2(4 / 3))
    assert rows[1]["bits"] == 0.0 and rows[1]["redundant"] is True
    assert rows[0]["redundant"] is False and rows[0]["p_true"] == pytest.approx(0.75)
    assert rows[2]["bits"] == pytest.approx(math.log2(3 / 2))
    assert rows[3]["bits"] == pytest.approx(1.0)
    assert rows[4]["space_exhausted"] is True and rows[4]["bits"] is None
    assert rows[4]["redundant"] is True  # the lone survivor predicted False: nothing to learn, yet surprised


def test_examples_narrow_the_space_before_the_first_step() -> None:
    rows = analytics.trace(SPACE, [step([1, 2, 3], True)], examples=[step([1, 2, 20], True)])
    # the example leaves x < y, x > 0, x < y < z, z > 10; the test (1, 2, 3) removes z > 10
    assert rows[0]["surviving_before"] == 4 and rows[0]["surviving"] == 3
    rows = analytics.trace(SPACE, [step([1, 2, 3], True)], examples=[step([-1, 2, 1], True)])
    assert rows[0]["surviving_before"] == 1  # only x < y fits the example


def test_survivors_and_mismatches() -> None:
    history = [step([1, 2, 3], True), step([2, 1, 0], False)]
    assert SPACE.survivors(history).tolist() == [True, False, True, False]
    assert SPACE.mismatches(history).tolist() == [0, 1, 0, 1]


def test_reference_space_is_large_distinct_and_ordered_by_simplicity() -> None:
    space = wason.reference_space()
    assert len(space) >= 10_000
    assert len(set(space.texts)) == len(space.texts)
    sizes = [wason.parse(t).size for t in space.texts]
    assert sizes == sorted(sizes)
    # the composed truth equals evaluating the texts one by one
    pts = [[1, 2, 3], [2, 4, 6], [0, -1, 5], [1.5, 2, 9], [3, 4, 5]]
    idx = [0, 10, 500, 5000, len(space) - 1]
    truth = space.truth(pts)
    for i in idx:
        rule = wason.parse(space.texts[i])
        assert truth[i].tolist() == [rule.evaluate_point(p) for p in pts]


def test_wason_step_analytics_counts_match_brute_force() -> None:
    space = wason.reference_space()
    inst = wason.FAMILY.generate(4, wason.FAMILY.validate_params({"tier": 2}))
    history = [
        {"input": p, "result": wason.FAMILY.answer(inst, p)} for p in ([1, 2, 3], [4, 4, 4], [2, 7, 1])
    ]
    rows = wason.FAMILY.step_analytics(inst.public, history)
    observed = list(inst.public["examples"])
    for row, obs in zip(rows, history):
        before = [
            t
            for t in space.texts
            if all(wason.parse(t).evaluate_point(o["input"]) == o["result"] for o in observed)
        ]
        observed.append(obs)
        after = [t for t in before if wason.parse(t).evaluate_point(obs["input"]) == obs["result"]]
        assert row["surviving_before"] == len(before)
        assert row["surviving"] == len(after)


class _Sums(HypothesisSpace):
    """A toy space whose answers are numbers, not yes/no: hypothesis k says f(x) = x + k."""

    def __init__(self) -> None:
        self.texts = [f"x + {k}" for k in range(4)]
        self.variables = ("x",)
        self.probes = np.array([[0.0]])

    def truth(self, points):
        keys = np.empty((len(self.texts), len(points)), dtype=object)
        for h in range(len(self.texts)):
            for q, (x,) in enumerate(points):
                keys[h, q] = analytics.answer_key(x + h)
        return keys


def test_answers_of_any_json_type() -> None:
    space = _Sums()
    rows = analytics.trace(space, [step([1], 3), step([5], 7), step([0], 9)])
    assert [r["surviving"] for r in rows] == [1, 1, 0]
    assert rows[0]["bits"] == pytest.approx(2.0) and rows[0]["redundant"] is False
    assert rows[1]["redundant"] is True and rows[1]["bits"] == 0.0  # one survivor: nothing to learn
    assert rows[0]["p_true"] is None and rows[0]["result"] == 3
    assert rows[2]["space_exhausted"] is True
    assert space.survivors([step([1], 3)]).tolist() == [False, False, True, False]
    assert space.mismatches([step([1], 3), step([2], 2)]).tolist() == [1, 2, 1, 2]

"""Positive-test and persistence measures on hand-made histories whose answers are worked out
by hand (hidden rule x + y > z)."""

from __future__ import annotations

import dataclasses

from games.engine import beliefs
from games.engine.core import get_family

WASON = get_family("wason")


def wason_instance():
    made = WASON.generate(1, WASON.validate_params({"tier": 1, "rule": "x + y > z"}))
    # One known example: 2 + 4 > 5, so it fits.
    return dataclasses.replace(
        made, public={**made.public, "examples": [{"input": [2, 4, 5], "result": True}]}
    )


def obs(inp, result, hypothesis=None):
    return {"input": inp, "result": result, "hypothesis": hypothesis}


HISTORY = [
    obs([1, 2, 3], False, "x < y < z"),  # predicts fits: positive; refuted
    obs([3, 2, 1], True, "x < y < z"),  # predicts not: negative; kept after test 1 refuted it
    obs([5, 1, 1], True, "x + y > z"),  # positive, confirmed, equivalent
    obs([1, 1, 5], False, "z < y + x"),  # negative, confirmed, equivalent (other words)
    obs([0, 0, 0], False),  # no hypothesis stated
    obs([1, 1, 1], True, "x <<< y"),  # stated, does not parse
]


def test_each_test_is_read_against_the_stated_hypothesis() -> None:
    rows = beliefs.trace(WASON, wason_instance(), HISTORY)
    picked = [
        (
            r["test"],
            r["stated"],
            r["parsed"],
            r["positive"],
            r["confirmed"],
            r["already_refuted"],
            r["equivalent"],
        )
        for r in rows
    ]
    assert picked == [
        (1, True, True, True, False, False, False),
        (2, True, True, False, False, True, False),
        (3, True, True, True, True, False, True),
        (4, True, True, False, True, False, True),
        (5, False, None, None, None, None, None),
        (6, True, False, None, None, None, None),
    ]
    assert [r["predicted"] for r in rows[:4]] == [True, False, True, False]


def test_an_example_shown_with_the_puzzle_counts_as_earlier_evidence() -> None:
    # 2 < 4 < 5 fits the example; "x > y" says (2, 4, 5) does not fit, so it was refuted before
    # the first test.
    rows = beliefs.trace(WASON, wason_instance(), [obs([9, 1, 1], True, "x > y")])
    assert rows[0]["already_refuted"] is True and rows[0]["confirmed"] is True


def test_seat_summary() -> None:
    summary = beliefs.summary(beliefs.trace(WASON, wason_instance(), HISTORY))
    assert summary == {
        "hypotheses_stated": 5,
        "hypotheses_parsed": 4,
        "positive_tests": 2,
        "negative_tests": 2,
        "positive_share": 0.5,
        "confirmed_tests": 2,
        "confirmed_share": 0.5,
        "refuted_kept": 1,
        "refuted_kept_share": 0.25,
        "first_equivalent_test": 3,
    }


def test_no_hypotheses_give_empty_measures() -> None:
    summary = beliefs.summary(beliefs.trace(WASON, wason_instance(), [obs([1, 2, 3], False)]))
    assert summary["hypotheses_stated"] == 0
    assert summary["positive_share"] is None and summary["first_equivalent_test"] is None


def test_string_answers_have_no_positive_test_but_are_confirmed_or_refuted() -> None:
    rewrite = get_family("rewrite")
    instance = rewrite.generate(3, rewrite.validate_params({}))
    hidden = instance.hidden["rule"]  # "a -> b; c -> b"
    history = [
        obs("abc", rewrite.answer(instance, "abc"), "a -> b"),  # says "bbc": refuted ("bbb")
        obs("cc", rewrite.answer(instance, "cc"), hidden),
    ]
    rows = beliefs.trace(rewrite, instance, history)
    assert not beliefs.boolean_answers(rewrite, instance.public)
    assert [(r["positive"], r["confirmed"], r["equivalent"]) for r in rows] == [
        (None, False, False),
        (None, True, True),
    ]
    assert rows[0]["predicted"] == "bbc"
    summary = beliefs.summary(rows)
    assert summary["positive_share"] is None and summary["first_equivalent_test"] == 2

"""Family eleusis: the card domain, generation, oracle, exact judge, quiz, text, baselines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from games.engine import dsl, get_family
from games.engine.core import Instance, ParamsError, QueryError, RuleError
from games.engine.families import eleusis
from games.engine.play import play

FAMILY = get_family("eleusis")


def make(seed: int = 0, **params) -> Instance:
    return FAMILY.generate(seed, FAMILY.validate_params(params))


def test_the_domain_is_every_pair_of_cards_once_low_cards_first() -> None:
    pairs = eleusis.domain()
    assert pairs.shape == (52 * 52, 4)
    assert len({tuple(p) for p in pairs.tolist()}) == 2704
    assert pairs[0].tolist() == [1, 0, 1, 0]  # two aces first
    assert pairs[:, [0, 2]].max(axis=1).tolist() == sorted(pairs[:, [0, 2]].max(axis=1).tolist())


@pytest.mark.parametrize("tier", [1, 2, 3, 4])
def test_generation_is_deterministic_non_degenerate_and_shows_a_fitting_example(tier) -> None:
    for seed in range(15):
        a, b = make(seed, tier=tier), make(seed, tier=tier)
        assert a == b
        assert 0.1 <= a.hidden["true_fraction"] <= 0.9
        (example,) = a.public["examples"]
        assert FAMILY.answer(a, example["input"]) is True
        assert a.hidden["rule"] not in str(a.public)  # the public part never carries the rule


def test_a_hand_written_rule_is_used_and_a_degenerate_one_refused() -> None:
    inst = make(rule="rank > prev_rank if suit // 2 == 1 else rank < prev_rank")
    assert FAMILY.answer(inst, [5, 0, 9, 3]) is True  # a red 9 on a 5: up
    assert FAMILY.answer(inst, [5, 2, 9, 1]) is False  # a black 9 on a 5: should go down
    with pytest.raises(ParamsError, match="every pair of cards fits it"):
        make(rule="rank >= 1")
    with pytest.raises(ParamsError, match="not a valid rule"):
        make(rule="colour == red")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 0, 14, 0], "rank = 14 is out of range: ranks go from 1 (ace) to 13 (king)"),
        ([1, 4, 1, 0], "prev_suit = 4 is out of range: suits go from 0 to 3"),
        ([1, 0, 1], "a test is two cards as four whole numbers"),
        ([1, 0, 1.5, 0], "rank must be a whole number"),
        ([True, 0, 1, 0], "prev_rank must be a whole number"),
        ("ace of spades", "a test is two cards"),
        ({"prev_rank": 1, "rank": 2, "suit": 0}, "missing value for prev_suit"),
    ],
)
def test_bad_tests_are_refused_with_the_reason(raw, message) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FAMILY.parse_query(make().public, raw)


def test_tests_may_be_lists_text_or_named_values() -> None:
    public = make().public
    expected = [12, 3, 5, 0]
    assert FAMILY.parse_query(public, [12, 3, 5, 0]) == expected
    assert FAMILY.parse_query(public, "12, 3, 5, 0") == expected
    assert FAMILY.parse_query(public, {"prev_rank": 12, "prev_suit": 3, "rank": 5, "suit": 0}) == expected


def test_the_judge_is_exact_over_all_pairs_and_gives_the_first_counterexample() -> None:
    inst = make(rule="suit // 2 != prev_suit // 2")  # alternate colours
    same = FAMILY.judge(inst, "(suit < 2) != (prev_suit < 2)")
    assert same.correct and same.checked == 2704 and same.agreement == 1.0
    wrong = FAMILY.judge(inst, "suit != prev_suit")
    assert not wrong.correct
    # the first pair (low cards first) where they differ: ace of clubs then ace of spades
    assert wrong.counterexample == [1, 0, 1, 1]
    assert (wrong.hidden_answer, wrong.guess_answer) == (False, True)
    assert wrong.agreement == pytest.approx(1 - 52 * 13 * 2 / 2704 / 2, abs=1e-6)
    with pytest.raises(RuleError):
        FAMILY.judge(inst, "import os")


def test_the_quiz_is_fixed_per_instance_and_scored_both_ways() -> None:
    inst = make(3, tier=1)
    items = FAMILY.quiz_items(inst)
    assert items == FAMILY.quiz_items(make(3, tier=1)) and len(items) == 6
    truth = [FAMILY.answer(inst, item) for item in items]
    assert all(item != e["input"] for e in inst.public["examples"] for item in items)
    result = FAMILY.quiz_score(inst, inst.hidden["rule"], truth)
    assert result["accuracy_vs_hidden"] == 1.0 and result["accuracy_vs_own_rule"] == 1.0
    with pytest.raises(QueryError, match="exactly 6 answers"):
        FAMILY.quiz_score(inst, None, [True])


def test_the_text_names_the_cards() -> None:
    inst = make(rule="rank > prev_rank")
    text = FAMILY.render_observation(inst.public, [{"input": [12, 3, 1, 0], "result": False}], 19)
    assert "1. Q♥ then A♣ (12, 3, 1, 0) -> False" in text and "Tests left: 19." in text
    assert eleusis.RULE_EXAMPLE in FAMILY.describe(inst.public)
    assert FAMILY.check_rule(eleusis.RULE_EXAMPLE)["ok"]


def test_the_reference_space_has_no_duplicates_or_constants() -> None:
    space = eleusis.reference_space()
    truth = space.probe_truth
    assert len(space) > 1000
    assert truth.any(axis=1).all() and not truth.all(axis=1).any()
    assert len({row.tobytes() for row in np.packbits(truth, axis=1)}) == len(space)


def test_the_space_answers_tests_from_its_table_exactly_as_the_rules_do() -> None:
    space = eleusis.reference_space()
    points = [[12, 3, 1, 0], [1, 0, 13, 3], [7, 2, 7, 2]]
    from games.engine.hypotheses import HypothesisSpace

    assert np.array_equal(space.truth(points), HypothesisSpace.truth(space, points))


@pytest.mark.parametrize("tier", [1, 2, 3, 4])
def test_infogain_solves_every_tier_in_fewer_tests_than_random(tier) -> None:
    results = {
        name: [play(FAMILY, make(seed, tier=tier), name, seed=seed) for seed in range(6)]
        for name in ("infogain", "random")
    }
    assert all(r["solved"] for r in results["infogain"])
    mean = {name: np.mean([r["tests_used"] for r in rs]) for name, rs in results.items()}
    assert mean["infogain"] < mean["random"]


def test_every_generated_rule_is_in_the_reference_space() -> None:
    space = eleusis.reference_space()
    rows = {row.tobytes() for row in np.packbits(space.probe_truth, axis=1)}
    for tier, seed in itertools.product((1, 2, 3, 4), range(20)):
        truth = eleusis.truth_on_domain(eleusis.parse(make(seed, tier=tier).hidden["rule"]))
        assert np.packbits(truth).tobytes() in rows


@pytest.mark.parametrize(
    "rule",
    ["rank / 2 > 1.5", "sqrt(rank) > 2", "rank & 1 == 1", "is_int(rank / 3)", "gcd(rank, prev_rank) == 1"],
)
def test_the_instructions_allow_what_the_checker_accepts(rule):
    """The instructions are written from the checker's own allow-list: what it accepts is named."""
    instance = FAMILY.generate(1, {})
    help_text = FAMILY.presentation.syntax_help
    described = FAMILY.describe(instance.public)
    assert FAMILY.check_rule(rule)["ok"]
    for text in (help_text, described):
        assert "decimal" in text and " / " in text
        for name in dsl.FUNCTIONS:
            assert name in text
        assert "whole numbers, the four names" not in text

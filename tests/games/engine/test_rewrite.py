"""The ``rewrite`` family: the cascade semantics, the guess language, the judge and the solvers."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games.engine import get_family
from games.engine.core import ParamsError, QueryError, RuleError
from games.engine.families import rewrite
from games.engine.play import play

FAMILY = get_family("rewrite")


def make(rule: str = "", **params):
    if rule:
        params["rule"] = rule
    return FAMILY.generate(1, FAMILY.validate_params(params))


@pytest.mark.parametrize(
    ("rules", "text", "expected"),
    [
        ("ab -> ba", "aab", "aba"),  # once, not until nothing is left to rewrite
        ("aa -> b", "aaa", "ba"),  # non-overlapping, left to right
        ("aa -> b", "aaaa", "bb"),
        ("a -> b; b -> c", "ab", "cc"),  # in order: the second rule sees the first one's output
        ("b -> c; a -> b", "ab", "bc"),
        ("c -> ", "cacbc", "ab"),  # an empty right side deletes
        ('c -> ""', "cacbc", "ab"),
        ("ab -> ba\nba -> a", "abab", "aa"),
    ],
)
def test_the_documented_semantics(rules, text, expected):
    assert rewrite.apply(rewrite.parse(rules), text) == expected
    inst = make(rules, alphabet_size=3)
    assert FAMILY.answer(inst, text) == expected


def test_rewriting_the_whole_domain_at_once_equals_one_string_at_a_time():
    rng = random.Random(7)
    strings = rewrite.domain("abc", 6)
    for _ in range(50):
        cascade = rewrite._sample_cascade(rng, rng.randint(1, 8), "abc", 3)
        assert cascade is not None
        assert rewrite.apply_all(cascade, strings) == [rewrite.apply(cascade, s) for s in strings]


def test_the_instructions_state_the_semantics():
    text = FAMILY.describe(make().public)
    assert "once" in text and "non-overlapping" in text and "left to right" in text and "in order" in text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("ab->ba", "ab -> ba"),
        (" ab -> ba ;c->  ", 'ab -> ba; c -> ""'),
        ("a -> b\n\nb -> c", "a -> b; b -> c"),
    ],
)
def test_the_guess_syntax_reads_lines_or_semicolons(text, canonical):
    check = FAMILY.check_rule(text)
    assert check["ok"] and check["canonical"] == canonical


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("ab", "'left -> right'", 1),
        ("ab -> ba; a -> b -> c", "'left -> right'", 11),
        ("-> b", "at least one letter", 1),
        ("aB -> b", "lowercase letters only", 1),
        ("a -> b1", "lowercase letters only", 5),
        ("a -> aa; " * 5, "times longer", None),
        ("a" * 11 + " -> b", "at most 10 letters", 1),
        ("a -> b;" * 61, "at most 60 rules", None),
    ],
)
def test_a_bad_guess_gets_a_clear_error_saying_where(text, fragment, column):
    check = FAMILY.check_rule(text)
    assert check["ok"] is False and fragment in check["error"]
    if column is not None:
        assert check["column"] == column


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("", "empty"),
        ("abd", "'d' is not one of them"),
        ("a" * 10, "10 characters"),
        (["a"], "a test is a string"),
    ],
)
def test_a_bad_test_gets_a_clear_error(query, fragment):
    inst = make(alphabet_size=3)
    with pytest.raises(QueryError) as info:
        FAMILY.answer(inst, query)
    assert fragment in info.value.message


def test_the_judge_is_exact_and_gives_the_simplest_difference():
    inst = make("ab -> ba", alphabet_size=3)
    assert FAMILY.judge(inst, "ab->ba").correct
    # the same function written differently is the same rule
    assert FAMILY.judge(make("a -> b; b -> c", alphabet_size=3), "b -> c; a -> c").correct
    verdict = FAMILY.judge(inst, "ab -> ba; ba -> ab")
    assert not verdict.correct and verdict.counterexample == "ab"
    assert (verdict.hidden_answer, verdict.guess_answer) == ("ba", "ab")
    # it differs only on strings with two a's before a b: aab is the shortest, first alphabetically
    verdict = FAMILY.judge(make("aab -> c", alphabet_size=3), "aab -> c; aaab -> c")
    assert verdict.correct
    verdict = FAMILY.judge(make("ab -> c", alphabet_size=3), "aab -> ac")
    assert verdict.counterexample == "ab"
    assert verdict.checked == len(rewrite.domain("abc", 9))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), other=st.integers(0, 10_000), tier=st.sampled_from([1, 2, 3]))
def test_a_different_verdict_is_real_and_nothing_shorter_differs(seed, other, tier):
    inst = FAMILY.generate(seed, FAMILY.validate_params({"tier": tier}))
    guess = FAMILY.generate(other, FAMILY.validate_params({"tier": tier})).hidden["rule"]
    verdict = FAMILY.judge(inst, guess)
    if verdict.correct:
        return
    cex = verdict.counterexample
    assert FAMILY.answer(inst, cex) != FAMILY.guess_answer(inst, guess, cex)
    hidden, mine = rewrite.parse(inst.hidden["rule"]), rewrite.parse(guess)
    for s in rewrite.domain(inst.public["alphabet"], inst.public["max_length"]):
        if rewrite.simplicity_key(s) >= rewrite.simplicity_key(cex):
            break
        assert rewrite.apply(hidden, s) == rewrite.apply(mine, s)


def test_a_degenerate_hand_written_rule_is_refused():
    with pytest.raises(ParamsError, match="unchanged"):
        make("d -> a", alphabet_size=3)  # d is not in the alphabet: nothing ever changes
    with pytest.raises(ParamsError, match="not a valid rule list"):
        make("a ->> b")


def test_a_growing_cascade_is_bounded_so_the_judge_stays_small():
    with pytest.raises(RuleError, match="times longer"):
        rewrite.parse("a -> aa; " * 5)
    inst = make(alphabet_size=2)
    verdict = FAMILY.judge(inst, "a -> aa; " * 4)  # at most 16 times longer: allowed, judged
    assert verdict.checked == len(rewrite.domain("ab", 14))


def test_the_hidden_rule_is_not_in_the_public_info():
    for seed in range(20):
        inst = FAMILY.generate(seed, FAMILY.validate_params({"tier": 3}))
        assert inst.hidden["rule"] not in str(inst.public) and "->" not in str(inst.public["examples"])


def test_answers_are_strings_in_the_analytics():
    inst = make()
    history = [{"input": s, "result": FAMILY.answer(inst, s)} for s in ("ab", "abc", "cab")]
    steps = FAMILY.step_analytics(inst.public, history)
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert all(s["p_true"] is None for s in steps)
    assert steps[0]["surviving_before"] >= steps[-1]["surviving"]
    assert not steps[-1]["space_exhausted"]  # a level 1 cascade (2 rules of 2 letters) is in the space


def test_the_search_solver_solves_most_level_1_seeds():
    solved = [
        play(FAMILY, FAMILY.generate(s, FAMILY.validate_params({"tier": 1})), "search")["solved"]
        for s in range(12)
    ]
    assert sum(solved) >= 9


def test_both_solvers_play_to_a_guess_within_the_budget():
    for name in ("search", "random"):
        inst = FAMILY.generate(3, FAMILY.validate_params({"tier": 2}))
        result = play(FAMILY, inst, name, seed=3)
        assert result["tests_used"] <= inst.public["max_tests"] and FAMILY.check_rule(result["guess"])["ok"]

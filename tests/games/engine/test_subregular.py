"""The ``subregular`` family: local rules, their meaning, the exact judge and the tabulation learner."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine import get_family
from games.engine.core import Instance, ParamsError, QueryError, RuleError
from games.engine.families import subregular as sr
from games.engine.play import play

FAMILY = get_family("subregular")


def make(seed: int = 0, **params: Any) -> Instance:
    return FAMILY.generate(seed, FAMILY.validate_params(params))


def with_rule(rule: str, **params: Any) -> Instance:
    """An instance of the given params whose hidden rule is ``rule`` (the judge reads it from there)."""
    inst = make(0, **params)
    return Instance(inst.family, inst.version, inst.seed, inst.params, inst.public, {"rule": rule, "size": 0})


def all_strings(alphabet: str, max_length: int) -> list[str]:
    """Every testable string, in the documented simplicity order."""
    out: list[str] = []
    for n in range(1, max_length + 1):
        out += ["".join(p) for p in itertools.product(alphabet, repeat=n)]
    return out


# -- the meaning of a rule --------------------------------------------------------------------------


def test_isl_reads_the_input_context() -> None:
    rules = sr.parse("a:b -> c")
    assert rules.apply("abb") == "acb"  # the second b follows a b in the input
    assert rules.apply("bab") == "bac"


def test_osl_reads_the_output_already_written() -> None:
    rules = sr.parse("OSL; a:b -> a")
    assert rules.apply("abb") == "aaa"  # the rewritten a makes the next b follow an a
    assert sr.parse("a:b -> a").apply("abb") == "aab"  # the ISL reading differs


def test_the_boundary_mark_means_the_start_of_the_word() -> None:
    rules = sr.parse("^:a -> b; ^a:a -> c")
    assert rules.apply("aaa") == "bca"
    assert rules.apply("baa") == "baa"


def test_the_longest_fitting_context_wins_and_unlisted_symbols_copy() -> None:
    rules = sr.parse("b -> a; cb:b -> c")
    assert rules.apply("bcbb") == "acac"
    assert rules.apply("d") == "d"


def test_canonical_form_sorts_and_round_trips() -> None:
    check = sr.check_rule("  cb:b->c\n b -> a;; ")
    assert check == {"ok": True, "canonical": "b -> a; cb:b -> c", "size": 2}
    assert sr.check_rule("osl\nab:c -> a")["canonical"] == "OSL; ab:c -> a"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "at least one rule"),
        ("ISL", "at least one rule"),
        ("ab:b", "is not a rule"),
        ("ab:b -> cc", "one symbol"),
        ("ab:b -> z", "one symbol"),
        ("a^:b -> c", "only at the start"),
        ("a:bb -> c", "one input symbol"),
        ("a:b -> c; a:b -> a", "two outputs"),
        ("abcdef:a -> b", "at most 5"),
        ("a:b:c -> d", "context is symbols"),
    ],
)
def test_bad_guesses_say_what_is_wrong(text: str, fragment: str) -> None:
    check = sr.check_rule(text)
    assert check["ok"] is False and fragment in check["error"]
    assert isinstance(check["column"], int) and check["column"] >= 1


def test_the_column_points_at_the_bad_rule() -> None:
    check = sr.check_rule("a:b -> c; b:c -> cc")
    assert check["ok"] is False and check["column"] == len("a:b -> c; b:c -> ") + 1


def test_a_duplicate_rule_with_the_same_output_is_listed_once() -> None:
    assert sr.check_rule("a:b -> c; a:b -> c") == {"ok": True, "canonical": "a:b -> c", "size": 1}


# -- tests (queries) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [("", "empty"), ("abd", "'d' is not one of them"), ("a" * 11, "this one has 11"), (["a"], "got list")],
)
def test_bad_tests_say_what_is_allowed(raw: Any, fragment: str) -> None:
    inst = make(0)  # alphabet a, b, c; at most 10 symbols
    with pytest.raises(QueryError) as info:
        FAMILY.answer(inst, raw)
    assert fragment in info.value.message and "a, b, c" in info.value.message


def test_max_length_leaves_room_for_every_window() -> None:
    with pytest.raises(ParamsError, match="'max_length' must be >= 6"):
        sr.validate({"k": 4, "max_length": 5})


# -- the judge ---------------------------------------------------------------------------------------


def brute_force(inst: Instance, guess: str) -> tuple[str | None, float]:
    hidden, mine = sr.parse(inst.hidden["rule"]), sr.parse(guess)
    words = all_strings(inst.public["symbols"], inst.public["max_length"])
    differ = [w for w in words if hidden.apply(w) != mine.apply(w)]
    return (differ[0] if differ else None), 1 - len(differ) / len(words)


GUESSES = st.lists(
    st.tuples(
        st.text("^", max_size=2),
        st.text("abc", max_size=3),
        st.sampled_from("abc"),
        st.sampled_from("abc"),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 500),
    mode=st.sampled_from(["ISL", "OSL"]),
    guess_mode=st.sampled_from(["ISL", "OSL"]),
    items=GUESSES,
)
def test_the_judge_agrees_with_brute_force_on_every_testable_string(
    seed: int, mode: str, guess_mode: str, items: list[tuple[str, str, str, str]]
) -> None:
    inst = make(seed, k=2, alphabet=3, rules=2, mode=mode, max_length=6)
    table = {(marks + letters if letters or marks else "", s): o for marks, letters, s, o in items}
    guess = f"{guess_mode}; " + "; ".join(f"{c}:{s} -> {o}" for (c, s), o in table.items())
    expected_first, expected_agreement = brute_force(inst, guess)
    verdict = FAMILY.judge(inst, guess)
    assert verdict.counterexample == expected_first
    assert verdict.correct == (expected_first is None)
    assert verdict.agreement == pytest.approx(expected_agreement, abs=1e-6)
    assert verdict.checked == len(all_strings("abc", 6))


def test_a_different_spelling_of_the_same_function_is_correct() -> None:
    # after a, b becomes c; written with the boundary and longest-match spelled out instead
    inst = with_rule("a:b -> c", k=2, alphabet=3)
    assert FAMILY.judge(inst, "b -> c; ^:b -> b; b:b -> b; c:b -> b").correct
    # an OSL reading of a rule that never rewrites into its own context is the same function
    assert FAMILY.judge(inst, "OSL; a:b -> c").correct


def test_the_counterexample_is_the_shortest_then_alphabetically_first() -> None:
    inst = with_rule("ab:c -> a", k=3, alphabet=3)
    verdict = FAMILY.judge(inst, "bb:c -> a")
    assert verdict.counterexample == "abc"  # shortest reaching either window, a before b
    assert (verdict.hidden_answer, verdict.guess_answer) == ("aba", "abc")


# -- generation and the solvers ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["ISL", "OSL"])
def test_every_generated_rule_matters(mode: str) -> None:
    for seed in range(10):
        inst = make(seed, k=3, rules=4, mode=mode)
        rules = sr.parse(inst.hidden["rule"])
        assert rules.size == 4 and all(len(c) == 2 for c, _, _ in rules.table)
        for i in range(rules.size):
            fewer = sr.LocalRules(rules.mode, rules.table[:i] + rules.table[i + 1 :])
            assert sr.compare(rules, fewer, "abc", 10)[0] is not None


def test_the_tabulation_learner_solves_most_seeds_at_the_lowest_difficulty() -> None:
    params = FAMILY.validate_params(dict(FAMILY.variants[0].params))
    solved = [play(FAMILY, FAMILY.generate(s, params), "tabulate", seed=s)["solved"] for s in range(20)]
    assert sum(solved) >= 16


def test_the_tabulation_learner_uses_fewer_tests_than_the_random_tester() -> None:
    params = FAMILY.validate_params(dict(FAMILY.variants[1].params))
    games = [(FAMILY.generate(s, params), s) for s in range(8)]
    tabulate = [play(FAMILY, inst, "tabulate", seed=s) for inst, s in games]
    assert all(g["solved"] for g in tabulate)
    assert sum(g["tests_used"] for g in tabulate) < 8 * params["max_tests"]


def test_the_solvers_see_only_public_data() -> None:
    inst = make(3)
    solver = FAMILY.make_solver("tabulate", inst.public, 0)
    action = solver.act([], 0)
    assert action["type"] == "guess" and "rule" in action
    with pytest.raises(RuleError):
        sr.parse(42)  # type: ignore[arg-type]


# -- the command line ---------------------------------------------------------------------------------


def cli(*args: str) -> Any:
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "games.engine", *args], capture_output=True, text=True)
    return json.loads(done.stdout)


def test_the_cli_lists_the_solvers_and_plays_each_at_a_difficulty_level() -> None:
    [listed] = [f for f in cli("families") if f["id"] == "subregular"]
    assert listed["solvers"] == ["random", "tabulate"]
    for solver in listed["solvers"]:
        game = cli("play", "--family", "subregular", "--seed", "1", "--difficulty", "1", "--solver", solver)
        assert game["verdict"]["checked"] > 0 and game["tests_used"] >= 1
    assert cli(
        "play", "--family", "subregular", "--seed", "1", "--difficulty", "4", "--solver", "tabulate"
    ) == {
        "ok": False,
        "error": "--difficulty for subregular goes from 1 to 3 (its shipped variants)",
    }


# -- analytics: the reference space, counted in closed form ------------------------------------------


def brute_force_survivors(public: dict[str, Any], history: list[dict[str, Any]]) -> int:
    """Enumerate the reference space (every function changing exactly `rules` windows) and keep
    those that give every observed output."""
    alphabet, k = public["symbols"], public["k"]
    windows = [(c, s) for c in sr._contexts(k, alphabet) for s in alphabet]
    observed = list(public["examples"]) + history
    count = 0
    for chosen in itertools.combinations(windows, public["rules"]):
        options = [[o for o in alphabet if o != s] for _, s in chosen]
        for outputs in itertools.product(*options):
            rules = sr.LocalRules(public["mode"], tuple((c, s, o) for (c, s), o in zip(chosen, outputs)))
            count += all(rules.apply(h["input"]) == h["result"] for h in observed)
    return count


@pytest.mark.parametrize("mode", ["ISL", "OSL"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_surviving_counts_equal_enumerating_the_space(mode: str, seed: int) -> None:
    inst = make(seed, k=2, alphabet=3, rules=2, mode=mode, examples=1)
    rules = sr.parse(inst.hidden["rule"])
    history = [{"input": w, "result": rules.apply(w)} for w in ("a", "ba", "cab", "abcb", "ccc")]
    steps = FAMILY.step_analytics(inst.public, history)
    assert [s["surviving"] for s in steps] == [
        brute_force_survivors(inst.public, history[:n]) for n in range(1, len(history) + 1)
    ]
    assert steps[0]["surviving_before"] == brute_force_survivors(inst.public, [])
    assert all(s["surviving"] >= 1 and not s["space_exhausted"] for s in steps)  # the hidden rule survives


def test_a_test_that_reveals_no_new_window_is_redundant_and_worth_no_bits() -> None:
    inst = make(0, k=2, alphabet=3, rules=2, examples=0)
    rules = sr.parse(inst.hidden["rule"])
    history = [{"input": w, "result": rules.apply(w)} for w in ("ab", "ab", "a")]
    first, again, prefix = FAMILY.step_analytics(inst.public, history)
    assert first["bits"] > 0 and first["redundant"] is False
    assert again["redundant"] is True and again["bits"] == 0.0
    assert prefix["redundant"] is True  # "a" at the start was seen in "ab"

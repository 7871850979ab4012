"""The ``blackbox`` family: its list language (round trip, semantics, errors with a column), the
differential judge (sound, simplest counterexample) and hostile programs."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games.engine import get_family
from games.engine.core import QueryError, RuleError
from games.engine.families import blackbox as bb
from games.engine.play import play

FAMILY = get_family("blackbox")


def make(seed: int = 0, **params):
    return FAMILY.generate(seed, FAMILY.validate_params(params))


# -- the language ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "xs", "out"),
    [
        ("map(x * 2, xs)", [1, -2, 3], [2, -4, 6]),
        ("filter(x % 2 == 0, xs)", [1, 2, 3, 4, -2], [2, 4, -2]),
        ("count(x > 0 and x < 3, xs)", [0, 1, 2, 3], 2),
        ("fold(acc * 10 + x, 0, xs)", [1, 2, 3], 123),
        ("fold(x - acc, 0, xs)", [1, 2, 3], 2),
        ("zipwith(x - y, xs, reverse(xs))", [1, 2, 5], [-4, 0, 4]),
        ("zipwith(x + y, xs, drop(1, xs))", [1, 2, 5], [3, 7]),
        ("sort(xs)", [3, -1, 2, -1], [-1, -1, 2, 3]),
        ("reverse(xs)", [1, 2, 3], [3, 2, 1]),
        ("take(2, xs)", [5, 6, 7], [5, 6]),
        ("take(-1, xs)", [5, 6, 7], []),
        ("drop(5, xs)", [5, 6, 7], []),
        ("sum(xs) - max(xs) + min(xs)", [4, -3, 2], -4),
        ("max(xs)", [], 0),
        ("min(xs)", [], 0),
        ("len(xs)", [0, 0], 2),
        ("map(x // 0 + x % 0, xs)", [7], [0]),
        ("map(-7 // 2, xs)", [0], [-4]),
        ("map(-7 % 3, xs)", [0], [2]),
        ("map(max(x, 2) - min(x, -2) + abs(x), xs)", [-5, 0], [12, 4]),
        ("map(x * 1000000 * 1000000 * 1000000, xs)", [1, -1], [10**9, -(10**9)]),
        ("sum(map(x * 1000000, xs)) - 1 - 2 - 3", [999, 999], 10**9 - 6),
        ("filter(not x == 1 or x == 2, xs)", [1, 2, 3], [2, 3]),
    ],
)
def test_interpreter_semantics(program, xs, out):
    assert bb.evaluate(bb.parse(program), xs) == out


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("map( (x+1)*2 ,xs)", "map((x + 1) * 2, xs)"),
        ("sum(xs)-(1-2)", "sum(xs) - (1 - 2)"),
        ("(sum(xs)-1)-2", "sum(xs) - 1 - 2"),
        ("map(--x, xs)", "map(--x, xs)"),
        ("map(- 3 * x, xs)", "map(-3 * x, xs)"),
        ("map(x - -3, xs)", "map(x - -3, xs)"),
        ("filter(not (x > 1 and x < 4), xs)", "filter(not (x > 1 and x < 4), xs)"),
        ("filter((x > 1 or x < 0) and x != 3, xs)", "filter((x > 1 or x < 0) and x != 3, xs)"),
    ],
)
def test_the_printer_is_canonical_and_round_trips(text, canonical):
    program = bb.parse(text)
    assert program.text == canonical
    assert bb.parse(canonical) == program


_ints = st.integers(-3, 3).map(bb.Num)


def _scalar(names):
    leaves = st.one_of(_ints, st.sampled_from([bb.Var(n) for n in names]))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(bb.Bin, st.sampled_from(["+", "-", "*", "//", "%"]), inner, inner),
            st.builds(lambda a: bb.Unary("-", a), inner).filter(lambda u: not isinstance(u.operand, bb.Num)),
            st.builds(lambda a, b: bb.Call("max", (a, b)), inner, inner),
            st.builds(lambda a: bb.Call("abs", (a,)), inner),
        ),
        max_leaves=6,
    )


def _cond(names):
    atom = st.builds(bb.Bin, st.sampled_from(bb.CMP), _scalar(names), _scalar(names))
    return st.recursive(
        atom,
        lambda inner: st.one_of(
            st.builds(bb.Bin, st.sampled_from(["and", "or"]), inner, inner),
            st.builds(lambda a: bb.Unary("not", a), inner),
        ),
        max_leaves=3,
    )


_lists = st.recursive(
    st.just(bb.Var("xs")),
    lambda inner: st.one_of(
        st.builds(lambda f, e: bb.Call("map", (f, e)), _scalar(["x"]), inner),
        st.builds(lambda p, e: bb.Call("filter", (p, e)), _cond(["x"]), inner),
        st.builds(lambda f, a, b: bb.Call("zipwith", (f, a, b)), _scalar(["x", "y"]), inner, inner),
        st.builds(lambda e: bb.Call("sort", (e,)), inner),
        st.builds(lambda k, e: bb.Call("take", (k, e)), _ints, inner),
    ),
    max_leaves=4,
)
_programs = st.one_of(
    _lists,
    st.builds(lambda e: bb.Call("sum", (e,)), _lists),
    st.builds(lambda f, e: bb.Call("fold", (f, bb.Num(0), e)), _scalar(["acc", "x"]), _lists),
    st.builds(lambda p, e: bb.Call("count", (p, e)), _cond(["x"]), _lists),
)


@settings(max_examples=300, deadline=None)
@given(tree=_programs, xs=st.lists(st.integers(-20, 20), max_size=8))
def test_any_program_prints_parses_back_to_itself_and_means_the_same(tree, xs):
    text = bb.to_text(tree)
    try:
        program = bb.parse(text)
    except RuleError as exc:
        assert "nested too deeply" in exc.message
        return
    assert program.tree == tree, text
    assert bb.parse(program.text).text == text
    out = bb.evaluate(program, xs)
    assert isinstance(out, int) or all(isinstance(v, int) and abs(v) <= bb.LIMIT for v in out)


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("map(x + 1, xs", "expected ')'", 14),
        ("map(y + 1, xs)", "unknown name 'y'", 5),
        ("filter(x + 1, xs)", "must be a condition", 8),
        ("map(x, sum(xs))", "must be a list", 8),
        ("sum(xs) > 2", "not a condition", 1),
        ("reduce(x, xs)", "unknown function 'reduce'", 1),
        ("sum(xs, xs)", "takes 1 argument", 1),
        ("1 < 2 < 3", "do not chain", None),
        ("sum(xs) $ 2", "unexpected character '$'", 9),
        ("map(x + 99999999999, xs)", "too large", 9),
        ("xs.__class__", "unexpected character '.'", 3),
    ],
)
def test_errors_say_what_is_wrong_and_where(text, fragment, column):
    check = FAMILY.check_rule(text)
    assert check["ok"] is False and fragment in check["error"], check
    if column is not None:
        assert check["column"] == column


@pytest.mark.parametrize(
    "text",
    [
        "1" + "+1" * 499,
        "map(" * 300 + "x" + ", xs)" * 300,
        "sum(" * 45 + "xs" + ")" * 45,
        "-" * 999 + "1",
        "not " * 400 + "1 < 2",
        "x" * 2001,
        "eval('1')",
        "__import__('os')",
        "sum(xs)\nsum(xs)",
    ],
)
def test_hostile_programs_are_refused_before_anything_runs(text):
    with pytest.raises(RuleError) as info:
        bb.parse(text)
    assert info.value.message and info.value.column is not None


def test_evaluation_is_bounded_by_size_times_length():
    """The worst a 1,000 character program can do: every function argument sees only integers,
    so a long chain of maps over the longest list is still (size x length) steps."""
    text = "map(x * x * x + 1, " * 38 + "xs" + ")" * 38
    program = bb.parse(text)
    out = bb.evaluate(program, [20] * 8)
    assert out == [10**9] * 8


# -- tests, the oracle and the judge ---------------------------------------------------------------


def test_tests_are_lists_within_the_instance_bounds():
    inst = make(0, value_range=5, max_length=4)
    assert FAMILY.parse_query(inst.public, "3, -1, 2") == [3, -1, 2]
    assert FAMILY.parse_query(inst.public, "[3 -1 2]") == [3, -1, 2]
    assert FAMILY.parse_query(inst.public, []) == []
    assert FAMILY.parse_query(inst.public, "[]") == []
    for bad, fragment in [
        ([6], "out of range"),
        ([1] * 5, "at most 4"),
        ([1.5], "whole number"),
        ("1, two", "a test is a list"),
        ([True], "whole number"),
        ("", "empty"),
    ]:
        with pytest.raises(QueryError) as info:
            FAMILY.parse_query(inst.public, bad)
        assert fragment in info.value.message


def test_the_judge_says_same_for_programs_that_are_the_same():
    inst = FAMILY.generate(0, FAMILY.validate_params({}))
    hidden = inst.hidden["rule"]
    assert FAMILY.judge(inst, hidden).correct
    object.__setattr__(inst, "hidden", {**inst.hidden, "rule": "map(x * 2, xs)"})
    for same in ("map(x + x, xs)", "zipwith(x + y, xs, xs)", "reverse(reverse(map(2 * x, xs)))"):
        assert FAMILY.judge(inst, same).correct, same


@pytest.mark.parametrize(
    ("hidden", "guess", "cex"),
    [
        ("sum(xs)", "max(xs)", [0, -1]),
        ("sort(xs)", "xs", [1, 0]),
        ("filter(x > 0, xs)", "filter(x >= 0, xs)", [0]),
        ("map(abs(x), xs)", "xs", [-1]),
        ("count(x > 4, xs)", "0", [5]),
        ("take(3, xs)", "xs", [0, 0, 0, 0]),
        ("fold(acc * 2 + x, 0, xs)", "sum(xs)", [1, 0]),
        ("sum(xs)", "sum(xs) + len(filter(x == 7, xs)) * 0 + count(x == 8, drop(4, xs))", [0, 0, 0, 0, 8]),
    ],
)
def test_a_different_program_gets_the_simplest_counterexample(hidden, guess, cex):
    inst = FAMILY.generate(0, FAMILY.validate_params({"value_range": 9, "max_length": 6}))
    object.__setattr__(inst, "hidden", {**inst.hidden, "rule": hidden})
    verdict = FAMILY.judge(inst, guess)
    assert not verdict.correct and verdict.counterexample == cex
    assert (
        verdict.hidden_answer == bb.evaluate(hidden, cex) != verdict.guess_answer == bb.evaluate(guess, cex)
    )
    assert 0 <= verdict.agreement < 1 and verdict.checked > 3000


def test_the_judge_domain_covers_the_edge_cases_and_only_testable_lists():
    pts = bb.domain(9, 6)
    assert () in pts and (0,) in pts and (-9,) in pts and (9, 9, 9, 9, 9, 9) in pts and (-1, -1, -1) in pts
    assert all(len(p) <= 6 and all(-9 <= v <= 9 for v in p) for p in pts)
    assert list(pts) == sorted(pts, key=bb.simplicity_key)
    assert len(pts) > 3500


def test_generation_rejects_constant_and_identity_programs():
    for seed in range(30):
        for depth in (1, 2, 3):
            inst = make(seed, depth=depth, primitives="full")
            outs = {str(bb.evaluate(inst.hidden["rule"], p)) for p in bb._probes(9, 6)}
            assert len(outs) > 2
            assert inst.hidden["rule"] != "xs"


def test_the_search_solver_solves_most_seeds_at_the_lowest_difficulty():
    params = FAMILY.validate_params(dict(FAMILY.variants[0].params))
    results = [play(FAMILY, FAMILY.generate(seed, params), "search", seed=seed) for seed in range(15)]
    assert sum(r["solved"] for r in results) >= 12
    for r in results:  # analytics over answers that are lists and integers
        for step in r["steps"]:
            assert step["p_true"] is None and step["surviving"] <= step["surviving_before"]


def test_the_random_tester_plays_to_a_guess():
    params = FAMILY.validate_params(dict(FAMILY.variants[0].params))
    result = play(FAMILY, FAMILY.generate(5, params), "random", seed=5)
    assert FAMILY.check_rule(result["guess"])["ok"]


def test_random_inputs_reach_every_length_and_both_signs():
    inst = make(0)
    rng = random.Random(0)
    seen = [FAMILY.random_input(rng, inst.public) for _ in range(2000)]
    assert {len(s) for s in seen} == set(range(7))
    assert any(v < 0 for s in seen for v in s) and any(v > 0 for s in seen for v in s)
    assert any(len(s) != len(set(s)) for s in seen)  # duplicates


def test_the_cli_lists_the_solvers_and_plays_each_at_difficulty_1() -> None:
    import json
    import subprocess
    import sys

    def run(*args: str) -> tuple[int, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "games.engine", *args], capture_output=True, text=True, timeout=120
        )
        return proc.returncode, proc.stdout

    code, out = run("families")
    [family] = [f for f in json.loads(out) if f["id"] == "blackbox"]
    assert code == 0 and family["solvers"] == ["random", "search"]
    assert family["variants"] == ["blackbox-level-1", "blackbox-level-2", "blackbox-level-3"]
    for solver in family["solvers"]:
        code, out = run(
            "play", "--family", "blackbox", "--seed", "4", "--difficulty", "1", "--solver", solver
        )
        result = json.loads(out)
        assert code == 0 and result["tests_used"] == len(result["steps"]) and "solved" in result
    code, out = run("play", "--family", "blackbox", "--seed", "4", "--difficulty", "4", "--solver", "search")
    assert code == 2 and "--difficulty for blackbox goes from 1 to 3" in out

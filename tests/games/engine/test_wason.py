"""Family wason: generation, oracle, judge, score, text."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine import exact, get_family
from games.engine.core import Instance, ParamsError, QueryError, RuleError
from games.engine.families import wason
from tests.games.engine.strategies import rules

FAMILY = get_family("wason")


def make(seed: int = 0, **params) -> Instance:
    return FAMILY.generate(seed, FAMILY.validate_params(params))


def test_domain_has_the_documented_parts() -> None:
    pts, n_grid = wason.domain()
    assert n_grid == 41**3 == 68_921
    floats = pts[len(pts) - wason.FLOAT_POINTS :]
    assert np.all((floats > 1) & (floats < 100))
    assert len(pts) >= n_grid + 10_000
    edges = pts[n_grid : len(pts) - wason.FLOAT_POINTS]
    assert any(np.any(e % 1 == 0.5) for e in edges)  # halves
    assert tuple(pts[0]) == (0, 0, 0)  # simplest first


def test_same_seed_same_instance_in_another_process() -> None:
    code = (
        "import json; from games.engine import get_family; f = get_family('wason');"
        "print(json.dumps([f.generate(s, f.validate_params({'tier': t})).to_dict(include_hidden=True)"
        " for t in range(1, 6) for s in range(5)]))"
    )
    other = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    here = [make(s, tier=t).to_dict(include_hidden=True) for t in range(1, 6) for s in range(5)]
    assert json.loads(json.dumps(here)) == other


def test_different_seeds_give_different_rules() -> None:
    assert len({make(s, tier=3).hidden["rule"] for s in range(20)}) > 5


@pytest.mark.parametrize("tier", [1, 2, 3, 4, 5])
def test_every_tier_generates_valid_non_degenerate_rules(tier: int) -> None:
    templates = wason.clause_templates()
    for seed in range(25):
        inst = make(seed, tier=tier)
        rule = wason.parse(inst.hidden["rule"])
        assert rule.text == inst.hidden["rule"]
        truth = wason.truth_on_domain(rule)
        assert 0.001 <= truth.mean() < 1.0
        if tier in (1, 2, 3):
            assert inst.hidden["rule"] in templates[tier]
        if tier == 4:
            assert " and " in inst.hidden["rule"] or " or " in inst.hidden["rule"]
        for example in inst.public["examples"]:
            assert FAMILY.answer(inst, example["input"]) is True


def test_the_hidden_rule_is_not_in_public_info() -> None:
    for seed in range(10):
        inst = make(seed, tier=4)
        assert inst.hidden["rule"] not in json.dumps(inst.public)


def test_custom_rule_param_and_degenerate_rejection() -> None:
    inst = make(1, rule="x<y<z")
    assert inst.hidden["rule"] == "x < y < z"
    with pytest.raises(ParamsError, match="always true"):
        make(1, rule="x == x")
    with pytest.raises(ParamsError, match="not a valid rule"):
        make(1, rule="x <")
    with pytest.raises(ParamsError, match="unknown parameter 'colour'"):
        FAMILY.validate_params({"colour": 1})
    with pytest.raises(ParamsError, match="must be <= 5"):
        FAMILY.validate_params({"tier": 6})


def test_min_true_fraction_is_configurable() -> None:
    strict = [make(s, tier=2, min_true_fraction=0.2).hidden["true_fraction"] for s in range(10)]
    assert min(strict) >= 0.2


def test_oracle_answers_and_rejects_malformed_queries() -> None:
    inst = make(0, rule="x < y < z")
    assert FAMILY.answer(inst, [2, 4, 6]) is True
    assert FAMILY.answer(inst, [6, 4, 2]) is False
    assert FAMILY.answer(inst, "1, 2.5, 3") is True
    assert FAMILY.answer(inst, {"x": 1, "y": 2, "z": 3}) is True
    assert FAMILY.parse_query(inst.public, [1.0, 2.5, 3]) == [1, 2.5, 3]
    for bad, message in [
        ([1, 2], "exactly three numbers"),
        ([1, 2, "a"], "z must be a number"),
        ([1, True, 3], "y must be a number"),
        ([1, 2, float("nan")], "finite"),
        ([1, 2, 10**7], "out of range"),
        ("1, two, 3", "'two' is not a number"),
        (None, "three numbers"),
    ]:
        with pytest.raises(QueryError, match=message):
            FAMILY.parse_query(inst.public, bad)


def test_judge_accepts_equivalent_text_and_returns_simplest_counterexample() -> None:
    inst = make(0, rule="x < y < z")
    assert FAMILY.judge(inst, "y > x and z > y").correct
    wrong = FAMILY.judge(inst, "x < y")
    assert not wrong.correct
    assert wrong.counterexample == [0, 1, 0]
    assert wrong.hidden_answer is False and wrong.guess_answer is True
    assert 0 < wrong.agreement < 1
    with pytest.raises(RuleError):
        FAMILY.judge(inst, "x <")


def test_judge_sees_float_only_differences() -> None:
    inst = make(0, rule="x < y")
    verdict = FAMILY.judge(inst, "x <= y - 1")  # same on integers, differs on floats
    assert not verdict.correct
    x, y, _ = verdict.counterexample
    assert not float(x).is_integer() or not float(y).is_integer()
    assert verdict.agreement == 1.0  # agreement is measured on the integer grid


def _try(text: str):
    try:
        return wason.parse(text)
    except RuleError:
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, rules)
def test_equivalence_is_reflexive_and_symmetric_and_counterexamples_distinguish(a: str, b: str) -> None:
    ra, rb = _try(a), _try(b)
    if ra is None or rb is None:
        return
    assert wason.equivalence(ra, ra)["equivalent"]
    ab, ba = wason.equivalence(ra, rb), wason.equivalence(rb, ra)
    assert ab["equivalent"] == ba["equivalent"]
    assert ab["counterexample"] == ba["counterexample"]
    if not ab["equivalent"]:
        point = ab["counterexample"]
        assert ra.evaluate_point(point) != rb.evaluate_point(point)
        assert ra.evaluate_point(point) == ab["a"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_generated_rules_equal_themselves_and_their_canonical_text(seed: int, tier: int) -> None:
    inst = make(seed, tier=tier)
    assert FAMILY.judge(inst, inst.hidden["rule"]).correct


def test_score() -> None:
    assert FAMILY.score(solved=True, tests_used=0, max_tests=30)["points"] == 100
    assert FAMILY.score(solved=True, tests_used=30, max_tests=30)["points"] == 50
    unsolved = FAMILY.score(solved=False, tests_used=12, max_tests=30, agreement=0.8)
    assert unsolved == {"solved": False, "tests_used": 12, "max_tests": 30, "agreement": 0.8, "points": 0}


def test_text_rendering_for_prompts() -> None:
    inst = make(0, rule="x < y < z")
    text = FAMILY.describe(inst.public)
    assert "30 tests" in text and "x < y < z" not in text
    obs = FAMILY.render_observation(inst.public, [{"input": [1, 2, 3], "result": True}], 29)
    assert "(1, 2, 3) -> True" in obs and "Tests left: 29." in obs
    inst2 = make(0, rule="x % 2 == 0 or z > 5")
    assert "x % 2 == 0 or z > 5" not in FAMILY.describe(inst2.public)
    assert "x % 2 == 0 or z > 5" not in FAMILY.render_observation(inst2.public, [], 30)


def test_quiz_items_are_fixed_and_fresh() -> None:
    # how many fit is left to chance (test_quiz_information: the items say nothing of the rule)
    for seed in range(10):
        inst = make(seed, tier=1 + seed % 5)
        items = FAMILY.quiz_items(inst)
        assert items == FAMILY.quiz_items(make(seed, tier=1 + seed % 5))  # same for every player
        assert len(items) == wason.QUIZ_ITEMS
        assert not {tuple(e["input"]) for e in inst.public["examples"]} & {tuple(q) for q in items}


def test_quiz_score_separates_the_hidden_rule_from_the_stated_one() -> None:
    inst = make(0, rule="x < y < z")
    items = FAMILY.quiz_items(inst)
    truth = [FAMILY.answer(inst, q) for q in items]
    perfect = FAMILY.quiz_score(inst, "x < y", truth)
    assert perfect["correct_vs_hidden"] == len(items) and perfect["accuracy_vs_hidden"] == 1.0
    own = [wason.parse("x < y").evaluate_point(q) for q in items]
    consistent = FAMILY.quiz_score(inst, "x < y", own)
    assert consistent["accuracy_vs_own_rule"] == 1.0
    assert consistent["correct_vs_hidden"] == sum(a == t for a, t in zip(own, truth))
    assert FAMILY.quiz_score(inst, None, truth)["accuracy_vs_own_rule"] is None
    with pytest.raises(QueryError, match="exactly 6 answers"):
        FAMILY.quiz_score(inst, "x < y", [True])
    with pytest.raises(QueryError, match="true or false"):
        FAMILY.quiz_score(inst, "x < y", [1] * len(items))


# -- version 3: exact arithmetic, a judge that never contradicts the oracle ---------------------------


@pytest.mark.parametrize(
    ("hidden", "guess"),
    [
        ("x + y == z", "z - x == y"),
        ("x + y == z", "z - y == x"),
        ("x * 2 == y", "y / 2 == x"),
        ("x < y", "y - x > 0"),
    ],
)
def test_rules_that_are_the_same_in_mathematics_are_the_same_rule(hidden: str, guess: str) -> None:
    inst = make(0, rule=hidden)
    assert inst.version == 3
    assert FAMILY.judge(inst, guess).correct
    for point in ([-3, 0.1, -2.9], [0.1, 0.2, 0.3], [1.5, 3, 4.5], [-0.7, -1.4, -2.1]):
        assert FAMILY.answer(inst, point) == FAMILY.guess_answer(inst, guess, point)


def test_the_oracle_answers_decimals_exactly() -> None:
    inst = make(0, rule="x + y == z")
    assert FAMILY.answer(inst, [-3, 0.1, -2.9]) is True
    assert FAMILY.answer(inst, [0.1, 0.2, 0.3]) is True
    assert FAMILY.answer(inst, [0.1, 0.2, 0.30000000000000004]) is False
    assert "exact" in FAMILY.describe(inst.public)


def test_the_counterexample_is_the_simplest_by_the_documented_order() -> None:
    inst = make(0, rule="y < 5")
    verdict = FAMILY.judge(inst, "y <= 4")
    assert verdict.counterexample == [0, 4.5, 0]
    assert wason.simplicity_key([0, 4.5, 0]) < wason.simplicity_key([0, 4.1, 0])
    assert wason.simplicity_key([1, 1, 1]) < wason.simplicity_key([0, 0.5, 0])  # integers first
    assert wason.simplicity_key([0, 1, 0]) < wason.simplicity_key([0, -1, 0])  # non-negative first
    assert FAMILY.judge(make(0, rule="x < 25"), "x < 30").counterexample == [25, 0, 0]


def test_a_counterexample_is_always_testable_for_the_instance() -> None:
    inst = make(0, rule="x < 50 or x > 150", input_bound=100)
    verdict = FAMILY.judge(inst, "x < 50 or x > 200")  # they differ only past the bound
    assert verdict.correct
    verdict = FAMILY.judge(inst, "x < 40")
    assert verdict.counterexample == [40, 0, 0]
    FAMILY.parse_query(inst.public, verdict.counterexample)
    with pytest.raises(ParamsError, match="always true"):
        make(0, rule="x < 150", input_bound=100)  # no test a player may run says False


def test_old_versions_keep_floating_point_answers() -> None:
    """A version 2 instance (stored before exact arithmetic) is answered and judged as it was."""
    from games.engine.core import Instance

    new = make(0, rule="x + y == z")
    old = Instance(family="wason", version=2, seed=0, params=new.params, public=new.public, hidden=new.hidden)
    assert FAMILY.answer(old, [-3, 0.1, -2.9]) is (-3 + 0.1 == -2.9)
    assert (
        FAMILY.judge(old, "z - x == y").correct
        == wason.equivalence(wason.parse("x + y == z"), wason.parse("z - x == y"))["equivalent"]
    )


decimals = st.one_of(
    st.integers(-40, 40),
    st.integers(-400, 400).map(lambda k: k / 10),
    st.integers(-10_000, 10_000).map(lambda k: k / 100),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, rules, st.lists(st.tuples(decimals, decimals, decimals), min_size=50, max_size=50))
def test_exact_verdicts_agree_with_the_oracle_on_random_decimals(a: str, b: str, probes) -> None:
    ra, rb = _try(a), _try(b)
    if ra is None or rb is None:
        return
    eq = wason.exact_equivalence(ra, rb, agreement=False, cache=False)
    if eq["equivalent"]:
        return  # random rules rarely are; the contract suite checks "same" verdicts on generated rules
    point = eq["counterexample"]
    assert exact.evaluate_point(ra, point) == eq["a"] != exact.evaluate_point(rb, point) == eq["b"]
    key = wason.simplicity_key(point)
    for p in probes:
        if wason.simplicity_key(p) < key and wason.point_class(p) <= 1 and max(abs(v) for v in p) <= 5:
            # the domain holds every integer and half triple in -5..5: none simpler may differ
            assert exact.evaluate_point(ra, p) == exact.evaluate_point(rb, p)


def test_step_analytics_use_the_oracles_arithmetic() -> None:
    """A decimal test the exact oracle answered True keeps ``x + y == z`` alive in the reference
    space (with float arithmetic the hidden rule would have been ruled out)."""
    inst = make(0, rule="x + y == z", examples=0)
    history = [{"input": [-3, 0.1, -2.9], "result": FAMILY.answer(inst, [-3, 0.1, -2.9])}]
    assert history[0]["result"] is True
    space = wason.reference_space()
    alive = space.exact_truth([h["input"] for h in history])[:, 0]
    assert alive[space.texts.index("x + y == z")]
    (step,) = FAMILY.step_analytics(inst.public, history)
    assert step["surviving"] > 0 and not step["space_exhausted"]


def test_the_float_shortcut_on_integers_and_halves_equals_exact_evaluation() -> None:
    """The judge evaluates integer-closed rules in float64 on the domain's integers and halves;
    on every point it must give what the exact evaluator gives."""
    _, nums, dens = wason.exact_domain()
    templates = wason.clause_templates()
    texts = [t for tier in (1, 2, 3, 5) for t in templates[tier]]
    texts += [
        "x * y % 1 == 0.25",
        "(x * y) // z == 2 and x % 1.5 == 0",
        "x * x * x * x * y * y * y * y > 1000",
        "round(x * y) == x * y",
        "floor(x * 3) % 2 == ceil(y) and int(z * z) != round(z * z)",
    ]
    for text in texts:
        rule = wason.parse(text)
        assert np.array_equal(
            wason.exact_evaluator(rule)(nums, dens, 0), exact.compile_exact(rule)(nums, dens)
        ), text


def test_a_hand_written_rule_is_checked_with_its_exact_meaning() -> None:
    with pytest.raises(ParamsError, match="always true"):
        make(0, rule="x + y - y == x")  # floating point would call it sometimes false
    inst = make(0, rule="x + y == z and x == 0.1")  # holds only at decimals: not degenerate
    assert 0 < inst.hidden["true_fraction"] < 0.01


# -- the fast judge against the straightforward one ----------------------------------------------


def _verdict(eq: dict) -> tuple:
    return (eq["equivalent"], eq["counterexample"], eq["a"], eq["b"], eq["grid_agreement"])


def _template_pairs() -> list[tuple[str, str]]:
    """Every template against itself rewritten, a near miss, and other templates (all tiers)."""
    templates = [t for tier in (1, 2, 3, 5) for t in wason.clause_templates()[tier]][::2]
    pairs: list[tuple[str, str]] = []
    for i, t in enumerate(templates):
        pairs.append((t, f"not (not ({t}))"))
        near = t.replace(" < ", " <= ", 1) if " < " in t else t.replace(" > ", " >= ", 1)
        pairs.append((t, near if near != t else f"({t}) != (x == 3 and y == -4 and z == 11)"))
        pairs.append((t, f"({t}) != (x == 0.3 and y == -0.5 and z == 0.2)"))  # one decimal point
        pairs.append((t, templates[(i * 7 + 3) % len(templates)]))
    return pairs


@pytest.mark.parametrize("bound", [1e6, 100.0])
def test_fast_judge_gives_the_straightforward_verdict_on_template_pairs(bound: float) -> None:
    pairs = _template_pairs()
    assert len(pairs) > 200
    outcomes = set()
    for a, b in pairs:
        ra, rb = wason.parse(a), wason.parse(b)
        slow = wason.exact_equivalence(ra, rb, cache=False, input_bound=bound)
        fast = wason.exact_judge(ra, rb, input_bound=bound)
        assert _verdict(fast) == _verdict(slow), (a, b)
        assert fast["checked"] <= slow["checked"]
        if fast["equivalent"]:
            assert fast["checked"] == slow["checked"]  # a "same" verdict looked everywhere
        outcomes.add(
            (fast["equivalent"], None if fast["equivalent"] else wason.point_class(fast["counterexample"]))
        )
    # the pairs reach every stage: same verdicts, and differences among integers and decimals
    assert {(True, None), (False, 0), (False, 2)} <= outcomes


def test_the_judge_reports_checked_up_to_the_stage_holding_the_first_difference() -> None:
    """However the judge splits its evaluator calls, ``checked`` counts the testable points up to
    the end of the stage (``_judge_stages``; the integer triples as one) holding the first
    difference, and the whole testable domain for a "same" verdict."""
    arr, _, _ = wason.exact_domain()
    stages = wason._judge_stages()
    index = {tuple(p): i for i, p in enumerate(arr.tolist())}
    seen = set()
    for bound in (1e6, 100.0):
        counts = wason._testable_counts(bound)
        for a, b in [("y < 5", "y <= 4"), ("x < 5", "x < 5.05"), *_template_pairs()[::3]]:
            fast = wason.exact_judge(wason.parse(a), wason.parse(b), input_bound=bound)
            if fast["equivalent"]:
                assert fast["checked"] == counts[-1]
                continue
            i = index[tuple(int(round(v * wason.SCALE)) for v in fast["counterexample"])]
            end = stages[2] if i < stages[2] else min(e for e in stages if e > i)
            assert fast["checked"] == counts[end], (a, b)
            seen.add(end)
    assert {stages[2], stages[3], stages[4]} <= seen  # among the integers, the halves, the tenths


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, rules, st.sampled_from([1e6, 100.0]))
def test_fast_judge_gives_the_straightforward_verdict_on_random_rules(a: str, b: str, bound: float) -> None:
    ra, rb = _try(a), _try(b)
    if ra is None or rb is None:
        return
    for hidden, guess in ((ra, rb), (rb, ra)):
        slow = wason.exact_equivalence(hidden, guess, cache=False, input_bound=bound)
        fast = wason.exact_judge(hidden, guess, input_bound=bound)
        assert _verdict(fast) == _verdict(slow)
        slow_first = wason.exact_equivalence(hidden, guess, agreement=False, cache=False, input_bound=bound)
        fast_first = wason.exact_judge(hidden, guess, agreement=False, input_bound=bound)
        assert _verdict(fast_first)[:4] == _verdict(slow_first)[:4] == _verdict(slow)[:4]


def test_the_family_judge_is_the_fast_judge() -> None:
    inst = make(0, rule="y < 5")
    verdict = FAMILY.judge(inst, "y <= 4")
    assert verdict.counterexample == [0, 4.5, 0]
    assert verdict.checked < int(wason._testable(1e6).sum())  # stopped at the first differing chunk
    fast = wason.exact_judge(wason.parse("y < 5"), wason.parse("y <= 4"))
    assert (verdict.correct, verdict.agreement) == (fast["equivalent"], fast["grid_agreement"])

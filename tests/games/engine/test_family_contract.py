"""The family contract, checked the same way for every registered family (docs/FAMILIES.md).

A new family module gets these tests without writing any: determinism, non-degenerate generation
at every knob setting, the declared schemas and presentation, parse/print round trips, judge
soundness (a verdict never contradicts the oracle on a testable input; the counterexample is the
simplest difference by the family's declared order) and hostile input to its guess language.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine.core import (
    GUESS_WIDGETS,
    WIDGETS,
    EngineError,
    Family,
    Instance,
    QueryError,
    RuleError,
    all_families,
)

FAMILIES = all_families()
IDS = [f.id for f in FAMILIES]
# Families with a rule to state; a family with the guess widget "none" ends on its test budget
# and is scored from its history (``final_score``), checked below instead.
GUESSING = [f for f in FAMILIES if f.shown.has_guess]
GUESSING_IDS = [f.id for f in GUESSING]
NO_GUESS = [f for f in FAMILIES if not f.shown.has_guess]
NO_GUESS_IDS = [f.id for f in NO_GUESS]
SOUNDNESS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


_VALIDATORS: dict[str, jsonschema.protocols.Validator] = {}


def validate(value: Any, schema: Any) -> None:
    """``jsonschema.validate`` with the schema checked once, not on every call (checking the
    schema was nine tenths of the cost of validating a grid)."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _VALIDATORS:
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATORS[key] = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(_VALIDATORS[key].iter_errors(value))
    if error is not None:
        raise error


def knob_settings(family: Family) -> list[dict[str, Any]]:
    """The defaults, every setting of each difficulty knob, and every value of each enumerated
    param (the knobs that shape a puzzle without ordering its difficulty)."""
    out: list[dict[str, Any]] = [{}]
    for name, values in family.knobs().items():
        out += [{name: v} for v in values]
    for name, spec in family.params_schema.get("properties", {}).items():
        if "enum" in spec and name not in family.knobs():
            out += [{name: v} for v in spec["enum"]]
    return out


def make(family: Family, seed: int, **params: Any) -> Instance:
    return family.generate(seed, family.validate_params(params))


def random_inputs(family: Family, instance: Instance, seed: int, count: int) -> list[Any]:
    rng = random.Random(seed)
    assert family.random_input is not None
    return [family.random_input(rng, instance.public) for _ in range(count)]


def guess_says(family: Family, instance: Instance, guess: str, query: Any) -> Any:
    assert family.guess_answer is not None
    return family.guess_answer(instance, guess, query)


def test_at_least_the_built_in_families_are_registered() -> None:
    assert {"wason", "eleusis"} <= set(IDS)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_declarations_are_complete_and_valid(family: Family) -> None:
    inst = make(family, 0)
    shown = family.shown_for(inst.public)  # a family may shape its presentation per puzzle
    for schema in (shown.input_schema, shown.answer_schema, shown.guess_schema, family.params_schema):
        jsonschema.Draft202012Validator.check_schema(schema)
    assert shown.widget["kind"] in WIDGETS
    assert family.knobs(), "a family declares at least one difficulty knob"
    validate(shown.input_example, shown.input_schema)
    family.parse_query(inst.public, shown.input_example)  # the example test is a valid test
    assert shown.input_placeholder and shown.test_noun
    assert shown.guess_widget["kind"] in GUESS_WIDGETS
    assert family.guesses_allowed(inst.public) >= 1
    if shown.has_guess:
        assert family.check_rule(shown.rule_example)["ok"], "the syntax example must parse"
        assert shown.guess_label and shown.syntax_help
        # the guess in the model's answer format is JSON of the declared guess schema
        validate(json.loads(shown.guess_example_json()), shown.guess_schema)
    else:
        assert family.final_score is not None, "a family with no guess is scored from its history"
        assert "guess" not in shown.answer_format(), "a model is not offered a guess"
    assert shown.test_noun in shown.answer_format()
    json.dumps(shown.to_dict())  # the pages get it as JSON
    assert family.variants, "a family ships published variants"
    assert len({v.slug for v in family.variants}) == len(family.variants)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_generation_is_deterministic_across_processes(family: Family) -> None:
    here = [make(family, seed).to_dict(include_hidden=True) for seed in (0, 1, 99)]
    code = (
        f"import json; from games.engine import get_family; f = get_family({family.id!r}); "
        "print(json.dumps([f.generate(s, f.validate_params({})).to_dict(include_hidden=True) for s in (0, 1, 99)]))"
    )
    there = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    assert json.loads(json.dumps(here)) == there


@pytest.mark.parametrize(
    ("family", "knob"),
    [(f, k) for f in FAMILIES for k in knob_settings(f)],
    ids=[f"{f.id}-{json.dumps(k, sort_keys=True)}" for f in FAMILIES for k in knob_settings(f)],
)
def test_every_knob_setting_generates_non_degenerate_instances(family: Family, knob: dict[str, Any]) -> None:
    for seed in range(6):
        inst = make(family, seed, **knob)
        shown = family.shown_for(inst.public)
        assert inst.version == family.version and inst.family == family.id
        assert inst.hidden["rule"] not in json.dumps(inst.public)
        inputs = [e["input"] for e in inst.public.get("examples") or []]
        inputs += random_inputs(family, inst, seed, 300)
        answers = []
        for query in inputs:
            validate(query, shown.input_schema)
            answer = family.answer(inst, query)
            validate(answer, shown.answer_schema)
            answers.append(json.dumps(answer, sort_keys=True))
        for example in inst.public.get("examples") or []:
            assert family.answer(inst, example["input"]) == example["result"]
        assert len(set(answers)) > 1, f"seed {seed}: the hidden rule answers every input alike"


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_parse_print_round_trips(family: Family) -> None:
    for seed in range(10):
        inst = make(family, seed, **{k: v[-1] for k, v in family.knobs().items()})
        shown = family.shown_for(inst.public)
        if shown.has_guess:
            check = family.check_rule(family.right_guess(inst))
            assert check["ok"] and family.check_rule(check["canonical"])["canonical"] == check["canonical"]
            assert family.judge(inst, check["canonical"]).correct
        for query in random_inputs(family, inst, seed, 50):
            parsed = family.parse_query(inst.public, query)
            assert family.parse_query(inst.public, json.loads(json.dumps(parsed))) == parsed
            assert family.answer(inst, parsed) == family.answer(inst, query)
            assert isinstance(shown.format_input(parsed), str) and shown.format_input(parsed)
            assert isinstance(shown.format_answer(family.answer(inst, parsed)), str)


def _guess_pool(family: Family, knob: dict[str, Any], seeds: range) -> list[Any]:
    guesses = {json.dumps(family.right_guess(make(family, s, **knob))) for s in seeds}
    return [json.loads(g) for g in sorted(guesses)]


RULE_FAMILIES = [f for f in GUESSING if f.solution is None]
ANSWER_FAMILIES = [f for f in GUESSING if f.solution is not None]


@pytest.mark.parametrize("family", ANSWER_FAMILIES, ids=[f.id for f in ANSWER_FAMILIES])
@SOUNDNESS
@given(data=st.data())
def test_an_answer_judge_is_a_match_on_the_solution(family: Family, data: st.DataObject) -> None:
    """A family whose guess is an answer: the solution is right with full credit; any other answer
    is wrong, its partial credit is the share of places that agree, and the counterexample lists
    exactly the places that differ."""
    assert family.solution is not None
    knob = data.draw(st.sampled_from(knob_settings(family)), label="knob")
    seed = data.draw(st.integers(0, 10_000), label="seed")
    inst = make(family, seed, **knob)
    right = family.solution(inst)
    validate(right, family.shown_for(inst.public).guess_schema)
    verdict = family.judge(inst, right)
    assert verdict.correct and verdict.agreement == 1.0 and verdict.counterexample is None
    pool = _guess_pool(family, knob, range(seed + 1, seed + 8))
    guess = data.draw(st.sampled_from(pool), label="guess")
    verdict = family.judge(inst, guess)
    assert verdict.correct == (guess == right)
    if verdict.correct:
        return
    places = verdict.counterexample["cells"]
    assert places and 0.0 <= verdict.agreement < 1.0
    if len(guess) == len(right) and len(guess[0]) == len(right[0]):
        total = len(right) * len(right[0])
        assert all(guess[r][c] != right[r][c] for r, c in places)
        assert verdict.agreement == pytest.approx(1 - len(places) / total, abs=1e-6)
    else:
        assert verdict.agreement == 0.0
    assert (verdict.hidden_answer, verdict.guess_answer) == (right, guess)


@pytest.mark.parametrize("family", RULE_FAMILIES, ids=[f.id for f in RULE_FAMILIES])
@SOUNDNESS
@given(data=st.data())
def test_the_judge_never_contradicts_the_oracle(family: Family, data: st.DataObject) -> None:
    knobs = knob_settings(family)
    knob = data.draw(st.sampled_from(knobs), label="knob")
    seed = data.draw(st.integers(0, 10_000), label="seed")
    inst = make(family, seed, **knob)
    pool = _guess_pool(family, knob, range(seed + 1, seed + 30))
    guess = data.draw(st.sampled_from([inst.hidden["rule"], *pool]), label="guess")
    verdict = family.judge(inst, guess)
    if verdict.correct:
        for query in random_inputs(family, inst, seed, 2000):
            assert family.answer(inst, query) == guess_says(family, inst, guess, query), (
                f"judged the same, but they differ at the testable {query}"
            )
        return
    cex = verdict.counterexample
    family.parse_query(inst.public, cex)  # a test the player could have run
    validate(cex, family.shown_for(inst.public).input_schema)
    hidden, mine = family.answer(inst, cex), guess_says(family, inst, guess, cex)
    assert hidden != mine, f"the counterexample {cex} does not distinguish the rules"
    assert (hidden, mine) == (verdict.hidden_answer, verdict.guess_answer)
    key = family.shown.simplicity_key
    for query in random_inputs(family, inst, seed, 600):
        if key(family.parse_query(inst.public, query)) < key(cex):
            assert family.answer(inst, query) == guess_says(family, inst, guess, query), (
                f"{query} is simpler than the counterexample {cex} and differs too"
            )


HOSTILE_RULES = [
    "",
    " ",
    "(" * 5000 + "1" + ")" * 5000,
    "not " * 3000 + "True",
    "9 ** 9 ** 9 ** 9 ** 9",
    "x" * 100_000,
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "open('/etc/passwd')",
    "[c for c in ()]",
    "\x00",
    "1 +",
    "🙂 == 1",
    "a\nb",
    "f'{1}'",
    "(lambda f: f(f))(lambda f: f(f))",
]


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@pytest.mark.parametrize("text", HOSTILE_RULES, ids=range(len(HOSTILE_RULES)))
def test_hostile_guesses_get_a_clear_error(family: Family, text: str) -> None:
    inst = make(family, 0)
    check = family.check_rule(text)
    assert check["ok"] is False and isinstance(check["error"], str) and check["error"]
    with pytest.raises(RuleError):
        family.judge(inst, text)


HOSTILE_INPUTS: list[Any] = [
    None,
    "",
    "nonsense",
    {},
    {"a": 1},
    [],
    [[]],
    [None] * 4,
    ["1"] * 50,
    [1e400],
    10**400,
    True,
]


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@pytest.mark.parametrize("query", HOSTILE_INPUTS, ids=range(len(HOSTILE_INPUTS)))
def test_hostile_tests_get_a_clear_error(family: Family, query: Any) -> None:
    inst = make(family, 0)
    try:
        validate(query, family.shown_for(inst.public).input_schema)
    except jsonschema.ValidationError:
        pass
    else:  # a valid test for this family (the empty list of ``blackbox``) is answered, not refused
        validate(family.answer(inst, query), family.shown.answer_schema)
        return
    with pytest.raises(QueryError) as info:
        family.answer(inst, query)
    assert isinstance(info.value, EngineError) and info.value.message


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_any_text_either_parses_or_gets_an_error(family: Family, text: str) -> None:
    check = family.check_rule(text)
    assert check["ok"] or (isinstance(check["error"], str) and check["error"])


@pytest.mark.parametrize("family", NO_GUESS, ids=NO_GUESS_IDS)
def test_a_family_with_no_guess_refuses_every_rule_and_scores_from_the_history(family: Family) -> None:
    assert family.final_score is not None
    for seed in range(5):
        inst = make(family, seed)
        max_tests = int(inst.public["max_tests"])
        assert family.check_rule(inst.hidden["rule"])["ok"] is False
        with pytest.raises(RuleError):
            family.judge(inst, inst.hidden["rule"])
        nothing = family.final_score(inst, [], max_tests)
        assert nothing["points"] == 0 and nothing["tests_used"] == 0
        history: list[dict[str, Any]] = []
        for query in random_inputs(family, inst, seed, max_tests):
            history.append({"input": query, "result": family.answer(inst, query)})
        score = family.final_score(inst, history, max_tests)
        assert score["tests_used"] == len(history) and 0 <= score["points"] <= 100
        assert isinstance(score["solved"], bool)
        assert family.score_text(score)
        # the score is a function of the history: the same log always scores the same
        assert family.final_score(inst, json.loads(json.dumps(history)), max_tests) == score


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.check_test is not None],
                         ids=[f.id for f in FAMILIES if f.check_test is not None])  # fmt: skip
def test_random_inputs_pass_the_per_seat_test_check_with_an_empty_history(family: Family) -> None:
    assert family.check_test is not None
    for seed in range(5):
        inst = make(family, seed)
        for query in random_inputs(family, inst, seed, 50):
            family.check_test(inst.public, [], family.parse_query(inst.public, query))


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.test_schema is not None],
                         ids=[f.id for f in FAMILIES if f.test_schema is not None])  # fmt: skip
def test_a_per_seat_test_schema_admits_every_random_input_of_a_fresh_seat(family: Family) -> None:
    """``test_schema`` narrows the presentation's ``input_schema`` to one seat: every input a fresh
    seat may test (``random_input`` draws them) fits it (``validate`` checks the schema itself too)."""
    for seed in range(5):
        inst = make(family, seed)
        schema = family.input_schema_for(inst.public, [])
        for query in random_inputs(family, inst, seed, 50):
            validate(query, schema)

"""Pieces that boolean-rule families share: the score, the rule checker and the scoring of the
application quiz. A family keeps its own domain, grammar, judge and texts."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.core import Presentation, QueryError, RuleError, SolverFactory
from games.engine.dsl import Rule, compile_rule
from games.engine.hypotheses import HypothesisSpace, points_to_columns
from games.engine.solvers import InfoGainSolver, RandomSolver


def score(*, solved: bool, tests_used: int, max_tests: int, agreement: float = 0.0) -> dict[str, Any]:
    """Solved: 50..100 points, fewer tests score more. Unsolved: 0 points; the partial credit
    (the family's agreement measure) is reported beside it."""
    max_tests = max(1, max_tests)
    points = 100 - (50 * min(tests_used, max_tests)) // max_tests if solved else 0
    return {
        "solved": bool(solved),
        "tests_used": int(tests_used),
        "max_tests": int(max_tests),
        "agreement": round(float(1.0 if solved else agreement), 6),
        "points": int(points),
    }


def string_input_presentation(presentation: Presentation, letters: str, longest: int) -> Presentation:
    """``presentation`` with the puzzle's own letters and longest test in the input's schema, so a
    constrained reply writes a test the puzzle takes (llama.cpp's converter reads the pattern and
    drops ``maxLength`` when both are given, so the length is in the pattern)."""
    pattern = f"^[{letters}]{{1,{longest}}}$"
    return dataclasses.replace(
        presentation, input_schema={**presentation.input_schema, "pattern": pattern, "maxLength": longest}
    )


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def scoring_help(max_tests: int) -> str:
    """How ``score`` gives points, in words, before a match."""
    max_tests = max(1, max_tests)
    return (
        f"Scoring: a right guess earns 100 points minus 50 × tests used ÷ {max_tests} (the deduction "
        f"rounded down), so 100 with no tests and 50 with all {plural(max_tests, 'test')}; fewer tests score more. "
        "A wrong guess, or none, earns 0 points; how often it agreed with the hidden rule is shown as "
        "partial credit."
    )


def explain_score(score: Mapping[str, Any]) -> str:
    """One seat's ``score`` dict, worked out in words for the reveal."""
    used, max_tests, points = int(score["tests_used"]), max(1, int(score["max_tests"])), int(score["points"])
    if score.get("solved"):
        return (
            f"Solved with {used} of {plural(max_tests, 'test')}: 100 − 50 × {min(used, max_tests)}/{max_tests} "
            f"= {plural(points, 'point')}."
        )
    agreement = float(score.get("agreement") or 0.0)
    return (
        f"Not solved ({plural(used, 'test')} used): 0 points; partial credit: the guess agreed with the "
        f"hidden rule on {agreement:.0%} of the inputs checked."
    )


def render_observation(
    public: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    tests_left: int,
    *,
    show_input: Callable[[Any], str],
    show_answer: Callable[[Any], str] = str,
) -> str:
    """The observation as text, as a model sees it: the examples, the tests so far and the budget,
    each input and answer written the family's way."""
    lines = []
    examples = public.get("examples") or []
    if examples:
        lines.append("Examples given with the puzzle:")
        lines += [f"  {show_input(e['input'])} -> {show_answer(e['result'])}" for e in examples]
    if history:
        lines.append("Your tests so far:")
        lines += [
            f"  {i}. {show_input(h['input'])} -> {show_answer(h['result'])}" for i, h in enumerate(history, 1)
        ]
    else:
        lines.append("You have not run any tests yet.")
    lines.append(f"Tests left: {tests_left}.")
    return "\n".join(lines)


def check_rule(text: str, parse: Callable[[str], Rule]) -> dict[str, Any]:
    try:
        rule = parse(text)
    except RuleError as exc:
        return {"ok": False, "error": exc.message, "column": exc.column}
    return {"ok": True, "canonical": rule.text, "size": rule.size}


def quiz_rng_key(params: Mapping[str, Any]) -> dict[str, Any]:
    """The params that seed the quiz: all but a hand-written hidden rule, so that not even the
    random stream the items come from depends on the rule."""
    return {k: v for k, v in params.items() if k != "rule"}


def not_examples(
    points: npt.NDArray[np.float64],
    examples: Sequence[Sequence[Any]],
    eligible: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """``eligible`` (all points by default) less the points given as the puzzle's examples."""
    keep = np.ones(len(points), dtype=bool) if eligible is None else eligible.copy()
    for example in examples:
        keep &= ~np.all(points == np.asarray(example, dtype=np.float64), axis=1)
    return keep


def half_true_pick(
    rng: random.Random, *, eligible: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_], count: int
) -> list[int]:
    """Quiz generator version 1: indices of ``count`` eligible points, half where ``truth``
    holds (as many as there are), the rest where it does not, shuffled."""

    def sample(want: bool, k: int) -> list[int]:
        pool = np.flatnonzero(eligible & (truth == want)).tolist()
        return rng.sample(pool, min(k, len(pool)))

    chosen = sample(True, count // 2)
    chosen += sample(False, count - len(chosen))
    rng.shuffle(chosen)
    return chosen


def public_quiz_pick(
    rng: random.Random,
    *,
    eligible: npt.NDArray[np.bool_],
    strata: Sequence[npt.NDArray[np.bool_]],
) -> list[int]:
    """Indices of quiz items drawn from public data only (generator version 2 on).

    ``eligible`` masks the candidate pool (the public examples already removed); each item comes
    from one of ``strata`` (rule-independent shapes such as "two equal components", so the quiz
    is not all one answer for common rules), one item per stratum, in an order the rng shuffles.
    The hidden rule is not an argument: whatever it is, the same seed gives the same items, so
    the items tell a player nothing about it (the version 1 quiz, exactly half fitting, ruled
    out hypotheses worth 2-3 bits before the first test)."""
    order = list(range(len(strata)))
    rng.shuffle(order)
    taken = np.zeros(len(eligible), dtype=bool)
    picked: list[int] = []
    for k in order:
        candidates = np.flatnonzero(eligible & strata[k] & ~taken)
        if len(candidates) == 0:  # a stratum emptied by the examples: any eligible item
            candidates = np.flatnonzero(eligible & ~taken)
        if len(candidates) == 0:
            break
        index = int(candidates[rng.randrange(len(candidates))])
        taken[index] = True
        picked.append(index)
    rng.shuffle(picked)
    return picked


def quiz_score(
    *,
    items: Sequence[Sequence[Any]],
    arity: int,
    hidden: Rule,
    guess: str | None,
    parse: Callable[[str], Rule],
    answers: Sequence[Any],
    evaluate: Callable[[Rule, Sequence[Sequence[Any]]], list[bool]] | None = None,
) -> dict[str, Any]:
    """Score predictions on the quiz items: against the hidden rule (can the player apply the
    true rule?) and against the player's own guess (can it apply the rule it stated?)."""
    if not isinstance(answers, (list, tuple)) or len(answers) != len(items):
        raise QueryError(f"the quiz needs exactly {len(items)} answers (true/false), one per item")
    if not all(isinstance(a, bool) for a in answers):
        raise QueryError("each quiz answer must be true or false")
    if evaluate is None:
        cols = points_to_columns(items, arity)

        def evaluate(rule: Rule, points: Sequence[Sequence[Any]]) -> list[bool]:
            return [bool(v) for v in compile_rule(rule)(cols)]

    hidden_answers = evaluate(hidden, items)
    own: list[bool] | None = None
    if guess:
        try:
            own = evaluate(parse(guess), items)
        except RuleError:
            own = None
    vs_hidden = sum(a == h for a, h in zip(answers, hidden_answers))
    out: dict[str, Any] = {
        "items": list(items),
        "answers": list(answers),
        "hidden_answers": hidden_answers,
        "correct_vs_hidden": vs_hidden,
        "accuracy_vs_hidden": round(vs_hidden / len(items), 6),
        "own_rule_answers": own,
        "correct_vs_own_rule": None,
        "accuracy_vs_own_rule": None,
    }
    if own is not None:
        vs_own = sum(a == o for a, o in zip(answers, own))
        out["correct_vs_own_rule"] = vs_own
        out["accuracy_vs_own_rule"] = round(vs_own / len(items), 6)
    return out


def baseline_solvers(
    reference_space: Callable[[], HypothesisSpace],
    random_test: Callable[[random.Random], list[int | float]],
) -> dict[str, SolverFactory]:
    """The built-in solvers over the family's reference space: ``infogain`` (the most
    informative test each turn) and ``random`` (tests drawn by ``random_test``), both starting
    from the puzzle's public examples."""

    def infogain(public: Mapping[str, Any], seed: int) -> InfoGainSolver:
        return InfoGainSolver(reference_space(), public.get("examples") or [], seed)

    def random_solver(public: Mapping[str, Any], seed: int) -> RandomSolver:
        return RandomSolver(reference_space(), public.get("examples") or [], seed, random_test)

    return {"infogain": infogain, "random": random_solver}

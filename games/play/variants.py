"""Checking and previewing a puzzle variant before players see it: params against the family's
schema, hand-written rules (one, or a rule set) through the engine, and a few seeds played by the
built-in solvers. Reads only the family contract (params_schema, generate, judge, solvers), so it
names no family."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from games.engine.core import EngineError, Family, Instance, get_family

RULE_PARAM = "rule"  # the params key a family reads a hand-written hidden rule from
MAX_RULES = 50
CHECK_SEEDS = (0, 1)
PREVIEW_SEEDS = (0, 1, 2)
# A hidden rule true on (nearly) none or all of the family's domain is a puzzle solved by guessing.
NEARLY_DEGENERATE = 0.01

_PARAM_NAME = re.compile(r"parameter '([^']+)'")


class VariantInvalid(Exception):
    """The variant cannot be saved. ``errors`` maps a field ("family", "rules", "params" or a
    parameter's name) to the engine's messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass
class VariantCheck:
    params: dict[str, Any]
    rules: list[str]
    warnings: list[str] = field(default_factory=list)


def family_takes_rule(family: Family) -> bool:
    return RULE_PARAM in family.params_schema.get("properties", {})


def _field_of(message: str, family: Family) -> str:
    found = _PARAM_NAME.search(message)
    if found and found.group(1) in family.params_schema.get("properties", {}):
        return found.group(1)
    return "params"


def _true_fraction(instance: Instance) -> float | None:
    value = instance.hidden.get("true_fraction")
    return float(value) if isinstance(value, int | float) else None


def variant_check(
    *, family_id: str, params: Mapping[str, Any] | None, rules: Sequence[str] = ()
) -> VariantCheck:
    """Validate a variant as the engine will play it: the params against the family's schema,
    then a puzzle generated for a few seeds (which parses a hand-written rule and refuses a
    degenerate one), then each rule of a rule set. Raises VariantInvalid with the engine's
    messages by field; returns the validated params and warnings (near-degenerate rules, rules
    of the set equivalent to an earlier one)."""
    try:
        family = get_family(family_id)
    except EngineError as exc:
        raise VariantInvalid({"family": [exc.message]}) from None
    try:
        validated = family.validate_params(params or {})
    except EngineError as exc:
        raise VariantInvalid({_field_of(exc.message, family): [exc.message]}) from None
    rules = [r.strip() for r in rules if r.strip()]
    warnings: list[str] = []
    if rules and not family_takes_rule(family):
        raise VariantInvalid({"rules": [f"family {family.id!r} takes no hand-written rule"]})
    if len(rules) > MAX_RULES:
        raise VariantInvalid({"rules": [f"at most {MAX_RULES} rules in a set, got {len(rules)}"]})
    if rules and validated.get(RULE_PARAM):
        raise VariantInvalid({RULE_PARAM: ["give either one rule here or a rule set, not both"]})
    if not rules:
        try:
            instances = [family.generate(seed, validated) for seed in CHECK_SEEDS]
        except EngineError as exc:
            raise VariantInvalid({_field_of(exc.message, family): [exc.message]}) from None
        if validated.get(RULE_PARAM):
            warnings += _degeneracy_warnings(instances[0], "the rule")
        return VariantCheck(params=validated, rules=[], warnings=warnings)

    errors: list[str] = []
    made: list[tuple[int, Instance]] = []
    for number, rule in enumerate(rules, 1):
        try:
            instance = family.generate(0, {**validated, RULE_PARAM: rule})
        except EngineError as exc:
            errors.append(f"rule {number} ({rule}): {exc.message}")
            continue
        warnings += _degeneracy_warnings(instance, f"rule {number} ({rule})")
        made.append((number, instance))
    if errors:
        raise VariantInvalid({"rules": errors})
    for i, (number, instance) in enumerate(made):
        for earlier_number, earlier in made[:i]:
            if family.judge(earlier, instance.hidden[RULE_PARAM]).correct:
                warnings.append(
                    f"rule {number} ({rules[number - 1]}) is equivalent to rule {earlier_number} "
                    f"({rules[earlier_number - 1]}): seeds drawing either play the same puzzle"
                )
                break
    if len(rules) == 1:
        warnings.append("a rule set of one rule: every seed plays the same rule")
    return VariantCheck(params=validated, rules=rules, warnings=warnings)


def _degeneracy_warnings(instance: Instance, what: str) -> list[str]:
    fraction = _true_fraction(instance)
    if fraction is None:
        return []
    if fraction < NEARLY_DEGENERATE:
        return [f"{what} is nearly degenerate: true on only {fraction:.2%} of the domain"]
    if fraction > 1 - NEARLY_DEGENERATE:
        return [f"{what} is nearly degenerate: true on {fraction:.2%} of the domain"]
    return []


def fixed_rule(*, params: Mapping[str, Any], rules: Sequence[str]) -> str | None:
    """The rule every seed plays, when there is only one (a tournament over it plays one puzzle)."""
    if len(rules) == 1:
        return rules[0]
    if not rules and params.get(RULE_PARAM):
        return str(params[RULE_PARAM])
    return None


# -- preview ------------------------------------------------------------------------------------


@dataclass
class SolverRun:
    solver: str
    tests_used: int
    guess: str | None
    correct: bool | None
    agreement: float | None
    error: str = ""


@dataclass
class SeedPreview:
    seed: int
    hidden: dict[str, Any]
    examples: list[Any]
    sample_answers: list[dict[str, Any]]
    solvers: list[SolverRun]
    error: str = ""


def _play(family: Family, instance: Instance, solver_name: str, max_tests: int) -> tuple[SolverRun, list]:
    history: list[dict[str, Any]] = []
    solver = family.make_solver(solver_name, instance.public, instance.seed)
    try:
        for _ in range(max_tests + 1):
            action = solver.act(history, max_tests - len(history))
            if action.get("type") == "test" and len(history) < max_tests:
                query = family.parse_query(instance.public, action["input"])
                history.append({"input": query, "result": family.answer(instance, query)})
                continue
            rule = action.get("rule") if action.get("type") == "guess" else None
            if rule is None:
                break
            verdict = family.judge(instance, rule)
            return SolverRun(solver_name, len(history), rule, verdict.correct, verdict.agreement), history
    except EngineError as exc:
        return SolverRun(solver_name, len(history), None, None, None, error=exc.message), history
    if family.final_score is not None and not family.shown_for(instance.public).has_guess:
        # No rule to state: the budget is spent; the share found stands for the agreement.
        score = family.final_score(instance, history, max_tests)
        return SolverRun(solver_name, len(history), None, bool(score["solved"]), score["agreement"]), history
    return SolverRun(solver_name, len(history), None, False, None, error="made no guess"), history


def variant_preview(
    *,
    family_id: str,
    params: Mapping[str, Any],
    rules: Sequence[str] = (),
    seeds: Sequence[int] = PREVIEW_SEEDS,
) -> list[SeedPreview]:
    """For each seed: the hidden rule, the starting examples, a sample of oracle answers (the
    first tests of the random solver) and what each built-in solver makes of it."""
    family = get_family(family_id)
    out: list[SeedPreview] = []
    for seed in seeds:
        seed_params = dict(params)
        if rules:
            seed_params[RULE_PARAM] = rules[seed % len(rules)]
        try:
            instance = family.generate(seed, family.validate_params(seed_params))
        except EngineError as exc:
            out.append(SeedPreview(seed, {}, [], [], [], error=exc.message))
            continue
        max_tests = int(instance.public.get("max_tests", 30))
        runs, samples = [], []
        for name in sorted(family.solvers):
            run, history = _play(family, instance, name, max_tests)
            runs.append(run)
            if not samples or name == "random":
                samples = history[:6]
        out.append(
            SeedPreview(
                seed=seed,
                hidden=instance.hidden,
                examples=list(instance.public.get("examples") or []),
                sample_answers=samples,
                solvers=runs,
            )
        )
    return out

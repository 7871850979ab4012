"""Run a whole game by a baseline solver, in-process (CLI, benchmarks, tests)."""

from __future__ import annotations

from typing import Any

from games.engine.core import Family, Instance


def play(family: Family, instance: Instance, solver_name: str, *, seed: int = 0) -> dict[str, Any]:
    """Let ``solver_name`` play ``instance`` to the end: the solver sees only the
    public info and its own history, exactly like any other player."""
    solver = family.make_solver(solver_name, instance.public, seed)
    max_tests = int(instance.public["max_tests"])
    history: list[dict[str, Any]] = []
    if family.final_score is not None and not family.shown_for(instance.public).has_guess:
        # No rule to state: the solver tests until the budget is spent.
        while len(history) < max_tests:
            action = solver.act(history, max_tests - len(history))
            query = family.parse_query(instance.public, action["input"])
            history.append({"input": query, "result": family.answer(instance, query)})
        score = family.final_score(instance, history, max_tests)
        return {
            "solved": score["solved"],
            "tests_used": len(history),
            "guess": None,
            "verdict": None,
            "score": score,
            "steps": family.step_analytics(instance.public, history),
        }
    rule: str | None = None
    while True:
        action = solver.act(history, max_tests - len(history))
        if action["type"] == "test" and len(history) < max_tests:
            query = family.parse_query(instance.public, action["input"])
            history.append({"input": query, "result": family.answer(instance, query)})
            continue
        rule = action.get("rule") if action["type"] == "guess" else None
        break
    if rule is None:  # pragma: no cover - solvers always end with a guess
        rule = solver.act(history, 0)["rule"]
    verdict = family.judge(instance, rule)
    analytics = family.step_analytics(instance.public, history)
    return {
        "solved": verdict.correct,
        "tests_used": len(history),
        "guess": rule,
        "verdict": verdict.to_dict(),
        "score": family.score(
            solved=verdict.correct, tests_used=len(history), max_tests=max_tests, agreement=verdict.agreement
        ),
        "steps": analytics,
    }

"""Benchmark: every registered puzzle family, through the engine's public API only.

For each family in the registry (``games.engine.all_families()``: a family added to
``games/engine/families/`` is measured without touching this file) it prints one JSON line:

* ``generate_ms``: mean time of ``family.generate(seed, params)`` over the seeds and settings;
* ``judge_ms_per_guess``: mean time of ``family.judge(instance, guess)`` over a mixed set of
  guesses: each baseline solver's final guess (right or wrong) and the hidden rule's own text
  (a "same" verdict, which has to look at the whole domain), judged once each;
  ``judge_ms_first_guess`` is the first guess judged on an instance (it pays for the hidden
  rule's answers where a family keeps them), ``judge_ms_further_guess`` the others;
* ``difficulty``: for every difficulty knob the family declares (``"x-knob": true`` in its
  params schema, ``Family.knobs()``; other knobs at their defaults), for every setting, each
  baseline solver's solve rate over ``--seeds`` seeds (games played exactly as
  ``python -m games.engine play`` plays them: the solver sees the public info and its own
  history, tests until it guesses, the judge decides), its mean tests used, and whether the
  solve rate falls as the knob rises (``rises``: the solvers' mean rate at the lowest setting
  is above it at the highest, and ``monotone``: it never goes up from one setting to the next;
  ``trend_per_solver`` says the same of each solver);
* ``variants``: the same for the family's shipped variants in their declared order (easiest
  first), and ``variants_rise``; a variant whose params equal a knob setting's is played once;

* ``judge_vs_python`` (wason): the judge against per-point Python evaluation of the same domain
  (``bench_rule_equiv``'s baseline: each rule compiled once with Python's ``compile``/``eval``,
  called on every point of the exact domain, the integer grid's agreement counted), on the same
  guesses in the same run: every ``--python-every``-th judged guess (default 5), both timed back
  to back on each guess; ``speedup`` is the ratio of the mean wall-clock times,
  ``speedup_cpu`` of the mean process times (steadier on a shared machine), and
  ``verdicts_identical`` counts the guesses where both give the same verdict and counterexample
  (the Python baseline uses floating point, so on decimals it may differ from the exact judge).

Times are wall-clock means in this run (compare families with each other, not with other
machines). Bounded: ``--seeds`` (default 30) seeds per setting, ``--families`` to pick some,
``--max-tests`` to cap a game's test budget (default: the family's own). A family may declare a
fixed test set of its own (``extras["bench_corpus"]``: ``arc``'s search solver on the 400
ARC-AGI-1 training tasks, about a quarter of an hour), reported under ``corpus``. With the default
settings the six rule families take about 15 minutes on one busy core (rewrite and wason the
longest); ``--families`` in two processes halves that.

A family with no rule to state (guess widget "none", scored by ``final_score``: ``alchemy``) gets
another line (``bench_explorers``): per knob setting and per budget (10, 20, 40 tests), each
solver's mean discoveries and points, and the ratio of each solver's discoveries to ``random``'s.

Run: ``python tests/bench/bench_families.py [--seeds N] [--families wason,eleusis]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(1, str(Path(__file__).resolve().parent))  # bench_rule_equiv's Python baseline

from games.engine.core import EngineError, Family, Instance, all_families  # noqa: E402


def play_game(family: Family, instance: Instance, solver_name: str, seed: int) -> tuple[Any, int]:
    """One game, as ``games.engine.play.play`` plays it (without the per-step analytics):
    the solver's final guess and the tests it used. Where the family allows several guesses
    (``Family.attempts``) a wrong one is followed by the next, as the arena plays them; the
    guess returned is the first right one, else the last."""
    solver = family.make_solver(solver_name, instance.public, seed)
    max_tests = int(instance.public.get("max_tests", 30))
    allowed = family.guesses_allowed(instance.public)
    history: list[dict[str, Any]] = []
    wrong: list[Any] = []
    while True:
        left = max_tests - len(history)
        action = solver.act(history, left, guesses=wrong) if wrong else solver.act(history, left)  # type: ignore[call-arg]
        if action["type"] == "test" and len(history) < max_tests:
            query = family.parse_query(instance.public, action["input"])
            history.append({"input": query, "result": family.answer(instance, query)})
            continue
        guess = action["rule"] if action["type"] == "guess" else solver.act(history, 0)["rule"]
        if len(wrong) + 1 >= allowed or family.judge(instance, guess).correct:
            return guess, len(history)
        wrong.append(guess)


def _trend(rates: list[float]) -> dict[str, bool]:
    return {
        "rises": len(rates) > 1 and rates[0] > rates[-1],
        "monotone": all(b <= a for a, b in zip(rates, rates[1:])),
    }


def judge_vs_python(family: Family, judged: list[tuple[Instance, str, float]], every: int) -> dict[str, Any]:
    """The wason judge's times on a sample of the guesses against per-point Python evaluation
    of the same exact domain, both on the same guesses."""
    import bench_rule_equiv as baseline  # noqa: PLC0415 - only wason has this baseline

    from games.engine.families import wason  # noqa: PLC0415

    scaled, _, _ = wason.exact_domain()
    points = [tuple(v / wason.SCALE for v in p) for p in scaled.tolist()]
    grid = wason._exact_grid_mask().tolist()
    sample = judged[::every]
    judge_ms: list[float] = []
    python_ms: list[float] = []
    judge_cpu: list[float] = []
    python_cpu: list[float] = []
    identical = 0
    for instance, guess, _ in sample:
        # both sides timed back to back on each guess, so a busy machine slows them alike; the
        # process time (CPU spent by this process) is reported too, as the steadier measure
        t, c = time.perf_counter(), time.process_time()
        same, counterexample, _ = baseline.python_eval_judge(instance.hidden["rule"], guess, points, grid)
        python_ms.append((time.perf_counter() - t) * 1000)
        python_cpu.append((time.process_time() - c) * 1000)
        t, c = time.perf_counter(), time.process_time()
        verdict = family.judge(instance, guess)
        judge_ms.append((time.perf_counter() - t) * 1000)
        judge_cpu.append((time.process_time() - c) * 1000)
        identical += (verdict.correct, verdict.counterexample) == (same, counterexample)
    return {
        "guesses": len(sample),
        "domain_points": len(points),
        "judge_ms_mean": round(statistics.mean(judge_ms), 3),
        "python_ms_mean": round(statistics.mean(python_ms), 3),
        "speedup": round(statistics.mean(python_ms) / statistics.mean(judge_ms), 1),
        "judge_cpu_ms_mean": round(statistics.mean(judge_cpu), 3),
        "python_cpu_ms_mean": round(statistics.mean(python_cpu), 3),
        "speedup_cpu": round(statistics.mean(python_cpu) / max(statistics.mean(judge_cpu), 1e-9), 1),
        "verdicts_identical": identical,
        "target": "speedup >= 50",
    }


def bench_family(family: Family, seeds: int, max_tests: int | None, python_every: int = 5) -> dict[str, Any]:
    gen_ms: list[float] = []
    judge_ms: list[float] = []
    judge_first_ms: list[float] = []  # the first guess judged on an instance (a family may keep
    # the hidden rule's answers for later guesses: wason does)
    verdicts = {"same": 0, "different": 0}
    judged: list[tuple[Instance, str, float]] = []  # (instance, guess, judge ms), in order
    difficulty: dict[str, Any] = {}
    knobs = family.knobs()
    solvers = sorted(family.solvers)
    played: dict[str, dict[str, Any]] = {}  # by validated params: a variant may be a knob setting

    def level(params: dict[str, Any]) -> dict[str, Any]:
        if max_tests is not None and "max_tests" in family.params_schema.get("properties", {}):
            params = {**params, "max_tests": min(int(params.get("max_tests", max_tests)), max_tests)}
        params = family.validate_params(params)
        key = json.dumps(params, sort_keys=True)
        if key in played:
            return played[key]
        solved = {s: 0 for s in solvers}
        tests_used: dict[str, list[int]] = {s: [] for s in solvers}
        failed = 0
        for seed in range(seeds):
            t = time.perf_counter()
            try:
                instance = family.generate(seed, params)
            except EngineError:
                failed += 1
                continue
            gen_ms.append((time.perf_counter() - t) * 1000)
            guesses = [family.right_guess(instance)] if "rule" in instance.hidden else []
            for i, name in enumerate(solvers):
                guess, used = play_game(family, instance, name, seed)
                tests_used[name].append(used)
                t = time.perf_counter()
                verdict = family.judge(instance, guess)
                ms = (time.perf_counter() - t) * 1000
                (judge_first_ms if i == 0 else judge_ms).append(ms)
                judged.append((instance, guess, ms))
                solved[name] += bool(verdict.correct)
                verdicts["same" if verdict.correct else "different"] += 1
            for guess in guesses:
                t = time.perf_counter()
                verdict = family.judge(instance, guess)
                ms = (time.perf_counter() - t) * 1000
                judge_ms.append(ms)
                judged.append((instance, guess, ms))
                verdicts["same" if verdict.correct else "different"] += 1
        games = seeds - failed
        played[key] = {
            "games": games,
            "generate_failures": failed,
            "solve_rate": {s: round(solved[s] / games, 3) if games else None for s in solvers},
            "tests_used_mean": {
                s: round(statistics.mean(tests_used[s]), 1) if tests_used[s] else None for s in solvers
            },
        }
        return played[key]

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        per_solver = {s: _trend([r["solve_rate"][s] or 0.0 for r in rows]) for s in solvers}
        mean_rates = [
            round(statistics.mean(r["solve_rate"][s] or 0.0 for s in solvers), 3) if solvers else 0.0
            for r in rows
        ]
        return {
            "levels": rows,
            "mean_solve_rate": mean_rates,
            "trend_per_solver": per_solver,
            **_trend(mean_rates),
        }

    for knob, settings in knobs.items():
        difficulty[knob] = summary([{"setting": v, **level({knob: v})} for v in settings])
    # the shipped variants, in the order the family declares them (easiest first)
    # (the guided first puzzle, a fixed easy rule, is not one of the levels)
    levels = [v for v in family.variants if not v.tutorial]
    variants = summary([{"variant": v.slug, **level(dict(v.params))} for v in levels])
    extra: dict[str, Any] = {}
    if family.id == "wason" and judged and python_every > 0:
        extra["judge_vs_python"] = judge_vs_python(family, judged, python_every)
    return {
        "bench": "families",
        "family": family.id,
        "version": family.version,
        "seeds_per_setting": seeds,
        "solvers": solvers,
        "knobs": {k: v for k, v in knobs.items()},
        "generate_ms": round(statistics.mean(gen_ms), 3) if gen_ms else None,
        "judge_ms_per_guess": round(statistics.mean(judge_ms + judge_first_ms), 3) if judge_ms else None,
        "judge_ms_first_guess": round(statistics.mean(judge_first_ms), 3) if judge_first_ms else None,
        "judge_ms_further_guess": round(statistics.mean(judge_ms), 3) if judge_ms else None,
        "judge_ms_p90": round(statistics.quantiles(judge_ms + judge_first_ms, n=10)[-1], 3)
        if len(judge_ms) > 1
        else None,
        "judged_guesses": len(judge_ms) + len(judge_first_ms),
        "verdict_mix": verdicts,
        "difficulty": difficulty,
        "variants": variants,
        "difficulty_rises": all(d["rises"] for d in difficulty.values()) if difficulty else None,
        "variants_rise": variants["rises"] if len(levels) > 1 else None,
        # a family's own fixed test set, where it declares one (arc: the 400 ARC-AGI-1 training tasks)
        **({"corpus": family.extras["bench_corpus"]()} if "bench_corpus" in family.extras else {}),
        **extra,
    }


EXPLORER_BUDGETS = (10, 20, 40)


def explore_game(
    family: Family, instance: Instance, solver_name: str, seed: int, budget: int
) -> dict[str, Any]:
    """One game of a family with no rule to state: the solver tests until ``budget`` is spent;
    the family's ``final_score`` of the history."""
    assert family.final_score is not None
    solver = family.make_solver(solver_name, instance.public, seed)
    history: list[dict[str, Any]] = []
    while len(history) < budget:
        query = family.parse_query(instance.public, solver.act(history, budget - len(history))["input"])
        history.append({"input": query, "result": family.answer(instance, query)})
    return family.final_score(instance, history, budget)


def bench_explorers(family: Family, seeds: int) -> dict[str, Any]:
    """A family scored from its history (no guess, e.g. ``alchemy``): for every knob setting and
    every budget in ``EXPLORER_BUDGETS``, each solver's mean discoveries and points over ``seeds``
    seeds, and the ratio of the best solver's discoveries to the first one's (``random`` first)."""
    solvers = sorted(family.solvers, key=lambda name: (name != "random", name))
    gen_ms: list[float] = []
    knobs: dict[str, Any] = {}
    for knob, settings in family.knobs().items():
        rows = []
        for setting in settings:
            params = family.validate_params({knob: setting})
            found: dict[tuple[str, int], list[int]] = {(s, b): [] for s in solvers for b in EXPLORER_BUDGETS}
            points: dict[tuple[str, int], list[int]] = {(s, b): [] for s in solvers for b in EXPLORER_BUDGETS}
            for seed in range(seeds):
                t = time.perf_counter()
                instance = family.generate(seed, params)
                gen_ms.append((time.perf_counter() - t) * 1000)
                for name in solvers:
                    for budget in EXPLORER_BUDGETS:
                        score = explore_game(family, instance, name, seed, budget)
                        found[(name, budget)].append(int(score.get("discovered", 0)))
                        points[(name, budget)].append(int(score["points"]))
            per_budget = {}
            for budget in EXPLORER_BUDGETS:
                means = {s: round(statistics.mean(found[(s, budget)]), 2) for s in solvers}
                per_budget[str(budget)] = {
                    "discovered_mean": means,
                    "points_mean": {s: round(statistics.mean(points[(s, budget)]), 1) for s in solvers},
                    "ratio_vs_" + solvers[0]: {
                        s: round(means[s] / means[solvers[0]], 3) if means[solvers[0]] else None
                        for s in solvers[1:]
                    },
                }
            rows.append({"setting": setting, "games": seeds, "budgets": per_budget})
        knobs[knob] = rows
    return {
        "bench": "families",
        "family": family.id,
        "version": family.version,
        "kind": "explorers: no rule to state, scored from the history (discoveries per budget)",
        "seeds_per_setting": seeds,
        "solvers": solvers,
        "budgets": list(EXPLORER_BUDGETS),
        "knobs": family.knobs(),
        "generate_ms": round(statistics.mean(gen_ms), 3) if gen_ms else None,
        "difficulty": knobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--seeds", type=int, default=30, help="seeds per knob setting (at least 30 for the report)"
    )
    parser.add_argument(
        "--families", default="", help="comma-separated family ids (default: every registered one)"
    )
    parser.add_argument("--max-tests", type=int, default=None, help="cap each game's test budget")
    parser.add_argument(
        "--python-every",
        type=int,
        default=5,
        help="wason: time per-point Python evaluation on every N-th judged guess (0: not at all)",
    )
    args = parser.parse_args()
    wanted = {f for f in args.families.split(",") if f}
    for family in all_families():
        if wanted and family.id not in wanted:
            continue
        t = time.perf_counter()
        if family.shown.has_guess:
            result = bench_family(family, args.seeds, args.max_tests, args.python_every)
        else:
            result = bench_explorers(family, args.seeds)
        result["bench_seconds"] = round(time.perf_counter() - t, 1)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

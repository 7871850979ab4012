"""Benchmark: the ``subregular`` family.

Prints one JSON line: generation time, the exact judge's time per guess on a mixed set of guesses
(the hidden rule, other seeds' rules, hand-written ones) against evaluating every testable string
one by one in Python (the baseline, same run, same verdicts), and each baseline solver's solve rate
and mean tests used at each shipped difficulty level over ``--seeds`` seeds.

Run: ``python tests/bench/bench_subregular.py [--seeds 30]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from games.engine import get_family  # noqa: E402
from games.engine.families import subregular as sr  # noqa: E402
from games.engine.play import play  # noqa: E402


def per_string(hidden: sr.LocalRules, guess: sr.LocalRules, alphabet: str, max_length: int) -> str | None:
    for n in range(1, max_length + 1):
        for letters in itertools.product(alphabet, repeat=n):
            word = "".join(letters)
            if hidden.apply(word) != guess.apply(word):
                return word
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    args = parser.parse_args()
    family = get_family("subregular")
    out: dict[str, object] = {"family": "subregular", "seeds": args.seeds}

    params = family.validate_params(dict(family.variants[1].params))
    start = time.perf_counter()
    instances = [family.generate(s, params) for s in range(args.seeds)]
    out["generate_ms"] = round((time.perf_counter() - start) * 1000 / args.seeds, 3)

    # judge: a mixed set of guesses against each instance, checked against per-string evaluation
    judge_s = baseline_s = 0.0
    pairs = 0
    for i, inst in enumerate(instances[:10]):
        guesses = [
            inst.hidden["rule"],
            instances[(i + 1) % len(instances)].hidden["rule"],
            "c:c -> a",
            "OSL; ab:c -> b",
        ]
        alphabet, max_length = inst.public["symbols"], int(inst.public["max_length"])
        for guess in guesses:
            t0 = time.perf_counter()
            verdict = family.judge(inst, guess)
            t1 = time.perf_counter()
            slow = per_string(sr.parse(inst.hidden["rule"]), sr.parse(guess), alphabet, max_length)
            t2 = time.perf_counter()
            assert slow == verdict.counterexample, (guess, slow, verdict.counterexample)
            judge_s += t1 - t0
            baseline_s += t2 - t1
            pairs += 1
    out["judge_ms_per_guess"] = round(judge_s * 1000 / pairs, 3)
    out["per_string_ms_per_guess"] = round(baseline_s * 1000 / pairs, 3)
    out["judge_speedup"] = round(baseline_s / judge_s, 1)

    # a hostile guess: the most rules with the longest contexts, at the largest knobs
    rng = random.Random(1)
    big = family.generate(0, family.validate_params({"k": 4, "alphabet": 5, "rules": 6, "max_length": 16}))
    windows: set[tuple[str, str]] = set()
    while len(windows) < sr.MAX_RULES:
        windows.add(("".join(rng.choice("abcde") for _ in range(sr.MAX_CONTEXT)), rng.choice("abcde")))
    for mode in ("ISL", "OSL"):
        hostile = f"{mode}; " + "; ".join(f"{c}:{s} -> {rng.choice('abcde')}" for c, s in sorted(windows))
        t0 = time.perf_counter()
        family.judge(big, hostile)
        out[f"hostile_{mode.lower()}_judge_ms"] = round((time.perf_counter() - t0) * 1000, 1)

    levels = {}
    for variant in family.variants:
        p = family.validate_params(dict(variant.params))
        row = {}
        for solver in sorted(family.solvers):
            games = [play(family, family.generate(s, p), solver, seed=s) for s in range(args.seeds)]
            row[solver] = {
                "solve_rate": round(sum(g["solved"] for g in games) / len(games), 3),
                "mean_tests": round(sum(g["tests_used"] for g in games) / len(games), 2),
            }
        levels[variant.slug] = row
    out["levels"] = levels
    print(json.dumps(out))


if __name__ == "__main__":
    main()

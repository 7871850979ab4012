"""Benchmark: the information-gain baseline against the random tester.

Plays every tier of ``wason`` for ``--seeds`` seeds with both solvers in the
same run and prints one JSON line: solve rate and mean tests used per tier and
solver, and the ratio of tests used (infogain / random).

Run: ``python tests/bench/bench_infogain.py [--seeds 50]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from games.engine import get_family  # noqa: E402
from games.engine.play import play  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--tiers", default="1,2,3,4,5")
    args = parser.parse_args()
    family = get_family("wason")
    family.extras["reference_space"]()  # build once, outside the timings
    tiers: dict[str, dict] = {}
    for tier in [int(t) for t in args.tiers.split(",")]:
        row: dict[str, dict] = {}
        for solver in ("infogain", "random"):
            solved, used, seconds = [], [], []
            for seed in range(args.seeds):
                instance = family.generate(seed, family.validate_params({"tier": tier}))
                start = time.perf_counter()
                result = play(family, instance, solver, seed=seed)
                seconds.append(time.perf_counter() - start)
                solved.append(result["solved"])
                used.append(result["tests_used"])
            row[solver] = {
                "solve_rate": round(sum(solved) / len(solved), 3),
                "mean_tests": round(statistics.mean(used), 2),
                "mean_tests_when_solved": round(statistics.mean([u for u, s in zip(used, solved) if s]), 2)
                if any(solved)
                else None,
                "ms_per_game": round(1000 * statistics.mean(seconds), 1),
            }
        row["tests_ratio_infogain_over_random"] = round(
            row["infogain"]["mean_tests"] / row["random"]["mean_tests"], 3
        )
        tiers[str(tier)] = row
    print(
        json.dumps(
            {
                "bench": "infogain",
                "family": "wason",
                "seeds": args.seeds,
                "budget": 30,
                "tiers": tiers,
                "target": "infogain solves most tier 1-2 rules within 30 tests and uses fewer tests than random",
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: the rating fits (games/competition/ratings.py) at the size issue 14 names.

* Joint ability/difficulty fit: 100,000 seats (1,000 players x 500 instances in 10 variants,
  100 seats a player), simulated from known abilities; the fit and 100 bootstrap rounds
  (resampling matches).
* Bradley-Terry: 100,000 pairwise outcomes among 50 contestants (10,000 races of 5, 10 pairs
  each); the fit and 100 bootstrap rounds (resampling races).
* Baseline, in the same run on the same battles: a plain Bradley-Terry maximum-likelihood fit by
  logistic regression over the battle rows (scikit-learn's ``LogisticRegression``, no penalty,
  no intercept, as Chatbot Arena's notebook does it), once and for ``--baseline-rounds``
  bootstrap rounds (per round figures are compared).

Wall and CPU seconds are both printed: the machine is shared, so CPU seconds are the steadier
figure. Target: the joint fit plus 100 bootstrap rounds in under 10 s.

Prints one JSON line. Run: ``python tests/bench/bench_ratings.py [--rounds 100]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from games.competition import ratings  # noqa: E402


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def seats_data(rng: np.random.Generator):
    players, items, variants, per_player = 1000, 500, 10, 100
    ability = rng.normal(0.0, 1.0, players)
    item_variant = rng.integers(0, variants, items)
    difficulty = rng.normal(0.0, 0.7, variants)[item_variant] + rng.normal(0.0, 0.5, items)
    player = np.repeat(np.arange(players), per_player)
    item = np.concatenate([rng.choice(items, per_player, replace=False) for _ in range(players)])
    y = (rng.random(player.size) < 1.0 / (1.0 + np.exp(-(ability[player] - difficulty[item])))).astype(float)
    data = ratings.SeatData.build(
        player=player, item=item, cluster=np.arange(player.size), y=y, item_variant=item_variant
    )
    return data, ability


def battles(rng: np.random.Generator):
    contestants, races, per_race = 50, 10_000, 5
    strength = rng.normal(0.0, 1.0, contestants)
    winners, losers, clusters = [], [], []
    for race in range(races):
        seated = rng.choice(contestants, per_race, replace=False)
        perf = strength[seated] + rng.logistic(0.0, 1.0, per_race)  # a random-utility race
        order = seated[np.argsort(-perf)]
        for i in range(per_race):
            for j in range(i + 1, per_race):
                winners.append(order[i])
                losers.append(order[j])
                clusters.append(race)
    pairs = ratings.PairData.build(winner=winners, loser=losers, cluster=clusters, n_players=contestants)
    return pairs, strength


def logistic_regression_bt(pairs: ratings.PairData, rows: np.ndarray):
    import sklearn
    from sklearn.linear_model import LogisticRegression

    # Each battle once, in a random orientation, so both classes occur: +1 for the first, -1 for
    # the second, label 1 when the first won.
    n = rows.size
    flip = np.random.default_rng(1).random(n) < 0.5
    first = np.where(flip, pairs.loser[rows], pairs.winner[rows])
    second = np.where(flip, pairs.winner[rows], pairs.loser[rows])
    x = np.zeros((n, pairs.n_players))
    x[np.arange(n), first] = 1.0
    x[np.arange(n), second] = -1.0
    # No penalty: C=inf from scikit-learn 1.8 (penalty=None is deprecated there), penalty=None before.
    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    unpenalised = {"C": np.inf} if (major, minor) >= (1, 8) else {"penalty": None}
    model = LogisticRegression(fit_intercept=False, tol=1e-6, **unpenalised)
    model.fit(x, (~flip).astype(int))
    return model.coef_[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--baseline-rounds", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    data, ability = seats_data(rng)
    pairs, strength = battles(rng)

    (fit, _), fit_wall, fit_cpu = timed(lambda: ratings.fit_abilities(data))
    result, joint_wall, joint_cpu = timed(
        lambda: ratings.abilities_with_intervals(data, rounds=args.rounds, seed=1)
    )
    truth = ability - ability.mean() + result.ability.point.mean()
    coverage = float(np.mean((result.ability.low <= truth) & (truth <= result.ability.high)))

    bt_point, bt_fit_wall, bt_fit_cpu = timed(lambda: ratings.fit_bradley_terry(pairs))
    bt, bt_boot_wall, bt_boot_cpu = timed(
        lambda: ratings.bradley_terry_with_intervals(pairs, rounds=args.rounds, seed=1)
    )
    all_rows = np.arange(pairs.winner.size)
    lr_point, lr_fit_wall, lr_fit_cpu = timed(lambda: logistic_regression_bt(pairs, all_rows))
    boot_rng = np.random.default_rng(3)

    def baseline_bootstrap():
        for _ in range(args.baseline_rounds):
            logistic_regression_bt(pairs, boot_rng.integers(0, all_rows.size, all_rows.size))

    _, lr_boot_wall, lr_boot_cpu = timed(baseline_bootstrap)
    ours_per_round = bt_boot_wall / args.rounds
    lr_per_round = lr_boot_wall / max(1, args.baseline_rounds)
    print(
        json.dumps(
            {
                "bench": "ratings",
                "seats": int(data.y.size),
                "players": data.n_players,
                "instances": data.n_items,
                "battles": int(pairs.winner.size),
                "contestants": pairs.n_players,
                "rounds": args.rounds,
                "joint_fit_s": fit_wall,
                "joint_fit_cpu_s": fit_cpu,
                "joint_fit_iterations": fit.iterations,
                "joint_fit_plus_bootstrap_s": joint_wall,
                "joint_fit_plus_bootstrap_cpu_s": joint_cpu,
                "joint_target_s": 10.0,
                "joint_within_target": joint_wall < 10.0,
                "ability_spearman": round(float(_spearman(result.ability.point, ability)), 4),
                "ability_90_coverage": round(coverage, 3),
                "bt_fit_s": bt_fit_wall,
                "bt_fit_cpu_s": bt_fit_cpu,
                "bt_fit_plus_bootstrap_s": bt_boot_wall,
                "bt_fit_plus_bootstrap_cpu_s": bt_boot_cpu,
                "bt_spearman": round(float(_spearman(bt.point, strength)), 4),
                "baseline_logreg_fit_s": lr_fit_wall,
                "baseline_logreg_fit_cpu_s": lr_fit_cpu,
                "baseline_logreg_bootstrap_rounds": args.baseline_rounds,
                "baseline_logreg_bootstrap_s": lr_boot_wall,
                "baseline_logreg_bootstrap_cpu_s": lr_boot_cpu,
                "bt_vs_logreg_fit_speedup": round(lr_fit_wall / max(bt_fit_wall, 1e-6), 1),
                "bt_vs_logreg_bootstrap_round_speedup": round(lr_per_round / max(ours_per_round, 1e-6), 1),
                "bt_vs_logreg_max_abs_diff": round(
                    float(np.abs((bt_point - bt_point.mean()) - (lr_point - lr_point.mean())).max()), 4
                ),
            }
        )
    )


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


if __name__ == "__main__":
    main()

"""Ratings with uncertainty: the numerical fits, with no database in sight.

Two models, both fitted by penalised maximum likelihood with scipy's L-BFGS-B and analytic
gradients, and both given intervals by a bootstrap that resamples *matches* (clusters), so the
seats of one race stay together:

- ``fit_abilities``: a Rasch-style item-response model. Each seat is a player meeting a puzzle
  instance; ``logit P(solve) = ability[player] - (difficulty[variant] + offset[instance])``. The
  outcome may be fractional (``outcome_from_seat(..., tests_aware=True)``: a solve with fewer tests
  counts for more), which gives the tests-used-aware variant of the same model. Gaussian priors
  (ridge penalties) keep players with all wins or all losses finite and fix the scale's origin.
- ``fit_bradley_terry``: for races, pairwise outcomes (solved beats unsolved; between two solvers
  fewer tests, then less time), ``P(a beats b) = sigmoid(strength[a] - strength[b])``.

Both are tens of milliseconds on 100,000 seats: the likelihood is summed with ``np.bincount``, and
each bootstrap round starts from the full fit (tests/bench/bench_ratings.py has the figures).
BLAS runs single-threaded inside the fits: L-BFGS-B's small vector operations on a threaded
OpenBLAS cost four times more CPU than on one thread, on a shared 2-core machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import norm
from threadpoolctl import threadpool_limits

MODEL_VERSION = "rasch-bt-ridge-1"

# Prior standard deviations on the logit scale. Abilities and variant difficulties are wide
# (a person may be far above a puzzle); an instance's offset from its variant is narrower.
ABILITY_SD = 2.0
VARIANT_SD = 2.0
INSTANCE_SD = 1.0
STRENGTH_SD = 2.0
# Tests-aware outcome: a solve that used every allowed test still counts this much.
TESTS_AWARE_FLOOR = 0.5

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def outcome_from_seat(*, solved: bool, tests_used: int, max_tests: int, tests_aware: bool = False) -> float:
    if not solved:
        return 0.0
    if not tests_aware or max_tests <= 0:
        return 1.0
    used = min(max(tests_used, 0), max_tests) / max_tests
    return 1.0 - (1.0 - TESTS_AWARE_FLOOR) * used


@dataclass(frozen=True)
class SeatData:
    """One row per seat, as integer codes: ``player[s]``, ``item[s]`` (an instance), ``cluster[s]``
    (its match, for the bootstrap) and the outcome ``y[s]`` in [0, 1]; ``item_variant[i]`` is the
    variant of instance ``i``."""

    player: Ints
    item: Ints
    cluster: Ints
    y: Floats
    item_variant: Ints
    n_players: int
    n_items: int
    n_variants: int
    n_clusters: int

    @classmethod
    def build(
        cls,
        *,
        player: list[int] | Ints,
        item: list[int] | Ints,
        cluster: list[int] | Ints,
        y: list[float] | Floats,
        item_variant: list[int] | Ints,
    ) -> SeatData:
        p = np.asarray(player, dtype=np.int64)
        i = np.asarray(item, dtype=np.int64)
        c = np.asarray(cluster, dtype=np.int64)
        iv = np.asarray(item_variant, dtype=np.int64)
        return cls(
            player=p,
            item=i,
            cluster=c,
            y=np.asarray(y, dtype=np.float64),
            item_variant=iv,
            n_players=int(p.max()) + 1 if p.size else 0,
            n_items=len(iv),
            n_variants=int(iv.max()) + 1 if iv.size else 0,
            n_clusters=int(c.max()) + 1 if c.size else 0,
        )


@dataclass
class AbilityFit:
    ability: Floats
    variant_difficulty: Floats
    instance_difficulty: Floats  # variant difficulty + the instance's offset
    converged: bool
    iterations: int


@dataclass
class Intervals:
    point: Floats
    low: Floats
    high: Floats
    level: float

    def as_rows(self) -> list[tuple[float, float, float]]:
        return [(float(a), float(b), float(c)) for a, b, c in zip(self.point, self.low, self.high)]


@dataclass
class AbilityResult:
    fit: AbilityFit
    ability: Intervals
    variant_difficulty: Intervals
    instance_difficulty: Intervals
    rounds: int
    # Bootstrap draws of the abilities (rounds x players), for derived quantities such as a
    # pooled group's mean or a difference between two players.
    ability_draws: Floats = field(repr=False)
    # Each ability's standard error from the curvature of the penalised likelihood (Laplace).
    ability_sd: Floats = field(repr=False, default_factory=lambda: np.zeros(0))


def _ability_objective(
    z: Floats,
    scale: Floats,
    data: SeatData,
    player: Ints,
    item: Ints,
    y: Floats,
    weights: Floats | None,
) -> tuple[float, Floats]:
    """The penalised negative log-likelihood and its gradient, in scaled coordinates
    ``z = x * scale`` (``scale`` is the square root of each parameter's expected curvature, so
    L-BFGS sees a problem near the identity: a variant met in 10,000 seats and a player met in
    100 move on comparable steps)."""
    x = z / scale
    n_p, n_v = data.n_players, data.n_variants
    theta, beta, delta = x[:n_p], x[n_p : n_p + n_v], x[n_p + n_v :]
    b_item = beta[data.item_variant] + delta
    eta = theta[player] - b_item[item]
    p = expit(eta)
    # -log-likelihood of a (possibly fractional) Bernoulli outcome: log(1 + e^eta) - y * eta;
    # log(1 + e^eta) = -log(1 - p), exact enough here because the priors keep |eta| small.
    nll = -np.log1p(-p) - y * eta
    resid = p - y  # d nll / d eta
    if weights is not None:
        nll *= weights
        resid *= weights
    g_theta = np.bincount(player, weights=resid, minlength=n_p)
    g_item = -np.bincount(item, weights=resid, minlength=data.n_items)
    g_beta = np.bincount(data.item_variant, weights=g_item, minlength=n_v)
    value = (
        float(nll.sum())
        + 0.5 * float(theta @ theta) / ABILITY_SD**2
        + 0.5 * float(beta @ beta) / VARIANT_SD**2
        + 0.5 * float(delta @ delta) / INSTANCE_SD**2
    )
    grad = np.concatenate(
        [g_theta + theta / ABILITY_SD**2, g_beta + beta / VARIANT_SD**2, g_item + delta / INSTANCE_SD**2]
    )
    return value, grad / scale


def _curvature_scale(data: SeatData, player: Ints, item: Ints, weights: Floats | None) -> Floats:
    """Square roots of the Hessian's diagonal at p = 1/2 (a quarter per seat) plus the prior's."""
    per_player = np.bincount(player, weights=weights, minlength=data.n_players)
    per_item = np.bincount(item, weights=weights, minlength=data.n_items)
    per_variant = np.bincount(data.item_variant, weights=per_item, minlength=data.n_variants)
    return np.sqrt(
        np.concatenate(
            [
                per_player / 4 + 1 / ABILITY_SD**2,
                per_variant / 4 + 1 / VARIANT_SD**2,
                per_item / 4 + 1 / INSTANCE_SD**2,
            ]
        )
    )


def fit_abilities(
    data: SeatData, *, weights: Floats | None = None, start: Floats | None = None
) -> tuple[AbilityFit, Floats]:
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_abilities(data, weights=weights, start=start)


def _fit_abilities(
    data: SeatData, *, weights: Floats | None = None, start: Floats | None = None
) -> tuple[AbilityFit, Floats]:
    """The penalised maximum-likelihood fit; returns it and the raw parameter vector (a warm start
    for the bootstrap). Seats of weight 0 (matches a bootstrap round did not draw) are dropped
    before the fit rather than multiplied by zero at every step."""
    player, item, y = data.player, data.item, data.y
    if weights is not None:
        keep = np.flatnonzero(weights)
        player, item, y, weights = player[keep], item[keep], y[keep], weights[keep]
    size = data.n_players + data.n_variants + data.n_items
    scale = _curvature_scale(data, player, item, weights)
    x0 = np.zeros(size) if start is None else start
    result = minimize(
        _ability_objective,
        x0 * scale,
        args=(scale, data, player, item, y, weights),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "gtol": 1e-5},
    )
    x = result.x / scale
    n_p, n_v = data.n_players, data.n_variants
    beta = x[n_p : n_p + n_v]
    fit = AbilityFit(
        ability=x[:n_p].copy(),
        variant_difficulty=beta.copy(),
        instance_difficulty=beta[data.item_variant] + x[n_p + n_v :],
        converged=bool(result.success),
        iterations=int(result.nit),
    )
    return fit, x


def cluster_weights(rng: np.random.Generator, clusters: Ints, n_clusters: int) -> Floats:
    """One bootstrap resample of whole matches, as a weight per seat (how many times its match
    was drawn)."""
    counts = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters)
    return counts[clusters].astype(np.float64)


def _intervals(point: Floats, draws: Floats, level: float) -> Intervals:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail], axis=0)
    return Intervals(point=point, low=low, high=high, level=level)


def abilities_with_intervals(
    data: SeatData, *, rounds: int = 100, level: float = 0.9, seed: int = 0
) -> AbilityResult:
    with threadpool_limits(limits=1, user_api="blas"):
        return _abilities_with_intervals(data, rounds=rounds, level=level, seed=seed)


def _abilities_with_intervals(data: SeatData, *, rounds: int, level: float, seed: int) -> AbilityResult:
    fit, x = _fit_abilities(data)
    rng = np.random.default_rng(seed)
    draws = np.empty((rounds, x.size))
    inst = np.empty((rounds, data.n_items))
    n_p, n_v = data.n_players, data.n_variants
    for r in range(rounds):
        boot, xb = _fit_abilities(data, weights=cluster_weights(rng, data.cluster, data.n_clusters), start=x)
        draws[r] = xb
        inst[r] = boot.instance_difficulty
    ability = _intervals(fit.ability, draws[:, :n_p], level)
    # A player who won (or lost) every match is resampled into all wins again in every round, so
    # the bootstrap interval collapses onto the point. The curvature of the penalised likelihood
    # (its Laplace approximation) does not: the interval is the wider of the two.
    eta = fit.ability[data.player] - fit.instance_difficulty[data.item]
    p = expit(eta)
    curvature = np.bincount(data.player, weights=p * (1.0 - p), minlength=n_p) + 1.0 / ABILITY_SD**2
    sd = 1.0 / np.sqrt(curvature)
    half = norm.ppf(0.5 + level / 2.0) * sd
    ability.low = np.minimum(ability.low, fit.ability - half)
    ability.high = np.maximum(ability.high, fit.ability + half)
    return AbilityResult(
        fit=fit,
        ability=ability,
        variant_difficulty=_intervals(fit.variant_difficulty, draws[:, n_p : n_p + n_v], level),
        instance_difficulty=_intervals(fit.instance_difficulty, inst, level),
        rounds=rounds,
        ability_draws=draws[:, :n_p],
        ability_sd=sd,
    )


# --- Bradley-Terry over race outcomes -------------------------------------------------------


@dataclass(frozen=True)
class PairData:
    """One row per pairwise outcome of a race: ``winner[k]`` beat ``loser[k]`` in match
    ``cluster[k]``."""

    winner: Ints
    loser: Ints
    cluster: Ints
    n_players: int
    n_clusters: int

    @classmethod
    def build(
        cls, *, winner: list[int] | Ints, loser: list[int] | Ints, cluster: list[int] | Ints, n_players: int
    ) -> PairData:
        c = np.asarray(cluster, dtype=np.int64)
        return cls(
            winner=np.asarray(winner, dtype=np.int64),
            loser=np.asarray(loser, dtype=np.int64),
            cluster=c,
            n_players=n_players,
            n_clusters=int(c.max()) + 1 if c.size else 0,
        )


def _win_counts(pairs: PairData, weights: Floats | None) -> tuple[Ints, Ints, Floats]:
    """Battles collapsed to a count per ordered (winner, loser) pair: the likelihood only needs
    those, which makes each evaluation O(players^2) instead of O(battles)."""
    k = pairs.n_players
    counts = np.bincount(pairs.winner * k + pairs.loser, weights=weights, minlength=k * k)
    nz = np.flatnonzero(counts)
    return nz // k, nz % k, counts[nz]


def _bt_objective(s: Floats, w: Ints, lo: Ints, n: Floats, k: int) -> tuple[float, Floats]:
    d = s[w] - s[lo]
    value = float(n @ np.logaddexp(0.0, -d)) + 0.5 * float(s @ s) / STRENGTH_SD**2
    g = -n / (1.0 + np.exp(d))  # d/dd of n * log(1 + e^-d)
    grad = np.bincount(w, weights=g, minlength=k) - np.bincount(lo, weights=g, minlength=k)
    return value, grad + s / STRENGTH_SD**2


def fit_bradley_terry(
    pairs: PairData, *, weights: Floats | None = None, start: Floats | None = None
) -> Floats:
    w, lo, n = _win_counts(pairs, weights)
    k = pairs.n_players
    result = minimize(
        _bt_objective,
        np.zeros(k) if start is None else start,
        args=(w, lo, n, k),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "gtol": 1e-7},
    )
    return np.asarray(result.x, dtype=np.float64)


def bradley_terry_with_intervals(
    pairs: PairData, *, rounds: int = 100, level: float = 0.9, seed: int = 0
) -> Intervals:
    with threadpool_limits(limits=1, user_api="blas"):
        point = fit_bradley_terry(pairs)
        rng = np.random.default_rng(seed)
        draws = np.empty((rounds, pairs.n_players))
        for r in range(rounds):
            weights = cluster_weights(rng, pairs.cluster, pairs.n_clusters)
            draws[r] = fit_bradley_terry(pairs, weights=weights, start=point)
    return _intervals(point, draws, level)


def race_pairs(seats: list[tuple[Any, ...]]) -> list[tuple[int, int]]:
    """The pairwise outcomes of one race, from its seats as (player, solved, tests used, seconds)
    or (player, solved, tests used, seconds, points): solved beats unsolved; between two solvers
    fewer tests wins, then less time; between two unsolved seats more points wins (only a family
    scored from its history gives an unsolved seat points). Ties (both unsolved with the same
    points, or the same tests and time) give no pair."""
    out = []
    for a in range(len(seats)):
        for b in range(a + 1, len(seats)):
            pa, sa, ta, ha, *rest_a = seats[a]
            pb, sb, tb, hb, *rest_b = seats[b]
            if pa == pb:
                continue
            points_a = int(rest_a[0] or 0) if rest_a else 0
            points_b = int(rest_b[0] or 0) if rest_b else 0
            ka = (not sa, ta if sa else -points_a, ha if sa else 0.0)
            kb = (not sb, tb if sb else -points_b, hb if sb else 0.0)
            if ka < kb:
                out.append((pa, pb))
            elif kb < ka:
                out.append((pb, pa))
    return out


def group_mean_draws(draws: Floats, members: Ints, point: Floats) -> tuple[float, Floats]:
    """A pooled group's ability (the mean of its members'), as a point and bootstrap draws."""
    return float(point[members].mean()), draws[:, members].mean(axis=1)


def contrast_interval(
    result: AbilityResult, plus: Ints, minus: Ints | None = None, level: float = 0.9
) -> tuple[float, float, float]:
    """The mean ability of ``plus`` minus that of ``minus`` (or just the mean of ``plus``), with
    the wider of its bootstrap percentile interval and the Laplace one (treating the abilities'
    errors as independent), for the reason ``abilities_with_intervals`` gives."""
    point = float(result.ability.point[plus].mean())
    draws = result.ability_draws[:, plus].mean(axis=1)
    var = float((result.ability_sd[plus] ** 2).sum()) / plus.size**2
    if minus is not None:
        point -= float(result.ability.point[minus].mean())
        draws = draws - result.ability_draws[:, minus].mean(axis=1)
        var += float((result.ability_sd[minus] ** 2).sum()) / minus.size**2
    low, high = interval_of(draws, level)
    half = float(norm.ppf(0.5 + level / 2.0)) * var**0.5
    return point, min(low, point - half), max(high, point + half)


def wilson(successes: float, n: float, level: float = 0.9) -> tuple[float, float]:
    z = float(norm.ppf(0.5 + level / 2.0))
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_difference_interval(
    s1: float, n1: float, s2: float, n2: float, level: float = 0.9
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (from Wilson intervals): unlike a bootstrap it
    does not collapse when both groups solved all or nothing."""
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1, level)
    l2, u2 = wilson(s2, n2, level)
    d = p1 - p2
    return d - ((p1 - l1) ** 2 + (u2 - p2) ** 2) ** 0.5, d + ((u1 - p1) ** 2 + (p2 - l2) ** 2) ** 0.5


def interval_of(draws: Floats, level: float = 0.9) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(low), float(high)

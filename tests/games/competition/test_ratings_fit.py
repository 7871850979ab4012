"""The rating fits on simulated data with known abilities and difficulties (no database)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from games.competition import ratings


def simulate(*, players: int, items: int, per_player: int, seed: int, variants: int = 4):
    rng = np.random.default_rng(seed)
    ability = rng.normal(0.0, 1.0, players)
    item_variant = rng.integers(0, variants, items)
    variant_difficulty = rng.normal(0.0, 0.7, variants)
    instance_difficulty = variant_difficulty[item_variant] + rng.normal(0.0, 0.5, items)
    player = np.repeat(np.arange(players), per_player)
    item = np.concatenate([rng.choice(items, per_player, replace=False) for _ in range(players)])
    p = 1.0 / (1.0 + np.exp(-(ability[player] - instance_difficulty[item])))
    y = (rng.random(player.size) < p).astype(float)
    data = ratings.SeatData.build(
        player=player, item=item, cluster=np.arange(player.size), y=y, item_variant=item_variant
    )
    return data, ability, instance_difficulty


def centred(truth, fitted):
    """The truth moved to the fit's origin: where zero sits on a logit scale is a convention (the
    priors put it at the middle), so only differences are identified."""
    return truth - truth.mean() + fitted.mean()


@pytest.fixture(scope="module")
def recovered():
    data, ability, difficulty = simulate(players=200, items=80, per_player=40, seed=7)
    return data, ability, difficulty, ratings.abilities_with_intervals(data, rounds=100, seed=3)


def test_the_fitted_order_of_abilities_matches_the_truth(recovered):
    _, ability, _, result = recovered
    assert spearmanr(result.ability.point, ability).statistic > 0.85
    assert np.argmax(result.ability.point) in np.argsort(ability)[-10:]
    assert np.argmin(result.ability.point) in np.argsort(ability)[:10]


def test_the_fitted_order_of_instance_difficulties_matches_the_truth(recovered):
    _, _, difficulty, result = recovered
    assert spearmanr(result.instance_difficulty.point, difficulty).statistic > 0.85


def test_ninety_percent_intervals_cover_the_truth_for_about_ninety_percent_of_players(recovered):
    _, ability, _, result = recovered
    truth = centred(ability, result.ability.point)
    covered = np.mean((result.ability.low <= truth) & (truth <= result.ability.high))
    assert 0.8 <= covered <= 0.98, covered
    assert np.all(result.ability.low <= result.ability.point + 1e-9)
    assert np.all(result.ability.point <= result.ability.high + 1e-9)


def test_players_with_all_wins_or_all_losses_stay_finite_and_at_the_ends():
    data, _, _ = simulate(players=30, items=40, per_player=15, seed=11)
    y = data.y.copy()
    y[data.player == 0] = 1.0
    y[data.player == 1] = 0.0
    data = ratings.SeatData.build(
        player=data.player, item=data.item, cluster=data.cluster, y=y, item_variant=data.item_variant
    )
    result = ratings.abilities_with_intervals(data, rounds=30, seed=1)
    fit = result.fit
    assert fit.converged
    assert np.all(np.isfinite(result.ability.low)) and np.all(np.isfinite(result.ability.high))
    assert np.argmax(fit.ability) == 0 and np.argmin(fit.ability) == 1
    assert fit.ability[0] < 3 * ratings.ABILITY_SD and fit.ability[1] > -3 * ratings.ABILITY_SD
    # resampling an all-win record gives all wins again; the interval must not collapse to a point
    widths = result.ability.high - result.ability.low
    assert widths[0] > 0.5 and widths[1] > 0.5


def test_a_single_player_who_always_wins_is_finite():
    data = ratings.SeatData.build(
        player=[0, 0, 0], item=[0, 1, 2], cluster=[0, 1, 2], y=[1, 1, 1], item_variant=[0, 0, 0]
    )
    fit, _ = ratings.fit_abilities(data)
    assert fit.converged and 0 < fit.ability[0] < 10


def test_the_ranking_does_not_depend_on_the_order_of_matches():
    data, _, _ = simulate(players=60, items=30, per_player=12, seed=5)
    order = np.random.default_rng(99).permutation(data.player.size)
    # Matches renumbered in the new order too, as a database returning rows differently would.
    _, cluster = np.unique(data.cluster[order], return_inverse=True)
    shuffled = ratings.SeatData.build(
        player=data.player[order],
        item=data.item[order],
        cluster=cluster,
        y=data.y[order],
        item_variant=data.item_variant,
    )
    a, _ = ratings.fit_abilities(data)
    b, _ = ratings.fit_abilities(shuffled)
    np.testing.assert_allclose(a.ability, b.ability, atol=1e-3)
    assert list(np.argsort(-a.ability)) == list(np.argsort(-b.ability))


def test_the_bootstrap_keeps_the_seats_of_one_match_together():
    weights = ratings.cluster_weights(np.random.default_rng(0), np.array([0, 0, 0, 1, 1, 2]), 3)
    assert weights[0] == weights[1] == weights[2] and weights[3] == weights[4]
    assert weights[[0, 3, 5]].sum() == 3


def test_the_tests_aware_outcome_rewards_fewer_tests():
    few = ratings.outcome_from_seat(solved=True, tests_used=3, max_tests=30, tests_aware=True)
    many = ratings.outcome_from_seat(solved=True, tests_used=30, max_tests=30, tests_aware=True)
    assert 1.0 > few > many == ratings.TESTS_AWARE_FLOOR
    assert ratings.outcome_from_seat(solved=False, tests_used=3, max_tests=30, tests_aware=True) == 0.0
    assert ratings.outcome_from_seat(solved=True, tests_used=30, max_tests=30) == 1.0


def test_race_pairs_rank_solvers_by_tests_then_time_and_skip_ties():
    seats = [
        (0, True, 5, 30.0),
        (1, True, 5, 10.0),
        (2, True, 3, 90.0),
        (3, False, 1, 1.0),
        (4, False, 9, 9.0),
    ]
    pairs = set(ratings.race_pairs(seats))
    assert (2, 0) in pairs and (2, 1) in pairs  # fewer tests
    assert (1, 0) in pairs  # same tests, less time
    assert (0, 3) in pairs and (2, 4) in pairs  # solved beats unsolved
    assert (3, 4) not in pairs and (4, 3) not in pairs  # two unsolved: no outcome
    assert len(pairs) == 9


def test_bradley_terry_recovers_strengths_with_covering_intervals():
    rng = np.random.default_rng(4)
    strength = rng.normal(0.0, 1.0, 12)
    a = rng.integers(0, 12, 6000)
    b = (a + rng.integers(1, 12, 6000)) % 12
    a_wins = rng.random(6000) < 1.0 / (1.0 + np.exp(-(strength[a] - strength[b])))
    pairs = ratings.PairData.build(
        winner=np.where(a_wins, a, b), loser=np.where(a_wins, b, a), cluster=np.arange(6000), n_players=12
    )
    result = ratings.bradley_terry_with_intervals(pairs, rounds=60, seed=2)
    assert spearmanr(result.point, strength).statistic > 0.95
    truth = centred(strength, result.point)
    assert np.mean((result.low <= truth) & (truth <= result.high)) >= 0.75


def test_bradley_terry_keeps_an_unbeaten_contestant_finite():
    pairs = ratings.PairData.build(winner=[0, 0, 0, 1], loser=[1, 2, 1, 2], cluster=[0, 1, 2, 3], n_players=3)
    strength = ratings.fit_bradley_terry(pairs)
    assert np.all(np.isfinite(strength)) and strength[0] == strength.max() and strength[0] < 10


def test_a_solve_rate_gap_between_all_and_nothing_keeps_an_interval():
    low, high = ratings.rate_difference_interval(3, 3, 0, 4)
    assert 0.2 < low < 1.0 and high == pytest.approx(1.0)
    low, high = ratings.rate_difference_interval(5, 10, 5, 10)
    assert low < 0 < high and low == pytest.approx(-high)


def test_a_pooled_groups_interval_does_not_collapse_when_everyone_in_it_lost():
    data, _, _ = simulate(players=20, items=20, per_player=10, seed=3)
    y = data.y.copy()
    y[np.isin(data.player, [0, 1, 2])] = 0.0
    data = ratings.SeatData.build(
        player=data.player, item=data.item, cluster=data.cluster, y=y, item_variant=data.item_variant
    )
    result = ratings.abilities_with_intervals(data, rounds=30, seed=0)
    point, low, high = ratings.contrast_interval(result, np.array([0, 1, 2]))
    assert low < point < high and high - low > 0.5
    gap, gap_low, gap_high = ratings.contrast_interval(result, np.array([5]), np.array([0, 1, 2]))
    assert gap_low < gap < gap_high and gap > 0


def test_race_pairs_rank_unsolved_seats_by_points_when_a_family_scores_from_the_history():
    # (player, solved, tests, seconds, points): alchemy-like seats, nobody can solve
    seats = [(0, False, 10, 5.0, 40), (1, False, 10, 9.0, 25), (2, False, 10, 1.0, 25), (3, True, 4, 2.0, 90)]
    pairs = set(ratings.race_pairs(seats))
    assert (0, 1) in pairs and (0, 2) in pairs  # more points
    assert (1, 2) not in pairs and (2, 1) not in pairs  # the same points: no outcome
    assert (3, 0) in pairs  # solved still beats unsolved
    # without points (the four-field form every other family uses) two unsolved seats tie
    assert ratings.race_pairs([(0, False, 3, 1.0), (1, False, 9, 9.0)]) == []

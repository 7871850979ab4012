"""How much the application quiz's items, shown during play, tell about the hidden rule.

Two measures over each family's reference hypothesis space, restricted to the hypotheses that
fit the public examples (the player's prior, uniform):

* ``fitting_count_bits`` (a lower bound on the leak of the version 1 quiz): a player who knows
  that exactly k of the items fit keeps only the hypotheses that make k of them fit. Knowing
  "H is in A" is worth at least log2(prior / |A|) bits (by the log-sum inequality the posterior's
  divergence from the prior is at least that), so its mean over instances bounds I(H; items)
  from below.
* ``rule_swap_bits`` (an upper bound on the leak of either quiz): keep the seed and the public
  data, swap the hidden rule for reference hypotheses drawn from the prior, and take the entropy
  of the item sets the quiz then shows. With the quiz's random stream U independent of the rule,
  I(H; items) <= I(H; items | U) = H(items | U), which is this entropy. Zero means the items are
  the same whatever the rule: they carry no information about it, even to someone who knows the
  seed.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import random
from typing import Any

import numpy as np
import pytest

from games.engine.core import Family, Instance, get_family
from games.engine.families import eleusis, wason

SEEDS = range(8)
SWAPS = 12  # hypotheses swapped in per instance
TIERS = {"wason": (1, 2, 3, 4, 5), "eleusis": (1, 2, 3, 4)}


def instances(family: Family) -> list[Instance]:
    return [family.generate(seed, {"tier": tier}) for tier in TIERS[family.id] for seed in SEEDS]


def prior(family: Family, inst: Instance) -> Any:
    space = family.extras["reference_space"]()
    return space, space.survivors(inst.public["examples"])


def fitting_count_bits(family: Family, inst: Instance) -> float | None:
    space, alive = prior(family, inst)
    items = family.quiz_items(inst)
    fitting = sum(bool(family.answer(inst, q)) for q in items)
    consistent = alive & (space.truth(items).sum(axis=1) == fitting)
    if not consistent.any():  # the hidden rule is outside the reference space
        return None
    return math.log2(int(alive.sum()) / int(consistent.sum()))


def with_rule(inst: Instance, rule: str, *, version: int) -> Instance:
    """The same seed and public data with another hidden rule (in the params too when the rule
    was hand-written, since that is where such a rule comes from)."""
    params = {**inst.params, "rule": rule} if inst.params.get("rule") else inst.params
    return dataclasses.replace(inst, version=version, params=params, hidden={**inst.hidden, "rule": rule})


def rule_swap_bits(family: Family, inst: Instance, *, version: int) -> float:
    space, alive = prior(family, inst)
    rng = random.Random(inst.seed)
    drawn = rng.sample(np.flatnonzero(alive).tolist(), min(SWAPS, int(alive.sum())))
    rules = [inst.hidden["rule"], *(space.text(i) for i in drawn)]
    shown = collections.Counter(
        tuple(map(tuple, family.quiz_items(with_rule(inst, rule, version=version)))) for rule in rules
    )
    n = sum(shown.values())
    return sum(c / n * math.log2(n / c) for c in shown.values())


@pytest.mark.parametrize("family_id", ["wason", "eleusis"])
def test_the_version_1_quiz_leaked_over_a_bit_and_the_current_one_leaks_nothing(family_id: str) -> None:
    family = get_family(family_id)
    assert family.version >= 2
    old_leak, new_leak, old_swap = [], [], []
    for inst in instances(family):
        old = dataclasses.replace(inst, version=1)
        bits = fitting_count_bits(family, old)
        if bits is not None:
            old_leak.append(bits)
        old_swap.append(rule_swap_bits(family, inst, version=1))
        new_leak.append(rule_swap_bits(family, inst, version=family.version))
    # the version 1 quiz: exactly half fitting rules out hypotheses worth about 2-2.5 bits
    assert len(old_leak) >= len(old_swap) // 2
    assert float(np.mean(old_leak)) > 1.0, old_leak
    assert float(np.mean(old_swap)) > 1.0  # the upper-bound measure sees a rule-driven quiz
    # the current quiz: the same items whatever the rule, so 0 bits (an upper bound)
    assert max(new_leak) == 0.0, new_leak


@pytest.mark.parametrize("family_id", ["wason", "eleusis"])
def test_a_hand_written_rule_does_not_steer_the_quiz_either(family_id: str) -> None:
    family = get_family(family_id)
    rules = {"wason": ["x < y < z", "x % 2 == 0", "x + y > z"], "eleusis": ["rank > prev_rank", "suit == 2"]}
    base = family.generate(5, {"rule": rules[family_id][0], "examples": 0})
    shown = {
        tuple(map(tuple, family.quiz_items(with_rule(base, r, version=family.version))))
        for r in rules[family_id]
    }
    assert len(shown) == 1


@pytest.mark.parametrize("family_id", ["wason", "eleusis"])
def test_the_quiz_is_fixed_per_instance_fresh_and_not_one_shape(family_id: str) -> None:
    family = get_family(family_id)
    for inst in instances(family)[:10]:
        items = family.quiz_items(inst)
        assert items == family.quiz_items(family.generate(inst.seed, inst.params))  # deterministic
        assert len(items) == 6 and len({tuple(q) for q in items}) == 6
        assert not {tuple(e["input"]) for e in inst.public["examples"]} & {tuple(q) for q in items}
        for q in items:
            family.parse_query(inst.public, q)  # every item is a valid test
    module = {"wason": wason, "eleusis": eleusis}[family_id]
    assert module.RULE_STREAM_VERSION == 1  # a seed keeps its version 1 rule


@pytest.mark.parametrize("family_id", ["wason", "eleusis"])
def test_version_1_instances_keep_their_half_fitting_quiz(family_id: str) -> None:
    family = get_family(family_id)
    inst = dataclasses.replace(family.generate(3, {"tier": 1}), version=1)
    items = family.quiz_items(inst)
    assert sum(bool(family.answer(inst, q)) for q in items) == 3
    assert items != family.quiz_items(dataclasses.replace(inst, version=family.version))

"""Baseline solvers play fair and do better than chance."""

from __future__ import annotations

import json

from games.engine import get_family
from games.engine.play import play

FAMILY = get_family("wason")


def _instance(seed, **params):
    return FAMILY.generate(seed, FAMILY.validate_params(params))


def test_infogain_solves_easy_rules_within_budget() -> None:
    results = [play(FAMILY, _instance(seed, tier=1), "infogain") for seed in range(8)]
    assert sum(r["solved"] for r in results) >= 6
    assert all(r["tests_used"] <= 30 for r in results)


def test_infogain_uses_fewer_tests_than_random() -> None:
    info = [play(FAMILY, _instance(s, tier=2), "infogain")["tests_used"] for s in range(6)]
    rand = [play(FAMILY, _instance(s, tier=2), "random")["tests_used"] for s in range(6)]
    assert sum(info) < sum(rand)


def test_solvers_never_see_the_hidden_rule() -> None:
    inst = _instance(3, tier=4)
    public_only = json.loads(json.dumps(inst.public))
    solver = FAMILY.make_solver("infogain", public_only, 0)
    action = solver.act([], 30)
    assert action["type"] == "test"
    assert inst.hidden["rule"] not in json.dumps(public_only)


def test_solver_is_a_pure_function_of_history() -> None:
    inst = _instance(5, tier=3)
    history = [{"input": [1, 2, 3], "result": FAMILY.answer(inst, [1, 2, 3])}]
    a = FAMILY.make_solver("random", inst.public, 7).act(history, 29)
    b = FAMILY.make_solver("random", inst.public, 7).act(history, 29)
    assert a == b


def test_out_of_budget_means_guess() -> None:
    inst = _instance(5, tier=3)
    for name in ("random", "infogain"):
        action = FAMILY.make_solver(name, inst.public, 0).act([], 0)
        assert action["type"] == "guess"
        assert FAMILY.check_rule(action["rule"])["ok"]

"""The ``alchemy`` family's own properties, beyond the generic contract suite: the generated
recipe graph is what the params ask for, every made element is reachable from the start at its
stated depth, the texts and the per-test measures say what happened, the explorers only combine
what they know."""

from __future__ import annotations

import itertools

import jsonschema
import pytest

from games.engine import get_family
from games.engine.core import QueryError
from games.engine.families import alchemy

FAMILY = get_family("alchemy")


def make(seed: int, **params):
    return FAMILY.generate(seed, FAMILY.validate_params(params))


def shortest_depths(start, recipes):
    """Breadth-first over combinations: the fewest combinations on the way to each element."""
    depth = {s: 0 for s in start}
    changed = True
    while changed:
        changed = False
        for (a, b), c in recipes.items():
            if a in depth and b in depth:
                d = max(depth[a], depth[b]) + 1
                if d < depth.get(c, 10**9):
                    depth[c] = d
                    changed = True
    return depth


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"elements": 30, "depth": 5, "dead_ends": 50},
        {"elements": 8, "depth": 2, "branching": 3},
        {"start": 6},
    ],
    ids=["default", "large", "small-branchy", "six-start"],
)
def test_every_made_element_is_reachable_at_its_stated_depth(params) -> None:
    for seed in range(20):
        inst = make(seed, **params)
        graph = alchemy.graph_of(inst)
        assert shortest_depths(graph.start, graph.recipes) == dict(graph.depth)
        p = inst.params
        made = [n for n, d in graph.depth.items() if d > 0]
        assert len(made) == p["elements"] == inst.public["makeable"]
        assert max(graph.depth.values()) >= min(p["depth"], p["elements"])
        start_pairs = [tuple(sorted(q)) for q in itertools.combinations_with_replacement(graph.start, 2)]
        assert 0 < sum(q in graph.recipes for q in start_pairs) <= len(start_pairs) // 2
        dead = [n for n in made if graph.uses(n) == 0]
        assert len(dead) >= round(p["elements"] * p["dead_ends"] / 100)


def test_names_come_from_the_word_list_and_differ_by_seed() -> None:
    a, b = make(1), make(2)
    assert set(a.hidden["depth"]) <= set(alchemy.WORDS)
    assert a.public["start"] != b.public["start"]


def test_tests_are_read_in_either_order_and_in_text_form() -> None:
    inst = make(3)
    x, y = inst.public["start"][:2]
    assert FAMILY.parse_query(inst.public, [y, x]) == sorted([x, y])
    assert FAMILY.parse_query(inst.public, f" {y.upper()} + {x} ") == sorted([x, y])
    assert FAMILY.parse_query(inst.public, f"{x} and {y}") == sorted([x, y])
    with pytest.raises(QueryError, match="two elements"):
        FAMILY.parse_query(inst.public, [x, y, x])
    with pytest.raises(QueryError, match="not an element name"):
        FAMILY.parse_query(inst.public, [x, "x1!"])


def test_the_per_test_measures_follow_the_history() -> None:
    inst = make(4, elements=8, depth=2)
    graph = alchemy.graph_of(inst)
    (pair, made), *_ = sorted(graph.recipes.items(), key=lambda kv: graph.depth[kv[1]])
    history = [{"input": list(pair), "result": made}, {"input": list(pair), "result": made}]
    first, again = FAMILY.step_analytics(inst.public, history)
    assert first["novel_pair"] and first["discovery"] and first["known_before"] == len(graph.start)
    assert (
        not again["novel_pair"] and not again["discovery"] and again["known_before"] == len(graph.start) + 1
    )
    assert again["a_tries_before"] == 1 and again["a_successes_before"] == 1
    revealed = FAMILY.reveal_analytics(inst, history)
    assert revealed[0]["a_empowerment"] == graph.uses(pair[0])
    assert revealed[0]["best_pair_empowerment"] >= revealed[0]["pair_empowerment"]
    assert revealed[0]["made_depth"] == 1
    text = FAMILY.render_observation(inst.public, history, 3)
    assert f"makes {made}" in text and made in text.splitlines()[0] and "Combinations left: 3." in text


def test_a_seats_test_schema_lists_exactly_the_elements_it_knows_and_grows_with_a_discovery() -> None:
    inst = make(4)
    start = inst.public["start"]
    making = next(
        list(q) for q in itertools.combinations_with_replacement(start, 2) if FAMILY.answer(inst, q)
    )
    made = FAMILY.answer(inst, making)
    before = FAMILY.input_schema_for(inst.public, [])
    history = [{"input": making, "result": made}]
    after = FAMILY.input_schema_for(inst.public, history)
    assert before["items"]["enum"] == start and after["items"]["enum"] == [*start, made]
    assert before["minItems"] == before["maxItems"] == 2
    # the schema is this seat's only: what the state text lists, nothing made elsewhere
    assert after["items"]["enum"] == alchemy.known_elements(inst.public, history)
    unmade = sorted(set(inst.hidden["depth"]) - {*start, made})
    for schema, seen in ((before, []), (after, history)):
        for pair in itertools.product(schema["items"]["enum"], repeat=2):
            jsonschema.validate(list(pair), schema)
            FAMILY.check_test(inst.public, seen, FAMILY.parse_query(inst.public, list(pair)))
        for refused in (["<element>", "<element>"], [start[0], "<element>"], [start[0], unmade[0]]):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(refused, schema)
    with pytest.raises(QueryError, match="only combine elements you know"):
        FAMILY.check_test(inst.public, [], FAMILY.parse_query(inst.public, [made, start[0]]))
    jsonschema.validate([made, start[0]], after)


@pytest.mark.parametrize("solver", ["random", "empowerment"])
def test_the_explorers_combine_only_what_they_know_and_never_guess(solver) -> None:
    for seed in range(5):
        inst = make(seed, elements=22, depth=4)
        player = FAMILY.make_solver(solver, inst.public, seed)
        history: list[dict] = []
        for left in range(30, 0, -1):
            action = player.act(history, left)
            assert action["type"] == "test"
            query = FAMILY.parse_query(inst.public, action["input"])
            FAMILY.check_test(inst.public, history, query)
            history.append({"input": query, "result": FAMILY.answer(inst, query)})
        assert FAMILY.final_score(inst, history, 30)["discovered"] >= 1


def test_the_empowerment_explorer_finds_more_than_random_on_large_graphs_with_dead_ends() -> None:
    """Summed over 20 seeds (tests/bench/bench_families.py measures it per knob)."""
    found = {"random": 0, "empowerment": 0}
    for seed in range(20):
        inst = make(seed, elements=30, depth=3, dead_ends=50)
        for name in found:
            player = FAMILY.make_solver(name, inst.public, seed)
            history: list[dict] = []
            for left in range(40, 0, -1):
                query = FAMILY.parse_query(inst.public, player.act(history, left)["input"])
                history.append({"input": query, "result": FAMILY.answer(inst, query)})
            found[name] += FAMILY.final_score(inst, history, 40)["discovered"]
    assert found["empowerment"] > found["random"], found

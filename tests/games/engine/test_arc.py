"""The ``arc`` family: its grid-transformation language, the judge, imported and uploaded tasks,
and the search over the language."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from games.engine import get_family
from games.engine.core import ParamsError, QueryError, RuleError
from games.engine.families import arc

FAMILY = get_family("arc")
G = [[1, 0, 0], [2, 3, 0]]


def run(text: str, grid: list[list[int]]) -> list[list[int]]:
    return arc.apply(arc.parse_program(text), grid)


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ("rotate(90)", [[2, 1], [3, 0], [0, 0]]),
        ("rotate(180)", [[0, 3, 2], [0, 0, 1]]),
        ("reflect(h)", [[0, 0, 1], [0, 3, 2]]),
        ("reflect(v)", [[2, 3, 0], [1, 0, 0]]),
        ("reflect(t)", [[1, 2], [0, 3], [0, 0]]),
        ("translate(0, 1)", [[0, 1, 0], [0, 2, 3]]),
        ("copy(0, 1)", [[1, 1, 0], [2, 2, 3]]),
        ("gravity(right)", [[0, 0, 1], [0, 2, 3]]),
        ("gravity(up)", [[1, 3, 0], [2, 0, 0]]),
        ("recolour(1>4, 3>1)", [[4, 0, 0], [2, 1, 0]]),
        ("scale(2)", [[1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [2, 2, 3, 3, 0, 0], [2, 2, 3, 3, 0, 0]]),
        ("reflect(h) | recolour(1>5)", [[0, 0, 5], [0, 3, 2]]),
    ],
)
def test_each_step_does_what_its_name_says(program: str, expected: list[list[int]]) -> None:
    assert run(program, G) == expected


def test_fill_colours_only_the_background_enclosed_away_from_the_border() -> None:
    ring = [[0, 0, 0, 0, 0], [0, 2, 2, 2, 0], [0, 2, 0, 2, 0], [0, 2, 2, 2, 0], [0, 0, 0, 0, 0]]
    filled = run("fill(4)", ring)
    assert filled[2][2] == 4 and sum(row.count(4) for row in filled) == 1
    open_ring = [row[:] for row in ring]
    open_ring[1][2] = 0  # a gap joins the inside to the outside
    assert run("fill(4)", open_ring) == open_ring


def test_programs_print_canonically_and_bad_ones_say_where() -> None:
    assert (
        arc.program_text(arc.parse_program(" rotate( 90 )|recolor(3>1,1>2) "))
        == "rotate(90) | recolour(1>2, 3>1)"
    )
    with pytest.raises(RuleError) as info:
        arc.parse_program("rotate(90) | spin(3)")
    assert "unknown step spin(3)" in info.value.message and info.value.column == 14
    with pytest.raises(RuleError, match="each colour once"):
        arc.parse_program("recolour(1>2, 1>3)")


def test_scaling_beyond_thirty_cells_is_refused_not_computed() -> None:
    with pytest.raises(QueryError, match="larger than 30"):
        run("scale(3)", [[1] * 11])


def test_the_judge_is_exact_match_with_cell_accuracy_and_the_differing_cells() -> None:
    inst = FAMILY.generate(3, FAMILY.validate_params({"rule": "reflect(h)"}))
    right = inst.hidden["answer"]
    assert FAMILY.judge(inst, right).correct
    assert FAMILY.judge(inst, json.dumps(right)).correct  # its JSON text reads the same
    wrong = [row[:] for row in right]
    wrong[0][0] = (wrong[0][0] + 1) % 10
    verdict = FAMILY.judge(inst, wrong)
    cells = len(right) * len(right[0])
    assert not verdict.correct and verdict.counterexample == {"cells": [[0, 0]]}
    assert verdict.agreement == pytest.approx((cells - 1) / cells, abs=1e-6)
    assert verdict.hidden_answer == right and verdict.guess_answer == wrong
    assert FAMILY.judge(inst, [[right[0][0]]]).agreement == 0.0  # another shape: no cell counts
    with pytest.raises(RuleError, match="row 2 must be"):
        FAMILY.judge(inst, [[1], "x"])
    with pytest.raises(RuleError, match="colour 0-9"):
        FAMILY.judge(inst, [[10]])


def test_a_probe_may_not_be_the_test_input_or_nearly_it() -> None:
    inst = FAMILY.generate(5, FAMILY.validate_params({"size": 8}))
    test_input = inst.public["test_input"]
    with pytest.raises(QueryError, match="may not be the test input"):
        FAMILY.answer(inst, test_input)
    near = [row[:] for row in test_input]
    near[0][0] = (near[0][0] + 1) % 10
    with pytest.raises(QueryError, match="fewer than a quarter"):
        FAMILY.answer(inst, near)
    assert FAMILY.answer(inst, [[1]]) == arc.apply(arc.parse_program(inst.hidden["rule"]), [[1]])


def test_an_imported_task_is_chosen_by_the_seed_or_named_and_reproducible() -> None:
    params = FAMILY.validate_params({"source": "training", "examples": 2, "max_tests": 2})
    a, b = FAMILY.generate(7, params), FAMILY.generate(7, params)
    assert a.to_dict(include_hidden=True) == b.to_dict(include_hidden=True)
    task_id = a.hidden["task"]
    task = arc.training_tasks()[task_id]
    assert a.public["test_input"] in [t["input"] for t in task["test"]]
    assert task_id not in json.dumps(a.public)  # the id would let a player look the answer up
    named = FAMILY.generate(0, FAMILY.validate_params({"source": "training", "task": "007bbfb7"}))
    assert named.hidden["task"] == "007bbfb7" and len(arc.training_tasks()) == 400
    # a test reveals a held-back demonstration pair; the first ones are the examples shown
    last = len(task["train"])
    assert FAMILY.answer(a, last) == task["train"][last - 1]
    assert [e["result"] for e in a.public["examples"]] == task["train"][:2]


def _file(name: str, value: object) -> tuple[str, bytes]:
    return name, json.dumps(value).encode()


TASK = {
    "train": [{"input": [[1]], "output": [[2]]}, {"input": [[3]], "output": [[4]]}],
    "test": [{"input": [[5]], "output": [[6]]}],
}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("a.json", b"{not json")], "a.json: not valid JSON"),
        ([_file("b.json", {"train": []})], "b.json: 'train' must be a non-empty list"),
        (
            [_file("c.json", {**TASK, "test": [{"input": [[1, 2], [3]], "output": [[1]]}]})],
            "c.json: test pair 1: its input: every row must have 2 cells",
        ),
        (
            [_file("d.json", {**TASK, "train": [TASK["train"][0], {"input": [[12]], "output": [[1]]}]})],
            "d.json: train pair 2: its input: row 1, column 1 must be a colour 0-9",
        ),
        (
            [_file("e.json", {**TASK, "train": TASK["train"][:1]})],
            "e.json: a task needs at least 2 train pairs",
        ),
        ([("f.txt", b"{}")], "f.txt: expected an ARC task .json file"),
        ([("g.zip", b"PK nonsense")], "g.zip: not a readable zip archive"),
        ([], "no task files"),
    ],
)
def test_a_malformed_upload_is_refused_naming_the_file_and_the_fault(files, message) -> None:
    with pytest.raises(ParamsError) as info:
        arc.read_task_upload(files)
    assert message in info.value.message


def test_an_uploaded_zip_becomes_a_task_set_a_variant_plays() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("set/one.json", json.dumps(TASK))
        archive.writestr("set/two.json", json.dumps({**TASK, "test": [{"input": [[7]], "output": [[8]]}]}))
    tasks = arc.read_task_upload([("set.zip", buffer.getvalue())])
    assert sorted(tasks) == ["one", "two"]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("bad.json", "[1, 2]")
    with pytest.raises(ParamsError, match=r"up\.zip/bad\.json: a task must be a JSON object"):
        arc.read_task_upload([("up.zip", inner.getvalue())])
    params = FAMILY.validate_params({"tasks": json.dumps(tasks), "task": "two", "examples": 1})
    inst = FAMILY.generate(0, params)
    assert inst.public["test_input"] == [[7]] and inst.hidden["rule"] == "uploaded task two"
    assert FAMILY.judge(inst, [[8]]).correct


def test_the_search_finds_a_composed_program_and_answers_with_it() -> None:
    inst = FAMILY.generate(11, FAMILY.validate_params({"rule": "rotate(90) | gravity(down)", "size": 7}))
    programs = arc.consistent_programs([(e["input"], e["result"]) for e in inst.public["examples"]])
    assert programs and all(
        arc.apply(p, e["input"]) == e["result"] for p in programs for e in inst.public["examples"]
    )
    solver = FAMILY.make_solver("search", inst.public, 0)
    action = solver.act([], inst.public["max_tests"])
    while action["type"] == "test":
        action = solver.act([{"input": action["input"], "result": FAMILY.answer(inst, action["input"])}], 0)
    assert FAMILY.judge(inst, action["rule"]).correct


def test_the_solver_gives_a_different_answer_after_a_wrong_one() -> None:
    inst = FAMILY.generate(0, FAMILY.validate_params({"source": "training", "task": "007bbfb7"}))
    solver = FAMILY.make_solver("search", inst.public, 0)
    first = solver.act([], 0)["rule"]
    second = solver.act([], 0, guesses=[first])["rule"]
    assert second != first

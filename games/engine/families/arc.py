"""Family ``arc``: ARC grid transformations (ARC-AGI-1), from two sources.

A puzzle shows demonstration pairs (an input grid and its output grid) and a test input; the
player's answer is the output grid for the test input, with ``attempts`` tries (ARC's 2 or 3). A
grid is a list of rows of colours 0-9 (0 is the background), 1 to 30 cells a side.

* **Imported tasks** (ARC's JSON: ``train`` pairs and ``test`` pairs): the 400 ARC-AGI-1
  training tasks shipped in ``arc_data/training.json`` (Apache-2.0), or a task set an admin
  uploaded (``tasks``: the set's JSON, validated by ``read_task_upload``). The first ``examples``
  demonstration pairs are shown; a test reveals one more: its input is the number of a
  demonstration pair (1 to the task's count), its answer that pair. The task is ``task`` or
  chosen by the seed, so an instance is reproducible from (family, version, seed, params).
* **Procedural tasks** from a small grid-transformation language (``apply``): a pipeline of
  ``depth`` steps, e.g. ``rotate(90) | gravity(down)``. A test is a probe: the player draws an
  input grid (not the test input, nor a grid differing from it in fewer than a quarter of its
  cells) and sees its output.

The judge is exact match on the expected grid; its partial credit is the cell accuracy (the share
of cells equal, 0 when the shapes differ) and its ``counterexample`` the list of differing cells
``[row, column]`` (0-based), which the reveal marks. A guess is an *answer*, not a rule:
``Family.solution`` gives the accepted one.
"""

from __future__ import annotations

import functools
import io
import json
import random
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.core import (
    Family,
    Instance,
    ParamsError,
    Presentation,
    QueryError,
    ReferenceSpace,
    RuleError,
    VariantSpec,
    Verdict,
    register,
    seeded_rng,
    validate_params,
)
from games.engine.families import common

FAMILY_ID = "arc"
VERSION = 1
MAX_SIDE = 30  # ARC's largest grid
COLOURS = ("black", "blue", "red", "green", "yellow", "grey", "magenta", "orange", "light blue", "maroon")
MAX_UPLOAD_TASKS = 500
MAX_UPLOAD_CHARS = 4_000_000
MAX_PROGRAM_CHARS = 500
OFFSETS = tuple((dr, dc) for dr in range(-2, 3) for dc in range(-2, 3) if (dr, dc) != (0, 0))
DIRECTIONS = ("down", "up", "left", "right")
REFLECTIONS = ("h", "v", "t", "a")  # left-right, top-bottom, main diagonal, anti-diagonal

Grid = list[list[int]]
Array = npt.NDArray[np.int8]

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "source": {
            "x-knob": True,
            "type": "string",
            "enum": ["procedural", "training"],
            "default": "procedural",
            "description": "procedural: a task drawn from the grid-transformation language; training: one of "
            "the 400 ARC-AGI-1 training tasks (an uploaded task set, when given, is used instead)",
        },
        "depth": {
            "x-knob": True,
            "type": "integer",
            "minimum": 1,
            "maximum": 3,
            "default": 1,
            "description": "procedural: how many transformations are composed",
        },
        "size": {
            "x-knob": True,
            "type": "integer",
            "minimum": 3,
            "maximum": 10,
            "default": 6,
            "description": "procedural: the largest side of a grid (probes too)",
        },
        "colours": {
            "x-knob": True,
            "type": "integer",
            "minimum": 1,
            "maximum": 9,
            "default": 3,
            "description": "procedural: how many colours besides the background the example grids use",
        },
        "examples": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10,
            "default": 3,
            "description": "demonstration pairs shown at the start",
        },
        "attempts": {
            "type": "integer",
            "enum": [1, 2, 3],
            "default": 3,
            "description": "how many answers a player may give (ARC-AGI-1: 3, ARC-AGI-2: 2)",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 0,
            "maximum": 50,
            "default": 4,
            "description": "procedural: probes; imported: held-back demonstration pairs a player may reveal",
        },
        "task": {
            "type": "string",
            "default": "",
            "description": "imported: the task id to play (empty: chosen by the seed)",
        },
        "tasks": {
            "type": "string",
            "default": "",
            "description": "an uploaded task set: a JSON object of task id -> ARC task (set from the admin's upload field)",
            "x-upload": {
                "accept": ".json,.zip",
                "help": "upload ARC task .json files or a .zip of them: each becomes a task, named by its file",
            },
        },
        "rule": {
            "type": "string",
            "default": "",
            "description": "procedural: a hand-written hidden program, e.g. 'rotate(90) | gravity(down)' (empty: generated)",
        },
    },
}


# -- grids ---------------------------------------------------------------------------------------------


def check_grid(value: Any, what: str = "a grid", max_side: int = MAX_SIDE) -> Grid:
    """``value`` as a grid, or a ``ValueError`` saying what is wrong: a non-empty list of equally
    long non-empty rows of integers 0-9, at most ``max_side`` a side."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what} must be a non-empty list of rows, got {_short(value)}")
    if len(value) > max_side:
        raise ValueError(f"{what} has at most {max_side} rows, got {len(value)}")
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list) or not row:
            raise ValueError(
                f"{what}: row {r + 1} must be a non-empty list of colours 0-9, got {_short(row)}"
            )
        if len(row) > max_side:
            raise ValueError(f"{what}: rows have at most {max_side} cells, row {r + 1} has {len(row)}")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise ValueError(
                f"{what}: every row must have {width} cells (like row 1), row {r + 1} has {len(row)}"
            )
        for c, cell in enumerate(row):
            if isinstance(cell, bool) or not isinstance(cell, int) or not 0 <= cell <= 9:
                raise ValueError(
                    f"{what}: row {r + 1}, column {c + 1} must be a colour 0-9, got {_short(cell)}"
                )
    return [list(row) for row in value]


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def arr(grid: Sequence[Sequence[int]]) -> Array:
    return np.asarray(grid, dtype=np.int8)


def rows_text(grid: Sequence[Sequence[int]]) -> str:
    """A grid as rows of digits, one row a line (how models read grids)."""
    return "\n".join("".join(str(int(c)) for c in row) for row in grid)


def read_grid_text(text: str) -> Grid:
    """A grid from JSON text, or from rows of digits (one row a line)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the grid is not valid JSON: {exc.msg} at column {exc.colno}") from None
        return check_grid(value)
    lines = [ln.strip() for ln in stripped.splitlines() if ln.strip()]
    if lines and all(re.fullmatch(r"[0-9]+", ln) for ln in lines):
        return check_grid([[int(ch) for ch in ln] for ln in lines])
    raise ValueError("a grid is a JSON list of rows such as [[0, 1], [2, 3]], or rows of digits one per line")


# -- the transformation language ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[Any, ...]

    @property
    def text(self) -> str:
        if self.name == "recolour":
            return "recolour(" + ", ".join(f"{a}>{b}" for a, b in self.args) + ")"
        return f"{self.name}(" + ", ".join(str(a) for a in self.args) + ")"


Program = tuple[Step, ...]

_STEP = re.compile(r"\s*([a-z]+)\s*\(([^()]*)\)\s*")


def parse_program(text: str) -> Program:
    """Read a pipeline such as ``rotate(90) | gravity(down)`` (steps separated by ``|``)."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("a program is steps such as 'rotate(90) | gravity(down)'")
    if len(text) > MAX_PROGRAM_CHARS:
        raise RuleError(f"a program has at most {MAX_PROGRAM_CHARS} characters, got {len(text)}")
    steps: list[Step] = []
    offset = 0
    for part in text.split("|"):
        m = _STEP.fullmatch(part)
        column = offset + len(part) - len(part.lstrip()) + 1  # the step's first character
        if not m:
            raise RuleError(f"cannot read the step {part.strip()!r}; write name(arguments)", column=column)
        steps.append(_step(m.group(1), [a.strip() for a in m.group(2).split(",") if a.strip()], column))
        offset += len(part) + 1
    if len(steps) > 6:
        raise RuleError(f"a program has at most 6 steps, got {len(steps)}")
    return tuple(steps)


def _int(text: str, column: int) -> int:
    if not re.fullmatch(r"-?\d{1,2}", text):
        raise RuleError(f"{text!r} is not a small whole number", column=column)
    return int(text)


def _step(name: str, args: list[str], column: int) -> Step:
    if name == "recolor":
        name = "recolour"
    if name == "rotate" and len(args) == 1 and args[0] in ("90", "180", "270"):
        return Step("rotate", (int(args[0]),))
    if name == "reflect" and len(args) == 1 and args[0] in REFLECTIONS:
        return Step("reflect", (args[0],))
    if name in ("translate", "copy") and len(args) == 2:
        dr, dc = _int(args[0], column), _int(args[1], column)
        if (dr, dc) == (0, 0) or max(abs(dr), abs(dc)) > 9:
            raise RuleError(f"{name} takes an offset of -9..9 rows and columns, not both 0", column=column)
        return Step(name, (dr, dc))
    if name == "scale" and len(args) == 1 and args[0] in ("2", "3"):
        return Step("scale", (int(args[0]),))
    if name == "gravity" and len(args) == 1 and args[0] in DIRECTIONS:
        return Step("gravity", (args[0],))
    if name == "fill" and len(args) == 1 and re.fullmatch(r"[1-9]", args[0]):
        return Step("fill", (int(args[0]),))
    if name == "recolour" and args:
        pairs = []
        for a in args:
            m = re.fullmatch(r"(\d)\s*>\s*(\d)", a)
            if not m:
                raise RuleError(f"recolour takes pairs such as 1>2, got {a!r}", column=column)
            pairs.append((int(m.group(1)), int(m.group(2))))
        if len({a for a, _ in pairs}) != len(pairs):
            raise RuleError("recolour maps each colour once", column=column)
        return Step("recolour", tuple(sorted(pairs)))
    raise RuleError(
        f"unknown step {name}({', '.join(args)}); known: rotate(90|180|270), reflect(h|v|t|a), "
        "translate(dr, dc), copy(dr, dc), scale(2|3), gravity(down|up|left|right), fill(1-9), recolour(1>2, ...)",
        column=column,
    )


def program_text(program: Program) -> str:
    return " | ".join(s.text for s in program)


def _shift(a: Array, dr: int, dc: int) -> Array:
    out = np.zeros_like(a)
    rows, cols = a.shape
    if abs(dr) >= rows or abs(dc) >= cols:
        return out
    src = a[max(0, -dr) : rows - max(0, dr), max(0, -dc) : cols - max(0, dc)]
    out[max(0, dr) : max(0, dr) + src.shape[0], max(0, dc) : max(0, dc) + src.shape[1]] = src
    return out


def _gravity(a: Array, direction: str) -> Array:
    # turn the grid so the fall is downwards, let each column fall, turn back
    turns = {"down": 0, "left": 1, "up": 2, "right": 3}[direction]
    b = np.rot90(a, turns)
    out = np.zeros_like(b)
    for c in range(b.shape[1]):
        col = b[:, c]
        kept = col[col != 0]
        if len(kept):
            out[b.shape[0] - len(kept) :, c] = kept
    return np.ascontiguousarray(np.rot90(out, -turns))


def _enclosed(a: Array) -> npt.NDArray[np.bool_]:
    """Background cells not joined to the border through background cells (4-neighbours): the
    border's background grown one step at a time inside the background until it stops."""
    free = a == 0
    reach = np.zeros_like(free)
    reach[0, :] |= free[0, :]
    reach[-1, :] |= free[-1, :]
    reach[:, 0] |= free[:, 0]
    reach[:, -1] |= free[:, -1]
    while True:
        grown = reach.copy()
        grown[1:, :] |= reach[:-1, :]
        grown[:-1, :] |= reach[1:, :]
        grown[:, 1:] |= reach[:, :-1]
        grown[:, :-1] |= reach[:, 1:]
        grown &= free
        if np.array_equal(grown, reach):
            enclosed: npt.NDArray[np.bool_] = free & ~reach
            return enclosed
        reach = grown


def apply_step(step: Step, a: Array) -> Array:
    name, args = step.name, step.args
    if name == "rotate":
        return np.ascontiguousarray(np.rot90(a, -(int(args[0]) // 90)))
    if name == "reflect":
        kind = args[0]
        if kind == "h":
            return np.ascontiguousarray(a[:, ::-1])
        if kind == "v":
            return np.ascontiguousarray(a[::-1, :])
        if kind == "t":
            return np.ascontiguousarray(a.T)
        return np.ascontiguousarray(a[::-1, ::-1].T)
    if name == "translate":
        return _shift(a, int(args[0]), int(args[1]))
    if name == "copy":
        moved = _shift(a, int(args[0]), int(args[1]))
        return np.where(moved != 0, moved, a).astype(np.int8)
    if name == "scale":
        k = int(args[0])
        if a.shape[0] * k > MAX_SIDE or a.shape[1] * k > MAX_SIDE:
            raise QueryError(f"scale({k}) would make a grid larger than {MAX_SIDE} cells a side")
        return np.repeat(np.repeat(a, k, axis=0), k, axis=1)
    if name == "gravity":
        return _gravity(a, str(args[0]))
    if name == "fill":
        out = a.copy()
        out[_enclosed(a)] = int(args[0])
        return out
    if name == "recolour":
        lut = np.arange(10, dtype=np.int8)
        for src, dst in args:
            lut[src] = dst
        return lut[a]
    raise AssertionError(name)  # pragma: no cover - parse_program admits only the names above


def apply(program: Program, grid: Sequence[Sequence[int]]) -> Grid:
    a = arr(grid)
    for step in program:
        a = apply_step(step, a)
    out: Grid = a.tolist()
    return out


def scale_factor(program: Program) -> int:
    k = 1
    for s in program:
        if s.name == "scale":
            k *= int(s.args[0])
    return k


# -- imported tasks ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def training_tasks() -> dict[str, dict[str, Any]]:
    """The 400 ARC-AGI-1 training tasks, by id (package data; read once)."""
    text = resources.files("games.engine.families").joinpath("arc_data/training.json").read_text("utf-8")
    data: dict[str, dict[str, Any]] = json.loads(text)
    return data


def check_task(task: Any, name: str) -> dict[str, Any]:
    """An ARC task (``train`` and ``test`` lists of ``{"input": grid, "output": grid}``), or a
    ``ParamsError`` naming ``name`` and the fault."""
    if not isinstance(task, dict):
        raise ParamsError(f"{name}: a task must be a JSON object with 'train' and 'test', got {_short(task)}")
    for key in ("train", "test"):
        pairs = task.get(key)
        if not isinstance(pairs, list) or not pairs:
            raise ParamsError(f"{name}: '{key}' must be a non-empty list of input/output pairs")
        for i, pair in enumerate(pairs):
            where = f"{name}: {key} pair {i + 1}"
            if not isinstance(pair, dict) or "input" not in pair or "output" not in pair:
                raise ParamsError(f"{where} must be an object with 'input' and 'output' grids")
            for part in ("input", "output"):
                try:
                    check_grid(pair[part], f"its {part}")
                except ValueError as exc:
                    raise ParamsError(f"{where}: {exc}") from None
    if len(task["train"]) < 2:
        raise ParamsError(f"{name}: a task needs at least 2 train pairs, got {len(task['train'])}")
    return {
        key: [{"input": p["input"], "output": p["output"]} for p in task[key]] for key in ("train", "test")
    }


def read_task_upload(files: Sequence[tuple[str, bytes]]) -> dict[str, dict[str, Any]]:
    """A task set from uploaded files: ARC task JSON files, or zip archives of them. Each task's id
    is its file name without ``.json``. Raises ``ParamsError`` naming the file and the fault."""
    tasks: dict[str, dict[str, Any]] = {}
    for name, data in files:
        if name.lower().endswith(".zip"):
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile:
                raise ParamsError(f"{name}: not a readable zip archive") from None
            members = [
                m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")
            ]
            if sum(m.file_size for m in members) > MAX_UPLOAD_CHARS:
                raise ParamsError(f"{name}: the archive unpacks to more than {MAX_UPLOAD_CHARS} bytes")
            inner = [(f"{name}/{m.filename}", archive.read(m)) for m in members]
            tasks.update(read_task_upload(inner))
            continue
        if not name.lower().endswith(".json"):
            raise ParamsError(f"{name}: expected an ARC task .json file or a .zip of them")
        try:
            value = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ParamsError(f"{name}: not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise ParamsError(
                f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from None
        task_id = name.rsplit("/", 1)[-1][: -len(".json")]
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", task_id):
            raise ParamsError(f"{name}: a task file name is letters, digits, '_', '-' or '.' (at most 64)")
        if task_id in tasks:
            raise ParamsError(f"{name}: a second task named {task_id!r}")
        tasks[task_id] = check_task(value, name)
        if len(tasks) > MAX_UPLOAD_TASKS:
            raise ParamsError(f"{name}: a task set has at most {MAX_UPLOAD_TASKS} tasks")
    if not tasks:
        raise ParamsError("no task files: upload ARC task .json files or a .zip of them")
    return tasks


@functools.lru_cache(maxsize=32)
def _uploaded(text: str) -> dict[str, dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsError(f"parameter 'tasks' is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict) or not value:
        raise ParamsError("parameter 'tasks' must be a JSON object of task id -> ARC task")
    return {str(k): check_task(v, f"task {k}") for k, v in value.items()}


# -- params, generation -----------------------------------------------------------------------------


def read_upload(param: str, files: Sequence[tuple[str, bytes]]) -> str:
    """The ``tasks`` param from uploaded files (the admin's variant form)."""
    if param != "tasks":
        raise ParamsError(f"parameter {param!r} takes no upload")
    return json.dumps(read_task_upload(files), sort_keys=True, separators=(",", ":"))


def validate(params: Mapping[str, Any]) -> dict[str, Any]:
    p = validate_params(PARAMS_SCHEMA, params)
    if len(p["tasks"]) > MAX_UPLOAD_CHARS:
        raise ParamsError(f"parameter 'tasks' holds at most {MAX_UPLOAD_CHARS} characters")
    return p


def task_set(p: Mapping[str, Any]) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """The imported task set the params name (its source label and tasks), or None (procedural)."""
    if p["tasks"]:
        return "uploaded", _uploaded(p["tasks"])
    if p["source"] == "training":
        return "training", training_tasks()
    return None


def _random_grid(rng: random.Random, rows: int, cols: int, palette: Sequence[int]) -> Grid:
    g = [[0] * cols for _ in range(rows)]
    if rows >= 3 and cols >= 3 and rng.random() < 0.6:  # a hollow rectangle (something to fill)
        h, w = rng.randint(3, rows), rng.randint(3, cols)
        top, left = rng.randint(0, rows - h), rng.randint(0, cols - w)
        colour = rng.choice(palette)
        for r in range(top, top + h):
            for c in range(left, left + w):
                if r in (top, top + h - 1) or c in (left, left + w - 1):
                    g[r][c] = colour
    density = rng.uniform(0.12, 0.3)
    for r in range(rows):
        for c in range(cols):
            if g[r][c] == 0 and rng.random() < density:
                g[r][c] = rng.choice(palette)
    return g


def _random_step(rng: random.Random, palette: Sequence[int], scaled: bool) -> Step:
    kinds = ["rotate", "reflect", "translate", "gravity", "fill", "copy", "recolour"] + (
        [] if scaled else ["scale"]
    )
    kind = rng.choice(kinds)
    if kind == "rotate":
        return Step("rotate", (rng.choice((90, 180, 270)),))
    if kind == "reflect":
        return Step("reflect", (rng.choice(REFLECTIONS),))
    if kind in ("translate", "copy"):
        return Step(kind, rng.choice(OFFSETS))
    if kind == "scale":
        return Step("scale", (rng.choice((2, 3)),))
    if kind == "gravity":
        return Step("gravity", (rng.choice(DIRECTIONS),))
    if kind == "fill":
        return Step("fill", (rng.randint(1, 9),))
    sources = rng.sample(list(palette), rng.randint(1, min(2, len(palette))))
    return Step(
        "recolour", tuple(sorted((s, rng.choice([c for c in range(1, 10) if c != s])) for s in sources))
    )


def _grid_shape(rng: random.Random, size: int, scale: int) -> tuple[int, int]:
    top = max(2, min(size, MAX_SIDE // scale))
    return rng.randint(max(2, top - 3), top), rng.randint(max(2, top - 3), top)


def _procedural(rng: random.Random, p: Mapping[str, Any]) -> tuple[Program, list[Grid], Grid]:
    palette = sorted(rng.sample(range(1, 10), p["colours"]))
    given = parse_program(p["rule"]) if p["rule"] else None
    if given is not None:  # the colours a hand-written recolour changes appear in the examples
        wanted = {src for s in given if s.name == "recolour" for src, _ in s.args if src}
        palette = sorted(set(palette[: max(1, p["colours"] - len(wanted))]) | wanted)
    for _ in range(500):
        if given is not None:
            program = given
        else:
            steps: list[Step] = []
            for _ in range(p["depth"]):
                steps.append(_random_step(rng, palette, any(s.name == "scale" for s in steps)))
            program = tuple(steps)
        scale = scale_factor(program)
        grids = [
            _random_grid(rng, *_grid_shape(rng, p["size"], scale), palette) for _ in range(p["examples"] + 1)
        ]
        if _meaningful(program, grids) and not any(_too_close(g, grids[-1]) for g in grids[:-1]):
            return program, grids[:-1], grids[-1]
        if given is not None and _ > 50:
            raise ParamsError(
                "parameter 'rule' is degenerate: it leaves the example grids unchanged, or has a step that changes nothing"
            )
    raise ParamsError("could not generate a task with these params")  # pragma: no cover


def _meaningful(program: Program, grids: Sequence[Grid]) -> bool:
    """Every grid is changed, every step changes some grid, and the outputs are not all alike."""
    outputs = []
    for g in grids:
        out = apply(program, g)
        if out == g:
            return False
        outputs.append(out)
    for k in range(len(program)):
        before = [apply(program[:k], g) for g in grids]
        if all(apply(program[k : k + 1], b) == b for b in before):
            return False
    return len({json.dumps(o) for o in outputs}) > 1


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    rng = seeded_rng(FAMILY_ID, VERSION, seed, {k: v for k, v in p.items() if k != "tasks"}, len(p["tasks"]))
    source = task_set(p)
    public: dict[str, Any] = {"family": FAMILY_ID, "attempts": p["attempts"]}
    if source is not None:
        label, tasks = source
        ids = sorted(tasks)
        task_id = p["task"] or ids[rng.randrange(len(ids))]
        if task_id not in tasks:
            raise ParamsError(f"parameter 'task': no task {task_id!r} in the {label} set")
        task = tasks[task_id]
        test = task["test"][rng.randrange(len(task["test"]))]
        train = task["train"]
        shown = min(p["examples"], len(train))
        public.update(
            source="imported",
            # the pairs shown are the answers to tests 1..shown, already run for the player
            examples=[{"input": k, "result": dict(train[k - 1])} for k in range(1, shown + 1)],
            test_input=test["input"],
            pairs=len(train),
            shown=shown,
            max_tests=min(p["max_tests"], len(train) - shown),
            tier=3,
        )
        hidden = {
            "rule": f"ARC-AGI-1 {label} task {task_id}"
            if label == "training"
            else f"uploaded task {task_id}",
            "task": task_id,
            "answer": test["output"],
            "pairs": train,
            "size": len(test["output"]) * len(test["output"][0]),
        }
    else:
        try:
            program, inputs, test_input = _procedural(rng, p)
        except RuleError as exc:
            raise ParamsError(f"parameter 'rule' is not a valid program: {exc.message}") from None
        public.update(
            source="procedural",
            examples=[{"input": g, "result": apply(program, g)} for g in inputs],
            test_input=test_input,
            max_side=min(p["size"], MAX_SIDE // scale_factor(program)),
            max_tests=p["max_tests"],
            tier=p["depth"],
        )
        answer_grid = apply(program, test_input)
        # "size" is the answer's, as for imported tasks: a guess's size is its cells (parsimony 1)
        hidden = {
            "rule": program_text(program),
            "answer": answer_grid,
            "size": len(answer_grid) * len(answer_grid[0]),
        }
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


# -- oracle and judge ---------------------------------------------------------------------------------------


def imported(public: Mapping[str, Any]) -> bool:
    return public.get("source") == "imported"


def _too_close(grid: Grid, test_input: Grid) -> bool:
    if len(grid) != len(test_input) or len(grid[0]) != len(test_input[0]):
        return False
    differ = int((arr(grid) != arr(test_input)).sum())
    return differ * 4 < len(grid) * len(grid[0])


def parse_query(public: Mapping[str, Any], raw: Any) -> Any:
    if imported(public):
        pairs = int(public["pairs"])
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= pairs:
            raise QueryError(
                f"a test reveals a demonstration pair: its number, 1 to {pairs}; got {_short(raw)}"
            )
        return raw
    side = int(public["max_side"])
    if isinstance(raw, str):
        try:
            raw = read_grid_text(raw)
        except ValueError as exc:
            raise QueryError(f"a probe is a grid: {exc}") from None
    try:
        grid = check_grid(raw, "a probe", side)
    except ValueError as exc:
        raise QueryError(f"{exc} (a probe is a grid of 1 to {side} rows and columns, colours 0-9)") from None
    if _too_close(grid, public["test_input"]):
        raise QueryError(
            "a probe may not be the test input, nor differ from it in fewer than a quarter of its cells: "
            "its output is what you are asked for"
        )
    return grid


def _program(instance: Instance) -> Program:
    return parse_program(instance.hidden["rule"])


def answer(instance: Instance, query: Any) -> Any:
    q = parse_query(instance.public, query)
    if imported(instance.public):
        pair = instance.hidden["pairs"][q - 1]
        return {"input": pair["input"], "output": pair["output"]}
    return apply(_program(instance), q)


def parse_guess(value: Any) -> Grid:
    """A guess: a grid (a list of rows), or its JSON text or rows of digits."""
    try:
        if isinstance(value, str):
            if len(value) > 20_000:
                raise ValueError("a grid's text has at most 20,000 characters")
            return read_grid_text(value)
        return check_grid(value, "the answer")
    except ValueError as exc:
        raise RuleError(str(exc)) from None


def check_rule(value: Any) -> dict[str, Any]:
    try:
        grid = parse_guess(value)
    except RuleError as exc:
        return {"ok": False, "error": exc.message, "column": exc.column}
    return {"ok": True, "canonical": grid, "size": len(grid) * len(grid[0])}


def rule_size(value: Any) -> int:
    grid = parse_guess(value)
    return len(grid) * len(grid[0])


def compare(expected: Grid, guess: Grid) -> tuple[float, list[list[int]]]:
    """Cell accuracy and the differing cells ``[row, column]``; 0 and every cell of the expected
    grid when the shapes differ."""
    e, g = arr(expected), arr(guess)
    if e.shape != g.shape:
        return 0.0, [[r, c] for r in range(e.shape[0]) for c in range(e.shape[1])]
    diff = np.argwhere(e != g)
    return round(float((e == g).mean()), 6), [[int(r), int(c)] for r, c in diff]


def judge(instance: Instance, guess: Any) -> Verdict:
    grid = parse_guess(guess)
    expected: Grid = instance.hidden["answer"]
    accuracy, cells = compare(expected, grid)
    correct = grid == expected
    return Verdict(
        correct=correct,
        counterexample=None if correct else {"cells": cells},
        hidden_answer=None if correct else expected,
        guess_answer=None if correct else grid,
        agreement=1.0 if correct else accuracy,
        checked=len(expected) * len(expected[0]),
    )


def solution(instance: Instance) -> Grid:
    answer_grid: Grid = instance.hidden["answer"]
    return answer_grid


def attempts(public: Mapping[str, Any]) -> int:
    return int(public.get("attempts", 1))


def score(*, solved: bool, tests_used: int, max_tests: int, agreement: float = 0.0) -> dict[str, Any]:
    return common.score(solved=solved, tests_used=tests_used, max_tests=max_tests, agreement=agreement)


def scoring_help(max_tests: int) -> str:
    return common.scoring_help(max_tests).replace(
        "how often it agreed with the hidden rule", "the share of cells right"
    )


def explain_score(s: Mapping[str, Any]) -> str:
    if s.get("solved"):
        return common.explain_score(s)
    return (
        f"Not solved ({common.plural(int(s['tests_used']), 'test')} used): 0 points; partial credit: "
        f"{float(s.get('agreement') or 0):.0%} of the cells of the last answer were right."
    )


# -- text ------------------------------------------------------------------------------------------------------


def format_grid(grid: Sequence[Sequence[int]]) -> str:
    return f"({len(grid)}x{len(grid[0])})\n" + rows_text(grid)


def format_input(value: Any) -> str:
    if isinstance(value, int):
        return f"reveal demonstration pair {value}"
    return format_grid(value)


def format_answer(value: Any) -> str:
    if isinstance(value, dict):
        return f"input {format_grid(value['input'])}\noutput {format_grid(value['output'])}"
    return format_grid(value)


def describe(public: Mapping[str, Any]) -> str:
    tries = common.plural(attempts(public), "attempt")
    lines = [
        "An ARC puzzle: the demonstration pairs show input grids and the output grid a hidden "
        "transformation makes of each. Find the transformation and give the output grid for the test input.",
        "A grid is rows of colours 0-9 (0 black, the background; 1 blue, 2 red, 3 green, 4 yellow, 5 grey, "
        "6 magenta, 7 orange, 8 light blue, 9 maroon), written here as rows of digits, one row a line.",
    ]
    if imported(public):
        more = int(public["pairs"]) - int(public["shown"])
        lines.append(
            f"You may reveal up to {public['max_tests']} more demonstration pairs (a test: the number of a pair, "
            f"{int(public['shown']) + 1} to {public['pairs']}; {more} are held back)."
            if public["max_tests"]
            else "There are no more demonstration pairs to reveal."
        )
    else:
        lines.append(
            f"A test is a probe: any grid of 1 to {public['max_side']} rows and columns (not the test input, "
            "nor one differing from it in fewer than a quarter of its cells); the answer is its output. "
            f"You may run up to {public['max_tests']} probes."
        )
    lines.append(
        f"You have {tries}: an answer is a grid (a JSON list of rows); a right one ends your game, a wrong one "
        "uses an attempt. Only an exact match is right; the share of right cells is partial credit."
    )
    return "\n".join(lines)


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    lines = ["Demonstration pairs:"]
    for i, (grid_in, grid_out) in enumerate(_observed_pairs(public, []), 1):
        lines += [f"Pair {i} input {format_grid(grid_in)}", f"Pair {i} output {format_grid(grid_out)}"]
    if history:
        lines.append("Your tests so far:")
        for i, h in enumerate(history, 1):
            lines.append(f"  {i}. {format_input(h['input'])} -> {format_answer(h['result'])}")
    else:
        lines.append("You have not run any tests yet.")
    lines.append(f"Test input {format_grid(public['test_input'])}")
    lines.append(f"Tests left: {tests_left}.")
    return "\n".join(lines)


def random_input(rng: random.Random, public: Mapping[str, Any]) -> Any:
    if imported(public):
        return rng.randint(1, int(public["pairs"]))
    side = int(public["max_side"])
    palette = list(range(1, 10))
    while True:
        grid = _random_grid(
            rng, rng.randint(1, side), rng.randint(1, side), rng.sample(palette, rng.randint(1, 4))
        )
        if not _too_close(grid, public["test_input"]):
            return grid


# -- the search over the language (solver, analytics, bench) ----------------------------------------------


@functools.lru_cache(maxsize=1)
def search_steps() -> tuple[Step, ...]:
    """Every step the search tries, simplest first (recolours are fitted to the data, not listed)."""
    steps = [Step("rotate", (k,)) for k in (90, 180, 270)]
    steps += [Step("reflect", (k,)) for k in REFLECTIONS]
    steps += [Step("gravity", (d,)) for d in DIRECTIONS]
    steps += [Step("scale", (k,)) for k in (2, 3)]
    steps += [Step("fill", (c,)) for c in range(1, 10)]
    steps += [Step("translate", o) for o in OFFSETS]
    steps += [Step("copy", o) for o in OFFSETS]
    return tuple(steps)


def _fit_recolour(got: Sequence[Array], want: Sequence[Array]) -> Step | None | bool:
    """A recolour that maps every ``got`` onto ``want``: the Step, True when none is needed, or
    None when no colour map does (a colour would have to become two)."""
    if any(g.shape != w.shape for g, w in zip(got, want)):
        return None
    codes = np.unique(np.concatenate([(g.astype(np.int16) * 10 + w).ravel() for g, w in zip(got, want)]))
    sources = codes // 10
    if len(np.unique(sources)) != len(sources):
        return None
    pairs = tuple((int(c // 10), int(c % 10)) for c in codes if c // 10 != c % 10)
    return Step("recolour", pairs) if pairs else True


def _safe(step: Step, a: Array) -> Array | None:
    try:
        return apply_step(step, a)
    except QueryError:
        return None


def consistent_programs(
    pairs: Sequence[tuple[Grid, Grid]], *, limit: int = 50, depth: int = 2, exhaustive: bool = False
) -> list[Program]:
    """Programs of up to ``depth`` listed steps (then a fitted recolour) that map every pair's input
    onto its output, simplest first (fewer steps, then the order of ``search_steps``). Unless
    ``exhaustive``, the search stops after the first length at which any program fits (Occam:
    the longer ones would only be told apart by the test input)."""
    ins = [arr(i) for i, _ in pairs]
    outs = [arr(o) for _, o in pairs]
    found: list[Program] = []

    def check(prefix: Program, got: list[Array]) -> None:
        fit = _fit_recolour(got, outs)
        if fit is True:
            found.append(prefix)
        elif isinstance(fit, Step):
            found.append((*prefix, fit))

    check((), ins)
    frontier: list[tuple[Program, list[Array]]] = [((), ins)]
    for level in range(depth):
        if found and not exhaustive:
            break
        last = level == depth - 1
        nxt: list[tuple[Program, list[Array]]] = []
        for prefix, grids in frontier:
            enclosed: list[npt.NDArray[np.bool_]] | None = None  # shared by the nine fill steps
            for step in search_steps():
                if len(found) >= limit:
                    return found
                if step.name == "fill":
                    if enclosed is None:
                        enclosed = [_enclosed(g) for g in grids]
                    if not any(m.any() for m in enclosed):
                        continue  # nothing to fill: the step would change nothing
                got: list[Array] = []
                for k, (g, want) in enumerate(zip(grids, outs)):
                    r: Array | None
                    if step.name == "fill" and enclosed is not None:
                        r = np.where(enclosed[k], np.int8(step.args[0]), g).astype(np.int8)
                    else:
                        r = _safe(step, g)
                    # on the last level an output must already have the target's shape
                    if r is None or (last and r.shape != want.shape):
                        break
                    got.append(r)
                else:
                    program = (*prefix, step)
                    check(program, got)
                    if not last:
                        nxt.append((program, got))
        frontier = nxt
    return found


def _observed_pairs(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> list[tuple[Grid, Grid]]:
    pairs: list[tuple[Grid, Grid]] = []
    for h in [*(public.get("examples") or []), *history]:
        result = h.get("result")
        if isinstance(result, dict):
            pairs.append((result["input"], result["output"]))
        elif result is not None:
            pairs.append((h["input"], result))
    return pairs


def _outputs(programs: Sequence[Program], grid: Grid) -> list[Grid]:
    """The distinct outputs of ``programs`` on ``grid``, in their order."""
    seen: list[Grid] = []
    for program in programs:
        try:
            out = apply(program, grid)
        except QueryError:
            continue
        if out not in seen:
            seen.append(out)
    return seen


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per test: the programs of up to two listed steps (plus a fitted recolour) consistent with
    everything seen before and after it (at most 50 counted), and whether the test was redundant
    (every survivor predicted its answer)."""
    out = []
    base = _observed_pairs(public, [])
    for step, h in enumerate(history, 1):
        before = consistent_programs(base + _observed_pairs({}, history[: step - 1]))
        after = consistent_programs(base + _observed_pairs({}, history[:step]))
        pair = _observed_pairs({}, [h])[0]
        predictions = _outputs(before, pair[0])
        out.append(
            {
                "step": step,
                "input": h["input"],
                "result": h["result"],
                "surviving_before": len(before),
                "surviving": len(after),
                "bits": None if not after else float(np.log2(max(1, len(before)) / len(after))),
                "redundant": None if not before else len(predictions) <= 1,
                "p_true": None,
                "space_exhausted": not after,
            }
        )
    return out


class SearchSolver:
    """Finds the programs consistent with the demonstrations (and what its tests showed). While
    they disagree on the test input and tests are left, it reveals the next held-back pair or
    probes the grid that splits them most; then it answers with the outputs they give, most
    simple first, one per attempt (``guesses``: its earlier wrong answers). With no consistent
    program it answers with the test input unchanged."""

    name = "search"

    def __init__(self, public: Mapping[str, Any], seed: int, *, random_play: bool = False) -> None:
        self.public = public
        self.seed = seed
        self.random_play = random_play

    def act(
        self, history: Sequence[Mapping[str, Any]], tests_left: int, guesses: Sequence[Any] = ()
    ) -> dict[str, Any]:
        rng = random.Random(f"arc-solver:{self.seed}:{len(history)}:{len(guesses)}")
        test_input = self.public["test_input"]
        if self.random_play:
            if tests_left > 0:
                return {"type": "test", "input": self._next_test(rng, history, [])}
            seen = _observed_pairs(self.public, history)
            colours = sorted({c for _, out in seen for row in out for c in row}) or [0]
            rows, cols = len(test_input), len(test_input[0])
            return {
                "type": "guess",
                "rule": [[rng.choice(colours) for _ in range(cols)] for _ in range(rows)],
            }
        programs = consistent_programs(_observed_pairs(self.public, history))
        outputs = [o for o in _outputs(programs, test_input) if o not in guesses]
        if tests_left > 0 and len(outputs) != 1:
            test = self._next_test(rng, history, programs)
            if test is not None:
                return {"type": "test", "input": test}
        if not outputs:
            outputs = [test_input] if test_input not in guesses else [[[0]]]
        return {"type": "guess", "rule": outputs[0]}

    def _next_test(
        self, rng: random.Random, history: Sequence[Mapping[str, Any]], programs: Sequence[Program]
    ) -> Any:
        if imported(self.public):
            seen = {int(h["input"]) for h in history}
            left = [
                k
                for k in range(int(self.public["shown"]) + 1, int(self.public["pairs"]) + 1)
                if k not in seen
            ]
            return left[0] if left else None
        candidates = [random_input(rng, self.public) for _ in range(12 if programs else 1)]
        if not programs:
            return candidates[0]
        return max(candidates, key=lambda g: len(_outputs(programs[:20], g)))


def training_solve_share(task_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The search on the ARC-AGI-1 training tasks as ARC scores them: every demonstration pair
    shown, the consistent programs' distinct outputs on each test input as the attempts (top 1,
    2 and 3); a task counts as solved when all its test inputs are. No probes or reveals."""
    tasks = training_tasks()
    ids = list(task_ids) if task_ids is not None else sorted(tasks)
    solved = {1: 0, 2: 0, 3: 0}
    found_any = 0
    names: list[str] = []
    for task_id in ids:
        task = tasks[task_id]
        programs = consistent_programs([(p["input"], p["output"]) for p in task["train"]])
        found_any += bool(programs)
        ranks = []
        for test in task["test"]:
            outputs = _outputs(programs, test["input"])
            ranks.append(outputs.index(test["output"]) + 1 if test["output"] in outputs else None)
        for k in solved:
            if all(r is not None and r <= k for r in ranks):
                solved[k] += 1
        if all(r is not None and r <= 3 for r in ranks):
            names.append(task_id)
    n = len(ids)
    return {
        "tasks": n,
        "solved_top1": solved[1],
        "solved_top2": solved[2],
        "solved_top3": solved[3],
        "solve_share_top3": round(solved[3] / n, 4) if n else None,
        "solve_share_top2": round(solved[2] / n, 4) if n else None,
        "with_a_consistent_program": found_any,
        "solved_ids": names,
    }


def _search(public: Mapping[str, Any], seed: int) -> SearchSolver:
    return SearchSolver(public, seed)


def _random(public: Mapping[str, Any], seed: int) -> SearchSolver:
    return SearchSolver(public, seed, random_play=True)


# -- presentation and variants ---------------------------------------------------------------------------------

GRID_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_SIDE,
    "items": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_SIDE,
        "items": {"type": "integer", "minimum": 0, "maximum": 9},
    },
    "description": "a grid: a list of rows, each a list of colours 0-9 (0 is the background)",
    # every row as long as the first (a structured reply's schema writes one alternative per width)
    "x-rectangular": True,
}
PAIR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["input", "output"],
    "properties": {"input": GRID_SCHEMA, "output": GRID_SCHEMA},
    "description": "a demonstration pair: an input grid and its output grid",
}
GRID_EXAMPLE = "[[0, 1], [2, 0]]"
PALETTE = [{"value": i, "name": name} for i, name in enumerate(COLOURS)]
SYNTAX_HELP = (
    "Draw the output grid: pick a colour and click or drag over cells, or move with the arrow keys and "
    "type a digit 0-9. Models answer with a JSON list of rows, e.g. [[0, 1], [2, 0]]."
)


def present(public: Mapping[str, Any]) -> Presentation:
    tries = attempts(public)
    common_fields: dict[str, Any] = {
        "guess_schema": GRID_SCHEMA,
        "guess_widget": {
            "kind": "grid",
            "palette": PALETTE,
            "max_side": MAX_SIDE,
            "source": "test_input",
            "attempts": tries,
        },
        "rule_example": GRID_EXAMPLE,
        "guess_label": "the output grid for the test input",
        "syntax_help": SYNTAX_HELP,
        "format_input": format_input,
        "format_answer": format_answer,
        "value_display": "grid",
        "guess_placeholder": "[[0, 1], [2, 0]]",
        "guess_noun": f"give the output grid for the test input ({common.plural(tries, 'attempt')}; a right one "
        "ends your game)",
    }
    if imported(public):
        pairs, shown = int(public["pairs"]), int(public["shown"])
        return Presentation(
            input_schema={
                "type": "integer",
                "minimum": 1,
                "maximum": pairs,
                "description": "a demonstration pair's number",
            },
            answer_schema=PAIR_SCHEMA,
            widget={"kind": "reveal", "label": "demonstration pair", "first": shown + 1, "last": pairs},
            test_noun="reveal one more demonstration pair",
            input_placeholder=str(min(shown + 1, pairs)),
            input_example=min(shown + 1, pairs),
            **common_fields,
        )
    side = int(public["max_side"])
    return Presentation(
        input_schema={**GRID_SCHEMA, "maxItems": side, "items": {**GRID_SCHEMA["items"], "maxItems": side}},
        answer_schema=GRID_SCHEMA,
        widget={"kind": "grid", "palette": PALETTE, "max_side": side, "source": "test_input"},
        test_noun="probe a grid",
        input_placeholder="[[1, 0], [0, 1]]",
        input_example=[[c % 10 for c in range(1 + r, side + 1 + r)] for r in range(side)],
        **common_fields,
    )


_DEFAULT_PUBLIC = {"source": "procedural", "max_side": 6, "attempts": 3, "test_input": [[0]]}
PRESENTATION = Presentation(
    **{
        **{k: v for k, v in vars(present(_DEFAULT_PUBLIC)).items()},
        "answer_schema": {"anyOf": [GRID_SCHEMA, PAIR_SCHEMA]},
    }
)

VARIANTS = (
    VariantSpec(
        slug="arc-level-1",
        title="ARC level 1: one transformation",
        params={"depth": 1, "size": 6, "colours": 3, "attempts": 3, "max_tests": 3},
        description="A small grid task drawn from one transformation (rotate, reflect, recolour, gravity, ...).",
    ),
    VariantSpec(
        slug="arc-level-2",
        title="ARC level 2: two transformations",
        params={"depth": 2, "size": 8, "colours": 4, "attempts": 3, "max_tests": 4},
        description="Two grid transformations composed, on grids up to 8 by 8.",
    ),
    VariantSpec(
        slug="arc-level-3",
        title="ARC level 3: an ARC-AGI-1 training task",
        params={"source": "training", "examples": 2, "attempts": 2, "max_tests": 2},
        description="One of the 400 ARC-AGI-1 training tasks: two demonstration pairs shown, up to two more "
        "to reveal, two attempts.",
    ),
)

FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="ARC grid transformations",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=score,
        describe=describe,
        render_observation=render_observation,
        solvers={"search": _search, "random": _random},
        step_analytics=step_analytics,
        reference_space=ReferenceSpace(
            "estimated",
            "The programs of the procedural grid language with at most two listed steps (plus a recolour "
            "fitted to the data) that agree with every pair seen; at most 50 are counted. Procedural "
            "tasks of depth 3 and most imported ARC tasks lie outside it (the analytics then report it "
            "exhausted), so the counts estimate the true space.",
        ),
        rule_size=rule_size,
        presentation=PRESENTATION,
        present=present,
        variants=VARIANTS,
        random_input=random_input,
        solution=solution,
        attempts=attempts,
        read_upload=read_upload,
        scoring_help=scoring_help,
        explain_score=explain_score,
        extras={
            "parse_program": parse_program,
            "apply": apply,
            "read_task_upload": read_task_upload,
            "training_tasks": training_tasks,
            "bench_corpus": training_solve_share,
        },
    )
)

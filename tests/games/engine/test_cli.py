"""``python -m games.engine``: JSON out, exit code 2 with a JSON error on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, stdin: str | None = None) -> tuple[int, list]:
    proc = subprocess.run(
        [sys.executable, "-m", "games.engine", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines


def test_families() -> None:
    code, [out] = run("families")
    assert code == 0
    wason = next(f for f in out if f["id"] == "wason")
    assert wason["version"] >= 1 and "tier" in wason["params_schema"]["properties"]


def test_generate_includes_the_hidden_rule_and_is_deterministic() -> None:
    code, [a] = run("generate", "--family", "wason", "--seed", "7", "--difficulty", "3")
    _, [b] = run("generate", "--family", "wason", "--seed", "7", "--params", '{"tier": 3}')
    assert code == 0 and a == b and a["hidden"]["rule"] and a["params"]["tier"] == 3


def test_check_rule() -> None:
    assert run("check-rule", "--family", "wason", "x<y<z") == (
        0,
        [{"ok": True, "canonical": "x < y < z", "size": 4}],
    )
    code, [out] = run("check-rule", "--family", "wason", "open(x) > 1")
    assert code == 2 and out["ok"] is False and out["column"] == 1 and "open" in out["error"]


def test_rule_equiv_single_and_batch(tmp_path: Path) -> None:
    code, [out] = run("rule-equiv", "--family", "wason", "x < y and y < z", "z > y > x")
    assert (
        code == 0 and out["equivalent"] is True and out["counterexample"] is None and out["checked"] > 78_000
    )
    code, [out] = run("rule-equiv", "--family", "wason", "x < y", "x <= y")
    assert out["equivalent"] is False and out["counterexample"] == [0, 0, 0] and out["ms"] >= 0
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"a": "x < y", "b": "y > x"}\n{"a": "x > 0", "b": "x >= 0"}\nnot json\n')
    code, lines = run("rule-equiv", "--family", "wason", "--pairs", str(pairs))
    assert code == 2
    assert lines[0]["equivalent"] is True and lines[1]["equivalent"] is False
    assert lines[2]["ok"] is False and lines[2]["line"] == 3


def test_play() -> None:
    code, [out] = run(
        "play", "--family", "wason", "--seed", "1", "--rule", "x < y < z", "--solver", "infogain"
    )
    assert code == 0
    assert out["solved"] is True and out["tests_used"] == len(out["steps"])
    assert out["steps"][0]["surviving"] <= out["steps"][0]["surviving_before"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "--family", "nope", "--seed", "1"), "unknown family 'nope'"),
        (("generate", "--family", "wason", "--seed", "x"), "invalid int value"),
        (("generate", "--family", "wason", "--seed", "1", "--params", "{bad"), "not valid JSON"),
        (("generate", "--family", "wason", "--seed", "1", "--difficulty", "9"), "must be <= 5"),
        (("play", "--family", "wason", "--seed", "1", "--solver", "oracle"), "unknown solver 'oracle'"),
        (
            ("play", "--family", "wason", "--seed", "1", "--rule", "x ==", "--solver", "random"),
            "not a valid rule",
        ),
        (("rule-equiv", "--family", "wason", "x < y"), "needs two rules"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_a_json_error(args: tuple[str, ...], message: str) -> None:
    code, [out] = run(*args)
    assert code == 2 and out["ok"] is False and message in out["error"]

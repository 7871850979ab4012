"""arena.gctune: with ARENA_GC_TUNE=1 a serving process hides what start-up made from the cyclic
collector; without it, the collector is left as Python sets it. Run in a fresh interpreter: freezing is for the life of a process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import gc; before = gc.get_threshold(); from arena import gctune; done = gctune.settle(); "
    "print(done, gc.get_freeze_count() > 1000, before[0], gc.get_threshold()[0])"
)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(None, "False False 700 700"), ("1", f"True True 700 {20_000}"), ("0", "False False 700 700")],
)
def test_settle_freezes_start_up_and_raises_the_youngest_threshold_only_when_asked(setting, expected):
    env = {k: v for k, v in os.environ.items() if k != "ARENA_GC_TUNE"}
    if setting is not None:
        env["ARENA_GC_TUNE"] = setting
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split() == expected.split()

"""Worker warm-up: every family's reference spaces are built before the first task, in the
worker's main process (so its pool children inherit them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from games.engine.core import all_families

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
import django
django.setup()
from games.engine.families import blackbox, eleusis, wason
caches = lambda: {
    "eleusis": eleusis.reference_space.cache_info().currsize,
    "wason": wason.domain.cache_info().currsize,
    "blackbox": blackbox.reference_space.cache_info().currsize,
}
before = caches()
from workers.warmup import warm_up
report = warm_up()
print(json.dumps({"before": before, "after": caches(), "report": report}))
"""


@pytest.mark.timeout(900)
def test_warm_up_builds_every_familys_reference_spaces_in_a_fresh_process() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True, timeout=900
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["before"] == {"eleusis": 0, "wason": 0, "blackbox": 0}
    assert all(size >= 1 for size in data["after"].values()), data["after"]
    report = data["report"]
    for family in all_families():
        assert report[family.id]["variants"] == len(family.variants), family.id
        assert report[family.id]["solvers"] == sorted(family.solvers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(900)
def test_a_worker_warms_up_before_it_is_ready(tmp_path) -> None:
    from tests.workers.worker import Worker

    worker = Worker(log_path=tmp_path / "worker.log", extra_env={"ARENA_WORKER_WARMUP": "1"})
    try:
        worker.wait_ready(timeout=600)
        text = worker.output()
        warmed = text.index("worker warm-up: reference spaces of")
        assert warmed < text.index("ready.")
        assert f"of {len(all_families())} families" in text
    finally:
        worker.stop()

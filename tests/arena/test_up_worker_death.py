"""`manage.py up` survives the death of its whole worker: ten model races are running, the
worker (main process and pool children) is SIGKILLed, `up` starts it again by itself, and every
race finishes with nothing lost and nothing written twice.

The broker's visibility timeout (10 minutes) and ARENA_MODEL_STALL_S (an hour here) are far
beyond the test's hang guard, so the races can only finish because the new worker's sweep finds
the dead worker's turns and queues them again."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.arena.test_up import children_of, free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
RACES = 10

pytestmark = pytest.mark.timeout(600)

# Two built-in solvers that take a quarter of a second a reply, so the races are still running
# when the worker is killed.
SETUP = """
import json
from games.play import services
from games.models import ModelContestant
for slug, solver in (("slow-infogain", "infogain"), ("slow-random", "random")):
    ModelContestant.objects.create(
        slug=slug, name=slug, backend="builtin", model=solver, sampling={"think_s": 0.25},
        max_concurrent_matches=RACES, max_calls=200,
    )
variant = services.variant_create(
    slug="worker-death", family="wason", title="Worker death", params={"tier": 1, "max_tests": 12},
    published=True,
)
ids = [
    services.race_create(variant=variant, opponents=["slow-infogain", "slow-random"], seed=seed)[0].pk
    for seed in range(RACES)
]
print("MATCHES", json.dumps(ids))
""".replace("RACES", str(RACES))


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def descendants(pid: int) -> set[int]:
    found = set()
    for child in children_of(pid):
        found |= {child} | descendants(child)
    return found


def celery_worker_of(up_pid: int) -> int | None:
    alive = [p for p in children_of(up_pid) if " celery " in cmdline(p) and state(p) not in ("Z", "gone")]
    return alive[0] if alive else None


@pytest.fixture
def data_env():
    data = Path("/tmp") / f"arena-wd-{os.getpid()}"
    shutil.rmtree(data, ignore_errors=True)
    stripped = ("ARENA_DATABASE_URL", "ARENA_REDIS_URL", "ARENA_DATA_DIR", "ARENA_CELERY_QUEUE")
    env = {k: v for k, v in os.environ.items() if k not in stripped}
    env.update(
        {
            "ARENA_DATA_DIR": str(data),  # SQLite + the embedded Redis, as on a fresh machine
            "ARENA_MODEL_STALL_S": "3600",
            "ARENA_SWEEP_S": "2",
            "ARENA_WORKER_HEARTBEAT_S": "1",
            "ARENA_LOG_LEVEL": "WARNING",
            "ARENA_WORKER_WARMUP": "0",  # each restart would build the spaces again: not what is tested
        }
    )
    yield env, data
    shutil.rmtree(data, ignore_errors=True)


def test_up_restarts_a_killed_worker_and_every_race_finishes_with_a_clean_log(data_env) -> None:
    env, data = data_env
    port = free_port()
    log_path = Path("/tmp") / f"arena-wd-{os.getpid()}.log"
    log = open(log_path, "w+")  # noqa: SIM115
    up = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--port", str(port), "--workers", "2"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )

    def output() -> str:
        log.flush()
        return log_path.read_text(errors="replace")

    db = None
    try:

        def home_ok() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(home_ok, 120, "the home page")
        first_worker = wait_for(lambda: celery_worker_of(up.pid), 30, "the celery worker")
        made = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SETUP],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr[-3000:]
        match_ids = json.loads(made.stdout.split("MATCHES", 1)[1])
        assert len(match_ids) == RACES

        db = sqlite3.connect(f"file:{data / 'arena.sqlite3'}?mode=ro", uri=True, timeout=30)
        marks = ",".join("?" * len(match_ids))

        def steps_written() -> int:
            return db.execute(
                f"SELECT COUNT(*) FROM games_step s JOIN games_seat t ON s.seat_id = t.id "
                f"WHERE t.match_id IN ({marks})",
                match_ids,
            ).fetchone()[0]

        def running() -> int:
            return db.execute(
                f"SELECT COUNT(*) FROM games_match WHERE id IN ({marks}) AND status = 'running'", match_ids
            ).fetchone()[0]

        # Kill once the races are well under way, while most are still running.
        wait_for(lambda: steps_written() >= 20, 180, "20 steps")
        assert running() >= RACES // 2, "the races ended too fast to kill the worker in the middle"
        for pid in {first_worker} | descendants(first_worker):
            os.kill(pid, signal.SIGKILL)
        killed_at_steps = steps_written()
        killed_at = time.monotonic()

        second_worker = wait_for(
            lambda: (pid := celery_worker_of(up.pid)) not in (None, first_worker) and pid,
            60,
            "up to start the worker again",
        )
        restarted_s = time.monotonic() - killed_at
        wait_for(lambda: steps_written() > killed_at_steps, 120, "the races to go on")
        resumed_s = time.monotonic() - killed_at
        assert up.poll() is None, output()[-3000:]  # up went on
        assert "starting it again" in output()

        wait_for(lambda: running() == 0, 300, "every race to finish")
        finished_s = time.monotonic() - killed_at
        assert steps_written() > killed_at_steps
        assert celery_worker_of(up.pid) == second_worker  # one restart was enough

        statuses = dict(db.execute(f"SELECT id, status FROM games_match WHERE id IN ({marks})", match_ids))
        assert set(statuses.values()) == {"finished"}, statuses
        seats = db.execute(
            f"SELECT id, status FROM games_seat WHERE match_id IN ({marks})", match_ids
        ).fetchall()
        assert len(seats) == 2 * RACES
        assert not [s for s in seats if s[1] == "playing"]
        for seat_id, _status in seats:
            rows = db.execute(
                "SELECT seq, idempotency_key FROM games_step WHERE seat_id = ? ORDER BY seq", (seat_id,)
            ).fetchall()
            seqs = [seq for seq, _ in rows]
            keys = [key for _, key in rows]
            assert seqs == list(range(1, len(rows) + 1)), (seat_id, seqs)  # nothing lost
            assert keys == [f"turn-{n}" for n in seqs], (seat_id, keys)  # one step per turn, no twins
        calls = dict(db.execute("SELECT error_class, COUNT(*) FROM games_modelcall GROUP BY error_class"))
        assert "in_flight" not in calls, calls  # a call the kill cut short is closed as interrupted
        # Figures for the report, not assertions: seconds after the kill.
        figures = {
            "worker_restarted_s": round(restarted_s, 1),
            "first_step_after_kill_s": round(resumed_s, 1),
            "all_races_finished_s": round(finished_s, 1),
            "steps_at_kill": killed_at_steps,
            "steps_total": steps_written(),
            "model_calls": calls,
        }
        print(json.dumps(figures))
    except BaseException:
        print(output()[-6000:])
        raise
    finally:
        if db is not None:
            db.close()
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=40)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        log.close()
    assert up.returncode == 0

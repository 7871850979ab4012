"""Start a real Celery worker process on the test database and the test broker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from arena.embedded import celery_worker_argv

REPO = Path(__file__).resolve().parents[2]


def test_queue() -> str:
    return f"arena-test-{os.getpid()}"


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


def point_the_app_at_the_test_queue() -> None:
    from arena.celery import app

    app.conf.update(task_default_queue=test_queue(), broker_url=settings.CELERY_BROKER_URL)


class Worker:
    def __init__(
        self, *, visibility_timeout: int = 600, log_path: Path | None = None, extra_env: dict | None = None
    ):
        env = dict(os.environ)
        env.update(
            {
                "ARENA_DATABASE_URL": database_url(),
                "ARENA_DB_CONN_MAX_AGE": "0",
                "ARENA_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "ARENA_CHANNEL_REDIS_URL": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
                "ARENA_CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
                "ARENA_CELERY_QUEUE": test_queue(),
                "ARENA_CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
                "ARENA_CELERY_RESTORE_SWEEP_S": "1",
                "ARENA_MODEL_RETRY_BASE_S": "0.05",
                "ARENA_MODEL_RETRY_CAP_S": "2",
                "ARENA_WORKER_WARMUP": "0",  # seconds of CPU per start; tests/workers/test_warmup.py has it on
                **(extra_env or {}),
            }
        )
        self.log_path = log_path or Path(f"/tmp/arena-worker-{os.getpid()}-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            celery_worker_argv(
                queue=test_queue(), concurrency=1, loglevel="INFO", extra=("--pool", "prefork")
            ),
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.output()[-3000:]}")
            if "ready." in self.output():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready: {self.output()[-3000:]}")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        """SIGKILL the whole worker (main process and its pool children) at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


def take_queued(limit: int = 100) -> list[tuple[str, tuple, int]]:
    """Pop the messages waiting in the test queue: (task name, args, retries) each."""
    from arena.celery import app

    taken = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(test_queue())
        try:
            while len(taken) < limit:
                try:
                    message = queue.get(timeout=0.2)
                except queue.Empty:
                    break
                args, _kwargs, _embed = message.decode()
                taken.append((message.headers["task"], tuple(args), int(message.headers.get("retries") or 0)))
                message.ack()
        finally:
            queue.close()
    return taken

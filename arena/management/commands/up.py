"""`python manage.py up`: the whole arena on one machine with nothing installed but Python.

Migrates the database, starts the embedded Redis (unless ARENA_REDIS_URL is set; it keeps an
append-only file in ARENA_DATA_DIR, so queued turns outlive a restart), a Celery worker and the
ASGI server as child processes, prints the URL and stops every child on Ctrl-C / SIGTERM. A
worker that dies is started again (after 1 s, doubling up to 30 s while it keeps dying; the work
it held is picked up by the new worker's sweep). Each child gets a parent-death signal, so even a
SIGKILLed launcher leaves nothing running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from arena import embedded, wslog

# A worker that ran this long before dying is restarted after 1 s; one that dies sooner waits
# twice as long as last time, up to RESTART_MAX_S.
RESTART_RESET_S = 60.0
RESTART_MAX_S = 30.0


def default_web_workers() -> int:
    """One ASGI process per core, at most 4 (the Celery worker and Redis want a share too)."""
    return max(1, min(os.cpu_count() or 1, 4))


class Command(BaseCommand):
    help = "Run the arena: migrate, embedded Redis, a Celery worker and the ASGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (concurrency)")
        parser.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
        parser.add_argument(
            "--web-workers",
            type=int,
            default=None,
            help="ASGI server processes (default: one per core, at most 4)",
        )

    def handle(
        self, *args, host: str, port: int, workers: int, no_worker: bool, web_workers: int | None, **options
    ):
        self.web_workers = web_workers if web_workers is not None else default_web_workers()
        if self.web_workers < 1:
            raise CommandError("--web-workers must be at least 1")
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.specs: dict[str, tuple[list[str], dict[str, str], Path]] = {}
        self.started_at: dict[str, float] = {}
        self.restart_at: float | None = None
        self.restart_delay = 1.0
        self.restarts = 0
        self.stopping = False
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._run(host=host, port=port, workers=workers, no_worker=no_worker)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum, frame):
        self.stopping = True

    def _run(self, *, host: str, port: int, workers: int, no_worker: bool) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"database ready: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")

        env = os.environ.copy()
        env["ARENA_DATA_DIR"] = str(settings.DATA_DIR)
        env.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
        env["PYTHONUNBUFFERED"] = "1"
        if not settings.REDIS_URL:
            try:
                proc = embedded.start_redis(
                    Path(settings.EMBEDDED_REDIS_SOCKET), persist_dir=Path(settings.DATA_DIR)
                )
            except (RuntimeError, ValueError) as exc:
                raise CommandError(str(exc)) from None
            self.children.append(("redis", proc))
            self.stdout.write(f"embedded redis on unix://{settings.EMBEDDED_REDIS_SOCKET}")
        else:
            self.stdout.write(f"using redis at {settings.REDIS_URL}")
        if not settings.CACHE_URL:  # every web process counts against one rate budget
            env["ARENA_CACHE_URL"] = f"unix://{settings.EMBEDDED_REDIS_SOCKET}"
        # Web and worker processes write their metrics here; /metrics sums them.
        metrics_dir = Path(settings.DATA_DIR) / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

        base = Path(settings.BASE_DIR)
        if not no_worker:
            self._spawn(
                "celery",
                embedded.celery_worker_argv(concurrency=max(workers, 1), heartbeat=True),
                env=env,
                cwd=base,
            )
        self._spawn(
            "asgi",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "arena.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                "--no-access-log",
                "--ws-max-size",  # uvicorn's default buffers frames up to 16 MiB
                str(wslog.WS_MAX_MESSAGE_BYTES),
                "--workers",
                str(self.web_workers),
            ],
            env=env,
            cwd=base,
        )
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write(f"{self.web_workers} web process(es) on port {port}")
        self.stdout.write(
            self.style.SUCCESS(f"Induction Arena is up: http://{shown_host}:{port}/  (Ctrl-C to stop)")
        )
        self.stdout.flush()

        while not self.stopping:
            for name, proc in self.children:
                if proc.poll() is not None and name != "celery":
                    raise CommandError(f"{name} exited unexpectedly with code {proc.returncode}; stopping")
            self._keep_the_worker_alive()
            time.sleep(0.2)
        self.stdout.write("stopping…")

    def _keep_the_worker_alive(self) -> None:
        """Start a dead worker again, with a backoff while it keeps dying soon after starting."""
        worker = next((proc for name, proc in self.children if name == "celery"), None)
        if worker is None or worker.poll() is None:
            return
        now = time.monotonic()
        if self.restart_at is None:
            ran_s = now - self.started_at["celery"]
            self.restart_delay = (
                1.0 if ran_s >= RESTART_RESET_S else min(self.restart_delay * 2, RESTART_MAX_S)
            )
            self.restart_at = now + self.restart_delay
            self.stderr.write(
                self.style.WARNING(
                    f"celery worker (pid {worker.pid}) exited with code {worker.returncode} after "
                    f"{ran_s:.0f} s; starting it again in {self.restart_delay:.0f} s"
                )
            )
            self.stderr.flush()
            return
        if now < self.restart_at:
            return
        self.restart_at = None
        self.children = [(name, proc) for name, proc in self.children if proc is not worker]
        argv, env, cwd = self.specs["celery"]
        self._spawn("celery", argv, env=env, cwd=cwd)
        self.restarts += 1
        new = self.children[-1][1]
        self.stderr.write(
            self.style.WARNING(f"celery worker started again (pid {new.pid}, restart {self.restarts})")
        )
        self.stderr.flush()

    def _spawn(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path) -> None:
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, preexec_fn=embedded.die_with_parent
        )
        self.children.append((name, proc))
        self.specs[name] = (argv, env, cwd)
        self.started_at[name] = time.monotonic()

    def _stop_all(self) -> None:
        # Reverse start order: the server stops taking moves before the broker goes away.
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for _name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.children = []

"""`python manage.py up`: the whole arena on one machine with nothing installed but Python.

Migrates the database, starts the embedded Redis (unless ARENA_REDIS_URL is set; it keeps an
append-only file in ARENA_DATA_DIR, so queued turns outlive a restart), a Celery worker and the
ASGI server as child processes (with ``--local-model`` also llama.cpp's server for SmolLM2-135M,
see arena/localmodel.py), prints the URL and stops every child on Ctrl-C / SIGTERM. A worker (or
the local model server) that dies is started again (after 1 s, doubling up to 30 s while it keeps dying; the work
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
from django.db import connection

from arena import embedded, localmodel, wslog

# A worker that ran this long before dying is restarted after 1 s; one that dies sooner waits
# twice as long as last time, up to RESTART_MAX_S.
RESTART_RESET_S = 60.0
RESTART_MAX_S = 30.0
# The children started again when they die (the others stop the arena): name -> what the log calls it.
RESTARTED = {"celery": "celery worker", "local-model": "local model server", "move-writer": "move writer"}


def default_web_workers() -> int:
    """One ASGI process per core, at most 4 (the Celery worker and Redis want a share too)."""
    return max(1, min(os.cpu_count() or 1, 4))


class Command(BaseCommand):
    help = "Run the arena: migrate, embedded Redis, a Celery worker and the ASGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Celery worker processes (concurrency); default 1, or 2 with --local-model",
        )
        parser.add_argument(
            "--local-model",
            action="store_true",
            help="also serve SmolLM2-135M with llama.cpp on a loopback port and make sure the contestant "
            f"'{localmodel.NAME}' points at it (needs pip install -e \".[local]\")",
        )
        parser.add_argument(
            "--local-model-port",
            type=int,
            default=localmodel.DEFAULT_PORT,
            help=f"loopback port of the local model server (default {localmodel.DEFAULT_PORT}; 0 = any free port)",
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
        parser.add_argument(
            "--no-move-writer",
            action="store_true",
            help="SQLite: each web process writes its own sockets' moves, instead of one move writer "
            "process writing them all (games/play/writer.py)",
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=None,
            help="ASGI server processes (default: one per core, at most 4)",
        )

    def handle(
        self,
        *args,
        host: str,
        port: int,
        workers: int | None,
        no_worker: bool,
        web_workers: int | None,
        local_model: bool = False,
        local_model_port: int = localmodel.DEFAULT_PORT,
        no_move_writer: bool = False,
        **options,
    ):
        self.move_writer = not no_move_writer
        self.web_workers = web_workers if web_workers is not None else default_web_workers()
        if self.web_workers < 1:
            raise CommandError("--web-workers must be at least 1")
        if workers is None:
            # A model-only race on the local model: one worker process per seat, so a seat's turn
            # never waits behind the other's (the server answers them one after the other).
            workers = 2 if local_model else 1
        self.local_model = None
        if local_model:
            try:
                model = localmodel.gguf_path()
                model_port = local_model_port or localmodel.free_port()
                argv = localmodel.server_argv(model, model_port)
            except localmodel.LocalModelMissing as exc:
                raise CommandError(str(exc)) from None
            self.local_model = (argv, localmodel.base_url(model_port))
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.specs: dict[str, tuple[list[str], dict[str, str], Path]] = {}
        self.started_at: dict[str, float] = {}
        self.restart_at: dict[str, float | None] = {}
        self.restart_delay: dict[str, float] = {}
        self.restarts: dict[str, int] = {}
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
        if self.local_model is not None:
            argv, url = self.local_model
            self._spawn("local-model", argv, env=env, cwd=base)
            contestant, created = localmodel.ensure_contestant(url)
            self.stdout.write(
                f"local model: llama.cpp server at {url} (pid {self.children[-1][1].pid}); contestant "
                f"'{contestant.name}' ({contestant.slug}) {'created' if created else 'points at it'}"
            )
        if not no_worker:
            self._spawn(
                "celery",
                embedded.celery_worker_argv(concurrency=max(workers, 1), heartbeat=True),
                env=env,
                cwd=base,
            )
        if self.move_writer and connection.vendor == "sqlite":
            # One process writes every web process's moves, in groups (games/play/writer.py): the
            # web processes no longer take turns at SQLite's write lock, and a move's database work
            # runs beside the event loops instead of holding up one of them.
            where = embedded.socket_path_for(Path(settings.DATA_DIR), "move-writer.sock")
            where.parent.mkdir(parents=True, exist_ok=True)
            where.unlink(missing_ok=True)
            env["ARENA_WS_WRITER"] = str(where)
            self._spawn(
                "move-writer",
                [sys.executable, str(base / "manage.py"), "move_writer", "--socket", str(where)],
                env=env,
                cwd=base,
            )
            self._wait_for_socket("move-writer", where)
            self.stdout.write(f"move writer on unix://{where}")
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
                # A match's messages are a few hundred bytes of JSON: compressing each one cost
                # 6-19 % of a move's server CPU and a zlib state per socket (issue 21).
                "--ws-per-message-deflate",
                "false",
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
                if proc.poll() is not None and name not in RESTARTED:
                    raise CommandError(f"{name} exited unexpectedly with code {proc.returncode}; stopping")
            for name in RESTARTED:
                self._keep_alive(name)
            time.sleep(0.2)
        self.stdout.write("stopping…")

    def _wait_for_socket(self, name: str, where: Path, timeout: float = 60.0) -> None:
        proc = next(proc for n, proc in self.children if n == name)
        deadline = time.monotonic() + timeout
        while not where.exists():
            if proc.poll() is not None:
                raise CommandError(f"{name} exited with code {proc.returncode} before it was ready; stopping")
            if time.monotonic() > deadline:
                raise CommandError(f"{name} did not open {where} within {timeout:.0f} s; stopping")
            time.sleep(0.05)

    def _keep_alive(self, name: str) -> None:
        """Start a dead child again (the worker, the local model server), with a backoff while it
        keeps dying soon after starting."""
        child = next((proc for n, proc in self.children if n == name), None)
        if child is None or child.poll() is None:
            return
        label = RESTARTED[name]
        now = time.monotonic()
        if self.restart_at.get(name) is None:
            ran_s = now - self.started_at[name]
            delay = self.restart_delay.get(name, 1.0)
            delay = 1.0 if ran_s >= RESTART_RESET_S else min(delay * 2, RESTART_MAX_S)
            self.restart_delay[name] = delay
            self.restart_at[name] = now + delay
            self.stderr.write(
                self.style.WARNING(
                    f"{label} (pid {child.pid}) exited with code {child.returncode} after "
                    f"{ran_s:.0f} s; starting it again in {delay:.0f} s"
                )
            )
            self.stderr.flush()
            return
        if now < (self.restart_at[name] or 0):
            return
        self.restart_at[name] = None
        self.children = [(n, proc) for n, proc in self.children if proc is not child]
        argv, env, cwd = self.specs[name]
        self._spawn(name, argv, env=env, cwd=cwd)
        self.restarts[name] = self.restarts.get(name, 0) + 1
        new = self.children[-1][1]
        self.stderr.write(
            self.style.WARNING(f"{label} started again (pid {new.pid}, restart {self.restarts[name]})")
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

"""Who this worker process is, and its heartbeat.

Every Celery worker gets an id when it starts (host, pid and a random suffix, so a restarted
worker is a new one), kept in the environment so the pool's child processes share it. Its main
process writes a beat (``games.models.WorkerBeat``) every ARENA_WORKER_HEARTBEAT_S from a
thread; the sweep takes a worker that stopped beating, or whose process is gone, for dead.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from django.conf import settings

logger = logging.getLogger(__name__)

ENV_NAME = "ARENA_WORKER_ID"
_beating: threading.Event | None = None


def current_worker_id() -> str:
    """This process's worker id; empty outside a Celery worker (a test, a benchmark)."""
    return os.environ.get(ENV_NAME, "")


def assign_worker_id() -> str:
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    os.environ[ENV_NAME] = worker_id
    return worker_id


def heartbeat_s() -> float:
    return float(getattr(settings, "ARENA_WORKER_HEARTBEAT_S", 5.0))


def beat() -> None:
    from games.play import services

    services.worker_beat(worker_id=current_worker_id(), hostname=socket.gethostname(), pid=os.getpid())


def start_heartbeat() -> None:
    """Beat now, then every ARENA_WORKER_HEARTBEAT_S from a daemon thread (in the main process:
    the pool's children die with it, and a dead child's task is redelivered by Celery itself)."""
    global _beating
    if _beating is not None:
        return
    stop = _beating = threading.Event()

    def loop() -> None:
        from django.db import close_old_connections

        while not stop.wait(heartbeat_s()):
            try:
                close_old_connections()
                beat()
            except Exception:  # the database is away for a moment: the next beat tries again
                logger.exception("worker heartbeat failed")

    threading.Thread(target=loop, name="arena-heartbeat", daemon=True).start()


def stop_heartbeat() -> None:
    global _beating
    if _beating is not None:
        _beating.set()
        _beating = None

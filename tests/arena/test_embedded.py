"""The embedded Redis keeps an append-only file in the data directory: what was queued is there
again after the server restarts, even after a kill -9 (fsync'd every second)."""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import redis

from arena import embedded


@pytest.fixture
def dirs():
    root = Path(tempfile.mkdtemp(prefix="arena-aof-", dir="/tmp"))
    yield root / "sock" / "redis.sock", root / "data"
    shutil.rmtree(root, ignore_errors=True)


def test_queued_messages_outlive_a_killed_embedded_redis(dirs) -> None:
    sock, data = dirs
    proc = embedded.start_redis(sock, persist_dir=data)
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        client.rpush("arena", "turn-1", "turn-2")
        client.hset("unacked", "tag-1", "turn-0")
        client.close()
        aof = data / "redis.aof"
        deadline = time.monotonic() + 30  # a hang guard: the file has it within a second or two
        while b"tag-1" not in (aof.read_bytes() if aof.exists() else b"") and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        embedded.stop(proc)
    assert (data / "redis.aof").exists()

    again = embedded.start_redis(sock, persist_dir=data)
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        assert client.lrange("arena", 0, -1) == [b"turn-1", b"turn-2"]
        assert client.hget("unacked", "tag-1") == b"turn-0"
        client.close()
    finally:
        embedded.stop(again)


def test_without_a_data_directory_nothing_is_kept(dirs) -> None:
    sock, data = dirs
    proc = embedded.start_redis(sock)
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        client.rpush("arena", "turn-1")
        client.close()
    finally:
        embedded.stop(proc)
    again = embedded.start_redis(sock)
    try:
        assert redis.Redis(unix_socket_path=str(sock)).llen("arena") == 0
    finally:
        embedded.stop(again)
    assert not list(sock.parent.glob("*.aof"))

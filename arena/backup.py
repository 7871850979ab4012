"""Backups of the arena's state, safe to take while it serves, and their restore.

A backup is a directory:

    manifest.json        what is in it: engine, migrations, row counts per table, sha256 per file
    database.sqlite3     SQLite: a copy made with SQLite's online backup API (one read
                         transaction, so a consistent snapshot while writers go on, in WAL mode)
    database.pgdump      PostgreSQL: `pg_dump --format=custom` on an exported snapshot; the row
                         counts in the manifest are read in that same snapshot
    redis/...            the embedded Redis's RDB snapshot (a fresh BGSAVE when it is running)
                         and its append-only file(s) when it keeps them

The database is the source of truth (the step log); Redis holds queued model turns and
in-flight channel messages, which the arena rebuilds or re-sends (a stalled model seat gets its
turn again). An external Redis (ARENA_REDIS_URL) is left to its own backups.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

from arena.embedded import socket_is_live

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
REDIS_DIR = "redis"
# Tables whose rows mean "this database is in use": restoring over them needs --force.
IN_USE_TABLES = ("games_match", "games_step", "auth_user")


class BackupError(Exception):
    """Something the operator can fix; the message says what and how."""


@dataclass
class Manifest:
    engine: str
    database_file: str
    counts: dict[str, int]
    migrations: dict[str, str]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    redis: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def database_engine() -> str:
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _latest_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


# -- backup ----------------------------------------------------------------------------------------


def backup(out: Path, *, include_redis: bool = True) -> Manifest:
    """Write a backup into ``out`` (which must not exist, or be an empty directory). It is
    assembled in a sibling temporary directory and renamed into place when complete, so a
    directory named ``out`` is always a whole backup."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} already exists and is not an empty directory; choose a new --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        engine = database_engine()
        if engine == "sqlite":
            counts = _backup_sqlite(work / SQLITE_FILE)
            database_file = SQLITE_FILE
        else:
            counts = _backup_postgresql(work / PG_FILE)
            database_file = PG_FILE
        manifest = Manifest(
            engine=engine,
            database_file=database_file,
            counts=counts,
            migrations=_latest_migrations(),
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        manifest.redis = _backup_redis(work / REDIS_DIR) if include_redis else {"included": False}
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            manifest.files[path.relative_to(work).as_posix()] = {
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
            }
        (work / MANIFEST).write_text(manifest.to_json())
        if out.exists():
            out.rmdir()
        work.rename(out)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def _backup_sqlite(target: Path) -> dict[str, int]:
    source_path = _sqlite_path()
    if not source_path.exists():
        raise BackupError(f"no SQLite database at {source_path}: nothing to back up")
    source = sqlite3.connect(source_path, timeout=30)
    dest = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, under one read transaction. In WAL mode that
        # is a consistent snapshot and writers are not blocked meanwhile.
        source.backup(dest, pages=-1)
        # The copy is a standalone file: no WAL beside it.
        dest.execute("PRAGMA journal_mode=DELETE")
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {check}")
        return sqlite_counts(dest)
    finally:
        dest.close()
        source.close()


def _pg_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = db["NAME"]
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} is not on PATH; install the PostgreSQL client tools (e.g. postgresql-client)"
        )
    return path


def _pg_counts(cursor: Any) -> dict[str, int]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _backup_postgresql(target: Path) -> dict[str, int]:
    pg_dump = _pg_tool("pg_dump")
    # A connection of our own: hold a repeatable-read transaction, export its snapshot, count
    # rows in it and have pg_dump dump exactly that snapshot, while the arena goes on writing.
    conn = connections.create_connection("default")
    try:
        conn.ensure_connection()
        conn.set_autocommit(False)
        with conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _pg_counts(cursor)
            proc = subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", "--snapshot", snapshot, "--file", str(target)],
                env=_pg_env(),
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise BackupError(f"pg_dump failed (exit {proc.returncode}): {proc.stderr.strip()}")
        conn.rollback()
        return counts
    finally:
        conn.close()


def _embedded_redis_dir() -> Path:
    return Path(settings.EMBEDDED_REDIS_SOCKET).parent


REDIS_FILES = ("dump.rdb", "appendonly.aof")
REDIS_AOF_DIR = "appendonlydir"  # Redis 7's multi-part AOF


def _wait_for(client: Any, flag: str, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while client.info("persistence").get(flag):
        if time.monotonic() > deadline:
            raise BackupError(f"the embedded Redis did not finish ({flag}) within {timeout:.0f} s")
        time.sleep(0.05)


def _backup_redis(target: Path) -> dict[str, Any]:
    if settings.REDIS_URL:
        return {
            "included": False,
            "reason": "external Redis (ARENA_REDIS_URL): back it up with its own RDB/AOF tooling",
        }
    socket = Path(settings.EMBEDDED_REDIS_SOCKET)
    redis_dir = _embedded_redis_dir()
    live = socket.exists() and socket_is_live(socket)
    leftover: Path | None = None
    if live:
        import redis

        client = redis.Redis(unix_socket_path=str(socket))
        try:
            redis_dir = Path(client.config_get("dir")["dir"])
            persists = (
                client.config_get("save").get("save")
                or client.config_get("appendonly").get("appendonly") == "yes"
            )
            if not persists and not (redis_dir / "dump.rdb").exists():
                # Our snapshot must not be loaded by the next start of a Redis that keeps nothing.
                leftover = redis_dir / "dump.rdb"
            # BGSAVE is refused while another save or an AOF rewrite runs; once it has answered,
            # rdb_bgsave_in_progress stays set until its snapshot is on disk.
            _wait_for(client, "rdb_bgsave_in_progress")
            _wait_for(client, "aof_rewrite_in_progress")
            client.bgsave()
            _wait_for(client, "rdb_bgsave_in_progress")
            if client.info("persistence").get("rdb_last_bgsave_status") != "ok":
                raise BackupError(f"the embedded Redis could not save its snapshot in {redis_dir}")
        finally:
            client.close()
    copied = []
    try:
        for name in REDIS_FILES:
            if (redis_dir / name).is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(redis_dir / name, target / name)
                copied.append(name)
        if (redis_dir / REDIS_AOF_DIR).is_dir():
            shutil.copytree(redis_dir / REDIS_AOF_DIR, target / REDIS_AOF_DIR)
            copied.append(REDIS_AOF_DIR + "/")
    finally:
        if leftover is not None:
            leftover.unlink(missing_ok=True)
    return {"included": bool(copied), "running": live, "files": copied, "source_dir": str(redis_dir)}


# -- restore ---------------------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    source = Path(source)
    if not source.is_dir():
        raise BackupError(f"{source} is not a directory (expected a backup made by `manage.py backup`)")
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a backup made by `manage.py backup`")
    try:
        data = json.loads(path.read_text())
        manifest = Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise BackupError(f"{path} is not a valid manifest: {exc}") from None
    if manifest.format != FORMAT_VERSION:
        raise BackupError(f"{path} is backup format {manifest.format}; this arena reads {FORMAT_VERSION}")
    return manifest


def verify(source: Path, manifest: Manifest) -> None:
    problems = []
    for name, meta in manifest.files.items():
        path = Path(source) / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(path) != meta["sha256"]:
            problems.append(f"{name} does not match its sha256 in the manifest (damaged or changed)")
    if problems:
        raise BackupError("the backup is not intact: " + "; ".join(problems))


def _check_migrations_known(manifest: Manifest) -> None:
    """A backup from a newer version of the arena has tables this code does not know."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(f"{app}.{name}" for app, name in manifest.migrations.items() if (app, name) not in known)
    if unknown:
        raise BackupError(
            "the backup was made by a newer version of the arena (migrations this code does not have: "
            + ", ".join(unknown)
            + "); install that version, then restore"
        )


def rows_in_use() -> dict[str, int]:
    """Rows in the tables that mean the current database is in use (missing tables: empty)."""
    existing = set(connection.introspection.table_names())
    found = {}
    with connection.cursor() as cursor:
        for table in IN_USE_TABLES:
            if table in existing:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
                n = cursor.fetchone()[0]
                if n:
                    found[table] = n
    return found


def restore(source: Path, *, force: bool = False, include_redis: bool = True) -> dict[str, Any]:
    source = Path(source).resolve()
    manifest = read_manifest(source)
    verify(source, manifest)
    engine = database_engine()
    if engine != manifest.engine:
        raise BackupError(
            f"this backup is of a {manifest.engine} database but the arena is configured for {engine} "
            "(ARENA_DATABASE_URL); restore it into the same kind of database"
        )
    _check_migrations_known(manifest)
    in_use = rows_in_use()
    if in_use and not force:
        held = ", ".join(f"{n} rows in {t}" for t, n in in_use.items())
        raise BackupError(
            f"the database is not empty ({held}); restoring would replace it. Stop the arena, take a "
            "backup of it if you need one, and run restore again with --force"
        )
    redis_files = [n for n in manifest.files if n.startswith(REDIS_DIR + "/")]
    restore_redis = include_redis and bool(redis_files) and not settings.REDIS_URL
    if restore_redis:
        socket = Path(settings.EMBEDDED_REDIS_SOCKET)
        if socket.exists() and socket_is_live(socket):
            raise BackupError(
                f"the embedded Redis is running on {socket} (is `manage.py up` running?); stop the arena "
                "before restoring, or pass --skip-redis to restore the database only"
            )
    connections.close_all()
    if engine == "sqlite":
        _restore_sqlite(source / manifest.database_file)
    else:
        _restore_postgresql(source / manifest.database_file)
    restored_counts = _current_counts()
    wrong = {
        t: (n, restored_counts.get(t)) for t, n in manifest.counts.items() if restored_counts.get(t) != n
    }
    if wrong:
        raise BackupError(f"after the restore some row counts differ from the manifest: {wrong}")
    redis_restored: list[str] = []
    if restore_redis:
        redis_dir = _embedded_redis_dir()
        redis_dir.mkdir(parents=True, exist_ok=True)
        if (redis_dir / REDIS_AOF_DIR).exists():
            shutil.rmtree(redis_dir / REDIS_AOF_DIR)
        for name in REDIS_FILES:
            (redis_dir / name).unlink(missing_ok=True)
        for name in redis_files:
            relative = Path(name).relative_to(REDIS_DIR)
            (redis_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, redis_dir / relative)
            redis_restored.append(relative.as_posix())
    return {"engine": engine, "counts": restored_counts, "redis": redis_restored}


def _current_counts() -> dict[str, int]:
    if connection.vendor == "sqlite":
        conn = sqlite3.connect(_sqlite_path())
        try:
            return sqlite_counts(conn)
        finally:
            conn.close()
    with connection.cursor() as cursor:
        return _pg_counts(cursor)


def _restore_sqlite(backup_file: Path) -> None:
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dest = sqlite3.connect(target, timeout=30)
    try:
        # The backup API replaces the whole target database under its write lock; connections
        # opened afterwards see the restored data.
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode=WAL")
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the restored database failed SQLite's integrity check: {check}")
    finally:
        dest.close()
        source.close()


def _restore_postgresql(dump: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    proc = subprocess.run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            settings.DATABASES["default"]["NAME"],
            str(dump),
        ],
        env=_pg_env(),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(
            f"pg_restore failed (exit {proc.returncode}); nothing was changed: {proc.stderr.strip()}"
        )

"""Back up the arena while it serves:

    python manage.py backup --out /srv/backups/arena-2026-12-01

SQLite: SQLite's online backup API; PostgreSQL: pg_dump on an exported snapshot. Plus the
embedded Redis's RDB/AOF when there is one, and manifest.json (row counts, sha256 of each file).
See arena/backup.py and the README's "Backup and restore".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from arena import backup


class Command(BaseCommand):
    help = "Back up the database (and the embedded Redis's state) into a new directory, with a manifest."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True, type=Path, help="a new (or empty) directory")
        parser.add_argument("--skip-redis", action="store_true", help="the database only")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup.backup(options["out"], include_redis=not options["skip_redis"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        size = sum(f["bytes"] for f in manifest.files.values())
        counts = manifest.counts
        redis = ", ".join(manifest.redis.get("files", [])) or "not included"
        self.stdout.write(
            f"backed up {manifest.engine} to {Path(options['out']).resolve()}: "
            f"{counts.get('games_match', 0)} matches, {counts.get('games_step', 0)} steps, "
            f"{counts.get('auth_user', 0)} accounts; {len(manifest.files)} files, {size:,} bytes; "
            f"redis: {redis}"
        )

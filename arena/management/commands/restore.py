"""Restore a backup made by `manage.py backup` into the configured database:

    python manage.py restore --from /srv/backups/arena-2026-12-01 [--force]

Checks every file against the manifest's sha256 first. Refuses to replace a database that holds
matches or accounts unless --force. Stop the arena (web, workers, `up`) before restoring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from arena import backup


class Command(BaseCommand):
    help = "Restore a backup directory (made by `manage.py backup`) into the configured database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path, help="the backup directory")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that already holds matches or accounts"
        )
        parser.add_argument("--skip-redis", action="store_true", help="the database only")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup.restore(
                options["source"], force=options["force"], include_redis=not options["skip_redis"]
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = result["counts"]
        redis = ", ".join(result["redis"]) or "nothing"
        self.stdout.write(
            f"restored {result['engine']} from {Path(options['source']).resolve()}: "
            f"{counts.get('games_match', 0)} matches, {counts.get('games_step', 0)} steps, "
            f"{counts.get('auth_user', 0)} accounts (row counts match the manifest); redis: {redis}"
        )

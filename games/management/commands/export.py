"""python manage.py export --format jsonl|csv|parquet --out PATH [filters]: research game logs.

PATH is a new directory, or a file ending in .zip. Progress goes to stderr (a live bar on a
terminal, otherwise a line every 10 s and a last one); the manifest's counts to stdout."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from games.research.exports import (
    DEFAULT_CHUNK,
    FORMATS,
    KINDS,
    ExportError,
    ExportFilters,
    export_directory,
    export_zip,
)
from games.research.progress import Progress


def _report(bar: Progress, done: int, total: int, counts: Mapping[str, int]) -> None:
    bar.update(done, total=total, note=f"{counts.get('steps', 0):,} steps")


class Command(BaseCommand):
    help = "Export game logs for research as JSON Lines, CSV or Parquet, with a dataset card and manifest."

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", required=True, help=f"one of: {', '.join(FORMATS)}")
        parser.add_argument("--out", required=True, help="a new directory, or a path ending in .zip")
        parser.add_argument("--family", help="only this puzzle family")
        parser.add_argument("--variant", help="only this variant (slug)")
        parser.add_argument("--since", help="matches created on or after: YYYY-MM-DD or ISO 8601")
        parser.add_argument("--until", help="matches created up to: YYYY-MM-DD (whole day) or ISO 8601")
        parser.add_argument("--kind", help=f"only matches with a seat of this kind: {', '.join(KINDS)}")
        parser.add_argument("--contestant", help="only matches with a seat of this model contestant (slug)")
        parser.add_argument("--finished-only", action="store_true", help="only finished matches")
        parser.add_argument("--tournament", help="only the races of this tournament (slug)")
        parser.add_argument(
            "--study", help="only the puzzles of this study (slug); its design goes in the card"
        )
        parser.add_argument(
            "--analytics",
            action="store_true",
            default=True,
            help="compute the engine's per-step analytics (default)",
        )
        parser.add_argument(
            "--no-analytics",
            dest="analytics",
            action="store_false",
            help="leave the analytics columns empty (much faster on big logs)",
        )
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="matches per chunk")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args, fmt: str, out: str, **options):
        if fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        if not 1 <= options["chunk_size"] <= 900:
            raise CommandError("--chunk-size must be from 1 to 900")
        try:
            filters = ExportFilters.parse(
                family=options["family"],
                variant=options["variant"],
                since=options["since"],
                until=options["until"],
                kind=options["kind"],
                contestant=options["contestant"],
                finished_only=options["finished_only"],
                tournament=options["tournament"],
                study=options["study"],
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        path = Path(out)
        bar = None if options["no_progress"] else Progress(self.stderr, label=f"export {fmt}")
        kwargs = {
            "fmt": fmt,
            "filters": filters,
            "analytics": options["analytics"],
            "chunk_size": options["chunk_size"],
            "progress": None if bar is None else partial(_report, bar),
        }
        try:
            if path.suffix == ".zip":
                if path.exists():
                    raise ExportError(f"{path} already exists; choose a new file name")
                if not path.parent.is_dir():
                    raise ExportError(f"{path.parent} is not a directory")
                try:
                    with open(path, "xb") as handle:
                        manifest = export_zip(handle, **kwargs)
                except BaseException:
                    path.unlink(missing_ok=True)  # never leave half a zip behind
                    raise
            else:
                manifest = export_directory(path, **kwargs)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar is not None:
                bar.close()
        counts = ", ".join(f"{n:,} {table}" for table, n in manifest["counts"].items())
        self.stdout.write(f"wrote {path}: {counts}")

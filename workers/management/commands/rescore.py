"""python manage.py rescore --parser-version N [filters] [--write]: read the stored replies of
parser version N again with the current parser and report, per contestant, the replies whose
reading would change. Writes nothing unless --write, which records both readings side by side
(ModelCallReparse) and never touches a step or a seat's outcome (workers/rescore.py)."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from workers import rescore
from workers.parsing import PARSER_VERSION


def _when(name: str, text: str | None) -> dt.datetime | None:
    if not text:
        return None
    day = parse_date(text)
    moment = dt.datetime.combine(day, dt.time.min) if day else parse_datetime(text)
    if moment is None:
        raise CommandError(f"--{name} must be a date (YYYY-MM-DD) or an ISO 8601 time; got {text!r}")
    return timezone.make_aware(moment, dt.UTC) if timezone.is_naive(moment) else moment


def _short(value: object, limit: int = 80) -> str:
    if isinstance(value, dict):  # the same text whichever database stored it (JSONB reorders keys)
        value = {**({"type": value["type"]} if "type" in value else {}), **dict(sorted(value.items()))}
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Command(BaseCommand):
    help = (
        f"Re-read stored model replies with the current parser (version {PARSER_VERSION}) and report the "
        "replies whose parsed action would change, per contestant."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--parser-version",
            type=int,
            required=True,
            help=f"the parser version whose stored readings to check (1 to {PARSER_VERSION})",
        )
        parser.add_argument("--contestant", action="append", help="only this contestant (slug); repeatable")
        parser.add_argument("--family", help="only matches of this puzzle family")
        parser.add_argument("--variant", help="only matches of this variant (slug)")
        parser.add_argument("--match", type=int, action="append", dest="matches", help="only this match id")
        parser.add_argument("--since", help="calls made on or after: YYYY-MM-DD or ISO 8601")
        parser.add_argument("--until", help="calls made before: YYYY-MM-DD or ISO 8601")
        parser.add_argument("--show", type=int, default=20, help="list at most this many changed replies")
        parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
        parser.add_argument(
            "--write",
            action="store_true",
            help="record each changed reading beside the original (both versions kept; steps and "
            "outcomes never change)",
        )

    def handle(self, *args, parser_version: int, **options):
        if not 1 <= parser_version <= PARSER_VERSION:
            raise CommandError(
                f"--parser-version must be from 1 to {PARSER_VERSION} (the current parser); got {parser_version}"
            )
        report = rescore.rescore(
            parser_version=parser_version,
            contestants=options["contestant"],
            family=options["family"],
            variant=options["variant"],
            match_ids=options["matches"],
            since=_when("since", options["since"]),
            until=_when("until", options["until"]),
            write=options["write"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
            return
        out = self.stdout
        out.write(f"Replies read by parser version {parser_version}, read again by version {PARSER_VERSION}:")
        if not report.contestants:
            out.write("  no stored replies match these filters.")
        columns = ("contestant", "checked", "unchanged", "changed", *rescore.CHANGES, "in_finished_matches")
        rows = [[str(r.as_dict()[c]) for c in columns] for r in report.contestants.values()]
        widths = [
            max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(columns)
        ]
        if rows:
            out.write("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths)))
            for row in rows:
                out.write("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)))
        for change in report.changes[: max(options["show"], 0)]:
            old = (
                _short(change.old_action)
                if change.old_action is not None
                else f"(unread: {_short(change.old_error)})"
            )
            new = (
                _short(change.new_action)
                if change.new_action is not None
                else f"(unread: {_short(change.new_error)})"
            )
            out.write(
                f"  call {change.call_id} ({change.contestant}, match {change.match_id}, turn {change.turn}"
                f"{', finished match' if change.finished_match else ''}): {change.change}: {old} -> {new}"
            )
        if len(report.changes) > options["show"]:
            out.write(f"  … and {len(report.changes) - options['show']} more (--show, --json)")
        if options["write"]:
            out.write(
                f"Recorded {report.written} new re-reading(s) beside the originals; no step or outcome changed."
            )
        elif report.changes:
            out.write("Nothing written (--write records both readings; steps and outcomes never change).")

"""Re-reading stored model replies with the current parser (``manage.py rescore``).

Every model call keeps its raw reply, what the parser of the time read from it
(``parsed_action`` or ``parse_error``) and that parser's version (``ModelCall.parser_version``).
When the parser changes, a silently different reading of old replies would mean moves the
models never made (or moves they made, lost): this audit reads every stored reply again with
the current parser, exactly as a turn reads it (``pipeline.read_action``: the reply parsed and
pre-checked by the engine, with the match's stated-hypothesis setting and the seat's tests left at
that turn), and reports per contestant the replies whose reading would change.

It writes nothing unless asked. With ``write`` it records each changed reading beside the
original (``ModelCallReparse``: both versions); the call's own reading, the step it produced and
the seat's outcome stay as they were played, so a finished match's recorded result never changes
and it still replays exactly from its log.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from games.models import Match, ModelCall, ModelCallReparse, Step
from games.play import visibility
from workers.parsing import PARSER_VERSION, ParseError
from workers.pipeline import read_action

# Calls that returned a reply to read (a failed call has no reply; an in-flight one none yet).
READ_CALLS = ("", "superseded")
CHANGES = ("action", "now_parses", "now_fails", "hypothesis")


@dataclass
class Change:
    call_id: int
    contestant: str
    match_id: int
    seat_id: int
    turn: int
    purpose: str
    change: str
    old_action: Any
    old_error: str
    new_action: Any
    new_error: str
    finished_match: bool


@dataclass
class ContestantReport:
    contestant: str
    checked: int = 0
    unchanged: int = 0
    changes: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CHANGES})
    in_finished_matches: int = 0  # changed replies that produced a move of a match that is over

    @property
    def changed(self) -> int:
        return sum(self.changes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "contestant": self.contestant,
            "checked": self.checked,
            "unchanged": self.unchanged,
            "changed": self.changed,
            **self.changes,
            "in_finished_matches": self.in_finished_matches,
        }


@dataclass
class Report:
    parser_version: int
    current_version: int
    contestants: dict[str, ContestantReport]
    changes: list[Change]
    written: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "parser_version": self.parser_version,
            "current_version": self.current_version,
            "contestants": [r.as_dict() for r in self.contestants.values()],
            "changes": [c.__dict__ for c in self.changes],
            "written": self.written,
        }


def _without_hypothesis(action: Any) -> Any:
    if isinstance(action, dict):
        return {k: v for k, v in action.items() if k != "hypothesis"}
    return action


def classify(*, old_action: Any, new_action: Any) -> str | None:
    """What changed between two readings of one reply (None: nothing). An action None means the
    reply could not be read; two failed readings count as the same, whatever their messages."""
    if old_action is None and new_action is None:
        return None
    if old_action is None:
        return "now_parses"
    if new_action is None:
        return "now_fails"
    if _without_hypothesis(old_action) != _without_hypothesis(new_action):
        return "action"
    if (old_action or {}).get("hypothesis") != (new_action or {}).get("hypothesis"):
        return "hypothesis"
    return None


def _tests_used_before(steps: list[tuple[int, str, dict[str, Any]]], turn: int) -> int:
    """Tests a seat had used when turn ``turn`` was played (a forfeited turn uses one too)."""
    return sum(
        1
        for seq, kind, action in steps
        if seq < turn and (kind == Step.Kind.TEST or (kind == Step.Kind.FORFEIT and action.get("turn")))
    )


def _read_now(call: ModelCall, match: Match, tests_used: int) -> tuple[Any, str]:
    try:
        action = read_action(call.raw_response, match=match)
    except ParseError as exc:
        return None, exc.message
    if action["type"] == "test" and tests_used >= match.max_tests:
        return None, f"no tests left (all {match.max_tests} used): you must guess the rule now"
    return action, ""


def rescore(
    *,
    parser_version: int,
    contestants: list[str] | None = None,
    family: str | None = None,
    variant: str | None = None,
    match_ids: list[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    write: bool = False,
) -> Report:
    calls = (
        ModelCall.objects.filter(parser_version=parser_version, error_class__in=READ_CALLS)
        .exclude(raw_response="")
        .select_related("seat__match__instance", "contestant")
        .order_by("seat_id", "id")
    )
    if contestants:
        calls = calls.filter(seat__contestant__in=contestants)
    if family:
        calls = calls.filter(seat__match__instance__family=family)
    if variant:
        calls = calls.filter(seat__match__instance__variant__slug=variant)
    if match_ids:
        calls = calls.filter(seat__match_id__in=match_ids)
    if since:
        calls = calls.filter(created_at__gte=since)
    if until:
        calls = calls.filter(created_at__lt=until)

    report = Report(parser_version=parser_version, current_version=PARSER_VERSION, contestants={}, changes=[])
    steps_by_seat: dict[int, list[tuple[int, str, dict[str, Any]]]] = {}
    seat_ids = set(calls.values_list("seat_id", flat=True))
    grouped: dict[int, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    for seat_id, seq, kind, action in (
        Step.objects.filter(seat_id__in=seat_ids)
        .order_by("seat_id", "seq")
        .values_list("seat_id", "seq", "kind", "action")
    ):
        grouped[seat_id].append((seq, kind, action or {}))
    steps_by_seat.update(grouped)

    for call in calls.iterator(chunk_size=500):
        seat = call.seat
        match = seat.match
        slug = seat.contestant or (call.contestant.slug if call.contestant else "(unknown)")
        row = report.contestants.setdefault(slug, ContestantReport(slug))
        row.checked += 1
        new_action, new_error = _read_now(
            call, match, _tests_used_before(steps_by_seat.get(seat.pk, []), call.turn)
        )
        change = classify(old_action=call.parsed_action, new_action=new_action)
        if change is None:
            row.unchanged += 1
            continue
        row.changes[change] += 1
        finished = call.step_id is not None and visibility.is_over(match.status)
        row.in_finished_matches += finished
        report.changes.append(
            Change(
                call_id=call.pk,
                contestant=slug,
                match_id=match.pk,
                seat_id=seat.pk,
                turn=call.turn,
                purpose=call.purpose,
                change=change,
                old_action=call.parsed_action,
                old_error=call.parse_error,
                new_action=new_action,
                new_error=new_error,
                finished_match=finished,
            )
        )
    if write and report.changes:
        with transaction.atomic():
            for change_row in report.changes:
                _, made = ModelCallReparse.objects.get_or_create(
                    call_id=change_row.call_id,
                    new_parser_version=PARSER_VERSION,
                    defaults={
                        "old_parser_version": parser_version,
                        "old_parsed_action": change_row.old_action,
                        "old_parse_error": change_row.old_error,
                        "new_parsed_action": change_row.new_action,
                        "new_parse_error": change_row.new_error,
                        "change": change_row.change,
                        "in_finished_match": change_row.finished_match,
                    },
                )
                report.written += made
    return report

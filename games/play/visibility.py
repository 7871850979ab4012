"""Who may see what of a match, and when: the one place that decides.

Every path that carries match data asks here: the match and watch pages and sockets, the
broadcast events, the agent API, the research API and the exports, replays and model traces.
``tests/games/test_visibility.py`` enumerates those paths for every kind of viewer.

Before a match is over:

* a seat sees its own log (tests, guess, verdict, score, quiz) and the public instance data;
* of every other seat it sees progress only (``PROGRESS_FIELDS``: tests used, status);
* a viewer without a seat in the match (a spectator, with or without a cookie, a signed-in
  stranger, a researcher, a research token) sees progress only, or, if the variant sets
  ``spectator_delay_s``, the *tests* of each seat that are at least that old (never a guess,
  a verdict, a score or quiz answers);
* nobody sees the seed, the parameters, the hidden rule, the model calls, or anything else
  the public engine could rebuild the rule from.

Once the match is over (finished or aborted), everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

# What anyone may know of a seat whose log is not visible to them.
PROGRESS_FIELDS = ("id", "handle", "kind", "status", "tests_used", "tests_left")

OVER_STATUSES = ("finished", "aborted")


@dataclass(frozen=True)
class Viewer:
    """Someone looking at one match. ``seat_id`` is the seat they play in it (None: they have
    none, whoever they are: a spectator, a stranger, a researcher)."""

    seat_id: int | None = None
    kind: str = "spectator"  # "player" | "spectator" | "researcher": for logs and tests only

    @classmethod
    def player(cls, seat_id: int) -> Viewer:
        return cls(seat_id=seat_id, kind="player")

    @classmethod
    def spectator(cls) -> Viewer:
        return cls()

    @classmethod
    def researcher(cls) -> Viewer:
        return cls(kind="researcher")


@dataclass(frozen=True)
class MatchView:
    """The answer for one viewer of one match at one moment."""

    viewer: Viewer
    over: bool
    spectator_delay_s: int | None = None
    now: dt.datetime | None = None

    def sees_log(self, seat_id: int | None) -> bool:
        """The seat's whole log: every step, its guess, verdict, score, quiz and outcome."""
        return self.over or (seat_id is not None and seat_id == self.viewer.seat_id)

    @property
    def sees_instance(self) -> bool:
        """The seed, the parameters, the hidden rule, and the model calls (whose prompts and
        replies hold a seat's tests)."""
        return self.over

    def delayed_tests_before(self) -> dt.datetime | None:
        """For a seat whose log is not visible: tests made before this moment may be shown
        (the variant's spectator delay); None shows none."""
        if self.over or self.spectator_delay_s is None:
            return None
        return (self.now or timezone.now()) - dt.timedelta(seconds=self.spectator_delay_s)

    # -- shaping -----------------------------------------------------------------------------------

    def seat(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A seat summary (``selectors.seat_summary``) as this viewer may see it."""
        if self.sees_log(row.get("id")):
            return dict(row)
        return progress_only(row)

    def event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """A broadcast event (``games.play.events``) as this viewer may receive it. A step of a seat
        whose log is hidden becomes ``progress``; seat data in any event is cut to progress."""
        name = event.get("event")
        seat = event.get("seat")
        if not isinstance(seat, Mapping) or self.sees_log(seat.get("id")):
            return dict(event)
        base = {k: event[k] for k in ("type", "match", "seq") if k in event}
        if name == "step":
            return {**base, "event": "progress", "seat": progress_only(seat)}
        return {**{k: v for k, v in event.items() if k not in ("step", "seat")}, "seat": progress_only(seat)}


def progress_only(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in PROGRESS_FIELDS if k in row}


def is_over(status: str) -> bool:
    return status in OVER_STATUSES


def match_view(*, match: Any, viewer: Viewer, now: dt.datetime | None = None) -> MatchView:
    """What ``viewer`` may see of ``match`` (a ``games.models.Match``) now."""
    delay = None
    if viewer.seat_id is None:
        variant = getattr(getattr(match, "instance", None), "variant", None)
        delay = getattr(variant, "spectator_delay_s", None)
    return MatchView(viewer=viewer, over=is_over(match.status), spectator_delay_s=delay, now=now)


def status_view(*, status: str, viewer: Viewer) -> MatchView:
    """The same decision from a match's status alone (bulk readers such as exports, which read
    rows rather than model objects, and never show delayed logs)."""
    return MatchView(viewer=viewer, over=is_over(status))

"""Who may see what of a match, and when: the one place that decides.

Every path that carries match data asks here: the match and watch pages and sockets, the
broadcast events, the agent API, the research API and the exports, replays and model traces.
``tests/games/play/test_visibility.py`` enumerates those paths for every kind of viewer.

Before a match is over:

* a seat sees its own log (tests, guess, verdict, score, quiz) and the public instance data;
* of every other seat it sees progress only (``PROGRESS_FIELDS``: tests used, status);
* a viewer without a seat in the match (a spectator, with or without a cookie, a signed-in
  stranger, a researcher, a research token) sees progress only, or, if the variant sets
  ``spectator_delay_s``, the *tests* of each seat that are at least that old (never a guess,
  a verdict, a score or quiz answers);
* nobody sees the seed, the parameters, the hidden rule, the model calls, or anything else
  the public engine could rebuild the rule from.

Once the match is over (finished or aborted), everything, with one exception: a match of the
daily puzzle (``Match.daily``) plays the day's instance, the same for everyone, so until that day
(UTC) is over it is shown as if it were still running to anyone who has not finished their own
daily of that variant that day (``daily_embargoed``): progress only, no guess, no score, no rule.
Public lists of matches leave today's daily matches out altogether (``listed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from games.models import Seat

# What anyone may know of a seat whose log is not visible to them.
PROGRESS_FIELDS = ("id", "handle", "kind", "status", "tests_used", "tests_left")

OVER_STATUSES = ("finished", "aborted")


@dataclass(frozen=True)
class Viewer:
    """Someone looking at one match. ``seat_id`` is the seat they play in it (None: they have
    none, whoever they are: a spectator, a stranger, a researcher)."""

    seat_id: int | None = None
    kind: str = "spectator"  # "player" | "spectator" | "researcher": for logs and tests only
    # Who they are, where known (a browser's session, an account): whether they have finished
    # today's daily puzzle decides whether today's daily matches are over for them.
    session_key: str = ""
    user_id: int | None = None

    @classmethod
    def player(cls, seat_id: int, *, session_key: str = "", user_id: int | None = None) -> Viewer:
        return cls(seat_id=seat_id, kind="player", session_key=session_key or "", user_id=user_id)

    @classmethod
    def spectator(cls, *, session_key: str | None = "", user_id: int | None = None) -> Viewer:
        return cls(session_key=session_key or "", user_id=user_id)

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
    # A finished daily match shown as running (``daily_embargoed``): the page says why.
    embargoed: bool = False

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
        if event.get("reveal") is not None and not self.sees_instance:
            event = {**event, "reveal": None}  # the end of a daily match, for a viewer under embargo
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
    over = is_over(match.status)
    embargoed = over and daily_embargoed(match=match, viewer=viewer, now=now)
    return MatchView(
        viewer=viewer, over=over and not embargoed, spectator_delay_s=delay, now=now, embargoed=embargoed
    )


def utc_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(dt.UTC).date()


def daily_embargoed(*, match: Any, viewer: Viewer, now: dt.datetime | None = None) -> bool:
    """True while ``match`` plays a daily puzzle whose day (UTC) is not over and ``viewer`` has
    not finished their own daily of the same variant that day (a seat of theirs, found by seat,
    account or guest session, that is no longer playing). Its guesses and its reveal would tell
    them the rule of a puzzle they can still play, or tell it to anyone they pass it on to.
    A viewer nobody can identify (no cookie, an agent token, the export) has finished nothing."""
    day = getattr(match, "daily", None)
    if day is None or day < utc_today(now):
        return False
    mine = Q(pk=viewer.seat_id) if viewer.seat_id is not None else Q(pk__in=[])
    if viewer.user_id is not None:
        mine |= Q(user_id=viewer.user_id)
    elif viewer.session_key:
        mine |= Q(session_key=viewer.session_key, user__isnull=True)
    done = (
        Seat.objects.filter(
            mine,
            kind=Seat.Kind.HUMAN,
            match__daily=day,
            match__instance__variant_id=match.instance.variant_id,
        )
        .exclude(status=Seat.Status.PLAYING)
        .exists()
    )
    return not done


def listed(matches: QuerySet[Any], *, prefix: str = "", now: dt.datetime | None = None) -> QuerySet[Any]:
    """A public list of matches (or of seats: ``prefix="match__"``) without today's daily matches
    (nor any of a later day), whose results would hint at a rule people are still finding."""
    return matches.exclude(**{f"{prefix}daily__gte": utc_today(now)})


def broadcast_view(*, match: Any) -> MatchView:
    """The view an event is built with before it goes to a match's group: the match's status
    alone. Every receiver filters the event again through its own ``MatchView.event``."""
    return MatchView(viewer=Viewer(kind="broadcast"), over=is_over(match.status))


def status_view(*, status: str, viewer: Viewer) -> MatchView:
    """The same decision from a match's status alone (bulk readers such as exports, which read
    rows rather than model objects, and never show delayed logs)."""
    return MatchView(viewer=viewer, over=is_over(status))

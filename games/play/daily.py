"""The daily puzzle: one instance of a variant per day (UTC), the same for everyone.

Its seed is an HMAC of the date and the variant under the site's secret key, so nobody can
compute tomorrow's instance with the public engine, and every server with the same key agrees.
A daily match is unranked: whoever has finished may tell the rule to someone who has not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.utils import timezone

from games.models import Match, PuzzleVariant, Seat
from games.play.services import RANKED_SEED_SPACE


def daily_day(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(dt.UTC).date()


def daily_seed(*, variant: PuzzleVariant, day: dt.date) -> int:
    message = f"daily:{day.isoformat()}:{variant.slug}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % RANKED_SEED_SPACE


def daily_match_for_visitor(
    *, variant: PuzzleVariant, day: dt.date, session_key: str, user_id: int | None
) -> Match | None:
    """The visitor's own match on today's instance, if they have started one: a second visit
    goes back to it instead of dealing the same puzzle again."""
    seats = Seat.objects.filter(
        match__instance__variant=variant,
        match__instance__seed=daily_seed(variant=variant, day=day),
        kind=Seat.Kind.HUMAN,
    ).select_related("match")
    seats = (
        seats.filter(user_id=user_id) if user_id else seats.filter(session_key=session_key, user__isnull=True)
    )
    seat = seats.order_by("-match__created").first()
    return seat.match if seat else None

"""The daily puzzle: one instance of a variant per day (UTC), the same for everyone.

Its seed is an HMAC of the date and the variant under the site's secret key, so nobody can
compute tomorrow's instance with the public engine, and every server with the same key agrees.
A daily match is unranked: whoever has finished may tell the rule to someone who has not.

The models play it too: the first visitor of the day sets off one race of the daily contestants
(the built-in solvers, and any registered model an admin marks ``plays_daily``) on the day's
instance, queued to the workers like any model turn. Everyone who finishes then sees how people
and each model did (``selectors.same_puzzle_results``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from games.models import Match, ModelContestant, PuzzleInstance, PuzzleVariant, Seat
from games.play import limits, services
from games.play.services import RANKED_SEED_SPACE

logger = logging.getLogger(__name__)


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


def daily_contestants() -> list[str]:
    """Who plays every daily puzzle: the enabled built-in solvers and the registered models an
    admin marked ``plays_daily``, less any at its limit of running matches."""
    slugs = ModelContestant.objects.filter(
        Q(backend=ModelContestant.Backend.BUILTIN) | Q(plays_daily=True), enabled=True
    ).values_list("slug", "max_concurrent_matches")
    return [slug for slug, most in slugs if limits.contestant_busy(slug=slug) < most]


def daily_models_match(*, variant: PuzzleVariant, day: dt.date) -> Match | None:
    """The models' race on the day's instance (a daily match with no person in it), if made."""
    return (
        Match.objects.filter(
            daily=day, instance__variant=variant, instance__seed=daily_seed(variant=variant, day=day)
        )
        .exclude(seats__kind__in=[Seat.Kind.HUMAN, Seat.Kind.AGENT])
        .first()
    )


def daily_models_ensure(*, variant: PuzzleVariant, day: dt.date) -> Match | None:
    """Set the daily contestants playing the day's instance, once per variant and day: the first
    visitor's start does it, and any later call finds the race made. None when no contestant is
    free (the day goes on without models; a person's daily never fails for it)."""
    seed = daily_seed(variant=variant, day=day)
    instance = services.instance_get_or_create(variant=variant, seed=seed)
    with transaction.atomic():
        # The instance row locked: two first visitors at once make one race, not two.
        PuzzleInstance.objects.select_for_update().filter(pk=instance.pk).first()
        made = daily_models_match(variant=variant, day=day)
        if made is not None:
            return made
        opponents = daily_contestants()
        if not opponents:
            return None
        try:
            match, _ = services.race_create(
                variant=variant, opponents=opponents, seed=seed, ranked=False, daily=day
            )
        except services.ActionError as exc:  # a contestant became busy meanwhile
            logger.warning("daily %s %s: the models could not start: %s", variant.slug, day, exc.message)
            return None
    return match

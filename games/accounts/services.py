"""Account writes: a guest who signs up keeps what they played."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from games.models import Match, PlayerProfile, Seat


def guest_matches_claim(*, session_key: str, user: Any) -> int:
    """Give a new account the guest seats of the browser session it was made in (and the matches
    that session created, for the per-creator caps). Each seat keeps the handle it was played under. The ratings follow at their next fit: a
    player is their account from then on. Returns the number of seats moved."""
    if not session_key:
        return 0
    with transaction.atomic():
        moved = Seat.objects.filter(kind=Seat.Kind.HUMAN, user__isnull=True, session_key=session_key).update(
            user=user
        )
        Match.objects.filter(creator_session_key=session_key, creator_user__isnull=True).update(
            creator_user=user
        )
    return moved


def guide_mark_done(*, user: Any) -> None:
    """The player finished or skipped the guided first puzzle; the first time counts."""
    profile, _ = PlayerProfile.objects.get_or_create(user=user)
    if profile.guide_done_at is None:
        profile.guide_done_at = timezone.now()
        profile.save(update_fields=["guide_done_at"])


def guide_done(*, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return PlayerProfile.objects.filter(user=user, guide_done_at__isnull=False).exists()

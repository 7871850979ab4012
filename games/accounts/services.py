"""Account writes: a guest who signs up keeps what they played."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from games.models import Match, Seat


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

"""Every event a match publishes, in one place.

An event is a JSON object ``{"type": "event", "event": <name>, "match": id, "seq": n, ...}``.
``seq`` is the match's event counter, bumped in the database inside the same transaction as
the change it describes, so events are totally ordered per match and a client that sees a gap
knows to ask for a resync (channel-layer delivery is at-most-once). Publishing happens only
after the transaction commits; a failed publish is logged and never undoes the change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F

from games.models import Match, Seat, Step
from games.play import publisher, selectors, visibility

logger = logging.getLogger(__name__)

CHANNEL_MESSAGE_TYPE = "match.event"  # handled by consumers.MatchConsumer.match_event


def group_name(match_id: int) -> str:
    return f"match-{match_id}"


def _next_seq(match_id: int) -> int:
    # The F() update takes the match row lock until commit, so concurrent writers in one match
    # get consecutive numbers in commit order. (A move bumps it in its own statement instead:
    # games.play.fastpath.move_record.)
    matches = Match.objects.filter(pk=match_id)
    matches.update(event_seq=F("event_seq") + 1)
    return matches.values_list("event_seq", flat=True).get()


def _emit(*, match_id: int, name: str, seq: int | None = None, **payload: Any) -> dict[str, Any]:
    # ``seq``: the caller already bumped the counter in this transaction (games.play.fastpath folds
    # it into the statements that record a move); otherwise bump it here.
    if seq is None:
        seq = _next_seq(match_id)
    event = {"type": "event", "event": name, "match": match_id, "seq": seq, **payload}
    # The collector in force now, not at commit: a move written in a group (one transaction for
    # several moves, games.play.consumers) commits after its own ``collected()`` block has closed.
    into = getattr(_collector, "batch", None)
    transaction.on_commit(lambda: publish(match_id=match_id, event=event, into=into))
    return event


_collector = threading.local()


@contextmanager
def collected() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Within this block, events committed on this thread are collected instead of sent, so an
    async caller (the consumer) can publish them on its own event loop without holding the
    database thread."""
    batch: list[tuple[str, dict[str, Any]]] = []
    previous = getattr(_collector, "batch", None)
    _collector.batch = batch
    try:
        yield batch
    finally:
        _collector.batch = previous


def channel_message(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE_TYPE, "event": event}


def publish(
    *, match_id: int, event: dict[str, Any], into: list[tuple[str, dict[str, Any]]] | None = None
) -> None:
    """Send ``event`` to the match's group, or append it to ``into`` (or the collector in force)."""
    batch = into if into is not None else getattr(_collector, "batch", None)
    if batch is not None:
        batch.append((group_name(match_id), event))
        return
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        publisher.group_send(group_name(match_id), channel_message(event))
    except Exception:  # the step log is the source of truth; clients resync by seq
        logger.exception(
            "could not publish event %s #%s for match %s", event.get("event"), event.get("seq"), match_id
        )


# -- the events -----------------------------------------------------------------------------------


def seat_joined(*, seat: Seat) -> dict[str, Any]:
    return _emit(match_id=seat.match_id, name="seat_joined", seat=selectors.seat_summary(seat=seat))


def match_started(*, match: Match) -> dict[str, Any]:
    return _emit(
        match_id=match.pk, name="match_started", status=match.status, started=selectors.iso(match.started)
    )


def step_recorded(*, seat: Seat, step: Step, seq: int | None = None) -> dict[str, Any]:
    return _emit(
        match_id=seat.match_id,
        name="step",
        seq=seq,
        seat=selectors.seat_summary(seat=seat),
        step=selectors.step_public(step=step),
    )


def match_finished(*, match: Match) -> dict[str, Any]:
    # The only event that carries the hidden rule, and only once the match is over.
    return _emit(
        match_id=match.pk,
        name="match_finished",
        status=match.status,
        finished=selectors.iso(match.finished),
        reveal=selectors.match_reveal(match=match, view=visibility.broadcast_view(match=match)),
    )

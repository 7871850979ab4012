"""Celery tasks. Thin: take ids, call the pipeline, decide about retries.

Timeouts nest: the HTTP client's timeout (per contestant, default 60 s) <
``soft_time_limit`` < ``time_limit`` < the broker's visibility timeout
(settings), so a hung call is cut by the client first, a hung task by Celery,
and only a dead worker waits for the broker to redeliver.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="workers.ping", acks_late=True, ignore_result=False)  # a round-trip probe
def ping(payload: str = "pong") -> str:
    return payload


def backoff_seconds(retries: int, retry_after: float | None) -> float:
    base = float(getattr(settings, "ARENA_MODEL_RETRY_BASE_S", 2.0))
    cap = float(getattr(settings, "ARENA_MODEL_RETRY_CAP_S", 60.0))
    delay = min(cap, base * (2**retries)) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not crypto
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


@shared_task(
    bind=True,
    name="workers.model_turn",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded below by ARENA_MODEL_MAX_RETRIES, so giving up is logged on the seat
    soft_time_limit=getattr(settings, "ARENA_MODEL_TURN_SOFT_LIMIT_S", 150),
    time_limit=getattr(settings, "ARENA_MODEL_TURN_HARD_LIMIT_S", 180),
)
def model_turn(self, seat_id: int, turn: int) -> dict:
    from workers import pipeline

    retries = int(self.request.retries or 0)
    try:
        result = pipeline.run_turn(seat_id=seat_id, turn=turn, attempt=retries + 1)
    except pipeline.RetryLater as exc:
        limit = int(getattr(settings, "ARENA_MODEL_MAX_RETRIES", 5))
        if retries >= limit:
            result = pipeline.give_up(
                seat_id=seat_id,
                turn=turn,
                reason=f"gave up after {retries + 1} failed attempts: {exc.reason}",
            )
        else:
            raise self.retry(countdown=backoff_seconds(retries, exc.retry_after), exc=exc) from None
    except SoftTimeLimitExceeded:
        logger.warning("model turn %s of seat %s hit the soft time limit; retrying", turn, seat_id)
        raise self.retry(countdown=backoff_seconds(retries, None)) from None
    return {"status": result.status, "step": result.step_id, "detail": result.detail}

"""Agent API tokens and the per-token rate limit.

A token is shown once, when it is made; the database keeps only its SHA-256 and a short
prefix (to tell tokens apart in the admin). Tokens are not game state, so they are written
here rather than through ``games.play.services``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from games.api.errors import ApiError
from games.models import AgentToken

logger = logging.getLogger(__name__)

PREFIX_LENGTH = 8
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # don't write on every request
DEFAULT_RATE_PER_MIN = 600


class TokenNameTaken(Exception):
    pass


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def agent_token_create(*, name: str, can_read_research: bool = False, user=None) -> tuple[AgentToken, str]:
    """A new active token. Returns the row and the token itself, which is not stored."""
    max_length = AgentToken._meta.get_field("name").max_length
    if not name or not name.strip() or len(name) > max_length:
        raise ValueError(f"a token name is 1-{max_length} characters, not blank; got {len(name)}")
    key = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = AgentToken.objects.create(
                name=name,
                key_hash=token_hash(key),
                prefix=key[:PREFIX_LENGTH],
                user=user,
                can_read_research=can_read_research,
            )
    except IntegrityError:
        raise TokenNameTaken(f"a token named {name!r} already exists; pick another name") from None
    return token, key


def agent_token_for_header(header: str | None) -> AgentToken | None:
    """The active token named by an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or len(key) > 200:
        return None
    token = AgentToken.objects.filter(key_hash=token_hash(key), active=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        AgentToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token


class BearerToken(HttpBearer):
    """ninja auth: the active token named by ``Authorization: Bearer <token>`` (401 otherwise).
    ``research_only`` names what a token without ``can_read_research`` is refused (403)."""

    def __init__(self, *, research_only: str | None = None) -> None:
        super().__init__()
        self.research_only = research_only

    def __call__(self, request: HttpRequest) -> AgentToken | None:
        token = agent_token_for_header(request.headers.get("Authorization"))
        if token is not None and self.research_only and not token.can_read_research:
            raise ApiError(
                403,
                f"{self.research_only}; an admin makes a research token with "
                "`python manage.py create_agent_token NAME --research`",
            )
        return token

    def authenticate(self, request: HttpRequest, token: str) -> AgentToken | None:  # pragma: no cover
        return agent_token_for_header(f"Bearer {token}")


class TokenRate(BaseThrottle):
    """ninja throttling: the per-token sliding window below. The decision stays on the request
    (``request.api_rate``): the 429 says when to retry and every reply carries X-RateLimit-*."""

    def allow_request(self, request: HttpRequest) -> bool:
        decision = rate_limit_hit(token=request.auth)  # type: ignore[attr-defined]
        request.api_rate = decision  # type: ignore[attr-defined]
        return decision.allowed

    def wait(self) -> None:
        return None  # per request, on request.api_rate; the 429 handler sets Retry-After


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


RATE_WINDOW_S = 60
RATE_BUCKET_S = 5
_RATE_BUCKETS = RATE_WINDOW_S // RATE_BUCKET_S + 1  # the 60 s before now touch 13 five-second buckets

clock: Callable[[], float] = time.time  # tests put a fake clock here


def _rate_key(token_id: int, bucket: int) -> str:
    return f"arena:api-rate:{token_id}:{bucket}"


def rate_limit_hit(*, token: AgentToken, now: float | None = None) -> RateDecision:
    """Count one request for ``token`` against a sliding one-minute window.

    Requests are counted in five-second buckets in the shared cache (``incr`` is atomic in
    Redis, so every server process counts against one budget). A request is let through when
    the buckets that overlap the last 60 s (13 of them: 60 to 65 s of history) hold fewer
    than the limit. Counting the oldest bucket whole errs on the strict side: no 60 s span,
    wherever it starts, ever sees more than the limit; a fixed per-minute window let twice the
    limit through around a minute boundary. A refused request is not counted."""
    limit = int(getattr(settings, "ARENA_API_RATE_PER_MIN", DEFAULT_RATE_PER_MIN))
    if limit <= 0:  # 0 = no limit
        return RateDecision(allowed=True, limit=0, remaining=0, retry_after_s=0)
    now = clock() if now is None else now
    current = int(now // RATE_BUCKET_S)
    buckets = range(current - _RATE_BUCKETS + 1, current + 1)
    timeout = RATE_WINDOW_S + 2 * RATE_BUCKET_S
    key = _rate_key(token.pk, current)
    try:
        cache.add(key, 0, timeout=timeout)
        try:
            mine = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=timeout)
            mine = 1
        older = cache.get_many([_rate_key(token.pk, b) for b in buckets if b != current])
        counts = {b: int(older.get(_rate_key(token.pk, b), 0)) for b in buckets if b != current}
        counts[current] = mine
        used = sum(counts.values())
        if used <= limit:
            return RateDecision(allowed=True, limit=limit, remaining=limit - used, retry_after_s=0)
        cache.decr(key)  # a refused request does not use up the budget
    except Exception:  # a cache outage must not take the API down with it
        logger.exception("rate-limit cache unavailable; letting the request through")
        return RateDecision(allowed=True, limit=limit, remaining=limit, retry_after_s=0)
    counts[current] -= 1
    return RateDecision(
        allowed=False, limit=limit, remaining=0, retry_after_s=_retry_after(counts, limit, now)
    )


def _retry_after(counts: dict[int, int], limit: int, now: float) -> int:
    """Whole seconds until enough old buckets have left the window for one more request."""
    current = max(counts)
    for later in range(current + 1, current + _RATE_BUCKETS + 1):
        still_in = sum(n for b, n in counts.items() if b > later - _RATE_BUCKETS)
        if still_in < limit:
            return max(1, math.ceil(later * RATE_BUCKET_S - now))
    return RATE_WINDOW_S + RATE_BUCKET_S

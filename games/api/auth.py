"""Agent API tokens and the per-token rate limit.

A token is shown once, when it is made; the database keeps only its SHA-256 and a short
prefix (to tell tokens apart in the admin). Tokens are not game state, so they are written
here rather than through ``games.services``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

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


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


def rate_limit_hit(*, token: AgentToken) -> RateDecision:
    """Count one request for ``token`` in the current one-minute window (fixed windows in the
    shared cache, so every server process counts against the same budget)."""
    limit = int(getattr(settings, "ARENA_API_RATE_PER_MIN", DEFAULT_RATE_PER_MIN))
    now = time.time()
    window = int(now // 60)
    retry_after = max(1, math.ceil((window + 1) * 60 - now))
    if limit <= 0:  # 0 = no limit
        return RateDecision(allowed=True, limit=0, remaining=0, retry_after_s=0)
    key = f"arena:api-rate:{token.pk}:{window}"
    try:
        cache.add(key, 0, timeout=70)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=70)
        count = 1
    except Exception:  # a cache outage must not take the API down with it
        logger.exception("rate-limit cache unavailable; letting the request through")
        return RateDecision(allowed=True, limit=limit, remaining=limit, retry_after_s=0)
    return RateDecision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(limit - count, 0),
        retry_after_s=retry_after,
    )

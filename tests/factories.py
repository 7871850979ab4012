"""Small builders for test data, all through the services (the only write path)."""

from __future__ import annotations

import itertools

from django.contrib.sessions.backends.db import SessionStore

from games.models import Match, PuzzleVariant, Seat
from games.play import services

HIDDEN_RULE = "x + y > z"  # fixed so tests are deterministic; canonical text as the engine prints it
_slugs = itertools.count(1)


def variant(
    *,
    rule: str = HIDDEN_RULE,
    max_tests: int = 30,
    published: bool = True,
    hypothesis_mode: str = "off",
    hypothesis_format: str = "rule",
) -> PuzzleVariant:
    return services.variant_create(
        slug=f"test-wason-{next(_slugs)}",
        family="wason",
        title="Test wason",
        params={"tier": 1, "rule": rule, "max_tests": max_tests},
        published=published,
        hypothesis_mode=hypothesis_mode,
        hypothesis_format=hypothesis_format,
    )


def session_key() -> str:
    store = SessionStore()
    store["handle"] = "Tester"
    store.save()
    return store.session_key


def match(
    *,
    seats: int = 1,
    max_tests: int | None = None,
    time_limit_s: int | None = None,
    start: bool = True,
    rule: str = HIDDEN_RULE,
    hypothesis_mode: str = "off",
    hypothesis_format: str = "rule",
) -> tuple[Match, list[Seat]]:
    m = services.match_create(
        variant=variant(rule=rule, hypothesis_mode=hypothesis_mode, hypothesis_format=hypothesis_format),
        seed=1,
        max_tests=max_tests,
        time_limit_s=time_limit_s,
    )
    made = [
        services.seat_join(match=m, handle=f"Player {i + 1}", session_key=session_key()) for i in range(seats)
    ]
    if start:
        m = services.match_start(match=m)
    return m, made

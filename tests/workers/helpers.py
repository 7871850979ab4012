"""Builders for model-player tests (through the services, the only write path)."""

from __future__ import annotations

import itertools

from games.models import Match, ModelContestant, Seat
from games.play import services
from tests import factories
from tests.workers.fake_model import FakeModelServer

_n = itertools.count(1)


def contestant(fake: FakeModelServer | None = None, *, backend: str = "openai", **fields) -> ModelContestant:
    slug = fields.pop("slug", f"fake-{next(_n)}")
    base_url = fields.pop("base_url", "")
    if fake is not None and not base_url:
        base_url = fake.anthropic_base_url if backend == "anthropic" else fake.base_url
    return ModelContestant.objects.create(
        slug=slug,
        name=fields.pop("name", slug.title()),
        backend=backend,
        base_url=base_url,
        model=fields.pop("model", "fake-model"),
        api_key_env=fields.pop("api_key_env", ""),  # the fake needs no key; tests of keys name one
        http_timeout_s=fields.pop("http_timeout_s", 2.0),
        **fields,
    )


def model_race(
    *contestants: ModelContestant, rule: str = factories.HIDDEN_RULE, max_tests: int = 30
) -> tuple[Match, list[Seat]]:
    variant = factories.variant(rule=rule, max_tests=max_tests)
    match, _ = services.race_create(variant=variant, opponents=[c.slug for c in contestants], seed=1)
    return match, list(match.seats.order_by("id"))


def builtin(slug: str = "infogain") -> ModelContestant:
    """A built-in contestant. The data migration seeds these, but transactional tests flush
    the tables, so tests make sure they exist."""
    solver = {"infogain": "infogain", "random-tester": "random"}[slug]
    contestant, _ = ModelContestant.objects.get_or_create(
        slug=slug, defaults={"name": slug.title(), "backend": "builtin", "model": solver, "max_calls": 200}
    )
    return contestant

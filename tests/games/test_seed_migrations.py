"""The seed migrations (0002 wason, 0008 eleusis) share one helper (games/migrations/_seed.py)
and keep what they did: the same variants, titles and budgets; made once; a played variant
survives the reverse."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from games.models import PuzzleVariant
from games.play import services

pytestmark = pytest.mark.django_db

SEEDS = {
    "0002_seed_wason_variants": ("wason", "Wason", 30, 5),
    "0008_seed_eleusis_variants": ("eleusis", "Eleusis", 20, 4),
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_a_seed_migration_makes_its_variants_once_and_its_reverse_keeps_played_ones(name):
    family, label, max_tests, count = SEEDS[name]
    migration = importlib.import_module(f"games.migrations.{name}")
    slugs = [v[1] for v in migration.VARIANTS]
    assert len(slugs) == count

    assert (
        PuzzleVariant.objects.filter(slug__in=slugs).count() == count
    )  # migrating the test database seeded them
    migration.unseed(apps, None)
    assert not PuzzleVariant.objects.filter(slug__in=slugs).exists()
    migration.seed(apps, None)
    migration.seed(apps, None)  # get_or_create: running twice adds nothing
    rows = PuzzleVariant.objects.filter(slug__in=slugs).order_by("slug")
    assert [r.slug for r in rows] == sorted(slugs)
    by_slug = {r.slug: r for r in rows}
    for tier, slug, title, description in migration.VARIANTS:
        row = by_slug[slug]
        assert row.family == family and row.published
        assert row.title == f"{label} tier {tier}: {title}" and row.description == description
        assert row.params == {"tier": tier, "max_tests": max_tests}

    played = rows.first()
    services.match_create(variant=played, seed=1)  # played: it has an instance
    migration.unseed(apps, None)
    assert list(PuzzleVariant.objects.filter(slug__in=slugs).values_list("slug", flat=True)) == [played.slug]

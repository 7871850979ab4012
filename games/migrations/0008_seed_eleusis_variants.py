"""Seed published `eleusis` variants (which card may follow which) so a fresh install has a
second family to play."""

from django.db import migrations

VARIANTS = [
    (1, "eleusis-tier-1", "Higher, lower, same suit", "One comparison of rank, suit or colour."),
    (2, "eleusis-tier-2", "Parity, steps and sums", "Odd and even, one step up or down, sums of ranks."),
    (3, "eleusis-tier-3", "Two conditions", "Two conditions joined by and / or."),
    (
        4,
        "eleusis-tier-4",
        "It depends",
        "One condition decides which of two rules applies, e.g. after a face card go lower, otherwise go higher.",
    ),
]


def seed(apps, schema_editor):
    PuzzleVariant = apps.get_model("games", "PuzzleVariant")
    for tier, slug, title, description in VARIANTS:
        PuzzleVariant.objects.get_or_create(
            slug=slug,
            defaults={
                "family": "eleusis",
                "title": f"Eleusis tier {tier}: {title}",
                "description": description,
                "params": {"tier": tier, "max_tests": 20},
                "published": True,
            },
        )


def unseed(apps, schema_editor):
    PuzzleVariant = apps.get_model("games", "PuzzleVariant")
    PuzzleVariant.objects.filter(slug__in=[v[1] for v in VARIANTS], instances=None).delete()


class Migration(migrations.Migration):
    dependencies = [("games", "0007_tournaments")]

    operations = [migrations.RunPython(seed, unseed)]

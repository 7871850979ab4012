"""Seed published `eleusis` variants (which card may follow which) so a fresh install has a
second family to play."""

from django.db import migrations

from games.migrations._seed import variant_seeders

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


seed, unseed = variant_seeders(family="eleusis", label="Eleusis", max_tests=20, variants=VARIANTS)


class Migration(migrations.Migration):
    dependencies = [("games", "0007_tournaments")]

    operations = [migrations.RunPython(seed, unseed)]

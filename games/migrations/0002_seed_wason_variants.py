"""Seed a few published `wason` variants so a fresh install has something to play."""

from django.db import migrations

from games.migrations._seed import variant_seeders

VARIANTS = [
    (
        1,
        "wason-tier-1",
        "Orderings and signs",
        "Rules about which number is bigger, and signs. The classic 2-4-6 task.",
    ),
    (2, "wason-tier-2", "Parity and equalities", "Even and odd, equal numbers, one arithmetic relation."),
    (3, "wason-tier-3", "Sums, products, max and min", "Rules that combine the numbers arithmetically."),
    (4, "wason-tier-4", "Two clauses", "Two conditions joined by and / or."),
    (5, "wason-tier-5", "Float tricks and number theory", "Fractions, divisibility and other subtle rules."),
]


seed, unseed = variant_seeders(family="wason", label="Wason", max_tests=30, variants=VARIANTS)


class Migration(migrations.Migration):
    dependencies = [("games", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

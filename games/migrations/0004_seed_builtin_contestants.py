"""Built-in contestants (the engine's baseline solvers), so the arena has model
opponents with no network and no API keys."""

from django.db import migrations

BUILTINS = [
    ("infogain", "Info-gain solver", "infogain"),
    ("random-tester", "Random tester", "random"),
]


def seed(apps, schema_editor):
    ModelContestant = apps.get_model("games", "ModelContestant")
    for slug, name, solver in BUILTINS:
        ModelContestant.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "backend": "builtin",
                "model": solver,
                "max_calls": 200,
                "max_concurrent_matches": 50,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("games", "ModelContestant").objects.filter(slug__in=[b[0] for b in BUILTINS]).delete()


class Migration(migrations.Migration):
    dependencies = [("games", "0003_model_players")]
    operations = [migrations.RunPython(seed, unseed)]

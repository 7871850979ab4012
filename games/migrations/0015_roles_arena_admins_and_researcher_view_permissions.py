"""Roles as Django groups: "arena admins" configure variants, rule sets, contestants, tokens and
tournaments and act on matches and seats through the admin's actions (results stay read-only);
"researchers" (made in 0006) may view them all. Players are every other account."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINS = "arena admins"
RESEARCHERS = "researchers"
CONFIGURED = ("puzzlevariant", "modelcontestant", "agenttoken", "tournament")
RESULTS = ("match", "seat", "step", "modelcall", "puzzleinstance")


def create(apps, schema_editor):
    # Permissions are made after migrations by default; make them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    games = Permission.objects.filter(content_type__app_label="games")
    admins, _ = Group.objects.get_or_create(name=ADMINS)
    admin_codenames = [f"{verb}_{model}" for model in CONFIGURED for verb in ("add", "change", "delete", "view")]
    admin_codenames += [f"view_{model}" for model in RESULTS] + ["change_match", "change_seat"]
    admins.permissions.set(games.filter(codename__in=admin_codenames))
    researchers, _ = Group.objects.get_or_create(name=RESEARCHERS)
    researchers.permissions.set(games.filter(codename__in=[f"view_{m}" for m in (*CONFIGURED, *RESULTS)]))


def remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=ADMINS).delete()
    for group in Group.objects.filter(name=RESEARCHERS):
        group.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("games", "0014_variant_lifecycle_rule_sets_and_playtests"),
    ]
    operations = [migrations.RunPython(create, remove)]

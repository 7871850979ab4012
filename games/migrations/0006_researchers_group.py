"""The researcher role: members of the `researchers` group (and staff) may download exports."""

from django.db import migrations

GROUP = "researchers"


def create(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("games", "0005_seat_agent_token"),
    ]
    operations = [migrations.RunPython(create, remove)]

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_family_variants(sender: AppConfig, apps: Any = None, **kwargs: Any) -> None:
    """Seed the variants every family declares (games.engine), after each migrate."""
    from games.play.services import variants_sync

    try:
        model = apps.get_model("games", "PuzzleVariant") if apps is not None else None
    except LookupError:  # migrated back to before the model existed
        return
    variants_sync(variant_model=model)


class GamesConfig(AppConfig):
    name = "games"
    verbose_name = "Games"

    def ready(self) -> None:
        post_migrate.connect(_sync_family_variants, sender=self, dispatch_uid="games.sync_family_variants")

"""What the seed migrations (0002 wason, 0008 eleusis) share: published variants made once if
missing, removed on reverse unless played.

Migrations that have run depend on this module: change what it does only in a new function.
(Django's loader skips modules whose names start with "_", so this is not a migration itself.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Operation = Callable[[Any, Any], None]


def variant_seeders(
    *, family: str, label: str, max_tests: int, variants: Sequence[tuple[int, str, str, str]]
) -> tuple[Operation, Operation]:
    """``(seed, unseed)`` for ``RunPython``: ``variants`` are (tier, slug, title, description);
    a variant is titled "<label> tier <n>: <title>"."""

    def seed(apps: Any, schema_editor: Any) -> None:
        PuzzleVariant = apps.get_model("games", "PuzzleVariant")
        for tier, slug, title, description in variants:
            PuzzleVariant.objects.get_or_create(
                slug=slug,
                defaults={
                    "family": family,
                    "title": f"{label} tier {tier}: {title}",
                    "description": description,
                    "params": {"tier": tier, "max_tests": max_tests},
                    "published": True,
                },
            )

    def unseed(apps: Any, schema_editor: Any) -> None:
        PuzzleVariant = apps.get_model("games", "PuzzleVariant")
        PuzzleVariant.objects.filter(slug__in=[v[1] for v in variants], instances=None).delete()

    return seed, unseed

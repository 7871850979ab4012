"""The home page: a starter puzzle first, families in level order, one model picker."""

import pytest

from games.models import ModelContestant
from games.play import selectors

pytestmark = pytest.mark.django_db


def test_the_starter_family_comes_first_with_its_levels_in_order():
    puzzles = selectors.home_puzzles()
    assert puzzles["starter"].slug == "wason-tier-1"
    first = puzzles["families"][0]
    assert first["id"] == "wason" and "2-4-6" in first["title"]
    assert [v.slug for v in first["variants"]][:3] == ["wason-tier-1", "wason-tier-2", "wason-tier-3"]
    assert {f["id"] for f in puzzles["families"]} >= {"wason", "eleusis"}


def test_with_the_starter_unpublished_there_is_no_start_here_but_every_puzzle_is_listed(client):
    from games.models import PuzzleVariant

    PuzzleVariant.objects.filter(slug="wason-tier-1").update(published=False)
    assert selectors.home_puzzles()["starter"] is None
    body = client.get("/").content.decode()
    assert 'id="start-here"' not in body and "/play/wason-tier-2/" in body


def test_the_home_page_has_one_model_picker_and_a_race_button_per_puzzle(client):
    ModelContestant.objects.get_or_create(slug="alpha", defaults={"name": "Alpha", "backend": "builtin"})
    body = client.get("/").content.decode()
    assert body.count('name="opponents"') == 2 * ModelContestant.objects.filter(enabled=True).count()
    assert body.count('id="model-picker"') == 1
    assert 'id="start-here"' in body and "Learn in one minute" in body
    assert 'formaction="/race/wason-tier-1/"' in body and 'formaction="/play/wason-tier-1/"' in body

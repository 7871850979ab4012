"""A ``blackbox`` match (answers that are lists and integers) in every export format, in the
replay and on the research dashboard, with its per-step analytics over the family's reference
space."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import PuzzleVariant
from games.play import services
from tests import factories
from tests.games.research.test_exports import assert_typed, csv_tables, export, jsonl_tables, parquet_tables
from tests.games.research.test_replay_dashboard_views import embedded, researcher

pytestmark = pytest.mark.django_db


def finished_match():
    services.variants_sync()
    variant = PuzzleVariant.objects.get(slug="blackbox-level-1")
    match = services.match_create(variant=variant, seed=2)
    seat = services.seat_join(match=match, handle="Tester", session_key=factories.session_key())
    services.match_start(match=match)
    for xs in ([], [3, -1, 2], [0, 0, 5]):
        services.step_submit(seat=seat, action={"type": "test", "input": xs})
    services.step_submit(seat=seat, action={"type": "guess", "rule": "reverse(xs)"})
    match.refresh_from_db()
    assert match.status == "finished"
    return match


def test_list_and_integer_answers_export_in_every_format_with_analytics(tmp_path):
    hidden = finished_match().instance.hidden["rule"]
    evaluate = get_family("blackbox").extras["evaluate"]

    for fmt, read in (("jsonl", jsonl_tables), ("csv", csv_tables), ("parquet", parquet_tables)):
        out, _ = export(tmp_path, fmt)
        tables = read(out)
        assert_typed(tables)
        steps = [s for s in tables["steps"] if s["kind"] == "test"]
        assert [s["test_input"] for s in steps] == [[], [3, -1, 2], [0, 0, 5]], fmt
        assert [s["test_result"] for s in steps] == [evaluate(hidden, s["test_input"]) for s in steps], fmt
        assert all(s["surviving"] is not None and s["p_true"] is None for s in steps), fmt


def test_the_replay_and_the_dashboard_show_a_blackbox_match(client):
    from django.core.cache import cache

    cache.clear()
    match = finished_match()
    hidden = match.instance.hidden["rule"]
    data = embedded(client.get(f"/matches/{match.pk}/replay/"), "replay-data")
    [seat] = data["seats"]
    tests = [r for r in seat["steps"] if r["kind"] == "test"]
    assert [r["input"] for r in tests] == [[], [3, -1, 2], [0, 0, 5]]
    assert all(r["surviving"] <= r["surviving_before"] for r in tests)
    assert data["reveal"]["rule"] == hidden

    researcher(client)
    plots = embedded(client.get("/research/"), "dashboard-data")
    [row] = [r for r in plots["solve-rate"] if r["family"] == "blackbox"]
    assert row["tier"] == 1 and row["seats"] == 1

"""A ``blackbox`` match (answers that are lists and integers) in every export format, with its
per-step analytics over the family's reference space."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import PuzzleVariant
from games.play import services
from tests import factories
from tests.games.research.test_exports import assert_typed, csv_tables, export, jsonl_tables, parquet_tables

pytestmark = pytest.mark.django_db


def test_list_and_integer_answers_export_in_every_format_with_analytics(tmp_path):
    services.variants_sync()
    variant = PuzzleVariant.objects.get(slug="blackbox-level-1")
    match = services.match_create(variant=variant, seed=2)
    seat = services.seat_join(match=match, handle="Tester", session_key=factories.session_key())
    services.match_start(match=match)
    for xs in ([], [3, -1, 2], [0, 0, 5]):
        services.step_submit(seat=seat, action={"type": "test", "input": xs})
    services.step_submit(seat=seat, action={"type": "guess", "rule": "reverse(xs)"})
    hidden = match.instance.hidden["rule"]
    evaluate = get_family("blackbox").extras["evaluate"]

    for fmt, read in (("jsonl", jsonl_tables), ("csv", csv_tables), ("parquet", parquet_tables)):
        out, _ = export(tmp_path, fmt)
        tables = read(out)
        assert_typed(tables)
        steps = [s for s in tables["steps"] if s["kind"] == "test"]
        assert [s["test_input"] for s in steps] == [[], [3, -1, 2], [0, 0, 5]], fmt
        assert [s["test_result"] for s in steps] == [evaluate(hidden, s["test_input"]) for s in steps], fmt
        assert all(s["surviving"] is not None and s["p_true"] is None for s in steps), fmt

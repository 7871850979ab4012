"""An imported ARC task played to the end (a revealed demonstration pair, a wrong answer, the
right one) round-trips exactly: every export format carries the steps as played, the instance
rebuilds from (family, version, seed, params) in the export, and replaying the exported log
through the engine gives every stored answer and verdict again; the replay page shows the same."""

from __future__ import annotations

import json

import pytest

from games.engine import get_family
from games.models import PuzzleVariant
from games.play import services
from tests import factories
from tests.games.research.test_exports import assert_typed, csv_tables, export, jsonl_tables, parquet_tables
from tests.games.research.test_replay_dashboard_views import embedded

pytestmark = pytest.mark.django_db


def finished_match():
    services.variants_sync()
    variant = PuzzleVariant.objects.get(slug="arc-level-3")
    match = services.match_create(variant=variant, seed=5)
    seat = services.seat_join(match=match, handle="Tester", session_key=factories.session_key())
    services.match_start(match=match)
    public = match.instance.public
    if public["max_tests"]:
        services.step_submit(seat=seat, action={"type": "test", "input": public["shown"] + 1})
    services.step_submit(seat=seat, action={"type": "guess", "rule": public["test_input"]})
    right = match.instance.hidden["answer"]
    services.step_submit(seat=seat, action={"type": "guess", "rule": json.dumps(right)})  # its JSON text
    match.refresh_from_db()
    assert match.status == "finished"
    return match


def test_an_imported_task_round_trips_through_every_export_and_replays_exactly(tmp_path):
    match = finished_match()
    family = get_family("arc")
    played = list(match.seats.get().steps.order_by("seq").values_list("kind", "action", "result"))
    assert [k for k, _, _ in played][-2:] == ["guess", "guess"]

    for fmt, read in (("jsonl", jsonl_tables), ("csv", csv_tables), ("parquet", parquet_tables)):
        out, _ = export(tmp_path, fmt)
        tables = read(out)
        assert_typed(tables)
        [row] = tables["matches"]
        steps = sorted(tables["steps"], key=lambda s: s["seq"])
        assert [(s["kind"], s["action"], s["result"]) for s in steps] == played, fmt
        # the instance rebuilds from the export alone, and the log replays through the engine
        assert row["family"] == "arc" and row["generator_version"] == family.version
        rebuilt = family.generate(row["seed"], row["params"])
        assert rebuilt.public == row["public"] and rebuilt.hidden == row["hidden"], fmt
        attempts = []
        for s in steps:
            if s["kind"] == "test":
                assert family.answer(rebuilt, s["test_input"]) == s["test_result"], fmt
            elif s["kind"] == "guess":
                attempts.append(family.judge(rebuilt, s["action"]["rule"]).to_dict())
                assert json.loads(s["guess"]) == s["action"]["rule"], fmt
        assert [a["correct"] for a in attempts] == [False, True]
        assert steps[-1]["result"]["verdict"] == attempts[-1], fmt
        [seat] = tables["seats"]
        assert seat["guess_correct"] is True and json.loads(seat["guess"]) == rebuilt.hidden["answer"]


def test_the_replay_page_draws_the_same_log(client):
    from django.core.cache import cache

    cache.clear()
    match = finished_match()
    data = embedded(client.get(f"/matches/{match.pk}/replay/"), "replay-data")
    [seat] = data["seats"]
    played = list(match.seats.get().steps.order_by("seq"))
    assert [r["kind"] for r in seat["steps"]] == [s.kind for s in played]
    guesses = [r for r in seat["steps"] if r["kind"] == "guess"]
    assert [g["rule"] for g in guesses] == [s.action["rule"] for s in played if s.kind == "guess"]
    assert data["match"]["presentation"]["value_display"] == "grid"
    assert data["reveal"]["rule"].startswith("ARC-AGI-1 training task ")

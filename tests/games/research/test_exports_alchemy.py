"""An ``alchemy`` match in every export format and in the replay: per test, the family's own
measures (novelty of the pair, each element's tries, successes and uncertainty as the player could
know them, and once the match is over the elements' true empowerment from the hidden graph), so
"do people and models explore by empowerment?" can be answered from the export alone."""

from __future__ import annotations

import pytest

from games.models import PuzzleVariant
from games.play import services
from tests import factories
from tests.games.play.test_budget_end import pairs
from tests.games.research.test_exports import assert_typed, csv_tables, export, jsonl_tables, parquet_tables
from tests.games.research.test_replay_dashboard_views import embedded

pytestmark = pytest.mark.django_db


def finished_match():
    services.variants_sync()
    variant = PuzzleVariant.objects.get(slug="alchemy-level-1")
    match = services.match_create(variant=variant, seed=2, max_tests=3)
    seat = services.seat_join(match=match, handle="Tester", session_key=factories.session_key())
    services.match_start(match=match)
    making, nothing, made = pairs(match)
    for pair in (making, making, nothing):  # the second one is a repeat: not a novel pair
        services.step_submit(seat=seat, action={"type": "test", "input": pair})
    match.refresh_from_db()
    assert match.status == "finished"
    return match, making, made


def test_the_export_carries_novelty_uncertainty_and_empowerment_per_test(tmp_path):
    match, making, made = finished_match()
    recipes = match.instance.hidden["recipes"]

    def uses(name):
        return sum(name in r[:2] for r in recipes)

    for fmt, read in (("jsonl", jsonl_tables), ("csv", csv_tables), ("parquet", parquet_tables)):
        out, _ = export(tmp_path, fmt)
        tables = read(out)
        assert_typed(tables)
        steps = [s for s in tables["steps"] if s["kind"] == "test"]
        measures = [s["measures"] for s in steps]
        assert [m["novel_pair"] for m in measures] == [True, False, True], fmt
        assert measures[0]["discovery"] is True and measures[1]["discovery"] is False, fmt
        assert measures[1]["a_tries_before"] == 1 and measures[1]["a_successes_before"] == 1, fmt
        assert measures[0]["a_empowerment"] == uses(making[0]), fmt  # known after the end
        assert measures[0]["pair_empowerment"] == uses(making[0]) + uses(making[1]), fmt
        assert measures[0]["made_depth"] == 1 and measures[2]["made_depth"] is None, fmt
        assert 0 < measures[0]["a_uncertainty"] <= 1, fmt
        [seat] = tables["seats"]
        assert seat["points"] > 0 and seat["score"]["discovered"] == 1, fmt


def test_the_replay_shows_the_growing_list_of_discoveries(client):
    from django.core.cache import cache

    cache.clear()
    match, _, made = finished_match()
    data = embedded(client.get(f"/matches/{match.pk}/replay/"), "replay-data")
    [seat] = data["seats"]
    tests = [r for r in seat["steps"] if r["kind"] == "test"]
    assert tests[0]["result"] == made
    assert tests[0]["measures"]["novel_pair"] is True and tests[1]["measures"]["novel_pair"] is False
    assert tests[0]["measures"]["made_depth"] == 1  # the replay is of a finished match: hidden measures too
    assert data["match"]["presentation"]["widget"]["options"] == match.instance.public["start"]


def test_the_dashboard_counts_an_alchemy_seat(client):
    from django.core.cache import cache

    from tests.games.research.test_replay_dashboard_views import researcher

    cache.clear()
    finished_match()
    researcher(client)
    response = client.get("/research/")
    assert response.status_code == 200
    plots = embedded(response, "dashboard-data")
    [row] = [r for r in plots["solve-rate"] if r["family"] == "alchemy"]
    assert row["seats"] == 1

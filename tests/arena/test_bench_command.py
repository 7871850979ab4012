"""`manage.py bench`: model-only matches through the real pipeline, resumable, with a summary."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from arena.management.commands.bench import parse_seeds
from games.models import Match, Seat
from games.play import services
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue


def test_seed_ranges() -> None:
    assert parse_seeds("0-3,7,2") == [0, 1, 2, 3, 7]
    for bad, message in [
        ("a-b", "bad seed range"),
        ("5-1", "end is before"),
        ("", "no seeds"),
        ("-3", "bad seed"),
    ]:
        with pytest.raises(CommandError, match=message):
            parse_seeds(bad)


@pytest.mark.django_db
def test_unknown_names_are_clear_errors() -> None:
    builtin("infogain")
    with pytest.raises(CommandError, match="unknown or disabled contestant.*nope"):
        call_command("bench", contestants="infogain,nope", variants="x", seeds="0-1")
    with pytest.raises(CommandError, match="unknown variant.*missing-variant"):
        call_command("bench", contestants="infogain", variants="missing-variant", seeds="0-1")


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_two_builtins_two_variants_twenty_seeds_then_a_rerun_skips_them_all(tmp_path) -> None:
    point_the_app_at_the_test_queue()
    builtin("infogain")
    builtin("random-tester")
    for tier in (1, 2):
        services.variant_create(
            slug=f"bench-tier-{tier}",
            family="wason",
            title=f"Tier {tier}",
            params={"tier": tier, "max_tests": 6},
        )
    worker = Worker()
    try:
        worker.wait_ready()
        out, err = io.StringIO(), io.StringIO()
        summary = tmp_path / "summary.csv"
        args = dict(
            contestants="infogain,random-tester",
            variants="bench-tier-1,bench-tier-2",
            seeds="0-19",
            concurrency=4,
            csv=str(summary),
            timeout=500,
        )
        call_command("bench", stdout=out, stderr=err, **args)
        assert Match.objects.filter(mode="benchmark").count() == 80
        assert Match.objects.filter(mode="benchmark").exclude(status="finished").count() == 0
        assert (
            Seat.objects.filter(match__mode="benchmark", status__in=["finished", "forfeited"]).count() == 80
        )
        assert "80/80 matches" in err.getvalue() and "ETA" in err.getvalue()
        rows = list(csv.DictReader(summary.open()))
        assert {(r["contestant"], r["variant"]) for r in rows} == {
            (c, v) for c in ("infogain", "random-tester") for v in ("bench-tier-1", "bench-tier-2")
        }
        assert all(r["matches"] == "20" and r["finished"] == "20" for r in rows)
        assert all(0.0 <= float(r["solve_rate"]) <= 1.0 and float(r["mean_tests"]) <= 6 for r in rows)
        assert "solve_rate" in out.getvalue()

        out2, err2 = io.StringIO(), io.StringIO()
        call_command("bench", stdout=out2, stderr=err2, **args)
        assert "80 already finished" in err2.getvalue()
        assert Match.objects.filter(mode="benchmark").count() == 80  # nothing new was played
        assert list(csv.DictReader(summary.open())) == rows
    finally:
        worker.stop()

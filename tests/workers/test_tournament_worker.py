"""A whole tournament on a real Celery worker: the tick chain starts rounds as races end, the
built-in contestants play every round, and the tournament finishes by itself."""

from __future__ import annotations

import time

import pytest

from games.competition import leaderboard, tournaments
from games.models import Match, Seat, Tournament
from tests import factories
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_a_tournament_runs_to_the_end_on_a_real_worker() -> None:
    point_the_app_at_the_test_queue()
    worker = Worker(extra_env={"ARENA_TOURNAMENT_TICK_S": "0.2"})
    try:
        worker.wait_ready()
        t = tournaments.tournament_create(
            slug="worker-cup",
            title="Worker cup",
            variants=[factories.variant(rule="x < y < z", max_tests=12)],
            contestants=[infogain := builtin("infogain"), rand := builtin("random-tester")],
            seeds="0-2",
            concurrency=2,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            t.refresh_from_db()
            if t.is_over:
                break
            time.sleep(0.2)
        assert t.status == Tournament.Status.FINISHED, (t.status, t.note, worker.output()[-3000:])
        matches = Match.objects.filter(tournament_round__tournament=t)
        assert matches.count() == 3 and not matches.exclude(status=Match.Status.FINISHED).exists()
        assert not Seat.objects.filter(match__in=matches, status=Seat.Status.PLAYING).exists()
        standings = {r["name"]: r for r in leaderboard.leaderboard(tournament=t)}
        assert {name: r["matches"] for name, r in standings.items()} == {infogain.name: 3, rand.name: 3}
        # the information-gain solver does at least as well as random testing
        assert standings[infogain.name]["mean_points"] >= standings[rand.name]["mean_points"]
    finally:
        worker.stop()

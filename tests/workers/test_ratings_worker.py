"""The ratings on a real worker, with no beat process: a ranked match ends, the sweep chain
notices once things are quiet (the debounce) and queues the ratings task, which stores the
snapshots; no request ever fits anything."""

from __future__ import annotations

import pytest

from games.models import RatingSnapshot, RatingsRun
from tests import factories
from tests.games.competition.test_leaderboard import RIGHT, WRONG, guest, play
from tests.workers.test_sweep_worker import wait_until
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_a_match_that_ends_is_rated_by_the_worker_after_the_debounce() -> None:
    point_the_app_at_the_test_queue()
    variant = factories.variant()
    worker = Worker(
        extra_env={
            "ARENA_SWEEP_S": "0.5",
            "ARENA_WORKER_HEARTBEAT_S": "0.5",
            "ARENA_RATINGS_DEBOUNCE_S": "1",
            "ARENA_RATINGS_ROUNDS": "10",
        }
    )
    try:
        worker.wait_ready()
        assert not RatingSnapshot.objects.exists()
        play(variant, (guest("sess-a", "Ann"), 0, RIGHT), (guest("sess-b", "Bob"), 0, WRONG))
        snapshot = wait_until(
            lambda: RatingSnapshot.objects.filter(scope="all", period="all").first(),
            90,
            f"the ratings task to store a snapshot: {worker.output()[-3000:]}",
        )
        assert snapshot.seats == 2 and {p["name"] for p in snapshot.payload["players"]} == {"Ann", "Bob"}
        run = wait_until(
            lambda: RatingsRun.objects.filter(last_at__isnull=False).first(), 30, "the run to end"
        )
        assert run.running_since is None and run.last_report["status"] == "ok"
    finally:
        worker.stop()

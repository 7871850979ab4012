"""A built-in solver plays the ``rewrite`` family through a real Celery worker, real broker and
the test database: the pipeline knows no family; string tests and answers go through as they are."""

from __future__ import annotations

import pytest

from games.models import Match, ModelContestant, Seat
from games.play import services
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_the_search_solver_plays_a_rewrite_cascade_through_a_real_worker() -> None:
    point_the_app_at_the_test_queue()
    ModelContestant.objects.create(
        slug="rewrite-search", name="Rewrite search", backend="builtin", model="search", max_calls=200
    )
    variant = services.variant_create(
        slug="test-rewrite-worker",
        family="rewrite",
        title="Test rewrite",
        params={"tier": 1, "rule": "ab -> ba; c -> a", "max_tests": 20},
        published=True,
    )
    worker = Worker()
    try:
        worker.wait_ready()
        match, _ = services.race_create(variant=variant, opponents=["rewrite-search"], seed=1)
        match = wait_finished(match)
        [seat] = match.seats.all()
        assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
        steps = list(seat.steps.order_by("seq"))
        assert steps[-1].kind == "guess"
        tests = [s for s in steps if s.kind == "test"]
        assert all(isinstance(s.action["input"], str) and isinstance(s.result["result"], str) for s in tests)
        assert_log_is_clean(seat)
        assert match.status == Match.Status.FINISHED
    finally:
        worker.stop()

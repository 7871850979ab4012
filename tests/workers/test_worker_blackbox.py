"""A built-in solver plays the ``blackbox`` family (list programs) through a real Celery worker,
real broker and the test database, to the reveal."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import ModelContestant, PuzzleVariant, Seat
from games.play import services
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_a_real_worker_plays_the_blackbox_search_solver_to_the_reveal() -> None:
    point_the_app_at_the_test_queue()
    services.variants_sync()  # transactional tests flush the tables: the shipped variants again
    variant = PuzzleVariant.objects.get(slug="blackbox-level-1")
    solver, _ = ModelContestant.objects.get_or_create(
        slug="blackbox-search",
        defaults={"name": "Blackbox search", "backend": "builtin", "model": "search", "max_calls": 200},
    )
    worker = Worker()
    try:
        worker.wait_ready()
        match, _ = services.race_create(variant=variant, opponents=[solver.slug], seed=3)
        match = wait_finished(match)
        [seat] = match.seats.all()
        assert seat.status == Seat.Status.FINISHED, (
            list(seat.steps.values("kind", "action", "result")),
            worker.output()[-3000:],
        )
        assert_log_is_clean(seat)
        steps = list(seat.steps.order_by("seq"))
        tests = [s for s in steps if s.kind == "test"]
        family = get_family("blackbox")
        hidden = match.instance.hidden["rule"]
        for step in tests:  # every answer the worker recorded is the program's output (list or int)
            assert step.result["result"] == family.extras["evaluate"](hidden, step.action["input"])
        assert steps[-1].kind == "guess" and seat.score["solved"] is True
        assert family.judge(
            family.generate(3, family.validate_params(variant.params)), steps[-1].action["rule"]
        ).correct
    finally:
        worker.stop()

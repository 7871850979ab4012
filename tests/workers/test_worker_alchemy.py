"""The ``alchemy`` explorers (built-in solvers) play through a real Celery worker to the end of
their combination budget: every test combines elements the seat knew, the seat finishes without a
guess, scored from its history."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import ModelContestant, Seat
from games.play import selectors, services
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_a_real_worker_plays_both_explorers_to_the_end_of_their_budget() -> None:
    point_the_app_at_the_test_queue()
    variant = services.variant_create(
        slug="test-alchemy-worker",
        family="alchemy",
        title="Recipes",
        params={"elements": 14, "depth": 3, "max_tests": 12},
    )
    explorers = [
        ModelContestant.objects.create(
            slug=f"alchemy-{name}", name=f"{name} explorer", backend="builtin", model=name, max_calls=200
        )
        for name in ("random", "empowerment")
    ]
    worker = Worker()
    try:
        worker.wait_ready()
        match, _ = services.race_create(variant=variant, opponents=[c.slug for c in explorers], seed=5)
        match = wait_finished(match)
        family = get_family("alchemy")
        inst = selectors.engine_instance(instance=match.instance)
        seats = list(match.seats.all())
        assert len(seats) == 2
        for seat in seats:
            assert seat.status == Seat.Status.FINISHED and seat.tests_used == 12, (seat.status, seat.outcome)
            assert seat.outcome == {"budget_spent": True}
            history = selectors.seat_history(seat=seat)
            assert len(history) == 12
            for i, h in enumerate(history):  # each test combined elements known at the time
                family.check_test(inst.public, history[:i], h["input"])
            assert seat.score == family.final_score(inst, history, 12)
            assert_log_is_clean(seat)
        reveal = selectors.match_reveal(match=match)
        assert reveal["race"] is not None
    finally:
        worker.stop()

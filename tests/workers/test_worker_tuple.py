"""An admin-made 4-variable decimal ``tuple`` variant played by a built-in solver through a real
Celery worker to the end."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import Seat
from games.play import services, variants
from tests.workers.helpers import builtin
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

PARAMS = {
    "variables": "a: decimal 0..2 places 1, b: decimal 0..2 places 1, c: int 0..3, d: decimal -1..1 places 1",
    "rule": "b < c",
    "max_tests": 30,
}


def test_a_real_worker_plays_the_built_in_solver_on_an_admin_made_decimal_tuple() -> None:
    point_the_app_at_the_test_queue()
    checked = variants.variant_check(family_id="tuples", params=PARAMS)  # the admin form's check
    assert checked
    variant = services.variant_create(slug="test-tuple-worker", family="tuples", title="Gauge", params=PARAMS)
    solver = builtin("infogain")
    worker = Worker()
    try:
        worker.wait_ready()
        match, _ = services.race_create(variant=variant, opponents=[solver.slug], seed=1)
        match = wait_finished(match)
        (seat,) = match.seats.all()
        assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True, seat.score
        assert 1 <= seat.tests_used < 30
        family = get_family("tuples")
        public = match.instance.public
        for step in seat.steps.filter(kind="test"):
            family.parse_query(public, step.action["input"])  # every test was in the declared domains
        assert_log_is_clean(seat)
    finally:
        worker.stop()

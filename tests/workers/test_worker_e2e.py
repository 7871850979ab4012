"""The model pipeline through a real Celery worker, real broker and the test database."""

from __future__ import annotations

import time

import pytest

from games.models import Match, ModelCall, Seat
from tests.workers.fake_model import Reply
from tests.workers.helpers import builtin, contestant, model_race
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

TEST = '{"action": "test", "input": [1, 2, 3]}'
GUESS_RIGHT = '{"action": "guess", "rule": "z < x + y"}'


def wait_finished(match: Match, timeout: float = 120) -> Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match.refresh_from_db()
        if match.is_over:
            return match
        time.sleep(0.2)
    raise AssertionError(
        f"match {match.pk} did not finish: {list(match.seats.values('status', 'tests_used'))}"
    )


def assert_log_is_clean(seat: Seat) -> None:
    seqs = list(seat.steps.order_by("seq").values_list("seq", flat=True))
    keys = list(seat.steps.values_list("idempotency_key", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(keys) == len(set(keys))


def test_a_real_worker_plays_a_model_race_to_the_end(fake) -> None:
    point_the_app_at_the_test_queue()
    fake.script(
        Reply(content=TEST), Reply(status=429, headers={"Retry-After": "0"}), Reply(content=GUESS_RIGHT)
    )
    worker = Worker()
    try:
        worker.wait_ready()
        match, seats = model_race(contestant(fake), builtin("infogain"))
        match = wait_finished(match)
        by_kind = {s.contestant: s for s in match.seats.all()}
        fake_seat = next(s for slug, s in by_kind.items() if slug != "infogain")
        assert fake_seat.score["solved"] is True and fake_seat.tests_used == 1
        # turn 2 was played on in turn 1's task; its retry is a task of its own, as attempt 2
        assert list(
            ModelCall.objects.filter(seat=fake_seat)
            .order_by("id")
            .values_list("turn", "attempt", "error_class")
        ) == [(1, 1, ""), (2, 1, "rate_limit"), (2, 2, "")]
        solver_seat = by_kind["infogain"]
        assert solver_seat.status == Seat.Status.FINISHED
        for seat in match.seats.all():
            assert_log_is_clean(seat)
    finally:
        worker.stop()


def test_worker_killed_mid_turn_loses_nothing_and_writes_nothing_twice(fake) -> None:
    """The broker would hand the killed task back only after its visibility timeout (10 minutes
    here); the new worker's sweep finds the dead worker's turn and queues it again at once."""
    point_the_app_at_the_test_queue()
    slow_then_fast = [Reply(content=TEST, delay=6.0), Reply(content=TEST), Reply(content=GUESS_RIGHT)]
    fake.script(*slow_then_fast)
    first = Worker(visibility_timeout=600)
    second = None
    try:
        first.wait_ready()
        match, (seat,) = model_race(contestant(fake, http_timeout_s=20))
        deadline = time.monotonic() + 30
        while not fake.requests and time.monotonic() < deadline:  # the worker is now inside the call
            time.sleep(0.05)
        assert fake.requests, first.output()[-2000:]
        first.kill9()
        assert seat.steps.count() == 0  # killed before it could submit
        second = Worker(visibility_timeout=600)
        second.wait_ready()
        match = wait_finished(match, timeout=120)
        seat.refresh_from_db()
        assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
        assert list(seat.steps.order_by("seq").values_list("kind", flat=True)) == ["test", "guess"]
        assert_log_is_clean(seat)
        calls = list(ModelCall.objects.filter(seat=seat).order_by("id").values_list("turn", "error_class"))
        # the killed call stays in the trace, closed as interrupted; the turn was then played once
        assert calls == [(1, "interrupted"), (1, ""), (2, "")]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_one_task_plays_on_through_a_fast_models_turns(fake) -> None:
    point_the_app_at_the_test_queue()
    fake.script(*[Reply(content=TEST)] * 4, Reply(content=GUESS_RIGHT))
    worker = Worker(extra_env={"ARENA_MODEL_TURN_SLICE_S": "30"})
    try:
        worker.wait_ready()
        match, (seat,) = model_race(contestant(fake))
        wait_finished(match)
        seat.refresh_from_db()
        assert seat.status == Seat.Status.FINISHED and seat.tests_used == 4
        assert_log_is_clean(seat)
        # one task played all five turns (the worker logs each task's return value, a moment after
        # the last turn's commit that ended the match: wait for the line, with a hang guard)
        deadline = time.monotonic() + 30
        while "'turns_played': 5" not in worker.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "'turns_played': 5" in worker.output(), worker.output()[-3000:]
    finally:
        worker.stop()


def test_worker_killed_in_a_later_turn_of_its_slice_resumes_at_that_turn(fake) -> None:
    point_the_app_at_the_test_queue()
    fake.script(
        Reply(content=TEST),
        Reply(content=TEST),
        Reply(content=TEST, delay=6.0),  # turn 3, played on in turn 1's task: killed here
        Reply(content=TEST),
        Reply(content=GUESS_RIGHT),
    )
    first = Worker(visibility_timeout=3, extra_env={"ARENA_MODEL_TURN_SLICE_S": "30"})
    second = None
    try:
        first.wait_ready()
        match, (seat,) = model_race(contestant(fake, http_timeout_s=20))
        deadline = time.monotonic() + 30
        while len(fake.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fake.requests) == 3, first.output()[-2000:]
        first.kill9()
        assert seat.steps.count() == 2  # turns 1 and 2 were written; turn 3 was in the call
        second = Worker(visibility_timeout=3)
        second.wait_ready()
        match = wait_finished(match, timeout=120)
        seat.refresh_from_db()
        assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
        assert list(seat.steps.order_by("seq").values_list("kind", flat=True)) == ["test"] * 3 + ["guess"]
        assert_log_is_clean(seat)
        calls = list(ModelCall.objects.filter(seat=seat).order_by("id").values_list("turn", "error_class"))
        # the redelivered task and the sweep's both came: turn 3 was still played once
        assert calls == [(1, ""), (2, ""), (3, "interrupted"), (3, ""), (4, "")]
    finally:
        first.stop()
        if second is not None:
            second.stop()

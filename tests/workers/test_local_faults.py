"""Faults of the real local model server (llama.cpp serving SmolLM2-135M, the extra ``.[local]``),
met through a real Celery worker, broker and database: a server killed mid-match (the turn is
retried and the match finishes once the server is back) and a server that never answers (each
request times out, the server is checked before any turn is sent again, and the seat ends with
the reason once the outage outlasts ``ARENA_MODEL_OUTAGE_S``). The loopback fake covers the same
paths step by step in ``test_faults.py``; these show them with a server nobody here wrote.

Every wait has a deadline that fails the test rather than hang it; nothing asserts a duration."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.workers.local_server import LocalServer, require_llama_cpp

require_llama_cpp()

from arena import localmodel  # noqa: E402
from games.models import ModelCall, Seat  # noqa: E402
from tests.workers.helpers import model_race  # noqa: E402
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished  # noqa: E402
from tests.workers.worker import Worker, point_the_app_at_the_test_queue  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(420)]

OUTAGE_S = 8


@pytest.fixture
def server(tmp_path) -> Iterator[LocalServer]:
    started = LocalServer(tmp_path).start()
    yield started
    started.stop()


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., Worker]]:
    point_the_app_at_the_test_queue()
    workers: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(log_path=tmp_path / f"worker-{len(workers)}.log", extra_env=env)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(done: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def calls(seat: Seat) -> list[tuple[int, str, str]]:
    return list(
        ModelCall.objects.filter(seat=seat).order_by("id").values_list("turn", "purpose", "error_class")
    )


def test_a_server_killed_mid_match_is_retried_and_the_match_finishes_once_it_is_back(
    server: LocalServer, start_worker
) -> None:
    contestant, _ = localmodel.ensure_contestant(server.url)
    start_worker()
    match, (seat,) = model_race(contestant, max_tests=2)
    wait_until(lambda: ModelCall.objects.filter(seat=seat).exists(), "the first call")
    server.kill()  # mid-turn: the call in flight, or the next one, meets a closed port
    wait_until(
        lambda: ModelCall.objects.filter(seat=seat, error_class="connection").exists(), "a failed call"
    )
    server.start()
    match = wait_finished(match, timeout=300)
    seat.refresh_from_db()
    log = calls(seat)
    failed_turn = next(turn for turn, _, error in log if error == "connection")
    # the failed turn was played again, against the server that came back, and the seat went on
    assert (failed_turn, "turn", "") in log[log.index((failed_turn, "turn", "connection")) :], log
    assert seat.is_done and "gave up" not in (seat.outcome or {}).get("reason", ""), seat.outcome
    assert_log_is_clean(seat)


def test_a_server_that_never_answers_is_checked_before_a_retry_and_the_seat_ends_with_the_reason(
    server: LocalServer, start_worker
) -> None:
    contestant, _ = localmodel.ensure_contestant(server.url)
    contestant.http_timeout_s = 2.0
    contestant.save(update_fields=["http_timeout_s"])
    start_worker(ARENA_MODEL_OUTAGE_S=str(OUTAGE_S))
    match, (seat,) = model_race(contestant, max_tests=30)
    wait_until(lambda: ModelCall.objects.filter(seat=seat).exists(), "the first call")
    server.pause()  # connections are accepted by the kernel; no reply ever comes
    match = wait_finished(match, timeout=180)
    seat.refresh_from_db()
    log = calls(seat)
    first_timeout = next(i for i, (_, _, error) in enumerate(log) if error == "timeout")
    turn, purpose, _ = log[first_timeout]
    after = log[first_timeout + 1 :]
    # a timed-out turn is never sent again into a server that does not answer a one-token check
    assert purpose in ("turn", "reprompt") and after, log
    assert all(call == (turn, "check", "timeout") for call in after), log
    assert seat.status == Seat.Status.FORFEITED
    reason = seat.outcome["reason"]
    assert (
        reason.startswith(f"gave up after {len(after) + 1} failed attempts over ")
        and "did not answer" in reason
    )
    assert int(reason.split(" over ")[1].split(" s")[0]) >= OUTAGE_S
    assert_log_is_clean(seat)

"""The sweep on a real worker, with no beat process: the worker beats, starts the chain of
sweeps by itself, and the chain times out an abandoned race, which frees its model."""

from __future__ import annotations

import time

import pytest

from games.models import Match, WorkerBeat
from games.play import services
from tests import factories
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_sweep_chain_runs_on_a_worker_and_frees_a_model_from_an_abandoned_race() -> None:
    point_the_app_at_the_test_queue()
    solver = builtin("infogain")
    solver.max_concurrent_matches = 1
    solver.save(update_fields=["max_concurrent_matches"])
    variant = factories.variant()
    worker = Worker(
        extra_env={
            "ARENA_SWEEP_S": "0.5",
            "ARENA_WORKER_HEARTBEAT_S": "0.5",
            "ARENA_SEAT_IDLE_TIMEOUT_S": "3",
        }
    )
    try:
        worker.wait_ready()
        beat = wait_until(
            lambda: WorkerBeat.objects.filter(pid=worker.proc.pid).first(), 30, "the worker's first beat"
        )
        wait_until(
            lambda: WorkerBeat.objects.get(pk=beat.pk).beat_at > beat.beat_at, 30, "the next heartbeat"
        )
        # set up, never started: it holds the model's only slot until the sweep aborts it
        match, _ = services.race_create(variant=variant, opponents=["infogain"], human_handle="Ann")
        with pytest.raises(services.ActionError, match="busy"):
            services.race_create(variant=variant, opponents=["infogain"], human_handle="Bob")
        wait_until(
            lambda: Match.objects.get(pk=match.pk).status == Match.Status.ABORTED,
            60,
            f"the sweep to abort the race: {worker.output()[-3000:]}",
        )
        services.race_create(variant=variant, opponents=["infogain"], human_handle="Bob")
    finally:
        worker.stop()

"""The periodic sweep's services: abandoned matches time out and free their models; in-flight
calls of dead workers are closed as interrupted and their seats' turns queued again."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

import pytest
from django.utils import timezone

from games.models import Match, ModelCall, ModelContestant, Seat, Step, WorkerBeat
from games.play import events, selectors, services
from tests import factories

pytestmark = pytest.mark.django_db


def contestant(slug: str = "alpha", **fields) -> ModelContestant:
    return ModelContestant.objects.create(
        slug=slug, name=slug.title(), backend="builtin", model="infogain", **fields
    )


def backdate(match: Match, *, minutes: float) -> dt.datetime:
    old = timezone.now() - dt.timedelta(minutes=minutes)
    Match.objects.filter(pk=match.pk).update(created=old, started=old if match.started else None)
    Seat.objects.filter(match=match).update(joined=old)
    Step.objects.filter(seat__match=match).update(created_at=old)
    return old


def a_dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- abandoned matches ---------------------------------------------------------------------------


def test_a_race_nobody_started_is_aborted_after_the_idle_timeout_and_frees_the_model(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.ARENA_SEAT_IDLE_TIMEOUT_S = 600
    contestant(max_concurrent_matches=1)
    variant = factories.variant()
    match, person = services.race_create(variant=variant, opponents=["alpha"], human_handle="Ann")
    with pytest.raises(services.ActionError, match="busy"):
        services.race_create(variant=variant, opponents=["alpha"], human_handle="Bob")

    assert services.matches_time_out_idle() == {"aborted": 0, "timed_out": 0}  # not idle yet
    backdate(match, minutes=11)
    with events.collected() as sent, django_capture_on_commit_callbacks(execute=True):
        assert services.matches_time_out_idle() == {"aborted": 1, "timed_out": 0}
    match.refresh_from_db()
    assert match.status == Match.Status.ABORTED and match.finished is not None
    assert [event["event"] for _, event in sent] == ["match_finished"]
    assert sent[0][1]["status"] == "aborted"
    services.race_create(variant=variant, opponents=["alpha"], human_handle="Bob")  # free again


def test_a_person_who_stops_moving_is_timed_out_and_the_race_finishes(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.ARENA_SEAT_IDLE_TIMEOUT_S = 600
    contestant(max_concurrent_matches=1)
    variant = factories.variant()
    match, person = services.race_create(variant=variant, opponents=["alpha"], human_handle="Ann")
    match = services.match_start(match=match)
    model = match.seats.get(kind=Seat.Kind.MODEL)
    services.step_submit(seat=person, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="m1")
    services.step_submit(seat=model, action={"type": "guess", "rule": "x + y > z"}, idempotency_key="turn-1")
    backdate(match, minutes=5)
    assert services.matches_time_out_idle()["timed_out"] == 0  # five minutes is thinking, not gone
    backdate(match, minutes=11)

    with events.collected() as sent, django_capture_on_commit_callbacks(execute=True):
        assert services.matches_time_out_idle() == {"aborted": 0, "timed_out": 1}
    person.refresh_from_db()
    match.refresh_from_db()
    assert person.status == Seat.Status.TIMED_OUT and person.outcome["timeout"] is True
    last = person.steps.order_by("-seq").first()
    assert (last.seq, last.kind, last.action) == (2, Step.Kind.TIMEOUT, {"reason": "no move for 10 minutes"})
    assert match.status == Match.Status.FINISHED
    assert [event["event"] for _, event in sent] == ["step", "match_finished"]
    # a second sweep writes nothing more, and the model is free for another race
    assert services.matches_time_out_idle() == {"aborted": 0, "timed_out": 0}
    assert person.steps.count() == 2
    services.race_create(variant=variant, opponents=["alpha"], human_handle="Bob")


def test_a_timed_out_person_leaves_the_models_playing_until_they_finish(settings) -> None:
    settings.ARENA_SEAT_IDLE_TIMEOUT_S = 600
    contestant()
    match, person = services.race_create(variant=factories.variant(), opponents=["alpha"], human_handle="Ann")
    match = services.match_start(match=match)
    backdate(match, minutes=11)
    assert services.matches_time_out_idle()["timed_out"] == 1
    match.refresh_from_db()
    assert match.status == Match.Status.RUNNING  # the model still plays
    assert match.seats.get(kind=Seat.Kind.MODEL).status == Seat.Status.PLAYING


def test_idle_timeout_zero_never_times_out(settings) -> None:
    settings.ARENA_SEAT_IDLE_TIMEOUT_S = 0
    match, _ = factories.match()
    backdate(match, minutes=60 * 24)
    assert services.matches_time_out_idle() == {"aborted": 0, "timed_out": 0}


# -- dead workers --------------------------------------------------------------------------------


def model_seat_with_a_call(worker_id: str, *, turn: int = 1) -> tuple[Seat, ModelCall]:
    contestant(slug=f"c-{worker_id.replace(':', '-')}"[:80])
    slug = ModelContestant.objects.order_by("-id").first().slug
    match, _ = services.race_create(variant=factories.variant(), opponents=[slug], seed=1)
    seat = match.seats.get()
    Seat.objects.filter(pk=seat.pk).update(turn_worker=worker_id)
    call = ModelCall.objects.create(
        seat=seat, turn=turn, messages=[], error_class="in_flight", worker=worker_id
    )
    return seat, call


def test_in_flight_calls_of_a_dead_worker_are_closed_as_interrupted_and_the_turn_queued_again(
    django_capture_on_commit_callbacks,
) -> None:
    from tests.workers.worker import point_the_app_at_the_test_queue, take_queued

    point_the_app_at_the_test_queue()
    host = socket.gethostname()
    dead_id, live_id = f"{host}:1:dead", f"{host}:{os.getpid()}:live"
    services.worker_beat(worker_id=dead_id, hostname=host, pid=a_dead_pid())  # beat just now, process gone
    services.worker_beat(worker_id=live_id, hostname=host, pid=os.getpid())
    orphan, orphan_call = model_seat_with_a_call(dead_id)
    owned, owned_call = model_seat_with_a_call(live_id)
    take_queued()

    with django_capture_on_commit_callbacks(execute=True):
        report = services.sweep_run()
    assert report["resumed"] == 1
    orphan_call.refresh_from_db()
    owned_call.refresh_from_db()
    assert orphan_call.error_class == "interrupted" and dead_id in orphan_call.error_message
    assert owned_call.error_class == "in_flight"  # its worker is alive: the call is its business
    assert take_queued() == [("workers.model_turn", (orphan.pk, 1), 0)]
    # queued once: the next sweep leaves it to that task
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_run()["resumed"] == 0
    assert take_queued() == []


def test_a_worker_that_stopped_beating_is_dead_wherever_it_ran(settings) -> None:
    settings.ARENA_WORKER_HEARTBEAT_S = 5
    services.worker_beat(worker_id="elsewhere:7:a", hostname="elsewhere", pid=7)
    services.worker_beat(worker_id="elsewhere:8:b", hostname="elsewhere", pid=8)
    WorkerBeat.objects.filter(worker_id="elsewhere:7:a").update(
        beat_at=timezone.now() - dt.timedelta(seconds=16)
    )
    ids = {"elsewhere:7:a", "elsewhere:8:b", "never-beat"}
    assert selectors.workers_dead(worker_ids=ids) == {"elsewhere:7:a", "never-beat"}


def test_a_seat_whose_owner_died_between_calls_is_queued_again(django_capture_on_commit_callbacks) -> None:
    """The worker held the seat's next turn (reserved, or waiting out a retry's countdown) with no
    call in flight: that turn sits unacknowledged in the broker until the visibility timeout."""
    from tests.workers.worker import point_the_app_at_the_test_queue, take_queued

    point_the_app_at_the_test_queue()
    host = socket.gethostname()
    dead_id = f"{host}:2:gone"
    services.worker_beat(worker_id=dead_id, hostname=host, pid=a_dead_pid())
    seat, call = model_seat_with_a_call(dead_id)
    ModelCall.objects.filter(pk=call.pk).update(error_class="rate_limit")
    take_queued()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_stalled_model_seats() == 1
    assert take_queued() == [("workers.model_turn", (seat.pk, 1), 0)]


def test_the_sweep_chain_goes_on_only_from_the_sweep_that_is_due() -> None:
    now = timezone.now()
    assert services.sweep_due(interval_s=10, now=now) is True
    assert services.sweep_due(interval_s=10, now=now + dt.timedelta(seconds=3)) is False  # a duplicate
    assert services.sweep_due(interval_s=10, now=now + dt.timedelta(seconds=9.5)) is True  # the one due
    assert selectors.sweep_next_at() == now + dt.timedelta(seconds=19.5)

"""Faults as a real server makes them, against the loopback fake: a permanent error on the format
re-prompt, a timed-out server checked before the turn is sent again, retries bounded by the
length of an outage, and the reason a seat ended shown in the reveal, the replay and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from games.models import ModelCall, Seat
from games.play import selectors
from games.research import analytics
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant, model_race
from tests.workers.test_pipeline import GUESS_RIGHT, TEST, calls, drive
from workers import pipeline, tasks

pytestmark = pytest.mark.django_db

CONTEXT = "This model's maximum context length is 4096 tokens."


def test_a_permanent_error_on_the_reprompt_ends_the_seat_with_that_error(fake) -> None:
    fake.script(Reply(content="I like turtles."), Reply(status=400, content=CONTEXT))
    match, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert [c[2:4] for c in calls(seat)] == [("turn", ""), ("reprompt", "context_length")]
    assert seat.status == Seat.Status.FORFEITED
    reason = seat.outcome["reason"]
    assert reason.startswith("model error: the conversation is too long") and "4096" in reason
    assert seat.tests_used == 0  # not a forfeited turn: the seat ended
    match.refresh_from_db()
    (shown,) = selectors.match_reveal(match=match)["seats"]
    assert shown["reason"] == reason and shown["guess"] is None
    (step,) = [selectors.step_public(step=s) for s in seat.steps.all()]
    assert step["kind"] == "forfeit" and step["reason"] == reason and "turn_only" not in step
    (replayed,) = analytics.match_replay(match=match)["seats"]
    assert replayed["end_reason"] == reason


def test_a_forfeited_turn_carries_its_reason_in_the_api_step(fake) -> None:
    fake.script(Reply(content="turtles"), Reply(content="still turtles"), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    first = selectors.step_public(step=seat.steps.order_by("seq").first())
    assert first["kind"] == "forfeit" and first["turn_only"] is True
    assert first["reason"].startswith("no valid action after a re-prompt")


def test_a_timed_out_server_is_asked_for_one_token_before_the_turn_is_sent_again(fake) -> None:
    fake.script(
        Reply(content=TEST, delay=2.0),  # the turn times out; the server is still busy with it
        Reply(content="ready", delay=2.0),  # the check times out too: no turn is sent
        Reply(content="ready"),  # the server answers again
        Reply(content=TEST),
        Reply(content=GUESS_RIGHT),
    )
    _, (seat,) = model_race(contestant(fake, http_timeout_s=0.5, request_options={"max_tokens": 99}))
    drive(seat)
    assert [c[2:4] for c in calls(seat)] == [
        ("turn", "timeout"),
        ("check", "timeout"),
        ("check", ""),
        ("turn", ""),
        ("turn", ""),
    ]
    checks = [body for _, body in fake.requests[1:3]]
    assert all(b["max_tokens"] == 1 and "response_format" not in b for b in checks)
    assert checks[0]["messages"] == pipeline.CHECK_MESSAGES
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True


def test_retries_last_as_long_as_the_configured_outage() -> None:
    from django.conf import settings

    assert settings.ARENA_MODEL_OUTAGE_S >= 300 and settings.ARENA_MODEL_RETRY_CAP_S <= 60
    with override_settings(ARENA_MODEL_OUTAGE_S=300, ARENA_MODEL_MAX_RETRIES=100):
        assert not tasks.retries_spent(40, 299.0)
        assert tasks.retries_spent(40, 300.0) and tasks.retries_spent(100, 1.0)
    with override_settings(ARENA_MODEL_RETRY_BASE_S=2, ARENA_MODEL_RETRY_CAP_S=30):
        assert max(tasks.backoff_seconds(n, None) for n in range(30)) <= 30


def test_a_turn_failing_for_longer_than_the_outage_reports_how_long(fake) -> None:
    fake.responder = lambda path, body: Reply(status=503, content="loading model")
    _, (seat,) = model_race(contestant(fake))
    with pytest.raises(pipeline.RetryLater) as first:
        pipeline.run_turn(seat_id=seat.pk, turn=1, attempt=1)
    assert first.value.outage_s < 60
    # the turn's first call was made six minutes ago: the outage is measured from it
    ModelCall.objects.filter(seat=seat).update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6))
    with pytest.raises(pipeline.RetryLater) as later:
        pipeline.run_turn(seat_id=seat.pk, turn=1, attempt=2)
    assert later.value.outage_s >= 360
    assert tasks.retries_spent(1, later.value.outage_s)

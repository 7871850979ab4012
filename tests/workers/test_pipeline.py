"""One model turn at a time, run synchronously against a loopback fake model:
the exact ModelCall rows and the seat's final state for each kind of fault."""

from __future__ import annotations

import json

import pytest

from games.models import ModelCall, Seat, Step
from tests.workers.fake_model import Reply
from tests.workers.helpers import builtin, contestant, model_race
from workers import pipeline

pytestmark = pytest.mark.django_db

TEST = '{"action": "test", "input": [1, 2, 3]}'
GUESS_RIGHT = '{"action": "guess", "rule": "z < x + y"}'  # the factories' rule is x + y > z


def drive(seat: Seat, max_turns: int = 40, max_retries: int = 3) -> list[pipeline.TurnResult]:
    """What the Celery task does, inline: retry transient errors, then give up."""
    results = []
    for turn in range(1, max_turns + 1):
        seat.refresh_from_db()
        if seat.is_done:
            break
        for attempt in range(1, max_retries + 2):
            try:
                results.append(pipeline.run_turn(seat_id=seat.pk, turn=turn, attempt=attempt))
                break
            except pipeline.RetryLater as exc:
                if attempt > max_retries:
                    results.append(
                        pipeline.give_up(seat_id=seat.pk, turn=turn, reason=f"gave up: {exc.reason}")
                    )
                    break
    seat.refresh_from_db()
    return results


def calls(seat: Seat) -> list[tuple]:
    return list(
        ModelCall.objects.filter(seat=seat)
        .order_by("id")
        .values_list("turn", "attempt", "purpose", "error_class", "parse_error")
    )


def test_normal_play_to_a_correct_guess(fake) -> None:
    fake.script(
        Reply(content=TEST, reasoning="start small"), Reply(content="Sure.\n" + GUESS_RIGHT, tokens_out=20)
    )
    match, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    steps = list(seat.steps.order_by("seq").values_list("kind", "action"))
    assert steps == [("test", {"input": [1, 2, 3]}), ("guess", {"rule": "z < x + y"})]
    assert calls(seat) == [(1, 1, "turn", "", ""), (2, 1, "turn", "", "")]
    first = ModelCall.objects.filter(seat=seat).order_by("id").first()
    assert first.reasoning == "start small" and first.parsed_action == {"type": "test", "input": [1, 2, 3]}
    assert first.step is not None and first.tokens_in == 11
    # multi-turn: the second request carries the first reply and its result
    second_messages = fake.requests[1][1]["messages"]
    assert second_messages[2] == {"role": "assistant", "content": TEST}
    assert "(1, 2, 3) does not fit the rule (False)" in second_messages[3]["content"]
    match.refresh_from_db()
    assert match.status == "finished"


def test_garbage_gets_one_reprompt_then_the_turn_is_forfeited(fake) -> None:
    fake.script(Reply(content="I like turtles."), Reply(content="Still turtles."), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert calls(seat) == [
        (
            1,
            1,
            "turn",
            "",
            'no action found; end the reply with {"action": "test", "input": [...]} or {"action": "guess", "rule": "..."}',
        ),
        (
            1,
            1,
            "reprompt",
            "",
            'no action found; end the reply with {"action": "test", "input": [...]} or {"action": "guess", "rule": "..."}',
        ),
        (2, 1, "turn", "", ""),
    ]
    forfeit = seat.steps.get(seq=1)
    assert forfeit.kind == Step.Kind.FORFEIT and forfeit.action["turn"] is True
    assert "after a re-prompt" in forfeit.action["reason"]
    assert seat.tests_used == 1 and seat.score["solved"] is True  # the forfeited turn cost one test
    reprompt = fake.requests[1][1]["messages"]
    assert reprompt[-2] == {"role": "assistant", "content": "I like turtles."}


def test_prose_wrapped_and_truncated_replies(fake) -> None:
    fake.script(
        Reply(content='Thinking... {"action": "test", "input": [5, 1'),  # truncated JSON
        Reply(content="OK here:\n```json\n" + TEST + "\n```\nDone."),  # the re-prompt succeeds
        Reply(content=GUESS_RIGHT),
    )
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert [c[2] for c in calls(seat)] == ["turn", "reprompt", "turn"]
    assert "cut off" in calls(seat)[0][4]
    assert list(seat.steps.values_list("kind", flat=True)) == ["test", "guess"]


def test_out_of_range_test_is_reprompted_with_the_engine_message(fake) -> None:
    fake.script(Reply(content='{"action": "test", "input": [1, 2, 1e12]}'), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert "out of range" in calls(seat)[0][4]
    assert "out of range" in fake.requests[1][1]["messages"][-1]["content"]
    assert seat.score["solved"] is True and seat.tests_used == 0


def test_rate_limit_then_success(fake) -> None:
    fake.script(Reply(status=429, content="slow", headers={"Retry-After": "1"}), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert calls(seat) == [(1, 1, "turn", "rate_limit", ""), (1, 2, "turn", "", "")]
    assert seat.score["solved"] is True


def test_server_errors_until_giving_up(fake) -> None:
    fake.script(*[Reply(status=500, content="boom") for _ in range(4)])
    _, (seat,) = model_race(contestant(fake))
    drive(seat, max_retries=3)
    assert calls(seat) == [(1, a, "turn", "server_error", "") for a in (1, 2, 3, 4)]
    assert seat.status == Seat.Status.FORFEITED and "gave up" in seat.outcome["reason"]


def test_timeout_is_transient_and_logged(fake) -> None:
    fake.script(Reply(content=TEST, delay=3.0), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake, http_timeout_s=0.5))
    drive(seat)
    assert calls(seat)[0][3] == "timeout" and calls(seat)[1][3] == ""
    assert ModelCall.objects.filter(seat=seat).first().latency_ms >= 400


@pytest.mark.parametrize(("status", "error_class"), [(401, "auth"), (403, "auth"), (404, "not_found")])
def test_permanent_errors_end_the_seat_with_a_visible_reason(fake, status, error_class) -> None:
    fake.script(Reply(status=status, content="nope"))
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert calls(seat) == [(1, 1, "turn", error_class, "")]
    assert seat.status == Seat.Status.FORFEITED
    assert seat.outcome["reason"].startswith("model error:")
    assert seat.steps.get().kind == Step.Kind.FORFEIT


def test_context_too_long_is_permanent(fake) -> None:
    fake.script(Reply(status=400, content="This model's maximum context length is 4096 tokens."))
    _, (seat,) = model_race(contestant(fake))
    drive(seat)
    assert calls(seat)[0][3] == "context_length" and seat.status == Seat.Status.FORFEITED


def test_call_budget_is_enforced(fake) -> None:
    fake.responder = lambda path, body: Reply(content=TEST)
    _, (seat,) = model_race(contestant(fake, max_calls=3))
    drive(seat)
    assert len(calls(seat)) == 3
    assert seat.status == Seat.Status.FORFEITED and "call budget exhausted" in seat.outcome["reason"]


def test_token_budget_is_enforced(fake) -> None:
    fake.responder = lambda path, body: Reply(content=TEST, tokens_in=600, tokens_out=100)
    _, (seat,) = model_race(contestant(fake, max_tokens=1500))
    drive(seat)
    assert len(calls(seat)) == 3  # 700, 1400, 2100 tokens: the 4th call is refused
    assert "token budget exhausted" in seat.outcome["reason"]


def test_api_key_comes_from_the_named_variable_and_is_never_stored(fake, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_MODEL_KEY", "sk-secret-value-42")
    fake.script(Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake, api_key_env="FAKE_MODEL_KEY"))
    drive(seat)
    dump = json.dumps(list(ModelCall.objects.values()), default=str)
    assert "sk-secret-value-42" not in dump


def test_a_named_key_variable_that_is_not_set_ends_the_seat_without_a_call(fake, monkeypatch) -> None:
    monkeypatch.delenv("FAKE_MODEL_KEY_UNSET", raising=False)
    _, (seat,) = model_race(contestant(fake, api_key_env="FAKE_MODEL_KEY_UNSET"))
    drive(seat)
    assert seat.status == "forfeited"
    assert "FAKE_MODEL_KEY_UNSET that should hold the API key is not set" in seat.outcome["reason"]
    assert fake.requests == []  # no placeholder key was sent
    assert [c[3] for c in calls(seat)] == ["config"]


def test_a_rerun_turn_never_writes_twice(fake) -> None:
    fake.responder = lambda path, body: Reply(content=TEST)
    _, (seat,) = model_race(contestant(fake))
    first = pipeline.run_turn(seat_id=seat.pk, turn=1)
    again = pipeline.run_turn(seat_id=seat.pk, turn=1)  # a redelivered task
    assert first.status == "submitted" and again.status == "replayed" and again.step_id == first.step_id
    assert seat.steps.count() == 1 and len(calls(seat)) == 1
    assert pipeline.run_turn(seat_id=seat.pk, turn=5).status == "stale"


def test_anthropic_backend_with_thinking(fake) -> None:
    fake.script(Reply(content=GUESS_RIGHT, reasoning="sum rule"))
    _, (seat,) = model_race(contestant(fake, backend="anthropic"))
    drive(seat)
    call = ModelCall.objects.get(seat=seat)
    assert call.reasoning == "sum rule" and seat.score["solved"] is True
    assert fake.requests[0][0] == "/v1/messages"


def test_builtin_solver_plays_a_whole_match() -> None:

    _, (seat,) = model_race(builtin("infogain"), rule="x < y < z")
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True
    assert ModelCall.objects.filter(seat=seat).count() == seat.steps.count()


def test_quiz_items_are_in_the_prompt_and_the_answers_are_scored(fake) -> None:
    from games.play import selectors

    match, (seat,) = model_race(contestant(fake))
    items = selectors.quiz_items(instance=match.instance)
    answers = [True, False] * (len(items) // 2)
    fake.script(Reply(content=json.dumps({"action": "guess", "rule": "z < x + y", "quiz": answers})))
    drive(seat)
    assert "Application quiz" in fake.requests[0][1]["messages"][0]["content"]
    quiz = seat.outcome["quiz"]
    assert quiz["items"] == items and quiz["answers"] == answers
    assert quiz["correct_vs_hidden"] == sum(a == h for a, h in zip(answers, quiz["hidden_answers"]))


def test_builtin_solver_answers_the_quiz_with_its_own_rule() -> None:
    _, (seat,) = model_race(builtin("infogain"), rule="x < y < z")
    drive(seat)
    assert seat.outcome["quiz"]["accuracy_vs_own_rule"] == 1.0


def test_a_contestant_at_its_concurrency_limit_is_busy(fake) -> None:
    from games.play import services
    from tests import factories

    busy = contestant(fake, max_concurrent_matches=1)
    model_race(busy)
    with pytest.raises(services.ActionError, match="is busy: already in 1 running matches"):
        services.race_create(variant=factories.variant(), opponents=[busy.slug])


def test_a_caller_that_plays_on_is_told_the_next_turn_and_nothing_is_queued(
    fake, django_capture_on_commit_callbacks
) -> None:
    from tests.workers.worker import point_the_app_at_the_test_queue, take_queued

    point_the_app_at_the_test_queue()
    fake.script(Reply(content=TEST), Reply(content=TEST), Reply(content=GUESS_RIGHT))
    _, (seat,) = model_race(contestant(fake))
    take_queued()  # the race's own first turn, if its commit hook ran
    with django_capture_on_commit_callbacks(execute=True):
        first = pipeline.run_turn(seat_id=seat.pk, turn=1, queue_next=False)
    assert (first.status, first.next_turn) == ("submitted", 2)
    assert take_queued() == []
    with django_capture_on_commit_callbacks(execute=True):
        replay = pipeline.run_turn(seat_id=seat.pk, turn=1, queue_next=False)
    # a re-run turn never plays on (another task may own the seat): it queues the next turn
    assert (replay.status, replay.next_turn) == ("replayed", None)
    assert take_queued() == [("workers.model_turn", (seat.pk, 2), 0)]
    with django_capture_on_commit_callbacks(execute=True):
        second = pipeline.run_turn(seat_id=seat.pk, turn=2)  # the default: queue the next turn
    assert (second.status, second.next_turn) == ("submitted", None)
    assert take_queued() == [("workers.model_turn", (seat.pk, 3), 0)]
    last = pipeline.run_turn(seat_id=seat.pk, turn=3, queue_next=False)
    assert (last.status, last.next_turn) == ("submitted", None)  # the guess ended the seat
    seat.refresh_from_db()
    assert seat.status == Seat.Status.FINISHED


def eleusis_race(*contestants, rule: str = "rank > prev_rank"):
    from games.play import services

    variant = services.variant_create(
        slug=f"eleusis-test-{ModelCall.objects.count()}-{Seat.objects.count()}",
        family="eleusis",
        title="Cards",
        params={"rule": rule, "max_tests": 20},
    )
    match, _ = services.race_create(variant=variant, opponents=[c.slug for c in contestants], seed=1)
    return match, list(match.seats.order_by("id"))


def test_a_model_plays_the_card_family_with_card_feedback_and_a_card_reprompt(fake) -> None:
    fake.script(
        Reply(content='{"action": "test", "input": [12, 3, 1, 0]}'),
        Reply(content='{"action": "test", "input": [1, 9, 2, 0]}'),  # suit 9: refused, re-prompted
        Reply(content='{"action": "test", "input": [1, 0, 2, 0]}'),
        Reply(content='{"action": "guess", "rule": "prev_rank < rank"}'),
    )
    _, (seat,) = eleusis_race(contestant(fake))
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True and seat.tests_used == 2
    reprompt = fake.requests[2][1]["messages"][-1]["content"]
    assert "prev_suit = 9 is out of range: suits go from 0 to 3" in reprompt
    assert '"input": [12, 3, 5, 0]' in reprompt  # the card family's own example, not a triple
    last = fake.requests[3][1]["messages"]
    assert "Q♥ then A♣ (12, 3, 1, 0) does not fit the rule (False)" in last[3]["content"]
    assert "[prev_rank, prev_suit, rank, suit]" in last[0]["content"]


def test_the_builtin_solver_plays_the_card_family() -> None:
    _, (seat,) = eleusis_race(builtin("infogain"), rule="suit // 2 != prev_suit // 2")
    drive(seat)
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True


@pytest.mark.django_db(transaction=True)
def test_a_turn_written_first_by_another_task_marks_this_call_superseded_and_stops(fake) -> None:
    from django.db import connection

    from games.play import services

    _, (seat,) = model_race(contestant(fake))

    def competing_task_writes_first(path, body):
        try:  # what a second task playing the same turn would do, while this call is in flight
            services.step_submit(
                seat=seat, action={"type": "test", "input": [9, 9, 9]}, idempotency_key="turn-1"
            )
        finally:
            connection.close()
        return Reply(content=TEST)

    fake.responder = competing_task_writes_first
    result = pipeline.run_turn(seat_id=seat.pk, turn=1, queue_next=False)
    assert (result.status, result.next_turn) == ("replayed", None)  # it does not play on
    assert [s.action["input"] for s in seat.steps.all()] == [[9, 9, 9]]  # the first write stands
    call = ModelCall.objects.get(seat=seat)
    assert (call.error_class, call.step_id, call.raw_response) == ("superseded", None, TEST)
    assert pipeline.SeatLog.read(seat).replies == {}  # its reply is not shown as that turn's


def test_no_reprompt_when_the_first_call_used_up_the_call_budget(fake) -> None:
    fake.responder = lambda path, body: Reply(content="I am not sure yet.")
    _, (seat,) = model_race(contestant(fake, max_calls=1))
    result = pipeline.run_turn(seat_id=seat.pk, turn=1)
    assert result.status == "forfeited_turn" and len(fake.requests) == 1  # no re-prompt was sent
    assert [(t, p) for t, _, p, _, _ in calls(seat)] == [(1, "turn")]

"""The trace page of a model seat: the prompt once, then only what each call adds; the finish
reason and reply mode of every call; error bodies labelled as errors, not shown as replies."""

from __future__ import annotations

import re

import pytest

from games.models import ModelCall
from games.play import services
from tests import factories

pytestmark = pytest.mark.django_db

SYSTEM = {"role": "system", "content": "SYSTEM-PROMPT-TEXT: find the hidden rule."}
FIRST = {"role": "user", "content": "FIRST-STATE: no tests yet."}
REPLY = {"role": "assistant", "content": '{"type": "test", "input": [1, 2, 3]}'}
RESULT = {"role": "user", "content": "RESULT-OF-TEST-1: [1, 2, 3] follows the rule."}
SUMMARY = {"role": "user", "content": "SUMMARY-STATE: 1 test run so far."}


def finished_seat_with_calls():
    match, (seat,) = factories.match(seats=1)
    services.step_submit(seat=seat, action={"type": "guess", "rule": factories.HIDDEN_RULE})
    calls = [
        ModelCall.objects.create(
            seat=seat,
            turn=1,
            messages=[SYSTEM, FIRST],
            raw_response=REPLY["content"],
            finish_reason="stop",
            reply_mode="structured",
        ),
        ModelCall.objects.create(
            seat=seat,
            turn=2,
            messages=[SYSTEM, FIRST, REPLY, RESULT],
            raw_response='{"error": {"message": "CONTEXT-TOO-LONG-BODY"}}',
            error_class="http_400",
            error_message="the endpoint refused the request",
        ),
        # a retry with the same prompt adds nothing
        ModelCall.objects.create(
            seat=seat,
            turn=2,
            attempt=2,
            messages=[SYSTEM, FIRST, REPLY, RESULT],
            raw_response="I think the rule is",
            finish_reason="length",
            reply_mode="text",
        ),
        # a compact prompt summarises the history: earlier messages change
        ModelCall.objects.create(
            seat=seat,
            turn=3,
            messages=[SYSTEM, SUMMARY],
            raw_response="ok",
            finish_reason="stop",
        ),
    ]
    return match, seat, calls


def call_blocks(html: str) -> list[str]:
    return re.findall(r'<li class="trace-call.*?</li>', html, flags=re.S)


def test_the_prompt_is_shown_once_then_only_the_new_messages(client) -> None:
    match, seat, _ = finished_seat_with_calls()
    html = client.get(f"/matches/{match.pk}/seats/{seat.pk}/trace/").content.decode()
    assert html.count("SYSTEM-PROMPT-TEXT") == 1
    assert html.count("FIRST-STATE") == 1
    assert html.count("RESULT-OF-TEST-1") == 1
    first, second, retry, compact = call_blocks(html)
    assert "SYSTEM-PROMPT-TEXT" in first and "FIRST-STATE" in first
    assert "New messages (2 of 4)" in second and "RESULT-OF-TEST-1" in second
    assert "SYSTEM-PROMPT-TEXT" not in second
    assert "Same prompt as the call before (4 messages)" in retry
    assert "Prompt rewritten from message 2 (1 of 2)" in compact and "SUMMARY-STATE" in compact


def test_finish_reason_reply_mode_and_a_labelled_error(client) -> None:
    match, seat, _ = finished_seat_with_calls()
    html = client.get(f"/matches/{match.pk}/seats/{seat.pk}/trace/").content.decode()
    first, second, retry, _ = call_blocks(html)
    assert "finish: stop" in first and '<span class="reply-mode">structured</span>' in first
    assert "finish: length" in retry and '<span class="reply-mode">text</span>' in retry
    # the failed call: its body is under an error label, never shown as a reply
    assert 'class="trace-call failed"' in second
    assert "<strong>Error</strong> (http_400): the endpoint refused the request" in second
    assert "Error body" in second and "CONTEXT-TOO-LONG-BODY" in second
    assert "<summary>Reply</summary>" not in second
    assert "<summary>Reply</summary>" in first and "Error body" not in first


def test_the_trace_stays_locked_while_the_match_runs(client) -> None:
    match, (seat,) = factories.match(seats=1)
    ModelCall.objects.create(seat=seat, turn=1, messages=[SYSTEM, FIRST], finish_reason="stop")
    response = client.get(f"/matches/{match.pk}/seats/{seat.pk}/trace/")
    assert response.status_code == 403
    assert "SYSTEM-PROMPT-TEXT" not in response.content.decode()

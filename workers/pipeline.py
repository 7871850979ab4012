"""One model turn, start to end: observation -> prompt -> call -> parse -> submit.

The Celery task in ``workers.tasks`` is a thin wrapper around ``run_turn``; the
logic lives here so it can be exercised synchronously in tests too.

Rules this module keeps:

* No database lock is held while the model is called: the call happens outside
  any transaction; the write goes through ``games.play.services.step_submit`` with
  the idempotency key ``turn-<n>``, so a re-run of the same turn (a retried or
  redelivered task) can never write a second step.
* Every call is logged as a ``ModelCall`` row before anything else happens with
  its result, failed and timed-out calls included.
* Transient provider errors raise ``RetryLater`` (the task retries with
  backoff); permanent ones end the seat with a visible reason.
* A reply that cannot be read gets one format re-prompt; if that fails too, the
  turn is forfeited (it uses up one test) with the reason logged.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from games.engine.core import EngineError, Family, get_family
from games.models import HypothesisMode, Match, ModelCall, ModelContestant, Seat, Step
from games.play import selectors, services
from workers import liveness, prompts
from workers.clients import ClientConfig, Completion, ModelCallError, client_for
from workers.parsing import PARSER_VERSION, ParseError, parse_action
from workers.schemas import action_schema, tool_schema

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """A transient failure: try the turn again later. ``outage_s`` is how long the turn has been
    failing (since its first call), which bounds the retries (``ARENA_MODEL_OUTAGE_S``)."""

    def __init__(self, reason: str, *, retry_after: float | None, outage_s: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.outage_s = outage_s


def _retry_later(seat: Seat, turn: int, error: ModelCallError, reason: str = "") -> RetryLater:
    first = (
        ModelCall.objects.filter(seat=seat, turn=turn)
        .order_by("id")
        .values_list("created_at", flat=True)
        .first()
    )
    outage = (timezone.now() - first).total_seconds() if first is not None else 0.0
    return RetryLater(reason or error.message, retry_after=error.retry_after, outage_s=max(outage, 0.0))


# What a check that a server answers again asks: one token, so a busy server's answer is quick
# once it is free; logged like every call (purpose "check").
CHECK_MESSAGES = [{"role": "user", "content": "Reply with the single word: ready"}]
CHECK_MAX_TOKENS = 1


@dataclass
class TurnResult:
    status: str  # "submitted" | "replayed" | "stale" | "seat_done" | "forfeited_turn" | "seat_ended"
    step_id: int | None = None
    detail: str = ""
    # With ``run_turn(queue_next=False)``: the turn the caller should play next, or None when
    # the seat has no next turn (done, ended, or the turn was stale and another task owns it).
    next_turn: int | None = None


# What a call's outcome changes on its ModelCall row (the messages were written before the call).
_OUTCOME_FIELDS = (
    "raw_response",
    "reasoning",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "cost_usd",
    "finish_reason",
    "error_class",
    "error_message",
    "parsed_action",
    "parse_error",
    "step",
)


def idempotency_key(turn: int) -> str:
    return f"turn-{turn}"


def config_for(contestant: ModelContestant) -> ClientConfig:
    return ClientConfig(
        backend=contestant.backend,
        model=contestant.model,
        base_url=contestant.base_url,
        api_key_env=contestant.api_key_env,
        sampling=contestant.sampling or {},
        max_tokens=contestant.max_tokens_per_call,
        http_timeout_s=contestant.http_timeout_s,
        price_in_per_mtok=contestant.price_in_per_mtok,
        price_out_per_mtok=contestant.price_out_per_mtok,
        reply_mode=contestant.reply_mode or "text",
        request_options=contestant.request_options or {},
    )


@dataclass
class SeatLog:
    """A model seat's record so far, read in two queries: its steps, and its calls' replies and
    usage."""

    steps: list[Step]
    replies: dict[int, str]  # step id -> the raw reply that produced it
    usage: dict[str, Any]  # calls, tokens, cost so far

    @classmethod
    def read(cls, seat: Seat) -> SeatLog:
        steps = list(seat.steps.order_by("seq"))
        replies: dict[int, str] = {}
        calls = tokens = 0
        cost = 0.0
        for step_id, raw, tin, tout, usd in (
            ModelCall.objects.filter(seat=seat)
            .order_by("id")
            .values_list("step_id", "raw_response", "tokens_in", "tokens_out", "cost_usd")
        ):
            calls += 1
            tokens += (tin or 0) + (tout or 0)
            cost += float(usd or 0.0)
            if step_id is not None:
                replies.setdefault(step_id, raw)
        return cls(steps, replies, {"calls": calls, "tokens": tokens, "cost": cost})

    def usage_with(self, call: ModelCall) -> dict[str, Any]:
        """The usage once ``call``, made after the log was read, counts too."""
        return {
            "calls": self.usage["calls"] + 1,
            "tokens": self.usage["tokens"] + call.tokens_in + call.tokens_out,
            "cost": self.usage["cost"] + float(call.cost_usd),
        }


def conversation(
    *,
    seat: Seat,
    contestant: ModelContestant,
    log: SeatLog | None = None,
    quiz_items: list[Any] | None = None,
) -> list[dict[str, str]]:
    """The chat so far, rebuilt from the log: each earlier step's reply and its feedback."""
    instance = seat.match.instance
    family = get_family(instance.family)
    log = log if log is not None else SeatLog.read(seat)
    turns: list[prompts.Turn] = []
    tests_used = 0
    for step in log.steps:
        forfeited_turn = step.kind == Step.Kind.FORFEIT and step.action.get("turn")
        if step.kind == Step.Kind.TEST or forfeited_turn:
            tests_used += 1
        tests_left = max(seat.match.max_tests - tests_used, 0)
        if step.kind == Step.Kind.TEST:
            feedback = prompts.feedback_text(
                {"type": "test", "input": step.action.get("input")},
                step.result.get("result"),
                tests_left,
                family,
            )
        elif forfeited_turn:
            feedback = prompts.feedback_text(
                {"type": "forfeit"},
                step.action.get("reason", "no valid action"),
                tests_left,
                version=contestant.prompt_version,
            )
        elif step.kind == Step.Kind.GUESS and "attempts_left" in step.result:  # a wrong attempt, play on
            feedback = prompts.feedback_text({"type": "guess"}, step.result, tests_left)
        else:
            continue
        turns.append(prompts.Turn(reply=log.replies.get(step.pk, "(no reply recorded)"), feedback=feedback))
    if quiz_items is None:
        quiz_items = selectors.quiz_items(instance=instance)
    history = [
        {"input": step.action.get("input"), "result": step.result.get("result")}
        for step in log.steps
        if step.kind == Step.Kind.TEST
    ]
    return prompts.build_messages(
        family,
        instance.public,
        turns,
        seat.match.max_tests,
        contestant.prompt_version,
        quiz_items=quiz_items,
        hypothesis=hypothesis_ask(seat.match),
        history=history,
        tests_left=max(seat.match.max_tests - tests_used, 0),
    )


def hypothesis_ask(match: Any) -> prompts.HypothesisAsk | None:
    """What the prompt asks of stated hypotheses: as the match asks every player (None: nothing)."""
    if match.hypothesis_mode == HypothesisMode.OFF:
        return None
    return prompts.HypothesisAsk(mode=match.hypothesis_mode, format=match.hypothesis_format)


def move_schemas(
    family: Family,
    public: dict[str, Any],
    tests_left: int,
    quiz_count: int,
    hypothesis: bool = False,
    history: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The schemas a structured reply is constrained to; a client uses the one of its mode. The
    test input is this seat's now (``Family.input_schema_for`` its own ``history``), so a family
    whose testable inputs grow with what the seat found gets a schema of this turn's."""
    shown = family.shown_for(public)
    test_input = family.input_schema_for(public, history)
    return {
        "action_schema": action_schema(
            shown,
            tests_left=tests_left,
            quiz_count=quiz_count,
            hypothesis=hypothesis,
            input_schema=test_input,
        ),
        "tool_schema": tool_schema(
            shown,
            tests_left=tests_left,
            quiz_count=quiz_count,
            hypothesis=hypothesis,
            input_schema=test_input,
        ),
    }


def check_config(config: ClientConfig) -> ClientConfig:
    """The contestant's endpoint, model and timeout, asked for one token of free text."""
    options = {
        k: v for k, v in config.request_options.items() if k not in ("max_tokens", "max_completion_tokens")
    }
    return dataclasses.replace(
        config, max_tokens=CHECK_MAX_TOKENS, reply_mode="text", request_options=options
    )


def _last_call_timed_out(seat: Seat, turn: int) -> bool:
    last = (
        ModelCall.objects.filter(seat=seat, turn=turn)
        .order_by("-id")
        .values_list("error_class", flat=True)
        .first()
    )
    return last == "timeout"


def _budget_problem(used: dict[str, Any], contestant: ModelContestant) -> str | None:
    if used["calls"] >= contestant.max_calls:
        return f"call budget exhausted: {used['calls']} of {contestant.max_calls} calls used"
    if contestant.max_tokens and used["tokens"] >= contestant.max_tokens:
        return f"token budget exhausted: {used['tokens']} of {contestant.max_tokens} tokens used"
    if contestant.max_cost_usd and used["cost"] >= contestant.max_cost_usd:
        return f"cost budget exhausted: ${used['cost']:.4f} of ${contestant.max_cost_usd:.4f}"
    return None


def _call(
    *,
    seat: Seat,
    contestant: ModelContestant,
    turn: int,
    attempt: int,
    purpose: str,
    messages: list[dict[str, str]],
    observation: dict[str, Any],
    schemas: dict[str, Any] | None = None,
    config: ClientConfig | None = None,
) -> tuple[ModelCall, Completion | None, ModelCallError | None]:
    config = config or config_for(contestant)
    # The row is written before the call, so a call cut short by a dead worker still shows
    # in the trace (as "in_flight", closed as "interrupted" by the sweep once the worker named
    # here is found dead); it is completed when the call returns.
    call = ModelCall.objects.create(
        worker=liveness.current_worker_id(),
        seat=seat,
        contestant=contestant,
        turn=turn,
        attempt=attempt,
        purpose=purpose,
        messages=messages,
        reply_mode=config.reply_mode,
        error_class="in_flight",
        parser_version=PARSER_VERSION,
    )
    completion: Completion | None = None
    error: ModelCallError | None = None
    try:
        completion = client_for(contestant.backend)(
            config, messages, observation=observation, **(schemas or {})
        )
    except ModelCallError as exc:
        error = exc
    except SoftTimeLimitExceeded:  # the task's time ran out inside the call: a timeout, retried
        error = ModelCallError(
            "the turn ran out of time during the call", error_class="timeout", transient=True
        )
    except Exception as exc:  # noqa: BLE001 - a client bug must still leave a log row
        logger.exception("model client crashed for seat %s turn %s", seat.pk, turn)
        error = ModelCallError(
            f"client error: {type(exc).__name__}: {exc}", error_class="client_bug", transient=True
        )
    _fill(call, completion, error, config)
    if error is not None:  # a failed call is logged at once; a good one is saved with its outcome
        call.save(update_fields=_OUTCOME_FIELDS)
    return call, completion, error


def _fill(
    call: ModelCall, completion: Completion | None, error: ModelCallError | None, config: ClientConfig
) -> None:
    call.raw_response = completion.text if completion else error.raw if error else ""
    call.reasoning = completion.reasoning if completion else ""
    call.tokens_in = completion.tokens_in if completion else 0
    call.tokens_out = completion.tokens_out if completion else 0
    call.latency_ms = completion.latency_ms if completion else (error.latency_ms if error else 0.0)
    call.cost_usd = completion.cost(config) if completion else 0.0
    # The endpoint chooses this text; the column holds 40 characters (PostgreSQL would refuse more).
    call.finish_reason = (completion.finish_reason if completion else "")[:40]
    call.error_class = error.error_class if error else ""
    call.error_message = error.message if error else ""


def read_action(text: str, *, match: Match, seat: Seat | None = None) -> dict[str, Any]:
    """Parse a reply and pre-check it with the engine as the services would (the test's input,
    the guess's rule, the stated hypothesis the match asks for), so a bad move is caught before
    anything is submitted. The same reading ``manage.py rescore`` applies to stored replies (with no
    seat: a family's per-seat check of a test, e.g. that a combination uses known elements, is then skipped)."""
    instance = match.instance
    family = get_family(instance.family)
    shown = family.shown_for(instance.public)
    asked = match.hypothesis_mode != HypothesisMode.OFF
    action = parse_action(
        text, input_schema=shown.input_schema, guess_schema=shown.guess_schema, hypothesis=asked
    )
    try:
        if action["type"] == "test":
            action["input"] = family.parse_query(instance.public, action["input"])
            if family.check_test is not None and seat is not None:
                family.check_test(instance.public, selectors.seat_history(seat=seat), action["input"])
            if asked:
                services.hypothesis_read(match=match, family=family, raw=action.get("hypothesis"))
        elif not shown.has_guess:
            raise ParseError("this puzzle has no rule to state; reply with a test")
        else:
            check = family.check_rule(action["rule"])
            if not check["ok"]:
                raise ParseError(f"the rule does not parse: {check['error']}")
    except EngineError as exc:
        raise ParseError(exc.message) from None
    except services.ActionError as exc:
        raise ParseError(exc.message) from None
    return action


def _read_action(text: str, *, seat: Seat) -> dict[str, Any]:
    action = read_action(text, match=seat.match, seat=seat)
    if action["type"] == "test" and seat.tests_used >= seat.match.max_tests:
        raise ParseError(f"no tests left (all {seat.match.max_tests} used): you must guess the rule now")
    return action


def run_turn(*, seat_id: int, turn: int, attempt: int = 1, queue_next: bool = True) -> TurnResult:
    """Play turn ``turn`` of a model seat. With ``queue_next`` the seat's next turn is queued as
    a task when this one is written; without it the caller plays ``TurnResult.next_turn``."""
    seat = Seat.objects.select_related("match").get(pk=seat_id)
    match = seat.match
    if seat.is_done or match.is_over:
        return TurnResult("seat_done")
    # The instance never changes: cached per match in this process (read-only).
    match.instance, engine_inst = selectors.instance_for_play(match=match)
    log = SeatLog.read(seat)
    steps = log.steps
    key = idempotency_key(turn)
    existing = next((s for s in steps if s.idempotency_key == key), None)
    if existing is not None:
        # A re-run turn (a redelivered task, a resumed benchmark). The next turn may never have
        # been played or queued, so it is queued, never played on here: another task may be
        # playing this seat right now, and the queued turn then finds its step written ("stale"
        # or "replayed") instead of two tasks playing side by side from here on.
        services.model_turn_request(seat=seat, turn=len(steps) + 1)
        return TurnResult("replayed", existing.pk)
    if len(steps) != turn - 1:
        return TurnResult("stale", detail=f"seat has {len(steps)} steps; turn {turn} is not next")
    contestant = ModelContestant.objects.filter(slug=seat.contestant).first()
    if contestant is None:
        outcome = services.seat_end(
            seat=seat, reason=f"contestant {seat.contestant!r} no longer exists", idempotency_key=key
        )
        return TurnResult("seat_ended", outcome.step.pk, "unknown contestant")
    problem = _budget_problem(log.usage, contestant)
    if problem:
        outcome = services.seat_end(seat=seat, reason=problem, idempotency_key=key)
        return TurnResult("seat_ended", outcome.step.pk, problem)

    # The seat's own observation, from the log already in hand (what selectors.seat_observation
    # builds): public info, its own tests, tests left.
    family = get_family(match.instance.family)
    quiz = family.quiz_items(engine_inst) if family.quiz_items is not None else []
    observation = {
        "family": match.instance.family,
        "public": match.instance.public,
        "history": [
            {"input": st.action.get("input"), "result": st.result.get("result")}
            for st in steps
            if st.kind == Step.Kind.TEST
        ],
        "tests_left": max(match.max_tests - seat.tests_used, 0),
        # the seat's wrong guesses so far (a puzzle that allows several attempts)
        "guesses": [st.action.get("rule") for st in steps if st.kind == Step.Kind.GUESS],
        "seed": match.instance.seed,
        "quiz_items": quiz,
        "hypothesis": {"mode": match.hypothesis_mode, "format": match.hypothesis_format},
    }
    if contestant.backend != ModelContestant.Backend.BUILTIN and _last_call_timed_out(seat, turn):
        # A server that timed out may still be working on the abandoned request: a full turn sent
        # now would queue behind it and time out too. One small call first says whether it
        # answers again; only then is the turn sent.
        check, _, error = _call(
            seat=seat,
            contestant=contestant,
            turn=turn,
            attempt=attempt,
            purpose="check",
            messages=CHECK_MESSAGES,
            observation={},
            config=check_config(config_for(contestant)),
        )
        if error is not None:
            if error.transient:
                raise _retry_later(
                    seat,
                    turn,
                    error,
                    f"the server has not answered since a request timed out: {error.message}",
                )
            outcome = services.seat_end(
                seat=seat, reason=f"model error: {error.message}", idempotency_key=key
            )
            return TurnResult("seat_ended", outcome.step.pk, error.message)
        check.save(update_fields=_OUTCOME_FIELDS)
    messages = conversation(seat=seat, contestant=contestant, log=log, quiz_items=quiz)
    schemas = move_schemas(
        family,
        match.instance.public,
        observation["tests_left"],
        len(quiz),
        hypothesis=match.hypothesis_mode != HypothesisMode.OFF,
        history=observation["history"],
    )
    call, completion, error = _call(
        seat=seat,
        contestant=contestant,
        turn=turn,
        attempt=attempt,
        purpose="turn",
        messages=messages,
        observation=observation,
        schemas=schemas,
    )
    if error is not None:
        if error.transient:
            raise _retry_later(seat, turn, error)
        outcome = services.seat_end(
            seat=seat, reason=f"model error: {error.message}", idempotency_key=idempotency_key(turn)
        )
        return TurnResult("seat_ended", outcome.step.pk, error.message)
    assert completion is not None
    try:
        action = _read_action(completion.text, seat=seat)
    except ParseError as first:
        call.parse_error = first.message
        call.save(update_fields=_OUTCOME_FIELDS)
        if _budget_problem(log.usage_with(call), contestant) is None:
            retry_messages = prompts.reprompt_messages(
                messages,
                completion.text,
                first.message,
                family_id=match.instance.family,
                version=contestant.prompt_version,
                public=match.instance.public,
            )
            call, completion, error = _call(
                seat=seat,
                contestant=contestant,
                turn=turn,
                attempt=attempt,
                purpose="reprompt",
                messages=retry_messages,
                observation=observation,
                schemas=schemas,
            )
            if error is not None and error.transient:
                raise _retry_later(seat, turn, error) from None
            if error is not None:  # a permanent error (context too long, a revoked key) ends the seat
                outcome = services.seat_end(
                    seat=seat, reason=f"model error: {error.message}", idempotency_key=idempotency_key(turn)
                )
                return TurnResult("seat_ended", outcome.step.pk, error.message)
        if completion is None:  # the budget left no room for a re-prompt
            return _forfeit_turn(seat, turn, call, f"no valid action: {first.message}", queue_next=queue_next)
        try:
            action = _read_action(completion.text, seat=seat)
        except ParseError as second:
            call.parse_error = second.message
            call.save(update_fields=_OUTCOME_FIELDS)
            return _forfeit_turn(
                seat,
                turn,
                call,
                f"no valid action after a re-prompt: {second.message}",
                queue_next=queue_next,
            )
    call.parsed_action = action
    try:
        # The step and the call's link to it commit together: one commit instead of two.
        committed: list[bool] = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))  # runs before the other hooks
            outcome = services.step_submit(
                seat=seat, action=action, idempotency_key=idempotency_key(turn), queue_next_turn=queue_next
            )
            if outcome.replayed:  # another task wrote this turn first: this call did not make it
                call.error_class = "superseded"
                call.error_message = "another task wrote this turn first; this reply was not used"
            else:
                call.step = outcome.step
            call.save(update_fields=_OUTCOME_FIELDS)
    except services.ActionError as exc:
        call.parse_error = exc.message
        call.save(update_fields=_OUTCOME_FIELDS)
        return _forfeit_turn(seat, turn, call, f"move refused: {exc.message}", queue_next=queue_next)
    except BaseException:
        if not committed:
            # Rolled back (the time limit, a database error): the call was made and paid for, so
            # its reply, tokens and cost stay in the trace, unlinked.
            call.step = None
            call.save(update_fields=_OUTCOME_FIELDS)
        raise
    return TurnResult(
        "replayed" if outcome.replayed else "submitted",
        outcome.step.pk,
        next_turn=_next_turn(outcome, queue_next),
    )


def _next_turn(outcome: services.StepOutcome, queue_next: bool) -> int | None:
    # A replayed write means another task owns this seat's turns: stop here.
    if queue_next or outcome.replayed or outcome.seat.is_done or outcome.match.is_over:
        return None
    return outcome.step.seq + 1


def _forfeit_turn(seat: Seat, turn: int, call: ModelCall, reason: str, *, queue_next: bool) -> TurnResult:
    try:
        with transaction.atomic():
            outcome = services.turn_forfeit(
                seat=seat, reason=reason, idempotency_key=idempotency_key(turn), queue_next_turn=queue_next
            )
            ModelCall.objects.filter(pk=call.pk).update(step=outcome.step)
    except services.ActionError as exc:  # e.g. the match ended meanwhile
        return TurnResult("seat_done", detail=exc.message)
    return TurnResult("forfeited_turn", outcome.step.pk, reason, next_turn=_next_turn(outcome, queue_next))


def give_up(*, seat_id: int, turn: int, reason: str) -> TurnResult:
    """Transient errors kept coming: end the seat with the reason."""
    seat = Seat.objects.get(pk=seat_id)
    if seat.is_done:
        return TurnResult("seat_done")
    outcome = services.seat_end(seat=seat, reason=reason, idempotency_key=idempotency_key(turn))
    return TurnResult("seat_ended", outcome.step.pk, reason)

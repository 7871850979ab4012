"""The only code that writes game state. Every actor (browser, model worker, agent API) calls
these functions; each validates through the engine, writes in one transaction and publishes
its events after commit."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from games.engine.core import EngineError, Family, Instance, QueryError, RuleError, Verdict, get_family
from games.models import (
    HYPOTHESIS_MAX_LENGTH,
    HypothesisFormat,
    HypothesisMode,
    Match,
    PuzzleInstance,
    PuzzleVariant,
    Seat,
    Step,
)
from games.play import events, fastpath, limits, metrics, movegroups, selectors

logger = logging.getLogger(__name__)

MAX_RULE_LENGTH = 1000
MAX_GUESS_JSON = 4000  # a guess that is not text (an ARC grid: 30 x 30 cells is about 1,800)
MAX_IDEMPOTENCY_KEY = 100


class ActionError(Exception):
    """A move the player may not make, with a message saying what is wrong and what is allowed.
    Raised before anything is written: the log is unchanged."""

    def __init__(self, message: str, *, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class CapReached(ActionError):
    """A creator is at one of the fair-play caps (games/play/limits.py); nothing was written.
    ``retry_after_s`` says when a slot frees, when that is known (the hourly caps)."""

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class StepOutcome:
    step: Step
    seat: Seat
    match: Match
    replayed: bool = False  # the same idempotency key was seen before: nothing was written

    @property
    def timed_out(self) -> bool:
        return self.step.kind == Step.Kind.TIMEOUT


# -- variants and instances -----------------------------------------------------------------------


def variant_create(
    *,
    slug: str,
    family: str,
    title: str,
    description: str = "",
    params: dict[str, Any] | None = None,
    published: bool = False,
    hypothesis_mode: str = HypothesisMode.OFF,
    hypothesis_format: str = HypothesisFormat.RULE,
) -> PuzzleVariant:
    get_family(family).validate_params(params or {})  # raises ParamsError with a clear message
    if hypothesis_mode not in HypothesisMode.values or hypothesis_format not in HypothesisFormat.values:
        raise ActionError(
            f"hypothesis mode must be one of {', '.join(HypothesisMode.values)} and format one of "
            f"{', '.join(HypothesisFormat.values)}; got {hypothesis_mode!r}, {hypothesis_format!r}"
        )
    return PuzzleVariant.objects.create(
        slug=slug,
        family=family,
        title=title,
        description=description,
        params=params or {},
        published=published,
        hypothesis_mode=hypothesis_mode,
        hypothesis_format=hypothesis_format,
    )


class VariantUnplayable(ActionError):
    """A variant that cannot generate a puzzle (its saved params no longer pass the engine, or
    its family is gone). Logged with the variant and seed, and flagged in the admin list.
    ``message`` is for players; ``reason`` is the engine's, for admins."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def variants_sync(*, variant_model: Any = None) -> list[str]:
    """Create every published variant a family declares (``Family.variants``) that the database
    lacks; one an admin has since edited or unpublished is left as it is. Runs after every
    ``migrate`` (``games.apps``), so a new family's variants need no migration of their own.
    ``variant_model`` is the migration state's model when called from a signal. Returns the
    slugs created."""
    from games.engine.core import all_families

    model = variant_model if variant_model is not None else PuzzleVariant
    created: list[str] = []
    for family in all_families():
        for spec in family.variants:
            _, made = model.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "family": family.id,
                    "title": spec.title,
                    "description": spec.description,
                    "params": dict(spec.params),
                    "published": True,
                },
            )
            if made:
                created.append(spec.slug)
    return created


def instance_get_or_create(*, variant: PuzzleVariant, seed: int) -> PuzzleInstance:
    try:
        family = get_family(variant.family)
        existing = PuzzleInstance.objects.filter(
            variant=variant, seed=seed, generator_version=family.version
        ).first()
        if existing is not None:
            return existing
        params = family.validate_params(variant.params_for_seed(seed))
        inst = family.generate(seed, params)
    except EngineError as exc:
        # Validated at save, but the family (or the variant, edited outside the admin) may have
        # changed since: the player gets a clear message, the admin a flag and the log a line.
        logger.error(
            "variant %r (id %s) cannot generate a puzzle for seed %s: %s",
            variant.slug,
            variant.pk,
            seed,
            exc.message,
        )
        PuzzleVariant.objects.filter(pk=variant.pk).update(problem=exc.message[:500])
        raise VariantUnplayable(
            f"The puzzle {variant.title!r} cannot be played right now: it is misconfigured. "
            "The arena's admins have been told; please pick another puzzle.",
            reason=exc.message,
        ) from None
    try:
        with transaction.atomic():
            return PuzzleInstance.objects.create(
                variant=variant,
                family=family.id,
                generator_version=inst.version,
                seed=seed,
                params=inst.params,
                public=inst.public,
                hidden=inst.hidden,
            )
    except IntegrityError:  # someone generated the same instance concurrently
        return PuzzleInstance.objects.get(variant=variant, seed=seed, generator_version=inst.version)


def variant_publish(*, variant: PuzzleVariant) -> PuzzleVariant:
    """Offer the variant to players (again); refused while it cannot generate a puzzle."""
    if variant.problem:
        raise ActionError(f"{variant.slug}: fix it before publishing ({variant.problem})")
    variant.published, variant.retired = True, False
    variant.save(update_fields=["published", "retired"])
    return variant


def variant_retire(*, variant: PuzzleVariant) -> PuzzleVariant:
    """Stop offering the variant; its matches, replays and exports keep it."""
    variant.published, variant.retired = False, True
    variant.save(update_fields=["published", "retired"])
    return variant


def playtest_create(*, variant: PuzzleVariant, user: Any, seed: int | None = None) -> tuple[Match, Seat]:
    """A staff member plays a variant (published or not) alone: unranked (off the leaderboard),
    marked as a playtest (out of exports unless asked for), started at once."""
    if user is None or not getattr(user, "is_staff", False):
        raise ActionError("only staff may playtest a variant")
    if seed is None:
        seed = secrets.randbelow(RANKED_SEED_SPACE)
    instance_get_or_create(variant=variant, seed=seed)  # outside the transaction, as in race_create
    with transaction.atomic():
        match = match_create(variant=variant, seed=seed, ranked=False, playtest=True)
        seat = seat_join(match=match, handle=user.get_username(), user=user)
        match = match_start(match=match)
    return match, seat


# -- matches and seats ------------------------------------------------------------------------------


def match_create(
    *,
    variant: PuzzleVariant,
    seed: int | None = None,
    mode: str = Match.Mode.SOLO,
    max_tests: int | None = None,
    time_limit_s: int | None = None,
    ranked: bool = True,
    creator: limits.Creator | None = None,
    playtest: bool = False,
    daily: dt.date | None = None,
    hypothesis_mode: str | None = None,
) -> Match:
    """A waiting match. With a ``creator`` (a browser visitor or an agent token) the fair-play
    caps apply: CapReached, and nothing written, when they are at one. Matches the arena makes
    itself (tournaments, the bench command) pass none. ``hypothesis_mode`` overrides the variant's
    (a study asks its own); the format stays the variant's."""
    if seed is None:
        # Ranked play: 53 random bits, so no one outside the server can predict the seed or find
        # it by running the public engine over every seed until its public data matches (and it
        # stays exact as a JSON number in any client).
        seed = secrets.randbelow(RANKED_SEED_SPACE)
    instance = instance_get_or_create(variant=variant, seed=seed)
    if max_tests is None:
        max_tests = int(instance.public.get("max_tests", 30))
    with transaction.atomic():
        if creator is not None:
            limits.creator_lock(creator)
            hit = limits.creator_cap_hit(creator=creator)
            if hit is not None:
                raise CapReached(hit.message, retry_after_s=hit.retry_after_s)
        return Match.objects.create(
            instance=instance,
            mode=mode,
            max_tests=max_tests,
            time_limit_s=time_limit_s,
            status=Match.Status.WAITING,
            ranked=ranked and not playtest,
            playtest=playtest,
            hypothesis_mode=hypothesis_mode or variant.hypothesis_mode,
            hypothesis_format=variant.hypothesis_format,
            daily=daily,
            creator_user_id=creator.user_id if creator else None,
            creator_session_key=creator.session_key if creator else "",
            creator_token_id=creator.token_id if creator else None,
            creator_address=creator.address if creator else "",
        )


@transaction.atomic
def seat_join(
    *,
    match: Match,
    handle: str,
    kind: str = Seat.Kind.HUMAN,
    user: Any = None,
    session_key: str = "",
    contestant: str = "",
    agent_token: Any = None,
) -> Seat:
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.status != Match.Status.WAITING:
        raise ActionError(f"match {match.pk} is {match.status}; players can only join a waiting match")
    seat = Seat.objects.create(
        match=match,
        kind=kind,
        handle=handle[:60],
        user=user if getattr(user, "is_authenticated", False) else None,
        session_key=session_key or "",
        contestant=contestant,
        agent_token=agent_token,
    )
    events.seat_joined(seat=seat)
    return seat


@transaction.atomic
def match_start(*, match: Match) -> Match:
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.status != Match.Status.WAITING:
        raise ActionError(f"match {match.pk} is {match.status}; only a waiting match can start")
    if not match.seats.exists():
        raise ActionError("a match needs at least one seat to start")
    match.status = Match.Status.RUNNING
    match.started = timezone.now()
    match.save(update_fields=["status", "started"])
    events.match_started(match=match)
    for seat in match.seats.filter(kind=Seat.Kind.MODEL):
        model_turn_request(seat=seat)  # models start when the match starts
    return match


@transaction.atomic
def match_finish(*, match: Match) -> Match:
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.is_over:
        return match
    match.status = Match.Status.FINISHED
    match.finished = timezone.now()
    match.save(update_fields=["status", "finished"])
    match.event_seq = events.match_finished(match=match)["seq"]
    return match


# -- steps ---------------------------------------------------------------------------------------------


def _validate_action(action: Any, *, internal: bool = False) -> dict[str, Any]:
    if not isinstance(action, dict):
        raise ActionError('an action must be a JSON object with a "type" of test, guess or forfeit')
    kind = action.get("type")
    if action.get("hypothesis") is not None and kind != "test":
        raise ActionError('a "hypothesis" goes with a test; a guess states the rule itself')
    if kind == "test":
        if "input" not in action:
            raise ActionError('a test needs an "input"')
        out = {"type": "test", "input": action["input"]}
        if action.get("hypothesis") is not None:
            out["hypothesis"] = action["hypothesis"]
        return out
    if kind == "guess":
        rule = action.get("rule")
        # A guess is JSON of the family's guess schema: a rule's text, or (a family declaring
        # ``solution``) an answer such as a grid; the family's judge reads its shape.
        if isinstance(rule, (list, dict)):
            size = len(json.dumps(rule, separators=(",", ":")))
            if size > MAX_GUESS_JSON:
                raise ActionError(
                    f"a guess may be at most {MAX_GUESS_JSON} characters of JSON; this one has {size}"
                )
        elif not isinstance(rule, str) or not rule.strip():
            raise ActionError(
                'a guess needs a "rule": a non-empty string (or the answer the puzzle asks for)'
            )
        elif len(rule) > MAX_GUESS_JSON:  # a rule's own, shorter limit is checked once the family is known
            raise ActionError(f"a rule may be at most {MAX_RULE_LENGTH} characters; this one has {len(rule)}")
        else:
            rule = rule.strip()
        quiz = action.get("quiz")
        if quiz is not None and (
            not isinstance(quiz, list) or len(quiz) > 50 or not all(isinstance(a, bool) for a in quiz)
        ):
            raise ActionError('"quiz" must be a list of true/false predictions, one per quiz item')
        return {"type": "guess", "rule": rule, **({"quiz": quiz} if quiz is not None else {})}
    if kind == "forfeit":
        reason = action.get("reason", "")
        return {"type": "forfeit", "reason": str(reason)[:500]} if reason else {"type": "forfeit"}
    if kind == "forfeit_turn" and internal:
        return {"type": "forfeit_turn", "reason": str(action.get("reason", ""))[:500]}
    if kind == "timeout" and internal:
        return {"type": "timeout", "reason": str(action.get("reason", ""))[:500]}
    raise ActionError(f"unknown action type {kind!r}; allowed: test, guess, forfeit")


def hypothesis_read(*, match: Match, family: Any, raw: Any) -> dict[str, Any] | None:
    """The hypothesis stated with a test, as stored on the step (``Step.hypothesis``), or None
    when none was stated. Raises ActionError (nothing written) for one the match does not take:
    not a string, too long, missing where required, or (``required_parseable``) not a rule."""
    mode = match.hypothesis_mode
    text = raw.strip() if isinstance(raw, str) else raw
    if text is None or text == "":
        if mode in (HypothesisMode.REQUIRED, HypothesisMode.REQUIRED_PARSEABLE):
            raise ActionError(
                'this puzzle asks for your current hypothesis with every test: add "hypothesis"'
                + (
                    ", a rule as you would guess it"
                    if match.hypothesis_format == HypothesisFormat.RULE
                    else ""
                )
            )
        return None
    if mode == HypothesisMode.OFF:
        raise ActionError('this puzzle does not ask for a hypothesis; leave "hypothesis" out')
    if not isinstance(text, str):
        raise ActionError(
            f'"hypothesis" must be text (your current idea of the rule), not {type(raw).__name__}'
        )
    if len(text) > HYPOTHESIS_MAX_LENGTH:
        raise ActionError(
            f"a hypothesis may be at most {HYPOTHESIS_MAX_LENGTH} characters; this one has {len(text)}"
        )
    if match.hypothesis_format != HypothesisFormat.RULE:
        return {"text": text, "format": HypothesisFormat.TEXT.value}
    check = family.check_rule(text)
    if check.get("ok"):
        return {
            "text": text,
            "format": HypothesisFormat.RULE.value,
            "parsed": True,
            "canonical": check["canonical"],
        }
    if mode == HypothesisMode.REQUIRED_PARSEABLE:
        raise ActionError(
            f"your hypothesis does not parse as a rule: {check['error']}", column=check.get("column")
        )
    return {"text": text, "format": HypothesisFormat.RULE.value, "parsed": False, "error": check["error"]}


def _final_guess(
    *,
    family: Family,
    engine_inst: Instance,
    seat: Seat,
    match: Match,
    action: dict[str, Any],
    verdict: Verdict,
    earlier: list[dict[str, Any]],
    allowed: int,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The guess that ends the seat (right, or its last attempt): score, quiz and outcome."""
    attempt = len(earlier) + 1
    attempts_log = [
        {"guess": g["rule"], "verdict": family.judge(engine_inst, g["rule"]).to_dict()} for g in earlier
    ]
    best = max([verdict.agreement, *(a["verdict"]["agreement"] for a in attempts_log)])
    score = family.score(
        solved=verdict.correct,
        tests_used=seat.tests_used,
        max_tests=match.max_tests,
        agreement=best,
    )
    quiz = None
    if action.get("quiz") is not None and family.quiz_score is not None:
        # The application quiz: predictions on fixed fresh inputs, given with the guess.
        try:
            quiz = family.quiz_score(engine_inst, action["rule"], action["quiz"])
        except QueryError as exc:
            raise ActionError(exc.message) from None
        tested = {tuple(h.get("input") or ()) for h in selectors.seat_history(seat=seat)}
        quiz["seen"] = [tuple(item) in tested for item in quiz["items"]]
    stored_action = {"rule": action["rule"], **({"quiz": action["quiz"]} if quiz else {})}
    verdict_data = verdict.to_dict()
    result = {"verdict": verdict_data, "score": score, **({"quiz": quiz} if quiz else {})}
    if allowed > 1:  # every attempt, judged in full, for the reveal
        attempts_log.append({"guess": action["rule"], "verdict": verdict_data})
        result["attempt"] = attempt
    seat.status = Seat.Status.FINISHED
    seat.score = score
    seat.outcome = {
        "guess": action["rule"],
        "verdict": verdict_data,
        **({"quiz": quiz} if quiz else {}),
        **({"attempts": attempts_log} if allowed > 1 else {}),
    }
    return Step.Kind.GUESS, stored_action, result


def _deadline(match: Match) -> dt.datetime | None:
    if match.time_limit_s and match.started:
        return match.started + dt.timedelta(seconds=match.time_limit_s)
    return None


# -- a move's statements -----------------------------------------------------------------------------
# Through the ORM, as the reference. step_submit runs them with ARENA_MOVE_PATH=orm; by default
# it runs games.play.fastpath's hand-built equivalents, which cost about half the server CPU per move
# (tests/bench/bench_ws_moves.py --paths sql,orm; tests/games/test_fastpath.py keeps them equal).


def _seat_locked_orm(*, seat_id: int) -> Seat:
    # of=("self",): lock the seat row only; locking the joined match row would serialise a race.
    return Seat.objects.select_related("match").select_for_update(of=("self",)).get(pk=seat_id)


def _log_position_orm(*, seat_id: int, idempotency_key: str) -> tuple[int, int | None]:
    # Its own statements, after the lock: in PostgreSQL's read committed a statement sees what
    # committed before it began, so a subquery in the locking SELECT could miss a step that
    # committed while it waited for the lock. Two plain queries compile faster than one query
    # with two subqueries (0.5 ms against 0.8 ms a move here).
    steps = Step.objects.filter(seat_id=seat_id)
    last = steps.order_by("-seq").values_list("seq", flat=True).first()
    existing = None
    if idempotency_key:
        existing = (  # the exclude() lets the planner use the partial unique index
            steps.filter(idempotency_key=idempotency_key)
            .exclude(idempotency_key="")
            .values_list("pk", flat=True)
            .first()
        )
    return last or 0, existing


def _move_record_orm(*, step: Step, seat: Seat, seat_fields: tuple[str, ...]) -> None:
    step.save(force_insert=True)
    seat.save(update_fields=seat_fields)
    # None: the step's event bumps the match's counter (an F() update, events._next_seq).


def _move_path() -> tuple[Any, Any, Any]:
    if settings.ARENA_MOVE_PATH == "orm":
        return _seat_locked_orm, _log_position_orm, _move_record_orm
    return fastpath.seat_locked, fastpath.log_position, fastpath.move_record


def _score_without_guess(family: Family, engine_inst: Instance, seat: Seat, match: Match) -> dict[str, Any]:
    """The score of a seat that ends without a guess (forfeit, timeout): nothing, or for a family
    scored from its history (``final_score``), what that history earned."""
    if family.final_score is not None:
        return family.final_score(engine_inst, selectors.seat_history(seat=seat), match.max_tests)
    return family.score(solved=False, tests_used=seat.tests_used, max_tests=match.max_tests, agreement=0.0)


def _finish_on_budget(
    family: Family, engine_inst: Instance, seat: Seat, match: Match, history: list[dict[str, Any]]
) -> None:
    """A seat of a family with no guess has spent its budget: it finishes, scored from its history."""
    assert family.final_score is not None
    seat.status = Seat.Status.FINISHED
    seat.score = family.final_score(engine_inst, history, match.max_tests)
    seat.outcome = {"budget_spent": True}


def step_submit(
    *,
    seat: Seat,
    action: dict[str, Any],
    idempotency_key: str = "",
    client_think_ms: int | None = None,
    queue_next_turn: bool = True,
    _internal: bool = False,
    _finish_match: bool = True,
) -> StepOutcome:
    """Apply one move for ``seat``. Raises ActionError (nothing written) for a move that is not
    allowed. A move re-sent with an idempotency key already in the log returns the stored step.

    After a model seat's move its next turn is queued on commit, unless the caller (a worker
    that plays the next turn itself) passes ``queue_next_turn=False``."""
    if not isinstance(idempotency_key, str) or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ActionError(f"a move id must be a string of at most {MAX_IDEMPOTENCY_KEY} characters")
    if client_think_ms is not None and (not isinstance(client_think_ms, int) or client_think_ms < 0):
        raise ActionError("think time must be a non-negative whole number of milliseconds")

    seat_locked, log_position, move_record = _move_path()
    # In a group of moves (games.play.movegroups) this move has a savepoint of its own already.
    with transaction.atomic(savepoint=not movegroups.claim_savepoint()):
        # Lock the seat row only (of=self): locking the joined match/instance rows too would
        # serialise every match that shares an instance.
        seat = seat_locked(seat_id=seat.pk)
        match = seat.match
        # The instance never changes: cached per match in-process instead of joined on every move.
        match.instance, engine_inst = selectors.instance_for_play(match=match)
        last_seq, existing_id = log_position(seat_id=seat.pk, idempotency_key=idempotency_key)
        if existing_id is not None:
            existing = seat.steps.get(pk=existing_id)
            return StepOutcome(step=existing, seat=seat, match=match, replayed=True)

        if match.status == Match.Status.WAITING:
            raise ActionError("this match has not started yet")
        if match.is_over:
            raise ActionError(f"this match has ended ({match.status}); no more moves are accepted")
        if seat.is_done:
            raise ActionError(
                f"you have already finished this match ({seat.status}); no more moves are accepted"
            )

        action = _validate_action(action, internal=_internal)
        instance = match.instance
        family = get_family(instance.family)
        now = timezone.now()
        deadline = _deadline(match)
        hypothesis = None

        if deadline is not None and now > deadline:
            kind = Step.Kind.TIMEOUT
            stored_action: dict[str, Any] = {"attempted": action["type"]}
            result: dict[str, Any] = {"deadline": deadline.isoformat()}
            seat.status = Seat.Status.TIMED_OUT
            seat.score = _score_without_guess(family, engine_inst, seat, match)
            seat.outcome = {"timeout": True}
        elif action["type"] == "timeout":  # the player went away (matches_time_out_idle)
            kind = Step.Kind.TIMEOUT
            stored_action, result = {"reason": action["reason"]}, {"idle": True}
            seat.status = Seat.Status.TIMED_OUT
            seat.score = _score_without_guess(family, engine_inst, seat, match)
            seat.outcome = {"timeout": True, "reason": action["reason"]}
        elif action["type"] == "test":
            if seat.tests_used >= match.max_tests:
                raise ActionError(
                    f"no tests left: you have used all {match.max_tests} tests; submit a guess to finish"
                )
            history = None
            try:
                query = family.parse_query(instance.public, action["input"])
                if family.check_test is not None:  # what this seat may test depends on its own log
                    history = selectors.seat_history(seat=seat)
                    family.check_test(instance.public, history, query)
            except QueryError as exc:
                raise ActionError(exc.message, column=exc.column) from None
            hypothesis = hypothesis_read(match=match, family=family, raw=action.get("hypothesis"))
            kind = Step.Kind.TEST
            stored_action = {"input": query}
            result = {"result": family.answer(engine_inst, query)}
            seat.tests_used += 1
            if family.final_score is not None and seat.tests_used >= match.max_tests:
                # A family with no guess: the seat finishes when its budget is spent.
                if history is None:
                    history = selectors.seat_history(seat=seat)
                history = [*history, {"input": query, "result": result["result"]}]
                _finish_on_budget(family, engine_inst, seat, match, history)
        elif action["type"] == "guess" and not family.shown_for(instance.public).has_guess:
            raise ActionError(
                "this puzzle has no rule to state: run tests until your budget is spent, or forfeit to stop"
            )
        elif action["type"] == "guess":
            answer_guess = family.solution is not None
            rule_text = action["rule"] if isinstance(action["rule"], str) else ""
            if not answer_guess and len(rule_text) > MAX_RULE_LENGTH:
                raise ActionError(
                    f"a rule may be at most {MAX_RULE_LENGTH} characters; this one has {len(rule_text)}"
                )
            try:
                verdict = family.judge(engine_inst, action["rule"])
            except RuleError as exc:
                what = "answer is not readable" if answer_guess else "rule does not parse"
                raise ActionError(f"your {what}: {exc.message}", column=exc.column) from None
            if answer_guess:  # stored as the value the family reads (a grid, not its text)
                action["rule"] = family.check_rule(action["rule"])["canonical"]
            allowed = family.guesses_allowed(instance.public)
            earlier = (
                [
                    g
                    for g in seat.steps.filter(kind=Step.Kind.GUESS)
                    .order_by("seq")
                    .values_list("action", flat=True)
                ]
                if allowed > 1
                else []
            )
            attempt = len(earlier) + 1
            if not verdict.correct and attempt < allowed:
                # A wrong guess with attempts left: logged, and the seat plays on. It learns only
                # that the guess was wrong; the full verdicts come with its last guess.
                kind = Step.Kind.GUESS
                stored_action = {"rule": action["rule"]}
                result = {
                    "verdict": {"correct": False},
                    "attempt": attempt,
                    "attempts_left": allowed - attempt,
                }
            else:
                kind, stored_action, result = _final_guess(
                    family=family,
                    engine_inst=engine_inst,
                    seat=seat,
                    match=match,
                    action=action,
                    verdict=verdict,
                    earlier=earlier,
                    allowed=allowed,
                )
        elif action["type"] == "forfeit_turn" and seat.tests_used < match.max_tests:
            # A model turn with no valid action: it uses up one test, the seat plays on.
            kind = Step.Kind.FORFEIT
            stored_action = {"turn": True, "reason": action["reason"]}
            result = {}
            seat.tests_used += 1
            if family.final_score is not None and seat.tests_used >= match.max_tests:
                _finish_on_budget(family, engine_inst, seat, match, selectors.seat_history(seat=seat))
        else:  # forfeit: the seat ends (also a forfeited turn with no tests left to spend)
            kind = Step.Kind.FORFEIT
            reason = action.get("reason", "")
            stored_action, result = ({"reason": reason} if reason else {}), {}
            seat.status = Seat.Status.FORFEITED
            seat.score = _score_without_guess(family, engine_inst, seat, match)
            seat.outcome = {"forfeit": True, **({"reason": reason} if reason else {})}

        step = Step(
            seat=seat,
            seq=last_seq + 1,
            kind=kind,
            action=stored_action,
            result=result,
            client_think_ms=client_think_ms,
            idempotency_key=idempotency_key,
            hypothesis=hypothesis,
        )
        if seat.is_done:
            seat.finished = now
        seq = move_record(
            step=step, seat=seat, seat_fields=("tests_used", "status", "score", "outcome", "finished")
        )
        match.event_seq = events.step_recorded(seat=seat, step=step, seq=seq)["seq"]
        if _finish_match and seat.is_done and not match.seats.filter(status=Seat.Status.PLAYING).exists():
            match = match_finish(match=match)
        elif queue_next_turn and seat.kind == Seat.Kind.MODEL and not seat.is_done:
            model_turn_request(seat=seat, turn=step.seq + 1)
        metrics.MOVES.labels(step.kind).inc()
        return StepOutcome(step=step, seat=seat, match=match)


# -- model players -----------------------------------------------------------------------------------

MODEL_TURN_TASK = "workers.model_turn"


def model_turn_request(*, seat: Seat, turn: int | None = None) -> None:
    """Queue the seat's next model turn (``turn``, or counted from the log) after the current
    transaction commits. ``games`` never imports ``workers``: the task is sent by name."""
    if seat.kind != Seat.Kind.MODEL or seat.is_done:
        return
    seat_id = seat.pk
    if turn is None:
        turn = seat.steps.count() + 1

    def send() -> None:
        from celery import current_app

        try:
            current_app.send_task(MODEL_TURN_TASK, args=(seat_id, turn), ignore_result=True)
        except Exception:  # the broker is down: the log is intact, a re-run resumes the seat
            logger.exception("could not queue model turn %s for seat %s", turn, seat_id)

    transaction.on_commit(send)


def turn_forfeit(
    *, seat: Seat, reason: str, idempotency_key: str, queue_next_turn: bool = True
) -> StepOutcome:
    """A model turn that produced no valid action: logged as a forfeited turn that
    uses one test (or, with no tests left, ends the seat)."""
    return step_submit(
        seat=seat,
        action={"type": "forfeit_turn", "reason": reason},
        idempotency_key=idempotency_key,
        queue_next_turn=queue_next_turn,
        _internal=True,
    )


def seat_end(*, seat: Seat, reason: str, idempotency_key: str = "") -> StepOutcome:
    """End a seat that cannot go on (a permanent model error, an exhausted budget),
    with the reason visible in the log, the reveal and the trace."""
    return step_submit(
        seat=seat, action={"type": "forfeit", "reason": reason}, idempotency_key=idempotency_key
    )


def race_create(
    *,
    variant: PuzzleVariant,
    opponents: list[str],
    seed: int | None = None,
    human_handle: str | None = None,
    user: Any = None,
    session_key: str = "",
    kind: str = Seat.Kind.HUMAN,
    agent_token: Any = None,
    ranked: bool = True,
    creator: limits.Creator | None = None,
    mode: str | None = None,
    daily: dt.date | None = None,
) -> tuple[Match, Seat | None]:
    """A match on one instance for a person (or agent) and model contestants; with no
    opponents, a solo match. With ``human_handle=None`` it is a race between models only and
    starts at once; otherwise the models start when the person starts (``match_start``).
    ``creator``: who asked, for the fair-play caps (see ``match_create``); ``mode``: RACE for a
    race that people will join later (``lobby_create``); ``daily``: the day whose daily puzzle it
    plays."""
    from games.models import ModelContestant

    if human_handle is None and not opponents:
        raise ActionError("a race needs at least one player")
    if mode is None:
        mode = Match.Mode.RACE if (len(opponents) + (human_handle is not None)) > 1 else Match.Mode.SOLO
    if seed is None:
        seed = secrets.randbelow(RANKED_SEED_SPACE)  # as match_create would
    # The instance first, outside the race's transaction: a variant that cannot generate one is
    # flagged for the admin even though the race is refused.
    instance_get_or_create(variant=variant, seed=seed)
    with transaction.atomic():
        # The contestants' rows stay locked until commit (in one order: no deadlocks), so two
        # races asking for the last free place of a contestant are counted one after the other.
        enabled = {
            c.slug: c
            for c in ModelContestant.objects.select_for_update()
            .filter(slug__in=set(opponents), enabled=True)
            .order_by("slug")
        }
        contestants = []
        for slug in opponents:
            contestant = enabled.get(slug)
            if contestant is None:
                known = ", ".join(ModelContestant.objects.filter(enabled=True).values_list("slug", flat=True))
                raise ActionError(f"unknown or disabled contestant {slug!r}; available: {known}")
            busy = limits.contestant_busy(slug=slug)
            if busy >= contestant.max_concurrent_matches:
                raise ActionError(
                    f"{contestant.name} is busy: already in {busy} running matches "
                    f"(its limit is {contestant.max_concurrent_matches}); try again in a minute"
                )
            contestants.append(contestant)
        match = match_create(
            variant=variant, seed=seed, mode=mode, ranked=ranked, creator=creator, daily=daily
        )
        player = None
        if human_handle is not None:
            player = seat_join(
                match=match,
                handle=human_handle,
                kind=kind,
                user=user,
                session_key=session_key,
                agent_token=agent_token,
            )
        for contestant in contestants:
            seat_join(match=match, handle=contestant.name, kind=Seat.Kind.MODEL, contestant=contestant.slug)
        if human_handle is None:
            match = match_start(match=match)
    return match, player


# -- races with friends: a lobby (a waiting match) that people join by an invite link; the host
# starts it, and until then step_submit refuses every move.

MAX_LOBBY_PEOPLE = 8


def lobby_create(
    *,
    variant: PuzzleVariant,
    opponents: list[str],
    host_handle: str,
    user: Any = None,
    session_key: str = "",
    creator: limits.Creator | None = None,
) -> tuple[Match, Seat]:
    """A race that waits for friends: the host's seat and the chosen models, nobody playing yet.
    Unranked: friends in one room can tell each other what they found."""
    match, host = race_create(
        variant=variant,
        opponents=opponents,
        human_handle=host_handle,
        user=user,
        session_key=session_key,
        ranked=False,
        creator=creator,
        mode=Match.Mode.RACE,
    )
    assert host is not None
    return match, host


def lobby_host(*, match: Match) -> Seat | None:
    """The host of a race with friends: the first person seated (the one who made the lobby)."""
    return match.seats.filter(kind=Seat.Kind.HUMAN).order_by("pk").first()


@transaction.atomic
def lobby_join(*, match: Match, handle: str, user: Any = None, session_key: str = "") -> Seat:
    """A friend takes a seat in a waiting race (an invite link); joining twice returns the seat
    they have."""
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    seat = selectors.seat_for_viewer(match=match, session_key=session_key, user_id=user_id)
    if seat is not None:
        return seat
    # The match row locked first: two friends taking the last place are counted one after the other.
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.mode != Match.Mode.RACE:
        raise ActionError("this match is not a race with friends; ask for a new invite link")
    if match.status != Match.Status.WAITING:
        raise ActionError(
            "this race has already started; you can watch it, or play the same puzzle on your own"
        )
    if match.seats.filter(kind=Seat.Kind.HUMAN).count() >= MAX_LOBBY_PEOPLE:
        raise ActionError(f"this race is full: at most {MAX_LOBBY_PEOPLE} people can race together")
    return seat_join(match=match, handle=handle, user=user, session_key=session_key)


def lobby_start(*, match: Match, by: Seat | None) -> Match:
    """The host says go: the race starts for everyone who joined, and the models begin."""
    match = Match.objects.get(pk=match.pk)
    host = lobby_host(match=match)
    if by is None or host is None or by.pk != host.pk:
        raise ActionError("only the host who made this race can start it")
    if match.status != Match.Status.WAITING:
        raise ActionError(f"this race is already {match.status}")
    return match_start(match=match)


# -- admin actions: they go through the same write path, so events, the leaderboard and the
# exports stay consistent with the log.


def match_abort(*, match: Match, reason: str) -> Match:
    """An admin stops a match: each seat still playing ends with a forfeit step that gives the
    reason, and the match is aborted (aborted matches are off the leaderboard)."""
    reason = (reason or "").strip()[:300] or "aborted by an admin"
    with transaction.atomic():
        match = Match.objects.select_for_update().get(pk=match.pk)
        if match.is_over:
            raise ActionError(f"match {match.pk} is already over ({match.status})")
        if match.status == Match.Status.RUNNING:
            for seat in match.seats.filter(status=Seat.Status.PLAYING):
                step_submit(
                    seat=seat,
                    action={"type": "forfeit", "reason": f"match aborted: {reason}"},
                    _finish_match=False,
                )
        match.refresh_from_db()
        match.status = Match.Status.ABORTED
        match.finished = timezone.now()
        match.save(update_fields=["status", "finished"])
        match.event_seq = events.match_finished(match=match)["seq"]
    logger.info("match %s aborted: %s", match.pk, reason)
    return match


def seat_end_stalled(*, seat: Seat, reason: str) -> StepOutcome:
    """An admin ends a seat that no longer moves (a stuck model, a player gone): a forfeit step
    with the reason; the match finishes if nobody else is playing."""
    reason = (reason or "").strip()[:300] or "ended by an admin"
    return seat_end(seat=seat, reason=f"seat ended by an admin: {reason}")


def model_turn_requeue(*, seat: Seat) -> int:
    """Queue a model seat's next turn again (a turn lost with a worker or the broker). Safe to
    repeat: the turn's idempotency key stops a second write. Returns the turn queued."""
    seat = Seat.objects.select_related("match").get(pk=seat.pk)
    if seat.kind != Seat.Kind.MODEL:
        raise ActionError(f"seat {seat.pk} is a {seat.kind} seat; only a model's turn can be queued")
    if seat.is_done or seat.match.status != Match.Status.RUNNING:
        raise ActionError(f"seat {seat.pk} is not playing in a running match; nothing to queue")
    turn = seat.steps.count() + 1
    with transaction.atomic():
        Seat.objects.filter(pk=seat.pk).update(turn_worker="", resumed_at=timezone.now())
        model_turn_request(seat=seat, turn=turn)
    return turn


# -- seeds and stalled model seats -------------------------------------------------------------------


MAX_SEED = 2**63 - 1
RANKED_SEED_SPACE = 2**53


def resume_stalled_model_seats(*, match_ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Queue the next turn of every model seat of a running match (of these matches, if given)
    whose turn no live task owns, and close the in-flight calls of dead workers as interrupted.

    A seat's turn is owned by the worker that last received a turn task for it
    (``Seat.turn_worker``); while that worker beats (``WorkerBeat``) the turn is its business.
    When it is dead, the turn is queued again at once: its running task died with it, and the
    turns it had reserved or held for a retry sit unacknowledged in the broker until the
    visibility timeout. A seat with no sign of life (no step, no model call) for
    ARENA_MODEL_STALL_S is queued again too, whoever owns it: a turn lost with a broker outage.
    Duplicates are safe: the turn's idempotency key stops a second write and the duplicate
    task stops. Run by the periodic sweep, tournament ticks and when a worker starts."""
    from django.conf import settings
    from django.db.models import OuterRef, Subquery

    from games.models import ModelCall

    if match_ids is not None and not match_ids:
        return 0
    now = now or timezone.now()
    stall = dt.timedelta(seconds=float(getattr(settings, "ARENA_MODEL_STALL_S", 300)))
    interrupted = model_calls_interrupt(now=now)
    seats = Seat.objects.filter(
        match__status=Match.Status.RUNNING, kind=Seat.Kind.MODEL, status=Seat.Status.PLAYING
    ).select_related("match")
    if match_ids is not None:
        seats = seats.filter(match_id__in=match_ids)
    last_call = ModelCall.objects.filter(seat=OuterRef("pk")).order_by("-id")
    seats = seats.annotate(
        last_step=Subquery(
            Step.objects.filter(seat=OuterRef("pk")).order_by("-seq").values("created_at")[:1]
        ),
        last_call=Subquery(last_call.values("created_at")[:1]),
        last_call_state=Subquery(last_call.values("error_class")[:1]),
    )
    seats = list(seats)
    dead = selectors.workers_dead(worker_ids={s.turn_worker for s in seats if s.turn_worker}, now=now)
    resumed = []
    for seat in seats:
        signs = (seat.last_step, seat.last_call, seat.match.started, seat.joined, seat.resumed_at)
        seen = max(t for t in signs if t is not None)
        owner_dead = seat.turn_worker in dead
        calling = seat.last_call_state == "in_flight" and seat.pk not in interrupted
        if (owner_dead and not calling) or now - seen > stall:
            resumed.append(seat)
    if resumed:
        # The dead owner's claim goes with it (unless a live worker claimed the seat meanwhile):
        # the worker that receives the new task claims the seat, so it is queued once, not at
        # every sweep while it waits in the queue.
        for owner in {s.turn_worker for s in resumed}:
            Seat.objects.filter(
                pk__in=[s.pk for s in resumed if s.turn_worker == owner], turn_worker=owner
            ).update(resumed_at=now, turn_worker="" if owner in dead else owner)
        for seat in resumed:
            model_turn_request(seat=seat)
        logger.info("queued the turn of %d model seat(s) again: %s", len(resumed), [s.pk for s in resumed])
    return len(resumed)


def model_turn_claim(*, seat_id: int, worker_id: str) -> None:
    """A worker received a turn task for this seat: the seat's turns are that worker's until it
    dies (see resume_stalled_model_seats)."""
    claim = Seat.objects.filter(pk=seat_id).exclude(turn_worker=worker_id)
    if claim.exists():  # a read first: most turns of a seat arrive at the worker that has it
        claim.update(turn_worker=worker_id)


def worker_beat(*, worker_id: str, hostname: str, pid: int, now: dt.datetime | None = None) -> None:
    """A worker process says it is alive."""
    from games.models import WorkerBeat

    now = now or timezone.now()
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(beat_at=now)
    if not updated:
        WorkerBeat.objects.get_or_create(
            worker_id=worker_id, defaults={"hostname": hostname, "pid": pid, "started": now, "beat_at": now}
        )


def model_calls_interrupt(*, now: dt.datetime | None = None) -> set[int]:
    """Close as "interrupted" every in-flight model call whose worker is dead, or that has been
    in flight longer than a turn's hard time limit (its task was killed). Returns their seats."""
    from django.conf import settings

    from games.models import ModelCall

    now = now or timezone.now()
    in_flight = ModelCall.objects.filter(error_class="in_flight")
    workers = set(in_flight.exclude(worker="").values_list("worker", flat=True).distinct())
    dead = selectors.workers_dead(worker_ids=workers, now=now)
    hard_limit = float(getattr(settings, "ARENA_MODEL_TURN_HARD_LIMIT_S", 180))
    too_old = now - dt.timedelta(seconds=hard_limit + 30)
    closed: set[int] = set()
    for worker_id in sorted(dead):
        calls = in_flight.filter(worker=worker_id)
        closed |= set(calls.values_list("seat_id", flat=True))
        calls.update(
            error_class="interrupted",
            error_message=f"the worker making this call ({worker_id}) died before it returned",
        )
    old = in_flight.exclude(worker="").filter(created_at__lt=too_old)
    closed |= set(old.values_list("seat_id", flat=True))
    old.update(
        error_class="interrupted",
        error_message=f"still in flight after the turn's time limit ({hard_limit:.0f} s): its task was killed",
    )
    if closed:
        logger.info("closed in-flight model calls of dead workers as interrupted (seats %s)", sorted(closed))
    return closed


def workers_forget(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Drop the beats of workers long dead (their calls are closed by then)."""
    from games.models import WorkerBeat

    deleted, _ = WorkerBeat.objects.filter(beat_at__lt=timezone.now() - older_than).delete()
    return deleted


# -- abandoned matches ---------------------------------------------------------------------------------


def seat_time_out(*, seat: Seat, reason: str) -> StepOutcome:
    """End a seat whose player has gone (no move for ARENA_SEAT_IDLE_TIMEOUT_S): a timeout step,
    its events, and the match finishes if nobody else is playing."""
    return step_submit(
        seat=seat,
        action={"type": "timeout", "reason": reason},
        _internal=True,  # no idempotency key: a second sweep finds the seat done and is refused
    )


@transaction.atomic
def match_abandon(*, match: Match) -> Match:
    """A match that was set up and never started: aborted, which frees its model contestants."""
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.status != Match.Status.WAITING:
        return match
    match.status = Match.Status.ABORTED
    match.finished = timezone.now()
    match.save(update_fields=["status", "finished"])
    match.event_seq = events.match_finished(match=match)["seq"]
    return match


def matches_time_out_idle(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Abandoned matches time out: a match never started within ARENA_SEAT_IDLE_TIMEOUT_S of its
    creation is aborted, and a person's or agent's seat with no move for that long is ended with
    a timeout step (models are never idle for long: their turns are resumed instead)."""
    from django.conf import settings
    from django.db.models import Max

    timeout_s = float(getattr(settings, "ARENA_SEAT_IDLE_TIMEOUT_S", 900))
    if timeout_s <= 0:
        return {"aborted": 0, "timed_out": 0}
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=timeout_s)
    aborted = 0
    for match in Match.objects.filter(status=Match.Status.WAITING, created__lt=cutoff).only("pk"):
        aborted += match_abandon(match=match).status == Match.Status.ABORTED
    timed_out = 0
    idle = (
        Seat.objects.filter(
            match__status=Match.Status.RUNNING,
            match__started__lt=cutoff,
            status=Seat.Status.PLAYING,
            kind__in=[Seat.Kind.HUMAN, Seat.Kind.AGENT],
        )
        .annotate(last_move=Max("steps__created_at"))
        .filter(Q(last_move__isnull=True) | Q(last_move__lt=cutoff))
    )
    for seat in idle:
        minutes = timeout_s / 60
        try:
            seat_time_out(seat=seat, reason=f"no move for {minutes:g} minutes")
        except ActionError:  # it moved or the match ended meanwhile
            continue
        timed_out += 1
    return {"aborted": aborted, "timed_out": timed_out}


# -- the sweep -------------------------------------------------------------------------------------------


def sweep_due(*, interval_s: float, now: dt.datetime | None = None) -> bool:
    """Whether this sweep is the one due (then the next is booked ``interval_s`` from now), or an
    early duplicate that stops, so only one chain of sweeps runs."""
    from games.models import Sweep

    now = now or timezone.now()
    slack = dt.timedelta(seconds=min(1.0, interval_s / 4))
    with transaction.atomic():
        Sweep.objects.get_or_create(pk=1)
        sweep = Sweep.objects.select_for_update().get(pk=1)
        if sweep.next_at is not None and now < sweep.next_at - slack:
            return False
        sweep.next_at = now + dt.timedelta(seconds=interval_s)
        sweep.save(update_fields=["next_at"])
    return True


def sweep_run(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """One pass of housekeeping: model turns no live task owns are queued again (in-flight calls
    of dead workers closed), abandoned matches time out, long-dead workers are forgotten."""
    from games.models import Sweep

    now = now or timezone.now()
    report: dict[str, Any] = {"resumed": resume_stalled_model_seats(now=now)}
    report.update(matches_time_out_idle(now=now))
    report["workers_forgotten"] = workers_forget()
    Sweep.objects.update_or_create(pk=1, defaults={"last_at": now, "last_report": report})
    return report

"""Celery tasks. Thin: take ids, call the pipeline, decide about retries.

Timeouts nest: the HTTP client's timeout (per contestant, default 60 s) <
``soft_time_limit`` < ``time_limit`` < the broker's visibility timeout
(settings), so a hung call is cut by the client first, a hung task by Celery,
and only a dead worker waits for the broker to redeliver.
"""

from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_received, worker_init, worker_ready, worker_shutdown
from django.conf import settings

from games.competition import rating_snapshots, tournaments
from workers import liveness

logger = logging.getLogger(__name__)


@shared_task(name="workers.ping", acks_late=True, ignore_result=False)  # a round-trip probe
def ping(payload: str = "pong") -> str:
    return payload


def backoff_seconds(retries: int, retry_after: float | None) -> float:
    base = float(getattr(settings, "ARENA_MODEL_RETRY_BASE_S", 2.0))
    cap = float(getattr(settings, "ARENA_MODEL_RETRY_CAP_S", 30.0))
    delay = min(cap, base * (2**retries)) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not crypto
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def retries_spent(retries: int, outage_s: float) -> bool:
    """Whether a failing turn stops being retried: once it has failed for ``ARENA_MODEL_OUTAGE_S``
    (default 5 minutes: a server restarting, a provider's outage) or after
    ``ARENA_MODEL_MAX_RETRIES`` attempts, whichever comes first. The backoff between attempts is
    capped (``ARENA_MODEL_RETRY_CAP_S``), so the outage is covered by attempts, not one long wait."""
    limit = int(getattr(settings, "ARENA_MODEL_MAX_RETRIES", 100))
    outage = float(getattr(settings, "ARENA_MODEL_OUTAGE_S", 300.0))
    return retries >= limit or outage_s >= outage


@shared_task(
    bind=True,
    name="workers.model_turn",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded below (retries_spent), so giving up is logged on the seat
    soft_time_limit=getattr(settings, "ARENA_MODEL_TURN_SOFT_LIMIT_S", 150),
    time_limit=getattr(settings, "ARENA_MODEL_TURN_HARD_LIMIT_S", 180),
)
def model_turn(self, seat_id: int, turn: int) -> dict:
    """Play turn ``turn`` of a model seat, then, while the time slice lasts, the seat's next
    turns in the same task; the turn after the slice is queued as a new task.

    Playing on in the task saves a broker round trip per turn for fast models (builtin
    solvers, local servers); a slow model's turn outlasts the slice, so it gets one turn per
    task and the queue stays fair between matches. Every turn is still its own transaction
    with its own idempotency key, so a redelivered task (worker killed mid-slice) replays
    the turns already written and resumes at the first missing one."""
    from workers import pipeline

    slice_s = float(getattr(settings, "ARENA_MODEL_TURN_SLICE_S", 0.5))
    started = time.monotonic()
    retries = int(self.request.retries or 0)  # of the task's first turn only
    first = True
    played = 0
    while True:
        try:
            result = pipeline.run_turn(seat_id=seat_id, turn=turn, attempt=retries + 1, queue_next=False)
        except pipeline.RetryLater as exc:
            if retries_spent(retries, exc.outage_s):
                result = pipeline.give_up(
                    seat_id=seat_id,
                    turn=turn,
                    reason=f"gave up after {retries + 1} failed attempts over {exc.outage_s:.0f} s: {exc.reason}",
                )
            elif first:
                raise self.retry(countdown=backoff_seconds(retries, exc.retry_after), exc=exc) from None
            else:  # a later turn of the slice: it gets its own task, as its first retry
                _queue(seat_id, turn, countdown=backoff_seconds(0, exc.retry_after), retries=1)
                return {"status": "retry_queued", "turn": turn, "turns_played": played}
        except SoftTimeLimitExceeded:
            logger.warning("model turn %s of seat %s hit the soft time limit; retrying", turn, seat_id)
            if first:
                raise self.retry(countdown=backoff_seconds(retries, None)) from None
            _queue(seat_id, turn, countdown=backoff_seconds(0, None), retries=1)
            return {"status": "retry_queued", "turn": turn, "turns_played": played}
        played += 1
        summary = {
            "status": result.status,
            "step": result.step_id,
            "detail": result.detail,
            "turns_played": played,
        }
        if result.next_turn is None:
            return summary
        turn, retries, first = result.next_turn, 0, False
        if time.monotonic() - started >= slice_s:
            try:
                _queue(seat_id, turn)
            except Exception:  # the broker is unreachable: play on rather than strand the seat
                logger.exception("could not queue turn %s of seat %s; playing on in this task", turn, seat_id)
                continue
            return summary


def _queue(seat_id: int, turn: int, *, countdown: float | None = None, retries: int = 0) -> None:
    model_turn.apply_async((seat_id, turn), countdown=countdown, retries=retries, ignore_result=True)


@shared_task(name="workers.tournament_tick", acks_late=True, reject_on_worker_lost=True)
def tournament_tick(tournament_id: int) -> dict:
    """Advance a tournament (start it when due, start rounds up to its concurrency, finish it),
    then queue the next tick. Only the tick that is due goes on; a duplicate one stops here.
    An error of ours is logged and the chain goes on, so one bad tick never stalls it."""
    from games.models import Tournament

    tick_s = float(getattr(settings, "ARENA_TOURNAMENT_TICK_S", 2.0))
    try:
        progress = tournaments.tournament_advance(tournament_id=tournament_id, tick_s=tick_s)
    except Tournament.DoesNotExist:
        return {"status": "deleted"}
    except Exception:
        logger.exception("tick of tournament %s failed; trying again in %s s", tournament_id, tick_s)
        tournament_tick.apply_async((tournament_id,), countdown=tick_s * 5, ignore_result=True)
        return {"status": "error"}
    if progress.next_tick_in_s is not None:
        tournament_tick.apply_async((tournament_id,), countdown=progress.next_tick_in_s, ignore_result=True)
    return {
        "status": progress.status,
        "done": progress.done,
        "running": progress.running,
        "pending": progress.pending,
        "note": progress.note,
    }


@shared_task(name="workers.sweep", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep() -> dict:
    """The periodic sweep, a self-rescheduling chain (no beat process needed): model turns no
    live task owns are queued again, in-flight calls of dead workers are closed as interrupted,
    abandoned matches time out. Only the sweep that is due goes on; a duplicate stops at once.
    The next one is queued before this one works, so an error or a death here never ends the
    chain (and a worker that starts begins it again)."""
    from games.play import services

    interval = sweep_interval_s()
    try:
        if not services.sweep_due(interval_s=interval):
            return {"status": "duplicate"}
    except Exception:
        logger.exception("could not book the next sweep; trying again in %s s", interval * 5)
        sweep.apply_async(countdown=interval * 5, ignore_result=True)
        return {"status": "error"}
    sweep.apply_async(countdown=interval, ignore_result=True)
    try:
        report = services.sweep_run()
    except Exception:
        logger.exception("sweep failed; the next one is in %s s", interval)
        report = {"status": "error"}
    try:
        # Matches that ended (debounced) or an old computation: the ratings are fitted in a task
        # of their own, never in a request and never holding up the sweep.
        if rating_snapshots.refresh_due():
            ratings_refresh.apply_async(ignore_result=True)
            report["ratings"] = "queued"
    except Exception:
        logger.exception("could not check whether the ratings are due")
    return report


@shared_task(
    name="workers.ratings_refresh",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=getattr(settings, "ARENA_RATINGS_SOFT_LIMIT_S", 500),
    time_limit=getattr(settings, "ARENA_RATINGS_HARD_LIMIT_S", 560),
)
def ratings_refresh() -> dict:
    """Fit the ratings of every scope and period and store them as snapshots. Safe to run twice:
    a run that finds another going stops at once."""
    return rating_snapshots.ratings_refresh()


def sweep_interval_s() -> float:
    return float(getattr(settings, "ARENA_SWEEP_S", 10.0))


@worker_init.connect
def _name_this_worker(**_: object) -> None:
    """Before the pool starts, so its child processes inherit the id (through the environment),
    and the first beat is in before any task is received."""
    from django.db import connections

    liveness.assign_worker_id()
    try:
        liveness.beat()
    except Exception:  # no database yet: the heartbeat thread tries again
        logger.exception("first worker heartbeat failed")
    finally:
        connections.close_all()  # the pool forks next: no connection of ours to inherit


@worker_init.connect
def _warm_up(**_: object) -> None:
    """Build each family's reference spaces before the pool forks, so every pool child starts
    with them (``workers.warmup``); ``ARENA_WORKER_WARMUP=0`` skips it (test workers)."""
    if not getattr(settings, "ARENA_WORKER_WARMUP", True):
        return
    from workers import warmup

    started = time.perf_counter()
    report = warmup.warm_up()
    logger.warning(
        "worker warm-up: reference spaces of %s families (%s variants) built in %.1f s",
        len(report),
        sum(r["variants"] for r in report.values()),
        time.perf_counter() - started,
    )


@task_received.connect
def _claim_the_seat(request: object = None, **_: object) -> None:
    """A turn task arrived here (to run now, later with a countdown, or after the tasks ahead of
    it): the seat's turns are this worker's, so when this worker dies the sweep knows whose
    turns to queue again, even those it held but had not started."""
    if getattr(request, "name", None) != "workers.model_turn" or not liveness.current_worker_id():
        return
    from django.db import close_old_connections

    from games.play import services

    try:
        close_old_connections()
        services.model_turn_claim(seat_id=int(request.args[0]), worker_id=liveness.current_worker_id())  # type: ignore[attr-defined]
    except Exception:  # the claim is a hint for the sweep; the turn itself is unaffected
        logger.exception("could not record the claim of a model turn")


@worker_shutdown.connect
def _stop_beating(**_: object) -> None:
    liveness.stop_heartbeat()


@worker_ready.connect
def _resume_after_a_restart(**_: object) -> None:
    """Work lost with a worker (or a broker outage) resumes when a worker starts: the heartbeat
    starts, a sweep runs at once (turns a dead worker owned are queued again, its in-flight calls
    closed) and the sweep chain is started (it stops at once if another chain is alive),
    unfinished tournaments get a tick (the chain that is due goes on; a duplicate stops at once)."""
    import datetime as dt

    from django.utils import timezone

    from games.models import Tournament
    from games.play import selectors, services

    liveness.start_heartbeat()
    try:
        unfinished = list(
            Tournament.objects.filter(
                status__in=[Tournament.Status.SCHEDULED, Tournament.Status.RUNNING]
            ).values_list("pk", flat=True)
        )
        for tournament_id in unfinished:
            tournament_tick.apply_async((tournament_id,), ignore_result=True)
        report = services.sweep_run()
        if report["resumed"]:
            logger.warning("worker start: queued %s model turn(s) again", report["resumed"])
        # After the booked sweep is due: if that chain is alive it has moved on and this one
        # stops; if it died (its next sweep held by a dead worker), this one takes over.
        next_at = selectors.sweep_next_at()
        now = timezone.now()
        eta = now if next_at is None or next_at < now else next_at + dt.timedelta(seconds=2)
        sweep.apply_async(eta=eta, ignore_result=True)
    except Exception:  # no database or broker yet: the next worker start tries again
        logger.exception("could not resume unfinished work")


@shared_task(
    name="workers.rule_challenge_trial",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def rule_challenge_trial(challenge_id: int) -> str:
    """The built-in solvers play a rule a player wrote; it is then published or refused
    (games/competition/challenges.py). Safe to run twice."""
    from games.competition import challenges

    challenge = challenges.challenge_trial_run(challenge_id=challenge_id)
    return challenge.status if challenge is not None else "missing"

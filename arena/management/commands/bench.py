"""Headless benchmark runner: many model contestants x many puzzle variants x seeds.

    python manage.py bench --contestants infogain,random-tester --variants wason-tier-1,wason-tier-2 \\
        --seeds 0-99 [--concurrency 8] [--csv bench-summary.csv] [--with-worker] [--ranked]

Each (contestant, variant, seed) is one model-only match in ``benchmark`` mode on the
instance (variant, seed), played through the same Celery pipeline as every other
match. Re-running skips combinations that already have a finished seat and resumes
those left unfinished (e.g. after the runner or a worker was killed). ``--with-worker``
starts a Celery worker (and, with nothing configured, the embedded Redis) for the run;
otherwise the run uses the workers already attached to the broker; a ``--concurrency`` beyond
what those workers can run at once is warned about (the extra matches only wait).

Benchmark matches are unranked (off the public leaderboard and the ratings: their seeds are
fixed, so anyone could have practised them) unless ``--ranked`` asks for them. Stopped with
SIGTERM or SIGINT, the run writes the summary of what it has so far and exits non-zero; a
re-run resumes. The summary counts real tests (a forfeited turn spends budget but is no test),
forfeited turns, parse failures, re-prompts, failed calls and the median latency of a call.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum
from django.utils import timezone

from games.competition import tournaments
from games.models import Match, ModelCall, ModelContestant, PuzzleVariant, Seat, Step, WorkerBeat
from games.play import selectors, services
from games.research.progress import Progress


def parse_seeds(text: str) -> list[int]:
    """ "0-99", "1,5,7", "0-9,20-29" -> sorted unique seeds."""
    try:
        return tournaments.parse_seeds(text)
    except services.ActionError as exc:
        raise CommandError(exc.message.replace("e.g. 0-99", "e.g. --seeds 0-99", 1)) from None


@dataclass
class Job:
    contestant: ModelContestant
    variant: PuzzleVariant
    seed: int
    match_id: int | None = None
    done: bool = False


class Command(BaseCommand):
    help = (
        "Run model contestants on puzzle variants for a range of seeds, resumably; print and save a summary."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--contestants", required=True, help="comma-separated contestant slugs")
        parser.add_argument("--variants", required=True, help="comma-separated variant slugs")
        parser.add_argument("--seeds", required=True, help="e.g. 0-99 or 1,5,7")
        parser.add_argument("--concurrency", type=int, default=4, help="matches running at once (default 4)")
        parser.add_argument("--csv", default="bench-summary.csv", help="where to write the summary table")
        parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds")
        parser.add_argument("--with-worker", action="store_true", help="start a Celery worker for this run")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--ranked",
            action="store_true",
            help="count these matches on the public leaderboard and ratings (default: unranked)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        contestants = self._contestants(opts["contestants"])
        variants = self._variants(opts["variants"])
        seeds = parse_seeds(opts["seeds"])
        if opts["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        jobs = [Job(c, v, s) for v in variants for s in seeds for c in contestants]
        pending = [job for job in jobs if not self._resume(job)]
        skipped = len(jobs) - len(pending)
        self.stderr.write(
            f"{len(jobs)} matches: {len(contestants)} contestants x {len(variants)} variants x {len(seeds)} seeds; "
            f"{skipped} already finished"
        )
        interrupted: list[int] = []
        with _signals_raise(interrupted):
            try:
                worker = self._start_worker() if opts["with_worker"] and pending else None
                progress = None
                try:
                    if pending:
                        self._warn_about_capacity(opts["concurrency"], pending, worker)
                    progress = (
                        None
                        if opts["no_progress"]
                        else Progress(
                            self.stderr,
                            label="bench",
                            total=len(jobs),
                            initial=skipped,
                            note=f"({skipped} skipped)",
                        )
                    )
                    self._run(pending, progress, opts)
                finally:
                    if progress is not None:
                        progress.close()
                    if worker is not None:
                        worker.stop()
            except _Interrupted:
                pass
            self._write_summary(jobs, opts)  # a second signal does not cut this short
        if interrupted:
            name = signal.Signals(interrupted[0]).name
            raise CommandError(
                f"interrupted by {name}: the summary of the matches so far is in {opts['csv']}; "
                "re-run the same command to resume",
                returncode=128 + interrupted[0],
            )

    def _write_summary(self, jobs: list[Job], opts: dict[str, Any]) -> None:
        rows = summarise(jobs)
        self.stdout.write(format_table(rows))
        write_csv(rows, Path(opts["csv"]))
        self.stdout.write(f"summary written to {opts['csv']}")

    def _warn_about_capacity(self, concurrency: int, pending: list[Job], worker: _Worker | None) -> None:
        """Say so when --concurrency asks for more matches at once than the workers can play:
        the rest only wait in the queue (and a model server shared by them slows down)."""
        wanted = min(concurrency, len(pending))
        capacity, source = worker_capacity()
        if worker is not None:  # just started: it has not answered or beaten yet
            capacity = (capacity or 0) + worker.concurrency
            source = f"{source}; plus this run's worker of {worker.concurrency} processes"
        if capacity is None:
            self.stderr.write(
                f"warning: --concurrency {concurrency}: no worker data available ({source}), so "
                "whether the workers can run that many matches at once is unknown"
            )
        elif wanted > capacity:
            self.stderr.write(
                f"warning: --concurrency {concurrency} is more than the {capacity} model turns the "
                f"running workers can play at once ({source}); the other matches will wait. "
                "Start more worker processes (manage.py up --workers N) or lower --concurrency."
            )

    # -- lookups -----------------------------------------------------------------------------------------

    def _contestants(self, text: str) -> list[ModelContestant]:
        slugs = [s.strip() for s in text.split(",") if s.strip()]
        found = {c.slug: c for c in ModelContestant.objects.filter(slug__in=slugs, enabled=True)}
        missing = [s for s in slugs if s not in found]
        if missing or not slugs:
            known = ", ".join(ModelContestant.objects.filter(enabled=True).values_list("slug", flat=True))
            raise CommandError(
                f"unknown or disabled contestant(s): {', '.join(missing) or '(none)'}; known: {known}"
            )
        return [found[s] for s in slugs]

    def _variants(self, text: str) -> list[PuzzleVariant]:
        slugs = [s.strip() for s in text.split(",") if s.strip()]
        found = {v.slug: v for v in PuzzleVariant.objects.filter(slug__in=slugs)}
        missing = [s for s in slugs if s not in found]
        if missing or not slugs:
            known = ", ".join(PuzzleVariant.objects.values_list("slug", flat=True))
            raise CommandError(f"unknown variant(s): {', '.join(missing) or '(none)'}; known: {known}")
        return [found[s] for s in slugs]

    def _resume(self, job: Job) -> bool:
        """True if this combination already finished. Otherwise an unfinished match of an
        earlier run is adopted (and its next model turn requested) or None is left."""
        seat = (
            Seat.objects.filter(
                contestant=job.contestant.slug,
                match__mode=Match.Mode.BENCHMARK,
                match__instance__variant=job.variant,
                match__instance__seed=job.seed,
            )
            .select_related("match")
            .order_by("-match__created")
            .first()
        )
        if seat is None:
            return False
        if seat.match.is_over:
            job.done = True
            job.match_id = seat.match_id
            return True
        job.match_id = seat.match_id
        services.model_turn_request(seat=seat)  # a killed run: carry on where the log stops
        return False

    # -- the run ---------------------------------------------------------------------------------------

    def _run(self, jobs: list[Job], progress: Progress | None, opts: dict[str, Any]) -> None:
        deadline = time.monotonic() + opts["timeout"]
        queue = list(jobs)
        running: list[Job] = [j for j in queue if j.match_id is not None]
        queue = [j for j in queue if j.match_id is None]
        while queue or running:
            while queue and len(running) < opts["concurrency"]:
                # Respect each contestant's own limit on simultaneous matches.
                per = {}
                for j in running:
                    per[j.contestant.slug] = per.get(j.contestant.slug, 0) + 1
                ready = [
                    j for j in queue if per.get(j.contestant.slug, 0) < j.contestant.max_concurrent_matches
                ]
                if not ready:
                    break
                job = ready[0]
                queue.remove(job)
                match = services.match_create(
                    variant=job.variant, seed=job.seed, mode=Match.Mode.BENCHMARK, ranked=opts["ranked"]
                )
                services.seat_join(
                    match=match,
                    handle=job.contestant.name,
                    kind=Seat.Kind.MODEL,
                    contestant=job.contestant.slug,
                )
                services.match_start(match=match)
                job.match_id = match.pk
                running.append(job)
            time.sleep(0.1)
            over = set(
                Match.objects.filter(
                    pk__in=[j.match_id for j in running],
                    status__in=[Match.Status.FINISHED, Match.Status.ABORTED],
                ).values_list("pk", flat=True)
            )
            ended = [j for j in running if j.match_id in over]
            for job in ended:
                job.done = True
                running.remove(job)
            if progress is not None:
                progress.advance(len(ended))
            if time.monotonic() > deadline:
                raise CommandError(
                    f"timed out with {len(running) + len(queue)} matches unfinished; re-run to resume"
                )

    def _start_worker(self) -> _Worker:
        return _Worker()


class _Worker:
    """A Celery worker (and the embedded Redis when no broker is configured) for one run."""

    def __init__(self) -> None:
        from arena import embedded

        self.redis = None
        env = dict(os.environ)
        if not settings.REDIS_URL and not os.environ.get("ARENA_CELERY_BROKER_URL"):
            sock = embedded.socket_path_for(settings.DATA_DIR)
            if not embedded.socket_is_live(sock):
                self.redis = embedded.start_redis(sock)
        self.log = tempfile.NamedTemporaryFile(
            "w+", prefix="arena-bench-worker-", suffix=".log", delete=False
        )  # noqa: SIM115
        self.concurrency = os.cpu_count() or 1  # Celery's own default, said out loud
        self.proc = subprocess.Popen(
            embedded.celery_worker_argv(
                queue=settings.CELERY_TASK_DEFAULT_QUEUE, concurrency=self.concurrency, loglevel="WARNING"
            ),
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=embedded.die_with_parent,
        )

    def stop(self) -> None:
        from arena import embedded

        embedded.stop(self.proc)
        if self.redis is not None:
            embedded.stop(self.redis)
        self.log.close()


# -- interruption and capacity ---------------------------------------------------------------------------


class _Interrupted(BaseException):
    """SIGTERM or SIGINT arrived: stop starting matches, write the summary, exit non-zero."""


@contextmanager
def _signals_raise(received: list[int]) -> Iterator[None]:
    """While inside, the first SIGTERM or SIGINT raises _Interrupted (its number is appended to
    ``received``); later ones are only noted, so the summary is written whole. Outside the main
    thread (a test calling the command from another thread) signals cannot be caught: nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) == 1:
            raise _Interrupted

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def worker_capacity(*, timeout_s: float = 1.0) -> tuple[int | None, str]:
    """How many model turns the running workers can play at once, and where that figure comes
    from: the pool sizes the workers report over the broker, else None when no worker answers
    (the heartbeats, workers.liveness, say which workers live but not their pool sizes)."""
    from arena.celery import app

    try:
        stats = app.control.inspect(timeout=timeout_s).stats() or {}
    except Exception as exc:  # noqa: BLE001 - a broker that cannot be asked is reported, not fatal
        stats = {}
        asked = f"asking the broker failed ({type(exc).__name__})"
    else:
        asked = "no worker answered over the broker"
    pools = [int((s.get("pool") or {}).get("max-concurrency") or 0) for s in stats.values()]
    if stats:
        return sum(pools), f"{len(stats)} worker(s) answered with {sum(pools)} processes in all"
    heartbeat_s = float(getattr(settings, "ARENA_WORKER_HEARTBEAT_S", 5))
    recent = set(
        WorkerBeat.objects.filter(
            beat_at__gte=timezone.now() - dt.timedelta(seconds=3 * heartbeat_s)
        ).values_list("worker_id", flat=True)
    )
    alive = recent - selectors.workers_dead(worker_ids=recent)
    if alive:
        return None, f"{asked}; {len(alive)} worker(s) have a recent heartbeat but report no pool size"
    return None, f"{asked} and no worker heartbeat in the last {3 * heartbeat_s:g} s"


# -- the summary ------------------------------------------------------------------------------------------

COLUMNS = [
    "contestant",
    "variant",
    "matches",
    "finished",
    "solve_rate",
    # real tests per finished seat: test steps, not the budget a forfeited turn also spends
    "mean_tests",
    "median_tests",
    "real_tests",
    "forfeited_turns",  # model turns that produced no valid move (each spends a test)
    "forfeited_seats",  # seats that ended without a guess (an error, a give-up, the budget spent)
    "model_calls",
    "parse_failures",  # calls whose reply could not be read as a move
    "reprompts",  # format re-prompts after an unreadable reply
    "errors",  # calls that failed (HTTP error, timeout, refused key...)
    "median_latency_ms",  # of the calls that got a reply
    "tokens_in",
    "tokens_out",
    "cost_usd",
]


def summarise(jobs: list[Job]) -> list[dict[str, Any]]:
    rows = []
    pairs: dict[tuple[str, str], list[int]] = {}
    for job in jobs:
        if job.match_id is not None:
            pairs.setdefault((job.contestant.slug, job.variant.slug), []).append(job.match_id)
    for (slug, variant), match_ids in sorted(pairs.items()):
        seats = list(Seat.objects.filter(match_id__in=match_ids, contestant=slug))
        done = [s for s in seats if s.is_done]
        solved = [s for s in done if (s.score or {}).get("solved")]
        steps = Step.objects.filter(seat__in=seats)
        real: dict[int, int] = dict.fromkeys((s.pk for s in seats), 0)
        for seat_id in steps.filter(kind=Step.Kind.TEST).values_list("seat_id", flat=True):
            real[seat_id] += 1
        tests = [real[s.pk] for s in done]
        forfeited_turns = sum(
            1
            for action in steps.filter(kind=Step.Kind.FORFEIT).values_list("action", flat=True)
            if isinstance(action, dict) and action.get("turn")
        )
        calls = ModelCall.objects.filter(seat__in=seats)
        usage = calls.aggregate(tin=Sum("tokens_in"), tout=Sum("tokens_out"), cost=Sum("cost_usd"))
        latencies = list(calls.filter(error_class="").values_list("latency_ms", flat=True))
        rows.append(
            {
                "contestant": slug,
                "variant": variant,
                "matches": len(seats),
                "finished": len(done),
                "solve_rate": round(len(solved) / len(done), 3) if done else None,
                "mean_tests": round(statistics.mean(tests), 2) if tests else None,
                "median_tests": statistics.median(tests) if tests else None,
                "real_tests": sum(real.values()),
                "forfeited_turns": forfeited_turns,
                "forfeited_seats": sum(1 for s in done if s.status == Seat.Status.FORFEITED),
                "model_calls": calls.count(),
                "parse_failures": calls.exclude(parse_error="").count(),
                "reprompts": calls.filter(purpose="reprompt").count(),
                "errors": calls.exclude(error_class__in=["", "in_flight"]).count(),
                "median_latency_ms": round(statistics.median(latencies), 1) if latencies else None,
                "tokens_in": usage["tin"] or 0,
                "tokens_out": usage["tout"] or 0,
                "cost_usd": round(float(usage["cost"] or 0.0), 6),
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [COLUMNS] + [["" if r[c] is None else str(r[c]) for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)

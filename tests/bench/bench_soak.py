"""Soak: paced people over WebSockets and model races on real Celery workers, one worker killed.

Starts the stack as bench_ws_moves does (embedded Redis and SQLite unless ARENA_REDIS_URL /
ARENA_DATABASE_URL are set, the ASGI app under uvicorn), --workers Celery workers (tests/workers)
and a loopback fake OpenAI-compatible model server. --players people each run one test a second
in a solo match, for --warmup then --seconds seconds, while --model-matches races between two
fake models are played by the workers. At --kill-at of the measured time one worker is killed
(SIGKILL of its process group); the others carry on (the sweep gives its lost turn to them) and a
fresh worker is started --restart-after seconds later (a negative value leaves it dead).

A person's client gives each test a new move id; on a dropped connection it reconnects and sends
the pending move again with the same id. Expected steps are the distinct ids answered with a
"result"; the database must hold exactly those (no step lost, none twice, seqs 1..n per seat).
Prints one JSON line (steps, memory of the ASGI server and the workers at start, in between and
at the end, moves/s and p50/p99, model turns before and after the kill, load) and exits 1 if a
step was lost or duplicated, a seat's seqs have a gap, or a model seat stopped after the kill.

    python tests/bench/bench_soak.py [--players 500] [--seconds 600] [--model-matches 20]
        [--workers 2] [--kill-at 0.5] [--restart-after 30] [--web-workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.bench_ws_moves import cpu_seconds, free_port, pct, wait_http  # noqa: E402


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process and all its children (uvicorn's or Celery's pool), in MB."""
    if pid is None:
        return None
    try:
        import psutil

        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return round(float(sum(p.memory_info().rss for p in procs)) / 2**20, 1)
    except Exception:
        return None


class Human:
    """One paced person: a test a second, every move id answered exactly once."""

    def __init__(self, index: int, seat_id: int, url: str, headers: dict[str, str]):
        self.index, self.seat_id, self.url, self.headers = index, seat_id, url, headers
        self.acked: set[str] = set()  # distinct move ids answered with a "result"
        self.replayed = 0  # answers that said the server had the move already
        self.unresolved: str | None = None  # a move sent but never answered (gave up)
        self.reconnects = 0
        self.connected = False

    async def play(self, bench: Soak) -> None:
        import websockets

        n = 0
        pending: tuple[str, dict[str, object], float] | None = None  # move id, message, first sent at
        while True:
            try:
                async with websockets.connect(
                    self.url, additional_headers=self.headers, open_timeout=60, max_queue=None
                ) as ws:
                    if not self.connected:
                        self.connected = True
                        bench.connected += 1
                    await bench.start.wait()
                    if n == 0:  # people do not move in lockstep: spread the first moves over a second
                        await asyncio.sleep(random.uniform(0, 1.0))
                    while True:
                        if pending is None:
                            if time.monotonic() >= bench.stop_at:
                                return
                            n += 1
                            move_id = f"soak-{self.index}-{n}"
                            test: dict[str, object] = {
                                "type": "test",
                                "input": [n % 97, n % 13, n % 41],
                                "id": move_id,
                            }
                            pending = (move_id, test, time.monotonic())
                        move_id, message, sent_at = pending
                        await ws.send(json.dumps(message))  # again, with the same id, after a reconnect
                        while True:
                            reply = json.loads(await asyncio.wait_for(ws.recv(), bench.reply_timeout))
                            if reply.get("id") != move_id:
                                continue  # a state, a broadcast, ...
                            if reply.get("type") == "result":
                                self.acked.add(move_id)
                                self.replayed += bool(reply.get("replayed"))
                                bench.record(sent_at, time.monotonic())
                                break
                            if reply.get("type") == "error":
                                bench.errors.append(f"error reply: {reply.get('message')}")
                                break
                        pending = None
                        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - sent_at)))
            except Exception as exc:  # a dropped connection: reconnect, send the pending move again
                bench.errors.append(f"{type(exc).__name__}: {exc}")
                self.reconnects += 1
                if time.monotonic() > bench.stop_at + bench.reply_timeout:
                    self.unresolved = pending[0] if pending else None
                    return
                await asyncio.sleep(random.uniform(0.2, 1.0))


class Soak:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.start = asyncio.Event()
        self.stop_at = float("inf")
        self.measure_from = float("inf")
        self.reply_timeout = 60.0
        self.connected = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []

    def record(self, sent_at: float, answered_at: float) -> None:
        if sent_at >= self.measure_from and sent_at < self.stop_at:
            self.latencies.append(answered_at - sent_at)


def main() -> None:  # noqa: C901, PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=600.0, help="measured time, after the warm-up")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds played before memory at start")
    parser.add_argument("--model-matches", type=int, default=20, help="races between two fake models")
    parser.add_argument("--model-delay", type=float, default=0.2, help="seconds the fake model takes a call")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (concurrency 1 each)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of --seconds")
    parser.add_argument(
        "--restart-after", type=float, default=30.0, help="seconds; a negative value leaves it dead"
    )
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument(
        "--no-writer",
        action="store_true",
        help="SQLite: no move writer; each web process writes its own moves",
    )
    parser.add_argument("--samples", type=int, default=10, help="memory samples in between")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    os.environ.setdefault("ARENA_DATA_DIR", tempfile.mkdtemp(prefix="arena-soak-", dir="/tmp"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    # Recovery within the soak: sweep often, take a silent worker for dead within seconds, hand
    # a killed task back soon (our tasks are short: a model turn's slice is half a second).
    recovery_env = {
        "ARENA_SWEEP_S": "2",
        "ARENA_WORKER_HEARTBEAT_S": "1",
        "ARENA_MODEL_STALL_S": "30",
        "ARENA_MODEL_TURN_SOFT_LIMIT_S": "20",
        "ARENA_MODEL_TURN_HARD_LIMIT_S": "25",
    }
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.utils import timezone

    from arena import embedded
    from games.models import (
        Match,
        ModelCall,
        ModelContestant,
        PuzzleInstance,
        PuzzleVariant,
        Seat,
        Step,
        WorkerBeat,
    )
    from games.play import services
    from tests import factories
    from tests.workers.fake_model import FakeModelServer, Reply
    from tests.workers.worker import Worker, point_the_app_at_the_test_queue, test_queue

    children = []
    workers: list[Worker] = []
    created_matches: list[int] = []
    created_sessions: list[str] = []
    contestant_slugs = ["soak-fake-a", "soak-fake-b"]
    variant_slugs = ["soak-wason", "soak-wason-models"]
    fake = FakeModelServer()
    load_before = os.getloadavg()
    began = timezone.now()
    failed = True
    try:
        if not settings.REDIS_URL:
            children.append(embedded.start_redis(settings.EMBEDDED_REDIS_SOCKET))
        call_command("migrate", interactive=False, verbosity=0)
        point_the_app_at_the_test_queue()  # race_create queues the first turns on the workers' queue

        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "arena.asgi:application", "--port", str(port)]
        command += ["--lifespan", "off", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
        command += ["--ws-per-message-deflate", "false"]  # as `manage.py up` serves
        if args.web_workers > 1:
            command += ["--workers", str(args.web_workers)]
        env = {**os.environ, "ARENA_DATA_DIR": str(settings.DATA_DIR), "ARENA_CELERY_QUEUE": test_queue()}
        writer_pid = None
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and not args.no_writer:
            # as `manage.py up` serves SQLite: one move writer process (games/play/writer.py)
            where = embedded.socket_path_for(settings.DATA_DIR, "move-writer.sock")
            env["ARENA_WS_WRITER"] = str(where)
            children.append(
                subprocess.Popen(  # noqa: S603
                    [sys.executable, "manage.py", "move_writer", "--socket", str(where)],
                    cwd=REPO,
                    env=env,
                    preexec_fn=embedded.die_with_parent,
                )
            )
            writer_pid = children[-1].pid
            for _ in range(600):
                if where.exists():
                    break
                time.sleep(0.1)
        children.append(
            subprocess.Popen(command, cwd=REPO, env=env, preexec_fn=embedded.die_with_parent)  # noqa: S603
        )
        asgi_pid = children[-1].pid

        # The fake model: a test with fresh inputs every call, after --model-delay seconds.
        def responder(_path: str, _body: dict[str, Any]) -> Reply:
            move = {"action": "test", "input": [random.randint(0, 99) for _ in range(3)]}  # noqa: S311
            return Reply(content=json.dumps(move), delay=args.model_delay)

        fake.responder = responder
        report_error = fake.httpd.handle_error

        def handle_error(request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # the killed worker's call
                report_error(request, client_address)

        fake.httpd.handle_error = handle_error  # type: ignore[method-assign]
        fake.start()

        def start_worker() -> Worker:
            log = Path(settings.DATA_DIR) / f"soak-worker-{len(workers)}.log"
            worker = Worker(visibility_timeout=30, log_path=log, extra_env=recovery_env)
            workers.append(worker)
            return worker

        for _ in range(args.workers):
            start_worker()
        wait_http(port)
        for worker in workers:
            worker.wait_ready()

        # People: one solo match each, as bench_ws_moves.
        variant = PuzzleVariant.objects.filter(slug=variant_slugs[0]).first() or services.variant_create(
            slug=variant_slugs[0], family="wason", title="Soak", params={"tier": 1, "rule": "x + y > z"}
        )
        humans: list[Human] = []
        for i in range(args.players):
            match = services.match_create(variant=variant, seed=1, max_tests=10**6)
            key = factories.session_key()
            created_matches.append(match.pk)
            created_sessions.append(key)
            seat = services.seat_join(match=match, handle="soak", session_key=key)
            services.match_start(match=match)
            headers = {"Cookie": f"sessionid={key}", "Origin": "http://localhost"}
            humans.append(Human(i, seat.pk, f"ws://127.0.0.1:{port}/ws/matches/{match.pk}/", headers))

        # Model races: two fake models each, with tests enough to last the soak.
        for slug in contestant_slugs:
            ModelContestant.objects.update_or_create(
                slug=slug,
                defaults={
                    "name": slug.title(),
                    "backend": "openai",
                    "base_url": fake.base_url,
                    "model": "fake-model",
                    "http_timeout_s": 10.0,
                    "max_calls": 10**6,
                    "max_tokens": 0,
                    "max_cost_usd": 0,
                    "max_concurrent_matches": args.model_matches + 1,
                },
            )
        model_variant = PuzzleVariant.objects.filter(
            slug=variant_slugs[1]
        ).first() or services.variant_create(
            slug=variant_slugs[1],
            family="wason",
            title="Soak models",
            params={"tier": 1, "rule": "x + y > z", "max_tests": 500},
        )
        model_matches = []
        for i in range(args.model_matches):
            match, _ = services.race_create(variant=model_variant, opponents=contestant_slugs, seed=i + 1)
            created_matches.append(match.pk)
            model_matches.append(match.pk)
        model_seats = list(
            Seat.objects.filter(match_id__in=model_matches, kind=Seat.Kind.MODEL).values_list("pk", flat=True)
        )

        bench = Soak(args)
        marks: dict[str, Any] = {}
        memory: list[dict[str, Any]] = []

        def sample(label: str, t0: float) -> None:
            memory.append(
                {
                    "at": label,
                    "t_s": round(time.monotonic() - t0, 1),
                    "asgi_mb": rss_mb(asgi_pid),
                    "writer_mb": rss_mb(writer_pid) if writer_pid else None,
                    "workers_mb": [rss_mb(w.proc.pid) if w.proc.poll() is None else None for w in workers],
                }
            )

        async def conduct() -> None:
            tasks = [asyncio.create_task(h.play(bench)) for h in humans]
            deadline = time.monotonic() + 120
            while bench.connected + len(bench.errors) < len(humans) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            t0 = time.monotonic()
            bench.measure_from = t0 + args.warmup
            bench.stop_at = bench.measure_from + args.seconds
            bench.start.set()
            await asyncio.sleep(args.warmup)
            sample("start", t0)
            marks["cpu_start"] = cpu_seconds((asgi_pid, writer_pid) if writer_pid else asgi_pid)
            marks["t_start"] = timezone.now()
            kill_at = bench.measure_from + args.kill_at * args.seconds
            restart_at = kill_at + args.restart_after if args.restart_after >= 0 else float("inf")
            restarting: asyncio.Task[None] | None = None

            async def restart() -> None:
                worker = await asyncio.to_thread(start_worker)
                await asyncio.to_thread(worker.wait_ready)
                marks["t_restart"] = timezone.now()

            every = args.seconds / (args.samples + 1)
            next_sample = bench.measure_from + every
            while time.monotonic() < bench.stop_at:
                now = time.monotonic()
                if "t_kill" not in marks and now >= kill_at:
                    marks["loadavg_at_kill"] = os.getloadavg()
                    marks["t_kill"] = timezone.now()
                    marks["killed_mb"] = rss_mb(workers[0].proc.pid)
                    await asyncio.to_thread(workers[0].kill9)
                elif restarting is None and now >= restart_at:
                    restarting = asyncio.create_task(restart())  # sampling goes on meanwhile
                elif now >= next_sample:
                    sample("during", t0)
                    next_sample += every
                await asyncio.sleep(0.2)
            marks["cpu_end"] = cpu_seconds((asgi_pid, writer_pid) if writer_pid else asgi_pid)
            marks["t_end"] = timezone.now()
            sample("end", t0)
            await asyncio.gather(*tasks)  # the moves in flight are answered (or given up on)
            if restarting is not None:
                await restarting

        started = time.monotonic()
        asyncio.run(conduct())
        wall_s = time.monotonic() - started
        load_after = os.getloadavg()
        time.sleep(2)  # the model turns in flight at the end are written

        # People: every acknowledged move written once, nothing else, seqs 1..n.
        rows: dict[int, list[tuple[int, str]]] = defaultdict(list)
        human_seats = [h.seat_id for h in humans]
        for seat_id, seq, key in Step.objects.filter(seat_id__in=human_seats).values_list(
            "seat_id", "seq", "idempotency_key"
        ):
            rows[seat_id].append((seq, key))
        expected = written = lost = unexpected = duplicates = gaps = 0
        for h in humans:
            seat_rows = rows[h.seat_id]
            keys = Counter(k for _, k in seat_rows)
            seqs = sorted(s for s, _ in seat_rows)
            expected += len(h.acked)
            written += len(seat_rows)
            lost += len(h.acked - set(keys))
            unexpected += len(set(keys) - h.acked)  # written, never answered (a move given up on)
            duplicates += sum(c - 1 for c in keys.values()) + len(seqs) - len(set(seqs))
            gaps += seqs != list(range(1, len(seqs) + 1))

        # Model seats: contiguous seqs, no turn twice, turns made after the kill.
        model_rows: dict[int, list[tuple[int, str, dt.datetime]]] = defaultdict(list)
        for seat_id, seq, key, created in Step.objects.filter(seat_id__in=model_seats).values_list(
            "seat_id", "seq", "idempotency_key", "created_at"
        ):
            model_rows[seat_id].append((seq, key, created))
        t_start, t_kill, t_end = marks["t_start"], marks.get("t_kill"), marks["t_end"]
        t_restart = marks.get("t_restart")
        model_dups = model_gaps = 0
        progressed = still_moving = 0
        times: list[dt.datetime] = []
        over = set(
            Match.objects.filter(pk__in=model_matches, status=Match.Status.FINISHED).values_list(
                "pk", flat=True
            )
        )
        seat_match = dict(Seat.objects.filter(pk__in=model_seats).values_list("pk", "match_id"))
        for seat_id in model_seats:
            seat_rows2 = model_rows[seat_id]
            seqs = sorted(s for s, _, _ in seat_rows2)
            keys = Counter(k for _, k, _ in seat_rows2 if k)
            model_dups += sum(c - 1 for c in keys.values()) + len(seqs) - len(set(seqs))
            model_gaps += seqs != list(range(1, len(seqs) + 1))
            created = [c for _, _, c in seat_rows2]
            times += created
            if seat_match[seat_id] in over or (t_kill and any(c > t_kill for c in created)):
                progressed += 1
            if seat_match[seat_id] in over or any(c > t_end - dt.timedelta(seconds=30) for c in created):
                still_moving += 1
        times.sort()

        def turns(a: dt.datetime | None, b: dt.datetime | None) -> int:
            return sum(1 for t in times if (a is None or t >= a) and (b is None or t < b))

        def rate(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
            if a is None or b is None or b <= a:
                return None
            return round(turns(a, b) / (b - a).total_seconds(), 2)

        # The longest time no model seat made a turn, from the kill on.
        after_kill = [t_kill, *(t for t in times if t >= t_kill)] if t_kill else []
        longest_pause = max(
            ((b - a).total_seconds() for a, b in zip(after_kill, after_kill[1:], strict=False)), default=None
        )
        calls = ModelCall.objects.filter(seat_id__in=model_seats)
        turn_calls = Counter(calls.filter(error_class="").values_list("seat_id", "turn"))
        measured = bench.latencies
        cpu_ms = None
        if marks.get("cpu_start") is not None and marks.get("cpu_end") is not None and measured:
            cpu_ms = round((marks["cpu_end"] - marks["cpu_start"]) * 1000 / len(measured), 3)
        first_mem, last_mem = memory[0], memory[-1]
        failed = bool(lost or duplicates or gaps or model_dups or model_gaps or written != expected)
        failed = failed or progressed < len(model_seats)
        print(
            json.dumps(
                {
                    "bench": "soak",
                    "ok": not failed,
                    "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                    "redis": "external" if settings.REDIS_URL else "embedded",
                    "cpus": os.cpu_count(),
                    "players": args.players,
                    "seconds": args.seconds,
                    "warmup_s": args.warmup,
                    "wall_s": round(wall_s, 1),
                    "web_workers": args.web_workers,
                    "celery_workers": args.workers,
                    "kill_at_s": round(args.kill_at * args.seconds, 1),
                    "restart_after_s": args.restart_after if args.restart_after >= 0 else None,
                    "restarted": t_restart is not None,  # not when the run ended first
                    "recovery_env": recovery_env,
                    "human": {
                        "steps_expected": expected,
                        "steps_written": written,
                        "lost": lost,
                        "duplicates": duplicates,
                        "seats_with_seq_gaps": gaps,
                        "written_not_acknowledged": unexpected,
                        "unresolved_moves": sum(h.unresolved is not None for h in humans),
                        "replayed_replies": sum(h.replayed for h in humans),
                        "reconnects": sum(h.reconnects for h in humans),
                        "moves_measured": len(measured),
                        "moves_per_s": round(len(measured) / args.seconds, 1),
                        "wanted_per_s": args.players,
                        "p50_ms": pct(measured, 0.50),
                        "p99_ms": pct(measured, 0.99),
                        "max_ms": pct(measured, 1.0),
                        "errors": len(bench.errors),
                        "first_errors": list(dict.fromkeys(bench.errors))[:3],
                        "server_cpu_ms_per_move": cpu_ms,
                    },
                    "model": {
                        "matches": args.model_matches,
                        "seats": len(model_seats),
                        "matches_finished": len(over),
                        "duplicates": model_dups,
                        "seats_with_seq_gaps": model_gaps,
                        "turns_warmup": turns(None, t_start),
                        "turns_before_kill": turns(t_start, t_kill),
                        "turns_after_kill": turns(t_kill, t_end),
                        "turns_kill_to_restart": turns(t_kill, t_restart) if t_restart else None,
                        "turns_per_s_before_kill": rate(t_start, t_kill),
                        "turns_per_s_after_kill": rate(t_kill, t_end),
                        "longest_pause_after_kill_s": round(longest_pause, 2) if longest_pause else None,
                        "seats_progressed_after_kill": progressed,
                        "seats_moving_in_last_30s": still_moving,
                        "calls_interrupted": calls.filter(error_class="interrupted").count(),
                        "turns_called_twice": sum(c > 1 for c in turn_calls.values()),
                        "fake_model_requests": len(fake.requests),
                    },
                    "memory_mb": {
                        "asgi_start": first_mem["asgi_mb"],
                        "asgi_end": last_mem["asgi_mb"],
                        "writer_start": first_mem["writer_mb"],
                        "writer_end": last_mem["writer_mb"],
                        "workers_start": first_mem["workers_mb"],
                        "workers_end": last_mem["workers_mb"],
                        "killed_worker_at_kill": marks.get("killed_mb"),
                        "samples": memory,
                    },
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_at_kill": [round(x, 2) for x in marks.get("loadavg_at_kill", ())],
                    "loadavg_after": [round(x, 2) for x in load_after],
                }
            )
        )
    finally:
        for worker in workers:
            worker.stop()
        fake.stop()
        for proc in reversed(children):
            embedded.stop(proc)
        # Leave no soak rows behind (seats, steps and model calls go with their match).
        Match.objects.filter(pk__in=created_matches).delete()
        Session.objects.filter(session_key__in=created_sessions).delete()
        ModelContestant.objects.filter(slug__in=contestant_slugs).delete()
        WorkerBeat.objects.filter(started__gte=began).delete()
        for slug in variant_slugs:
            variant = PuzzleVariant.objects.filter(slug=slug).first()
            if variant is not None and not Match.objects.filter(instance__variant=variant).exists():
                PuzzleInstance.objects.filter(variant=variant).delete()
                variant.delete()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

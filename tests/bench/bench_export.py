"""Benchmark: research exports against Django's dumpdata of the same tables, in the same run.

Fills a scratch database with a synthetic log (bulk_create in batches: finished two-seat
races, a person and a model, ``--steps-per-seat`` steps each: tests with the oracle's real
answers, then a judged guess), then for each size runs every export format and
``manage.py dumpdata games.match games.seat games.step`` as child processes and measures
wall time, CPU time and the child's peak RSS (``os.wait4`` rusage, through a small launcher). Prints one JSON line.

The export rows are matches + seats + steps (+ model calls: none in this synthetic log);
dumpdata writes the same rows. ``*_analytics`` runs compute the engine's per-step analytics
(about 13 ms a seat on this machine), only at sizes up to ``--analytics-up-to``.

Database: with nothing set, a temporary SQLite file; with ARENA_DATABASE_URL pointing at
PostgreSQL, a scratch database ``arena_bench_export`` made (and dropped) on that server.

Run: ``python tests/bench/bench_export.py [--sizes 100000,1000000] [--analytics-up-to 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
SCRATCH_DB = "arena_bench_export"


def _scratch_postgres(url: str) -> tuple[str, dict]:
    """Create a fresh scratch database next to the one ``url`` names; return its URL."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    conninfo = dict(
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        dbname=cfg["NAME"],
    )
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{SCRATCH_DB}")), conninfo


def _drop_postgres(conninfo: dict) -> None:
    import psycopg

    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")


_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"wall": time.perf_counter() - started, "code": os.waitstatus_to_exitcode(status),
                  "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
                  "err": err.decode(errors="replace")[-2000:]}))
"""


def run_child(argv: list[str], env: dict | None = None) -> dict:
    """Run ``argv`` and return its wall seconds, CPU seconds and peak RSS in MB.

    Through a small launcher process: a child forked straight from this (big) process would
    count this process's pages in its ru_maxrss until it execs."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise RuntimeError(f"{argv} failed ({result['code']}): {result['err']}")
    return {
        "s": round(result["wall"], 2),
        "cpu_s": round(result["cpu"], 2),
        "peak_mb": round(result["maxrss_kb"] / 1024, 1),
    }


class Log:
    """Synthetic finished races, appended with bulk_create."""

    def __init__(self, steps_per_seat: int, seeds: int = 20) -> None:
        from games.engine.core import get_family
        from games.models import ModelContestant, PuzzleVariant
        from games.play import services

        self.rng = random.Random(1)
        self.steps_per_seat = steps_per_seat
        self.family = get_family("wason")
        variant = PuzzleVariant.objects.filter(slug="bench-export").first() or services.variant_create(
            slug="bench-export",
            family="wason",
            title="Bench",
            params={"tier": 2, "max_tests": 30},
            published=True,
        )
        ModelContestant.objects.get_or_create(
            slug="infogain", defaults={"name": "Info-gain", "backend": "builtin", "model": "infogain"}
        )
        self.instances = []
        for seed in range(seeds):
            row = services.instance_get_or_create(variant=variant, seed=seed)
            engine = self.family.generate(row.seed, row.params)
            pool = [[self.rng.randint(-10, 20) for _ in range(3)] for _ in range(64)]
            answers = [{"input": p, "result": self.family.answer(engine, p)} for p in pool]
            guesses = []
            for rule in (engine.hidden["rule"], "x < y"):
                verdict = self.family.judge(engine, rule).to_dict()
                score = self.family.score(
                    solved=verdict["correct"],
                    tests_used=steps_per_seat - 1,
                    max_tests=30,
                    agreement=verdict["agreement"],
                )
                guesses.append((rule, verdict, score))
            self.instances.append((row, answers, guesses))
        self.steps = 0

    def grow_to(self, target_steps: int, batch_matches: int = 1000) -> None:
        from django.db import transaction

        from games.models import Match, Seat, Step

        per_match = 2 * self.steps_per_seat
        while self.steps < target_steps:
            n = min(batch_matches, -(-(target_steps - self.steps) // per_match))
            with transaction.atomic():
                matches = Match.objects.bulk_create(
                    [
                        Match(
                            instance=self.instances[self.rng.randrange(len(self.instances))][0],
                            mode=Match.Mode.RACE,
                            status=Match.Status.FINISHED,
                            max_tests=30,
                        )
                        for _ in range(n)
                    ]
                )
                seats, plans = [], []
                by_id = {row.pk: (answers, guesses) for row, answers, guesses in self.instances}
                for m in matches:
                    answers, guesses = by_id[m.instance_id]
                    for kind in (Seat.Kind.HUMAN, Seat.Kind.MODEL):
                        rule, verdict, score = guesses[self.rng.randrange(2)]
                        seats.append(
                            Seat(
                                match=m,
                                kind=kind,
                                handle="Bench Player" if kind == Seat.Kind.HUMAN else "Info-gain",
                                session_key=f"bench-session-{self.rng.getrandbits(64):x}"
                                if kind == "human"
                                else "",
                                contestant="infogain" if kind == Seat.Kind.MODEL else "",
                                status=Seat.Status.FINISHED,
                                outcome={"guess": rule, "verdict": verdict},
                                score=score,
                                tests_used=self.steps_per_seat - 1,
                            )
                        )
                        plans.append((answers, rule, verdict, score, kind))
                seats = Seat.objects.bulk_create(seats)
                steps = []
                for seat, (answers, rule, verdict, score, kind) in zip(seats, plans):
                    think = kind == Seat.Kind.HUMAN
                    for seq in range(1, self.steps_per_seat):
                        test = answers[self.rng.randrange(len(answers))]
                        steps.append(
                            Step(
                                seat=seat,
                                seq=seq,
                                kind=Step.Kind.TEST,
                                action={"input": test["input"]},
                                result={"result": test["result"]},
                                client_think_ms=self.rng.randrange(500, 20000) if think else None,
                            )
                        )
                    steps.append(
                        Step(
                            seat=seat,
                            seq=self.steps_per_seat,
                            kind=Step.Kind.GUESS,
                            action={"rule": rule},
                            result={"verdict": verdict, "score": score},
                        )
                    )
                Step.objects.bulk_create(steps, batch_size=5000)
            self.steps += len(steps)


def child_export(fmt: str, out: str, analytics: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    flag = "--analytics" if analytics else "--no-analytics"
    call_command("export", "--format", fmt, "--out", out, flag, "--no-progress")


def _has_orjson() -> bool:
    try:
        import orjson  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000", help="steps in the log at each measurement")
    parser.add_argument("--steps-per-seat", type=int, default=24)
    parser.add_argument(
        "--analytics-up-to", type=int, default=100_000, help="largest size to time with analytics"
    )
    parser.add_argument("--analytics-formats", default="jsonl", help="formats to time with analytics")
    parser.add_argument("--child", nargs=3, metavar=("FORMAT", "OUT", "ANALYTICS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    if args.child:
        fmt, out, analytics = args.child
        child_export(fmt, out, analytics == "1")
        return

    tmp = Path(tempfile.mkdtemp(prefix="arena-bexp-", dir="/tmp"))
    os.environ["ARENA_DATA_DIR"] = str(tmp)  # the secret key file and anything else local
    pg = None
    base_url = os.environ.get("ARENA_DATABASE_URL", "")
    if base_url.startswith(("postgres://", "postgresql://")):
        url, pg = _scratch_postgres(base_url)
        db = "postgresql"
    else:
        url, db = f"sqlite:///{tmp / 'bench.sqlite3'}", "sqlite"
    os.environ["ARENA_DATABASE_URL"] = url
    os.environ["ARENA_DB_CONN_MAX_AGE"] = "0"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        log = Log(args.steps_per_seat)
        results: dict[str, dict] = {}
        gen_s = 0.0
        for size in [int(s) for s in args.sizes.split(",")]:
            started = time.perf_counter()
            log.grow_to(size)
            gen_s += time.perf_counter() - started
            connections.close_all()
            from games.models import Match, Seat, Step

            counts = {
                "matches": Match.objects.count(),
                "seats": Seat.objects.count(),
                "steps": Step.objects.count(),
            }
            connections.close_all()
            rows = sum(counts.values())
            row: dict[str, dict] = {}
            # (name, format, analytics, env): "jsonl_stdlib" is JSONL with the standard library's
            # json instead of orjson (when orjson is installed, the default).
            runs = [
                ("jsonl", "jsonl", False, {}),
                ("csv", "csv", False, {}),
                ("parquet", "parquet", False, {}),
            ]
            runs.append(("jsonl_stdlib", "jsonl", False, {"ARENA_EXPORT_STDLIB_JSON": "1"}))
            if size <= args.analytics_up_to:
                runs += [(f"{fmt}_analytics", fmt, True, {}) for fmt in args.analytics_formats.split(",")]
            for name, fmt, analytics, env in runs:
                out = tmp / f"out-{size}-{name}"
                measured = run_child(
                    [sys.executable, __file__, "--child", fmt, str(out), "1" if analytics else "0"], env
                )
                manifest = json.loads((out / "manifest.json").read_text())
                assert sum(manifest["counts"].values()) == rows, (manifest["counts"], counts)
                measured["rows_per_s"] = round(rows / measured["s"])
                measured["mb_on_disk"] = round(sum(f["bytes"] for f in manifest["files"].values()) / 2**20, 1)
                row[name] = measured
                shutil.rmtree(out)
            dump = tmp / f"dump-{size}.json"
            measured = run_child(
                [
                    sys.executable,
                    "manage.py",
                    "dumpdata",
                    "games.match",
                    "games.seat",
                    "games.step",
                    "--output",
                    str(dump),
                ]
            )
            measured["rows_per_s"] = round(rows / measured["s"])
            measured["mb_on_disk"] = round(dump.stat().st_size / 2**20, 1)
            dump.unlink()
            row["dumpdata"] = measured
            row["jsonl_vs_dumpdata_speed"] = round(row["dumpdata"]["s"] / row["jsonl"]["s"], 2)
            row["jsonl_stdlib_vs_dumpdata_speed"] = round(row["dumpdata"]["s"] / row["jsonl_stdlib"]["s"], 2)
            row["jsonl_vs_dumpdata_cpu"] = round(row["dumpdata"]["cpu_s"] / row["jsonl"]["cpu_s"], 2)
            results[str(counts["steps"])] = {"rows": counts, **row}
        sizes = list(results)
        flat = {
            fmt: round(results[sizes[-1]][fmt]["peak_mb"] / results[sizes[0]][fmt]["peak_mb"], 2)
            for fmt in ("jsonl", "csv", "parquet", "jsonl_stdlib")
        }
        print(
            json.dumps(
                {
                    "bench": "export",
                    "db": db,
                    "steps_per_seat": args.steps_per_seat,
                    "generate_s": round(gen_s, 1),
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                    "cpus": os.cpu_count(),
                    "orjson_installed": _has_orjson(),
                    "sizes": results,
                    "peak_mb_ratio_largest_vs_smallest": flat,
                    "max_peak_mb": max(
                        v["peak_mb"]
                        for r in results.values()
                        for k, v in r.items()
                        if isinstance(v, dict) and "peak_mb" in v
                    ),
                }
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if pg is not None:
            _drop_postgres(pg)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

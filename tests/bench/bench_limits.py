"""Benchmark: the cost of big inputs now that they are bounded, against the old unbounded paths
measured in the same run. Prints one JSON line.

* tournaments: creating one at the default round limit (2,000) and at 10,000 (the probe's size,
  allowed here by raising ARENA_TOURNAMENT_MAX_ROUNDS); refusing one over the limit; then, with
  a finished two-seat race behind each of the 10,000 rounds (bulk-made), the API detail and the
  page, paginated (the default 100 rounds) against every round in one reply (the old detail).
* downloads: peak traced memory (tracemalloc) while Django's ASGI handler sends a ``--mb`` MiB
  zip, through the export views' response (games.research.downloads.file_response: an async
  iterator under ASGI) against a plain FileResponse (which Django reads whole under ASGI, with a
  warning), and how many "must consume synchronous iterators" warnings each raised. The zip's
  bytes are random (a stand-in for a big export: the response only ever sees a file on disk).

A scratch SQLite database and local-memory cache under a temporary ARENA_DATA_DIR (the shared
PostgreSQL and Redis are never touched); tournament ticks are not queued (no broker).

Run: ``python tests/bench/bench_limits.py [--mb 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _setup(tmp: str) -> None:
    for name in ("ARENA_DATABASE_URL", "ARENA_REDIS_URL"):
        os.environ.pop(name, None)
    os.environ["ARENA_DATA_DIR"] = tmp
    os.environ["ARENA_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["DJANGO_SETTINGS_MODULE"] = "arena.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, round((time.perf_counter() - start) * 1000, 1)


def bench_tournaments() -> dict:
    from django.conf import settings
    from django.test import Client

    from games.api.auth import agent_token_create
    from games.competition import tournaments
    from games.models import ModelContestant, PuzzleVariant
    from games.play import services

    tournaments._tournament_tick_request = lambda tournament_id: None  # no broker here
    variants = list(PuzzleVariant.objects.filter(published=True).order_by("slug")[:2])
    players = list(ModelContestant.objects.filter(enabled=True)[:2])

    def create(slug: str, seeds: str):
        return tournaments.tournament_create(
            slug=slug, title=slug, variants=variants, contestants=players, seeds=seeds
        )

    _, create_2k_ms = _timed(lambda: create("cup-2k", "0-999"))
    start = time.perf_counter()
    try:
        create("cup-10k", "0-4999")
        refused = False
    except services.ActionError:
        refused = True
    refuse_ms = round((time.perf_counter() - start) * 1000, 1)
    settings.ARENA_TOURNAMENT_MAX_ROUNDS = 10_000
    big, create_10k_ms = _timed(lambda: create("cup-10k", "0-4999"))

    _, finish_ms = _timed(lambda: _finish_every_round(big, players))

    _, key = agent_token_create(name="bench", can_read_research=True)
    api = Client(headers={"Authorization": f"Bearer {key}"})
    detail, detail_ms = _timed(lambda: api.get("/api/v1/tournaments/cup-10k"))
    assert detail.status_code == 200, detail.content[:200]
    everything, all_rounds_ms = _timed(
        lambda: json.dumps(tournaments.tournament_rounds(tournament=big)).encode()
    )
    page, page_ms = _timed(lambda: Client().get("/tournaments/cup-10k/?page=50"))
    assert page.status_code == 200
    return {
        "create_2000_rounds_ms": create_2k_ms,
        "create_10000_rounds_ms": create_10k_ms,
        "synthetic_finish_10000_races_ms": finish_ms,
        "over_limit_refused": refused,
        "refuse_10000_at_default_limit_ms": refuse_ms,
        "api_detail_page_ms": detail_ms,
        "api_detail_page_bytes": len(detail.content),
        "all_rounds_in_one_reply_ms": all_rounds_ms,
        "all_rounds_in_one_reply_bytes": len(everything),
        "html_page_ms": page_ms,
        "html_page_bytes": len(page.content),
    }


def _finish_every_round(tournament, players) -> None:
    """A finished two-seat race behind every round (bulk, synthetic): what the detail and the
    page read once a big tournament is over."""
    from django.utils import timezone

    from games.models import Match, Seat, TournamentRound
    from games.play import services

    rounds = list(tournament.rounds.select_related("variant").order_by("id"))
    instances = {}
    for r in rounds:
        if r.variant_id not in instances:
            instances[r.variant_id] = services.instance_get_or_create(variant=r.variant, seed=0)
    now = timezone.now()
    matches = Match.objects.bulk_create(
        [
            Match(
                instance=instances[r.variant_id], mode=Match.Mode.RACE, status=Match.Status.FINISHED,
                max_tests=30, started=now, finished=now,
            )
            for r in rounds
        ],
        batch_size=2_000,
    )  # fmt: skip
    Seat.objects.bulk_create(
        [
            Seat(
                match=m, kind=Seat.Kind.MODEL, handle=p.name, contestant=p.slug, status=Seat.Status.FINISHED,
                tests_used=5 + i, finished=now, score={"solved": i == 0, "points": 90 if i == 0 else 0},
            )
            for m in matches
            for i, p in enumerate(players)
        ],
        batch_size=2_000,
    )  # fmt: skip
    for r, m in zip(rounds, matches):
        r.match = m
    TournamentRound.objects.bulk_update(rounds, ["match"], batch_size=2_000)


def _asgi_download_peak(make_response, size: int) -> tuple[int, int, int]:
    """Peak traced bytes, bytes sent and Django's sync-iterator warnings while its ASGI handler
    serves ``size`` bytes of a temporary file through ``make_response(handle)``."""
    import warnings

    from django.core.handlers.asgi import ASGIHandler

    handle = tempfile.TemporaryFile()
    block = os.urandom(1024 * 1024)
    for _ in range(size // len(block)):
        handle.write(block)
    handle.seek(0)

    class OneFile(ASGIHandler):
        async def get_response_async(self, request):
            return make_response(handle)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/download", "raw_path": b"/download", "query_string": b"", "root_path": "", "headers": [],
        "client": ("127.0.0.1", 1), "server": ("localhost", 80),
    }  # fmt: skip
    sent = [0]
    requested = []

    async def receive():
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        if message["type"] == "http.response.body":
            sent[0] += len(message.get("body", b""))

    tracemalloc.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            asyncio.run(OneFile()(scope, receive, send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    warned = sum("must consume synchronous iterators" in str(w.message) for w in caught)
    return peak, sent[0], warned


def bench_downloads(mb: int) -> dict:
    from django.http import FileResponse

    from games.research.downloads import file_response

    size = mb * 1024 * 1024
    chunked_peak, chunked_sent, chunked_warned = _asgi_download_peak(
        lambda handle: file_response(handle, filename="x.zip", asynchronous=True), size
    )
    plain_peak, plain_sent, plain_warned = _asgi_download_peak(
        lambda handle: FileResponse(handle, as_attachment=True, filename="x.zip"), size
    )
    assert chunked_sent == plain_sent == size
    return {
        "download_mib": mb,
        "chunked_peak_mib": round(chunked_peak / 2**20, 2),
        "plain_fileresponse_peak_mib": round(plain_peak / 2**20, 2),
        "peak_ratio_plain_over_chunked": round(plain_peak / max(chunked_peak, 1), 1),
        "sync_iterator_warnings_async": chunked_warned,
        "sync_iterator_warnings_plain": plain_warned,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=40, help="size of the download, MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arena-bench-limits-") as tmp:
        _setup(tmp)
        figures = {"bench": "limits", **bench_tournaments(), **bench_downloads(args.mb)}
        from django.db import connections

        connections.close_all()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

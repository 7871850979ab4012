"""Benchmark: what the fair-play checks add to starting a race, against the busy count they
replace, in the same run.

Fills a scratch SQLite database (a temporary ARENA_DATA_DIR) with ``--matches`` races, each a
guest seat and a model seat of one contestant, spread over ``--creators`` guest sessions and
addresses; a quarter still running, the rest finished, a few test steps per running seat. Then
times, per call (median of ``--repeat``):

* ``busy_old_ms``: the busy count before this change (every seat of the contestant in a waiting
  or running match), ``busy_new_ms``: ``limits.contestant_busy`` (matches really being played);
* ``caps_ms``: ``limits.creator_cap_hit`` for a guest with matches of its own, all four caps on;
* ``race_uncapped_ms`` / ``race_capped_ms``: ``race_create`` + ``match_start`` for a person
  against the contestant, without and with a creator (model turns are not queued).

Prints one JSON line. Run: ``python tests/bench/bench_match_caps.py [--matches 20000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matches", type=int, default=20_000)
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=50)
    opts = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="arena-bench-caps-")
    os.environ["ARENA_DATA_DIR"] = data_dir
    os.environ.pop("ARENA_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import transaction
        from django.utils import timezone

        from games.models import Match, ModelContestant, PuzzleVariant, Seat, Step
        from games.play import limits, services

        call_command("migrate", verbosity=0)
        settings.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 1_000_000
        settings.ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER = 1_000_000
        settings.ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS = 1_000_000
        settings.ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS = 1_000_000
        services.model_turn_request = lambda **_: None  # no broker here
        from games.play import publisher

        publisher.group_send = lambda group, message: None  # nor a channel layer

        variant = PuzzleVariant.objects.get(slug="wason-tier-1")
        model = ModelContestant.objects.create(
            slug="bench-model", name="Bench", backend="builtin", model="random", max_concurrent_matches=10**9
        )
        instance = services.instance_get_or_create(variant=variant, seed=1)
        now = timezone.now()
        creators = [
            limits.Creator(
                session_key=f"session-{i:06d}", address=limits.address_key(f"10.0.{i // 250}.{i % 250}")
            )
            for i in range(opts.creators)
        ]
        with transaction.atomic():
            matches = Match.objects.bulk_create(
                Match(
                    instance=instance,
                    mode=Match.Mode.RACE,
                    status=Match.Status.RUNNING if i % 4 == 0 else Match.Status.FINISHED,
                    max_tests=30,
                    started=now,
                    creator_session_key=creators[i % opts.creators].session_key,
                    creator_address=creators[i % opts.creators].address,
                )
                for i in range(opts.matches)
            )
            seats = []
            for m in matches:
                done = m.status == Match.Status.FINISHED
                status = Seat.Status.FINISHED if done else Seat.Status.PLAYING
                seats.append(Seat(match=m, kind=Seat.Kind.HUMAN, handle="guest", status=status))
                seats.append(
                    Seat(match=m, kind=Seat.Kind.MODEL, handle="Bench", contestant=model.slug, status=status)
                )
            seats = Seat.objects.bulk_create(seats, batch_size=2000)
            Step.objects.bulk_create(
                (
                    Step(
                        seat=s,
                        seq=q,
                        kind=Step.Kind.TEST,
                        action={"input": [1, 2, q]},
                        result={"result": True},
                    )
                    for s in seats
                    if s.status == Seat.Status.PLAYING
                    for q in range(1, 4)
                ),
                batch_size=2000,
            )
            Match.objects.filter(pk__in=[m.pk for m in matches]).update(created=now)

        def busy_old() -> int:
            return (
                Seat.objects.filter(
                    contestant=model.slug, match__status__in=[Match.Status.WAITING, Match.Status.RUNNING]
                )
                .order_by()
                .values("match")
                .distinct()
                .count()
            )

        guest = creators[7]
        made: list[int] = []

        def race(creator):
            def run() -> None:
                match, _ = services.race_create(
                    variant=variant,
                    opponents=[model.slug],
                    human_handle="guest",
                    session_key="s",
                    creator=creator,
                )
                services.match_start(match=match)
                made.append(match.pk)

            return run

        figures = {
            "bench": "match_caps",
            "database": "sqlite",
            "matches": opts.matches,
            "seats": len(seats),
            "creators": opts.creators,
            "busy_old": busy_old(),
            "busy_new": limits.contestant_busy(slug=model.slug),
            "busy_old_ms": _median_ms(busy_old, opts.repeat),
            "busy_new_ms": _median_ms(lambda: limits.contestant_busy(slug=model.slug), opts.repeat),
            "caps_ms": _median_ms(lambda: limits.creator_cap_hit(creator=guest), opts.repeat),
            "caps_running_query_ms": _median_ms(
                lambda: Match.objects.filter(guest.player()[1]).filter(limits.live_match_q()).count(),
                opts.repeat,
            ),
            "race_uncapped_ms": _median_ms(race(None), opts.repeat),
            "race_capped_ms": _median_ms(race(guest), opts.repeat),
        }
        figures["race_capped_over_uncapped"] = round(
            figures["race_capped_ms"] / figures["race_uncapped_ms"], 2
        )
        print(json.dumps(figures))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Tournaments: model contestants race each other on every (variant, seed) of a schedule. Writes (create, schedule, start, cancel, advance) and reads (progress, rounds)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from games.engine.core import EngineError
from games.models import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Match,
    PuzzleVariant,
    Tournament,
    TournamentRound,
)
from games.play.services import (
    MAX_SEED,
    ActionError,
    VariantUnplayable,
    race_create,
    resume_stalled_model_seats,
)

logger = logging.getLogger(__name__)

TOURNAMENT_TICK_TASK = "workers.tournament_tick"


DEFAULT_MAX_TOURNAMENT_ROUNDS = 2_000


_TICK_SLACK = dt.timedelta(milliseconds=250)


def max_tournament_rounds() -> int:
    """Rounds (variants x seeds) one tournament may have: ``ARENA_TOURNAMENT_MAX_ROUNDS``."""
    return int(getattr(settings, "ARENA_TOURNAMENT_MAX_ROUNDS", DEFAULT_MAX_TOURNAMENT_ROUNDS))


def tournament_round_count(*, seeds: str, variant_count: int) -> int:
    """The number of rounds ``seeds`` x ``variant_count`` variants makes, refused (ActionError)
    above ``max_tournament_rounds()``; counted before any seed list is built."""
    limit = max_tournament_rounds()
    seed_count = len(parse_seeds(seeds, limit=limit))
    rounds = seed_count * variant_count
    if rounds > limit:
        raise ActionError(
            f"{variant_count} variant(s) x {seed_count:,} seeds is {rounds:,} rounds; a tournament has at most "
            f"{limit:,} (ARENA_TOURNAMENT_MAX_ROUNDS): use fewer seeds or variants, or split it"
        )
    return rounds


def parse_seeds(text: str, *, limit: int = 1_000_000) -> list[int]:
    """ "0-99", "1,5,7", "0-9,20-29" -> sorted unique seeds; at most ``limit`` of them (counted
    before any is made, so a huge range costs nothing) and each at most ``MAX_SEED``."""
    ranges: list[tuple[int, int]] = []
    total = 0
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        found = re.fullmatch(r"(\d{1,19})(?:-(\d{1,19}))?", part)
        if found is None:
            raise ActionError(f"bad seed range {part[:40]!r}; use e.g. 0-99 or 1,5,7 (non-negative integers)")
        lo = int(found.group(1))
        hi = int(found.group(2)) if found.group(2) is not None else lo
        if hi < lo:
            raise ActionError(f"bad seed range {part!r}: the end is before the start")
        if hi > MAX_SEED:
            raise ActionError(f"seed {hi} is too large (at most {MAX_SEED})")
        total += hi - lo + 1
        if total > limit:
            raise ActionError(
                f"too many seeds (at least {total:,}); a tournament has at most {limit:,} rounds "
                "(ARENA_TOURNAMENT_MAX_ROUNDS)"
            )
        ranges.append((lo, hi))
    if not ranges:
        raise ActionError("no seeds given; use e.g. 0-99")
    return sorted({seed for lo, hi in ranges for seed in range(lo, hi + 1)})


def tournament_create(
    *,
    slug: str,
    title: str,
    variants: list[PuzzleVariant],
    contestants: list[Any],
    seeds: str,
    concurrency: int = 2,
    starts_at: dt.datetime | None = None,
    description: str = "",
    published: bool = True,
) -> Tournament:
    """A tournament: every contestant races the others on each (variant, seed), one round each."""
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,80}", slug or ""):
        raise ActionError("a tournament slug is 1-80 letters, digits, '-' or '_'")
    if Tournament.objects.filter(slug=slug).exists():
        raise ActionError(f"there is already a tournament {slug!r}")
    if not variants:
        raise ActionError("a tournament needs at least one puzzle variant")
    if not contestants:
        raise ActionError("a tournament needs at least one model contestant")
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 100:
        raise ActionError("concurrency (rounds running at once) must be a whole number from 1 to 100")
    if len(title or "") > TITLE_MAX_LENGTH:
        raise ActionError(
            f"a tournament title is at most {TITLE_MAX_LENGTH} characters; this one has {len(title)}"
        )
    if len(description or "") > DESCRIPTION_MAX_LENGTH:
        raise ActionError(
            f"a tournament description is at most {DESCRIPTION_MAX_LENGTH:,} characters; "
            f"this one has {len(description):,}"
        )
    if len(seeds or "") > 200:
        raise ActionError(f"the seeds are at most 200 characters, e.g. 0-99 or 1,5,7; got {len(seeds)}")
    tournament_round_count(seeds=seeds, variant_count=len(variants))  # refuse before writing anything
    with transaction.atomic():
        tournament = Tournament.objects.create(
            slug=slug,
            title=title or slug,
            description=description,
            seeds=seeds,
            concurrency=concurrency,
            starts_at=starts_at,
            published=published,
        )
        tournament.variants.set(variants)
        tournament.contestants.set(contestants)
        tournament_schedule(tournament=tournament)
    return tournament


def tournament_schedule(*, tournament: Tournament) -> int:
    """Make the tournament's rounds (one per variant and seed, those missing) and queue its first
    tick after commit. Returns the number of rounds."""
    variants = list(tournament.variants.order_by("slug"))
    tournament_round_count(seeds=tournament.seeds, variant_count=len(variants))
    seeds = parse_seeds(tournament.seeds, limit=max_tournament_rounds())
    with transaction.atomic():
        TournamentRound.objects.bulk_create(
            [
                TournamentRound(tournament=tournament, variant=v, seed=seed)
                for seed in seeds
                for v in variants
            ],
            ignore_conflicts=True,
        )
        Tournament.objects.filter(pk=tournament.pk).update(next_tick_at=None)
        _tournament_tick_request(tournament.pk)
    return len(seeds) * len(variants)


def tournament_start_now(*, tournament: Tournament) -> Tournament:
    if tournament.is_over:
        raise ActionError(f"tournament {tournament.slug!r} is {tournament.status}")
    Tournament.objects.filter(pk=tournament.pk).update(starts_at=timezone.now(), next_tick_at=None)
    _tournament_tick_request(tournament.pk)
    tournament.refresh_from_db()
    return tournament


def tournament_cancel(*, tournament: Tournament) -> Tournament:
    """No more rounds start; the races already running play to their end."""
    with transaction.atomic():
        locked = Tournament.objects.select_for_update().get(pk=tournament.pk)
        if locked.is_over:
            raise ActionError(f"tournament {locked.slug!r} is already {locked.status}")
        locked.status = Tournament.Status.CANCELLED
        locked.finished = timezone.now()
        locked.next_tick_at = None
        locked.note = ""
        locked.save(update_fields=["status", "finished", "next_tick_at", "note"])
    return locked


@dataclass
class TournamentProgress:
    status: str
    total: int = 0
    done: int = 0
    running: int = 0
    pending: int = 0
    next_tick_in_s: float | None = None  # None: no further tick is needed (or another chain owns it)
    note: str = ""


def tournament_progress(*, tournament: Tournament) -> TournamentProgress:
    """Counts in one aggregate query, not a row per round (pages and the API ask often)."""
    over = [Match.Status.FINISHED, Match.Status.ABORTED]
    counts = tournament.rounds.aggregate(
        total=Count("id"),
        done=Count("id", filter=~Q(error="") | Q(match__status__in=over)),
        pending=Count("id", filter=Q(error="", match__isnull=True)),
    )
    return TournamentProgress(
        status=tournament.status,
        total=counts["total"],
        done=counts["done"],
        running=counts["total"] - counts["done"] - counts["pending"],
        pending=counts["pending"],
        note=tournament.note,
    )


def _progress_of(tournament: Tournament, rounds: list[TournamentRound]) -> TournamentProgress:
    done = sum(1 for r in rounds if (r.match is not None and r.match.is_over) or r.error)
    pending = sum(1 for r in rounds if r.match is None and not r.error)
    return TournamentProgress(
        status=tournament.status,
        total=len(rounds),
        done=done,
        running=len(rounds) - done - pending,
        pending=pending,
        note=tournament.note,
    )


def tournament_advance(*, tournament_id: int, tick_s: float = 2.0) -> TournamentProgress:
    """One tick: start the tournament when it is due, start rounds up to its concurrency, and
    finish it when every round's race is over. Safe to run twice: rounds start under the
    tournament's row lock, and a tick that is not the one due finds out and stops."""
    with transaction.atomic():
        tournament = Tournament.objects.select_for_update().get(pk=tournament_id)
        now = timezone.now()
        if tournament.is_over:
            return tournament_progress(tournament=tournament)
        if tournament.next_tick_at is not None and now < tournament.next_tick_at - _TICK_SLACK:
            superseded = tournament_progress(tournament=tournament)
            superseded.next_tick_in_s = None
            return superseded
        if tournament.starts_at is not None and now < tournament.starts_at:
            wait = min((tournament.starts_at - now).total_seconds(), 60.0)
            tournament.next_tick_at = now + dt.timedelta(seconds=wait)
            tournament.save(update_fields=["next_tick_at"])
            progress = tournament_progress(tournament=tournament)
            progress.next_tick_in_s = wait
            return progress
        if tournament.status == Tournament.Status.SCHEDULED:
            tournament.status = Tournament.Status.RUNNING
            tournament.started = now
        rounds = list(tournament.rounds.select_related("match", "variant").order_by("id"))
        running = sum(1 for r in rounds if r.match is not None and not r.match.is_over)
        contestants = list(tournament.contestants.order_by("slug"))
        slugs = [c.slug for c in contestants]
        disabled = [c.slug for c in contestants if not c.enabled]
        note = ""
        if disabled:  # every round races the same field, or the standings compare unlike things
            note = (
                f"waiting: contestant {', '.join(disabled)} is disabled; enable it or cancel the tournament"
            )
        for round_ in (r for r in rounds if r.match_id is None and not r.error):
            if running >= tournament.concurrency or disabled:
                break
            try:
                round_.match, _ = race_create(variant=round_.variant, opponents=slugs, seed=round_.seed)
            except VariantUnplayable as exc:  # its params no longer generate a puzzle: flagged
                round_.error = f"could not start: {exc.reason}"[:300]
                round_.save(update_fields=["error"])
                continue
            except ActionError as exc:  # a contestant is busy elsewhere: try again next tick
                note = f"waiting: {exc.message}"
                break
            except EngineError as exc:  # e.g. the variant's parameters no longer generate a puzzle
                round_.error = f"could not start: {exc.message}"[:300]
                round_.save(update_fields=["error"])
                continue
            round_.save(update_fields=["match"])
            running += 1
        running_ids = [r.match_id for r in rounds if r.match is not None and not r.match.is_over]
        resumed = resume_stalled_model_seats(match_ids=running_ids, now=now)
        if resumed and not note:
            note = f"resumed {resumed} stalled model seat(s)"
        all_over = all((r.match is not None and r.match.is_over) or r.error for r in rounds)
        if all_over:
            tournament.status = Tournament.Status.FINISHED
            tournament.finished = now
            tournament.next_tick_at = None
        else:
            tournament.next_tick_at = now + dt.timedelta(seconds=tick_s)
        tournament.note = note[:300]
        tournament.save(update_fields=["status", "started", "finished", "next_tick_at", "note"])
        progress = _progress_of(tournament, rounds)  # the rounds in hand, as this tick left them
        progress.next_tick_in_s = None if all_over else tick_s
        return progress


def _tournament_tick_request(tournament_id: int) -> None:
    def send() -> None:
        from celery import current_app

        try:
            current_app.send_task(TOURNAMENT_TICK_TASK, args=(tournament_id,), ignore_result=True)
        except Exception:  # the broker is down: "start now" in the admin queues it again
            logger.exception("could not queue a tick of tournament %s", tournament_id)

    transaction.on_commit(send)


def published_tournaments() -> list[Any]:
    from games.models import Tournament

    return list(Tournament.objects.filter(published=True).order_by("-created"))


def tournament_rounds(*, tournament: Any, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """The rounds from ``offset`` (``limit`` of them; all with None), in puzzle and seed order,
    each with its race's status and its winners: the seats that solved it with the top score
    (none while it runs, or when nobody solved it)."""
    rounds = tournament.rounds.select_related("variant", "match").prefetch_related("match__seats")
    rounds = rounds.order_by("variant__slug", "seed", "id")
    out = []
    for r in rounds[offset : offset + limit] if limit is not None else rounds[offset:]:
        row: dict[str, Any] = {
            "variant": r.variant.slug,
            "variant_title": r.variant.title,
            "seed": r.seed,
            "match": r.match_id,
            "status": r.match.status if r.match else "pending",
            "winners": [],
        }
        if r.match is not None and r.match.is_over:
            solved = [s for s in r.match.seats.all() if s.score and s.score.get("solved")]
            top = max((s.score.get("points", 0) for s in solved), default=None)
            row["winners"] = [s.handle for s in solved if s.score.get("points", 0) == top]
        out.append(row)
    return out

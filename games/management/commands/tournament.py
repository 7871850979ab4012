"""Tournaments from the command line.

    python manage.py tournament create SLUG --variants V1,V2 --contestants C1,C2 --seeds 0-49 \\
        [--title T] [--concurrency 4] [--starts-at 2026-12-01T09:00:00+00:00]
    python manage.py tournament status SLUG [--follow]
    python manage.py tournament cancel SLUG

The workers run it (no scheduler process is needed); ``status --follow`` prints its progress
until it ends, then the standings."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from games.competition import leaderboard, tournaments
from games.models import ModelContestant, PuzzleVariant, Tournament
from games.play import services


def _slugs(text: str, what: str) -> list[str]:
    slugs = [s.strip() for s in (text or "").split(",") if s.strip()]
    if not slugs:
        raise CommandError(f"give at least one {what} slug, comma-separated")
    return slugs


class Command(BaseCommand):
    help = "Create, follow or cancel a tournament (model contestants racing on variants x seeds)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="schedule a tournament")
        create.add_argument("slug")
        create.add_argument("--variants", required=True, help="comma-separated variant slugs")
        create.add_argument("--contestants", required=True, help="comma-separated contestant slugs")
        create.add_argument(
            "--seeds", required=True, help="e.g. 0-49 or 1,5,7: one round per variant and seed"
        )
        create.add_argument("--title", default="")
        create.add_argument("--concurrency", type=int, default=2, help="rounds running at once (default 2)")
        create.add_argument("--starts-at", default=None, help="ISO 8601 with a time zone; default: now")
        create.add_argument("--unpublished", action="store_true", help="do not list it on the site")
        status = sub.add_parser("status", help="progress and standings")
        status.add_argument("slug")
        status.add_argument("--follow", action="store_true", help="print progress until it ends")
        status.add_argument("--interval", type=float, default=2.0, help="seconds between lines with --follow")
        cancel = sub.add_parser("cancel", help="start no more rounds")
        cancel.add_argument("slug")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        getattr(self, f"_{action}")(**opts)

    def _create(self, *, slug: str, **opts: Any) -> None:
        variant_slugs = _slugs(opts["variants"], "variant")
        variants = list(PuzzleVariant.objects.filter(slug__in=variant_slugs))
        missing = sorted(set(variant_slugs) - {v.slug for v in variants})
        if missing:
            raise CommandError(f"unknown variant(s): {', '.join(missing)}")
        contestant_slugs = _slugs(opts["contestants"], "contestant")
        contestants = list(ModelContestant.objects.filter(slug__in=contestant_slugs, enabled=True))
        missing = sorted(set(contestant_slugs) - {c.slug for c in contestants})
        if missing:
            raise CommandError(f"unknown or disabled contestant(s): {', '.join(missing)}")
        starts_at = None
        if opts["starts_at"]:
            try:
                starts_at = dt.datetime.fromisoformat(opts["starts_at"])
            except ValueError:
                raise CommandError("--starts-at must be ISO 8601, e.g. 2026-12-01T09:00:00+00:00") from None
            if timezone.is_naive(starts_at):
                raise CommandError("--starts-at needs a time zone, e.g. 2026-12-01T09:00:00+00:00")
        try:
            tournament = tournaments.tournament_create(
                slug=slug,
                title=opts["title"] or slug,
                variants=variants,
                contestants=contestants,
                seeds=opts["seeds"],
                concurrency=opts["concurrency"],
                starts_at=starts_at,
                published=not opts["unpublished"],
            )
        except services.ActionError as exc:
            raise CommandError(exc.message) from None
        rounds = tournament.rounds.count()
        when = starts_at.isoformat() if starts_at else "now"
        self.stdout.write(
            f"Scheduled tournament {slug!r}: {rounds} rounds ({len(variants)} variants x "
            f"{rounds // len(variants)} seeds), {len(contestants)} contestants, starting {when}. "
            f"Follow it with: python manage.py tournament status {slug} --follow"
        )

    def _get(self, slug: str) -> Tournament:
        tournament = Tournament.objects.filter(slug=slug).first()
        if tournament is None:
            known = ", ".join(Tournament.objects.order_by("slug").values_list("slug", flat=True)[:20])
            raise CommandError(f"no tournament {slug!r}; known: {known or 'none'}")
        return tournament

    def _status(self, *, slug: str, follow: bool, interval: float, **_: Any) -> None:
        tournament = self._get(slug)
        while True:
            tournament.refresh_from_db()
            p = tournaments.tournament_progress(tournament=tournament)
            note = f"  ({p.note})" if p.note else ""
            self.stdout.write(
                f"{tournament.status}: {p.done}/{p.total} rounds finished, {p.running} running, "
                f"{p.pending} to come{note}"
            )
            if not follow or tournament.is_over:
                break
            time.sleep(max(interval, 0.1))
        standings = leaderboard.leaderboard(tournament=tournament)
        if standings:
            self.stdout.write(
                f"{'#':>3}  {'player':<28} {'matches':>7} {'solved':>6} {'mean pts':>8} {'best':>4}"
            )
            for r in standings:
                self.stdout.write(
                    f"{r['rank']:>3}  {r['name'][:28]:<28} {r['matches']:>7} {r['solved']:>6} "
                    f"{r['mean_points']:>8.1f} {r['best_points']:>4}"
                )

    def _cancel(self, *, slug: str, **_: Any) -> None:
        try:
            tournaments.tournament_cancel(tournament=self._get(slug))
        except services.ActionError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Cancelled {slug!r}: no more rounds start; running races play to their end.")

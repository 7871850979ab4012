"""Tournaments over the API: the list, one tournament's progress and standings, and (for
research tokens) scheduling a new one, e.g. a benchmark of many models on many puzzles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from games.api import schemas
from games.api.auth import BearerToken
from games.api.errors import ApiError
from games.competition import leaderboard
from games.competition import tournaments as tournaments_
from games.models import AgentToken, ModelContestant, PuzzleVariant, Tournament
from games.play import services

DEFAULT_ROUNDS_PER_PAGE = 100
MAX_ROUNDS_PER_PAGE = 500
MAX_PAGE = 10**9

router = Router()

Page = schemas.query_int("page", default=1, minimum=1, maximum=MAX_PAGE)
Limit = schemas.query_int("limit", default=DEFAULT_ROUNDS_PER_PAGE, minimum=1, maximum=MAX_ROUNDS_PER_PAGE)

EXAMPLE_SLUGS = [v.slug for v in schemas.example_variants()[1][:2]]
TOURNAMENT_EXAMPLE = {
    "slug": "december-cup", "title": "December cup", "status": "running",
    "starts_at": "2026-12-01T09:00:00+00:00", "started": "2026-12-01T09:00:01+00:00", "finished": None,
    "progress": {"rounds": 100, "done": 37, "running": 4, "pending": 59, "note": ""},
}  # fmt: skip
TOURNAMENT_DETAIL_EXAMPLE = {
    **TOURNAMENT_EXAMPLE,
    "description": "", "seeds": "0-49", "concurrency": 4,
    "variants": EXAMPLE_SLUGS, "contestants": ["infogain", "random-tester"],
    "standings": [],
    "rounds_page": {"page": 1, "limit": 100, "pages": 1, "count": 100},
    "rounds": [{"variant": EXAMPLE_SLUGS[0], "variant_title": "Tier 1", "seed": 0, "match": 41,
                "status": "finished", "winners": ["Info-gain solver"]}],
}  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _summary(tournament: Tournament) -> dict[str, Any]:
    progress = tournaments_.tournament_progress(tournament=tournament)
    return {
        "slug": tournament.slug,
        "title": tournament.title,
        "status": tournament.status,
        "starts_at": _iso(tournament.starts_at),
        "started": _iso(tournament.started),
        "finished": _iso(tournament.finished),
        "progress": {
            "rounds": progress.total,
            "done": progress.done,
            "running": progress.running,
            "pending": progress.pending,
            "note": progress.note,
        },
    }


def _visible(token: AgentToken) -> Any:
    tournaments = Tournament.objects.all()
    return tournaments if token.can_read_research else tournaments.filter(published=True)


def _starts_at(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        starts_at = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, '"starts_at" must be an ISO 8601 time, e.g. 2026-12-01T09:00:00+00:00') from None
    if timezone.is_naive(starts_at):
        raise ApiError(400, '"starts_at" needs a time zone, e.g. 2026-12-01T09:00:00+00:00')
    return starts_at


@router.get(
    "/tournaments",
    **schemas.operation(
        "listTournaments",
        "Tournaments and their progress",
        "Published tournaments (a research token sees all), newest first.",
        ok={200: schemas.TournamentsOut},
        response_example={"tournaments": [TOURNAMENT_EXAMPLE]},
    ),
)
def tournaments(request: HttpRequest) -> dict[str, Any]:
    token: AgentToken = request.auth  # type: ignore[attr-defined]
    return {"tournaments": [_summary(t) for t in _visible(token).order_by("-created")]}


@router.post(
    "/tournaments",
    auth=BearerToken(research_only="only research tokens may schedule tournaments"),
    **schemas.operation(
        "createTournament",
        "Schedule a tournament (research tokens)",
        "Every listed contestant races the others on each (variant, seed): one round per pair, all on "
        "the same instance, `concurrency` rounds at a time, from `starts_at` (or at once). Follow it "
        "with GET /api/v1/tournaments/{slug}.",
        ok={201: schemas.TournamentOut},
        errors={
            400: "A bad field: seeds that do not parse, too many rounds (at most 2,000 by default: "
            "ARENA_TOURNAMENT_MAX_ROUNDS), a title over 120 or a description over 4,000 characters.",
            403: "Not a research token.",
            404: "An unknown variant or contestant.",
            409: "The slug is taken.",
        },
        request_example={"slug": "december-cup", "title": "December cup",
                         "variants": EXAMPLE_SLUGS, "contestants": ["infogain", "random-tester"],
                         "seeds": "0-49", "concurrency": 4, "starts_at": "2026-12-01T09:00:00+00:00"},
        response_example=TOURNAMENT_EXAMPLE,
    ),
)  # fmt: skip
def tournament_create(request: HttpRequest, payload: schemas.CreateTournamentIn) -> Status[dict[str, Any]]:
    variants = list(PuzzleVariant.objects.filter(slug__in=payload.variants, published=True))
    missing = sorted(set(payload.variants) - {v.slug for v in variants})
    if missing:
        raise ApiError(
            404, f"no published variant {', '.join(map(repr, missing))}; GET /api/v1/variants lists them"
        )
    contestants = list(ModelContestant.objects.filter(slug__in=payload.contestants, enabled=True))
    missing = sorted(set(payload.contestants) - {c.slug for c in contestants})
    if missing:
        raise ApiError(
            404, f"no enabled contestant {', '.join(map(repr, missing))}; GET /api/v1/contestants lists them"
        )
    try:
        tournament = tournaments_.tournament_create(
            slug=payload.slug,
            title=payload.title or payload.slug,
            description=payload.description,
            variants=variants,
            contestants=contestants,
            seeds=payload.seeds,
            concurrency=payload.concurrency,
            starts_at=_starts_at(payload.starts_at),
        )
    except services.ActionError as exc:
        status = 409 if "already a tournament" in exc.message else 400
        raise ApiError(status, exc.message) from None
    return Status(201, _summary(tournament))


@router.get(
    "/tournaments/{slug:slug}",
    **schemas.operation(
        "getTournament",
        "One tournament: progress, standings, a page of rounds",
        "Rounds come a page at a time (`page`, `limit`), in puzzle and seed order; `rounds_page` says "
        "which page this is and how many there are.",
        ok={200: schemas.TournamentDetailOut},
        errors={400: "A bad page or limit.", 404: "No such tournament, or the page is past the last one."},
        response_example=TOURNAMENT_DETAIL_EXAMPLE,
    ),
)
def tournament_detail(
    request: HttpRequest,
    slug: str,
    page: Page = Query(1, description="1-based page of rounds"),
    limit: Limit = Query(DEFAULT_ROUNDS_PER_PAGE, description="rounds per page (1-500, default 100)"),
) -> dict[str, Any]:
    """Progress, standings and one page of rounds (``page``, ``limit``): a tournament may have
    thousands of rounds, so they are never all in one reply."""
    token: AgentToken = request.auth  # type: ignore[attr-defined]
    tournament = _visible(token).filter(slug=slug).first()
    if tournament is None:
        raise ApiError(404, f"no tournament {slug!r}; GET /api/v1/tournaments lists them")
    summary = _summary(tournament)
    count = summary["progress"]["rounds"]
    pages = max(1, -(-count // limit))
    if page > pages:
        raise ApiError(
            404, f"page {page} is past the last page ({pages}); this tournament has {count} rounds"
        )
    standings = leaderboard.leaderboard(tournament=tournament)
    for row in standings:
        del row["you"]
    return {
        **summary,
        "description": tournament.description,
        "seeds": tournament.seeds,
        "concurrency": tournament.concurrency,
        "variants": list(tournament.variants.order_by("slug").values_list("slug", flat=True)),
        "contestants": list(tournament.contestants.order_by("slug").values_list("slug", flat=True)),
        "standings": standings,
        "rounds_page": {"page": page, "limit": limit, "pages": pages, "count": count},
        "rounds": tournaments_.tournament_rounds(
            tournament=tournament, offset=(page - 1) * limit, limit=limit
        ),
    }

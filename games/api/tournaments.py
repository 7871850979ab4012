"""Tournaments over the API: the list, one tournament's progress and standings, and (for
research tokens) scheduling a new one, e.g. a benchmark of many models on many puzzles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from games.api.views import ApiError, _json_object, api_endpoint
from games.competition import leaderboard
from games.competition import tournaments as tournaments_
from games.models import AgentToken, ModelContestant, PuzzleVariant, Tournament
from games.play import inputs, services

DEFAULT_ROUNDS_PER_PAGE = 100
MAX_ROUNDS_PER_PAGE = 500
MAX_PAGE = 10**9

CREATE_FIELDS = {
    "slug",
    "title",
    "description",
    "variants",
    "contestants",
    "seeds",
    "concurrency",
    "starts_at",
}


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


def _slugs(data: dict[str, Any], name: str, hint: str) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ApiError(400, f'"{name}" must be a non-empty list of slugs ({hint})')
    return value


def _create(request: HttpRequest, token: AgentToken) -> JsonResponse:
    if not token.can_read_research:
        raise ApiError(
            403,
            "only research tokens may schedule tournaments; an admin makes one with "
            "`python manage.py create_agent_token NAME --research`",
        )
    data = _json_object(request)
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise ApiError(
            400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(CREATE_FIELDS))}"
        )
    variant_slugs = _slugs(data, "variants", "GET /api/v1/variants")
    contestant_slugs = _slugs(data, "contestants", "GET /api/v1/contestants")
    variants = list(PuzzleVariant.objects.filter(slug__in=variant_slugs, published=True))
    missing = sorted(set(variant_slugs) - {v.slug for v in variants})
    if missing:
        raise ApiError(
            404, f"no published variant {', '.join(map(repr, missing))}; GET /api/v1/variants lists them"
        )
    contestants = list(ModelContestant.objects.filter(slug__in=contestant_slugs, enabled=True))
    missing = sorted(set(contestant_slugs) - {c.slug for c in contestants})
    if missing:
        raise ApiError(
            404, f"no enabled contestant {', '.join(map(repr, missing))}; GET /api/v1/contestants lists them"
        )
    for name in ("slug", "seeds"):
        if not isinstance(data.get(name), str):
            raise ApiError(400, f'"{name}" is required and must be a string')
    for name in ("title", "description"):
        if not isinstance(data.get(name, ""), str):
            raise ApiError(400, f'"{name}" must be a string')
    concurrency = data.get("concurrency", 2)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ApiError(400, '"concurrency" must be a whole number (rounds running at once)')
    starts_at = None
    if data.get("starts_at") is not None:
        try:
            starts_at = dt.datetime.fromisoformat(str(data["starts_at"]))
        except ValueError:
            raise ApiError(
                400, '"starts_at" must be an ISO 8601 time, e.g. 2026-12-01T09:00:00+00:00'
            ) from None
        if timezone.is_naive(starts_at):
            raise ApiError(400, '"starts_at" needs a time zone, e.g. 2026-12-01T09:00:00+00:00')
    try:
        tournament = tournaments_.tournament_create(
            slug=data["slug"],
            title=data.get("title") or data["slug"],
            description=data.get("description", ""),
            variants=variants,
            contestants=contestants,
            seeds=data["seeds"],
            concurrency=concurrency,
            starts_at=starts_at,
        )
    except services.ActionError as exc:
        status = 409 if "already a tournament" in exc.message else 400
        raise ApiError(status, exc.message) from None
    return JsonResponse(_summary(tournament), status=201)


@api_endpoint("GET", "POST")
def tournaments(request: HttpRequest, token: AgentToken) -> JsonResponse:
    if request.method == "POST":
        return _create(request, token)
    return JsonResponse({"tournaments": [_summary(t) for t in _visible(token).order_by("-created")]})


@api_endpoint("GET")
def tournament_detail(request: HttpRequest, token: AgentToken, slug: str) -> JsonResponse:
    """Progress, standings and one page of rounds (``page``, ``limit``): a tournament may have
    thousands of rounds, so they are never all in one reply."""
    page = inputs.query_int(request.GET, "page", default=1, minimum=1, maximum=MAX_PAGE)
    limit = inputs.query_int(
        request.GET, "limit", default=DEFAULT_ROUNDS_PER_PAGE, minimum=1, maximum=MAX_ROUNDS_PER_PAGE
    )
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
    return JsonResponse(
        {
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
    )

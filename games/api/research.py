"""Read-only research endpoints for tokens with ``can_read_research``: matches with filters and
pagination, one match's full steps (with analytics and model calls), and whole exports as zips.

The same records as the exports (games/research/exports.py): the same pseudonyms, and the hidden rule
only for matches that are over."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pydantic import BaseModel, Field

from games.api import schemas
from games.api.auth import BearerToken
from games.api.errors import ApiError
from games.models import Match
from games.research import exports
from games.research.downloads import zip_response

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 10**9
MAX_DB_ID = 2**63 - 1

router = Router(auth=BearerToken(research_only="this token may not read research data"))

Page = schemas.query_int("page", default=1, minimum=1, maximum=MAX_PAGE)
PageSize = schemas.query_int("page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
RESEARCH_ONLY = {403: "The token may not read research data (make one with --research)."}


class Filters(BaseModel):
    """The exports' filters (games.research.exports.ExportFilters checks them and says what is
    wrong): all optional."""

    family: str | None = Field(None, description="only this puzzle family")
    variant: str | None = Field(None, description="only this variant (slug)")
    kind: str | None = Field(None, description="only matches with a seat of this kind: human, model or agent")
    contestant: str | None = Field(None, description="only matches with this model contestant")
    since: str | None = Field(None, description="created on or after (YYYY-MM-DD or ISO 8601)")
    until: str | None = Field(None, description="created up to (YYYY-MM-DD: the whole day, or ISO 8601)")
    finished: str | None = Field(None, description="1 = finished matches only")
    tournament: str | None = Field(None, description="only the races of this tournament (slug)")
    study: str | None = Field(None, description="only the puzzles of this study (slug)")


def _filters(filters: Filters) -> exports.ExportFilters:
    try:
        return exports.ExportFilters.from_query(filters.model_dump())
    except exports.ExportError as exc:
        raise ApiError(400, str(exc)) from None


def _analytics(raw: str) -> bool:
    raw = raw.strip().lower()
    if raw not in ("0", "1", "true", "false"):
        raise ApiError(400, f"analytics must be 1 or 0, got {raw!r}")
    return raw in ("1", "true")


def _steps_summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    for step in steps:
        by_kind[step["kind"]] = by_kind.get(step["kind"], 0) + 1
    think = [s["client_think_ms"] for s in steps if s["client_think_ms"] is not None]
    return {
        "count": len(steps),
        "by_kind": by_kind,
        "first_at": steps[0]["created_at"] if steps else None,
        "last_at": steps[-1]["created_at"] if steps else None,
        "client_think_ms_total": sum(think) if think else None,
    }


@router.get(
    "/matches",
    **schemas.operation(
        "researchListMatches",
        "Research: matches with their seats and a summary of each seat's steps",
        "A page of match records (as in the exports), in id order, filtered like the exports.",
        ok={200: schemas.ResearchPageOut},
        errors={400: "A bad filter, page or page_size.", **RESEARCH_ONLY,
                404: "The page is past the last one."},
    ),
)  # fmt: skip
def research_matches(
    request: HttpRequest,
    filters: Query[Filters],
    page: Page = Query(1, description="1-based page"),
    page_size: PageSize = Query(DEFAULT_PAGE_SIZE, description="matches per page (1-200)"),
) -> dict[str, Any]:
    parsed = _filters(filters)
    matches = exports.matches_for(parsed)
    count = matches.count()
    pages = max(1, -(-count // page_size))
    if page > pages:
        raise ApiError(
            404, f"page {page} is past the last page ({pages}); {count} matches match these filters"
        )
    window = matches[(page - 1) * page_size : page * page_size]
    builder = exports.RecordBuilder(analytics=False)
    records = [] if not count else builder.build(list(window.values_list(*exports.MATCH_COLUMNS)))
    for record in records:
        for seat in record["seats"]:
            seat["steps"] = _steps_summary(seat.pop("steps"))
            seat.pop("model_calls")
            for key in ("bits_total", "redundant_tests"):  # analytics: in the steps endpoint
                seat.pop(key)
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "pages": pages,
        "schema_version": exports.SCHEMA_VERSION,
        "filters": parsed.as_dict(),
        "matches": records,
    }


@router.get(
    "/matches/{int:match_id}/steps",
    **schemas.operation(
        "researchMatchSteps",
        "Research: one match in full, with every step's analytics and every model call",
        "The match's record as in the exports: every seat's steps (with per-step analytics unless "
        "`analytics=0`) and every model call.",
        ok={200: schemas.ResearchMatchOut},
        errors={400: "A bad analytics flag.", **RESEARCH_ONLY, 404: "No such match."},
    ),
)
def research_match_steps(
    request: HttpRequest,
    match_id: int,
    analytics: str = Query("1", description="1 (default) or 0: per-step analytics"),
) -> dict[str, Any]:
    rows = (
        list(Match.objects.filter(pk=match_id).values_list(*exports.MATCH_COLUMNS))
        if match_id <= MAX_DB_ID
        else []
    )
    if not rows:
        raise ApiError(404, f"no match {match_id}")
    (record,) = exports.RecordBuilder(analytics=_analytics(analytics)).build(rows)
    return {"schema_version": exports.SCHEMA_VERSION, "match": record}


@router.get(
    "/export",
    **schemas.operation(
        "researchExport",
        "Research: a whole export as a zip (JSON Lines, CSV or Parquet)",
        "The same zip as the export page and `manage.py export`: matches, seats, steps and model "
        "calls, a manifest and SCHEMA.md; streamed from disk.",
        ok={200: None},
        errors={400: "A bad format or filter.", **RESEARCH_ONLY},
    )
    | {"openapi_extra": {"responses": {
        200: {"description": "The export as a zip attachment.",
              "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
        400: {"description": "A bad format or filter."},
        403: {"description": RESEARCH_ONLY[403]},
    }}},
)  # fmt: skip
def research_export(
    request: HttpRequest,
    filters: Query[Filters],
    format: str = Query("", description="jsonl, csv or parquet"),
    analytics: str = Query("1", description="1 (default) or 0: per-step analytics in steps"),
) -> HttpResponse:
    if format not in exports.FORMATS:
        raise ApiError(400, f"format must be one of {', '.join(exports.FORMATS)}, got {format!r}")
    return zip_response(
        fmt=format, filters=_filters(filters), analytics=_analytics(analytics), request=request
    )

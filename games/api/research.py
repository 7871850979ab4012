"""Read-only research endpoints for tokens with ``can_read_research``: matches with filters and
pagination, one match's full steps (with analytics and model calls), and whole exports as zips.

The same records as the exports (games/research/exports.py): the same pseudonyms, and the hidden rule
only for matches that are over."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from games.api.views import MAX_DB_ID, ApiError, api_endpoint
from games.models import AgentToken, Match
from games.play import inputs
from games.research import exports
from games.research.downloads import zip_response

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 10**9


def _require_research(token: AgentToken) -> None:
    if not token.can_read_research:
        raise ApiError(
            403,
            "this token may not read research data; an admin makes a research token with "
            "`python manage.py create_agent_token NAME --research`",
        )


def _filters(request: HttpRequest) -> exports.ExportFilters:
    params = request.GET
    try:
        return exports.ExportFilters.from_query(params)
    except exports.ExportError as exc:
        raise ApiError(400, str(exc)) from None


def _analytics(request: HttpRequest) -> bool:
    raw = request.GET.get("analytics", "1").strip().lower()
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


@api_endpoint("GET")
def research_matches(request: HttpRequest, token: AgentToken) -> JsonResponse:
    _require_research(token)
    filters = _filters(request)
    page = inputs.query_int(request.GET, "page", default=1, minimum=1, maximum=MAX_PAGE)
    page_size = inputs.query_int(
        request.GET, "page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE
    )
    matches = exports.matches_for(filters)
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
    return JsonResponse(
        {
            "count": count,
            "page": page,
            "page_size": page_size,
            "pages": pages,
            "schema_version": exports.SCHEMA_VERSION,
            "filters": filters.as_dict(),
            "matches": records,
        }
    )


@api_endpoint("GET")
def research_match_steps(request: HttpRequest, token: AgentToken, match_id: int) -> JsonResponse:
    _require_research(token)
    rows = (
        list(Match.objects.filter(pk=match_id).values_list(*exports.MATCH_COLUMNS))
        if match_id <= MAX_DB_ID
        else []
    )
    if not rows:
        raise ApiError(404, f"no match {match_id}")
    (record,) = exports.RecordBuilder(analytics=_analytics(request)).build(rows)
    return JsonResponse({"schema_version": exports.SCHEMA_VERSION, "match": record})


@api_endpoint("GET")
def research_export(request: HttpRequest, token: AgentToken) -> HttpResponse:
    _require_research(token)
    fmt = request.GET.get("format", "")
    if fmt not in exports.FORMATS:
        raise ApiError(400, f"format must be one of {', '.join(exports.FORMATS)}, got {fmt!r}")
    return zip_response(fmt=fmt, filters=_filters(request), analytics=_analytics(request))

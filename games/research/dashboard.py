"""Replay pages and the research dashboard. Thin: the data comes from games/research/analytics.py."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from games.engine.core import all_families
from games.models import RatingSnapshot
from games.play import selectors, visibility
from games.play.visibility import Viewer
from games.research import analytics

RESEARCHERS_GROUP = "researchers"


def is_researcher(user: Any) -> bool:
    """Staff, or a member of the ``researchers`` group (the group itself is made elsewhere)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser or user.groups.filter(name=RESEARCHERS_GROUP).exists())


def researcher_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; signed-in non-researchers get a 403 that says why."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_researcher(request.user):
            return render(request, "games/research_forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def replay_page(request: HttpRequest, match_id: int) -> HttpResponse:
    match = selectors.match_get(match_id=match_id)
    if match is None:
        raise Http404("no such match")
    viewer = Viewer.spectator(
        session_key=request.session.session_key,
        user_id=request.user.pk if request.user.is_authenticated else None,
    )
    view = visibility.match_view(match=match, viewer=viewer)
    if not view.sees_instance:
        # Replaying a running race would show a player the rivals' tests; today's daily puzzle,
        # its rule to someone who has not played it yet.
        return render(
            request,
            "games/replay.html",
            {"match": match, "locked": True, "daily": view.embargoed},
            status=403,
        )
    return render(
        request,
        "games/replay.html",
        {"match": match, "locked": False, "replay": analytics.match_replay(match=match)},
    )


def _family_param(request: HttpRequest) -> str | None:
    family = request.GET.get("family") or None
    if family is not None and family not in {f.id for f in all_families()}:
        raise Http404("unknown family")
    return family


@researcher_required
def research_dashboard(request: HttpRequest) -> HttpResponse:
    family = _family_param(request)
    data = analytics.dashboard_data(family=family)
    plots = [
        {
            "slug": plot.slug,
            "title": plot.title,
            "description": plot.description,
            "columns": plot.columns,
            "rows": [[row[c] for c in plot.columns] for row in data["plots"][plot.slug]],
        }
        for plot in analytics.PLOTS.values()
    ]
    return render(
        request,
        "games/research_dashboard.html",
        {
            "data": data,
            "plots": plots,
            "family": family,
            "families": [f.id for f in all_families()],
            "query": f"?family={family}" if family else "",
            "ratings": _ratings_gap(family=family),
        },
    )


def _ratings_gap(*, family: str | None) -> dict[str, Any] | None:
    """The human-model gap per family and tier from the latest fitted ratings (stored by the
    ratings task; nothing is fitted here)."""
    snap = RatingSnapshot.objects.filter(scope=f"family:{family}" if family else "all", period="all").first()
    if snap is None:
        return None
    return {
        "computed_at": snap.computed_at,
        "model_version": snap.model_version,
        "gap": snap.payload.get("gap", []),
        "people": snap.payload.get("people"),
    }


@researcher_required
def research_plot_data(request: HttpRequest, plot: str, fmt: str) -> HttpResponse:
    if plot not in analytics.PLOTS or fmt not in ("csv", "json"):
        raise Http404("unknown plot or format; formats: csv, json")
    family = _family_param(request)
    spec = analytics.PLOTS[plot]
    rows = analytics.plot_rows(plot=plot, measures=analytics.dashboard_measures(family=family))
    filename = f"{plot}{'-' + family if family else ''}.{fmt}"
    if fmt == "json":
        response: HttpResponse = JsonResponse(
            {
                "plot": plot,
                "title": spec.title,
                "description": spec.description,
                "family": family,
                "columns": list(spec.columns),
                "rows": rows,
            }
        )
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=spec.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

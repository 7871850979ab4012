"""Pages. Thin: the live match is driven over the WebSocket (consumers.py)."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from games import selectors, services
from games.handles import new_handle
from games.models import PuzzleVariant


def _handle(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return request.user.get_username()
    if "handle" not in request.session:
        request.session["handle"] = new_handle()
    return request.session["handle"]


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "games/home.html",
        {
            "variants": selectors.published_variants(),
            "matches": selectors.recent_matches(limit=10),
            "handle": _handle(request),
        },
    )


@require_POST
def match_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    variant = get_object_or_404(PuzzleVariant, slug=slug, published=True)
    match = services.match_create(variant=variant)
    services.seat_join(
        match=match, handle=_handle(request), user=request.user, session_key=_session_key(request)
    )
    services.match_start(match=match)
    return redirect("match", match_id=match.pk)


def _match_page(request: HttpRequest, match_id: int, *, spectate: bool) -> HttpResponse:
    match = selectors.match_get(match_id=match_id)
    if match is None:
        raise Http404("no such match")
    seat = None
    if not spectate:
        seat = selectors.seat_for_viewer(
            match=match,
            session_key=request.session.session_key,
            user_id=request.user.pk if request.user.is_authenticated else None,
        )
    return render(
        request,
        "games/match.html",
        {
            "match": match,
            "variant": match.instance.variant,
            "seat": seat,
            "spectate": seat is None,
            "ws_path": f"/ws/matches/{match.pk}/" + ("" if seat else "spectate/"),
            "handle": _handle(request),
        },
    )


def match_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return _match_page(request, match_id, spectate=False)


def spectate_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return _match_page(request, match_id, spectate=True)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})

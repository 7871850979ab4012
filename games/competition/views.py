"""Pages: the leaderboard and tournaments."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from games.accounts.handles import request_handle
from games.competition import leaderboard, tournaments
from games.models import Tournament
from games.play import inputs, selectors


def leaderboard_page(request: HttpRequest) -> HttpResponse:
    """Everyone who has played, ranked: people, models and agents on one board, for one
    puzzle or all of them."""
    variants = selectors.published_variants()
    slug = request.GET.get("variant", "")
    variant = next((v for v in variants if v.slug == slug), None)
    kind = request.GET.get("kind", "")
    error = ""
    if slug and variant is None:
        error = f"There is no published puzzle {slug!r}; showing all puzzles."
    if kind not in ("", *leaderboard.LEADERBOARD_KINDS):
        error = f"Unknown player kind {kind!r}; showing everyone."
        kind = ""
    rows = leaderboard.leaderboard(
        variant=variant,
        kind=kind or None,
        viewer_user_id=request.user.pk if request.user.is_authenticated else None,
        viewer_session_key=request.session.session_key or "",
    )
    return render(
        request,
        "games/leaderboard.html",
        {
            "rows": rows,
            "variants": variants,
            "variant": variant,
            "kind": kind,
            "kinds": leaderboard.LEADERBOARD_KINDS,
            "error": error,
            "handle": request_handle(request),
        },
    )


ROUNDS_PER_PAGE = 100


def tournaments_page(request: HttpRequest) -> HttpResponse:
    rows = [
        {"tournament": t, "progress": tournaments.tournament_progress(tournament=t)}
        for t in tournaments.published_tournaments()
    ]
    return render(request, "games/tournaments.html", {"rows": rows, "handle": request_handle(request)})


def tournament_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Progress, standings and one page of rounds (``?page=N``, ``ROUNDS_PER_PAGE`` each)."""
    tournament = get_object_or_404(Tournament, slug=slug, published=True)
    progress = tournaments.tournament_progress(tournament=tournament)
    pages = max(1, -(-progress.total // ROUNDS_PER_PAGE))
    try:
        page = inputs.query_int(request.GET, "page", default=1, minimum=1, maximum=pages)
    except inputs.InputError as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    return render(
        request,
        "games/tournament.html",
        {
            "tournament": tournament,
            "progress": progress,
            "standings": leaderboard.leaderboard(tournament=tournament),
            "rounds": tournaments.tournament_rounds(
                tournament=tournament, offset=(page - 1) * ROUNDS_PER_PAGE, limit=ROUNDS_PER_PAGE
            ),
            "page": page,
            "pages": pages,
            "first_shown": (page - 1) * ROUNDS_PER_PAGE + 1,
            "last_shown": min(page * ROUNDS_PER_PAGE, progress.total),
            "contestants": tournament.contestants.order_by("name"),
            "variants": tournament.variants.order_by("slug"),
            "handle": request_handle(request),
        },
    )

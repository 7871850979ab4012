"""Pages: the leaderboard and tournaments."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render

from games.accounts.handles import request_handle
from games.competition import challenges, leaderboard, players, rating_snapshots, tournaments
from games.models import PuzzleVariant, RuleChallenge, Tournament
from games.play import inputs, limits, selectors, services


def leaderboard_page(request: HttpRequest) -> HttpResponse:
    """Everyone who has played, ranked: on the fitted ratings (ability with its interval, from the
    latest snapshot the ratings task stored), then by points; for one puzzle, one family or all,
    over a period, for one kind of player or all."""
    variants = selectors.published_variants()
    slug = request.GET.get("variant", "")
    variant = next((v for v in variants if v.slug == slug), None)
    kind = request.GET.get("kind", "")
    families = sorted({v.family for v in variants})
    family = request.GET.get("family", "")
    period = request.GET.get("period", "all")
    errors = []
    if slug and variant is None:
        errors.append(f"There is no published puzzle {slug!r}; showing all puzzles.")
    if kind not in ("", *leaderboard.LEADERBOARD_KINDS):
        errors.append(f"Unknown player kind {kind!r}; showing everyone.")
        kind = ""
    if family and family not in families:
        errors.append(f"Unknown family {family!r}; allowed: {', '.join(families)}. Showing all families.")
        family = ""
    if period not in rating_snapshots.PERIODS:
        errors.append(
            f"Unknown period {period!r}; allowed: {', '.join(rating_snapshots.PERIODS)}. Showing all time."
        )
        period = "all"
    viewer_key = rating_snapshots.viewer_player_key(
        user_id=request.user.pk if request.user.is_authenticated else None,
        session_key=request.session.session_key or "",
    )
    board = rating_snapshots.ratings_board(
        family=family if variant is None else "",
        variant=variant.slug if variant else "",
        period=period,
        kind=kind,
        viewer_key=viewer_key,
    )
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
            "families": families,
            "family": family,
            "periods": {"all": "All time", "30d": "Last 30 days", "7d": "Last 7 days"},
            "period": period,
            "board": board,
            "rating_rows": rating_snapshots.board_rows(board) if board else [],
            "plot": _ratings_plot(board) if board else None,
            "error": " ".join(errors),
            "handle": request_handle(request),
        },
    )


def _ratings_plot(board: dict) -> dict:
    """What static/arena/ratings.js draws: abilities with intervals, and solve rate against
    difficulty per kind of player."""
    return {
        "abilities": [
            {k: p[k] for k in ("name", "kind", "ability", "low", "high", "provisional")}
            for p in rating_snapshots.board_rows(board)
        ][:60],
        "calibration": board["calibration"],
    }


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


def player_page(request: HttpRequest, key: str) -> HttpResponse:
    """An account's, a model's or an agent's page. A guest's key is no address (guests see their
    own page at /me/)."""
    viewer_key = rating_snapshots.viewer_player_key(
        user_id=request.user.pk if request.user.is_authenticated else None,
        session_key=request.session.session_key or "",
    )
    if key == viewer_key and key.startswith("guest-"):
        return redirect("me")
    seats = players.seats_for_key(key)
    if seats is None or not seats.exists():
        raise Http404("no such player; a guest's page is at /me/ for the guest alone")
    data = players.player_page_data(key=key, seats=seats, own=key == viewer_key)
    return _player_render(request, data, own=key == viewer_key)


def me_page(request: HttpRequest) -> HttpResponse:
    """The viewer's own page: an account's, or a guest's (by their session)."""
    handle = request_handle(request)
    if request.user.is_authenticated:
        key = f"user-{request.user.pk}"
        seats = players.seats_for_key(key)
    else:
        if not request.session.session_key:
            request.session.save()
        session_key = request.session.session_key or ""
        key = rating_snapshots.guest_key(session_key)
        seats = players.seats_for_guest(session_key)
    assert seats is not None
    data = players.player_page_data(key=key, seats=seats, own=True)
    if not request.user.is_authenticated:
        data["name"] = handle
    return _player_render(request, data, own=True)


def _player_render(request: HttpRequest, data: dict, *, own: bool) -> HttpResponse:
    plot = {"history": data["history"]} if data["history"] else None
    return render(
        request,
        "games/player.html",
        {"p": data, "own": own, "plot": plot, "handle": request_handle(request)},
    )


# -- rule challenges ------------------------------------------------------------------------------


def rule_challenges_page(request: HttpRequest) -> HttpResponse:
    """Published rule challenges, and (signed in) the form to write one."""
    error, column, status = "", None, 200
    form = {"base": "", "title": "", "rule": ""}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        base = PuzzleVariant.objects.filter(slug=form["base"], published=True).first()
        try:
            if base is None:
                raise challenges.ChallengeRefused("pick a puzzle from the list")
            made = challenges.challenge_create(
                author=request.user, base=base, rule=form["rule"], title=form["title"]
            )
            return redirect("rule_challenge", challenge_id=made.pk)
        except challenges.ChallengeRefused as exc:
            error, column = exc.message, exc.column
            status = 429 if isinstance(exc, challenges.ChallengeLimit) else 400
    return render(
        request,
        "games/rule_challenges.html",
        {
            "challenges": challenges.challenges_published(),
            "bases": challenges.bases_for_challenges() if request.user.is_authenticated else [],
            "per_day": challenges.per_day(),
            "form": form,
            "error": error,
            "column": column,
        },
        status=status,
    )


def rule_challenge_page(request: HttpRequest, challenge_id: int) -> HttpResponse:
    challenge = get_object_or_404(RuleChallenge.objects.select_related("base", "author"), pk=challenge_id)
    is_author = request.user.is_authenticated and request.user.pk == challenge.author_id
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                challenges.challenge_remove(
                    challenge=challenge, by=request.user, reason=request.POST.get("reason", "")
                )
                return redirect("rule_challenge", challenge_id=challenge.pk)
            if not request.session.session_key:
                request.session.save()
            match = challenges.challenge_play(
                challenge=challenge,
                handle=request_handle(request),
                user=request.user,
                session_key=request.session.session_key,
                creator=limits.creator_for_request(request, session_key=request.session.session_key),
            )
            return redirect("match", match_id=match.pk)
        except services.ActionError as exc:
            error = exc.message
    return render(
        request,
        "games/rule_challenge.html",
        {
            "challenge": challenge,
            "is_author": is_author,
            # the rule itself: its author (and staff) only; players see it at their own reveal
            "shows_rule": is_author or request.user.is_staff,
            "results": challenges.challenge_results(challenge=challenge),
            "error": error,
        },
        status=400 if error else 200,
    )

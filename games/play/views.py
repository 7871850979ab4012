"""Pages. Thin: the live match is driven over the WebSocket (consumers.py)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from games.accounts import services as accounts
from games.accounts.handles import request_handle
from games.models import ModelContestant, PuzzleVariant, Seat, StudyEntry
from games.play import daily, limits, selectors, services, visibility
from games.play.visibility import Viewer


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def _creator(request: HttpRequest) -> limits.Creator:
    """Who is asking, for the fair-play caps: the account, or else the guest's session, and the
    client address."""
    return limits.creator_for_request(request, session_key=_session_key(request))


def home(request: HttpRequest, *, error: str = "", status: int = 400) -> HttpResponse:
    puzzles = selectors.home_puzzles()
    return render(
        request,
        "games/home.html",
        {
            "variants": puzzles["variants"],
            "puzzles": puzzles,
            "guide_done": _guide_done(request),
            "contestants": ModelContestant.objects.filter(enabled=True),
            "matches": selectors.recent_matches(limit=10),
            "streak": selectors.daily_streak(
                user_id=request.user.pk if request.user.is_authenticated else None,
                session_key=request.session.session_key or "",
            ),
            "handle": request_handle(request),
            "error": error,
        },
        status=status if error else 200,
    )


def _guide_done(request: HttpRequest) -> bool:
    """Has this visitor finished or skipped the guided first puzzle? An account remembers it; a
    guest's session does (and the browser's local storage, read by the page)."""
    return bool(request.session.get("guide_done")) or accounts.guide_done(user=request.user)


@require_POST
def learn_start_view(request: HttpRequest) -> HttpResponse:
    """The guided first puzzle ("Learn in one minute"): a solo, unranked match on the tutorial
    variant; the match page shows a hint at each step."""
    variant = selectors.tutorial_variant()
    if variant is None:
        raise Http404("the guided puzzle is not published")
    return _person_plays(request, variant=variant, opponents=[], ranked=False)


@require_POST
def learn_done_view(request: HttpRequest) -> HttpResponse:
    """The guide was finished or skipped: remember it (the account's flag, or the guest's session).
    A page's fetch gets 204; the skip form goes home."""
    request.session["guide_done"] = True
    if request.user.is_authenticated:
        accounts.guide_mark_done(user=request.user)
    if request.POST.get("then") == "home":
        return redirect("home")
    return HttpResponse(status=204)


@require_POST
def race_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A person races model contestants on the same instance; everyone starts now."""
    variant = get_object_or_404(PuzzleVariant, slug=slug, published=True)
    opponents = [o for o in request.POST.getlist("opponents") if o]
    if not opponents:
        return _home_error(request, "Pick at least one model to race against.")
    return _person_plays(request, variant=variant, opponents=opponents)


def _person_plays(
    request: HttpRequest,
    *,
    variant: PuzzleVariant,
    opponents: list[str],
    seed: int | None = None,
    ranked: bool = True,
    daily: dt.date | None = None,
) -> HttpResponse:
    """The visitor's match against ``opponents`` (none: solo), started now; its page."""
    try:
        match, _ = services.race_create(
            variant=variant,
            opponents=opponents,
            seed=seed,
            ranked=ranked,
            daily=daily,
            human_handle=request_handle(request),
            user=request.user,
            session_key=_session_key(request),
            creator=_creator(request),
        )
        services.match_start(match=match)
    except services.ActionError as exc:
        return _home_error(request, exc)
    return redirect("match", match_id=match.pk)


@require_POST
def models_race_view(request: HttpRequest) -> HttpResponse:
    """A race between models only; the visitor watches it."""
    variant = get_object_or_404(PuzzleVariant, slug=request.POST.get("variant", ""), published=True)
    opponents = [o for o in request.POST.getlist("opponents") if o]
    if len(opponents) < 1:
        return _home_error(request, "Pick at least one model to watch.")
    try:
        match, _ = services.race_create(variant=variant, opponents=opponents, creator=_creator(request))
    except services.ActionError as exc:
        return _home_error(request, exc)
    return redirect("spectate", match_id=match.pk)


def _home_error(request: HttpRequest, problem: str | services.ActionError) -> HttpResponse:
    if isinstance(problem, services.CapReached):
        response = home(request, error=problem.message, status=429)
        if problem.retry_after_s:
            response["Retry-After"] = str(problem.retry_after_s)
        return response
    return home(request, error=problem if isinstance(problem, str) else problem.message)


def trace_page(request: HttpRequest, match_id: int, seat_id: int) -> HttpResponse:
    """Every model call of one seat: prompts, replies, reasoning, errors. Only after the end,
    so nobody can read a rival's tests during the race."""
    match = selectors.match_get(match_id=match_id)
    seat = get_object_or_404(Seat, pk=seat_id, match_id=match_id) if match else None
    if match is None or seat is None:
        raise Http404("no such match or seat")
    viewer = Viewer.spectator(
        session_key=request.session.session_key,
        user_id=request.user.pk if request.user.is_authenticated else None,
    )
    view = visibility.match_view(match=match, viewer=viewer)
    if not view.sees_instance:
        context = {"match": match, "seat": seat, "locked": True, "daily": view.embargoed}
        return render(request, "games/trace.html", context, status=403)
    return render(
        request,
        "games/trace.html",
        {"match": match, "seat": seat, "calls": selectors.seat_model_calls(seat=seat), "locked": False},
    )


@require_POST
def match_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    variant = get_object_or_404(PuzzleVariant, slug=slug, published=True)
    return _person_plays(request, variant=variant, opponents=[])  # no opponents: a solo match


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
    # A study's puzzle: its player goes on with the study at the end, not to the rest of the site.
    study = None
    if seat is not None:
        entry = StudyEntry.objects.filter(match=match).select_related("participant__study").first()
        study = entry.participant.study if entry else None
    host = services.lobby_host(match=match) if match.mode == match.Mode.RACE else None
    guide = match.instance.variant.slug in selectors.tutorial_slugs() and seat is not None
    return render(
        request,
        "games/match.html",
        {
            "match": match,
            "lobby": match.status == match.Status.WAITING and match.mode == match.Mode.RACE,
            "guide": guide,
            "is_host": seat is not None and host is not None and seat.pk == host.pk,
            "variant": match.instance.variant,
            "seat": seat,
            "study": study,
            "spectate": seat is None,
            "ws_path": f"/ws/matches/{match.pk}/" + ("" if seat else "spectate/"),
            "handle": request_handle(request),
        },
    )


def match_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return _match_page(request, match_id, spectate=False)


def spectate_page(request: HttpRequest, match_id: int) -> HttpResponse:
    return _match_page(request, match_id, spectate=True)


@require_POST
def daily_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Today's instance of a variant: the same for everyone; a second visit returns to one's own
    match."""
    variant = get_object_or_404(PuzzleVariant, slug=slug, published=True)
    day = daily.daily_day()
    mine = daily.daily_match_for_visitor(
        variant=variant,
        day=day,
        session_key=_session_key(request),
        user_id=request.user.pk if request.user.is_authenticated else None,
    )
    if mine is not None:
        return redirect("match", match_id=mine.pk)
    daily.daily_models_ensure(variant=variant, day=day)  # the models play the day's puzzle too
    seed = daily.daily_seed(variant=variant, day=day)
    return _person_plays(request, variant=variant, opponents=[], seed=seed, ranked=False, daily=day)


def challenge_page(request: HttpRequest, match_id: int) -> HttpResponse:
    """A friend's invitation to the same puzzle instance as a match: GET says who invites and to
    which puzzle (nothing of the match itself: the visibility function decides, and a stranger
    sees no rival's tests, guess or score before the end); POST starts the friend's own match on
    that instance. Unranked: the instance's rule may already be public in the first match's
    reveal."""
    match = selectors.match_get(match_id=match_id)
    if match is None or match.playtest or StudyEntry.objects.filter(match=match).exists():
        raise Http404("no such match")  # a study's puzzle is the participant's alone
    if request.method == "POST":
        if match.daily is not None and match.daily >= visibility.utc_today():
            # Today's daily puzzle: the friend plays it as their own daily (a match on its instance
            # that was not a daily match would be listed and revealed to all once over).
            return daily_start_view(request, match.instance.variant.slug)
        return _person_plays(
            request, variant=match.instance.variant, opponents=[], seed=match.instance.seed, ranked=False
        )
    hosts = [s.handle for s in match.seats.all() if s.kind == Seat.Kind.HUMAN]
    return render(
        request,
        "games/challenge.html",
        {
            "match": match,
            "variant": match.instance.variant,
            "hosts": hosts,
            "handle": request_handle(request),
        },
    )


@require_POST
def lobby_create_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A race with friends: the visitor hosts it (with any models picked); friends join from the
    invite link on the match page; nobody plays until the host starts it."""
    variant = get_object_or_404(PuzzleVariant, slug=slug, published=True)
    try:
        match, _ = services.lobby_create(
            variant=variant,
            opponents=[o for o in request.POST.getlist("opponents") if o],
            host_handle=request_handle(request),
            user=request.user,
            session_key=_session_key(request),
            creator=_creator(request),
        )
    except services.ActionError as exc:
        return _home_error(request, exc)
    return redirect("match", match_id=match.pk)


def lobby_join_page(request: HttpRequest, match_id: int) -> HttpResponse:
    """The invite link: GET says who is racing on which puzzle (no moves: nobody has made one
    yet); POST takes a seat. Someone already seated goes straight to the match."""
    match = selectors.match_get(match_id=match_id)
    if match is None or match.playtest:
        raise Http404("no such match")
    user_id = request.user.pk if request.user.is_authenticated else None
    seated = selectors.seat_for_viewer(match=match, session_key=_session_key(request), user_id=user_id)
    if seated is not None:
        return redirect("match", match_id=match.pk)
    error = ""
    if request.method == "POST":
        try:
            services.lobby_join(
                match=match,
                handle=request_handle(request),
                user=request.user,
                session_key=_session_key(request),
            )
        except services.ActionError as exc:
            error = exc.message
        else:
            return redirect("match", match_id=match.pk)
    host = services.lobby_host(match=match)
    return render(
        request,
        "games/lobby_join.html",
        {
            "match": match,
            "variant": match.instance.variant,
            "host": host.handle if host else "",
            "seats": list(match.seats.order_by("pk")),
            "open": match.status == match.Status.WAITING and match.mode == match.Mode.RACE,
            "error": error,
            "handle": request_handle(request),
        },
        status=409 if error else 200,
    )


@require_POST
def lobby_start_view(request: HttpRequest, match_id: int) -> HttpResponse:
    """The host starts the race for everyone in the lobby."""
    match = selectors.match_get(match_id=match_id)
    if match is None:
        raise Http404("no such match")
    seat = selectors.seat_for_viewer(
        match=match,
        session_key=request.session.session_key,
        user_id=request.user.pk if request.user.is_authenticated else None,
    )
    try:
        services.lobby_start(match=match, by=seat)
    except services.ActionError as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain; charset=utf-8")
    return redirect("match", match_id=match.pk)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})

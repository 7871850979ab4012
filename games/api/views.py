"""The HTTP agent API: JSON in, JSON out, for external agents and scripts.

Views are thin: check the method, the token and the rate, parse the body, call one service
or selector, shape the reply. Every error is ``{"error": "<what was wrong and what is
allowed>"}`` with its status code; bad input never becomes a 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from games.api import auth
from games.api.openapi import docs_operations, openapi_document
from games.competition import leaderboard as leaderboard_
from games.engine.core import get_family
from games.models import AgentToken, Match, ModelContestant, PuzzleVariant, Seat, Step
from games.play import inputs, limits, selectors, services
from games.play.visibility import Viewer

logger = logging.getLogger(__name__)

MAX_OPPONENTS = 8
MAX_DB_ID = 2**63 - 1
MAX_SEED = services.MAX_SEED
CREATE_FIELDS = {"variant", "seed", "opponents"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


View = Callable[..., HttpResponse]


def api_endpoint(*methods: str) -> Callable[[View], View]:
    """Method check (405), bearer token (401), per-token rate limit (429), ApiError -> JSON.
    Token auth replaces cookies here, so there is no CSRF to check."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error(405, f"{request.method} is not allowed here; allowed: {', '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            token = auth.agent_token_for_header(request.headers.get("Authorization"))
            if token is None:
                message = (
                    "missing or invalid API token; send 'Authorization: Bearer <token>' "
                    "(an admin makes one with `python manage.py create_agent_token NAME`)"
                )
                response = error(401, message)
                response["WWW-Authenticate"] = 'Bearer realm="arena"'
                return response
            rate = auth.rate_limit_hit(token=token)
            if not rate.allowed:
                response = error(
                    429,
                    f"rate limit: at most {rate.limit} requests in any 60 seconds per token; "
                    f"retry after {rate.retry_after_s} s",
                    retry_after=rate.retry_after_s,
                )
                response["Retry-After"] = str(rate.retry_after_s)
            else:
                try:
                    response = view(request, token, *args, **kwargs)
                except ApiError as exc:
                    response = error(exc.status, exc.message, **exc.extra)
                    if exc.extra.get("retry_after"):
                        response["Retry-After"] = str(exc.extra["retry_after"])
                except inputs.InputError as exc:
                    response = error(exc.status, exc.message)
                except Exception:  # ours, not the client's: log it, and still answer in JSON
                    logger.exception(
                        "agent API %s %s failed (token %s)", request.method, request.path, token.pk
                    )
                    response = error(
                        500,
                        "internal error; it has been logged. Retrying with the same Idempotency-Key is safe",
                    )
            if rate.limit:
                response["X-RateLimit-Limit"] = str(rate.limit)
                response["X-RateLimit-Remaining"] = str(rate.remaining)
            return response

        return wrapper

    return decorate


# -- parsing -----------------------------------------------------------------------------------------


def _json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, through the one parser with limits (games.play.inputs): at most
    ``MAX_JSON_BYTES`` and ``MAX_JSON_DEPTH`` levels, else a 413 or a 400 saying so."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isascii() and declared.isdigit() and int(declared) > inputs.MAX_JSON_BYTES:
        raise ApiError(
            413, f"the request body is too large: {int(declared):,} bytes (at most {inputs.MAX_JSON_BYTES:,})"
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(
            413, f"the request body is too large (at most {inputs.MAX_JSON_BYTES:,} bytes)"
        ) from None
    if not raw.strip():
        raise ApiError(400, "the request body is empty; send a JSON object")
    data = inputs.parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(data).__name__}")
    return data


def _create_params(data: dict[str, Any]) -> tuple[str, int | None, list[str]]:
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise ApiError(
            400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(CREATE_FIELDS))}"
        )
    variant = data.get("variant")
    if not isinstance(variant, str) or not variant:
        raise ApiError(400, '"variant" is required: the slug of a published variant (GET /api/v1/variants)')
    seed = data.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise ApiError(
            400, f'"seed" must be a whole number from 0 to {MAX_SEED}, or left out for a random one'
        )
    opponents = data.get("opponents", [])
    if opponents is None:
        opponents = []
    if not isinstance(opponents, list) or not all(isinstance(o, str) and o for o in opponents):
        raise ApiError(400, '"opponents" must be a list of contestant slugs (GET /api/v1/contestants)')
    if len(opponents) > MAX_OPPONENTS:
        raise ApiError(400, f"at most {MAX_OPPONENTS} opponents, got {len(opponents)}")
    return variant, seed, opponents


def _action_params(request: HttpRequest, data: dict[str, Any]) -> tuple[dict[str, Any], str, int | None]:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        key = data.get("id", "")
        if not isinstance(key, str):
            raise ApiError(400, '"id" (the move\'s idempotency key) must be a string')
    think_ms = data.get("think_ms")
    if think_ms is not None and (isinstance(think_ms, bool) or not isinstance(think_ms, int)):
        raise ApiError(400, '"think_ms" must be a whole number of milliseconds')
    action = {k: v for k, v in data.items() if k not in {"id", "think_ms"}}
    return action, key, think_ms


# -- shaping ---------------------------------------------------------------------------------------


def _observation(seat: Seat) -> dict[str, Any]:
    observation = selectors.seat_observation(seat=seat)
    instance = seat.match.instance
    observation["description"] = selectors.family_for(instance=instance).describe(instance.public)
    return observation


def _step_reply(outcome: services.StepOutcome) -> JsonResponse:
    step, seat, match = outcome.step, outcome.seat, outcome.match
    if step.kind == Step.Kind.TEST:
        response = JsonResponse({"result": step.result.get("result"), "observation": _observation(seat)})
    elif step.kind == Step.Kind.GUESS:
        verdict = step.result.get("verdict") or {}
        response = JsonResponse(
            {
                "correct": bool(verdict.get("correct")),
                "counterexample": verdict.get("counterexample"),
                "hidden_answer": verdict.get("hidden_answer"),
                "guess_answer": verdict.get("guess_answer"),
                "agreement": verdict.get("agreement"),
                "score": step.result.get("score"),
                "finished": True,
                "match_status": match.status,
            }
        )
    elif step.kind == Step.Kind.TIMEOUT:
        response = error(
            409,
            "the time limit ran out before this move; your seat has ended",
            finished=True,
            score=seat.score,
            match_status=match.status,
        )
    else:  # a forfeit ends the seat
        response = JsonResponse(
            {"forfeited": True, "finished": True, "score": seat.score, "match_status": match.status}
        )
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _variant_row(variant: PuzzleVariant) -> dict[str, Any]:
    # Only budgets leave the server: a variant's params may hold a hand-written hidden rule.
    params = get_family(variant.family).validate_params(variant.params)
    return {
        "slug": variant.slug,
        "family": variant.family,
        "title": variant.title,
        "description": variant.description,
        "budgets": {"max_tests": params.get("max_tests"), "time_limit_s": None},
    }


# -- endpoints -------------------------------------------------------------------------------------


@api_endpoint("GET")
def variants(request: HttpRequest, token: AgentToken) -> JsonResponse:
    return JsonResponse({"variants": [_variant_row(v) for v in selectors.published_variants()]})


@api_endpoint("GET")
def contestants(request: HttpRequest, token: AgentToken) -> JsonResponse:
    rows = ModelContestant.objects.filter(enabled=True).order_by("slug").values("slug", "name", "backend")
    return JsonResponse({"contestants": list(rows)})


@api_endpoint("GET")
def leaderboard(request: HttpRequest, token: AgentToken) -> JsonResponse:
    slug, kind = request.GET.get("variant", ""), request.GET.get("kind", "")
    variant = None
    if slug:
        variant = next((v for v in selectors.published_variants() if v.slug == slug), None)
        if variant is None:
            raise ApiError(404, f"no published variant {slug!r}; GET /api/v1/variants lists them")
    if kind and kind not in leaderboard_.LEADERBOARD_KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(leaderboard_.LEADERBOARD_KINDS)}; got {kind!r}")
    limit = inputs.query_int(request.GET, "limit", default=100, minimum=1, maximum=1000)
    rows = leaderboard_.leaderboard(variant=variant, kind=kind or None, limit=limit)
    for row in rows:
        del row["you"]  # the browser page marks the viewer; a token is nobody's seat here
    return JsonResponse({"variant": slug or None, "kind": kind or None, "players": rows})


@api_endpoint("POST")
def matches(request: HttpRequest, token: AgentToken) -> JsonResponse:
    slug, seed, opponents = _create_params(_json_object(request))
    variant = PuzzleVariant.objects.filter(slug=slug, published=True).first()
    if variant is None:
        raise ApiError(404, f"no published variant {slug!r}; see GET /api/v1/variants")
    enabled = set(ModelContestant.objects.filter(enabled=True).values_list("slug", flat=True))
    unknown = [o for o in opponents if o not in enabled]
    if unknown:
        raise ApiError(
            404,
            f"unknown or disabled contestant(s) {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(sorted(enabled)) or 'none'}",
        )
    try:
        # One transaction: the models' first turns are queued on commit, so they start
        # when the agent's seat exists and the match is running, not before.
        with transaction.atomic():
            match, seat = services.race_create(
                variant=variant,
                opponents=opponents,
                seed=seed,
                human_handle=token.name,
                kind=Seat.Kind.AGENT,
                agent_token=token,
                ranked=seed is None,  # a chosen seed plus the public engine could give away the rule
                creator=limits.creator_for_request(request, token=token),
            )
            match = services.match_start(match=match)
    except services.CapReached as exc:
        extra = {} if exc.retry_after_s is None else {"retry_after": exc.retry_after_s}
        raise ApiError(429, exc.message, **extra) from None
    except services.ActionError as exc:
        raise ApiError(400, exc.message) from None
    assert seat is not None
    seat.match = match
    return JsonResponse(
        {
            "match": match.pk,
            "seat": seat.pk,
            "status": match.status,
            "mode": match.mode,
            "ranked": match.ranked,
            "observation": _observation(seat),
        },
        status=201,
    )


@api_endpoint("GET")
def match_detail(request: HttpRequest, token: AgentToken, match_id: int) -> JsonResponse:
    match = selectors.match_get(match_id=match_id) if match_id <= MAX_DB_ID else None
    if match is None:
        raise ApiError(404, f"no match {match_id}")
    own = next((s.pk for s in match.seats.all() if s.agent_token_id == token.pk), None)
    # A research token is no exception: while a match runs it sees progress only, like anyone
    # without a seat (games.play.visibility); everything once the match is over.
    viewer = (
        Viewer.player(own)
        if own is not None
        else Viewer.researcher()
        if token.can_read_research
        else Viewer()
    )
    state = selectors.match_public_state(match=match, viewer=viewer)
    seats = state["seats"]
    reveal = state["reveal"]
    body = {
        "match": match.pk,
        "status": state["status"],
        "mode": state["mode"],
        "variant": state["variant"],
        "max_tests": state["max_tests"],
        "time_limit_s": state["time_limit_s"],
        "created": state["created"],
        "started": state["started"],
        "finished": state["finished"],
        "public": state["public"],
        "description": state["description"],
        "presentation": state["presentation"],
        "you": own,
        "seats": seats,
    }
    if reveal is not None:
        body["rule"] = reveal["rule"]
        body["reveal"] = reveal
    return JsonResponse(body)


@api_endpoint("POST")
def seat_actions(request: HttpRequest, token: AgentToken, seat_id: int) -> JsonResponse:
    seat = (
        Seat.objects.select_related("match__instance__variant").filter(pk=seat_id).first()
        if seat_id <= MAX_DB_ID
        else None
    )
    if seat is None:
        raise ApiError(404, f"no seat {seat_id}")
    if seat.agent_token_id != token.pk:
        raise ApiError(403, f"seat {seat_id} is not yours; act only on seats your token created")
    action, key, think_ms = _action_params(request, _json_object(request))
    try:
        outcome = services.step_submit(
            seat=seat, action=action, idempotency_key=key, client_think_ms=think_ms
        )
    except services.ActionError as exc:
        seat.refresh_from_db(fields=["status"])
        match_status = Match.objects.values_list("status", flat=True).get(pk=seat.match_id)
        over = seat.is_done or match_status != Match.Status.RUNNING
        extra = {} if exc.column is None else {"column": exc.column}
        raise ApiError(409 if over else 400, exc.message, **extra) from None
    return _step_reply(outcome)


# -- description ---------------------------------------------------------------------------------


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())


def docs(request: HttpRequest) -> HttpResponse:
    document = openapi_document()
    return render(request, "api/docs.html", {"doc": document, "operations": docs_operations(document)})


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return error(404, f"no such endpoint: {request.method} {request.path}; see /api/docs")

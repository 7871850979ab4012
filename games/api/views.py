"""The HTTP agent API: JSON in, JSON out, for external agents and scripts.

Endpoints are thin: ninja has checked the token, the rate and the body (games/api/app.py,
schemas.py); each calls one service or selector and shapes the reply. Every error is
``{"error": "<what was wrong and what is allowed>"}`` with its status code."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router, Status

from games.api import schemas
from games.api.errors import ApiError
from games.competition import leaderboard as leaderboard_
from games.engine.core import get_family
from games.models import AgentToken, Match, ModelContestant, PuzzleVariant, Seat, Step
from games.play import limits, selectors, services
from games.play.visibility import Viewer

router = Router()

MAX_DB_ID = 2**63 - 1
LeaderboardLimit = schemas.query_int("limit", default=100, minimum=1, maximum=1000)

EXAMPLE_FAMILY, EXAMPLE_VARIANTS = schemas.example_variants()
EXAMPLE_PUBLIC = {"family": EXAMPLE_FAMILY.id, "max_tests": 30, "examples": []}
OBSERVATION_EXAMPLE = {
    "seat": {"id": 12, "handle": "my-agent", "kind": "agent", "status": "playing", "tests_used": 0,
             "tests_left": 30, "outcome": None, "score": None},
    "public": EXAMPLE_PUBLIC,
    "history": [],
    "tests_left": 30,
    "text": EXAMPLE_FAMILY.render_observation(EXAMPLE_PUBLIC, [], 30),
    "quiz_items": [],
    "description": "(the family's description of the puzzle)",
    "presentation": EXAMPLE_FAMILY.shown.to_dict(),
}  # fmt: skip


def _token(request: HttpRequest) -> AgentToken:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _observation(seat: Seat) -> dict[str, Any]:
    observation = selectors.seat_observation(seat=seat)
    instance = seat.match.instance
    observation["description"] = selectors.family_for(instance=instance).describe(instance.public)
    return observation


def _step_reply(outcome: services.StepOutcome, response: HttpResponse) -> dict[str, Any]:
    step, seat, match = outcome.step, outcome.seat, outcome.match
    if step.kind == Step.Kind.TIMEOUT:
        raise ApiError(
            409,
            "the time limit ran out before this move; your seat has ended",
            finished=True,
            score=seat.score,
            match_status=match.status,
        )
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    if step.kind == Step.Kind.TEST:
        reply = {
            "result": step.result.get("result"),
            "hypothesis": step.hypothesis,
            "observation": _observation(seat),
        }
        if seat.is_done:  # a family with no guess: the test that spent the budget ended the seat
            reply.update(finished=True, score=seat.score, match_status=match.status)
        return reply
    if step.kind == Step.Kind.GUESS:
        verdict = step.result.get("verdict") or {}
        return {
            "correct": bool(verdict.get("correct")),
            "counterexample": verdict.get("counterexample"),
            "hidden_answer": verdict.get("hidden_answer"),
            "guess_answer": verdict.get("guess_answer"),
            "agreement": verdict.get("agreement"),
            "score": step.result.get("score"),
            "finished": seat.is_done,
            **({"attempts_left": step.result["attempts_left"]} if "attempts_left" in step.result else {}),
            "match_status": match.status,
        }
    # a forfeit ends the seat
    return {"forfeited": True, "finished": True, "score": seat.score, "match_status": match.status}


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


@router.get(
    "/variants",
    **schemas.operation(
        "listVariants",
        "Published puzzle variants",
        "What there is to play: each variant's slug (for POST /api/v1/matches), family, title and budgets.",
        ok={200: schemas.VariantsOut},
        response_example={"variants": [{"slug": v.slug, "family": EXAMPLE_FAMILY.id, "title": v.title,
                                         "description": v.description,
                                         "budgets": {"max_tests": 30, "time_limit_s": None}}
                                        for v in EXAMPLE_VARIANTS[:1]]},
    ),
)  # fmt: skip
def variants(request: HttpRequest) -> dict[str, Any]:
    return {"variants": [_variant_row(v) for v in selectors.published_variants()]}


@router.get(
    "/contestants",
    **schemas.operation(
        "listContestants",
        "Enabled model contestants",
        "Whom you can race: pass their slugs as `opponents` when creating a match.",
        ok={200: schemas.ContestantsOut},
        response_example={
            "contestants": [{"slug": "infogain", "name": "Info-gain solver", "backend": "builtin"}]
        },
    ),
)
def contestants(request: HttpRequest) -> dict[str, Any]:
    rows = ModelContestant.objects.filter(enabled=True).order_by("slug").values("slug", "name", "backend")
    return {"contestants": list(rows)}


@router.get(
    "/leaderboard",
    **schemas.operation(
        "getLeaderboard",
        "Players ranked",
        "People, models and agents ranked by mean points per finished match (a solve scores 50-100, "
        "more for fewer tests; a miss scores 0), then by solves. Guests appear by their pseudonymous "
        "handle. Aborted matches do not count.",
        ok={200: schemas.LeaderboardOut},
        errors={400: "A bad kind or limit.", 404: "No such published variant."},
    ),
)
def leaderboard(
    request: HttpRequest,
    variant: str = Query("", description="only this published variant (slug)"),
    kind: str = Query("", description="only this kind of player: human, model or agent"),
    limit: LeaderboardLimit = Query(100, description="at most this many rows (1-1000, default 100)"),
) -> dict[str, Any]:
    found = None
    if variant:
        found = next((v for v in selectors.published_variants() if v.slug == variant), None)
        if found is None:
            raise ApiError(404, f"no published variant {variant!r}; GET /api/v1/variants lists them")
    if kind and kind not in leaderboard_.LEADERBOARD_KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(leaderboard_.LEADERBOARD_KINDS)}; got {kind!r}")
    rows = leaderboard_.leaderboard(variant=found, kind=kind or None, limit=limit)
    for row in rows:
        del row["you"]  # the browser page marks the viewer; a token is nobody's seat here
    return {"variant": variant or None, "kind": kind or None, "players": rows}


@router.post(
    "/matches",
    **schemas.operation(
        "createMatch",
        "Create and start a match",
        "Makes a match on one puzzle instance with a seat for you (owned by your token) and one seat "
        "per opponent, and starts it at once: model opponents begin when you do.",
        ok={201: schemas.MatchCreatedOut},
        errors={
            404: "Unknown variant or contestant.",
            429: "Over the per-token request rate, or at a fair-play cap: this token or this client "
            "address has as many matches in play, or has started as many this hour, as allowed.",
        },
        request_example={"variant": EXAMPLE_VARIANTS[0].slug, "seed": 7, "opponents": ["infogain"]},
        response_example={"match": 5, "seat": 12, "status": "running", "mode": "race", "ranked": False,
                          "observation": OBSERVATION_EXAMPLE},
    ),
)  # fmt: skip
def matches(request: HttpRequest, payload: schemas.CreateMatchIn) -> Status[dict[str, Any]]:
    token = _token(request)
    variant = PuzzleVariant.objects.filter(slug=payload.variant, published=True).first()
    if variant is None:
        raise ApiError(404, f"no published variant {payload.variant!r}; see GET /api/v1/variants")
    opponents = payload.opponents or []
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
                seed=payload.seed,
                human_handle=token.name,
                kind=Seat.Kind.AGENT,
                agent_token=token,
                ranked=payload.seed is None,  # a chosen seed plus the public engine could give away the rule
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
    return Status(
        201,
        {
            "match": match.pk,
            "seat": seat.pk,
            "status": match.status,
            "mode": match.mode,
            "ranked": match.ranked,
            "observation": _observation(seat),
        },
    )


@router.get(
    "/matches/{int:match_id}",
    **schemas.operation(
        "getMatch",
        "A match: status and seats; after the end, the hidden rule and every step",
        "While the match runs you see your own steps; other seats show progress only (status, tests "
        "used). Once it is over: every seat's steps, `rule` (the hidden rule) and `reveal` (each "
        "seat's guess, verdict and score).",
        ok={200: schemas.MatchStateOut},
        errors={404: "No such match."},
    ),
)
def match_detail(request: HttpRequest, match_id: int) -> dict[str, Any]:
    token = _token(request)
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
    body = {
        key: state[key]
        for key in (
            "status", "mode", "variant", "max_tests", "time_limit_s", "created", "started", "finished",
            "public", "description", "presentation", "seats",
        )
    }  # fmt: skip
    body |= {"match": match.pk, "you": own}
    reveal = state["reveal"]
    if reveal is not None:
        body["rule"] = reveal["rule"]
        body["reveal"] = reveal
    return body


@router.post(
    "/seats/{int:seat_id}/actions",
    **schemas.operation(
        "act",
        "Run a test, state the rule, or forfeit",
        "A test uses one of your tests and answers whether the input fits the hidden rule; a guess "
        "ends your seat with a verdict (and a counterexample when wrong), unless the puzzle allows "
        "several guesses and some are left (`attempts_left`); a forfeit ends it without "
        "one. When the match asks for it (`observation.hypothesis`), a test carries your current "
        "hypothesis as `hypothesis` (a rule in the family's language, or free text), stored with the "
        "step for research. `Idempotency-Key` (or `id` in the body) makes a retry safe: a re-sent move returns the "
        "stored result with `Idempotent-Replayed: true` and changes nothing.",
        ok={200: schemas.TestOut | schemas.GuessOut | schemas.ForfeitOut},
        errors={
            400: "A move the rules do not allow (the engine's message; `column` for a rule that does "
            "not parse), bad JSON or a bad field.",
            403: "Not your seat.",
            404: "No such seat.",
            409: "Your seat or the match is over (or its time limit ran out).",
        },
        request_examples={
            "test": {"type": "test", "input": [1, 2, 3]},
            "guess": {"type": "guess", "rule": "x < y < z"},
            "forfeit": {"type": "forfeit"},
        },
    ),
)
def seat_actions(
    request: HttpRequest,
    seat_id: int,
    payload: schemas.ActionIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="the move's idempotency key (at most 100 characters)"
    ),
) -> dict[str, Any]:
    token = _token(request)
    seat = (
        Seat.objects.select_related("match__instance__variant").filter(pk=seat_id).first()
        if seat_id <= MAX_DB_ID
        else None
    )
    if seat is None:
        raise ApiError(404, f"no seat {seat_id}")
    if seat.agent_token_id != token.pk:
        raise ApiError(403, f"seat {seat_id} is not yours; act only on seats your token created")
    key = idempotency_key if idempotency_key is not None else payload.id or ""
    action = payload.model_dump(exclude_unset=True, exclude={"id", "think_ms"})
    try:
        outcome = services.step_submit(
            seat=seat, action=action, idempotency_key=key, client_think_ms=payload.think_ms
        )
    except services.ActionError as exc:
        seat.refresh_from_db(fields=["status"])
        match_status = Match.objects.values_list("status", flat=True).get(pk=seat.match_id)
        over = seat.is_done or match_status != Match.Status.RUNNING
        extra = {} if exc.column is None else {"column": exc.column}
        raise ApiError(409 if over else 400, exc.message, **extra) from None
    return _step_reply(outcome, response)

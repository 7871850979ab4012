"""GET /api/v1/ratings: the fitted ratings, as the leaderboard shows them (games/competition/
rating_snapshots.py), with the same filters. Kept in its own module, in the style of the other
endpoints, so it moves to django-ninja with them."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from games.api.views import ApiError, api_endpoint
from games.competition import leaderboard as leaderboard_
from games.competition import rating_snapshots
from games.models import AgentToken
from games.play import inputs, selectors


@api_endpoint("GET")
def ratings(request: HttpRequest, token: AgentToken) -> JsonResponse:
    params = request.GET
    variant, family = params.get("variant", ""), params.get("family", "")
    kind, period = params.get("kind", ""), params.get("period", "all")
    published = selectors.published_variants()
    if variant and variant not in {v.slug for v in published}:
        raise ApiError(404, f"no published variant {variant!r}; GET /api/v1/variants lists them")
    families = sorted({v.family for v in published})
    if family and family not in families:
        raise ApiError(400, f"family must be one of {', '.join(families)}; got {family!r}")
    if variant and family:
        raise ApiError(400, "give variant or family, not both (a variant belongs to one family)")
    if kind and kind not in leaderboard_.LEADERBOARD_KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(leaderboard_.LEADERBOARD_KINDS)}; got {kind!r}")
    if period not in rating_snapshots.PERIODS:
        raise ApiError(400, f"period must be one of {', '.join(rating_snapshots.PERIODS)}; got {period!r}")
    limit = inputs.query_int(params, "limit", default=100, minimum=1, maximum=1000)
    board = rating_snapshots.ratings_board(family=family, variant=variant, period=period, kind=kind)
    filters = {"variant": variant or None, "family": family or None, "period": period, "kind": kind or None}
    if board is None:
        return JsonResponse({**filters, "computed_at": None, "players": [], "people": None, "gap": []})
    players = []
    for p in board["players"][:limit]:
        p = dict(p)
        p.pop("you", None)  # the page marks the viewer; a token is nobody's player here
        p.pop("public_page", None)
        players.append(p)
    return JsonResponse(
        {
            **filters,
            "computed_at": board["computed_at"].isoformat(),
            "data_until": board["data_until"].isoformat() if board["data_until"] else None,
            "model_version": board["model_version"],
            "level": board["level"],
            "bootstrap_rounds": board["rounds"],
            "min_matches": board["min_matches"],
            "matches": board["matches"],
            "seats": board["seats"],
            "players": players,
            "people": board["people"],
            "variants": board["variants"],
            "head_to_head": board["head_to_head"],
            "gap": board["gap"],
        }
    )

"""GET /api/v1/ratings: the fitted ratings, as the leaderboard shows them (games/competition/
rating_snapshots.py), with the same filters."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from games.api import schemas
from games.api.errors import ApiError
from games.competition import leaderboard as leaderboard_
from games.competition import rating_snapshots
from games.play import selectors

router = Router()

RatingsLimit = schemas.query_int("limit", default=100, minimum=1, maximum=1000)


class RatingsOut(schemas.Out):
    variant: str | None
    family: str | None
    period: str
    kind: str | None
    computed_at: str | None
    players: list[dict[str, Any]]
    people: dict[str, Any] | None
    gap: list[dict[str, Any]]


@router.get(
    "/ratings",
    **schemas.operation(
        "getRatings",
        "Ratings with intervals",
        "Every player's ability (people, models, agents and 'all people' pooled) with a 90 % "
        "bootstrap interval, each puzzle's difficulty, head-to-head strengths from races and the "
        "human-model gap per family and tier, fitted on finished ranked matches by a background "
        "task (computed_at says when; empty until the first fit). Filters as on the leaderboard.",
        ok={200: RatingsOut},
        errors={400: "A bad family, kind, period or limit.", 404: "No such published variant."},
    ),
)
def ratings(
    request: HttpRequest,
    variant: str = Query("", description="only this published variant (slug)"),
    family: str = Query("", description="only this family (not with variant)"),
    kind: str = Query("", description="only this kind of player: human, model or agent"),
    period: str = Query("all", description="all, or a recent period: " + ", ".join(rating_snapshots.PERIODS)),
    limit: RatingsLimit = Query(100, description="at most this many players (1-1000, default 100)"),
) -> dict[str, Any]:
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
    board = rating_snapshots.ratings_board(family=family, variant=variant, period=period, kind=kind)
    filters = {"variant": variant or None, "family": family or None, "period": period, "kind": kind or None}
    if board is None:
        return {**filters, "computed_at": None, "players": [], "people": None, "gap": []}
    players = []
    for p in board["players"][:limit]:
        p = dict(p)
        p.pop("you", None)  # the page marks the viewer; a token is nobody's player here
        p.pop("public_page", None)
        players.append(p)
    return {
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

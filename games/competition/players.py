"""A player's own page: their matches, solve rate by family and tier, and rating over time.

A player is named by the key the ratings use (games/competition/rating_snapshots.py). Accounts,
models and agents have public pages; a guest's page is reached through their own session only
(``/me/``), because a guest's key is derived from a secret (the session key). Each match row is
shaped by games/play/visibility.py: a running match shows progress only, except to its player."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from games.competition import rating_snapshots
from games.models import Seat
from games.play import selectors, visibility
from games.play.visibility import Viewer

MATCHES_SHOWN = 100


def seats_for_key(key: str) -> QuerySet[Seat] | None:
    """The seats of a public player key (an account, a model or an agent); None for a key that
    names nobody or a guest."""
    kind, _, ident = key.partition("-")
    if kind == "user" and ident.isdigit():
        return Seat.objects.filter(kind=Seat.Kind.HUMAN, user_id=int(ident))
    if kind == "agent" and ident.isdigit():
        return Seat.objects.filter(kind=Seat.Kind.AGENT, agent_token_id=int(ident))
    if kind == "model" and ident:
        return Seat.objects.filter(kind=Seat.Kind.MODEL, contestant=ident)
    return None


def seats_for_guest(session_key: str) -> QuerySet[Seat]:
    return Seat.objects.filter(kind=Seat.Kind.HUMAN, user__isnull=True, session_key=session_key)


def player_page_data(*, key: str, seats: QuerySet[Seat], own: bool) -> dict[str, Any]:
    """``own``: the viewer is this player, so their running matches show their own log; anyone
    else's view of a player leaves out today's daily matches (``visibility.listed``)."""
    if not own:
        seats = visibility.listed(seats, prefix="match__")
    rows = list(seats.select_related("match__instance__variant").order_by("-joined", "-id")[:MATCHES_SHOWN])
    matches = []
    for seat in rows:
        match = seat.match
        view = visibility.status_view(
            status=match.status, viewer=Viewer.player(seat.pk) if own else Viewer.spectator()
        )
        summary = view.seat(selectors.seat_summary(seat=seat))
        score = summary.get("score") or {}
        matches.append(
            {
                "match_id": match.pk,
                "seat_id": seat.pk,
                "variant": match.instance.variant.title,
                "family": match.instance.family,
                "tier": match.instance.public.get("tier"),
                "mode": match.mode,
                "status": match.status,
                "ranked": match.ranked,
                "over": view.over,
                "seat_status": summary["status"],
                "tests_used": summary["tests_used"],
                "solved": score.get("solved") if "score" in summary else None,
                "points": score.get("points") if "score" in summary else None,
                "finished": selectors.iso(match.finished),
            }
        )
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for m in matches:
        if m["over"] and m["status"] == "finished" and m["solved"] is not None:
            cells[(m["family"], str(m["tier"]))].append(bool(m["solved"]))
    by_family_tier = [
        {"family": f, "tier": t, "seats": len(v), "solved": sum(v), "solve_rate": round(sum(v) / len(v), 4)}
        for (f, t), v in sorted(cells.items())
    ]
    latest = rating_snapshots.snapshot_latest()
    rating = None
    if latest is not None:
        rating = next((p for p in latest.payload.get("players", []) if p["key"] == key), None)
    name = rating["name"] if rating else (rows[0].handle if rows else key)
    if rows and rows[0].kind == Seat.Kind.HUMAN and rows[0].user_id is not None:
        name = rows[0].user.get_username() if rows[0].user else name
    return {
        "key": key,
        "name": name,
        "matches": matches,
        "by_family_tier": by_family_tier,
        "rating": rating,
        "computed_at": latest.computed_at if latest else None,
        "model_version": latest.model_version if latest else None,
        "history": rating_snapshots.player_history(key=key),
    }

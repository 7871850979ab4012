"""The leaderboard: people, models and agents ranked on one board."""

from __future__ import annotations

from typing import Any

from games.models import Match, PuzzleVariant, Seat
from games.play.selectors import iso

LEADERBOARD_KINDS = (Seat.Kind.HUMAN, Seat.Kind.MODEL, Seat.Kind.AGENT)


def leaderboard(
    *,
    variant: PuzzleVariant | None = None,
    kind: str | None = None,
    tournament: Any = None,
    limit: int = 100,
    viewer_user_id: int | None = None,
    viewer_session_key: str = "",
) -> list[dict[str, Any]]:
    """Players ranked by mean points over their finished seats (a seat that did not solve
    scores 0), then by solves, then by matches played; aborted and unranked matches (a player
    chose the seed) do not count.

    A player is a model contestant, an agent token, a signed-in account, or a guest's browser
    session (shown by its pseudonymous handle; the session key never leaves this function)."""
    from django.db.models import Count, IntegerField, Max, Q, Sum
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    from games.models import ModelContestant

    seats = Seat.objects.filter(match__status=Match.Status.FINISHED, match__ranked=True).exclude(
        status=Seat.Status.PLAYING
    )
    if variant is not None:
        seats = seats.filter(match__instance__variant=variant)
    if kind:
        seats = seats.filter(kind=kind)
    if tournament is not None:
        seats = seats.filter(match__tournament_round__tournament=tournament)
    points = Cast(KT("score__points"), IntegerField())
    solved = Q(score__solved=True)
    rows = seats.values(
        "kind",
        "contestant",
        "user_id",
        "user__username",
        "agent_token_id",
        "agent_token__name",
        "session_key",
    ).annotate(
        matches=Count("id"),
        points_sum=Sum(points),
        best=Max(points),
        solved=Count("id", filter=solved),
        solved_tests=Sum("tests_used", filter=solved),
        handle=Max("handle"),
        last=Max("finished"),
    )
    names = dict(ModelContestant.objects.values_list("slug", "name"))
    players: dict[tuple[str, Any], dict[str, Any]] = {}
    for row in rows:
        if row["kind"] == Seat.Kind.MODEL:
            key: tuple[str, Any] = ("model", row["contestant"])
            name = names.get(row["contestant"], row["contestant"])
        elif row["kind"] == Seat.Kind.AGENT:
            key = ("agent", row["agent_token_id"])
            name = row["agent_token__name"] or row["handle"]
        elif row["user_id"] is not None:
            key = ("user", row["user_id"])
            name = row["user__username"]
        else:
            key = ("guest", row["session_key"] or f"handle:{row['handle']}")
            name = row["handle"]
        player = players.setdefault(
            key,
            {
                "name": name,
                "kind": row["kind"],
                "matches": 0,
                "solved": 0,
                "points_sum": 0,
                "solved_tests": 0,
                "best_points": 0,
                "last": None,
                "you": (key == ("user", viewer_user_id) and viewer_user_id is not None)
                or (key == ("guest", viewer_session_key) and bool(viewer_session_key)),
            },
        )
        if row["last"] is not None and (player["last"] is None or row["last"] > player["last"]):
            player["last"], player["name"] = row["last"], name  # a guest's latest handle
        player["matches"] += row["matches"]
        player["solved"] += row["solved"]
        player["points_sum"] += row["points_sum"] or 0
        player["solved_tests"] += row["solved_tests"] or 0
        player["best_points"] = max(player["best_points"], row["best"] or 0)
    board = []
    for player in players.values():
        n, solves = player.pop("matches"), player["solved"]
        board.append(
            {
                "name": player["name"],
                "kind": player["kind"],
                "matches": n,
                "solved": solves,
                "solve_rate": round(solves / n, 4),
                "mean_points": round(player.pop("points_sum") / n, 2),
                "best_points": player["best_points"],
                "mean_tests_when_solved": round(player.pop("solved_tests") / solves, 2) if solves else None,
                "last_played": iso(player.pop("last")),
                "you": player["you"],
            }
        )
    board.sort(key=lambda p: (-p["mean_points"], -p["solved"], -p["matches"], p["name"]))
    board = board[:limit]
    for i, player in enumerate(board):
        tied = i > 0 and (player["mean_points"], player["solved"]) == (
            board[i - 1]["mean_points"],
            board[i - 1]["solved"],
        )
        player["rank"] = board[i - 1]["rank"] if tied else i + 1
    return board

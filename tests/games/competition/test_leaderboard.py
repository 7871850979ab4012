"""The leaderboard: who counts, how players are told apart, the ranking, the page and the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from games.api.auth import agent_token_create
from games.competition import leaderboard
from games.models import Match, ModelContestant, Seat
from games.play import services
from tests import factories

pytestmark = pytest.mark.django_db

RIGHT = "z < x + y"  # the factories' hidden rule is x + y > z
WRONG = "x < y"


def play(variant, *players) -> Match:
    """One finished race: each player is (seat fields, tests to run, guess or None to forfeit)."""
    match = services.match_create(variant=variant, seed=1, mode=Match.Mode.RACE)
    seats = [
        (services.seat_join(match=match, handle=fields.pop("handle", "P"), **fields), tests, guess)
        for fields, tests, guess in [(dict(f), t, g) for f, t, g in players]
    ]
    services.match_start(match=match)
    for seat, tests, guess in seats:
        for i in range(tests):
            services.step_submit(seat=seat, action={"type": "test", "input": [i, i + 1, i + 2]})
        action = {"type": "guess", "rule": guess} if guess else {"type": "forfeit"}
        services.step_submit(seat=seat, action=action)
    match.refresh_from_db()
    assert match.status == Match.Status.FINISHED
    return match


def model(slug: str) -> dict:
    ModelContestant.objects.get_or_create(slug=slug, defaults={"name": slug.title(), "backend": "builtin"})
    return {"kind": Seat.Kind.MODEL, "contestant": slug, "handle": slug}


def guest(key: str, handle: str) -> dict:
    return {"session_key": key, "handle": handle}


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows}


def test_players_are_ranked_by_mean_points_then_solves() -> None:
    v = factories.variant()
    # 30 tests allowed: a solve after 0 tests scores 100, after 3 tests 95, after 6 tests 90
    play(v, (model("fast"), 0, RIGHT), (guest("s1", "Keen Gecko"), 3, RIGHT), (model("wrong"), 1, WRONG))
    play(v, (model("fast"), 6, RIGHT), (guest("s1", "Keen Gecko"), 0, None))
    rows = leaderboard.leaderboard(variant=v)
    assert [(r["rank"], r["name"]) for r in rows] == [(1, "Fast"), (2, "Keen Gecko"), (3, "Wrong")]
    fast, gecko, wrong = (by_name(rows)[n] for n in ("Fast", "Keen Gecko", "Wrong"))
    assert (fast["matches"], fast["solved"], fast["mean_points"], fast["best_points"]) == (2, 2, 95.0, 100)
    assert fast["mean_tests_when_solved"] == 3.0 and fast["solve_rate"] == 1.0
    assert (gecko["matches"], gecko["solved"], gecko["mean_points"]) == (2, 1, 47.5)
    assert gecko["kind"] == Seat.Kind.HUMAN and gecko["solve_rate"] == 0.5
    assert (wrong["solved"], wrong["mean_points"], wrong["mean_tests_when_solved"]) == (0, 0.0, None)


def test_one_account_is_one_player_across_sessions_and_guests_are_told_apart_by_session() -> None:
    v = factories.variant()
    ada = get_user_model().objects.create_user("ada", password="pw-12345-long")
    play(
        v,
        ({"user": ada, "session_key": "a1", "handle": "ada"}, 0, RIGHT),
        (guest("g1", "Same Name"), 0, RIGHT),
    )
    play(
        v,
        ({"user": ada, "session_key": "a2", "handle": "ada"}, 0, WRONG),
        (guest("g2", "Same Name"), 0, WRONG),
    )
    rows = leaderboard.leaderboard(variant=v)
    assert sorted((r["name"], r["matches"]) for r in rows) == [("Same Name", 1), ("Same Name", 1), ("ada", 2)]
    assert "g1" not in repr(rows) and "a1" not in repr(rows)  # session keys never leave the selector


def test_unfinished_and_aborted_matches_do_not_count_and_filters_apply() -> None:
    v, other = factories.variant(), factories.variant()
    play(v, (model("m"), 0, RIGHT), (guest("s", "Person"), 0, RIGHT))
    play(other, (model("m"), 0, WRONG))
    aborted = play(other, (model("m"), 0, RIGHT))
    Match.objects.filter(pk=aborted.pk).update(status=Match.Status.ABORTED)  # as an admin would
    running = services.match_create(variant=v, seed=2)
    services.seat_join(match=running, handle="Still playing", session_key="p")
    services.match_start(match=running)

    everything = by_name(leaderboard.leaderboard())
    assert set(everything) == {"M", "Person"}
    assert (everything["M"]["matches"], everything["M"]["solved"]) == (2, 1)
    assert [r["name"] for r in leaderboard.leaderboard(kind=Seat.Kind.HUMAN)] == ["Person"]
    assert [(r["name"], r["solved"]) for r in leaderboard.leaderboard(variant=other)] == [("M", 0)]


def test_equal_records_share_a_rank_and_the_viewer_is_marked() -> None:
    v = factories.variant()
    play(v, (guest("me", "Me"), 0, RIGHT), (guest("you", "You"), 0, RIGHT), (guest("x", "Third"), 3, RIGHT))
    rows = leaderboard.leaderboard(variant=v, viewer_session_key="me")
    assert [(r["rank"], r["name"], r["you"]) for r in rows] == [
        (1, "Me", True),
        (1, "You", False),
        (3, "Third", False),
    ]


def test_the_page_shows_the_ranking_filters_and_explains_a_bad_filter() -> None:
    v = factories.variant()
    play(v, (model("solver"), 0, RIGHT), (guest("s", "Quick Otter"), 0, WRONG))
    client = Client()
    page = client.get(f"/leaderboard/?variant={v.slug}").content.decode()
    assert page.index("Solver") < page.index("Quick Otter")
    assert f'<option value="{v.slug}" selected>' in page
    humans = client.get("/leaderboard/?kind=human").content.decode()
    assert "Quick Otter" in humans and "Solver" not in humans
    bad = client.get("/leaderboard/?kind=robot")
    assert (
        bad.status_code == 200
        and "Unknown player kind &#x27;robot&#x27;; showing everyone." in bad.content.decode()
    )
    assert "There is no published puzzle" in client.get("/leaderboard/?variant=nope").content.decode()


def test_the_api_returns_the_ranking_and_clear_errors() -> None:
    v = factories.variant()
    play(v, (model("solver"), 0, RIGHT))
    _, key = agent_token_create(name="reader")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    body = client.get(f"/api/v1/leaderboard?variant={v.slug}").json()
    assert body["variant"] == v.slug and [p["name"] for p in body["players"]] == ["Solver"]
    assert body["players"][0]["mean_points"] == 100.0 and "you" not in body["players"][0]
    for query, status, fragment in [
        ("?kind=robot", 400, "kind must be one of human, model, agent"),
        ("?limit=0", 400, "limit must be a whole number from 1 to 1000"),
        ("?limit=%C2%B2", 400, "limit must be a whole number from 1 to 1000"),  # a superscript two
        ("?variant=nope", 404, "no published variant 'nope'"),
    ]:
        response = client.get(f"/api/v1/leaderboard{query}")
        assert response.status_code == status and fragment in response.json()["error"]
    assert Client().get("/api/v1/leaderboard").status_code == 401


def test_a_match_on_a_seed_the_player_chose_is_unranked() -> None:
    v = factories.variant()
    _, key = agent_token_create(name="chooser")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    chosen = client.post("/api/v1/matches", {"variant": v.slug, "seed": 7}, content_type="application/json")
    drawn = client.post("/api/v1/matches", {"variant": v.slug}, content_type="application/json")
    assert (chosen.json()["ranked"], drawn.json()["ranked"]) == (False, True)
    for response in (chosen, drawn):
        client.post(
            f"/api/v1/seats/{response.json()['seat']}/actions",
            {"type": "guess", "rule": RIGHT},
            content_type="application/json",
        )
    (row,) = leaderboard.leaderboard(variant=v)
    assert (row["name"], row["matches"]) == ("chooser", 1)  # only the drawn seed counts

"""The leaderboard on ratings, a player's page, and a guest who signs up keeping their matches."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from games.competition import rating_snapshots
from games.models import Match, Seat
from games.play import services
from tests import factories
from tests.games.competition.test_leaderboard import RIGHT, WRONG, guest, model, play

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_settings(settings):
    settings.ARENA_RATINGS_ROUNDS = 20
    settings.ARENA_RATINGS_MIN_MATCHES = 3


def refresh():
    return rating_snapshots.ratings_refresh(now=timezone.now())


def races(v, n, *players):
    for _ in range(n):
        play(v, *players)


def test_the_leaderboard_ranks_on_ratings_with_intervals_provisional_players_and_all_people():
    v = factories.variant()
    races(v, 3, (model("solver"), 0, RIGHT), (guest("sess-ann", "Ann"), 1, WRONG))
    play(v, (guest("sess-cy", "Cy"), 0, RIGHT))
    client = Client()
    assert "ratings-pending" in client.get("/leaderboard/").content.decode()  # not computed yet
    refresh()
    page = client.get("/leaderboard/").content.decode()
    assert 'data-testid="ratings"' in page and "Computed" in page and "rasch-bt-ridge-1" in page
    assert "All people" in page and 'data-testid="provisional"' in page
    assert page.index("Solver") < page.index("Ann")
    assert "/players/model-solver/" in page
    assert "sess-ann" not in page
    humans = client.get("/leaderboard/?kind=human&period=7d").content.decode()
    ratings_part = humans.split('id="points-h"')[0].split('data-testid="gap"')[0]
    assert "Ann" in ratings_part and "Solver" not in ratings_part and "All people" in ratings_part
    models = client.get("/leaderboard/?kind=model").content.decode().split('data-testid="gap"')[0]
    assert "All people" not in models


def test_bad_rating_filters_are_explained():
    client = Client()
    assert "Unknown period &#x27;forever&#x27;" in client.get("/leaderboard/?period=forever").content.decode()
    assert "Unknown family" in client.get("/leaderboard/?family=nope").content.decode()


def test_a_models_page_lists_its_matches_solve_rate_by_tier_and_rating():
    v = factories.variant()
    races(v, 3, (model("solver"), 0, RIGHT), (guest("sess-ann", "Ann"), 1, WRONG))
    refresh()
    refresh_again = rating_snapshots.ratings_refresh(now=timezone.now() + timezone.timedelta(hours=2))
    assert refresh_again["status"] == "ok"
    page = Client().get("/players/model-solver/").content.decode()
    assert 'data-testid="player-matches"' in page and page.count("replay</a>") == 3
    assert "Ability" in page and "chart-history" in page
    assert "wason" in page and "3 (100%)" in page
    assert Client().get("/players/model-nobody/").status_code == 404
    assert Client().get(f"/players/{rating_snapshots.guest_key('sess-ann')}/").status_code == 404


def test_a_running_match_on_someone_elses_page_shows_progress_only():
    v = factories.variant()
    ada = get_user_model().objects.create_user("ada", password="pw-12345-long")
    done = play(v, ({"user": ada, "session_key": "sess-ada", "handle": "ada"}, 0, RIGHT))
    running = services.match_create(variant=v, seed=3)
    seat = services.seat_join(match=running, handle="ada", user=ada, session_key="sess-ada")
    services.match_start(match=running)
    services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]})
    stranger = Client().get(f"/players/user-{ada.pk}/").content.decode()
    row = stranger.split(f"#{running.pk}<")[1].split("</tr>")[0]
    assert "running" in row and "watch</a>" in row and "solved" not in row and "replay" not in row
    assert f"/matches/{done.pk}/replay/" in stranger
    own = Client()
    own.force_login(ada)
    mine = own.get("/me/").content.decode().split(f"#{running.pk}<")[1].split("</tr>")[0]
    assert "play</a>" in mine


def test_a_guest_sees_their_own_page_and_signing_up_keeps_their_matches_and_rating():
    v = factories.variant()
    client = Client()
    client.get("/")  # a session and a handle
    session_key = client.session.session_key
    handle = client.session["handle"]
    races(v, 3, (model("solver"), 0, RIGHT), ({"session_key": session_key, "handle": handle}, 0, RIGHT))
    refresh()
    me = client.get("/me/").content.decode()
    assert handle in me and me.count("replay</a>") == 3 and "Sign up" in me
    guest_rating = next(
        p
        for p in rating_snapshots.snapshot_latest().payload["players"]
        if p["key"] == rating_snapshots.guest_key(session_key)
    )

    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-long-pass-9876", "password2": "a-long-pass-9876"},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert Seat.objects.filter(user=user).count() == 3
    assert Match.objects.filter(seats__user=user, status=Match.Status.FINISHED).count() == 3
    refresh()
    rated = {p["key"]: p for p in rating_snapshots.snapshot_latest().payload["players"]}
    assert rating_snapshots.guest_key(session_key) not in rated
    assert rated[f"user-{user.pk}"]["matches"] == 3
    assert rated[f"user-{user.pk}"]["ability"] == pytest.approx(guest_rating["ability"], abs=1e-6)
    me = client.get("/me/").content.decode()
    assert "newbie" in me and me.count("replay</a>") == 3


def test_the_api_returns_the_ratings_with_the_same_filters_and_clear_errors():
    from games.api.auth import agent_token_create

    _, key = agent_token_create(name="reader")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    assert client.get("/api/v1/ratings").json()["computed_at"] is None
    v = factories.variant()
    races(v, 3, (model("solver"), 0, RIGHT), (guest("sess-ann", "Ann"), 1, WRONG))
    refresh()
    body = client.get(f"/api/v1/ratings?variant={v.slug}&period=30d").json()
    assert body["model_version"] == "rasch-bt-ridge-1" and body["computed_at"]
    assert [p["name"] for p in body["players"]] == ["Solver", "Ann"]
    assert all(p["low"] <= p["ability"] <= p["high"] for p in body["players"])
    assert body["people"]["name"] == "All people" and body["gap"][0]["contestant"] == "solver"
    assert [p["name"] for p in client.get("/api/v1/ratings?kind=human").json()["players"]] == ["Ann"]
    assert "sess-ann" not in json.dumps(body)
    for query, status in (
        ("?period=forever", 400),
        ("?kind=robot", 400),
        ("?family=nope", 400),
        ("?limit=0", 400),
        (f"?variant={v.slug}&family=wason", 400),
        ("?variant=nope", 404),
    ):
        response = client.get(f"/api/v1/ratings{query}")
        assert response.status_code == status, query
        assert response.json()["error"]
    assert "/api/v1/ratings" in client.get("/api/openapi.json").json()["paths"]


def test_exports_carry_the_ratings_under_the_seats_pseudonyms(tmp_path):
    from games.research import exports

    v = factories.variant()
    races(v, 3, (model("solver"), 0, RIGHT), (guest("sess-ann", "Ann"), 1, WRONG))
    manifest = exports.export_directory(tmp_path / "none", fmt="jsonl")
    assert manifest["ratings"] is None and not (tmp_path / "none" / "ratings.json").exists()
    refresh()
    manifest = exports.export_directory(tmp_path / "out", fmt="jsonl")
    ratings = json.loads((tmp_path / "out" / "ratings.json").read_text())
    assert manifest["ratings"]["model_version"] == ratings["model_version"] == "rasch-bt-ridge-1"
    assert "ratings.json" in manifest["files"] and ratings["computed_at"]
    seat_players = {
        s["player"]
        for line in (tmp_path / "out" / "matches.jsonl").read_text().splitlines()
        for s in json.loads(line)["seats"]
    }
    rated = {p["player"] for p in ratings["players"]}
    assert rated == seat_players and "solver" in rated
    assert ratings["variants"][0]["variant"] == v.slug and ratings["instances"]
    assert ratings["gap"][0]["contestant"] == "solver"
    assert "Ann" not in json.dumps(ratings) and "sess-ann" not in json.dumps(ratings)


def test_the_research_dashboard_shows_the_gap():
    v = factories.variant()
    races(v, 3, (model("solver"), 0, RIGHT), (guest("sess-ann", "Ann"), 1, WRONG))
    staff = get_user_model().objects.create_user("lab", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert "have not been fitted yet" in client.get("/research/").content.decode()
    refresh()
    page = client.get("/research/").content.decode()
    assert 'data-testid="dashboard-gap"' in page and "solver" in page.split('data-testid="dashboard-gap"')[1]

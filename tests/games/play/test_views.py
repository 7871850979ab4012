import pytest
from django.contrib.auth import get_user_model

from games.models import Match, PuzzleVariant, Seat

pytestmark = pytest.mark.django_db


def test_home_lists_the_seeded_published_wason_variants(client):
    response = client.get("/")
    assert response.status_code == 200
    slugs = set(PuzzleVariant.objects.filter(published=True, family="wason").values_list("slug", flat=True))
    assert {f"wason-tier-{t}" for t in range(1, 6)} <= slugs
    for slug in slugs - {"wason-learn"}:
        assert f"/play/{slug}/" in response.content.decode()
    # the guided first puzzle is offered on its own, not as one of the puzzles
    assert "/play/wason-learn/" not in response.content.decode()
    assert 'action="/learn/"' in response.content.decode()


def test_play_creates_a_running_match_with_a_pseudonymous_seat(client):
    response = client.post("/play/wason-tier-1/")
    match = Match.objects.get()
    assert response.status_code == 302 and response.url == f"/matches/{match.pk}/"
    seat = Seat.objects.get(match=match)
    assert match.status == "running"
    assert seat.session_key == client.session.session_key and seat.handle == client.session["handle"]
    page = client.get(response.url)
    assert page.status_code == 200
    body = page.content.decode()
    assert f'"seatId": {seat.pk}' in body and match.instance.hidden["rule"] not in body


def test_someone_else_opening_the_match_page_gets_the_spectator_view(client):
    client.post("/play/wason-tier-2/")
    match = Match.objects.get()
    other = type(client)()
    body = other.get(f"/matches/{match.pk}/").content.decode()
    assert '"spectate": true' in body and "/spectate/" in body


def test_play_is_post_only_and_unknown_things_are_404(client):
    assert client.get("/play/wason-tier-1/").status_code == 405
    assert client.post("/play/no-such-puzzle/").status_code == 404
    assert client.get("/matches/424242/").status_code == 404
    assert client.get("/matches/424242/spectate/").status_code == 404


def test_signup_logs_the_new_user_in_and_their_seat_uses_the_username(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "password1": "correct-horse-battery-9", "password2": "correct-horse-battery-9"},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="ada")
    client.post("/play/wason-tier-1/")
    seat = Seat.objects.get()
    assert seat.user == user and seat.handle == "ada"


def test_static_files_and_health_are_served(client):
    assert client.get("/healthz").json() == {"ok": True}

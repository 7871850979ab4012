"""Races with friends: a lobby (a waiting race) that friends join from the invite link; only the
host starts it; nobody moves before; nobody joins after."""

import pytest
from django.test import Client

from games.models import Match, Seat
from games.play import services
from tests import factories
from tests.workers.helpers import builtin

pytestmark = pytest.mark.django_db


def lobby(**kw):
    return services.lobby_create(
        variant=factories.variant(), opponents=[], host_handle="Ann", session_key="ann", **kw
    )


def test_a_lobby_waits_with_the_host_and_the_chosen_models_and_is_unranked():
    builtin("infogain")
    match, host = services.lobby_create(
        variant=factories.variant(), opponents=["infogain"], host_handle="Ann", session_key="ann"
    )
    assert match.status == Match.Status.WAITING and match.mode == Match.Mode.RACE and not match.ranked
    assert [s.kind for s in match.seats.order_by("pk")] == [Seat.Kind.HUMAN, Seat.Kind.MODEL]
    assert services.lobby_host(match=match) == host
    with pytest.raises(services.ActionError, match="not started yet"):
        services.step_submit(seat=host, action={"type": "test", "input": [1, 2, 3]})


def test_friends_join_once_and_only_the_host_starts():
    match, host = lobby()
    bob = services.lobby_join(match=match, handle="Bob", session_key="bob")
    assert services.lobby_join(match=match, handle="Bob again", session_key="bob") == bob
    with pytest.raises(services.ActionError, match="only the host"):
        services.lobby_start(match=match, by=bob)
    with pytest.raises(services.ActionError, match="only the host"):
        services.lobby_start(match=match, by=None)
    assert services.lobby_start(match=match, by=host).status == Match.Status.RUNNING
    with pytest.raises(services.ActionError, match="already started"):
        services.lobby_join(match=match, handle="Cy", session_key="cy")
    with pytest.raises(services.ActionError, match="already running"):
        services.lobby_start(match=match, by=host)
    services.step_submit(seat=bob, action={"type": "test", "input": [1, 2, 3]})


def test_a_lobby_is_full_at_eight_people_and_a_solo_match_takes_no_one():
    match, _ = lobby()
    for i in range(services.MAX_LOBBY_PEOPLE - 1):
        services.lobby_join(match=match, handle=f"P{i}", session_key=f"p{i}")
    with pytest.raises(services.ActionError, match="at most 8 people"):
        services.lobby_join(match=match, handle="Late", session_key="late")
    solo, _ = services.race_create(variant=factories.variant(), opponents=[], human_handle="Zed")
    with pytest.raises(services.ActionError, match="not a race with friends"):
        services.lobby_join(match=solo, handle="Late", session_key="late")


def test_the_pages_create_join_and_start_a_lobby(client):
    variant = factories.variant()
    response = client.post(f"/lobby/{variant.slug}/")
    match = Match.objects.get()
    assert response.url == f"/matches/{match.pk}/" and match.status == Match.Status.WAITING
    page = client.get(response.url).content.decode()
    assert f"/matches/{match.pk}/join/" in page and 'id="start-race"' in page

    friend = Client()
    invite = friend.get(f"/matches/{match.pk}/join/")
    assert invite.status_code == 200 and 'id="join-race"' in invite.content.decode()
    assert factories.HIDDEN_RULE not in invite.content.decode()
    joined = friend.post(f"/matches/{match.pk}/join/")
    assert joined.url == f"/matches/{match.pk}/" and match.seats.count() == 2
    friend_page = friend.get(joined.url).content.decode()
    assert 'id="lobby-wait"' in friend_page and 'id="start-race"' not in friend_page
    assert friend.post(f"/matches/{match.pk}/start/").status_code == 403
    assert client.post(f"/matches/{match.pk}/start/").url == f"/matches/{match.pk}/"
    match.refresh_from_db()
    assert match.status == Match.Status.RUNNING
    late = Client().post(f"/matches/{match.pk}/join/")
    assert late.status_code == 409 and "already started" in late.content.decode()

"""A challenge link: a friend plays the very same instance, unranked, and learns nothing early."""

import pytest
from django.test import Client

from games.models import Match, Seat
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_friend_opens_the_link_and_plays_the_same_instance_unranked(client):
    variant = factories.variant()
    client.post(f"/play/{variant.slug}/")
    first = Match.objects.get()
    page = client.get(f"/matches/{first.pk}/").content.decode()
    assert f"/matches/{first.pk}/challenge/" in page  # the share link on the player's page

    friend = Client()
    invite = friend.get(f"/matches/{first.pk}/challenge/")
    body = invite.content.decode()
    assert invite.status_code == 200
    assert variant.title in body and first.seats.get().handle in body
    assert factories.HIDDEN_RULE not in body and str(first.instance.seed) not in body

    response = friend.post(f"/matches/{first.pk}/challenge/")
    second = Match.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and response.url == f"/matches/{second.pk}/"
    assert second.instance_id == first.instance_id
    assert second.ranked is False and second.status == Match.Status.RUNNING
    assert second.seats.get().kind == Seat.Kind.HUMAN
    assert second.seats.get().session_key == friend.session.session_key


def test_no_challenge_to_a_match_that_does_not_exist(client):
    assert client.get("/matches/999/challenge/").status_code == 404
    assert client.post("/matches/999/challenge/").status_code == 404

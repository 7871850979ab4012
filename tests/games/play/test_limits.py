"""Fair play: caps on the matches a guest session, an account, an agent token and a client
address may have in play and may start an hour (refused with a message, nobody else affected),
the client address behind a proxy, and a model contestant held only by matches really being
played."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from games.api.auth import agent_token_create
from games.models import Match, Seat
from games.play import limits, services
from tests import factories
from tests.workers.helpers import builtin, contestant

pytestmark = pytest.mark.django_db

PLAY = "/play/wason-tier-1/"


@pytest.fixture(autouse=True)
def caps(settings):
    """Every cap off; each test turns on the ones it is about. A fresh rate-limit cache."""
    settings.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 0
    settings.ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER = 0
    settings.ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS = 0
    settings.ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS = 0
    settings.ARENA_TRUSTED_PROXIES = []
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits-tests"}
    }
    from django.core.cache import cache

    cache.clear()
    return settings


def visitor(address: str = "203.0.113.7") -> Client:
    """A browser: its own session cookie, its own client address."""
    return Client(REMOTE_ADDR=address)


def refused(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.content[:300]
    body = response.content.decode()
    for fragment in fragments:
        assert fragment in body, (fragment, body[:2000])
    return body


def forfeit_all(client_matches) -> None:
    for match in client_matches:
        for seat in match.seats.exclude(kind=Seat.Kind.MODEL):
            services.step_submit(seat=seat, action={"type": "forfeit"})


# -- per guest session ------------------------------------------------------------------------------


def test_a_guest_session_may_have_only_so_many_matches_in_play_and_is_told_why(caps):
    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 2
    caps.ARENA_SEAT_IDLE_TIMEOUT_S = 600
    guest = visitor()
    assert guest.post(PLAY).status_code == 302
    assert guest.post(PLAY).status_code == 302
    refused(
        guest.post(PLAY),
        429,
        "this browser session already has 2 matches in play",
        "at most 2 at once",
        "finish or forfeit one first",
        "a match with no move for 10 minutes stops counting",
    )
    assert Match.objects.count() == 2
    # Another guest on the same address plays on; so does this one once a match is over.
    assert visitor().post(PLAY).status_code == 302
    forfeit_all(Match.objects.filter(creator_session_key=guest.session.session_key)[:1])
    assert guest.post(PLAY).status_code == 302


def test_the_race_and_watch_buttons_count_against_the_same_cap(caps):
    builtin("random-tester")
    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 2
    guest = visitor()
    assert guest.post("/race/wason-tier-1/", {"opponents": ["random-tester"]}).status_code == 302
    assert (
        guest.post("/race-models/", {"variant": "wason-tier-1", "opponents": ["random-tester"]}).status_code
        == 302
    )
    refused(guest.post("/race/wason-tier-1/", {"opponents": ["random-tester"]}), 429, "already has 2 matches")
    refused(guest.post(PLAY), 429, "already has 2 matches")


def test_a_guest_session_may_start_only_so_many_matches_an_hour_and_is_told_when_to_retry(caps):
    caps.ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER = 3
    guest = visitor()
    for _ in range(3):
        assert guest.post(PLAY).status_code == 302
        forfeit_all(Match.objects.filter(status=Match.Status.RUNNING))  # nothing left in play
    response = guest.post(PLAY)
    refused(response, 429, "this browser session has started 3 matches in the last hour", "at most 3 an hour")
    assert 3500 <= int(response["Retry-After"]) <= 3600
    assert visitor().post(PLAY).status_code == 302  # another guest is not affected
    # The window slides: once the oldest match is an hour old, there is room for one more.
    oldest = Match.objects.filter(creator_session_key=guest.session.session_key).order_by("created").first()
    Match.objects.filter(pk=oldest.pk).update(created=timezone.now() - dt.timedelta(minutes=61))
    assert guest.post(PLAY).status_code == 302


# -- per account -----------------------------------------------------------------------------------


def test_an_account_is_one_player_across_all_its_sessions(caps):
    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 2
    user = get_user_model().objects.create_user("ada", password="correct-horse-battery-9")
    laptop, phone = visitor("198.51.100.1"), visitor("198.51.100.2")
    laptop.force_login(user)
    phone.force_login(user)
    assert laptop.post(PLAY).status_code == 302
    assert phone.post(PLAY).status_code == 302
    refused(laptop.post(PLAY), 429, "your account already has 2 matches in play")
    refused(phone.post(PLAY), 429, "your account already has 2 matches in play")
    assert set(Match.objects.values_list("creator_user", flat=True)) == {user.pk}
    other = visitor("198.51.100.1")
    other.force_login(get_user_model().objects.create_user("bob", password="correct-horse-battery-9"))
    assert other.post(PLAY).status_code == 302


def test_an_account_has_an_hourly_cap_too(caps):
    caps.ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER = 1
    user = get_user_model().objects.create_user("ada", password="correct-horse-battery-9")
    guest = visitor()
    guest.force_login(user)
    assert guest.post(PLAY).status_code == 302
    forfeit_all(Match.objects.all())
    refused(guest.post(PLAY), 429, "your account has started 1 match in the last hour")


# -- per agent token ------------------------------------------------------------------------------


class Agent:
    def __init__(self, name: str, address: str = "192.0.2.10") -> None:
        _, key = agent_token_create(name=name)
        self.client = Client(headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR=address)

    def create(self, **fields):
        body = json.dumps({"variant": "wason-tier-1", **fields})
        return self.client.post("/api/v1/matches", data=body, content_type="application/json")


def test_an_agent_token_gets_429_with_a_json_error_at_its_running_cap(caps):
    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 2
    agent, other = Agent("agent-a"), Agent("agent-b")
    assert agent.create().status_code == 201
    assert agent.create().status_code == 201
    response = agent.create()
    assert response.status_code == 429
    assert "this API token already has 2 matches in play" in response.json()["error"]
    assert "Retry-After" not in response  # it frees when a match ends, not at a known time
    assert other.create().status_code == 201  # same address, another token
    assert Match.objects.count() == 3


def test_an_agent_token_gets_429_and_retry_after_at_its_hourly_cap(caps):
    caps.ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER = 2
    agent, other = Agent("agent-a"), Agent("agent-b")
    for _ in range(2):
        assert agent.create().status_code == 201
    response = agent.create()
    body = response.json()
    assert response.status_code == 429 and "at most 2 an hour" in body["error"]
    assert 3500 <= int(response["Retry-After"]) <= 3600 and body["retry_after"] == int(
        response["Retry-After"]
    )
    assert other.create().status_code == 201


# -- per client address ---------------------------------------------------------------------------


def test_new_sessions_from_one_address_share_its_caps_and_other_addresses_are_not_affected(caps):
    caps.ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS = 3
    for _ in range(3):  # a guest who drops the session cookie each time
        assert visitor("203.0.113.9").post(PLAY).status_code == 302
    refused(visitor("203.0.113.9").post(PLAY), 429, "your network address already has 3 matches in play")
    assert Agent("agent-a", address="203.0.113.9").create().status_code == 429  # the API shares it
    assert visitor("203.0.113.10").post(PLAY).status_code == 302


def test_an_address_has_an_hourly_cap(caps):
    caps.ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS = 2
    for _ in range(2):
        assert visitor("203.0.113.9").post(PLAY).status_code == 302
    forfeit_all(Match.objects.all())
    response = visitor("203.0.113.9").post(PLAY)
    refused(response, 429, "your network address has started 2 matches in the last hour")
    assert int(response["Retry-After"]) > 0
    assert visitor("2001:db8::1").post(PLAY).status_code == 302


def test_the_address_is_stored_only_as_a_keyed_hash():
    visitor("203.0.113.9").post(PLAY)
    stored = Match.objects.get().creator_address
    assert stored and "203.0.113" not in stored and stored == limits.address_key("203.0.113.9")


def test_one_ipv6_host_is_one_address_across_its_64():
    assert limits.address_key("2001:db8:1:2::1") == limits.address_key("2001:db8:1:2:ffff::9")
    assert limits.address_key("2001:db8:1:2::1") != limits.address_key("2001:db8:1:3::1")
    assert limits.address_key("::ffff:203.0.113.9") == limits.address_key("203.0.113.9")
    assert limits.address_key("") == "" and limits.address_key("unknown") == limits.address_key(" unknown")


@pytest.mark.parametrize(
    ("trusted", "meta", "expected"),
    [
        # No trusted proxy: the header is anybody's to write and is ignored.
        ([], {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.1.1.1"}, "203.0.113.9"),
        # Our proxy on this machine appended the client it saw; what the client wrote is left of it.
        (
            ["127.0.0.1"],
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"},
            "203.0.113.9",
        ),
        # Two proxies of ours.
        (
            ["127.0.0.1", "10.0.0.0/8"],
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.2.3.4"},
            "203.0.113.9",
        ),
        # Reached directly, not through the proxy: the peer is the client, whatever it claims.
        (["127.0.0.1"], {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, "203.0.113.9"),
        # The proxy sent no header.
        (["127.0.0.1"], {"REMOTE_ADDR": "127.0.0.1"}, "127.0.0.1"),
    ],
)
def test_the_client_address_believes_x_forwarded_for_only_from_a_trusted_proxy(caps, trusted, meta, expected):
    caps.ARENA_TRUSTED_PROXIES = trusted
    assert limits.client_address(meta) == expected


def test_behind_a_trusted_proxy_the_caps_count_the_forwarded_client(caps):
    caps.ARENA_TRUSTED_PROXIES = ["127.0.0.1"]
    caps.ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS = 1
    proxied = {"REMOTE_ADDR": "127.0.0.1"}
    assert Client(**proxied, HTTP_X_FORWARDED_FOR="203.0.113.9").post(PLAY).status_code == 302
    # A fresh X-Forwarded-For entry of the client's own does not make it someone else.
    spoofing = Client(**proxied, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    refused(spoofing.post(PLAY), 429, "your network address")
    assert Client(**proxied, HTTP_X_FORWARDED_FOR="203.0.113.10").post(PLAY).status_code == 302


# -- what the arena makes itself ---------------------------------------------------------------------


def test_matches_the_arena_makes_itself_have_no_creator_and_no_caps(caps):
    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = caps.ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS = 1
    model = contestant(max_concurrent_matches=10)
    variant = factories.variant()
    for seed in range(3):
        services.race_create(variant=variant, opponents=[model.slug], seed=seed)
    assert Match.objects.filter(creator_address="", creator_session_key="").count() == 3


# -- a model is held only by matches really being played ---------------------------------------------


def _race_for(guest: Client, slug: str):
    response = guest.post("/race/wason-tier-1/", {"opponents": [slug]})
    assert response.status_code == 302, response.content[:500]
    match = Match.objects.order_by("-id").first()
    person = match.seats.get(kind=Seat.Kind.HUMAN)
    model = match.seats.get(kind=Seat.Kind.MODEL)
    return match, person, model


def test_a_race_being_played_holds_the_model_and_others_are_told_it_is_busy():
    lonely = contestant(max_concurrent_matches=1)
    _race_for(visitor(), lonely.slug)
    assert limits.contestant_busy(slug=lonely.slug) == 1
    refused(visitor("203.0.113.50").post("/race/wason-tier-1/", {"opponents": [lonely.slug]}), 400, "is busy")


def test_a_model_that_has_finished_its_seat_is_free_while_the_person_plays_on():
    lonely = contestant(max_concurrent_matches=1)
    _, _, model = _race_for(visitor(), lonely.slug)
    services.seat_end(seat=model, reason="done")  # e.g. it guessed; the person still thinks
    assert limits.contestant_busy(slug=lonely.slug) == 0
    _race_for(visitor("203.0.113.50"), lonely.slug)


def test_a_race_whose_person_has_finished_does_not_hold_the_model():
    lonely = contestant(max_concurrent_matches=1)
    match, person, _ = _race_for(visitor(), lonely.slug)
    services.step_submit(seat=person, action={"type": "forfeit"})
    match.refresh_from_db()
    assert match.status == Match.Status.RUNNING  # the model plays on to its end
    assert limits.contestant_busy(slug=lonely.slug) == 0
    _race_for(visitor("203.0.113.50"), lonely.slug)


def test_a_guest_who_walks_away_from_races_does_not_lock_the_model_out(settings):
    settings.ARENA_SEAT_IDLE_TIMEOUT_S = 300
    lonely = contestant(max_concurrent_matches=2)
    guest = visitor()
    matches = [_race_for(guest, lonely.slug)[0] for _ in range(2)]
    refused(visitor("203.0.113.50").post("/race/wason-tier-1/", {"opponents": [lonely.slug]}), 400, "is busy")
    # No move for longer than the idle timeout: the races are not being played.
    long_ago = timezone.now() - dt.timedelta(seconds=301)
    Match.objects.filter(pk__in=[m.pk for m in matches]).update(started=long_ago)
    Seat.objects.filter(match__in=matches).update(joined=long_ago)
    assert limits.contestant_busy(slug=lonely.slug) == 0
    _race_for(visitor("203.0.113.50"), lonely.slug)


def test_a_recent_move_keeps_a_race_in_play(settings):
    settings.ARENA_SEAT_IDLE_TIMEOUT_S = 300
    lonely = contestant(max_concurrent_matches=1)
    match, person, _ = _race_for(visitor(), lonely.slug)
    long_ago = timezone.now() - dt.timedelta(seconds=3600)
    Match.objects.filter(pk=match.pk).update(started=long_ago)
    Seat.objects.filter(match=match).update(joined=long_ago)
    services.step_submit(seat=person, action={"type": "test", "input": [1, 2, 3]})
    assert limits.contestant_busy(slug=lonely.slug) == 1


def test_an_idle_match_does_not_count_against_its_creator_either(caps):
    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 1
    caps.ARENA_SEAT_IDLE_TIMEOUT_S = 300
    guest = visitor()
    assert guest.post(PLAY).status_code == 302
    refused(guest.post(PLAY), 429, "already has 1 match in play")
    long_ago = timezone.now() - dt.timedelta(seconds=301)
    Match.objects.update(started=long_ago)
    Seat.objects.update(joined=long_ago)
    assert guest.post(PLAY).status_code == 302


def test_a_model_only_race_holds_its_models_while_they_play():
    lonely = contestant(max_concurrent_matches=1)
    match, _ = services.race_create(variant=factories.variant(), opponents=[lonely.slug], seed=1)
    assert match.status == Match.Status.RUNNING and limits.contestant_busy(slug=lonely.slug) == 1
    services.seat_end(seat=match.seats.get(), reason="done")
    assert limits.contestant_busy(slug=lonely.slug) == 0


def test_the_reported_lockout_is_refused_with_the_shipped_defaults(caps):
    """The report: one session raced the random tester until its 50-match limit was full, and
    all 420 requests were accepted. With the shipped caps the session gets its few matches, the
    rest are refused with a message, and the model stays open to everyone else."""
    import arena.settings as shipped

    for name in (
        "ARENA_MAX_RUNNING_MATCHES_PER_PLAYER",
        "ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER",
        "ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS",
        "ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS",
    ):
        setattr(caps, name, getattr(shipped, name))
    tester = builtin("random-tester")
    tester.max_concurrent_matches = 50
    tester.save()
    guest = visitor()
    statuses = [
        guest.post("/race/wason-tier-1/", {"opponents": ["random-tester"]}).status_code for _ in range(60)
    ]
    accepted = statuses.count(302)
    assert accepted == shipped.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER and set(statuses) == {302, 429}
    assert limits.contestant_busy(slug="random-tester") == accepted < tester.max_concurrent_matches
    _race_for(visitor("203.0.113.50"), "random-tester")


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_parallel_requests_cannot_all_pass_the_count(caps):
    """The count and the new match are one transaction, serialised per creator (SQLite: BEGIN
    IMMEDIATE; PostgreSQL: an advisory lock), so simultaneous requests do not overshoot."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    caps.ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = 2
    slug = factories.variant().slug
    agent = Agent("burst")

    def create(_: int) -> int:
        try:
            return agent.create(variant=slug).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(create, range(6)))
    assert statuses == [201, 201, 429, 429, 429, 429]
    assert Match.objects.count() == 2


def test_the_admin_shows_who_created_a_match_and_cannot_change_it(admin_client):
    visitor().post(PLAY)
    match = Match.objects.get()
    page = admin_client.get(f"/admin/games/match/{match.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert match.creator_address in body and 'name="creator_address"' not in body

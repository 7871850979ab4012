"""Who may see what, on every path that carries match data, for every kind of viewer.

One race, two seats: a person in a browser (seat A) and an agent (seat B). Each makes a test
with a value found nowhere else; B then states a rule (with quiz answers) and is scored while
A still plays. Until the match is over nobody may learn a rival's tests, guess, verdict, score
or quiz answers, and nobody the seed or the hidden rule; afterwards everybody may. Every path
below goes through ``games.play.visibility``; a new path gets a row here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from games.api.auth import agent_token_create
from games.models import Match, Seat
from games.play import services, visibility
from games.play.visibility import Viewer
from tests import factories
from tests.games.play.test_consumers import open_client

SEED = 4_815_162_342
A_TEST = [7.125, 1, 1]
B_TEST = [12.375, 1, 1]
B_GUESS = "y < 61.625"

# What must not leak while the match runs, by what it would give away.
A_LOG = ("7.125", "93.5")  # 93.5: in A's stated hypothesis
B_LOG = ("12.375", "77.25", "61.625", '"counterexample"', '"hidden_answers"', 'accuracy_vs_hidden": ')
INSTANCE = (factories.HIDDEN_RULE, str(SEED))
SCORE = re.compile(r'"points": ?\d')


def leaks(text: str, *groups: tuple[str, ...]) -> list[str]:
    found = [marker for group in groups for marker in group if marker in text]
    if SCORE.search(text):
        found.append("a score")
    return found


def race() -> tuple[Match, Seat, Seat, str, str]:
    """A running race: A (browser session) and B (agent token) have each made a test; B has
    guessed with quiz answers and is scored; A is still playing."""
    token, key = agent_token_create(name="rival-agent")
    variant = factories.variant(hypothesis_mode="optional")  # stated hypotheses are as private as tests
    match = services.match_create(variant=variant, seed=SEED, mode=Match.Mode.RACE)
    session = factories.session_key()
    a = services.seat_join(match=match, handle="Alice", session_key=session)
    b = services.seat_join(match=match, handle="rival-agent", kind=Seat.Kind.AGENT, agent_token=token)
    match = services.match_start(match=match)
    services.step_submit(
        seat=a, action={"type": "test", "input": A_TEST, "hypothesis": "x < 93.5"}, idempotency_key="a1"
    )
    services.step_submit(
        seat=b, action={"type": "test", "input": B_TEST, "hypothesis": "y < 77.25"}, idempotency_key="b1"
    )
    quiz = [True] * len(factories_quiz(match))
    services.step_submit(
        seat=b, action={"type": "guess", "rule": B_GUESS, "quiz": quiz}, idempotency_key="b2"
    )
    match.refresh_from_db()
    assert match.status == Match.Status.RUNNING
    return match, a, b, session, key


def factories_quiz(match: Match) -> list:
    from games.play import selectors

    return selectors.quiz_items(instance=match.instance)


def finish(match: Match, a: Seat) -> None:
    services.step_submit(seat=a, action={"type": "forfeit"}, idempotency_key="a-end")
    match.refresh_from_db()
    assert match.is_over


def zip_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(
            archive.read(name).decode() for name in archive.namelist() if name.endswith((".jsonl", ".json"))
        )


def browser(*, session: str | None = None, user: User | None = None) -> Client:
    client = Client()
    if session:
        client.cookies["sessionid"] = session
    if user is not None:
        client.force_login(user)
    return client


def http_paths(match: Match, b: Seat) -> list[str]:
    return [
        f"/matches/{match.pk}/",
        f"/matches/{match.pk}/spectate/",
        f"/matches/{match.pk}/replay/",
        f"/matches/{match.pk}/seats/{b.pk}/trace/",
        f"/matches/{match.pk}/challenge/",
        f"/matches/{match.pk}/join/",
        "/",
        "/leaderboard/",
        "/tournaments/",
        "/rules/",
        "/me/",
        f"/players/agent-{b.agent_token_id}/",
    ]


RESEARCH_PAGES = [
    "/research/data/solve-rate.json",
    "/research/data/positive-tests.json",
    "/research/exports/?format=jsonl",
]
AGENT_PATHS = ["/api/v1/matches/{m}", "/api/v1/leaderboard", "/api/v1/ratings", "/api/v1/tournaments"]
RESEARCH_API = [
    "/api/v1/research/matches",
    "/api/v1/research/matches/{m}/steps",
    "/api/v1/research/export?format=jsonl",
]


def read(client: Client, path: str, **headers) -> str:
    response = client.get(path, headers=headers, follow=True)  # a seated player's invite link: their match
    assert response.status_code in (200, 403), (path, response.status_code)
    if response.get("Content-Type") == "application/zip":
        return zip_text(b"".join(response.streaming_content))
    return response.content.decode()


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.mark.django_db
def test_every_http_path_for_every_viewer_before_and_after_the_end(tmp_path: Path):
    match, a, b, session, b_key = race()
    stranger = User.objects.create_user("stranger", password="x")
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    _, bystander_key = agent_token_create(name="bystander")
    _, research_key = agent_token_create(name="lab", can_read_research=True)
    research_pages = [p.replace("solve-rate", plot_slug()) for p in RESEARCH_PAGES]

    def sweep() -> dict[str, dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        browsers = {
            "no cookie": browser(),
            "seat A's browser": browser(session=session),
            "a signed-in stranger": browser(user=stranger),
            "staff researcher": browser(user=staff),
        }
        for who, client in browsers.items():
            paths = http_paths(match, b) + (research_pages if who == "staff researcher" else [])
            seen[who] = {p: read(client, p) for p in paths}
        tokens = {
            "seat B's token": b_key,
            "a bystander token": bystander_key,
            "a research token": research_key,
        }
        for who, key in tokens.items():
            client = Client(headers={"Authorization": f"Bearer {key}"})
            paths = AGENT_PATHS + (RESEARCH_API if who == "a research token" else [])
            seen[who] = {p.format(m=match.pk): read(client, p.format(m=match.pk)) for p in paths}
        out = tmp_path / f"cli-{len(list(tmp_path.iterdir()))}"
        call_command("export", "--format", "jsonl", "--out", str(out), "--no-progress", stderr=io.StringIO())
        seen["the export command"] = {"matches.jsonl": (out / "matches.jsonl").read_text()}
        return seen

    before = sweep()
    for who, pages in before.items():
        for path, text in pages.items():
            if who == "seat A's browser":
                found = leaks(text, B_LOG, INSTANCE)
            elif who == "seat B's token":
                found = leaks(text.replace(json.dumps(B_GUESS)[1:-1], ""), A_LOG, INSTANCE)
                found = [f for f in found if f != "a score"]  # B's own score is B's to see
            else:
                found = leaks(text, A_LOG, B_LOG, INSTANCE)
            assert not found, f"{who} learned {found} from {path} while the match runs"
    # The agent's player page: B has guessed, but its result stays hidden until the end.
    agent_page = f"/players/agent-{b.agent_token_id}/"
    assert "solved" not in before["no cookie"][agent_page].split('data-testid="player-matches"')[1]

    finish(match, a)
    after = sweep()
    api_detail = f"/api/v1/matches/{match.pk}"
    for who in ("seat B's token", "a bystander token", "a research token"):
        assert all(m in after[who][api_detail] for m in ("12.375", "7.125", factories.HIDDEN_RULE)), who
    assert "12.375" in after["no cookie"][f"/matches/{match.pk}/replay/"]
    # stated hypotheses: everyone's once the match is over, in the replay and the exports
    assert "77.25" in after["no cookie"][f"/matches/{match.pk}/replay/"]
    assert "93.5" in after["the export command"]["matches.jsonl"]
    assert "not solved" in after["no cookie"][agent_page].split('data-testid="player-matches"')[1]
    assert str(SEED) in after["the export command"]["matches.jsonl"]
    assert str(SEED) in after["a research token"]["/api/v1/research/export?format=jsonl"]
    assert "12.375" in after["a research token"][f"/api/v1/research/matches/{match.pk}/steps"]


def plot_slug() -> str:
    from games.research import analytics

    return next(iter(analytics.PLOTS))


# -- sockets and live events ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_every_socket_for_every_viewer_before_and_after_the_end():
    token, _ = await sync_to_async(agent_token_create)(name="rival-agent")

    @sync_to_async
    def setup():
        match = services.match_create(variant=factories.variant(), seed=SEED, mode=Match.Mode.RACE)
        session = factories.session_key()
        a = services.seat_join(match=match, handle="Alice", session_key=session)
        b = services.seat_join(match=match, handle="rival", kind=Seat.Kind.AGENT, agent_token=token)
        services.match_start(match=match)
        return match, a, b, session, factories.session_key()

    match, a, b, session, stranger_session = await setup()
    viewers = {
        "seat A's player socket": await open_client(match.pk, session),
        "seat A's own watch socket": await open_client(match.pk, session, spectate=True),
        "a watch socket with no cookie": await open_client(match.pk, spectate=True),
        "a stranger's player socket": await open_client(match.pk, stranger_session),
    }

    @sync_to_async
    def play():
        services.step_submit(seat=a, action={"type": "test", "input": A_TEST}, idempotency_key="a1")
        services.step_submit(seat=b, action={"type": "test", "input": B_TEST}, idempotency_key="b1")
        quiz = [True] * len(factories_quiz(match))
        services.step_submit(
            seat=b, action={"type": "guess", "rule": B_GUESS, "quiz": quiz}, idempotency_key="b2"
        )

    await play()
    for who, client in viewers.items():
        state = await client.ask({"type": "resume"}, "state")
        await client.drain()
        text = json.dumps(client.received)
        own = who == "seat A's player socket"
        found = leaks(text, B_LOG, INSTANCE) if own else leaks(text, A_LOG, B_LOG, INSTANCE)
        assert not found, f"{who} learned {found} while the match runs"
        rival = next(s for s in state["seats"] if s["id"] == b.pk)
        assert rival["tests_used"] == 1 and rival["status"] == "finished"  # progress is public
        progress = [m for m in client.received if m.get("event") == "progress" and m["seat"]["id"] == b.pk]
        assert progress, f"{who} saw no progress of the rival"
        if own:
            assert "7.125" in text  # its own log

    await sync_to_async(finish)(match, a)
    for who, client in viewers.items():
        await client.until(lambda m: m.get("event") == "match_finished")
        state = await client.ask({"type": "resume"}, "state")
        text = json.dumps(state)
        assert "12.375" in text and "7.125" in text and factories.HIDDEN_RULE in text, who
        await client.close()


# -- the function itself ------------------------------------------------------------------------------


def test_a_delayed_spectator_sees_old_tests_but_never_a_guess_or_score():
    view = visibility.MatchView(viewer=visibility.Viewer.spectator(), over=False, spectator_delay_s=30)
    assert view.delayed_tests_before() is not None and not view.sees_log(5) and not view.sees_instance
    seat = {"id": 5, "handle": "h", "kind": "model", "status": "finished", "tests_used": 3, "tests_left": 27,
            "outcome": {"guess": "x < y"}, "score": {"points": 90}}  # fmt: skip
    assert view.seat(seat) == {k: seat[k] for k in visibility.PROGRESS_FIELDS}
    step_event = {"type": "event", "event": "step", "match": 1, "seq": 4, "seat": seat, "step": {"rule": "x"}}
    assert view.event(step_event) == {
        "type": "event", "match": 1, "seq": 4, "event": "progress",
        "seat": {k: seat[k] for k in visibility.PROGRESS_FIELDS},
    }  # fmt: skip
    over = visibility.MatchView(viewer=visibility.Viewer.spectator(), over=True, spectator_delay_s=30)
    assert over.sees_log(5) and over.sees_instance and over.delayed_tests_before() is None
    assert over.event(step_event) == step_event


@pytest.mark.django_db
def test_a_variant_with_a_spectator_delay_shows_watchers_only_tests_that_old():
    from django.utils import timezone

    from games.models import Step
    from games.play import selectors

    match, a, b, _, _ = race()
    variant = match.instance.variant
    variant.spectator_delay_s = 60
    variant.save()
    Step.objects.filter(seat=b, seq=1).update(created_at=timezone.now() - timezone.timedelta(seconds=120))
    match = selectors.match_get(match_id=match.pk)
    state = selectors.match_public_state(match=match, viewer=visibility.Viewer.spectator())
    rows = {s["id"]: s for s in state["seats"]}
    assert [s["input"] for s in rows[b.pk]["steps"]] == [B_TEST]  # the old test, not the guess
    assert rows[a.pk]["steps"] == []  # A's test is too recent
    assert not leaks(json.dumps(state), ("61.625", '"counterexample"'), INSTANCE)
    player = selectors.match_public_state(match=match, viewer=visibility.Viewer.player(a.pk))
    assert "steps" not in {s["id"]: s for s in player["seats"]}[b.pk]  # players never get the delay


@pytest.mark.django_db
def test_ranked_seeds_are_drawn_from_53_random_bits():
    variant = factories.variant()
    seeds = {services.match_create(variant=variant).instance.seed for _ in range(8)}
    assert len(seeds) == 8 and max(seeds) > 2**40 and max(seeds) < services.RANKED_SEED_SPACE


# -- today's daily puzzle -----------------------------------------------------------------------------
#
# A daily match plays the day's instance, the same for everyone: a finished one still tells its rule
# (its guesses, its reveal) to whoever reads it. Until the day (UTC) is over it stays out of public
# lists, and its pages show it as if it were still running to anyone who has not finished their
# own daily of that variant that day.

DAILY_GUESS = "z < x + y"  # the right rule, in words other than the hidden rule's text


def daily_day(match_: Match, day) -> None:
    Match.objects.filter(pk=match_.pk).update(daily=day)
    match_.refresh_from_db()


def todays_daily() -> dict:
    """Alice has finished today's daily (solved); Bob is still playing his, on the same variant; a
    models' daily race on it is over too. Carol played yesterday's, and Dave today's of another
    variant."""
    from games.play import daily

    today = daily.daily_day()
    variant = factories.variant()
    user = User.objects.create_user("alice", password="x")

    def person(handle: str, *, on=variant, account: User | None = None) -> tuple[Match, Seat]:
        m = services.match_create(variant=on, seed=99, daily=today)
        seat = services.seat_join(match=m, handle=handle, session_key=factories.session_key(), user=account)
        return services.match_start(match=m), seat

    alice_match, alice = person("Alice", account=user)
    services.step_submit(seat=alice, action={"type": "test", "input": [5.5, 1, 1]}, idempotency_key="al-1")
    services.step_submit(seat=alice, action={"type": "guess", "rule": DAILY_GUESS}, idempotency_key="al-2")
    bob_match, bob = person("Bob")
    models_match = services.match_create(variant=variant, seed=99, daily=today)
    model = services.seat_join(match=models_match, handle="Daily model", kind=Seat.Kind.MODEL, contestant="m")
    services.match_start(match=models_match)
    services.step_submit(seat=model, action={"type": "guess", "rule": DAILY_GUESS}, idempotency_key="m-1")
    carol_match, carol = person("Carol")
    services.step_submit(seat=carol, action={"type": "forfeit"}, idempotency_key="c-1")
    daily_day(carol_match, today - dt.timedelta(days=1))
    dave_match, dave = person("Dave", on=factories.variant())
    services.step_submit(seat=dave, action={"type": "forfeit"}, idempotency_key="d-1")
    for m in (alice_match, models_match, carol_match, dave_match):
        m.refresh_from_db()
        assert m.is_over
    return {
        "alice": alice, "alice_user": user, "alice_match": alice_match, "bob": bob, "bob_match": bob_match,
        "models_match": models_match, "model": model, "carol": carol, "dave": dave,
    }  # fmt: skip


def daily_viewers(d: dict) -> dict[str, Client]:
    return {
        "no cookie": browser(),
        "Bob, still playing his daily": browser(session=d["bob"].session_key),
        "Carol, who played yesterday's": browser(session=d["carol"].session_key),
        "Dave, who played another variant's": browser(session=d["dave"].session_key),
        "a signed-in stranger": browser(user=User.objects.create_user("daily-stranger", password="x")),
        "Alice, signed in, who has finished": browser(user=d["alice_user"]),
    }


DAILY_PATHS = [
    "/matches/{m}/",
    "/matches/{m}/spectate/",
    "/matches/{m}/replay/",
    "/matches/{m}/seats/{s}/trace/",
    "/api/v1/matches/{m}",
]
DAILY_SECRETS = (DAILY_GUESS, factories.HIDDEN_RULE, '"verdict"')


def plain(text: str) -> str:
    """A page's text with the escapes of HTML and of ``json_script`` undone, so a rule is found
    however the page carries it."""
    for escaped, char in (("\\u003C", "<"), ("\\u003E", ">"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"')):
        text = text.replace(escaped, char)
    return text


@pytest.mark.django_db
def test_todays_daily_matches_show_no_rule_to_anyone_who_has_not_finished_their_own():
    d = todays_daily()
    _, bystander_key = agent_token_create(name="daily-bystander")
    viewers = daily_viewers(d)
    for who, client in viewers.items():
        home = read(client, "/")
        for m in (d["alice_match"], d["models_match"]):
            assert f"/matches/{m.pk}/spectate/" not in home, (
                f"{who} found today's daily #{m.pk} in Recent matches"
            )
        listing = read(client, f"/players/model-{d['model'].contestant}/")
        assert (
            f"#{d['models_match'].pk}" not in listing and f"/matches/{d['models_match'].pk}/" not in listing
        )
        for m, seat in ((d["alice_match"], d["alice"]), (d["models_match"], d["model"])):
            for path in DAILY_PATHS:
                path = path.format(m=m.pk, s=seat.pk)
                if path.startswith("/api/"):
                    text = plain(read(Client(headers={"Authorization": f"Bearer {bystander_key}"}), path))
                else:
                    text = plain(read(client, path))
                found = [s for s in DAILY_SECRETS if s in text]
                if who.startswith("Alice"):
                    if "replay" in path:
                        assert DAILY_GUESS in text, f"{who} could not replay {path} after finishing"
                elif not path.startswith("/api/"):
                    assert not found, f"{who} learned {found} from {path} before playing today's daily"
                else:
                    assert not found, f"an agent token learned {found} from {path}"
            replay = viewers[who].get(f"/matches/{m.pk}/replay/")
            if not who.startswith("Alice"):
                assert replay.status_code == 403 and b'data-testid="daily-embargo"' in replay.content, who
    # Yesterday's daily is no secret any more: Bob replays Carol's. Today's daily of another variant
    # is held back per variant: Dave (who played it) replays his own, Bob may not.
    bob = viewers["Bob, still playing his daily"]
    assert bob.get(f"/matches/{d['carol'].match_id}/replay/").status_code == 200
    assert bob.get(f"/matches/{d['dave'].match_id}/replay/").status_code == 403
    assert (
        viewers["Dave, who played another variant's"]
        .get(f"/matches/{d['dave'].match_id}/replay/")
        .status_code
        == 200
    )
    # Bob finishes his own daily: today's daily matches of that variant open to him.
    services.step_submit(seat=d["bob"], action={"type": "forfeit"}, idempotency_key="b-end")
    assert DAILY_GUESS in plain(read(bob, f"/matches/{d['models_match'].pk}/replay/"))
    assert viewers["no cookie"].get(f"/matches/{d['models_match'].pk}/replay/").status_code == 403
    # The day is over: everyone sees everything, and the match is listed again.
    daily_day(d["models_match"], d["models_match"].daily - dt.timedelta(days=1))
    assert DAILY_GUESS in plain(read(viewers["no cookie"], f"/matches/{d['models_match'].pk}/replay/"))
    assert f"/matches/{d['models_match'].pk}/spectate/" in read(viewers["no cookie"], "/")


@pytest.mark.django_db
def test_the_state_of_todays_daily_is_a_running_match_for_the_viewer_under_embargo():
    from games.play import selectors

    d = todays_daily()
    match = selectors.match_get(match_id=d["models_match"].pk)
    rows = {
        "a spectator with no cookie": (Viewer.spectator(), True),
        "Bob's browser (playing)": (Viewer.spectator(session_key=d["bob"].session_key), True),
        "Carol's browser (yesterday)": (Viewer.spectator(session_key=d["carol"].session_key), True),
        "a researcher": (Viewer.researcher(), True),
        "Alice's account (finished)": (Viewer.spectator(user_id=d["alice_user"].pk), False),
        "Alice's guest session alone (her seat is her account's)": (
            Viewer.spectator(session_key=d["alice"].session_key), True),
    }  # fmt: skip
    for who, (viewer, embargoed) in rows.items():
        state = selectors.match_public_state(match=match, viewer=viewer)
        assert state["daily_embargo"] is embargoed, who
        text = json.dumps(state)
        if embargoed:
            assert state["reveal"] is None and not [s for s in DAILY_SECRETS if s in text], who
            (seat,) = state["seats"]
            assert seat == {k: seat[k] for k in visibility.PROGRESS_FIELDS}, who
        else:
            assert state["reveal"]["rule"] == factories.HIDDEN_RULE, who
    # The broadcast of the end: a viewer under embargo gets no reveal, and the step as progress.
    view = visibility.match_view(match=match, viewer=Viewer.spectator())
    end = {"type": "event", "event": "match_finished", "match": match.pk, "seq": 3, "reveal": {"rule": "x"}}
    assert view.event(end)["reveal"] is None
    assert (
        visibility.match_view(match=match, viewer=Viewer.spectator(user_id=d["alice_user"].pk)).event(end)
        == end
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_watching_todays_daily_gets_no_reveal_at_its_end():
    from games.play import daily

    @sync_to_async
    def setup():
        variant = factories.variant()
        m = services.match_create(variant=variant, seed=7, daily=daily.daily_day())
        seat = services.seat_join(match=m, handle="Erin", session_key=factories.session_key())
        services.match_start(match=m)
        return m, seat

    match, seat = await setup()
    watcher = await open_client(match.pk, factories.session_key(), spectate=True)
    await watcher.ask({"type": "resume"}, "state")

    @sync_to_async
    def end():
        services.step_submit(seat=seat, action={"type": "guess", "rule": DAILY_GUESS}, idempotency_key="g")

    await end()
    await watcher.until(lambda m: m.get("event") == "match_finished")
    state = await watcher.ask({"type": "resume"}, "state")
    text = json.dumps(watcher.received) + json.dumps(state)
    assert state["status"] == "finished" and state["daily_embargo"] is True
    assert not [s for s in DAILY_SECRETS if s in text]
    await watcher.close()


@pytest.mark.django_db
def test_a_challenge_to_todays_daily_makes_the_friend_a_daily_match_not_an_open_one():
    """A match on the day's instance that was not a daily match would be listed and revealed to
    everyone once over: a friend challenged to today's daily plays it as their own daily."""
    from games.play import daily

    variant = factories.variant()
    ann, friend = Client(), Client()
    ann_match = Match.objects.get(pk=int(ann.post(f"/daily/{variant.slug}/").url.strip("/").split("/")[-1]))
    reply = friend.post(f"/matches/{ann_match.pk}/challenge/")
    theirs = Match.objects.exclude(pk=ann_match.pk).get(seats__kind=Seat.Kind.HUMAN)
    assert reply.url == f"/matches/{theirs.pk}/"
    assert theirs.daily == daily.daily_day() and theirs.instance_id == ann_match.instance_id
    # yesterday's daily is no secret: a challenge to it is an ordinary unranked match
    Match.objects.filter(pk=ann_match.pk).update(daily=daily.daily_day() - dt.timedelta(days=1))
    Client().post(f"/matches/{ann_match.pk}/challenge/")
    latest = Match.objects.filter(seats__kind=Seat.Kind.HUMAN).order_by("-pk").first()
    assert latest.daily is None and latest.instance_id == ann_match.instance_id and not latest.ranked

"""Who may see what, on every path that carries match data, for every kind of viewer.

One race, two seats: a person in a browser (seat A) and an agent (seat B). Each makes a test
with a value found nowhere else; B then states a rule (with quiz answers) and is scored while
A still plays. Until the match is over nobody may learn a rival's tests, guess, verdict, score
or quiz answers, and nobody the seed or the hidden rule; afterwards everybody may. Every path
below goes through ``games.play.visibility``; a new path gets a row here.
"""

from __future__ import annotations

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

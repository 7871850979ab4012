"""The leaderboard on ratings and a player's own page in a real browser, with a screenshot of each.

Races are played through the services by the engine's solvers: people (guests and one account)
play the info-gain solver but guess after a few tests, the models play info-gain and the random tester, on
three tiers. The ratings are fitted as the task does (twice, an hour apart, so the player's page
has a line of ability over time)."""

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from games.competition import rating_snapshots
from games.engine.core import get_family
from games.models import Match, ModelContestant, Seat
from games.play import services
from tests.workers.helpers import builtin

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def no_model_turns(monkeypatch):
    """The moves are submitted here; queueing real model turns would leave tasks behind."""
    monkeypatch.setattr(services, "model_turn_request", lambda *, seat, turn=None: None)


def race(variant, *, seed, players, budget=10):
    """A finished race: ``players`` are (seat fields, solver, tests before guessing)."""
    match = services.match_create(variant=variant, seed=seed, mode=Match.Mode.RACE, max_tests=budget)
    seats = [(services.seat_join(match=match, **fields), solver, stop) for fields, solver, stop in players]
    services.match_start(match=match)
    family = get_family("wason")
    public = match.instance.public
    for seat, solver, stop in seats:
        history = []
        player = family.make_solver(solver, public, seed + seat.pk)
        while True:
            action = player.act(history, budget - len(history))
            if len(history) >= stop and action["type"] == "test":
                action = {"type": "guess", "rule": player.best_guess(history)}
            outcome = services.step_submit(seat=seat, action=action)
            if action["type"] != "test":
                break
            history.append({"input": outcome.step.action["input"], "result": outcome.step.result["result"]})
    return match


def save(page, name):
    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (REPO / "docs").mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / name), full_page=True)
    shutil.copyfile(artifacts / name, REPO / "docs" / name)


def test_the_leaderboard_shows_ratings_and_a_player_sees_their_page(
    asgi_server, page, no_model_turns, settings
):
    settings.ARENA_RATINGS_ROUNDS = 40
    settings.ARENA_RATINGS_MIN_MATCHES = 3
    builtin("infogain")
    builtin("random-tester")
    ada = User.objects.create_user("ada", password="analytical-engine-1843")
    people = [
        {"handle": "ada", "user": ada, "session_key": "sess-ada"},
        {"handle": "Keen Otter 12", "session_key": "sess-otter"},
        {"handle": "Calm Heron 40", "session_key": "sess-heron"},
    ]
    for tier in (1, 2, 3):
        variant = services.variant_create(
            slug=f"rated-tier-{tier}",
            family="wason",
            title=f"Wason tier {tier}",
            params={"tier": tier},
            published=True,
        )
        for seed in range(3):
            person = people[(seed + tier) % len(people)]
            race(
                variant,
                seed=seed,
                players=[
                    (dict(person), "infogain", 2 + 3 * seed),  # people stop early, late or in between
                    (
                        {"handle": "infogain", "kind": Seat.Kind.MODEL, "contestant": "infogain"},
                        "infogain",
                        10,
                    ),
                    (
                        {"handle": "random", "kind": Seat.Kind.MODEL, "contestant": "random-tester"},
                        "random",
                        4,
                    ),
                ],
            )
    newcomer = services.match_create(variant=variant, seed=9, max_tests=10)  # one match: provisional
    seat = services.seat_join(match=newcomer, handle="Quiet Wren 77", session_key="sess-wren")
    services.match_start(match=newcomer)
    services.step_submit(seat=seat, action={"type": "guess", "rule": "x < y"})
    now = timezone.now()
    rating_snapshots.ratings_refresh(now=now - dt.timedelta(hours=1))
    rating_snapshots.ratings_refresh(now=now)

    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{asgi_server}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "analytical-engine-1843")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"{asgi_server}/leaderboard/")
    board = page.locator("[data-testid=ratings]")
    expect(board).to_be_visible()
    expect(page.locator("[data-testid=ratings-computed]")).to_contain_text("rasch-bt-ridge-1")
    expect(board.locator("tbody tr")).to_have_count(7)  # 6 players and the pooled people
    expect(board.locator("tr.pooled")).to_contain_text("All people")
    wren = board.locator("tr", has_text="Quiet Wren 77")
    expect(wren.locator("[data-testid=provisional]")).to_be_visible()
    expect(board.locator("tr.you")).to_contain_text("ada")
    # the solver's own name: the seeded "Info-gain solver", or "Infogain" where a flushed
    # database (transactional tests on PostgreSQL) lost the seeded row
    solver = ModelContestant.objects.get(slug="infogain").name
    expect(board.locator("tbody tr").first).to_contain_text(solver)
    expect(page.locator("[data-testid=gap]")).to_contain_text(solver)
    for chart in ("chart-abilities", "chart-calibration"):
        drawn = page.evaluate(
            "id => { const c = Chart.getChart(document.getElementById(id)); return c ? c.data.datasets.length : 0 }",
            chart,
        )
        assert drawn >= 1, chart
    page.select_option("#board-kind", "model")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"kind=model"))
    expect(page.locator("[data-testid=ratings] tbody tr")).to_have_count(2)
    page.goto(f"{asgi_server}/leaderboard/")
    save(page, "ratings.png")

    page.locator("[data-testid=ratings] tr.you a").first.click()
    page.wait_for_url(re.compile(r"/players/user-\d+/$"))
    expect(page.locator("h1")).to_contain_text("ada")
    expect(page.locator("[data-testid=player-rating]")).to_contain_text("Ability")
    expect(page.locator("[data-testid=by-tier] tbody tr")).to_have_count(3)
    expect(page.locator("[data-testid=player-matches] tbody tr")).to_have_count(3)
    points = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-history')).data.labels.length"
    )
    assert points == 2
    page.locator("[data-testid=player-matches] a", has_text="replay").first.click()
    page.wait_for_url(re.compile(r"/matches/\d+/replay/$"))
    page.go_back()
    save(page, "player.png")

"""The replay player and the research dashboard in a real browser, with a screenshot of each.

Matches are simulated through the services: the built-in solvers choose the moves of every seat
(a person's seat plays the random tester with a short budget), and the model seats get ModelCall
rows with reasoning text, as the worker pipeline writes them."""

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from games.engine.core import get_family
from games.models import Match, ModelCall, Seat, Step
from games.play import services
from tests import factories
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


def simulate(variant, *, players, budget=8, rng_seed=0):
    """A finished match: ``players`` are (kind, solver, contestant, tests); each seat plays its solver
    until it guesses, has run ``tests`` tests (None: the budget) or runs out of tests. Steps are spaced a few seconds apart on the server clock."""
    match = services.match_create(variant=variant, seed=rng_seed, mode=Match.Mode.RACE, max_tests=budget)
    seats = []
    for i, (kind, _, contestant, _) in enumerate(players):
        handle = f"Player {i + 1}" if kind == Seat.Kind.HUMAN else contestant.replace("-", " ").title()
        seats.append(services.seat_join(match=match, handle=handle, kind=kind, contestant=contestant))
    match = services.match_start(match=match)
    family = get_family("wason")
    instance = match.instance
    clock = match.started
    history = {seat.pk: [] for seat in seats}
    playing = list(zip(seats, [solver for _, solver, _, _ in players], strict=True))
    stop_after = {seat.pk: player[3] or budget for seat, player in zip(seats, players, strict=True)}
    turn = 0
    while playing:
        turn += 1
        for seat, solver in list(playing):
            solver_obj = family.make_solver(solver, instance.public, rng_seed + seat.pk)
            used = len(history[seat.pk])
            action = solver_obj.act(history[seat.pk], budget - used)
            if used >= stop_after[seat.pk] and action["type"] == "test":
                action = {"type": "guess", "rule": solver_obj.best_guess(history[seat.pk])}
            think = 2500 + 700 * (turn % 3) if seat.kind == Seat.Kind.HUMAN else None
            outcome = services.step_submit(seat=seat, action=action, client_think_ms=think)
            clock += dt.timedelta(seconds=2 + (seat.pk + turn) % 4)
            Step.objects.filter(pk=outcome.step.pk).update(created_at=clock)
            if seat.kind == Seat.Kind.MODEL:
                seen = f"Turn {turn}: {len(history[seat.pk])} results so far."
                if action["type"] == "test":
                    thought = f"{seen} Testing {action['input']} splits the surviving rules best."
                else:
                    thought = f"{seen} The simplest rule that fits them all: {action['rule']}."
                ModelCall.objects.create(
                    seat=seat,
                    turn=turn,
                    latency_ms=300.0 + 37 * turn,
                    tokens_in=400 + 60 * turn,
                    tokens_out=45,
                    reasoning=thought,
                    step=outcome.step,
                )
            if action["type"] == "test":
                history[seat.pk].append(
                    {"input": outcome.step.action["input"], "result": outcome.step.result["result"]}
                )
            else:
                playing.remove((seat, solver))
    match.refresh_from_db()
    assert match.status == Match.Status.FINISHED
    return match


def key(page, name):
    """A key press on the page itself (form fields keep their own keys)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(name)


def save(page, name):
    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (REPO / "docs").mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / name), full_page=True)
    shutil.copyfile(artifacts / name, REPO / "docs" / name)


def test_the_replay_steps_through_a_finished_race(asgi_server, page, no_model_turns):
    builtin("infogain")
    match = simulate(
        factories.variant(rule="x < y < z"),
        players=[(Seat.Kind.HUMAN, "random", "", None), (Seat.Kind.MODEL, "infogain", "infogain", None)],
        budget=6,
    )
    steps = list(Step.objects.filter(seat__match=match).order_by("created_at", "id"))
    total = len(steps)
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.set_viewport_size({"width": 1200, "height": 900})

    page.goto(f"{asgi_server}/matches/{match.pk}/replay/")
    expect(page.locator("#rp-position")).to_have_text(f"Step 0 of {total}")
    expect(page.locator(".replay-seat")).to_have_count(2)
    expect(page.locator(".rp-step:visible")).to_have_count(0)
    expect(page.locator("#rp-reveal")).to_be_hidden()

    page.click("#rp-forward")
    expect(page.locator("#rp-position")).to_have_text(f"Step 1 of {total}")
    first = page.locator(f'.replay-seat[data-seat="{steps[0].seat_id}"] .rp-step[data-seq="{steps[0].seq}"]')
    expect(first).to_be_visible()
    expect(first).to_have_attribute("aria-current", "step")
    expect(page.locator("#rp-now")).to_contain_text("Step 1:")

    key(page, "ArrowRight")  # the keyboard steps too
    expect(page.locator("#rp-position")).to_have_text(f"Step 2 of {total}")
    second = page.locator(f'.replay-seat[data-seat="{steps[1].seat_id}"] .rp-step[data-seq="{steps[1].seq}"]')
    expect(second).to_have_attribute("aria-current", "step")
    expect(first).not_to_have_attribute("aria-current", "step")
    key(page, "ArrowLeft")
    expect(page.locator("#rp-position")).to_have_text(f"Step 1 of {total}")

    page.locator("#rp-scrubber").fill("3")
    expect(page.locator("#rp-position")).to_have_text(f"Step 3 of {total}")
    assert page.url.endswith("#step=3")  # the address is the shareable link to this moment

    # model steps show their reasoning and latency, human steps their think time
    model_seat = match.seats.get(kind=Seat.Kind.MODEL)
    expect(page.locator(f'.replay-seat[data-seat="{model_seat.pk}"] .rp-step').first).to_contain_text(
        "latency"
    )
    human_seat = match.seats.get(kind=Seat.Kind.HUMAN)
    expect(page.locator(f'.replay-seat[data-seat="{human_seat.pk}"] .rp-step').first).to_contain_text(
        "think time"
    )

    page.select_option("#rp-speed", "8")
    key(page, " ")
    expect(page.locator("#rp-play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#rp-position")).to_have_text(f"Step {total} of {total}", timeout=20_000)
    expect(page.locator("#rp-play")).to_have_text("Play again")
    expect(page.locator("#rp-reveal")).to_be_visible()
    expect(page.locator("#rp-rule")).to_have_text(match.instance.hidden["rule"])
    expect(page.locator("#rp-verdicts .rp-verdict")).to_have_count(2)

    page.click("#copy-link")
    expect(page.locator("#copy-status")).to_have_text(re.compile(r"copied|copy it"))

    page.locator("#rp-scrubber").fill("2")
    expect(page.locator("#rp-play")).to_have_text("Play")
    key(page, "End")
    expect(page.locator("#rp-position")).to_have_text(f"Step {total} of {total}")
    reasoning = page.locator(f'.replay-seat[data-seat="{model_seat.pk}"] .rp-step details').last
    reasoning.locator("summary").click()
    expect(reasoning.locator("pre")).to_contain_text("The simplest rule that fits them all")
    reasoning.evaluate("node => node.closest('ol').scrollTop = 1e6")  # show it in the picture
    save(page, "replay.png")


def test_the_dashboard_draws_its_charts_for_a_researcher(asgi_server, page, no_model_turns):
    builtin("infogain")
    builtin("random-tester")
    for tier in (1, 2, 3):
        variant = services.variant_create(
            slug=f"dash-tier-{tier}",
            family="wason",
            title=f"Tier {tier}",
            params={"tier": tier},
            published=True,
        )
        for seed in range(3):
            players = [  # people and the random tester stop at different points
                (Seat.Kind.HUMAN, "random", "", 3 + 2 * seed + tier),
                (Seat.Kind.MODEL, "infogain", "infogain", None),
                (Seat.Kind.MODEL, "random", "random-tester", 6 + 2 * seed),
            ]
            simulate(variant, players=players, budget=12, rng_seed=seed)
    user = User.objects.create_user("curie", password="radium-88")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.set_viewport_size({"width": 1200, "height": 900})

    page.goto(f"{asgi_server}/research/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "curie")
    page.fill("#id_password", "radium-88")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/research/$"))

    expect(page.locator("h1")).to_have_text("Research dashboard")
    expect(page.locator("#seat-count")).to_have_text("27")
    for slug in ("solve-rate", "tests-used", "surviving"):
        canvas = page.locator(f"#chart-{slug}")
        expect(canvas).to_be_visible()
        drawn = page.evaluate(
            """slug => {
                const chart = Chart.getChart(document.getElementById("chart-" + slug));
                return chart ? {datasets: chart.data.datasets.map(d => d.label), width: chart.width} : null;
            }""",
            slug,
        )
        assert drawn is not None, f"no Chart on #chart-{slug}"
        assert drawn["datasets"] == ["humans", "infogain", "random-tester"]
        assert drawn["width"] > 300

    download = page.request.get(f"{asgi_server}/research/data/solve-rate.json")
    assert download.ok and len(download.json()["rows"]) == 9
    save(page, "dashboard.png")

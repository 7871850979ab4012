"""A person races the built-in info-gain solver in a real browser; a real Celery worker
plays the model seat. Both seats reach a result; the reveal lists both, with the trace."""

import os
import re
from pathlib import Path

import pytest

from games.models import Match, ModelCall, Seat
from tests import factories
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def celery_worker_process():
    point_the_app_at_the_test_queue()
    worker = Worker()
    worker.wait_ready()
    yield worker
    worker.stop()


def test_a_person_races_the_infogain_solver(asgi_server, celery_worker_process, page):
    factories.variant(rule="x < y < z")
    solver = builtin("infogain")
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)

    page.goto(asgi_server + "/")
    card = page.locator(".card", has=page.get_by_role("button", name="Play Test wason"))
    page.locator("#model-picker").get_by_label(re.compile(r"info-?gain", re.I)).check()
    card.get_by_role("button", name="Race Test wason").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get()
    assert match.mode == "race" and match.seats.count() == 2
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#status")).to_have_text("running")

    # the rival's progress shows up live while its tests stay hidden
    rival = page.locator("#seats .seat").nth(1)
    expect(rival).to_contain_text(re.compile(r"info-?gain", re.I))
    expect(rival).to_contain_text(re.compile(r"[1-9]\d* tests"))
    expect(rival.locator("table")).to_have_count(0)

    page.fill("#input-x", "1")
    page.fill("#input-y", "2")
    page.fill("#input-z", "3")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("(1, 2, 3) fits the rule")
    page.fill("#rule", "x < y and y < z")
    expect(page.locator("#rule-check")).to_have_text("Reads as: x < y and y < z")
    # the application quiz: predict fresh triples with the guess (all or none)
    quiz = page.locator("#quiz-items select")
    expect(quiz).to_have_count(6)
    quiz.nth(0).select_option("yes")
    page.click("#submit-guess")
    expect(page.locator("#messages")).to_contain_text("every quiz item")
    for i in range(6):
        quiz.nth(i).select_option("yes" if i % 2 == 0 else "no")
    page.press("#rule", "Enter")

    # the reveal waits for the model, then lists both seats with the model's trace link
    expect(page.locator("#reveal")).to_be_visible(timeout=120_000)
    expect(page.locator("#reveal-rule")).to_have_text("x < y < z")
    expect(page.locator(".reveal-seat")).to_have_count(2)
    expect(page.locator(".quiz-score")).to_have_count(2)  # the person's and the solver's
    seats = {s.kind: s for s in Match.objects.get().seats.all()}
    assert seats[Seat.Kind.HUMAN].score["solved"] is True
    assert seats[Seat.Kind.MODEL].status in (Seat.Status.FINISHED, Seat.Status.FORFEITED)
    link = page.locator(".trace-link")
    expect(link).to_have_count(1)
    (REPO / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(REPO / "artifacts" / "race-reveal.png"), full_page=True)

    link.click()
    page.wait_for_url(re.compile(r"/trace/$"))
    calls = ModelCall.objects.filter(seat=seats[Seat.Kind.MODEL]).count()
    assert calls >= 1
    expect(page.locator("#call-count")).to_have_text(str(calls))
    expect(page.locator(".trace-call")).to_have_count(calls)
    expect(page.locator(".trace-call").first).to_contain_text("hypotheses")
    page.screenshot(path=str(REPO / "artifacts" / "race-trace.png"), full_page=True)

    # the leaderboard for this puzzle lists the person (marked as you) and the solver
    page.go_back()
    page.click("#see-leaderboard")
    page.wait_for_url(re.compile(r"/leaderboard/\?variant="))
    rows = page.locator("[data-testid=leaderboard] tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.you")).to_contain_text(seats[Seat.Kind.HUMAN].handle)
    expect(page.locator("[data-testid=leaderboard]")).to_contain_text(solver.name)
    page.screenshot(path=str(REPO / "docs" / "leaderboard.png"), full_page=True)

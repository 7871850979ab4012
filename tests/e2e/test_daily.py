"""The daily puzzle in real browsers: two people (a desktop and a phone) and the built-in models,
played by a real Celery worker, get the same instance; nobody sees how the others did until they
have finished, then each sees people and every model side by side, and their streak."""

import os
import re
import time
from pathlib import Path

import pytest

from games.models import Match, Seat
from games.play import daily, services
from tests.e2e.conftest import within_first_screen
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


def wait_for(condition, what, timeout_s=120):
    """Poll the database for a state the worker reaches (a hang guard, not a timing claim)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def open_daily(page, base):
    page.goto(base + "/")
    page.locator("#play-daily").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("#daily-tag")).to_contain_text("the same for everyone")
    return Match.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def guess(page, rule):
    page.fill("#rule", rule)
    expect(page.locator("#rule-check")).to_contain_text("Reads as")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()


def test_two_people_and_the_models_play_the_same_daily_puzzle(asgi_server, celery_worker_process, browser):
    services.variants_sync()
    solvers = [builtin("infogain"), builtin("random-tester")]
    expect.set_options(timeout=20_000)
    ann_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    bob_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    ann, bob = ann_ctx.new_page(), bob_ctx.new_page()

    ann_match = open_daily(ann, asgi_server)
    day = daily.daily_day()
    assert ann_match.daily == day and not ann_match.ranked
    models = daily.daily_models_match(variant=ann_match.instance.variant, day=day)
    assert models is not None and models.instance_id == ann_match.instance_id
    assert {s.contestant for s in models.seats.all()} == {s.slug for s in solvers}
    # the worker plays the models' turns through the real pipeline
    wait_for(lambda: Match.objects.get(pk=models.pk).is_over, "the models to finish the daily puzzle")
    assert all(s.tests_used > 0 or s.steps.exists() for s in models.seats.all())

    # the models are done, yet nothing shows before Ann finishes
    ann.fill("#input-x", "1")
    ann.fill("#input-y", "2")
    ann.fill("#input-z", "3")
    ann.click("#run-test")
    expect(ann.locator("#last-answer")).to_contain_text("(1, 2, 3)")
    expect(ann.locator("#same-puzzle")).to_be_hidden()
    assert "same-puzzle-table" not in ann.content()
    guess(ann, ann_match.instance.hidden["rule"])
    expect(ann.locator("#reveal-seats")).to_contain_text("Right: the same rule.")
    table = ann.locator(".same-puzzle-table")
    expect(table.locator("tbody tr")).to_have_count(1 + len(solvers))  # you, then each model
    expect(table.locator("tr.you")).to_contain_text("You")
    for solver in solvers:
        expect(table.locator(f'tr[data-who="{solver.name}"]')).to_contain_text(solver.name)
    expect(ann.locator("#daily-streak")).to_have_text("Your daily streak: 1 day in a row.")
    ann.locator("#same-puzzle").scroll_into_view_if_needed()
    ann.screenshot(path=str(REPO / "docs" / "daily.png"))

    # Bob, another person on a phone: the same instance, his own match
    bob_match = open_daily(bob, asgi_server)
    assert bob_match.pk != ann_match.pk and bob_match.instance_id == ann_match.instance_id
    assert (
        Match.objects.filter(daily=day).exclude(seats__kind=Seat.Kind.HUMAN).count() == 1
    )  # one models' race
    expect(bob.locator("#same-puzzle")).to_be_hidden()
    # on the phone the test button and the latest answer are on the first screen
    bob.fill("#input-x", "5")
    bob.fill("#input-y", "5")
    bob.fill("#input-z", "5")
    bob.click("#run-test")
    expect(bob.locator("#last-answer")).to_contain_text("(5, 5, 5)")
    for element in ("#run-test", "#last-answer"):
        box = within_first_screen(bob, element)
        assert box["ok"], (element, box)
    guess(bob, "x < 0")
    expect(bob.locator("#reveal-seats")).to_contain_text("Not the same rule.")
    people = bob.locator('.same-puzzle-table tr[data-who="People"]')
    expect(people).to_contain_text("People")
    expect(people.locator("td").nth(2)).to_have_text("100%")  # Ann solved it
    for solver in solvers:
        expect(bob.locator(f'.same-puzzle-table tr[data-who="{solver.name}"]')).to_be_visible()
    assert bob.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # the streak is on the home page too, for each of them
    ann.goto(asgi_server + "/")
    expect(ann.locator("#home-streak")).to_have_text("Your daily streak: 1 day in a row")
    ann_ctx.close()
    bob_ctx.close()

"""A tournament in a real browser: the page follows it live (it refreshes itself) while a real
Celery worker plays every round, and ends with the standings and each round's winners."""

import os
import re
from pathlib import Path

import pytest

from games.competition import tournaments
from tests import factories
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_a_tournament_page_follows_the_tournament_to_its_end(asgi_server, page):
    point_the_app_at_the_test_queue()
    worker = Worker(extra_env={"ARENA_TOURNAMENT_TICK_S": "0.3"})
    try:
        worker.wait_ready()
        variant = factories.variant(rule="x < y < z", max_tests=12)
        tournaments.tournament_create(
            slug="browser-cup",
            title="Browser cup",
            description="Info-gain against random testing on three seeds.",
            variants=[variant],
            contestants=[builtin("infogain"), builtin("random-tester")],
            seeds="0-2",
            concurrency=1,
        )
        expect.set_options(timeout=60_000)
        page.goto(asgi_server + "/")
        page.click("text=Tournaments")
        page.click("text=Browser cup")
        page.wait_for_url(re.compile(r"/tournaments/browser-cup/$"))
        # the page refreshes itself every 5 s until the tournament is over
        expect(page.get_by_test_id("tournament-status")).to_have_text("finished")
        expect(page.get_by_test_id("tournament-progress")).to_have_text("3 of 3 rounds finished")
        expect(page.locator("[data-testid=standings] tbody tr")).to_have_count(2)
        expect(page.locator("[data-testid=rounds] tbody tr")).to_have_count(3)
        expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)  # no more refreshing
        page.screenshot(path=str(REPO / "docs" / "tournament.png"), full_page=True)
        page.locator("[data-testid=rounds] a", has_text="replay").first.click()
        page.wait_for_url(re.compile(r"/matches/\d+/replay/$"))
    finally:
        worker.stop()

"""A person plays a wason puzzle in a real browser while a second page spectates."""

import os
import re
from pathlib import Path

import pytest

from games.models import Match, Step
from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_test(page, x, y, z):
    page.fill("#input-x", str(x))
    page.fill("#input-y", str(y))
    page.fill("#input-z", str(z))
    page.click("#run-test")


def test_a_person_plays_to_the_reveal_while_a_spectator_watches(asgi_server, page, browser):
    factories.variant()  # hidden rule: x + y > z
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)

    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Test wason").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get()
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("#tests-left")).to_have_text("30")

    spectator_context = browser.new_context()
    spectator = spectator_context.new_page()
    spectator.goto(f"{asgi_server}/matches/{match.pk}/spectate/")
    expect(spectator.locator("#connection")).to_have_text("live")

    run_test(page, 3, 4, 5)
    expect(page.locator("#last-answer")).to_have_text("(3, 4, 5) fits the rule")
    run_test(page, 1, 1, 5)
    expect(page.locator("#last-answer")).to_have_text("(1, 1, 5) does not fit the rule")
    expect(page.locator("#tests-left")).to_have_text("28")
    expect(page.locator("#seats tbody tr")).to_have_count(2)
    # the spectator sees the progress arrive live, never the moves while the match runs
    expect(spectator.locator("#seats h3")).to_contain_text("2 tests")
    expect(spectator.locator("#seats tbody tr")).to_have_count(0)

    # a double click applies once
    page.fill("#input-x", "2")
    page.fill("#input-y", "2")
    page.fill("#input-z", "3")
    page.dblclick("#run-test")
    expect(page.locator("#tests-left")).to_have_text("27")
    page.wait_for_timeout(300)
    assert Step.objects.filter(seat__match=match).count() == 3

    # an invalid guess shows the inline error before submission, and nothing is written
    page.fill("#rule", "x + y >")
    expect(page.locator("#rule-check")).to_have_class(re.compile(r"\bbad\b"))
    expect(page.locator("#rule-check")).to_contain_text("column")
    assert Step.objects.filter(seat__match=match).count() == 3

    # a reload resumes from the log
    page.reload()
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#seats tbody tr")).to_have_count(3)

    page.fill("#rule", "z < x + y")
    expect(page.locator("#rule-check")).to_have_text("Reads as: z < x + y")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text(factories.HIDDEN_RULE)
    expect(page.locator("#reveal-seats")).to_contain_text("Right: the same rule.")
    expect(page.locator("#reveal-seats")).to_contain_text("points")
    expect(page.locator("#status")).to_have_text("finished")
    expect(spectator.locator("#reveal-rule")).to_have_text(factories.HIDDEN_RULE)
    # once it is over, the spectator gets every move
    expect(spectator.locator("#seats tbody tr")).to_have_count(4)
    expect(spectator.locator("#seats tbody tr").nth(1)).to_contain_text("does not fit")

    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.screenshot(path=str(artifacts / "e2e-reveal.png"), full_page=True)
    spectator.screenshot(path=str(artifacts / "e2e-spectator.png"), full_page=True)
    (REPO / "docs").mkdir(exist_ok=True)
    page.screenshot(path=str(REPO / "docs" / "screenshot.png"), full_page=True)
    spectator_context.close()


def test_a_wrong_guess_shows_the_counterexample(asgi_server, page):
    factories.variant()
    page.set_default_timeout(15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Test wason").click()
    expect(page.locator("#connection")).to_have_text("live", timeout=15_000)
    page.fill("#rule", "x < y < z")
    expect(page.locator("#rule-check")).to_have_text("Reads as: x < y < z", timeout=15_000)
    page.click("#submit-guess")
    expect(page.locator("#reveal-seats")).to_contain_text("Not the same rule.", timeout=15_000)
    expect(page.locator(".counterexample")).to_contain_text("Counterexample (", timeout=15_000)
    expect(page.locator("#run-test")).to_be_disabled()


def test_a_person_plays_the_card_family_with_card_pickers(asgi_server, page):
    from games.play import services

    services.variant_create(
        slug="cards-e2e",
        family="eleusis",
        title="Cards",
        params={"rule": "rank > prev_rank", "max_tests": 20},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Cards").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#examples")).to_contain_text("Known to fit:")
    expect(page.locator("#test-inputs select")).to_have_count(4)
    expect(page.locator("#rule")).to_have_attribute("placeholder", re.compile(r"prev_rank"))

    page.select_option("#input-prev_rank", label="Q")
    page.select_option("#input-prev_suit", label="♥ hearts")
    page.select_option("#input-rank", label="A")
    page.select_option("#input-suit", label="♣ clubs")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("Q♥ → A♣ does not fit the rule")
    page.select_option("#input-rank", label="K")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("Q♥ → K♣ fits the rule")
    expect(page.locator("#seats tbody tr")).to_have_count(2)

    page.fill("#rule", "prev_rank < rank")
    expect(page.locator("#rule-check")).to_have_text("Reads as: prev_rank < rank")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text("rank > prev_rank")
    page.screenshot(path=str(REPO / "docs" / "cards.png"), full_page=True)

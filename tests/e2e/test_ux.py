"""Input the player did not mean costs no test; the match page works on a phone."""

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


def start_match(page, base):
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(base + "/")
    page.get_by_role("button", name="Play Test wason").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    return Match.objects.get()


@pytest.mark.parametrize(
    ("typed", "why"),
    [("1,2", "comma"), ("1.2.3", "more than one decimal point"), ("1e3", "not a number"), ("", "type a number")],
)
def test_a_number_the_player_did_not_mean_costs_no_test(asgi_server, page, typed, why):
    factories.variant()
    match = start_match(page, asgi_server)
    expect(page.locator("#tests-left")).to_have_text("30")
    page.fill("#input-x", typed)
    page.fill("#input-y", "4")
    page.fill("#input-z", "5")
    page.click("#run-test")
    expect(page.locator("#input-error")).to_be_visible()
    expect(page.locator("#input-error")).to_contain_text(why)
    expect(page.locator("#input-error")).to_contain_text("No test was used")
    expect(page.locator("#input-x")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#input-x")).to_be_focused()
    expect(page.locator("#input-x")).to_have_value(typed)  # never rewritten to 12 or 1.23
    page.wait_for_timeout(300)
    expect(page.locator("#tests-left")).to_have_text("30")
    assert not Step.objects.filter(seat__match=match).exists()

    # corrected, the same form runs exactly the test typed
    page.fill("#input-x", "-1.5")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("(-1.5, 4, 5) does not fit the rule")
    expect(page.locator("#input-error")).to_be_hidden()
    expect(page.locator("#tests-left")).to_have_text("29")
    assert [s.action["input"] for s in Step.objects.filter(seat__match=match)] == [[-1.5, 4, 5]]

"""The guided first puzzle ("Learn in one minute"): a first-time visitor is offered it, gets a hint
at each step (what a test is, a test that could fail, how to write the rule), finishes it, and
is not offered it first again: a guest's browser remembers (session and local storage), an
account remembers a skip."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from games.models import Match, PlayerProfile
from games.play import services

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def run_test(page, values):
    for name, value in zip("xyz", values, strict=True):
        page.fill(f"#input-{name}", str(value))
    page.click("#run-test")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_first_time_visitor_completes_the_guided_puzzle(asgi_server, browser, viewport):
    services.variants_sync()
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=viewport == "phone")
    page = context.new_page()
    expect.set_options(timeout=15_000)

    page.goto(asgi_server + "/")
    expect(page.locator("#first-visit")).to_be_visible()
    # the guide is not one of the listed puzzles
    expect(page.locator(".card", has_text="Learn in one minute")).to_have_count(0)
    page.click("#learn")
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get()
    assert match.instance.variant.slug == "wason-learn" and not match.ranked
    guide = page.locator("#guide")
    expect(guide).to_have_attribute("data-step", "1")
    expect(guide.locator(".guide-step:visible")).to_contain_text("What a test is")
    expect(page.locator("#guide-progress")).to_have_text("· step 1 of 3")

    run_test(page, (2, 4, 6))
    expect(page.locator("#last-answer")).to_have_text("(2, 4, 6) fits the rule")
    expect(guide).to_have_attribute("data-step", "2")
    expect(guide.locator(".guide-step:visible")).to_contain_text("Test what could fail")
    expect(page.locator("#guide-last")).to_have_text("(2, 4, 6) fits the rule.")
    if viewport == "desktop":
        page.screenshot(path=str(REPO / "docs" / "guide.png"))

    run_test(page, (1, 2, 50))
    expect(page.locator("#last-answer")).to_have_text("(1, 2, 50) fits the rule")
    run_test(page, (6, 4, 2))
    expect(page.locator("#last-answer")).to_have_text("(6, 4, 2) does not fit the rule")
    expect(guide).to_have_attribute("data-step", "3")
    expect(guide.locator(".guide-step:visible")).to_contain_text("Write the rule")

    page.fill("#rule", "x < y and y < z")
    expect(page.locator("#rule-check")).to_have_text("Reads as: x < y and y < z")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal-seats")).to_contain_text("Right: the same rule.")
    expect(guide).to_have_attribute("data-step", "4")
    expect(guide.locator(".guide-step:visible")).to_contain_text("That is the whole game")
    expect(page.locator("#guide-skip")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # remembered: the home page no longer offers it first (the session says so) ...
    page.wait_for_function("localStorage.getItem('arena.guide') === 'done'")
    page.click("#guide-next")
    page.wait_for_url(asgi_server + "/")
    expect(page.locator("#first-visit")).to_have_count(0)
    expect(page.locator("#learn-again")).to_be_visible()
    # ... and a new session in the same browser is remembered by its local storage
    context.clear_cookies()
    page.reload()
    expect(page.locator("#start-here")).to_be_visible()
    expect(page.locator("#first-visit")).to_be_hidden()
    context.close()


def test_a_signed_in_player_who_skips_is_not_offered_the_guide_again(asgi_server, browser):
    services.variants_sync()
    User.objects.create_user("ada", password="engine-1843")
    expect.set_options(timeout=15_000)

    def signed_in_page():
        context = browser.new_context()
        page = context.new_page()
        page.goto(asgi_server + "/accounts/login/")
        page.fill("#id_username", "ada")
        page.fill("#id_password", "engine-1843")
        page.get_by_role("button", name="Log in").click()
        page.goto(asgi_server + "/")
        return page

    page = signed_in_page()
    expect(page.locator("#first-visit")).to_be_visible()
    page.click("#learn")
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    page.click("#guide-skip")
    page.wait_for_url(asgi_server + "/")
    expect(page.locator("#first-visit")).to_have_count(0)
    assert PlayerProfile.objects.get(user__username="ada").guide_done_at is not None
    page.context.close()
    # another browser, the same account: the flag, not the browser, remembers
    other = signed_in_page()
    expect(other.locator("#start-here")).to_be_visible()
    expect(other.locator("#first-visit")).to_have_count(0)
    other.context.close()

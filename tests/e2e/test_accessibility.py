"""axe-core, injected into the real pages by Playwright, finds no serious or critical violation on
the home, match (playing and revealed), replay, leaderboard and research pages, on a desktop and
on a phone."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from games.models import Match
from games.play import services
from tests.e2e.conftest import axe_blocking_violations
from tests.workers.helpers import builtin

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def assert_accessible(page, where):
    found = axe_blocking_violations(page)
    assert not found, f"{where}: " + "\n".join(found)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{where} scrolls sideways"
    )


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_no_serious_axe_violation_on_the_main_pages(asgi_server, browser, viewport):
    services.variants_sync()
    builtin("infogain")
    User.objects.create_user("curie", password="radium-88").groups.add(
        Group.objects.get_or_create(name="researchers")[0]
    )
    # The strict CSP forbids inline scripts; axe is injected as one, so this context bypasses it
    # (test_csp.py checks the pages under the policy).
    context = browser.new_context(viewport=VIEWPORTS[viewport], bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)

    page.goto(asgi_server + "/")
    assert_accessible(page, "home")

    page.locator("#start-here").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    assert_accessible(page, "match, before the first test")
    for box, value in zip(("#input-x", "#input-y", "#input-z"), ("2", "4", "6"), strict=True):
        page.fill(box, value)
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_contain_text("(2, 4, 6)")
    assert_accessible(page, "match, after a test")
    page.fill("#rule", "x < y < z")
    expect(page.locator("#rule-check")).to_contain_text("Reads as")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    assert_accessible(page, "match, revealed")

    match = Match.objects.get()
    page.goto(f"{asgi_server}/matches/{match.pk}/replay/")
    expect(page.locator("#rp-position")).to_contain_text("Step 0 of")
    assert_accessible(page, "replay")
    page.goto(f"{asgi_server}/leaderboard/")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page, "leaderboard")

    page.goto(f"{asgi_server}/accounts/login/?next=/research/")
    page.fill("#id_username", "curie")
    page.fill("#id_password", "radium-88")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/research/$"))
    expect(page.locator("h1")).to_have_text("Research dashboard")
    assert_accessible(page, "research")
    context.close()


def test_the_check_itself_finds_what_it_should(page):
    """A page with a nameless button and faint text fails: the check above can fail."""
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><button></button>'
        '<p style="color:#eee;background:#fff">faint</p></main></body></html>'
    )
    found = " ".join(axe_blocking_violations(page))
    assert "button-name" in found and "color-contrast" in found

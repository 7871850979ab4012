"""A person plays a ``rewrite`` cascade in a real browser to the reveal, with the generic string
widget: nothing in the page knows the family."""

import os
import re
from pathlib import Path

import pytest

from games.play import services

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_person_plays_a_rewrite_cascade_to_the_reveal(asgi_server, page):
    services.variant_create(
        slug="rewrite-e2e",
        family="rewrite",
        title="Rewrites",
        params={"rule": "ab -> ba; c -> a", "max_tests": 10},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Rewrites").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#test-inputs input")).to_have_count(1)
    expect(page.locator("#examples")).to_contain_text("Examples: ")
    expect(page.locator("#examples")).to_contain_text(" → ")

    page.fill("#input-value", "abc")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text('"abc" → "baa"')
    expect(page.locator("#tests-left")).to_have_text("9")

    page.fill("#rule", "ab -> ba;")
    expect(page.locator("#rule-check")).to_have_text("Reads as: ab -> ba")
    page.fill("#rule", "ab => ba")
    expect(page.locator("#rule-check")).to_have_class(re.compile(r"\bbad\b"))

    page.fill("#rule", "ab->ba; c->a")
    expect(page.locator("#rule-check")).to_have_text("Reads as: ab -> ba; c -> a")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text("ab -> ba; c -> a")

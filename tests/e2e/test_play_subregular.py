"""A person plays the ``subregular`` family in a real browser: string tests, string answers, a
local-rule guess checked as it is typed, to the reveal."""

import os
import re
from pathlib import Path

import pytest

from games.engine import get_family
from games.models import Match

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_person_plays_local_rewrites_to_the_reveal(asgi_server, page):
    from games.play import services

    services.variant_create(
        slug="subregular-e2e",
        family="subregular",
        title="Strings e2e",
        params={"k": 2, "alphabet": 3, "rules": 2, "mode": "ISL", "max_tests": 30},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Strings e2e", exact=True).click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#examples")).to_contain_text("Examples: ")
    expect(page.locator("#examples")).to_contain_text(" → ")
    hidden = Match.objects.get().instance.hidden["rule"]
    function = get_family("subregular").extras["parse"](hidden)

    page.fill("#input-value", "abcabc")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_contain_text(f'"{function.apply("abcabc")}"')
    page.fill("#input-value", "abz")
    page.click("#run-test")
    expect(page.locator("body")).to_contain_text("'z' is not one of them")
    expect(page.locator("#tests-left")).to_have_text("29")

    page.fill("#rule", "ab:b -> cc")
    expect(page.locator("#rule-check")).to_have_class(re.compile(r"\bbad\b"))
    page.fill("#rule", hidden)
    expect(page.locator("#rule-check")).to_have_text(f"Reads as: {hidden}")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text(hidden)
    expect(page.locator("#reveal-seats")).to_contain_text("Right: the same rule.")

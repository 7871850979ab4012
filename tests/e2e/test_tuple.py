"""A person plays an admin-made 4-variable decimal ``tuples`` variant in a real browser to the
reveal: one box per declared variable, exact decimals, nothing in the page knows the family."""

import os
import re
from pathlib import Path

import pytest

from games.play import services, variants

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PARAMS = {
    "variables": "a: decimal 0..2 places 1, b: decimal 0..2 places 1, c: int 0..3, d: decimal -1..1 places 1",
    "rule": "a + b == c + d",
    "instructions": "Four readings of a gauge.",
    "max_tests": 10,
}


def test_a_person_plays_an_admin_made_decimal_tuple_to_the_reveal(asgi_server, page):
    variants.variant_check(family_id="tuples", params=PARAMS, rules=[])  # what the admin form runs
    services.variant_create(
        slug="gauge-e2e", family="tuples", title="Gauge readings", params=PARAMS, published=True
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Gauge readings").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#test-inputs input")).to_have_count(4)
    expect(page.locator("#description")).to_contain_text("Four readings of a gauge.")

    for name, value in zip("abcd", ("0.1", "0.2", "0", "0.3")):
        page.fill(f"#input-{name}", value)
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_contain_text("fits the rule")  # exact: 0.1 + 0.2 == 0.3
    expect(page.locator("#tests-left")).to_have_text("9")

    page.fill("#rule", "a + b == c + d")
    expect(page.locator("#rule-check")).to_contain_text("Reads as:")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text("a + b == c + d")
    expect(page.locator("#reveal-seats")).to_contain_text("Right: the same rule.")

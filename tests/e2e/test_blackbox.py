"""A person plays the ``blackbox`` family (list programs) in a real browser to the reveal: the
generic integer-list widget, list and integer answers, the syntax checker on the guess."""

import json
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


def test_a_person_plays_a_list_program_to_the_reveal(asgi_server, page):
    from games.play import services

    services.variant_create(
        slug="blackbox-e2e",
        family="blackbox",
        title="List programs",
        params={"depth": 2, "primitives": "full", "max_tests": 20},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play List programs").click()
    page.wait_for_url(re.compile(r"/matches/(\d+)/$"))
    match_id = int(re.search(r"/matches/(\d+)/$", page.url).group(1))
    hidden = Match.objects.get(pk=match_id).instance.hidden["rule"]
    evaluate = get_family("blackbox").extras["evaluate"]
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#input-value")).to_be_visible()
    assert hidden not in page.content()

    page.fill("#input-value", "3, -1, 2")
    page.click("#run-test")
    expected = "→ " + json.dumps(evaluate(hidden, [3, -1, 2]), separators=(",", ":"))
    expect(page.locator("#last-answer")).to_have_text(f"[3, -1, 2] {expected}")

    page.fill("#rule", "map(y, xs)")
    expect(page.locator("#rule-check")).to_contain_text("unknown name 'y'")
    page.fill("#rule", hidden)
    expect(page.locator("#rule-check")).to_have_text(f"Reads as: {hidden}")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text(hidden)

"""A person states hypotheses in a real browser: the box appears only when the variant asks, a
required one is asked for before the test is sent, and each test's hypothesis is stored, shown
in the log and in the replay with its measures."""

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

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_test(page, x, y, z):
    page.fill("#input-x", str(x))
    page.fill("#input-y", str(y))
    page.fill("#input-z", str(z))
    page.click("#run-test")


def test_a_person_states_a_hypothesis_before_each_test(asgi_server, page):
    factories.variant(hypothesis_mode="required")  # hidden rule: x + y > z
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Test wason").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get()
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#hypothesis-box")).to_be_visible()
    expect(page.locator("#hypothesis-need")).to_have_text("(required with each test)")

    run_test(page, 1, 2, 3)  # no hypothesis yet: asked for, nothing sent
    expect(page.locator("#messages")).to_contain_text("State your current hypothesis")
    assert Step.objects.filter(seat__match=match).count() == 0

    page.fill("#hypothesis", "x > 0")
    run_test(page, 1, 2, 3)
    expect(page.locator("#tests-left")).to_have_text("29")
    expect(page.locator("#seats tbody tr").first).to_contain_text("hypothesis: x > 0")
    page.fill("#hypothesis", "going up")  # not a rule: kept, flagged
    run_test(page, 1, 1, 5)
    expect(page.locator("#seats tbody tr").nth(1)).to_contain_text("not a well-formed rule")
    page.fill("#hypothesis", "x + y > z")
    run_test(page, 2, 2, 1)
    expect(page.locator("#tests-left")).to_have_text("27")
    stored = [s.hypothesis for s in Step.objects.filter(seat__match=match).order_by("seq")]
    assert [(h["text"], h["parsed"]) for h in stored] == [
        ("x > 0", True),
        ("going up", False),
        ("x + y > z", True),
    ]

    page.fill("#rule", "x + y > z")
    page.click("#submit-guess")
    expect(page.locator("#reveal")).to_be_visible()
    page.goto(f"{asgi_server}/matches/{match.pk}/replay/")
    page.click("#rp-end")
    expect(page.locator(".rp-hypothesis").first).to_contain_text("x > 0 (positive test, refuted)")
    expect(page.locator(".rp-hypothesis").nth(2)).to_contain_text("equivalent to the hidden rule")

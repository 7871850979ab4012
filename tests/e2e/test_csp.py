"""Under the strict Content-Security-Policy the pages still work in a real browser, and the
browser reports no violation: a match over the WebSocket (connect-src 'self'), the site's log-in,
the research dashboard's charts (Chart.js) and the API docs."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLLECT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", e => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_pages_work_under_the_csp_with_no_violation(asgi_server, page):
    factories.variant()
    User.objects.create_superuser("curie", password="radium-88-long")
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(COLLECT)
    page.set_default_timeout(15_000)
    violations = []

    def visit_done():
        violations.extend(page.evaluate("window.__cspViolations || []"))

    response = page.goto(asgi_server + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("button", name="Play Test wason").click()
    expect(page.locator("#connection")).to_have_text("live", timeout=15_000)
    page.fill("#rule", "x < y < z")
    page.click("#submit-guess")
    expect(page.locator("#reveal-seats")).to_contain_text("Not the same rule.", timeout=15_000)
    visit_done()

    page.goto(f"{asgi_server}/research/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "curie")
    page.fill("#id_password", "radium-88-long")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/research/$"))
    expect(page.locator("h1")).to_have_text("Research dashboard")
    page.wait_for_function("() => typeof Chart !== 'undefined'")
    visit_done()

    page.goto(f"{asgi_server}/api/docs")
    expect(page.locator("p.lede.pre-line")).to_have_css("white-space", "pre-line")
    visit_done()
    page.goto(f"{asgi_server}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    visit_done()

    assert violations == [] and console == []

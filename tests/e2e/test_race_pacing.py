"""Race pacing: a rival's moves arrive as they are made, and the page counts them up one test at a
time with a short animation (never a jump from 0 to done); its status shows once the count has
caught up. With prefers-reduced-motion the count is shown without animation."""

import json
import os
import re
import threading
from pathlib import Path

import pytest
from django.db import connection

from games.api.auth import agent_token_create
from games.models import Match, Seat
from games.play import services
from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

RIVAL_TESTS = [[1, 2, 3], [2, 4, 6], [3, 2, 1], [1, 1, 1], [5, 6, 7], [10, 20, 30]]

# Every value the rival's heading shows, as (tests shown, status shown, animated), in order.
WATCH = """(seatId) => {
  window.__seen = [];
  const read = () => {
    const wrap = document.querySelector('#seats .seat[data-seat="' + seatId + '"]');
    const count = wrap && wrap.querySelector('.rival-tests');
    if (!count) return;
    const row = [Number(count.dataset.tests), wrap.querySelector('.rival-status').textContent,
                 count.classList.contains('tick') && getComputedStyle(count).animationName !== 'none'];
    const last = window.__seen[window.__seen.length - 1];
    if (!last || last[0] !== row[0] || last[1] !== row[1] || (row[2] && !last[2])) window.__seen.push(row);
  };
  new MutationObserver(read).observe(document.getElementById('seats'),
    {subtree: true, childList: true, characterData: true, attributes: true});
  read();
}"""


def race_with_an_agent():
    token, _ = agent_token_create(name="quick-agent")
    match = services.match_create(variant=factories.variant(), seed=5, mode=Match.Mode.RACE)
    key = factories.session_key()
    services.seat_join(match=match, handle="Alice", session_key=key)
    rival = services.seat_join(match=match, handle="quick-agent", kind=Seat.Kind.AGENT, agent_token=token)
    return services.match_start(match=match), rival, key


def rival_plays_a_burst(rival):
    """The rival's six tests and its guess, one right after another, from a thread of its own
    (Playwright's event loop runs in this one, and the write path publishes synchronously)."""

    def play():
        try:
            for i, values in enumerate(RIVAL_TESTS):
                services.step_submit(
                    seat=rival, action={"type": "test", "input": values}, idempotency_key=f"r{i}"
                )
            services.step_submit(seat=rival, action={"type": "guess", "rule": "x < y"}, idempotency_key="rg")
        finally:
            connection.close()

    thread = threading.Thread(target=play)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()


def open_page(browser, asgi_server, match, key, *, reduced_motion):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        reduced_motion="reduce" if reduced_motion else "no-preference",
    )
    context.add_cookies([{"name": "sessionid", "value": key, "url": asgi_server}])
    page = context.new_page()
    page.goto(f"{asgi_server}/matches/{match.pk}/")
    return page


def test_a_rivals_burst_of_tests_ticks_up_one_at_a_time_with_an_animation(asgi_server, browser):
    match, rival, key = race_with_an_agent()
    page = open_page(browser, asgi_server, match, key, reduced_motion=False)
    heading = page.locator(f'#seats .seat[data-seat="{rival.pk}"] h3')
    expect(heading).to_have_text("quick-agent · playing · 0 tests")
    page.evaluate(WATCH, rival.pk)
    rival_plays_a_burst(rival)
    expect(heading).to_have_text("quick-agent · finished · 6 tests", timeout=20_000)
    seen = page.evaluate("window.__seen")
    counts = [c for c, _, _ in seen]
    assert counts == sorted(counts) and counts[-1] == len(RIVAL_TESTS), seen
    assert all(b - a <= 1 for a, b in zip(counts, counts[1:], strict=False)), seen  # never a jump
    assert all(status == "playing" for c, status, _ in seen if c < len(RIVAL_TESTS)), seen
    assert any(animated for _, _, animated in seen), seen  # each new count pulses


def test_a_burst_that_arrives_at_once_still_counts_up(asgi_server, browser):
    """The rival's test events never reach the page (dropped on the way, as after a lost
    connection); its guess does, out of sequence, so the page resyncs from a snapshot that says
    6 tests and finished at once. The page still counts 1, 2, ... 6, and says finished last."""
    match, rival, key = race_with_an_agent()
    dropped = []

    def relay(ws):
        server = ws.connect_to_server()

        def from_server(message):
            data = json.loads(message)
            rivals_test = (
                data.get("type") == "event"
                and data.get("event") == "progress"
                and data["seat"]["id"] == rival.pk
                and data["seat"]["status"] == "playing"
            )
            if rivals_test:
                dropped.append(data["seq"])
            else:
                ws.send(message)

        server.on_message(from_server)

    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="no-preference")
    context.add_cookies([{"name": "sessionid", "value": key, "url": asgi_server}])
    page = context.new_page()
    page.route_web_socket(re.compile(r"/ws/matches/"), relay)
    page.goto(f"{asgi_server}/matches/{match.pk}/")
    heading = page.locator(f'#seats .seat[data-seat="{rival.pk}"] h3')
    expect(heading).to_have_text("quick-agent · playing · 0 tests")
    page.evaluate(WATCH, rival.pk)
    rival_plays_a_burst(rival)
    expect(heading).to_have_text("quick-agent · finished · 6 tests", timeout=20_000)
    assert len(dropped) == len(RIVAL_TESTS)
    seen = page.evaluate("window.__seen")
    assert [c for c, _, _ in seen] == list(range(len(RIVAL_TESTS) + 1)), seen
    assert [status for _, status, _ in seen] == ["playing"] * len(RIVAL_TESTS) + ["finished"], seen
    expect(page.locator("#race-news")).to_have_text("quick-agent made their guess after 6 tests.")


def test_with_reduced_motion_the_count_is_shown_without_animation(asgi_server, browser):
    match, rival, key = race_with_an_agent()
    page = open_page(browser, asgi_server, match, key, reduced_motion=True)
    heading = page.locator(f'#seats .seat[data-seat="{rival.pk}"] h3')
    expect(heading).to_have_text("quick-agent · playing · 0 tests")
    page.evaluate(WATCH, rival.pk)
    rival_plays_a_burst(rival)
    expect(heading).to_have_text("quick-agent · finished · 6 tests", timeout=20_000)
    seen = page.evaluate("window.__seen")
    assert not any(animated for _, _, animated in seen), seen

"""Races with friends: a host starts a lobby with a model, a friend joins from the invite link in
another browser (a phone), the lobby shows who joined live, nobody moves until the host says go,
then each sees the other's progress but not their tests, and the reveal names the winner. A real
Celery worker plays the model seat."""

import os
import re
from pathlib import Path

import pytest

from games.models import Match, ModelCall, Seat, Step
from tests import factories
from tests.e2e.conftest import axe_blocking_violations, within_first_screen
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def celery_worker_process():
    point_the_app_at_the_test_queue()
    worker = Worker()
    worker.wait_ready()
    yield worker
    worker.stop()


def run_test(page, values):
    for name, value in zip("xyz", values, strict=True):
        page.fill(f"#input-{name}", str(value))
    page.click("#run-test")


def test_two_browsers_race_each_other_and_a_model_from_an_invite_link(
    asgi_server, celery_worker_process, browser
):
    factories.variant(rule="x < y < z")
    solver = builtin("infogain")
    expect.set_options(timeout=20_000)
    # the host's context lets axe in (the friend's keeps the strict CSP)
    host_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    friend_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    host, friend = host_ctx.new_page(), friend_ctx.new_page()

    # the host makes the race, with the model picked on the home page
    host.goto(asgi_server + "/")
    host.locator("#model-picker").get_by_label(re.compile(r"info-?gain", re.I)).check()
    host.get_by_role("button", name="Race friends on Test wason").click()
    host.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get()
    assert match.mode == Match.Mode.RACE and match.status == Match.Status.WAITING and not match.ranked
    expect(host.locator("#status")).to_have_text("waiting")
    expect(host.locator("#lobby-seats li")).to_have_count(2)
    expect(host.locator("#lobby-seats")).to_contain_text(solver.name)
    expect(host.locator("#run-test")).to_be_disabled()
    invite = host.locator("#invite-link").input_value()
    assert not axe_blocking_violations(host), "the lobby"
    assert invite.endswith(f"/matches/{match.pk}/join/")

    # the friend opens the link on a phone and joins
    friend.goto(invite)
    host_handle = match.seats.get(kind=Seat.Kind.HUMAN).handle
    expect(friend.locator("h1")).to_have_text(f"{host_handle} invites you to a race")
    expect(friend.locator("#join-seats li")).to_have_count(2)
    assert friend.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the invite page"
    friend.click("#join-race")
    friend.wait_for_url(re.compile(rf"/matches/{match.pk}/$"))
    expect(friend.locator("#lobby-seats li")).to_have_count(3)
    expect(friend.locator("#lobby-wait")).to_be_visible()
    expect(friend.locator("#start-race")).to_have_count(0)
    assert friend.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the lobby"
    # the host's lobby shows the newcomer without a reload
    expect(host.locator("#lobby-seats li")).to_have_count(3)
    host.screenshot(path=str(REPO / "docs" / "lobby.png"))
    friend_seat = match.seats.filter(kind=Seat.Kind.HUMAN).order_by("pk").last()
    expect(host.locator(f'#lobby-seats li[data-seat="{friend_seat.pk}"]')).to_have_text(friend_seat.handle)
    # nothing moves before the host says go: no step, no model call
    assert not Step.objects.filter(seat__match=match).exists()
    assert not ModelCall.objects.filter(seat__match=match).exists()
    # the invite link again, opened by someone already in: straight back to the match
    friend.goto(invite)
    friend.wait_for_url(re.compile(rf"/matches/{match.pk}/$"))
    expect(friend.locator("#status")).to_have_text("waiting")

    host.click("#start-race")
    expect(host.locator("#status")).to_have_text("running")
    expect(friend.locator("#status")).to_have_text("running")
    expect(friend.locator("#lobby")).to_be_hidden()
    expect(friend.locator("#race-news")).to_have_text("The race has started. Go!")
    # a late-comer cannot join any more
    late = browser.new_context().new_page()
    late.goto(invite)
    expect(late.locator("#join-race")).to_have_count(0)
    expect(late.locator("main")).to_contain_text("already started")
    late.context.close()

    run_test(friend, (1, 2, 3))
    expect(friend.locator("#last-answer")).to_have_text("(1, 2, 3) fits the rule")
    # on the phone the test button and the latest answer are on the first screen
    for element in ("#run-test", "#last-answer"):
        box = within_first_screen(friend, element)
        assert box["ok"], (element, box)
    # the host sees the friend's progress live, never the test itself
    rival = host.locator(f'#seats .seat[data-seat="{friend_seat.pk}"]')
    expect(rival).to_contain_text("1 test")
    expect(rival.locator("table")).to_have_count(0)
    expect(host.locator(f'#seats .seat:has-text("{solver.name}")')).to_contain_text(
        re.compile(r"[1-9]\d* tests?")
    )

    run_test(host, (3, 2, 1))
    expect(host.locator("#last-answer")).to_have_text("(3, 2, 1) does not fit the rule")
    host.fill("#rule", "x < y and y < z")
    expect(host.locator("#rule-check")).to_have_text("Reads as: x < y and y < z")
    host.press("#rule", "Enter")
    friend.fill("#rule", "x < z")
    expect(friend.locator("#rule-check")).to_have_text("Reads as: x < z")
    friend.press("#rule", "Enter")

    # once the model is done too, both see the same reveal and the finish moment
    for page in (host, friend):
        expect(page.locator("#reveal")).to_be_visible(timeout=120_000)
        expect(page.locator(".reveal-seat")).to_have_count(3)
        expect(page.locator("#race-result")).to_contain_text("won the race")
    # now every log is open: the friend's test shows on the host's page
    expect(host.locator(f'#seats .seat[data-seat="{friend_seat.pk}"] table')).to_contain_text("(1, 2, 3)")
    (REPO / "artifacts").mkdir(exist_ok=True)
    friend.screenshot(path=str(REPO / "artifacts" / "race-friends-phone.png"), full_page=True)
    host_ctx.close()
    friend_ctx.close()

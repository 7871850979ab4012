"""Input the player did not mean costs no test; the match page works on a phone."""

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

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def start_match(page, base):
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(base + "/")
    page.get_by_role("button", name="Play Test wason").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    return Match.objects.get()


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("1,2", "comma"),
        ("1.2.3", "more than one decimal point"),
        ("1e3", "not a number"),
        ("", "type a number"),
    ],
)
def test_a_number_the_player_did_not_mean_costs_no_test(asgi_server, page, typed, why):
    factories.variant()
    match = start_match(page, asgi_server)
    expect(page.locator("#tests-left")).to_have_text("30")
    page.fill("#input-x", typed)
    page.fill("#input-y", "4")
    page.fill("#input-z", "5")
    page.click("#run-test")
    expect(page.locator("#input-error")).to_be_visible()
    expect(page.locator("#input-error")).to_contain_text(why)
    expect(page.locator("#input-error")).to_contain_text("No test was used")
    expect(page.locator("#input-x")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#input-x")).to_be_focused()
    expect(page.locator("#input-x")).to_have_value(typed)  # never rewritten to 12 or 1.23
    page.wait_for_timeout(300)
    expect(page.locator("#tests-left")).to_have_text("30")
    assert not Step.objects.filter(seat__match=match).exists()

    # corrected, the same form runs exactly the test typed
    page.fill("#input-x", "-1.5")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("(-1.5, 4, 5) does not fit the rule")
    expect(page.locator("#input-error")).to_be_hidden()
    expect(page.locator("#tests-left")).to_have_text("29")
    assert [s.action["input"] for s in Step.objects.filter(seat__match=match)] == [[-1.5, 4, 5]]


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_match_page_works_on_a_phone(asgi_server, browser):
    factories.variant()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    match = start_match(page, asgi_server)
    assert page.evaluate("window.scrollY") == 0
    run = page.locator("#run-test").bounding_box()
    assert run["y"] >= 0 and run["y"] + run["height"] <= 844, run
    for field in ("#input-x", "#input-y", "#input-z"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, (
            field,
            box,
        )

    page.fill("#input-x", "3")
    page.fill("#input-y", "4")
    page.fill("#input-z", "5")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("(3, 4, 5) fits the rule")
    answer = page.locator("#last-answer").bounding_box()
    assert answer["y"] + answer["height"] <= 844, answer
    assert no_sideways_scroll(page)
    (REPO / "docs").mkdir(exist_ok=True)
    page.screenshot(path=str(REPO / "docs" / "phone-match.png"))
    # the puzzle text is one tap away
    expect(page.locator("a[href='#about-panel']")).to_be_visible()

    page.fill("#rule", "z < x + y")
    expect(page.locator("#rule-check")).to_have_text("Reads as: z < x + y")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-seats")).to_contain_text("Solved with 1 of 30 tests")
    # a spoiler-free result and a link that invites a friend to the same puzzle
    expect(page.locator("#share-text")).to_have_value("Induction Arena · Test wason\nSolved with 1 test\n🟩")
    expect(page.locator("#share-link")).to_have_value(re.compile(rf"/matches/{match.pk}/challenge/$"))
    assert no_sideways_scroll(page)

    for path in ("/", "/leaderboard/", f"/matches/{match.pk}/replay/"):
        page.goto(asgi_server + path)
        page.wait_for_load_state("networkidle")
        assert no_sideways_scroll(page), path
    context.close()


def test_the_home_page_says_where_to_begin_and_has_one_model_picker(asgi_server, page):
    from games.play import services

    services.variants_sync()
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(asgi_server + "/")
    start = page.locator("#start-here")
    expect(start).to_contain_text("Wason tier 1")
    expect(page.locator(".family-h").first).to_contain_text("2-4-6")
    expect(page.locator("#learn")).to_have_text("Learn in one minute")
    expect(page.locator("#how-to summary")).to_have_text("How it works, in three lines")
    page.locator("#how-to summary").click()
    expect(page.locator("#how-to ol li")).to_have_count(3)
    # one picker of models for every puzzle, not one per card
    expect(page.locator("fieldset#model-picker")).to_have_count(
        1 if page.locator("#model-picker input").count() else 0
    )
    expect(page.locator(".card fieldset")).to_have_count(0)
    page.screenshot(path=str(REPO / "docs" / "home.png"))
    start.click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    assert Match.objects.get().instance.variant.slug == "wason-tier-1"
    expect(page.locator("#scoring")).to_contain_text("100 points minus 50")

    # today's puzzle: the same instance for two people
    page.goto(asgi_server + "/")
    page.locator("#play-daily").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    friend = page.context.browser.new_context().new_page()
    friend.goto(asgi_server + "/")
    friend.locator("#play-daily").click()
    friend.wait_for_url(re.compile(r"/matches/\d+/$"))
    daily = Match.objects.filter(ranked=False, seats__kind="human").order_by("pk")
    assert daily.count() == 2 and daily[0].instance_id == daily[1].instance_id
    friend.context.close()


def tab_to(page, element_id, limit=60, key="Tab"):
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press(key)
    pytest.fail(f"#{element_id} is not reachable with Tab")


def tab_to_button(page, name, limit=80):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.textContent.trim()") == name:
            return
    pytest.fail(f"the button {name!r} is not reachable with Tab")


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_whole_match_with_the_keyboard_only(asgi_server, page, viewport):
    factories.variant()
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    # from the home page to the match with the keyboard too
    tab_to_button(page, "Play Test wason")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    tab_to(page, "input-x")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.locator("#last-answer")).to_have_text("(3, 4, 5) fits the rule")
    # a bad entry from the keyboard: refused, focus back on the box, no test spent
    tab_to(page, "input-y", key="Shift+Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("1,2")
    page.keyboard.press("Enter")
    expect(page.locator("#input-error")).to_contain_text("comma")
    expect(page.locator("#input-y")).to_be_focused()
    expect(page.locator("#tests-left")).to_have_text("29")
    tab_to(page, "rule")
    page.keyboard.type("z < x + y")
    expect(page.locator("#rule-check")).to_have_text("Reads as: z < x + y")
    page.keyboard.press("Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal")).to_be_focused()
    expect(page.locator("#reveal-seats")).to_contain_text("Right: the same rule.")

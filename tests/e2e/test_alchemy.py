"""A person plays an ``alchemy`` game in a real browser to the end: two pickers over the elements
they know (the list grows with what they make), no guess box, the seat finishes when the
combination budget is spent and the reveal shows the recipe book and the score; the replay
shows the discoveries growing along the timeline. Nothing in the
page knows the family: the pick_pair widget and the guess widget "none" are generic."""

import os
import re
from pathlib import Path

import pytest

from games.models import Match
from games.play import services

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parents[2]


def test_a_person_plays_an_alchemy_game_to_the_end(asgi_server, page):
    services.variant_create(
        slug="alchemy-e2e",
        family="alchemy",
        title="Little recipes",
        params={"elements": 8, "depth": 2, "max_tests": 4},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Little recipes").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    match = Match.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    start = match.instance.public["start"]
    recipes = {(a, b): c for a, b, c in match.instance.hidden["recipes"]}
    pairs = [(a, b) for i, a in enumerate(start) for b in start[i:]]
    making = next(p for p in pairs if p in recipes)
    nothing = next(p for p in pairs if p not in recipes)
    made = recipes[making]

    expect(page.locator("#guess-panel")).to_be_hidden()  # no rule to state
    expect(page.locator("#test-inputs select")).to_have_count(2)
    expect(page.locator("#input-pick-0 option")).to_have_count(len(start))
    expect(page.locator("#known-list")).to_have_text(f"You know {len(start)}: {', '.join(start)}.")
    expect(page.locator("#scoring")).to_contain_text("depth")

    page.select_option("#input-pick-0", making[0])
    page.select_option("#input-pick-1", making[1])
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text(f"{making[0]} + {making[1]} makes {made}")
    expect(page.locator("#tests-left")).to_have_text("3")
    # what was made is known now: it is offered in both pickers
    expect(page.locator("#input-pick-0 option")).to_have_count(len(start) + 1)
    expect(page.locator("#known-list")).to_contain_text(made)

    page.select_option("#input-pick-0", nothing[0])
    page.select_option("#input-pick-1", nothing[1])
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text(f"{nothing[0]} + {nothing[1]} nothing happens")
    expect(page.locator("#tests-left")).to_have_text("2")

    page.select_option("#input-pick-0", made)
    page.select_option("#input-pick-1", made)
    page.click("#run-test")
    expect(page.locator("#tests-left")).to_have_text("1")
    page.focus("#input-pick-0")  # from the keyboard: pick with the arrow keys, tab to the button
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#tests-left")).to_have_text("0")

    # the budget is spent: the game is over without a guess
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#status")).to_have_text("finished")
    expect(page.locator("#reveal-rule")).to_contain_text(f"{making[0]} + {making[1]} = {made}")
    expect(page.locator("#reveal-seats")).to_contain_text("Discovered")
    expect(page.locator("#reveal-seats")).not_to_contain_text("No guess")
    expect(page.locator("#run-test")).to_be_disabled()
    expect(page.locator("#seats tbody tr")).to_have_count(4)

    (REPO / "artifacts").mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.screenshot(path=str(REPO / "artifacts" / "e2e-alchemy.png"), full_page=True)
    page.screenshot(path=str(REPO / "docs" / "alchemy.png"), full_page=True)

    # the replay: the discoveries grow as the timeline moves
    page.click("#watch-replay")
    page.wait_for_url(re.compile(r"/matches/\d+/replay/$"))
    found = page.locator(".rp-discoveries li")
    expect(found).to_have_text(["nothing yet"])
    page.click("#rp-forward")
    expect(found).to_have_text([f"{made} from {making[0]} + {making[1]}"])
    page.click("#rp-end")
    expect(page.locator(".replay-seat .stats")).to_contain_text("4 tests")
    expect(page.locator("#rp-verdicts")).to_contain_text("point")
    page.locator(".rp-step").first.locator("summary", has_text="Measures").click()
    expect(page.locator(".rp-step").first.locator(".rp-measures")).to_contain_text("novel pair")
    page.screenshot(path=str(REPO / "artifacts" / "e2e-alchemy-replay.png"), full_page=True)

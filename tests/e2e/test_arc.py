"""A person solves an ARC task in a real browser with the grid editor: a probe drawn with the
mouse, a wrong first answer, the right one typed with the keyboard (arrow keys and digits, an undo
on the way), then the reveal with each attempt beside the expected grid and the differing cells
marked. Nothing in the page knows the family: the editor comes from the declared widgets."""

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

NAMES = ["black", "blue", "red", "green", "yellow", "grey", "magenta", "orange", "light blue", "maroon"]


def cell(page, editor: str, r: int, c: int):
    return page.locator(f"#{editor}-grid td[data-row='{r}'][data-col='{c}']")


def test_a_person_solves_an_arc_task_with_the_grid_editor(asgi_server, page):
    services.variant_create(
        slug="arc-e2e",
        family="arc",
        title="Grids",
        params={"rule": "reflect(h)", "size": 4, "attempts": 2, "max_tests": 2},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play Grids").click()
    page.wait_for_url(re.compile(r"/matches/(\d+)/$"))
    match_id = int(re.search(r"/matches/(\d+)/$", page.url).group(1))
    instance = Match.objects.get(pk=match_id).instance
    test_input, expected = instance.public["test_input"], instance.hidden["answer"]
    rows, cols = len(expected), len(expected[0])
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#examples")).to_contain_text("Demonstrations")
    expect(page.locator("#examples table.grid-view")).to_have_count(2 * 3 + 1)  # 3 pairs + the test input

    # a probe drawn with the mouse: pick red, drag along the first row
    page.locator("#probe-editor .swatch.c2").click()
    page.locator("#probe-resize").scroll_into_view_if_needed()
    page.fill("#probe-rows", "3")
    page.fill("#probe-cols", "4")
    page.click("#probe-resize")
    cell(page, "probe", 0, 0).hover()
    page.mouse.down()
    for c in range(1, 4):
        cell(page, "probe", 0, c).hover()
    page.mouse.up()
    expect(cell(page, "probe", 0, 2)).to_have_attribute("aria-label", "row 1, column 3: red")
    page.click("#run-test")
    expect(page.locator("#tests-left")).to_have_text("1")
    # reflect(h) mirrors the probe: its red first row stays a red first row
    expect(page.locator("#last-answer table.grid-view").nth(1).locator("td").first).to_have_attribute(
        "aria-label", "row 1, column 1: red"
    )

    # a wrong first answer: the test input unchanged (the editor starts from it)
    expect(cell(page, "answer", 0, 0)).to_have_attribute(
        "aria-label", f"row 1, column 1: {NAMES[test_input[0][0]]}"
    )
    page.click("#submit-guess")
    expect(page.locator("#messages")).to_have_text("Not right. 1 attempt left.")
    expect(page.locator("#guess-note")).to_contain_text("You have 1 attempt left")

    # the right answer with the keyboard: digits paint the cursor's cell, arrows move it
    cell(page, "answer", 0, 0).focus()
    page.keyboard.press("9")
    expect(cell(page, "answer", 0, 0)).to_have_attribute("aria-label", "row 1, column 1: maroon")
    page.keyboard.press("Control+z")
    expect(cell(page, "answer", 0, 0)).to_have_attribute(
        "aria-label", f"row 1, column 1: {NAMES[test_input[0][0]]}"
    )
    for r in range(rows):
        for c in range(cols):
            page.keyboard.press(str(expected[r][c]))
            if c < cols - 1:
                page.keyboard.press("ArrowRight")
        if r < rows - 1:
            page.keyboard.press("ArrowDown")
            for _ in range(cols - 1):
                page.keyboard.press("ArrowLeft")
    expect(cell(page, "answer", rows - 1, cols - 1)).to_have_attribute(
        "aria-label", f"row {rows}, column {cols}: {NAMES[expected[rows - 1][cols - 1]]}"
    )
    page.click("#submit-guess")

    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-rule")).to_have_text("reflect(h)")
    attempts = page.locator(".reveal-attempts figure")
    expect(attempts).to_have_count(3)  # two attempts and the expected grid
    expect(attempts.nth(0).locator("figcaption")).to_contain_text("Attempt 1: not right")
    differing = sum(a != b for ra, rb in zip(test_input, expected) for a, b in zip(ra, rb))
    expect(attempts.nth(0).locator("td.marked")).to_have_count(differing)
    expect(attempts.nth(0).locator("td.marked").first).to_have_attribute(
        "aria-label", re.compile(r", differs$")
    )
    expect(attempts.nth(1).locator("figcaption")).to_have_text("Attempt 2: right")
    expect(attempts.nth(1).locator("td.marked")).to_have_count(0)
    expect(attempts.nth(2).locator("figcaption")).to_have_text("Expected")
    expect(page.locator(".reveal-seat .verdict")).to_have_text("Right: the expected grid.")
    page.screenshot(
        path=str(Path(__file__).resolve().parents[2] / "docs" / "arc-reveal.png"),
        full_page=True,
    )


def test_a_person_reveals_a_held_back_pair_of_an_imported_task(asgi_server, page):
    services.variant_create(
        slug="arc-e2e-imported",
        family="arc",
        title="One ARC task",
        params={"source": "training", "task": "007bbfb7", "examples": 2, "max_tests": 2, "attempts": 2},
        published=True,
    )
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.goto(asgi_server + "/")
    page.get_by_role("button", name="Play One ARC task").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#reveal-next")).to_have_text("Next: demonstration pair 3")
    expect(page.locator("#run-test")).to_have_text("Reveal demonstration pair")
    page.click("#run-test")
    expect(page.locator("#tests-left")).to_have_text("1")
    expect(page.locator("#last-answer")).to_contain_text("demonstration pair 3")
    expect(page.locator("#last-answer table.grid-view")).to_have_count(2)  # the pair: input and output
    expect(page.locator("#reveal-next")).to_have_text("Next: demonstration pair 4")
    expect(page.locator("#description")).to_contain_text("You may reveal up to 2 more demonstration pairs")

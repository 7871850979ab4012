"""An admin runs the arena without code, in a real browser: adds a model contestant (the loopback
fake model) and tests its connection, creates a variant from the schema-driven form (a bad value
first, refused next to its field), previews it, playtests it and publishes it; then a player finds
it on the home page and races the new contestant on it, a real Celery worker playing the model."""

import json
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from games.models import Match, ModelContestant, PuzzleVariant, Seat
from tests.workers.fake_model import FakeModelServer, Reply
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def play_a_guess(page, rule: str) -> None:
    page.fill("#input-x", "1")
    page.fill("#input-y", "2")
    page.fill("#input-z", "3")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_contain_text("(1, 2, 3)")
    page.fill("#rule", rule)
    quiz = page.locator("#quiz-items select")
    for i in range(quiz.count()):
        quiz.nth(i).select_option("yes")
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible(timeout=120_000)


def test_an_admin_sets_up_a_contestant_and_a_variant_and_a_player_races_it(asgi_server, browser):
    fake = FakeModelServer().start()
    fake.responder = lambda path, body: Reply(content=json.dumps({"action": "guess", "rule": "x < y"}))
    point_the_app_at_the_test_queue()
    worker = Worker()
    User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    expect.set_options(timeout=30_000)
    admin = browser.new_page()
    try:
        worker.wait_ready()
        admin.goto(asgi_server + "/admin/login/?next=/admin/")
        admin.fill("#id_username", "boss")
        admin.fill("#id_password", "pw-boss-123")
        admin.click("input[type=submit]")
        admin.wait_for_url(re.compile(r"/admin/$"))

        # a model contestant, and its connection tested with one small real call
        admin.goto(asgi_server + "/admin/games/modelcontestant/add/")
        admin.fill("#id_slug", "fake-llm")
        admin.fill("#id_name", "Fake LLM")
        admin.select_option("#id_backend", "openai")
        admin.fill("#id_base_url", fake.base_url)
        admin.fill("#id_model", "tiny")
        admin.click("input[name=_continue]")
        admin.click("text=Test connection")
        expect(admin.locator(".messagelist")).to_contain_text(re.compile("fake-llm: replied:", re.I))

        # a variant from the form: the family's fields, a bad value refused next to its field
        admin.goto(asgi_server + "/admin/games/puzzlevariant/add/")
        admin.fill("#id_slug", "ordered")
        admin.fill("#id_title", "Ordered triples")
        admin.select_option("#id_family", "wason")
        expect(admin.locator("fieldset.family-eleusis")).to_be_hidden()
        admin.fill("#id_param__wason__rule", "x <")
        admin.click("input[name=_continue]")
        expect(admin.locator(".field-param__wason__rule .errorlist")).to_contain_text("is not a valid rule")
        admin.fill("#id_param__wason__rule", "x < y")
        admin.fill("#id_param__wason__max_tests", "10")
        admin.screenshot(path=str(REPO / "docs" / "admin-variant-form.png"), full_page=True)
        admin.click("input[name=_continue]")
        expect(admin.locator(".messagelist")).to_contain_text("was added successfully")
        variant = PuzzleVariant.objects.get(slug="ordered")
        assert variant.params["rule"] == "x < y" and not variant.published

        admin.click("text=Preview")
        expect(admin.locator(".hidden-rule").first).to_have_text("x < y")
        expect(admin.locator(".solver-results").first).to_contain_text("infogain")
        admin.screenshot(path=str(REPO / "docs" / "admin-variant-preview.png"), full_page=True)

        admin.click("button:has-text('Playtest')")
        admin.wait_for_url(re.compile(r"/matches/\d+/$"))
        playtest = Match.objects.get()
        assert playtest.playtest and not playtest.ranked
        play_a_guess(admin, "x < y")
        expect(admin.locator("#reveal-rule")).to_have_text("x < y")

        admin.goto(asgi_server + "/admin/games/puzzlevariant/")
        admin.check(f"input[name=_selected_action][value='{variant.pk}']")
        admin.select_option("select[name=action]", "publish")
        admin.click("button[name=index]")
        expect(admin.locator(".messagelist")).to_contain_text("Published: 1")

        # a player finds it on the home page and races the new contestant on it
        player = browser.new_context().new_page()
        player.goto(asgi_server + "/")
        card = player.locator(".card", has=player.get_by_role("button", name="Play Ordered triples"))
        player.locator("#model-picker").get_by_label("Fake LLM").check()
        card.get_by_role("button", name="Race Ordered triples").click()
        player.wait_for_url(re.compile(r"/matches/\d+/$"))
        play_a_guess(player, "x < y")
        expect(player.locator(".reveal-seat")).to_have_count(2)
        race = Match.objects.exclude(pk=playtest.pk).get()
        model = race.seats.get(kind=Seat.Kind.MODEL)
        assert model.contestant == "fake-llm" and model.outcome["guess"] == "x < y"
        assert ModelContestant.objects.get(slug="fake-llm").calls.exists()
    finally:
        worker.stop()
        fake.stop()

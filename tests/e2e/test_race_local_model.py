"""A person races the local model in a real browser: llama.cpp's server serving SmolLM2-135M (the
extra ``.[local]``), started here as ``manage.py up --local-model`` starts it, plays the model seat
through a real Celery worker with structured replies. Both seats reach a result and the reveal
lists both, with the model's trace."""

import os
import re
from pathlib import Path

import pytest

from tests.workers.local_server import LocalServer, require_llama_cpp

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)
require_llama_cpp()

from playwright.sync_api import expect  # noqa: E402

from arena import localmodel  # noqa: E402
from games.models import Match, ModelCall, Seat  # noqa: E402
from tests import factories  # noqa: E402
from tests.workers.worker import Worker, point_the_app_at_the_test_queue  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(420)]


@pytest.fixture
def local_server(tmp_path):
    server = LocalServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def celery_worker_process(tmp_path):
    point_the_app_at_the_test_queue()
    worker = Worker(log_path=tmp_path / "worker.log")
    worker.wait_ready()
    yield worker
    worker.stop()


def test_a_person_races_the_local_model_to_the_reveal(asgi_server, local_server, celery_worker_process, page):
    factories.variant(rule="x < y < z", max_tests=2)  # a short race: the model's seat is a few calls
    contestant, _ = localmodel.ensure_contestant(local_server.url)
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)

    page.goto(asgi_server + "/")
    card = page.locator(".card", has=page.get_by_role("button", name="Play Test wason"))
    page.locator("#model-picker").get_by_label(localmodel.NAME).check()
    card.get_by_role("button", name="Race Test wason").click()
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get()
    assert match.mode == "race" and match.seats.count() == 2
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#seats .seat").nth(1)).to_contain_text(localmodel.NAME)

    page.fill("#input-x", "1")
    page.fill("#input-y", "2")
    page.fill("#input-z", "3")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_have_text("(1, 2, 3) fits the rule")
    page.fill("#rule", "x < y < z")
    quiz = page.locator("#quiz-items select")
    for i in range(quiz.count()):
        quiz.nth(i).select_option("yes")
    page.press("#rule", "Enter")

    # the reveal waits for the local model's seat, then lists both seats with its trace link
    expect(page.locator("#reveal")).to_be_visible(timeout=300_000)
    expect(page.locator("#reveal-rule")).to_have_text("x < y < z")
    expect(page.locator(".reveal-seat")).to_have_count(2)
    seats = {s.kind: s for s in Match.objects.get().seats.all()}
    model_seat = seats[Seat.Kind.MODEL]
    assert seats[Seat.Kind.HUMAN].score["solved"] is True
    assert model_seat.contestant == contestant.slug
    assert model_seat.status in (Seat.Status.FINISHED, Seat.Status.FORFEITED)
    # the model's moves came from the real server: answered calls, constrained to the move's JSON
    answered = ModelCall.objects.filter(seat=model_seat, error_class="")
    assert answered.exists() and {c.reply_mode for c in answered} == {"json_object"}
    assert all(c.tokens_out > 0 for c in answered)
    expect(page.locator(".trace-link")).to_have_count(1)

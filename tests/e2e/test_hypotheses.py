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


@pytest.fixture
def no_model_turns(monkeypatch):
    """The model seat's moves are submitted here; queueing real turns would leave tasks behind."""
    from games.play import services

    monkeypatch.setattr(services, "model_turn_request", lambda *, seat, turn=None: None)


def play_race(variant, seed):
    """A person who tests what fits their idea, and the infogain solver stating the rule it would
    guess before each of its tests (as the built-in client does)."""
    from games.engine.core import get_family
    from games.models import Seat
    from games.play import services
    from tests.workers.helpers import builtin

    builtin("infogain")
    match = services.match_create(variant=variant, seed=seed, mode=Match.Mode.RACE, max_tests=10)
    person = services.seat_join(match=match, handle="Player", session_key=factories.session_key())
    model = services.seat_join(match=match, handle="Infogain", kind=Seat.Kind.MODEL, contestant="infogain")
    match = services.match_start(match=match)
    for inp, idea in (([1, 2, 3 + seed], "x < y < z"), ([2, 4, 6], "x < y < z"), ([1, 1, 5], "x + y > z")):
        services.step_submit(seat=person, action={"type": "test", "input": inp, "hypothesis": idea})
    services.step_submit(seat=person, action={"type": "guess", "rule": "x + y > z"})
    family = get_family("wason")
    solver = family.make_solver("infogain", match.instance.public, seed)
    history = []
    while True:
        action = solver.act(history, 10 - len(history))
        if action["type"] == "guess" or len(history) >= 6:
            services.step_submit(seat=model, action={"type": "guess", "rule": solver.act(history, 0)["rule"]})
            break
        idea = solver.act(history, 0)["rule"]
        out = services.step_submit(seat=model, action={**action, "hypothesis": idea})
        history.append({"input": out.step.action["input"], "result": out.step.result["result"]})


def test_the_dashboard_plots_positive_test_share_per_player_kind(asgi_server, page, no_model_turns):
    import shutil

    from django.contrib.auth.models import Group, User

    variant = factories.variant(rule="x + y > z", hypothesis_mode="optional", max_tests=10)
    for seed in range(3):
        play_race(variant, seed)
    user = User.objects.create_user("klayman", password="positive-test-88")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{asgi_server}/research/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "klayman")
    page.fill("#id_password", "positive-test-88")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/research/$"))
    panel = page.locator("#plot-positive-tests")
    expect(panel.locator("canvas")).to_be_visible()
    drawn = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("chart-positive-tests"));
            return chart ? {labels: chart.data.labels, first: chart.data.datasets[0].data} : null;
        }"""
    )
    assert drawn["labels"] == ["humans", "infogain"]
    # the person's x < y < z said each of (1, 2, 3+), (2, 4, 6) fits: 2 positive of 3 tests
    assert drawn["first"][0] == pytest.approx(66.7)
    download = page.request.get(f"{asgi_server}/research/data/positive-tests.csv")
    assert download.ok and download.text().splitlines()[0].startswith("player,player_kind,seats")
    repo = Path(__file__).resolve().parents[2]
    (repo / "artifacts").mkdir(exist_ok=True)
    panel.screenshot(path=str(repo / "artifacts" / "positive-tests.png"))
    shutil.copyfile(repo / "artifacts" / "positive-tests.png", repo / "docs" / "positive-tests.png")

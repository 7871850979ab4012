"""A study end to end in a real browser: a researcher creates it on the research pages; a
participant arrives with a Prolific-style link, declines consent (nothing is stored), arrives
again and consents, plays two puzzles (the harness reads each hidden rule from the database, never
through the page), passes an attention check between them, and gets the completion code; visits
with the same ID resume, from another browser too; the export filtered by the study holds exactly
that participant's matches, under the keyed hash of their ID."""

import io
import json
import os
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session

from games.models import Match, Seat, Study, StudyEntry, StudyParticipant
from games.research import studies
from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium not found at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

PID = "60a1b2c3d4e5f60718293a4b"
EXTERNAL_STUDY = "65f0e1d2c3b4a59687766554"
SESSION = "sess-7f3e2d1c"


def play_to_the_reveal(page) -> Match:
    """One test, then the hidden rule as the guess: read from the database by the harness."""
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    match = Match.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    expect(page.locator("#connection")).to_have_text("live")
    # the study asks for hypotheses (optional): this participant states one with the test
    expect(page.locator("#hypothesis-box")).to_be_visible()
    page.fill("#hypothesis", "x < y")
    page.fill("#input-x", "1")
    page.fill("#input-y", "2")
    page.fill("#input-z", "3")
    page.click("#run-test")
    expect(page.locator("#last-answer")).to_contain_text("(1, 2, 3)")
    page.fill("#rule", match.instance.hidden["rule"])
    page.press("#rule", "Enter")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#reveal-seats")).to_contain_text("Right: the same rule.")
    return match


def counts() -> dict[str, int]:
    return {
        "participants": StudyParticipant.objects.count(),
        "entries": StudyEntry.objects.count(),
        "matches": Match.objects.count(),
        "seats": Seat.objects.count(),
        "sessions": Session.objects.count(),
    }


def test_a_study_runs_end_to_end(asgi_server, browser):
    first_variant = factories.variant(rule="x + y > z")
    second_variant = factories.variant(rule="x < y < z")
    factories.match()  # someone's public game: never in the study's export
    user = User.objects.create_user("wason", password="selection-task-66")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    expect.set_options(timeout=20_000)

    # -- the researcher creates the study ------------------------------------------------------------
    researcher = browser.new_page()
    researcher.goto(f"{asgi_server}/research/studies/")
    researcher.wait_for_url(re.compile(r"/accounts/login/"))
    researcher.fill("#id_username", "wason")
    researcher.fill("#id_password", "selection-task-66")
    researcher.get_by_role("button", name="Log in").click()
    researcher.wait_for_url(re.compile(r"/research/studies/$"))
    researcher.fill("#id_title", "Testing hypotheses")
    researcher.fill("#id_consent_text", "You will solve two puzzles.\nYour moves are recorded for research.")
    researcher.fill("#id_puzzles", f"{first_variant.slug}\n{second_variant.slug}")
    researcher.select_option("#id_order", "fixed")
    researcher.fill("#id_attention_checks", "1 | To show you are reading, type the word purple | purple")
    researcher.fill("#id_time_limit_s", "900")
    researcher.fill("#id_completion_code", "CX7Q2ARENA")
    researcher.select_option("#id_hypotheses", "optional")
    researcher.click("#create-study")
    researcher.wait_for_url(re.compile(r"/research/studies/[\w-]+/$"))
    study = Study.objects.get()
    assert study.hypotheses == "optional"
    expect(researcher.locator("#p-joined")).to_have_text("0")
    link = researcher.locator("#join-link").input_value()
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in link
    url = (
        link.replace("{{%PROLIFIC_PID%}}", quote(PID))
        .replace("{{%STUDY_ID%}}", quote(EXTERNAL_STUDY))
        .replace("{{%SESSION_ID%}}", quote(SESSION))
    )

    # -- the participant declines once: nothing is stored ---------------------------------------------
    before = counts()
    declining = browser.new_context()
    page = declining.new_page()
    page.goto(url)
    expect(page.locator("#consent-text")).to_contain_text("You will solve two puzzles.")
    page.click("#consent-decline")
    expect(page.locator("#declined")).to_contain_text("Nothing about you has been kept.")
    assert counts() == before
    assert not any(c["name"] == "sessionid" for c in declining.cookies())
    declining.close()

    # -- arrives again and consents; plays puzzle 1; answers the attention check ---------------------
    first_browser = browser.new_context()
    page = first_browser.new_page()
    page.goto(url)
    page.click("#consent-agree")
    expect(page.locator("#step-h")).to_have_text(f"Puzzle 1 of 2: {first_variant.title}")
    page.click("#study-start")
    first = play_to_the_reveal(page)
    assert first.instance.variant == first_variant and not first.ranked
    expect(page.locator("#share-panel")).to_have_count(0)  # a study's puzzle is not for sharing
    page.click("#study-continue")
    expect(page.locator("#check-question")).to_have_text("To show you are reading, type the word purple")
    page.fill("#check-answer", "Purple")
    page.click("#check-submit")
    expect(page.locator("#step-h")).to_have_text(f"Puzzle 2 of 2: {second_variant.title}")
    page.click("#study-start")
    page.wait_for_url(re.compile(r"/matches/\d+/$"))
    second_id = int(page.url.rstrip("/").split("/")[-1])
    expect(page.locator("#connection")).to_have_text("live")
    first_browser.close()

    # -- a second visit with the same ID, from another browser, resumes puzzle 2 -----------------------
    second_browser = browser.new_context()
    page = second_browser.new_page()
    page.goto(url)
    page.wait_for_url(f"{asgi_server}/matches/{second_id}/")
    second = play_to_the_reveal(page)
    assert second.pk == second_id and second.instance.variant == second_variant
    page.click("#study-continue")
    expect(page.locator("#completion-code")).to_have_text("CX7Q2ARENA")
    page.screenshot(path=str(REPO / "docs" / "study-completion.png"), full_page=True)
    second_browser.close()

    # -- and once more after the end: the code again, never a restart ----------------------------------
    after = counts()
    third_browser = browser.new_context()
    page = third_browser.new_page()
    page.goto(url)
    expect(page.locator("#completion-code")).to_have_text("CX7Q2ARENA")
    assert counts()["participants"] == after["participants"] == 1
    assert counts()["matches"] == after["matches"] == 3
    third_browser.close()
    check = StudyEntry.objects.get(kind=StudyEntry.Kind.CHECK)
    assert check.correct is True

    # -- the researcher sees the progress and downloads the study's export -----------------------------
    researcher.reload()
    expect(researcher.locator("#p-joined")).to_have_text("1")
    expect(researcher.locator("#p-completed")).to_have_text("1")
    expect(researcher.locator("#p-dropped")).to_have_text("0")
    expect(researcher.locator("#p-checks")).to_have_text("0 of 1")
    researcher.screenshot(path=str(REPO / "docs" / "study-progress.png"), full_page=True)
    response = researcher.request.get(researcher.locator("#export-jsonl").evaluate("a => a.href"))
    assert response.ok
    archive = zipfile.ZipFile(io.BytesIO(response.body()))
    texts = {name: archive.read(name).decode() for name in archive.namelist()}
    (matches_file,) = [name for name in texts if name.endswith("matches.jsonl")]
    records = [json.loads(line) for line in texts[matches_file].splitlines()]
    assert [r["match_id"] for r in records] == [first.pk, second.pk]
    assert all(r["study"] == study.slug and r["ranked"] is False for r in records)
    expected = "p_" + studies.id_hash(study=study, kind="pid", raw=PID)[:20]
    assert [seat["participant"] for r in records for seat in r["seats"]] == [expected, expected]
    assert [seat["player"] for r in records for seat in r["seats"]] == [expected, expected]
    stated = [
        (step["hypothesis"], step["hypothesis_format"], step["hypothesis_parsed"])
        for r in records
        for seat in r["seats"]
        for step in seat["steps"]
        if step["kind"] == "test"
    ]
    assert stated == [("x < y", "rule", True), ("x < y", "rule", True)]
    assert all(m.hypothesis_mode == "optional" for m in (first, second))
    everything = "".join(texts.values())
    assert PID not in everything and EXTERNAL_STUDY not in everything and SESSION not in everything
    (card,) = [text for name, text in texts.items() if name.endswith("SCHEMA.md")]
    assert "## Study design: Testing hypotheses" in card
    assert "stated hypotheses before each test: `optional`" in card

    # -- closed: a newcomer is turned away politely ----------------------------------------------------
    researcher.click("#close-study")
    expect(researcher.locator("#close-study")).to_have_count(0)
    newcomer = browser.new_page()
    newcomer.goto(url.replace(quote(PID), "someone-new"))
    expect(newcomer.locator("#closed")).to_contain_text("not taking new participants")
    assert StudyParticipant.objects.count() == 1

"""Study mode: the design checks, counterbalancing, the keyed hashes of panel IDs, the join flow
(consent, decline, resume, attention checks, completion, closing) and the export by study."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import zipfile
from io import BytesIO

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from games.models import Match, Seat, Step, Study, StudyEntry, StudyParticipant
from games.play import services
from games.research import exports, studies
from tests import factories

pytestmark = pytest.mark.django_db

PID = "5f1a2b3c4d5e6f7a8b9c0d1e"  # Prolific IDs are 24 hex digits
QUERY = {"PROLIFIC_PID": PID, "STUDY_ID": "study-abc", "SESSION_ID": "sess-xyz"}


def make_study(*, puzzles: int = 2, order: str = Study.Order.FIXED, checks=None, **extra) -> Study:
    variants = [factories.variant() for _ in range(puzzles)]
    design = studies.StudyDesign(
        title="Rules and tests",
        consent_text="You will play puzzles.\nYour moves are recorded for research.",
        puzzles=[v.slug for v in variants],
        order=order,
        attention_checks=checks
        if checks is not None
        else [{"after": 1, "question": "Type blue", "answer": "Blue"}],
        completion_code=extra.pop("completion_code", "C0DE42"),
        **extra,
    )
    return studies.study_create(design=design)


def rows_written() -> dict[str, int]:
    return {
        "participants": StudyParticipant.objects.count(),
        "entries": StudyEntry.objects.count(),
        "matches": Match.objects.count(),
        "seats": Seat.objects.count(),
        "sessions": Session.objects.count(),
    }


def solve(match: Match) -> None:
    """The test harness plays the participant's guess: the hidden rule, read from the database."""
    seat = match.seats.get(kind=Seat.Kind.HUMAN)
    services.step_submit(seat=seat, action={"type": "guess", "rule": match.instance.hidden["rule"]})


def join(client: Client, study: Study, query=QUERY):
    return client.get(f"/study/{study.slug}/", query)


def consent(client: Client, study: Study, choice: str, query=QUERY):
    return client.post(f"/study/{study.slug}/consent/", {**query, "choice": choice})


def start(client: Client, study: Study) -> Match:
    page = client.get(f"/study/{study.slug}/next/")
    assert page.status_code == 200 and b'value="start"' in page.content, page.content[:500]
    response = client.post(
        f"/study/{study.slug}/next/", {"action": "start", "position": page.context["current"].position}
    )
    assert response.status_code == 302 and response.url.startswith("/matches/")
    return Match.objects.get(pk=int(response.url.split("/")[2]))


# -- design and counterbalancing ------------------------------------------------------------------------


def test_a_study_needs_published_variants_and_a_way_to_finish():
    variant = factories.variant(published=False)
    design = studies.StudyDesign(title="T", consent_text="ok", puzzles=[variant.slug], completion_code="X")
    with pytest.raises(studies.StudyError, match="not a published variant") as err:
        studies.study_create(design=design)
    assert err.value.field == "puzzles"
    design.puzzles = [factories.variant().slug]
    design.completion_code = ""
    with pytest.raises(studies.StudyError, match="completion code, a return URL"):
        studies.study_create(design=design)
    design.completion_code = "X"
    design.attention_checks = [{"after": 5, "question": "q", "answer": "a"}]
    with pytest.raises(studies.StudyError, match="'after' must be a puzzle number from 0"):
        studies.study_create(design=design)
    design.attention_checks = []
    design.study_param = "PROLIFIC_PID"
    with pytest.raises(studies.StudyError, match="must differ"):
        studies.study_create(design=design)
    assert not Study.objects.exists()


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_the_williams_square_balances_positions_and_carry_over(k):
    rows = studies.williams_rows(k)
    assert len(rows) == (k if k % 2 == 0 else 2 * k)
    for row in rows:
        assert sorted(row) == list(range(k))
    for position in range(k):  # each item equally often at each position
        counts = {item: sum(1 for row in rows if row[position] == item) for item in range(k)}
        assert len(set(counts.values())) == 1
    pairs = {}
    for row in rows:  # each ordered pair of neighbours equally often
        for a, b in itertools.pairwise(row):
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    if k > 1:
        assert len(pairs) == k * (k - 1) and len(set(pairs.values())) == 1


def test_sequences_are_counterbalanced_and_the_checks_follow_their_puzzle():
    checks = [{"after": 0, "question": "q0", "answer": "a"}, {"after": 2, "question": "q2", "answer": "a"}]
    items, how = studies.sequence_for(
        order="latin", puzzles=["a", "b", "c", "d"], checks=checks, ordinal=1, seed=0
    )
    assert how == {"method": "latin", "row": 1, "rows": 4, "puzzle_order": [1, 2, 0, 3]}
    assert [i.get("variant") or f"check{i['check']}" for i in items] == [
        "check0",
        "b",
        "c",
        "check1",
        "a",
        "d",
    ]
    shuffled, how = studies.sequence_for(
        order="shuffle", puzzles=list("abcdef"), checks=[], ordinal=0, seed=7
    )
    again, _ = studies.sequence_for(order="shuffle", puzzles=list("abcdef"), checks=[], ordinal=9, seed=7)
    assert shuffled == again and how["seed"] == 7  # the seed, recorded, reproduces the order
    assert sorted(how["puzzle_order"]) == list(range(6))


def test_participants_get_latin_square_rows_in_join_order():
    study = make_study(puzzles=3, order=Study.Order.LATIN, checks=[])
    orders = []
    for n in range(6):
        participant, created = studies.participant_join(study=study, ids=studies.PanelIds(pid=f"p{n}"))
        assert created and participant.ordinal == n
        orders.append(participant.counterbalance["puzzle_order"])
    assert orders == studies.williams_rows(3)


# -- hashing ----------------------------------------------------------------------------------------------


def test_panel_ids_are_stored_only_as_keyed_hashes_scoped_to_the_study(settings):
    settings.ARENA_STUDY_ID_KEY = "study-secret"
    study, other = make_study(), make_study()
    participant, _ = studies.participant_join(
        study=study, ids=studies.PanelIds(pid=PID, external_study="study-abc", session="sess-xyz")
    )
    expected = hmac.new(b"study-secret", f"study:{study.pk}:pid:{PID}".encode(), hashlib.sha256).hexdigest()
    assert participant.pid_hash == expected
    assert (
        participant.session_hash
        == hmac.new(
            b"study-secret", f"study:{study.pk}:session:sess-xyz".encode(), hashlib.sha256
        ).hexdigest()
    )
    assert studies.id_hash(study=other, kind="pid", raw=PID) != expected  # unrelated across studies
    settings.ARENA_STUDY_ID_KEY = "another-secret"
    assert studies.id_hash(study=study, kind="pid", raw=PID) != expected  # useless without the key
    row = StudyParticipant.objects.filter(pk=participant.pk).values().get()
    assert not any(raw in json.dumps(row, default=str) for raw in (PID, "study-abc", "sess-xyz"))


# -- the flow -----------------------------------------------------------------------------------------------


def test_declining_consent_keeps_nothing():
    study = make_study()
    before = rows_written()
    client = Client()
    page = join(client, study)
    assert page.status_code == 200 and b"You will play puzzles." in page.content
    assert f'value="{PID}"'.encode() in page.content  # carried through the form, not stored
    declined = consent(client, study, "decline")
    assert declined.status_code == 200 and b"Nothing about you has been kept" in declined.content
    assert rows_written() == before
    assert "sessionid" not in client.cookies


def test_a_link_without_the_participant_id_says_what_is_missing():
    study = make_study()
    page = Client().get(f"/study/{study.slug}/", {"STUDY_ID": "x"})
    assert page.status_code == 400 and b"no participant ID (the PROLIFIC_PID parameter)" in page.content
    bad = Client().get(f"/study/{study.slug}/", {"PROLIFIC_PID": "x" * 201})
    assert bad.status_code == 400 and b"not a valid ID" in bad.content


def test_a_participant_plays_the_sequence_passes_the_check_and_gets_the_code():
    study = make_study()
    client = Client()
    join(client, study)
    assert consent(client, study, "agree").url == f"/study/{study.slug}/next/"
    first = start(client, study)
    assert not first.ranked and first.mode == Match.Mode.SOLO and first.status == Match.Status.RUNNING
    seat = first.seats.get()
    assert seat.handle == studies.PARTICIPANT_HANDLE and seat.session_key == client.session.session_key
    # while the puzzle runs, the study's page sends the participant back to it
    assert client.get(f"/study/{study.slug}/next/").url == f"/matches/{first.pk}/"
    page = client.get(f"/matches/{first.pk}/")
    assert b'id="study-continue"' in page.content and b'id="share-panel"' not in page.content
    solve(first)

    check = client.get(f"/study/{study.slug}/next/")
    assert b"Type blue" in check.content
    position = check.context["current"].position
    empty = client.post(
        f"/study/{study.slug}/next/", {"action": "answer", "position": position, "answer": " "}
    )
    assert empty.status_code == 400 and b"Please type an answer" in empty.content
    client.post(f"/study/{study.slug}/next/", {"action": "answer", "position": position, "answer": "  blue "})
    entry = StudyEntry.objects.get(kind=StudyEntry.Kind.CHECK)
    assert entry.correct is True and entry.answer == "blue"

    second = start(client, study)
    assert second.instance.variant.slug != first.instance.variant.slug
    solve(second)
    done = client.get(f"/study/{study.slug}/next/")
    assert done.status_code == 200 and b"C0DE42" in done.content
    participant = StudyParticipant.objects.get()
    assert participant.completed_at is not None and participant.position == 3
    progress = studies.study_progress(study=study)
    assert progress | {"median_s": None} == {
        "joined": 1, "completed": 1, "dropped": 0, "active": 0, "median_s": None,
        "checks_answered": 1, "checks_failed": 0,
    }  # fmt: skip
    assert progress["median_s"] is not None and progress["median_s"] >= 0


def test_a_second_visit_resumes_the_running_puzzle_in_another_browser():
    study = make_study()
    first_browser = Client()
    join(first_browser, study)
    consent(first_browser, study, "agree")
    match = start(first_browser, study)
    services.step_submit(seat=match.seats.get(), action={"type": "test", "input": [1, 2, 3]})

    second_browser = Client()
    back = join(second_browser, study)  # the same ID: no consent again, no new participant
    assert back.url == f"/study/{study.slug}/next/"
    assert second_browser.get(back.url).url == f"/matches/{match.pk}/"
    assert StudyParticipant.objects.count() == 1 and Match.objects.count() == 1
    seat = match.seats.get()
    seat.refresh_from_db()
    assert seat.session_key == second_browser.session.session_key  # the seat moved with them
    assert seat.tests_used == 1 and Step.objects.filter(seat=seat).count() == 1
    again = consent(second_browser, study, "agree")  # even re-posting consent never restarts
    assert again.url == f"/study/{study.slug}/next/" and StudyParticipant.objects.count() == 1


def test_a_finished_participant_who_comes_back_is_shown_the_end_again():
    study = make_study(
        checks=[], completion_code="", return_url="https://app.prolific.com/submissions/complete?cc=ABC"
    )
    client = Client()
    join(client, study)
    consent(client, study, "agree")
    solve(start(client, study))
    solve(start(client, study))
    assert client.get(f"/study/{study.slug}/next/").url == study.return_url
    fresh = Client()
    assert fresh.get(join(fresh, study).url).url == study.return_url
    assert Match.objects.count() == 2 and StudyParticipant.objects.count() == 1


def test_starting_a_puzzle_twice_gives_the_same_match():
    study = make_study(checks=[])
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    one = studies.puzzle_start(participant=participant, position=0, session_key="s1")
    two = studies.puzzle_start(participant=participant, position=0, session_key="s1")
    assert one.pk == two.pk and Match.objects.count() == 1
    with pytest.raises(studies.StudyError, match="not your current step"):
        studies.puzzle_start(participant=participant, position=1, session_key="s1")


def test_a_puzzle_past_its_time_limit_ends_and_the_study_goes_on():
    study = make_study(checks=[], time_limit_s=60)
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    match = studies.puzzle_start(participant=participant, position=0, session_key="s1")
    assert match.time_limit_s == 60
    Match.objects.filter(pk=match.pk).update(started=timezone.now() - timezone.timedelta(seconds=61))
    current = studies.participant_sync(participant=participant, session_key="s1")
    assert current.kind == "puzzle" and current.position == 1 and current.match is None
    assert match.seats.get().status == Seat.Status.TIMED_OUT


def test_a_closed_study_refuses_new_participants_but_lets_those_in_finish():
    study = make_study(checks=[])
    inside = Client()
    join(inside, study)
    consent(inside, study, "agree")
    studies.study_close(study=study)
    before = rows_written()
    newcomer = Client()
    refused = join(newcomer, study, {"PROLIFIC_PID": "someone-else"})
    assert refused.status_code == 410 and b"This study is closed" in refused.content
    refused = consent(newcomer, study, "agree", {"PROLIFIC_PID": "someone-else"})
    assert refused.status_code == 410 and rows_written() == before
    assert start(inside, study).status == Match.Status.RUNNING


def test_study_matches_stay_off_the_leaderboard_and_the_public_list():
    from games.competition.leaderboard import leaderboard
    from games.play import selectors

    study = make_study(checks=[])
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    solve(studies.puzzle_start(participant=participant, position=0, session_key="s1"))
    assert selectors.recent_matches() == []
    assert leaderboard() == []


# -- researchers -----------------------------------------------------------------------------------------


def researcher_client() -> Client:
    user = User.objects.create_user("curie", password="radium-88")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client = Client()
    client.force_login(user)
    return client


def test_a_researcher_creates_a_study_from_the_form_and_closes_it():
    a, b = factories.variant(), factories.variant()
    client = researcher_client()
    form = {
        "title": "Positive tests",
        "consent_text": "Agree?",
        "puzzles": f"{a.slug}\n{b.slug}\n",
        "order": "latin",
        "attention_checks": "1 | Type the word green | green",
        "completion_code": "DONE1",
        "pid_param": "PROLIFIC_PID",
        "study_param": "STUDY_ID",
        "session_param": "SESSION_ID",
        "hypotheses": "optional",
        "max_duration_min": "45",
        "time_limit_s": "300",
    }
    bad = client.post("/research/studies/", {**form, "puzzles": "no-such-variant"})
    assert bad.status_code == 400 and b"not a published variant: no-such-variant" in bad.content
    assert not Study.objects.exists()
    made = client.post("/research/studies/", form)
    study = Study.objects.get()
    assert made.url == f"/research/studies/{study.slug}/"
    assert study.hypotheses == "optional" and study.order == "latin" and study.time_limit_s == 300
    assert list(study.puzzles.values_list("variant__slug", flat=True)) == [a.slug, b.slug]
    assert study.attention_checks == [{"after": 1, "question": "Type the word green", "answer": "green"}]
    page = client.get(made.url)
    assert b"PROLIFIC_PID={{%PROLIFIC_PID%}}" in page.content and page.context["progress"]["joined"] == 0
    client.post(f"/research/studies/{study.slug}/close/")
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED and study.closed_at is not None
    assert Client().get("/research/studies/").status_code == 302  # log in first


def test_dropped_participants_and_the_median_time_are_counted():
    study = make_study(checks=[], max_duration_min=30)
    now = timezone.now()
    for n, (ago_min, took_min) in enumerate([(100, 10), (100, 20), (100, None), (5, None)]):
        participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=f"p{n}"))
        start_at = now - timezone.timedelta(minutes=ago_min)
        done = start_at + timezone.timedelta(minutes=took_min) if took_min else None
        StudyParticipant.objects.filter(pk=participant.pk).update(consented_at=start_at, completed_at=done)
    progress = studies.study_progress(study=study, now=now)
    assert (progress["joined"], progress["completed"], progress["dropped"], progress["active"]) == (
        4,
        2,
        1,
        1,
    )
    assert progress["median_s"] == 15 * 60


# -- exports ----------------------------------------------------------------------------------------------


def test_the_export_by_study_holds_its_matches_with_hashed_ids_and_the_design(tmp_path):
    study = make_study()
    other_study = make_study(checks=[])
    factories.match()  # public play: never in the study's export
    client = Client()
    join(client, study)
    consent(client, study, "agree")
    first = start(client, study)
    solve(first)
    client.post(f"/study/{study.slug}/next/", {"action": "answer", "position": 1, "answer": "blue"})
    second = start(client, study)
    solve(second)
    outsider, _ = studies.participant_join(study=other_study, ids=studies.PanelIds(pid="other"))
    studies.puzzle_start(participant=outsider, position=0, session_key="s9")

    filters = exports.ExportFilters.parse(study=study.slug)
    manifest = exports.export_directory(tmp_path / "out", fmt="jsonl", filters=filters, analytics=False)
    records = [json.loads(line) for line in (tmp_path / "out" / "matches.jsonl").read_text().splitlines()]
    assert [r["match_id"] for r in records] == [first.pk, second.pk]
    assert [r["study_position"] for r in records] == [0, 2] and {r["study"] for r in records} == {study.slug}
    pid_hash = StudyParticipant.objects.get(study=study).pid_hash
    for record in records:
        (seat,) = record["seats"]
        assert seat["participant"] == seat["player"] == "p_" + pid_hash[:20]
    text = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    assert PID not in text and "study-abc" not in text and "sess-xyz" not in text
    card = (tmp_path / "out" / "SCHEMA.md").read_text()
    assert f"## Study design: {study.title}" in card and "stated hypotheses before each test: `off`" in card
    assert "'Type blue'" in card and "C0DE42" not in card  # the code pays participants: not exported
    assert manifest["filters"]["study"] == study.slug and manifest["counts"]["matches"] == 2
    with pytest.raises(exports.ExportError, match="no study 'nope'"):
        exports.ExportFilters.parse(study="nope")


def test_the_download_page_and_the_api_filter_by_study():
    study = make_study(checks=[])
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    solve(studies.puzzle_start(participant=participant, position=0, session_key="s1"))
    factories.match()
    client = researcher_client()
    response = client.get("/research/exports/", {"format": "jsonl", "study": study.slug})
    assert response.status_code == 200
    archive = zipfile.ZipFile(BytesIO(b"".join(response.streaming_content)))
    (name,) = [n for n in archive.namelist() if n.endswith("matches.jsonl")]
    lines = archive.read(name).decode().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["study"] == study.slug
    assert client.get("/research/exports/", {"format": "jsonl", "study": "nope"}).status_code == 400


def test_the_export_command_filters_by_study(tmp_path):
    from django.core.management import call_command

    study = make_study(checks=[])
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    solve(studies.puzzle_start(participant=participant, position=0, session_key="s1"))
    factories.match()
    call_command("export", fmt="csv", out=str(tmp_path / "csv"), study=study.slug, no_progress=True)
    rows = (tmp_path / "csv" / "matches.csv").read_text().splitlines()
    assert len(rows) == 2 and study.slug in rows[1]


def test_the_admin_lists_studies_with_their_progress_and_closes_them():
    study = make_study(checks=[])
    studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    admin = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/games/study/")
    assert listing.status_code == 200 and b"1 / 0 / 0" in listing.content
    page = client.get(f"/admin/games/study/{study.pk}/change/")
    assert page.status_code == 200 and b"C0DE42" not in page.content
    client.post("/admin/games/study/", {"action": "close", "_selected_action": [study.pk]})
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED


def test_a_researcher_finds_a_participant_by_their_id_without_it_being_stored():
    study = make_study(checks=[])
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    client = researcher_client()
    found = client.post(f"/research/studies/{study.slug}/", {"find": PID})
    assert found.status_code == 200
    assert f"p_{participant.pid_hash[:20]}".encode() in found.content
    missing = client.post(f"/research/studies/{study.slug}/", {"find": "not-a-participant"})
    assert b"No participant of this study joined with that ID" in missing.content


def test_the_raw_ids_are_nowhere_in_the_database_after_a_whole_study():
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    study = make_study()
    client = Client()
    join(client, study)
    consent(client, study, "agree")
    solve(start(client, study))
    client.post(f"/study/{study.slug}/next/", {"action": "answer", "position": 1, "answer": "blue"})
    solve(start(client, study))
    assert b"C0DE42" in client.get(f"/study/{study.slug}/next/").content
    raw = tuple(QUERY.values())
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            text = repr(cursor.fetchall())
            assert not any(r in text for r in raw), table
    for session in Session.objects.all():  # session data is encoded: decode it too
        assert not any(r in json.dumps(SessionStore().decode(session.session_data)) for r in raw)


def test_the_research_api_filters_by_study(settings):
    from games.api.auth import agent_token_create

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "s"}
    }
    study = make_study(checks=[])
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid=PID))
    match = studies.puzzle_start(participant=participant, position=0, session_key="s1")
    solve(match)
    factories.match()
    _, key = agent_token_create(name="reader", can_read_research=True)
    api = Client(headers={"Authorization": f"Bearer {key}"})
    response = api.get("/api/v1/research/matches", {"study": study.slug})
    assert response.status_code == 200
    (row,) = response.json()["matches"]
    assert row["match_id"] == match.pk and row["study"] == study.slug
    assert row["seats"][0]["participant"] == "p_" + participant.pid_hash[:20]
    bad = api.get("/api/v1/research/matches", {"study": "nope"})
    assert bad.status_code == 400 and "no study 'nope'" in bad.json()["error"]


def test_when_the_time_runs_out_the_match_page_leads_on_to_the_next_puzzle():
    study = make_study(checks=[], time_limit_s=30)
    client = Client()
    join(client, study)
    consent(client, study, "agree")
    match = start(client, study)
    page = client.get(f"/matches/{match.pk}/")
    assert b'id="study-timeout-continue"' in page.content
    assert client.get(f"/study/{study.slug}/next/").url == f"/matches/{match.pk}/"  # time left: back to it
    Match.objects.filter(pk=match.pk).update(started=timezone.now() - timezone.timedelta(seconds=31))
    page = client.get(f"/study/{study.slug}/next/")
    assert page.status_code == 200 and page.context["current"].puzzle_number == 2
    seat = match.seats.get()
    assert seat.status == Seat.Status.TIMED_OUT and seat.steps.get().kind == Step.Kind.TIMEOUT

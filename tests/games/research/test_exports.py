"""Research exports: the same schema in JSON Lines, CSV and Parquet, the filters, no raw
identifiers anywhere in any output byte, the manifest, and a JSONL -> engine replay that gets
every recorded oracle answer and verdict back."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client

from games.api.auth import agent_token_create
from games.engine.core import all_families, get_family
from games.models import Match, ModelCall, Seat
from games.play import services
from games.research import exports
from tests import factories
from tests.workers.helpers import builtin

pytestmark = pytest.mark.django_db

USERNAME = "alice_rosalind_franklin"
EMAIL = "alice.franklin@example.org"
TOKEN_NAME = "bobs-secret-agent-name"
ANON_HANDLE = "Curious Zebrafinch"
KEYS = ("idem-key-human-1", "idem-key-anon-1", "idem-key-agent-1")


def _play(seat: Seat, moves: list[dict], *, key_prefix: str = "", think_ms: int | None = 1500) -> None:
    for i, action in enumerate(moves, start=1):
        services.step_submit(
            seat=seat,
            action=action,
            idempotency_key=f"{key_prefix}{i}" if key_prefix else "",
            client_think_ms=think_ms,
        )


TESTS = [
    {"type": "test", "input": [1, 2, 3]},
    {"type": "test", "input": [5, 1, 2]},
    {"type": "test", "input": [2, 4, 6]},
]


@pytest.fixture
def log():
    """Three matches: a logged-in person solo (finished), an anonymous person racing the
    infogain model (finished, with model calls), an agent still playing (running)."""
    user = User.objects.create_user(USERNAME, email=EMAIL, password="pw-not-exported")
    v1 = factories.variant()
    solo = services.match_create(variant=v1, seed=3)
    human = services.seat_join(match=solo, handle=USERNAME, user=user, session_key=factories.session_key())
    services.match_start(match=solo)
    _play(human, [*TESTS, {"type": "guess", "rule": "z < x + y"}], key_prefix=KEYS[0])

    contestant = builtin("infogain")
    v2 = factories.variant(rule="x < y < z")
    race, anon = services.race_create(
        variant=v2,
        opponents=["infogain"],
        seed=4,
        human_handle=ANON_HANDLE,
        session_key=factories.session_key(),
    )
    services.match_start(match=race)
    model_seat = race.seats.get(kind=Seat.Kind.MODEL)
    _play(anon, [*TESTS[:2], {"type": "guess", "rule": "x < y"}], key_prefix=KEYS[1], think_ms=None)
    for turn, action in enumerate([TESTS[2], {"type": "guess", "rule": "x < y and y < z"}], start=1):
        outcome = services.step_submit(seat=model_seat, action=action, idempotency_key=f"model-turn-{turn}")
        ModelCall.objects.create(
            seat=model_seat,
            contestant=contestant,
            turn=turn,
            messages=[
                {"role": "system", "content": "You play an induction game."},
                {"role": "user", "content": "Tests left: 30."},
            ],
            raw_response=json.dumps(action),
            reasoning="split the space in half",
            parsed_action=action,
            tokens_in=120,
            tokens_out=30,
            latency_ms=12.5,
            cost_usd=0.001,
            step=outcome.step,
        )
    ModelCall.objects.create(
        seat=model_seat, contestant=contestant, turn=3, error_class="timeout", error_message="read timed out"
    )

    token, key = agent_token_create(name=TOKEN_NAME)
    running, agent = services.race_create(
        variant=v1, opponents=[], seed=5, human_handle=TOKEN_NAME, kind=Seat.Kind.AGENT, agent_token=token
    )
    services.match_start(match=running)
    _play(agent, TESTS[:2], key_prefix=KEYS[2])

    Match.objects.filter(pk=solo.pk).update(created=dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC))
    Match.objects.filter(pk=race.pk).update(created=dt.datetime(2025, 2, 10, 12, tzinfo=dt.UTC))
    Match.objects.filter(pk=running.pk).update(created=dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC))
    secrets = [USERNAME, EMAIL, TOKEN_NAME, ANON_HANDLE, key, *KEYS, "pw-not-exported"]
    secrets += list(Seat.objects.exclude(session_key="").values_list("session_key", flat=True))
    return {
        "solo": solo.pk,
        "race": race.pk,
        "running": running.pk,
        "user": user,
        "variant": v1.slug,
        "secrets": secrets,
    }


def export(tmp_path: Path, fmt: str, **kwargs) -> tuple[Path, dict]:
    out = tmp_path / f"{fmt}-{len(list(tmp_path.iterdir()))}"
    return out, exports.export_directory(out, fmt=fmt, **kwargs)


# -- reading every format back into the same rows -----------------------------------------------------


def jsonl_tables(out: Path) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {t: [] for t in exports.TABLES}
    with open(out / "matches.jsonl", encoding="utf-8") as handle:
        for line in handle:
            for table, row in exports.flatten(json.loads(line)):
                tables[table].append(row)
    return tables


def _from_text(kind: str, text: str):
    if text == "":
        return None
    return {
        "int": int,
        "float": float,
        "bool": lambda t: {"true": True, "false": False}[t],
        "string": str,
        "timestamp": str,
        "json": json.loads,
    }[kind](text)


def csv_tables(out: Path) -> dict[str, list[dict]]:
    tables = {}
    for table, fields in exports.SCHEMA.items():
        with open(out / f"{table}.csv", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            assert next(reader) == [f.name for f in fields]
            tables[table] = [
                {f.name: _from_text(f.type, cell) for f, cell in zip(fields, row)} for row in reader
            ]
    return tables


def parquet_tables(out: Path) -> dict[str, list[dict]]:
    tables = {}
    for table, fields in exports.SCHEMA.items():
        data = pq.read_table(out / f"{table}.parquet")
        assert data.schema.equals(exports.arrow_schema(table), check_metadata=False)
        rows = data.to_pylist()
        for row in rows:
            for f in fields:
                if f.type == "json" and row[f.name] is not None:
                    row[f.name] = json.loads(row[f.name])
                elif f.type == "timestamp" and row[f.name] is not None:
                    row[f.name] = row[f.name].isoformat()
        tables[table] = rows
    return tables


PY_TYPES = {"int": int, "float": float, "bool": bool, "string": str, "timestamp": str}


def assert_typed(tables: dict[str, list[dict]]) -> None:
    for table, rows in tables.items():
        for row in rows:
            assert list(row) == list(exports.FIELD_NAMES[table]), table
            for f in exports.SCHEMA[table]:
                value = row[f.name]
                if value is not None and f.type != "json":
                    expected = PY_TYPES[f.type]
                    assert isinstance(value, expected) and not (
                        expected is int and isinstance(value, bool)
                    ), (
                        table,
                        f.name,
                        value,
                    )
                if f.type == "timestamp" and value is not None:
                    dt.datetime.fromisoformat(value)


def test_every_format_holds_the_same_rows_with_the_schemas_fields_and_types(log, tmp_path):
    read = {"jsonl": jsonl_tables, "csv": csv_tables, "parquet": parquet_tables}
    tables = {fmt: read[fmt](export(tmp_path, fmt)[0]) for fmt in exports.FORMATS}
    for fmt in exports.FORMATS:
        assert_typed(tables[fmt])
    assert tables["jsonl"] == tables["csv"] == tables["parquet"]
    rows = tables["jsonl"]
    # the running match's two steps stay out until it is over (games.play.visibility)
    assert [len(rows[t]) for t in exports.TABLES] == [3, 4, 2 + 4 + 3, 3]


def test_records_carry_analytics_timing_parsimony_and_model_calls(log, tmp_path):
    out, _ = export(tmp_path, "jsonl")
    records = {r["match_id"]: r for r in map(json.loads, (out / "matches.jsonl").read_text().splitlines())}
    (human,) = records[log["solo"]]["seats"]
    assert human["kind"] == "human" and human["solved"] is True and human["tests_used"] == 3
    assert human["guess_size"] == human["hidden_size"] == get_family("wason").rule_size("x + y > z")
    assert human["parsimony"] == 1.0 and human["points"] > 0
    tests = [s for s in human["steps"] if s["kind"] == "test"]
    assert [s["test_index"] for s in tests] == [1, 2, 3]
    assert all(s["surviving"] <= s["surviving_before"] and isinstance(s["redundant"], bool) for s in tests)
    assert tests[0]["surviving_before"] > tests[-1]["surviving"]
    assert human["bits_total"] == pytest.approx(sum(s["bits"] for s in tests if s["bits"] is not None))
    assert all(s["client_think_ms"] == 1500 and s["since_prev_ms"] >= 0 for s in human["steps"])
    guess = human["steps"][-1]
    assert guess["kind"] == "guess" and guess["guess"] == "z < x + y" and guess["guess_correct"] is True
    assert guess["surviving"] is None  # analytics are per test

    anon, model = records[log["race"]]["seats"]
    assert anon["solved"] is False and anon["parsimony"] < 1
    assert model["player"] == model["contestant"] == "infogain"
    assert [c["turn"] for c in model["model_calls"]] == [1, 2, 3]
    assert model["model_calls"][0]["step_id"] == model["steps"][0]["step_id"]
    assert model["model_calls"][0]["reasoning"] == "split the space in half"
    assert model["model_calls"][2]["error_class"] == "timeout" and model["model_calls"][2]["step_id"] is None
    assert model["tokens_in"] == 240 and model["model_calls_count"] == 3


def test_without_analytics_the_analytics_columns_are_empty(log, tmp_path):
    _, manifest = export(tmp_path, "parquet", analytics=False)
    out = tmp_path / next(p.name for p in tmp_path.iterdir())
    steps = pq.read_table(out / "steps.parquet").to_pylist()
    assert steps and all(s["surviving"] is None and s["bits"] is None for s in steps)
    assert manifest["analytics"] is False


def test_the_hidden_rule_is_exported_only_for_matches_that_are_over(log, tmp_path):
    tables = jsonl_tables(export(tmp_path, "jsonl")[0])
    matches = {m["match_id"]: m for m in tables["matches"]}
    assert matches[log["solo"]]["hidden_rule"] == "x + y > z" and matches[log["solo"]]["hidden"]["rule"]
    running = matches[log["running"]]
    assert running["status"] == "running"
    assert running["hidden"] is None and running["hidden_rule"] is None and running["hidden_size"] is None
    agent = next(s for s in tables["seats"] if s["match_id"] == log["running"])
    assert agent["hidden_size"] is None and agent["parsimony"] is None
    with open(export(tmp_path, "csv")[0] / "matches.csv", encoding="utf-8") as handle:
        assert "x + y > z" not in next(r for r in handle if r.startswith(f"{log['running']},"))


# -- filters ----------------------------------------------------------------------------------------


def _ids(tmp_path, **filters) -> set[int]:
    out, _ = export(tmp_path, "jsonl", filters=exports.ExportFilters.parse(**filters))
    return {json.loads(line)["match_id"] for line in (out / "matches.jsonl").read_text().splitlines()}


def test_every_filter_selects_the_right_matches(log, tmp_path):
    solo, race, running = log["solo"], log["race"], log["running"]
    assert _ids(tmp_path) == {solo, race, running}
    assert _ids(tmp_path, family="wason") == {solo, race, running}
    assert _ids(tmp_path, variant=log["variant"]) == {solo, running}
    assert _ids(tmp_path, kind="human") == {solo, race}
    assert _ids(tmp_path, kind="model") == {race}
    assert _ids(tmp_path, kind="agent") == {running}
    assert _ids(tmp_path, contestant="infogain") == {race}
    assert _ids(tmp_path, finished_only=True) == {solo, race}
    assert _ids(tmp_path, since="2025-02-01") == {race, running}
    assert _ids(tmp_path, until="2025-02-10") == {solo, race}  # the whole day
    assert _ids(tmp_path, since="2025-02-01", until="2025-02-28") == {race}
    assert _ids(tmp_path, since="2025-02-10T13:00:00+00:00") == {running}
    assert _ids(tmp_path, kind="model", since="2025-03-01") == set()


@pytest.mark.parametrize(
    ("filters", "fragment"),
    [
        ({"family": "chess"}, "unknown family 'chess'"),
        ({"variant": "nope"}, "no variant 'nope'"),
        ({"kind": "robot"}, "human, model, agent"),
        ({"contestant": "gpt-99"}, "no contestant 'gpt-99'"),
        ({"since": "last tuesday"}, "since must be a date YYYY-MM-DD"),
        ({"until": "2025-13-45"}, "until must be a date"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, "must be before"),
    ],
)
def test_bad_filters_say_what_is_allowed(filters, fragment):
    with pytest.raises(exports.ExportError, match=fragment):
        exports.ExportFilters.parse(**filters)


# -- privacy ------------------------------------------------------------------------------------------


def _all_bytes(out: Path) -> tuple[bytes, bytes]:
    """(every byte of every file, every text: text files and the decoded values of Parquet
    files, since compressed pages could hide a string from a plain byte scan)."""
    raw, text = b"", b""
    for path in sorted(out.iterdir()):
        raw += path.read_bytes()
        if path.suffix == ".parquet":
            text += json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False).encode()
        else:
            text += path.read_bytes()
    return raw, text


def test_no_raw_identifier_leaves_in_any_format(log, tmp_path):
    assert len(log["secrets"]) >= 10
    for fmt in exports.FORMATS:
        out, _ = export(tmp_path, fmt)
        raw, text = _all_bytes(out)
        for secret in log["secrets"]:
            assert secret.encode() not in raw and secret.encode() not in text, (fmt, secret)
        assert b"@" not in text  # no e-mail address of any shape
    players = {s["kind"]: s["player"] for s in jsonl_tables(export(tmp_path, "jsonl")[0])["seats"]}
    assert players["human"].startswith("h_") and players["agent"].startswith("a_")
    assert players["model"] == "infogain"


def test_pseudonyms_are_stable_per_person_and_depend_on_the_key(log, tmp_path, settings):
    v = factories.variant()
    again = services.match_create(variant=v, seed=9)
    services.seat_join(match=again, handle="other", user=log["user"], session_key=factories.session_key())
    seats = [s for s in jsonl_tables(export(tmp_path, "jsonl")[0])["seats"] if s["kind"] == "human"]
    by_match = {s["match_id"]: s["player"] for s in seats}
    assert by_match[log["solo"]] == by_match[again.pk]  # one account, one pseudonym
    assert by_match[log["race"]] != by_match[log["solo"]]
    settings.ARENA_EXPORT_PSEUDONYM_KEY = "another deployment"
    seats = jsonl_tables(export(tmp_path, "jsonl")[0])["seats"]
    assert {s["player"] for s in seats if s["match_id"] == log["solo"]}.isdisjoint(by_match.values())


# -- manifest and dataset card ------------------------------------------------------------------------


def test_the_manifest_counts_every_table_and_checksums_every_file(log, tmp_path):
    for fmt in exports.FORMATS:
        out, manifest = export(tmp_path, fmt, filters=exports.ExportFilters.parse(finished_only="1"))
        assert json.loads((out / "manifest.json").read_text()) == manifest
        assert manifest["counts"] == {"matches": 2, "seats": 3, "steps": 4 + 3 + 2, "model_calls": 3}
        assert manifest["schema_version"] == exports.SCHEMA_VERSION and manifest["format"] == fmt
        assert manifest["filters"]["finished_only"] is True
        assert manifest["generator_versions"] == {"wason": [get_family("wason").version]}
        names = {p.name for p in out.iterdir()} - {"manifest.json"}
        assert set(manifest["files"]) == names
        for name, entry in manifest["files"].items():
            data = (out / name).read_bytes()
            assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_the_dataset_card_describes_every_field_and_the_pseudonymisation(log, tmp_path):
    card = (export(tmp_path, "csv")[0] / "SCHEMA.md").read_text()
    for table, fields in exports.SCHEMA.items():
        assert f"### {table}" in card
        for f in fields:
            assert f"| `{f.name}` | {f.type} |" in card
    assert (
        f"Schema version {exports.SCHEMA_VERSION}" in card
        and f"`wason`: generator version(s) {get_family('wason').version}" in card
    )
    assert "HMAC-SHA256" in card and "Licence and ethics" in card


def test_the_dataset_card_says_per_family_whether_the_reference_space_is_estimated(log, tmp_path):
    card = (export(tmp_path, "csv")[0] / "SCHEMA.md").read_text()
    analytics_section = card.split("## Analytics", 1)[1].split("## Licence", 1)[0]
    for family in all_families():
        space = family.reference_space
        assert f"- `{family.id}`: {space.method}. {space.description}" in analytics_section
    # the families whose space is too large to list say so
    assert "- `blackbox`: estimated." in analytics_section and "- `rewrite`: estimated." in analytics_section
    assert "- `subregular`: counted." in analytics_section and "- `eleusis`: enumerated." in analytics_section


# -- replay: the exported log reproduces every oracle answer and verdict ------------------------------


def test_a_jsonl_round_trip_replays_every_step_through_the_engine(log, tmp_path):
    out, _ = export(tmp_path, "jsonl")
    replayed = {"tests": 0, "guesses": 0}
    for line in (out / "matches.jsonl").read_text().splitlines():
        record = json.loads(line)
        family = get_family(record["family"])
        assert family.version == record["generator_version"]
        if record["hidden"] is None:  # not over: nothing the engine could rebuild the rule from
            assert record["seed"] is record["params"] is record["public"] is record["instance_id"] is None
            assert all(not seat["steps"] and seat["score"] is None for seat in record["seats"])
            continue
        instance = family.generate(record["seed"], record["params"])
        assert instance.public == record["public"] and instance.hidden == record["hidden"]
        for seat in record["seats"]:
            for step in seat["steps"]:
                if step["kind"] == "test":
                    assert family.answer(instance, step["test_input"]) == step["test_result"]
                    replayed["tests"] += 1
                elif step["kind"] == "guess":
                    verdict = family.judge(instance, step["guess"]).to_dict()
                    assert verdict == step["result"]["verdict"]
                    assert verdict["correct"] == step["guess_correct"]
                    replayed["guesses"] += 1
    assert replayed == {"tests": 3 + 2 + 1, "guesses": 3}


# -- the command --------------------------------------------------------------------------------------


def test_the_command_writes_a_directory_with_a_progress_bar(log, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export", "--format", "csv", "--out", str(tmp_path / "x"), "--kind", "human", stdout=out, stderr=err
    )
    assert "wrote" in out.getvalue() and "2 matches" in out.getvalue()
    assert "2/2 matches" in err.getvalue() and "100%" in err.getvalue()
    assert (tmp_path / "x" / "steps.csv").exists()


def test_the_command_writes_whole_lines_into_a_log(log, tmp_path):
    err = io.StringIO()  # not a terminal: no redraws, just lines (games.research.progress counts them)
    call_command(
        "export", "--format", "jsonl", "--out", str(tmp_path / "x"), stdout=io.StringIO(), stderr=err
    )
    assert "\r" not in err.getvalue() and "\x1b" not in err.getvalue()
    assert err.getvalue().splitlines()[-1].startswith("export jsonl: 3/3 matches 100%")


def test_no_progress_means_a_quiet_stderr(log, tmp_path):
    err = io.StringIO()
    call_command(
        "export",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x"),
        "--no-progress",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert err.getvalue() == ""


def test_the_command_writes_a_zip(log, tmp_path):
    call_command(
        "export",
        "--format",
        "parquet",
        "--out",
        str(tmp_path / "e.zip"),
        "--no-progress",
        stdout=io.StringIO(),
    )
    with zipfile.ZipFile(tmp_path / "e.zip") as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
        assert names == {
            "matches.parquet",
            "seats.parquet",
            "steps.parquet",
            "model_calls.parquet",
            "SCHEMA.md",
            "manifest.json",
        }
        top = archive.namelist()[0].split("/")[0]
        manifest = json.loads(archive.read(f"{top}/manifest.json"))
        assert manifest["counts"]["matches"] == 3


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--format", "xlsx"], "--format must be one of jsonl, csv, parquet"),
        (["--format", "csv", "--kind", "robot"], "player kind must be one of"),
        (["--format", "csv", "--since", "yesterday"], "since must be a date"),
        (["--format", "csv", "--family", "chess"], "unknown family"),
        (["--format", "csv", "--chunk-size", "0"], "--chunk-size"),
    ],
)
def test_the_command_rejects_bad_arguments_clearly(tmp_path, args, fragment):
    with pytest.raises(CommandError, match=fragment):
        call_command("export", *args, "--out", str(tmp_path / "o"), stderr=io.StringIO())
    assert not (tmp_path / "o").exists()


def test_the_command_refuses_a_non_empty_directory(log, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("export", "--format", "jsonl", "--out", str(tmp_path / "full"), "--no-progress")


# -- the page for researchers -------------------------------------------------------------------------


def _client(*, staff: bool = False, researcher: bool = False) -> Client:
    user = User.objects.create_user(f"u{User.objects.count()}", password="pw", is_staff=staff)
    if researcher:
        user.groups.add(Group.objects.get(name="researchers"))  # made by migration 0006
    client = Client()
    client.force_login(user)
    return client


def test_researchers_and_staff_see_the_page_and_download_a_zip(log):
    for client in (_client(researcher=True), _client(staff=True)):
        page = client.get("/research/exports/")
        assert page.status_code == 200 and b"Download parquet" in page.content
    response = _client(researcher=True).get("/research/exports/", {"format": "jsonl", "kind": "model"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        (jsonl,) = [n for n in archive.namelist() if n.endswith(".jsonl")]
        records = [json.loads(line) for line in archive.read(jsonl).splitlines()]
    assert [r["match_id"] for r in records] == [log["race"]]


def test_a_bad_filter_on_the_page_is_a_400_with_the_reason():
    response = _client(researcher=True).get("/research/exports/", {"format": "csv", "since": "soon"})
    assert response.status_code == 400 and b"since must be a date" in response.content


def test_non_researchers_get_403_and_anonymous_visitors_the_login_page():
    assert _client().get("/research/exports/", {"format": "jsonl"}).status_code == 403
    response = Client().get("/research/exports/", {"format": "jsonl"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_application_quiz_is_exported_per_seat(tmp_path):
    from games.play import selectors

    match, (seat,) = factories.match(rule="x < y < z")
    items = selectors.quiz_items(instance=match.instance)
    truth = [get_family("wason").answer(selectors.engine_instance(instance=match.instance), q) for q in items]
    answers = [not truth[0], *truth[1:]]  # one wrong of six
    services.step_submit(seat=seat, action={"type": "guess", "rule": "x < y < z", "quiz": answers})
    out, _ = export(tmp_path, "jsonl")
    (record,) = jsonl_tables(out)["seats"]
    assert record["quiz_accuracy_hidden"] == pytest.approx(5 / 6, abs=1e-6)
    assert record["quiz_accuracy_own"] == pytest.approx(5 / 6, abs=1e-6)
    assert record["outcome"]["quiz"]["items"] == items


def test_stated_hypotheses_and_their_measures_are_exported_in_every_format(tmp_path):
    # Hidden x + y > z, shown example (8, 8, 6) fits.
    match, (seat,) = factories.match(hypothesis_mode="optional")
    _play(
        seat,
        [
            {"type": "test", "input": [1, 2, 3], "hypothesis": "x > 0"},  # positive, refuted
            {"type": "test", "input": [2, 2, 1], "hypothesis": "x > 0"},  # positive, already refuted
            {"type": "test", "input": [1, 1, 5], "hypothesis": "x <<< y"},  # stored, does not parse
            {"type": "test", "input": [1, 1, 6], "hypothesis": "x + y > z"},  # negative, equivalent
            {"type": "guess", "rule": factories.HIDDEN_RULE},
        ],
    )
    read = {"jsonl": jsonl_tables, "csv": csv_tables, "parquet": parquet_tables}
    tables = {fmt: read[fmt](export(tmp_path, fmt)[0]) for fmt in exports.FORMATS}
    assert tables["jsonl"] == tables["csv"] == tables["parquet"]
    rows = tables["parquet"]
    assert rows["matches"][0]["hypothesis_mode"] == "optional"
    steps = [
        (
            s["hypothesis"],
            s["hypothesis_parsed"],
            s["positive_test"],
            s["hypothesis_confirmed"],
            s["hypothesis_already_refuted"],
            s["hypothesis_equivalent"],
        )
        for s in rows["steps"]
    ]
    assert steps == [
        ("x > 0", True, True, False, False, False),
        ("x > 0", True, True, True, True, False),
        ("x <<< y", False, None, None, None, None),
        ("x + y > z", True, False, True, False, True),
        (None, None, None, None, None, None),
    ]
    (seat_row,) = rows["seats"]
    assert {k: seat_row[k] for k in ("hypotheses_stated", "hypotheses_parsed", "positive_tests")} == {
        "hypotheses_stated": 4,
        "hypotheses_parsed": 3,
        "positive_tests": 2,
    }
    assert seat_row["positive_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert seat_row["refuted_kept"] == 1 and seat_row["first_equivalent_test"] == 4
    # without analytics: the text stays, the measures are empty
    bare = jsonl_tables(export(tmp_path, "jsonl", analytics=False)[0])
    assert [s["hypothesis"] for s in bare["steps"]][:2] == ["x > 0", "x > 0"]
    assert {s["positive_test"] for s in bare["steps"]} == {None} and bare["seats"][0][
        "positive_share"
    ] is None

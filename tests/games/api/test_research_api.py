"""The read-only research API: research tokens only, filters and pagination, one match's full
steps with analytics and model calls, exports as zips, and no raw identifiers in any reply."""

from __future__ import annotations

import io
import json
import zipfile

import pyarrow.parquet as pq
import pytest
from django.test import Client

from games.api.auth import agent_token_create
from games.research import exports
from tests.games.research.test_exports import log  # noqa: F401  (the fixture: three matches)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "research-tests"}
    }
    from django.core.cache import cache

    cache.clear()


def client(*, research: bool = True) -> Client:
    _, key = agent_token_create(name=f"reader-{research}", can_read_research=research)
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def researcher() -> Client:
    return client()


ROUTES = [
    "/api/v1/research/matches",
    "/api/v1/research/matches/1/steps",
    "/api/v1/research/export?format=csv",
]


@pytest.mark.parametrize("url", ROUTES)
def test_a_play_token_gets_403_and_no_token_401(url):
    response = client(research=False).get(url)
    assert response.status_code == 403 and "--research" in response.json()["error"]
    assert Client().get(url).status_code == 401


@pytest.mark.parametrize("url", ROUTES)
def test_the_research_routes_are_read_only(researcher, url):
    response = researcher.post(url, data="{}", content_type="application/json")
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_matches_are_listed_with_seats_and_a_steps_summary(log, researcher):  # noqa: F811
    body = researcher.get("/api/v1/research/matches").json()
    assert body["count"] == 3 and body["pages"] == 1 and body["schema_version"] == exports.SCHEMA_VERSION
    assert [m["match_id"] for m in body["matches"]] == [log["solo"], log["race"], log["running"]]
    solo = body["matches"][0]
    assert set(solo) == set(exports.FIELD_NAMES["matches"]) | {"seats"}
    (seat,) = solo["seats"]
    assert seat["player"].startswith("h_") and seat["solved"] is True
    assert seat["steps"]["count"] == 4 and seat["steps"]["by_kind"] == {"test": 3, "guess": 1}
    assert seat["steps"]["client_think_ms_total"] == 4 * 1500
    running = body["matches"][2]
    assert running["hidden"] is None and running["hidden_rule"] is None


def test_matches_paginate_in_id_order(log, researcher):  # noqa: F811
    pages = [researcher.get("/api/v1/research/matches", {"page": p, "page_size": 2}).json() for p in (1, 2)]
    assert [p["pages"] for p in pages] == [2, 2]
    assert [[m["match_id"] for m in p["matches"]] for p in pages] == [
        [log["solo"], log["race"]],
        [log["running"]],
    ]
    past = researcher.get("/api/v1/research/matches", {"page": 3, "page_size": 2})
    assert past.status_code == 404 and "past the last page" in past.json()["error"]


def test_matches_take_every_filter(log, researcher):  # noqa: F811
    def ids(**params):
        response = researcher.get("/api/v1/research/matches", params)
        assert response.status_code == 200, response.content
        return {m["match_id"] for m in response.json()["matches"]}

    assert ids(kind="model") == {log["race"]}
    assert ids(kind="agent") == {log["running"]}
    assert ids(contestant="infogain") == {log["race"]}
    assert ids(finished=1) == {log["solo"], log["race"]}
    assert ids(family="wason", variant=log["variant"]) == {log["solo"], log["running"]}
    assert ids(since="2025-02-01", until="2025-02-28") == {log["race"]}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"kind": "robot"}, "player kind"),
        ({"since": "soon"}, "since must be a date"),
        ({"page": "0"}, "page must be a whole number"),
        ({"page_size": "1000"}, "page_size must be a whole number from 1 to 200"),
        ({"family": "chess"}, "unknown family"),
    ],
)
def test_bad_parameters_are_400_with_the_reason(researcher, params, fragment):
    response = researcher.get("/api/v1/research/matches", params)
    assert response.status_code == 400 and fragment in response.json()["error"]


def test_one_match_has_every_step_with_analytics_and_every_model_call(log, researcher):  # noqa: F811
    body = researcher.get(f"/api/v1/research/matches/{log['race']}/steps").json()
    match = body["match"]
    assert match["match_id"] == log["race"] and match["hidden_rule"] == "x < y < z"
    anon, model = match["seats"]
    assert set(anon) == set(exports.FIELD_NAMES["seats"]) | {"steps", "model_calls"}
    tests = [s for s in anon["steps"] if s["kind"] == "test"]
    assert len(tests) == 2 and all(isinstance(s["surviving"], int) for s in tests)
    assert set(tests[0]) == set(exports.FIELD_NAMES["steps"])
    assert [c["turn"] for c in model["model_calls"]] == [1, 2, 3]
    assert model["model_calls"][0]["messages"][0]["role"] == "system"
    quick = researcher.get(f"/api/v1/research/matches/{log['race']}/steps", {"analytics": "0"}).json()
    assert all(s["surviving"] is None for s in quick["match"]["seats"][0]["steps"])
    assert researcher.get("/api/v1/research/matches/424242/steps").status_code == 404


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_the_export_endpoint_streams_a_zip_in_each_format(log, researcher, fmt):  # noqa: F811
    response = researcher.get("/api/v1/research/export", {"format": fmt, "finished": "1"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == fmt and manifest["counts"]["matches"] == 2
    assert "SCHEMA.md" in files
    if fmt == "parquet":
        assert pq.read_table(io.BytesIO(files["steps.parquet"])).num_rows == manifest["counts"]["steps"]


def test_the_export_endpoint_needs_a_known_format(researcher):
    response = researcher.get("/api/v1/research/export", {"format": "xlsx"})
    assert response.status_code == 400 and "jsonl, csv, parquet" in response.json()["error"]


def test_no_raw_identifier_is_in_any_research_reply(log, researcher):  # noqa: F811
    bodies = [
        researcher.get("/api/v1/research/matches").content,
        *(
            researcher.get(f"/api/v1/research/matches/{log[k]}/steps").content
            for k in ("solo", "race", "running")
        ),
    ]
    for body in bodies:
        for secret in log["secrets"]:
            assert secret.encode() not in body, secret

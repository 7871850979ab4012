"""The replay page and the research dashboard: permissions, status codes, embedded data, downloads."""

import csv
import io
import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.staticfiles import finders
from django.core.cache import cache

from games.models import Step
from games.play import services
from games.research import analytics
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def finished_race():
    match, (ann, bob) = factories.match(seats=2)
    services.step_submit(seat=ann, action={"type": "test", "input": [1, 2, 3]}, client_think_ms=900)
    services.step_submit(seat=bob, action={"type": "test", "input": [3, 4, 5]})
    services.step_submit(seat=ann, action={"type": "guess", "rule": factories.HIDDEN_RULE})
    services.step_submit(seat=bob, action={"type": "guess", "rule": "x > y"})
    match.refresh_from_db()
    assert match.status == "finished"
    return match, ann, bob


def embedded(response, element_id):
    html = response.content.decode()
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no #{element_id} in the page"
    return json.loads(found.group(1))


def researcher(client, *, staff=False):
    user = User.objects.create_user(f"res{User.objects.count()}", password="pw", is_staff=staff)
    if not staff:
        user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    return user


# -- replay ----------------------------------------------------------------------------------------


def test_replay_of_an_unknown_match_is_404(client):
    assert client.get("/matches/999999/replay/").status_code == 404


def test_replay_of_a_running_match_is_403_and_says_it_is_not_finished(client):
    match, (seat,) = factories.match()
    services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]})
    response = client.get(f"/matches/{match.pk}/replay/")
    assert response.status_code == 403
    assert "not finished yet" in response.content.decode()
    assert b"replay-data" not in response.content  # nothing of the log leaks before the end


def test_replay_embeds_every_logged_step_with_its_analytics(client):
    match, ann, bob = finished_race()
    response = client.get(f"/matches/{match.pk}/replay/")
    assert response.status_code == 200
    data = embedded(response, "replay-data")

    assert data == json.loads(json.dumps(analytics.match_replay(match=match)))
    logged = list(Step.objects.filter(seat__match=match).order_by("created_at", "id"))
    assert [(e["seat"], e["seq"]) for e in data["timeline"]] == [(s.seat_id, s.seq) for s in logged]
    for seat_row in data["seats"]:
        steps = Step.objects.filter(seat_id=seat_row["seat"]).order_by("seq")
        assert [(r["seq"], r["kind"]) for r in seat_row["steps"]] == [(s.seq, s.kind) for s in steps]
        for row, step in zip(seat_row["steps"], steps):
            if step.kind == "test":
                assert (row["input"], row["result"]) == (step.action["input"], step.result["result"])
                assert row["surviving"] <= row["surviving_before"]
    ann_row = next(s for s in data["seats"] if s["seat"] == ann.pk)
    assert ann_row["steps"][0]["think_ms"] == 900
    assert data["reveal"]["rule"] == factories.HIDDEN_RULE
    html = response.content.decode()
    assert 'id="copy-link"' in html and "arena/replay.js" in html and 'id="rp-scrubber"' in html


def test_the_reveal_and_the_trace_link_to_the_replay(client):
    match, ann, _ = finished_race()
    assert (
        f'href="/matches/{match.pk}/replay/"' in client.get(f"/matches/{match.pk}/spectate/").content.decode()
    )
    trace = client.get(f"/matches/{match.pk}/seats/{ann.pk}/trace/").content.decode()
    assert f'href="/matches/{match.pk}/replay/"' in trace


# -- dashboard -------------------------------------------------------------------------------------


def test_dashboard_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/research/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/research/")


def test_dashboard_refuses_signed_in_non_researchers_with_a_clear_403(client):
    client.force_login(User.objects.create_user("player", password="pw"))
    response = client.get("/research/")
    assert response.status_code == 403
    assert "researchers group" in response.content.decode()
    assert client.get("/research/data/solve-rate.csv").status_code == 403


@pytest.mark.parametrize("staff", [False, True])
def test_dashboard_opens_for_researchers_and_staff(client, staff):
    finished_race()
    researcher(client, staff=staff)
    response = client.get("/research/")
    assert response.status_code == 200
    html = response.content.decode()
    for slug in ("solve-rate", "tests-used", "surviving"):
        assert f'<canvas id="chart-{slug}"' in html
        assert f'href="/research/data/{slug}.csv"' in html and f'href="/research/data/{slug}.json"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    plots = embedded(response, "dashboard-data")
    assert plots["solve-rate"] == [
        {
            "player": "humans",
            "player_kind": "human",
            "family": "wason",
            "tier": 1,
            "seats": 2,
            "solved": 1,
            "solve_rate": 0.5,
        }
    ]


def test_plot_data_downloads_as_json_and_csv_with_the_same_rows(client):
    finished_race()
    researcher(client)
    for slug in analytics.PLOTS:
        as_json = client.get(f"/research/data/{slug}.json")
        assert as_json.status_code == 200
        body = as_json.json()
        assert body["plot"] == slug and body["rows"] == analytics.plot_rows(
            plot=slug, measures=analytics.dashboard_measures()
        )
        as_csv = client.get(f"/research/data/{slug}.csv")
        assert as_csv["Content-Type"].startswith("text/csv")
        assert f'filename="{slug}.csv"' in as_csv["Content-Disposition"]
        table = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
        # the header even for a plot with no rows (no stated hypotheses in this race)
        assert next(csv.reader(io.StringIO(as_csv.content.decode()))) == body["columns"]
        assert len(table) == len(body["rows"])
        assert [r["player"] for r in table] == [r["player"] for r in body["rows"]]
    tests_used = list(
        csv.DictReader(io.StringIO(client.get("/research/data/tests-used.csv").content.decode()))
    )
    assert [(r["tests_used"], r["seats"]) for r in tests_used] == [("1", "2")]


def test_unknown_plots_formats_and_families_are_404(client):
    researcher(client)
    assert client.get("/research/data/nope.csv").status_code == 404
    assert client.get("/research/data/solve-rate.xml").status_code == 404
    assert client.get("/research/?family=nope").status_code == 404
    assert client.get("/research/data/solve-rate.json?family=wason").status_code == 200


def test_the_charting_library_is_vendored_in_our_static_files():
    path = finders.find("vendor/chartjs/chart.umd.min.js")
    assert path, "static/vendor/chartjs/chart.umd.min.js is missing"
    with open(path, "rb") as f:
        assert b"Chart.js v4" in f.read(200)
    assert finders.find("vendor/chartjs/LICENSE.md")

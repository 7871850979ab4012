"""A finished ``subregular`` match (string tests, string answers, no reference space) in the
replay, the research dashboard and every export format."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User

from games.engine import get_family
from games.play import services
from games.research import exports
from tests import factories
from tests.games.research.test_replay_dashboard_views import embedded

pytestmark = pytest.mark.django_db

PARAMS = {"k": 2, "alphabet": 3, "rules": 2, "mode": "ISL", "max_tests": 30}


def finished_solo():
    family = get_family("subregular")
    hidden = family.generate(2, family.validate_params(PARAMS)).hidden["rule"]
    variant = services.variant_create(slug="sr-research", family="subregular", title="Local", params=PARAMS)
    match = services.match_create(variant=variant, seed=2)
    seat = services.seat_join(match=match, handle="Ann", session_key=factories.session_key())
    services.match_start(match=match)
    for word in ("abc", "cab"):
        services.step_submit(seat=seat, action={"type": "test", "input": word})
    services.step_submit(seat=seat, action={"type": "guess", "rule": "c:c -> a"})
    match.refresh_from_db()
    assert match.status == "finished"
    return match, hidden, family.extras["parse"](hidden)


def test_the_replay_shows_string_tests_and_answers(client):
    match, hidden, function = finished_solo()
    response = client.get(f"/matches/{match.pk}/replay/")
    assert response.status_code == 200
    text = json.dumps(embedded(response, "replay-data"))
    assert '"abc"' in text and json.dumps(function.apply("cab")) in text and json.dumps(hidden) in text


def test_the_dashboard_opens_with_a_family_that_declares_no_reference_space(client):
    finished_solo()
    user = User.objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    response = client.get("/research/")
    assert response.status_code == 200
    rates = embedded(response, "dashboard-data")["solve-rate"]
    assert any(row["family"] == "subregular" for row in rates)


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_every_export_format_holds_the_string_answers(tmp_path, fmt):
    _, hidden, function = finished_solo()
    out = tmp_path / fmt
    exports.export_directory(out, fmt=fmt)
    blob = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"cab" in blob and function.apply("cab").encode() in blob and hidden.encode() in blob

"""Model contestants in the admin: validated on save, an unset key variable flagged, and "Test
connection" making one small real call to the loopback fake model (success and failure)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from games.models import ModelContestant
from tests.workers.fake_model import FakeModelServer, Reply

pytestmark = pytest.mark.django_db

ADD = "/admin/games/modelcontestant/add/"


@pytest.fixture
def staff(client) -> User:
    user = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    client.force_login(user)
    return user


def contestant_form(**overrides) -> dict:
    data = {
        "slug": "local-llm",
        "name": "Local LLM",
        "enabled": "on",
        "backend": "openai",
        "base_url": "",
        "model": "tiny",
        "api_key_env": "",
        "sampling": '{"temperature": 0.2}',
        "prompt_version": "1",
        "max_tokens_per_call": "256",
        "http_timeout_s": "5",
        "max_calls": "100",
        "max_tokens": "200000",
        "max_cost_usd": "5",
        "price_in_per_mtok": "0",
        "price_out_per_mtok": "0",
        "max_concurrent_matches": "4",
    }
    data.update(overrides)
    return data


def errors(response, field: str) -> list[str]:
    return list(response.context["adminform"].form.errors.get(field, []))


def test_a_contestant_is_added_from_the_admin_and_its_connection_tested(
    client, staff, fake: FakeModelServer, monkeypatch
):
    monkeypatch.setenv("ARENA_TEST_PROBE_KEY_SET", "sk-test")
    response = client.post(
        ADD, contestant_form(base_url=fake.base_url, api_key_env="ARENA_TEST_PROBE_KEY_SET")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contestant = ModelContestant.objects.get(slug="local-llm")
    assert contestant.sampling == {"temperature": 0.2} and contestant.base_url == fake.base_url

    fake.script(Reply(content="ready"))
    page = client.post(f"/admin/games/modelcontestant/{contestant.pk}/test-connection/", follow=True)
    shown = [str(m) for m in page.context["messages"]]
    assert any(m.startswith("local-llm: replied: ready") for m in shown), shown
    ((path, body),) = fake.requests
    assert path.endswith("/chat/completions") and body["model"] == "tiny" and body["max_tokens"] == 16


def test_test_connection_shows_the_providers_error(client, staff, fake: FakeModelServer):
    contestant = ModelContestant.objects.create(
        slug="bad-key", name="Bad key", backend="openai", model="tiny", base_url=fake.base_url
    )
    fake.script(Reply(content="invalid api key", status=401))
    page = client.post(
        "/admin/games/modelcontestant/",
        {"action": "test_connection", "_selected_action": [contestant.pk]},
        follow=True,
    )
    (shown,) = [m for m in page.context["messages"] if "bad-key" in str(m)]
    assert shown.level_tag == "error" and "invalid api key" in str(shown)


def test_test_connection_to_nothing_listening_is_a_connection_error(client, staff, fake: FakeModelServer):
    url = fake.base_url
    fake.stop()
    contestant = ModelContestant.objects.create(
        slug="gone", name="Gone", backend="openai", model="tiny", base_url=url, http_timeout_s=3
    )
    page = client.post(f"/admin/games/modelcontestant/{contestant.pk}/test-connection/", follow=True)
    (shown,) = [m for m in page.context["messages"] if "gone" in str(m)]
    assert shown.level_tag == "error" and "connection" in str(shown)


def test_a_named_key_variable_that_is_not_set_is_flagged_at_once(client, staff, monkeypatch):
    monkeypatch.delenv("ARENA_TEST_PROBE_KEY_UNSET", raising=False)
    page = client.post(
        ADD,
        contestant_form(base_url="http://127.0.0.1:9/v1", api_key_env="ARENA_TEST_PROBE_KEY_UNSET"),
        follow=True,
    )
    assert any("ARENA_TEST_PROBE_KEY_UNSET is not set" in str(m) for m in page.context["messages"])
    listing = client.get("/admin/games/modelcontestant/")
    assert b"NOT SET" in listing.content
    monkeypatch.setenv("ARENA_TEST_PROBE_KEY_UNSET", "sk-x")
    assert b"NOT SET" not in client.get("/admin/games/modelcontestant/").content


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"base_url": "http://localhost:8000"}, "base_url", "ends in /v1"),
        ({"backend": "anthropic", "base_url": "https://api.anthropic.com/v1"}, "base_url", "without /v1"),
        ({"api_key_env": "sk-live-0123456789"}, "api_key_env", "never the key itself"),
        ({"sampling": "[0.2]"}, "sampling", "must be a JSON object"),
        ({"sampling": "{temperature: 0.2}"}, "sampling", "Enter a valid JSON"),
        ({"backend": "builtin", "model": "oracle"}, "model", "unknown built-in solver 'oracle'"),
        ({"http_timeout_s": "-1"}, None, "contestant_timeout_positive"),
    ],
)
def test_bad_contestant_settings_are_refused_next_to_the_field(client, staff, overrides, field, message):
    response = client.post(ADD, contestant_form(**overrides))
    assert response.status_code == 200
    form = response.context["adminform"].form
    found = errors(response, field) if field else [str(e) for e in form.non_field_errors()]
    assert any(message in e for e in found), form.errors
    assert not ModelContestant.objects.filter(slug="local-llm").exists()


def test_a_builtin_contestant_tests_without_a_network_call(client, staff):
    contestant = ModelContestant.objects.create(slug="ig", name="IG", backend="builtin", model="infogain")
    page = client.post(f"/admin/games/modelcontestant/{contestant.pk}/test-connection/", follow=True)
    assert any("built-in solver 'infogain' is available" in str(m) for m in page.context["messages"])

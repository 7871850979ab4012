"""The HTTP agent API end to end: token auth, create -> test -> guess -> read back, races with a
built-in contestant, every error status, idempotent retries, the OpenAPI document."""

from __future__ import annotations

import hashlib
import io
import json
import re

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from games.api.auth import agent_token_create
from games.models import AgentToken, Match, ModelContestant, Seat, Step
from games.play import services
from tests import factories
from tests.workers.helpers import builtin

pytestmark = pytest.mark.django_db

RULE = factories.HIDDEN_RULE  # "x + y > z"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """A fresh in-process cache per test, so rate-limit counters never carry over."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-tests"}
    }
    settings.ARENA_API_RATE_PER_MIN = 600
    from django.core.cache import cache

    cache.clear()


class Api:
    """A test client that sends a bearer token and enforces CSRF (so the API must be exempt),
    and keeps every response body, to scan for leaks."""

    def __init__(self, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = Client(enforce_csrf_checks=True, headers=headers)
        self.bodies: list[str] = []

    def _keep(self, response):
        self.bodies.append(response.content.decode())
        return response

    def get(self, path: str, **headers):
        return self._keep(self.client.get(path, headers=headers))

    def post(self, path: str, data=None, *, raw: str | None = None, **headers):
        body = raw if raw is not None else json.dumps(data)
        return self._keep(self.client.post(path, data=body, content_type="application/json", headers=headers))

    def create(self, variant, **fields):
        return self.post("/api/v1/matches", {"variant": variant.slug, "seed": 1, **fields})

    def act(self, seat_id: int, action: dict, **headers):
        return self.post(f"/api/v1/seats/{seat_id}/actions", action, **headers)


def new_api(name: str = "agent-a", **fields) -> tuple[Api, AgentToken]:
    token, key = agent_token_create(name=name, **fields)
    return Api(key), token


@pytest.fixture
def api() -> Api:
    return new_api()[0]


def assert_error(response, status: int, *fragments: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) >= {"error"} and isinstance(body["error"], str) and body["error"]
    for fragment in fragments:
        assert fragment in body["error"]
    return body


# -- the happy path ------------------------------------------------------------------------------


def test_create_test_guess_and_read_back_against_the_real_wason_family():
    api, token = new_api()
    variant = factories.variant(rule=RULE)

    created = api.create(variant)
    assert created.status_code == 201
    body = created.json()
    seat = Seat.objects.get(pk=body["seat"])
    assert body["match"] == seat.match_id and body["status"] == "running" and body["mode"] == "solo"
    assert seat.kind == Seat.Kind.AGENT and seat.agent_token == token and seat.handle == "agent-a"
    assert seat.session_key == ""  # a browser cookie can never name an agent seat
    obs = body["observation"]
    assert obs["history"] == [] and obs["tests_left"] == 30 and obs["public"]["family"] == "wason"
    assert "Tests left: 30." in obs["text"] and "hidden rule about triples" in obs["description"]
    assert obs["presentation"]["input_schema"]["minItems"] == 3  # how to write a test, from the family
    assert obs["presentation"]["answer_schema"]["type"] == "boolean"

    no = api.act(seat.pk, {"type": "test", "input": [1, 2, 3]})  # 1 + 2 > 3 is false
    yes = api.act(seat.pk, {"type": "test", "input": {"x": 2, "y": 2, "z": 3}})
    assert no.status_code == yes.status_code == 200
    assert no.json()["result"] is False and yes.json()["result"] is True
    assert yes.json()["observation"]["history"] == [
        {"input": [1, 2, 3], "result": False},
        {"input": [2, 2, 3], "result": True},
    ]
    assert yes.json()["observation"]["tests_left"] == 28

    guess = api.act(seat.pk, {"type": "guess", "rule": "z < y + x"})
    assert guess.status_code == 200
    assert guess.json() == {
        "correct": True,
        "counterexample": None,
        "hidden_answer": None,
        "guess_answer": None,
        "agreement": 1.0,
        "score": {"solved": True, "tests_used": 2, "max_tests": 30, "agreement": 1.0, "points": 97},
        "finished": True,
        "match_status": "finished",
    }
    for before_the_end in api.bodies:
        assert RULE not in before_the_end and "true_fraction" not in before_the_end

    state = api.get(f"/api/v1/matches/{seat.match_id}").json()
    assert state["status"] == "finished" and state["rule"] == RULE and state["you"] == seat.pk
    assert state["reveal"]["rule"] == RULE
    [mine] = state["seats"]
    assert [s["kind"] for s in mine["steps"]] == ["test", "test", "guess"]
    assert mine["steps"][2]["rule"] == "z < y + x" and mine["steps"][2]["verdict"]["correct"] is True


def test_a_wrong_guess_gets_a_counterexample_where_the_rules_differ():
    api, _ = new_api()
    seat_id = api.create(factories.variant(rule=RULE)).json()["seat"]
    body = api.act(seat_id, {"type": "guess", "rule": "x < y"}).json()
    assert body["correct"] is False and body["finished"] is True
    x, y, z = body["counterexample"]
    assert (x + y > z) == body["hidden_answer"] and (x < y) == body["guess_answer"]
    assert body["hidden_answer"] != body["guess_answer"] and body["score"]["points"] == 0


def test_a_forfeit_ends_the_seat():
    api, _ = new_api()
    seat_id = api.create(factories.variant()).json()["seat"]
    body = api.act(seat_id, {"type": "forfeit", "reason": "bored"}).json()
    assert body["forfeited"] is True and body["finished"] is True and body["match_status"] == "finished"
    assert Seat.objects.get(pk=seat_id).status == Seat.Status.FORFEITED


def test_a_random_seed_is_picked_when_none_is_given():
    api, _ = new_api()
    response = api.post("/api/v1/matches", {"variant": "wason-tier-1"})
    assert response.status_code == 201
    match = Match.objects.get(pk=response.json()["match"])
    assert match.instance.variant.slug == "wason-tier-1" and match.status == Match.Status.RUNNING


# -- races ------------------------------------------------------------------------------------------


def test_racing_infogain_records_the_model_seat_and_starts_it_with_the_agent(monkeypatch):
    builtin()
    queued: list[int] = []
    monkeypatch.setattr(services, "model_turn_request", lambda *, seat, turn=None: queued.append(seat.pk))
    api, _ = new_api()

    body = api.create(factories.variant(rule=RULE), opponents=["infogain"]).json()
    match = Match.objects.get(pk=body["match"])
    agent, model = match.seats.order_by("id")
    assert body["mode"] == "race" and match.status == Match.Status.RUNNING
    assert (agent.pk, agent.kind) == (body["seat"], Seat.Kind.AGENT)
    assert (model.kind, model.contestant) == (Seat.Kind.MODEL, "infogain")
    assert queued == [model.pk]  # the model's first turn is asked for when the match starts


def test_in_a_running_race_other_seats_show_progress_only_and_the_rule_stays_hidden():
    builtin()
    api, _ = new_api()
    body = api.create(factories.variant(rule=RULE), opponents=["infogain"]).json()
    match = Match.objects.get(pk=body["match"])
    model = match.seats.get(kind=Seat.Kind.MODEL)
    services.step_submit(seat=model, action={"type": "test", "input": [5, 6, 7]})  # the model moves
    api.act(body["seat"], {"type": "test", "input": [1, 1, 1]})

    guess = api.act(body["seat"], {"type": "guess", "rule": "z < y + x"})  # right, worded differently
    assert guess.json()["correct"] is True and guess.json()["match_status"] == "running"

    state = api.get(f"/api/v1/matches/{match.pk}").json()
    assert state["status"] == "running" and "rule" not in state and "reveal" not in state
    mine, theirs = state["seats"]
    assert len(mine["steps"]) == 2
    assert theirs == {
        "id": model.pk,
        "handle": model.handle,
        "kind": "model",
        "status": "playing",
        "tests_used": 1,
        "tests_left": 29,
    }
    for body_text in api.bodies:
        assert RULE not in body_text and "[5, 6, 7]" not in body_text

    services.seat_end(seat=model, reason="test over")
    finished = api.get(f"/api/v1/matches/{match.pk}").json()
    assert finished["status"] == "finished" and finished["rule"] == RULE
    assert finished["seats"][1]["steps"][0]["input"] == [5, 6, 7]


def test_bystander_and_research_tokens_see_progress_only_until_the_end_then_everything():
    api, _ = new_api()
    body = api.create(factories.variant(), opponents=[builtin().slug]).json()
    api.act(body["seat"], {"type": "test", "input": [1, 2, 3]})
    bystander, _ = new_api("bystander")
    researcher, _ = new_api("researcher", can_read_research=True)

    for token in (bystander, researcher):
        seen = token.get(f"/api/v1/matches/{body['match']}").json()
        assert seen["you"] is None and "rule" not in seen
        assert all("steps" not in s and "score" not in s for s in seen["seats"])
        assert seen["seats"][0]["tests_used"] == 1
    api.act(body["seat"], {"type": "forfeit"})
    for model_seat in Seat.objects.filter(match_id=body["match"], kind=Seat.Kind.MODEL):
        services.seat_end(seat=model_seat, reason="test over")
    full = researcher.get(f"/api/v1/matches/{body['match']}").json()
    assert full["seats"][0]["steps"][0]["input"] == [1, 2, 3] and "rule" in full


# -- discovery ----------------------------------------------------------------------------------------


def test_variants_lists_published_ones_with_budgets_and_never_a_hand_written_rule(api):
    custom = factories.variant(rule=RULE, max_tests=12)
    hidden = factories.variant(published=False)
    response = api.get("/api/v1/variants")
    assert response.status_code == 200
    rows = {v["slug"]: v for v in response.json()["variants"]}
    assert rows[custom.slug] == {
        "slug": custom.slug,
        "family": "wason",
        "title": "Test wason",
        "description": "",
        "budgets": {"max_tests": 12, "time_limit_s": None},
    }
    assert "wason-tier-1" in rows and hidden.slug not in rows
    assert RULE not in response.content.decode()


def test_contestants_lists_the_enabled_ones(api):
    builtin()
    ModelContestant.objects.create(slug="off", name="Off", backend="builtin", model="random", enabled=False)
    rows = api.get("/api/v1/contestants").json()["contestants"]
    assert {"slug": "infogain", "name": builtin().name, "backend": "builtin"} in rows
    assert "off" not in {r["slug"] for r in rows}


# -- idempotency ----------------------------------------------------------------------------------------


def test_a_retried_test_with_the_same_idempotency_key_applies_once(api):
    seat_id = api.create(factories.variant()).json()["seat"]
    first = api.act(seat_id, {"type": "test", "input": [1, 2, 3]}, **{"Idempotency-Key": "move-1"})
    again = api.act(seat_id, {"type": "test", "input": [1, 2, 3]}, **{"Idempotency-Key": "move-1"})
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again.json() == first.json()
    assert Step.objects.filter(seat_id=seat_id).count() == 1
    assert Seat.objects.get(pk=seat_id).tests_used == 1


def test_the_body_id_is_an_idempotency_key_too_and_a_retried_guess_is_not_a_conflict(api):
    seat_id = api.create(factories.variant(rule=RULE)).json()["seat"]
    first = api.act(seat_id, {"type": "guess", "rule": "x + y > z", "id": "final"})
    again = api.act(seat_id, {"type": "guess", "rule": "x + y > z", "id": "final"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert Step.objects.filter(seat_id=seat_id).count() == 1


# -- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ],
)
def test_a_missing_or_invalid_token_is_401(headers):
    client = Client(headers=headers)
    for response in (
        client.get("/api/v1/variants"),
        client.post("/api/v1/matches", data="{}", content_type="application/json"),
    ):
        assert_error(response, 401, "Bearer")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_token_is_401():
    api, token = new_api()
    AgentToken.objects.filter(pk=token.pk).update(active=False)
    assert_error(api.get("/api/v1/variants"), 401)


def test_only_the_hash_of_a_token_is_stored_and_use_is_recorded():
    token, key = agent_token_create(name="hashing")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in token.key_hash
    assert token.prefix == key[:8] and token.last_used is None
    Api(key).get("/api/v1/variants")
    assert AgentToken.objects.get(pk=token.pk).last_used is not None


def test_acting_on_someone_elses_seat_is_403():
    owner, _ = new_api("owner")
    intruder, _ = new_api("intruder")
    body = owner.create(factories.variant(), opponents=[builtin().slug]).json()
    model_seat = Seat.objects.get(match_id=body["match"], kind=Seat.Kind.MODEL)
    assert_error(intruder.act(body["seat"], {"type": "test", "input": [1, 2, 3]}), 403, "not yours")
    assert_error(owner.act(model_seat.pk, {"type": "test", "input": [1, 2, 3]}), 403, "not yours")
    assert Step.objects.count() == 0


def test_a_browser_seat_is_403_to_every_token(api):
    _, [browser_seat] = factories.match()
    assert_error(api.act(browser_seat.pk, {"type": "test", "input": [1, 2, 3]}), 403)


def test_unknown_things_are_404(api):
    variant = factories.variant()
    unpublished = factories.variant(published=False)
    assert_error(api.get("/api/v1/matches/424242"), 404, "no match 424242")
    assert_error(api.get(f"/api/v1/matches/{2**70}"), 404)
    assert_error(api.act(424242, {"type": "test", "input": [1, 2, 3]}), 404, "no seat 424242")
    assert_error(api.act(2**70, {"type": "test", "input": [1, 2, 3]}), 404)
    assert_error(api.post("/api/v1/matches", {"variant": "nope"}), 404, "'nope'", "/api/v1/variants")
    assert_error(api.post("/api/v1/matches", {"variant": unpublished.slug}), 404)
    assert_error(api.create(variant, opponents=["gpt-99"]), 404, "'gpt-99'", "available")
    assert_error(api.get("/api/v1/nothing-here"), 404, "no such endpoint")
    assert_error(api.get("/api/v1/matches/"), 404)
    assert Match.objects.count() == 0


def test_wrong_methods_are_405_with_allow():
    api, _ = new_api()
    for method, path, allowed in [
        ("get", "/api/v1/matches", "POST"),
        ("post", "/api/v1/variants", "GET"),
        ("post", "/api/v1/contestants", "GET"),
        ("delete", "/api/v1/matches/1", "GET"),
        ("get", "/api/v1/seats/1/actions", "POST"),
        ("put", "/api/v1/seats/1/actions", "POST"),
    ]:
        response = getattr(api.client, method)(path)
        assert_error(response, 405, "not allowed", allowed)
        assert response["Allow"] == allowed


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("", "empty"),
        ("[1, 2]", "must be a JSON object"),
        ('{"variant": 5}', '"variant" is required'),
        ('{"variant": "wason-tier-1", "seed": "abc"}', '"seed" must be a whole number'),
        ('{"variant": "wason-tier-1", "seed": true}', '"seed" must be a whole number'),
        ('{"variant": "wason-tier-1", "seed": -1}', '"seed" must be a whole number'),
        ('{"variant": "wason-tier-1", "seed": 1e400}', '"seed" must be a whole number'),
        ('{"variant": "wason-tier-1", "opponents": "infogain"}', '"opponents" must be a list'),
        (
            '{"variant": "wason-tier-1", "opponents": ["a", "b", "c", "d", "e", "f", "g", "h", "i"]}',
            "at most 8",
        ),
        ('{"variant": "wason-tier-1", "opponent": ["infogain"]}', "unknown field(s) opponent"),
    ],
)
def test_bad_create_requests_are_400(api, raw, fragment):
    assert_error(api.post("/api/v1/matches", raw=raw), 400, fragment)
    assert Match.objects.count() == 0


@pytest.mark.parametrize(
    ("action", "status", "fragment", "column"),
    [
        ({"type": "test", "input": [2000000, 1, 1]}, 400, "out of range", None),
        ({"type": "test", "input": [1, 2]}, 400, "exactly three numbers", None),
        ({"type": "test"}, 400, 'a test needs an "input"', None),
        ({"type": "guess", "rule": "x + > y"}, 400, "your rule does not parse", 5),
        ({"type": "guess", "rule": ""}, 400, "non-empty string", None),
        ({"type": "jump"}, 400, "unknown action type 'jump'", None),
        ({"input": [1, 2, 3]}, 400, "unknown action type None", None),
        ({"type": "forfeit_turn", "reason": "x"}, 400, "unknown action type", None),
        ({"type": "test", "input": [1, 2, 3], "id": 7}, 400, "must be a string", None),
        ({"type": "test", "input": [1, 2, 3], "id": "k" * 101}, 400, "at most 100 characters", None),
        ({"type": "test", "input": [1, 2, 3], "think_ms": "slow"}, 400, "think_ms", None),
    ],
)
def test_bad_actions_are_400_with_the_engine_message(api, action, status, fragment, column):
    seat_id = api.create(factories.variant()).json()["seat"]
    body = assert_error(api.act(seat_id, action), status, fragment)
    assert body.get("column") == column
    assert Step.objects.filter(seat_id=seat_id).count() == 0


def test_a_non_json_action_body_is_400(api):
    seat_id = api.create(factories.variant()).json()["seat"]
    assert_error(api.post(f"/api/v1/seats/{seat_id}/actions", raw="type=test"), 400, "not valid JSON")


def test_no_tests_left_is_400_because_the_seat_may_still_guess(api):
    seat_id = api.create(factories.variant(max_tests=1)).json()["seat"]
    assert api.act(seat_id, {"type": "test", "input": [1, 2, 3]}).status_code == 200
    assert_error(api.act(seat_id, {"type": "test", "input": [1, 2, 4]}), 400, "no tests left")
    assert api.act(seat_id, {"type": "guess", "rule": "x < y"}).status_code == 200


def test_moves_after_the_seat_or_match_is_over_are_409(api):
    builtin()
    body = api.create(factories.variant(), opponents=["infogain"]).json()
    api.act(body["seat"], {"type": "guess", "rule": "x < y"})
    assert Match.objects.get(pk=body["match"]).status == Match.Status.RUNNING  # the model plays on
    assert_error(api.act(body["seat"], {"type": "test", "input": [1, 2, 3]}), 409, "already finished")

    other = api.create(factories.variant()).json()
    api.act(other["seat"], {"type": "forfeit"})
    assert_error(api.act(other["seat"], {"type": "guess", "rule": "x < y"}), 409)


def test_a_move_after_the_time_limit_is_409_and_ends_the_seat(api):
    seat_id = api.create(factories.variant()).json()["seat"]
    match = Seat.objects.get(pk=seat_id).match
    Match.objects.filter(pk=match.pk).update(time_limit_s=1, started=match.started.replace(year=2000))
    body = assert_error(api.act(seat_id, {"type": "test", "input": [1, 2, 3]}), 409, "time limit")
    assert body["finished"] is True
    assert Seat.objects.get(pk=seat_id).status == Seat.Status.TIMED_OUT


def test_the_rate_limit_is_per_token_and_says_when_to_retry(settings):
    settings.ARENA_API_RATE_PER_MIN = 2
    api, _ = new_api("busy")
    other, _ = new_api("calm")
    assert api.get("/api/v1/variants").status_code == 200
    second = api.get("/api/v1/variants")
    assert second.status_code == 200 and second["X-RateLimit-Remaining"] == "0"
    limited = api.get("/api/v1/variants")
    body = assert_error(limited, 429, "at most 2 requests in any 60 seconds")
    assert 1 <= int(limited["Retry-After"]) <= 65 and body["retry_after"] == int(limited["Retry-After"])
    assert_error(api.post("/api/v1/matches", {"variant": "wason-tier-1"}), 429)
    assert Match.objects.count() == 0
    assert other.get("/api/v1/variants").status_code == 200


def test_a_failure_of_ours_is_a_logged_json_500(api, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr("games.play.selectors.published_variants", broken)
    assert_error(api.get("/api/v1/variants"), 500, "internal error")
    assert "database on fire" in caplog.text


# -- the description ------------------------------------------------------------------------------------


def _api_v1_routes() -> dict[str, URLPattern]:
    """Every route the URLconf serves under /api/v1/, as OpenAPI paths."""
    routes: dict[str, URLPattern] = {}

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif (prefix + str(p.pattern)).startswith("api/v1/"):
                routes["/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + str(p.pattern))] = p

    walk(get_resolver().url_patterns, "")
    return routes


def test_the_openapi_document_lists_every_api_v1_route_and_nothing_else(api):
    response = Client().get("/api/openapi.json")  # public: no token needed
    assert response.status_code == 200
    doc = response.json()
    assert (
        doc["openapi"].startswith("3.1")
        and doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    )
    routes = _api_v1_routes()
    assert len(routes) == 12 and set(routes) == set(doc["paths"])
    for path, item in doc["paths"].items():
        url = path.replace("{match_id}", "424242").replace("{seat_id}", "424242").replace("{slug}", "nope")
        for method in ("get", "post", "put", "delete"):
            response = api.client.generic(method.upper(), url, data="{}", content_type="application/json")
            if method in item:
                assert response.status_code != 405, (method, path)
                assert set(item[method]["responses"]) >= {"401", "405", "429"}
            else:
                assert response.status_code == 405, (method, path)


def test_the_docs_page_renders_every_operation_with_no_cdn():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    for path in _api_v1_routes():
        assert f"{path}</code>" in page
    assert "create_agent_token" in page and "&quot;opponents&quot;" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)


# -- the management command ----------------------------------------------------------------------------


def test_create_agent_token_prints_a_working_token_as_the_last_word():
    out = io.StringIO()
    call_command("create_agent_token", "script-1", stdout=out)
    key = out.getvalue().split()[-1]
    token = AgentToken.objects.get(name="script-1")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() and token.prefix == key[:8]
    assert len(key) >= 40 and not token.can_read_research
    assert Api(key).get("/api/v1/variants").status_code == 200

    call_command("create_agent_token", "research-1", "--research", stdout=io.StringIO())
    assert AgentToken.objects.get(name="research-1").can_read_research
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_agent_token", "script-1", stdout=io.StringIO())


# -- over real HTTP ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_script_plays_over_real_http(live_server):
    variant = factories.variant(rule=RULE)
    _, key = agent_token_create(name="over-http")
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as http:
        created = http.post("/api/v1/matches", json={"variant": variant.slug, "seed": 3})
        assert created.status_code == 201
        seat = created.json()["seat"]
        tested = http.post(f"/api/v1/seats/{seat}/actions", json={"type": "test", "input": [3, 4, 5]})
        assert tested.status_code == 200 and tested.json()["result"] is True
        guessed = http.post(f"/api/v1/seats/{seat}/actions", json={"type": "guess", "rule": "x + y > z"})
        assert guessed.json()["correct"] is True
        state = http.get(f"/api/v1/matches/{created.json()['match']}").json()
        assert state["status"] == "finished" and state["rule"] == RULE


def test_an_agent_sends_its_hypothesis_next_to_a_test():
    api, _ = new_api()
    variant = factories.variant(rule=RULE, hypothesis_mode="required_parseable")
    body = api.create(variant).json()
    assert body["observation"]["hypothesis"] == {"mode": "required_parseable", "format": "rule"}
    seat = body["seat"]
    ok = api.act(seat, {"type": "test", "input": [1, 2, 3], "hypothesis": "x < y < z"})
    assert ok.status_code == 200 and ok.json()["hypothesis"]["canonical"] == "x < y < z"
    assert_error(api.act(seat, {"type": "test", "input": [1, 2, 3]}), 400, "asks for your current hypothesis")
    assert_error(api.act(seat, {"type": "test", "input": [1, 2, 3], "hypothesis": 5}), 400, '"hypothesis"')
    unparsed = api.act(seat, {"type": "test", "input": [1, 2, 3], "hypothesis": "x <<< y"})
    assert_error(unparsed, 400, "does not parse as a rule")
    assert [s.hypothesis["text"] for s in Step.objects.filter(seat_id=seat)] == ["x < y < z"]

"""Real responses against the generated OpenAPI document: every route under /api/v1/ is called
(successes and the errors it declares), and every reply's status, body and headers must be what
the document says for that operation. A field renamed in a view, a status not declared, a model
that no longer matches what the selectors return: each fails here."""

from __future__ import annotations

import json
import re
import zipfile
from io import BytesIO
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from games.api.auth import agent_token_create
from games.models import Match, Seat
from games.play import services
from tests import factories
from tests.games.api.test_api import private_cache  # noqa: F401  (autouse: a fresh cache per test)
from tests.workers.helpers import builtin

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(Client().get("/api/openapi.json").content)


class Checked:
    """A token's client that checks every reply against the document and records what it saw."""

    def __init__(self, document: dict[str, Any], key: str | None) -> None:
        self.document = document
        self.client = Client(headers={"Authorization": f"Bearer {key}"} if key else {})
        self.seen: set[tuple[str, str, str]] = set()
        self.templates = [
            (re.compile("^" + re.sub(r"\{\w+\}", r"[^/]+", path) + "$"), path) for path in document["paths"]
        ]

    def _operation(self, url: str, method: str) -> tuple[str, dict[str, Any] | None]:
        path = url.split("?", 1)[0]
        for pattern, template in self.templates:
            if pattern.match(path):
                return template, self.document["paths"][template].get(method)
        raise AssertionError(f"{path} is not in the document")

    def call(self, method: str, url: str, body: Any = None, *, raw: str | None = None, **headers: str):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs |= {"data": data, "content_type": "application/json"}
        response = getattr(self.client, method)(url, **kwargs)
        template, operation = self._operation(url, method)
        status = str(response.status_code)
        if operation is None:  # a method the path does not have: the JSON 405
            assert status == "405", (method, url, status)
            self._validate({"$ref": "#/components/schemas/ErrorOut"}, response.json())
            return response
        responses = operation["responses"]
        assert status in responses, (
            f"{method.upper()} {template} answered {status}, not in {sorted(responses)}"
        )
        declared = responses[status]
        media = declared.get("content", {})
        if "application/json" in media:
            assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
            self._validate(media["application/json"]["schema"], response.json())
        elif media:
            assert response["Content-Type"] in media, (response["Content-Type"], list(media))
        for header in declared.get("headers", {}):
            assert header in response, (template, status, header)
        self.seen.add((method, template, status))
        return response

    def _validate(self, schema: dict[str, Any], body: Any) -> None:
        validator = Draft202012Validator({**schema, "components": self.document["components"]})
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    def get(self, url: str, **headers: str):
        return self.call("get", url, **headers)

    def post(self, url: str, body: Any = None, **kwargs: Any):
        return self.call("post", url, body, **kwargs)


def checked(document, name: str, *, research: bool = False) -> Checked:
    _, key = agent_token_create(name=name, can_read_research=research)
    return Checked(document, key)


def test_the_document_is_valid_openapi_3_1_with_a_typed_body_for_every_operation(document):
    validate_spec(document)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            ok = [s for s in operation["responses"] if s.startswith("2")]
            assert ok, (method, path)
            for status in ok:
                content = operation["responses"][status].get("content")
                assert content, (method, path, status)
                schema = next(iter(content.values()))["schema"]
                assert schema.get("$ref") or schema.get("anyOf") or schema.get("type") == "string"
            if method == "post":
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert body["$ref"].startswith("#/components/schemas/")
            for status in ("401", "405", "429", "500"):
                assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"
                }


def test_every_route_answers_as_the_document_says(document, settings):
    builtin()
    builtin("random-tester")
    variant = factories.variant(rule=factories.HIDDEN_RULE)
    agent = checked(document, "agent")
    researcher = checked(document, "researcher", research=True)
    nobody = Checked(document, None)

    # discovery
    agent.get("/api/v1/variants")
    agent.get("/api/v1/contestants")
    agent.get(f"/api/v1/leaderboard?variant={variant.slug}&kind=model&limit=5")
    agent.get("/api/v1/leaderboard?kind=robot")
    agent.get("/api/v1/leaderboard?variant=nope")
    agent.get(f"/api/v1/ratings?variant={variant.slug}&limit=5")
    agent.get("/api/v1/ratings?period=forever")
    agent.get("/api/v1/ratings?variant=nope")
    nobody.get("/api/v1/variants")
    agent.post("/api/v1/variants", {})

    # a race, played to the end
    created = agent.post("/api/v1/matches", {"variant": variant.slug, "seed": 3, "opponents": ["infogain"]})
    assert created.status_code == 201
    match_id, seat_id = created.json()["match"], created.json()["seat"]
    agent.post("/api/v1/matches", {"variant": variant.slug, "seed": "x"})
    agent.post("/api/v1/matches", {"variant": "nope"})
    agent.post("/api/v1/matches", raw="[" * 40 + "]" * 40)
    agent.post("/api/v1/matches", raw=json.dumps({"variant": "x" * 70_000}))
    agent.get(f"/api/v1/matches/{match_id}")  # running: progress only for the rival
    agent.post(
        f"/api/v1/seats/{seat_id}/actions", {"type": "test", "input": [1, 2, 3]}, **{"Idempotency-Key": "k1"}
    )
    agent.post(
        f"/api/v1/seats/{seat_id}/actions", {"type": "test", "input": [1, 2, 3]}, **{"Idempotency-Key": "k1"}
    )
    agent.post(f"/api/v1/seats/{seat_id}/actions", {"type": "guess", "rule": "x + > y"})
    agent.post(f"/api/v1/seats/{seat_id}/actions", {"type": "guess", "rule": "x < y"})
    agent.post(f"/api/v1/seats/{seat_id}/actions", {"type": "test", "input": [1, 2, 3]})  # 409
    checked(document, "intruder").post(f"/api/v1/seats/{seat_id}/actions", {"type": "forfeit"})
    agent.post("/api/v1/seats/424242/actions", {"type": "forfeit"})
    agent.get(f"/api/v1/seats/{seat_id}/actions")
    for seat in Seat.objects.filter(match_id=match_id, kind=Seat.Kind.MODEL):
        services.seat_end(seat=seat, reason="test over")
    assert agent.get(f"/api/v1/matches/{match_id}").json()["rule"] == factories.HIDDEN_RULE
    agent.get("/api/v1/matches/424242")

    solo = agent.post("/api/v1/matches", {"variant": variant.slug}).json()
    agent.post(f"/api/v1/seats/{solo['seat']}/actions", {"type": "forfeit"})

    # tournaments
    cup = {
        "slug": "cup",
        "variants": [variant.slug],
        "contestants": ["infogain", "random-tester"],
        "seeds": "0-2",
    }
    agent.post("/api/v1/tournaments", cup)  # 403: not a research token
    assert researcher.post("/api/v1/tournaments", cup).status_code == 201
    researcher.post("/api/v1/tournaments", cup)  # 409: the slug is taken
    researcher.post("/api/v1/tournaments", {**cup, "slug": "other", "contestants": ["gpt-9"]})
    researcher.post("/api/v1/tournaments", {**cup, "seeds": 5})
    agent.get("/api/v1/tournaments")
    researcher.get("/api/v1/tournaments/cup?page=1&limit=2")
    researcher.get("/api/v1/tournaments/cup?limit=0")
    researcher.get("/api/v1/tournaments/nope")

    # research
    researcher.get("/api/v1/research/matches?page_size=1")
    researcher.get("/api/v1/research/matches?kind=robot")
    researcher.get("/api/v1/research/matches?page=99")
    agent.get("/api/v1/research/matches")
    researcher.get(f"/api/v1/research/matches/{match_id}/steps")
    researcher.get(f"/api/v1/research/matches/{match_id}/steps?analytics=0")
    researcher.get("/api/v1/research/matches/424242/steps")
    export = researcher.get("/api/v1/research/export?format=csv")
    assert zipfile.ZipFile(BytesIO(b"".join(export.streaming_content))).namelist()
    researcher.get("/api/v1/research/export?format=xlsx")

    # the rate limit
    settings.ARENA_API_RATE_PER_MIN = 1
    limited = checked(document, "busy")
    limited.get("/api/v1/contestants")
    assert limited.get("/api/v1/contestants").status_code == 429

    seen = agent.seen | researcher.seen | nobody.seen | limited.seen
    operations = {(m, p) for p, item in document["paths"].items() for m in item}
    assert operations == {(m, p) for m, p, s in seen if s.startswith("2")}, "every route, successfully"
    statuses = {s for _, _, s in seen}
    assert statuses >= {"200", "201", "400", "401", "403", "404", "409", "413", "429"}
    assert Match.objects.filter(pk=match_id, status=Match.Status.FINISHED).exists()

"""Hostile input gets a clear 4xx, never a 500, and nothing a client sends has unbounded cost:
deep or huge JSON bodies, loose integers in query strings, long free text, huge tournaments,
rate-limit bursts across a minute boundary, large downloads, undecodable WebSocket frames."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import struct
import threading
import time
import tracemalloc

import pytest
from django.test import Client

from games.api import auth
from games.api.auth import agent_token_create
from games.competition import tournaments
from games.models import DESCRIPTION_MAX_LENGTH, ModelContestant, Tournament
from games.play import inputs, services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits-tests"}
    }
    settings.ARENA_API_RATE_PER_MIN = 600
    from django.core.cache import cache

    cache.clear()


def client(*, research: bool = True, name: str = "prober") -> Client:
    _, key = agent_token_create(name=name, can_read_research=research)
    return Client(headers={"Authorization": f"Bearer {key}"})


def assert_4xx(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.content[:300]
    message = response.json()["error"]
    for fragment in fragments:
        assert fragment in message, message
    return message


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


# -- JSON bodies ---------------------------------------------------------------------------------


def _post_targets(api: Client) -> list[str]:
    match = api.post(
        "/api/v1/matches", {"variant": factories.variant().slug, "seed": 1}, content_type="application/json"
    )
    assert match.status_code == 201, match.content
    return ["/api/v1/matches", f"/api/v1/seats/{match.json()['seat']}/actions", "/api/v1/tournaments"]


@pytest.mark.parametrize("target", [0, 1, 2], ids=["matches", "seat-actions", "tournaments"])
@pytest.mark.parametrize("body", [deep_json(1_000), '{"a":' * 1_000 + "1" + "}" * 1_000, deep_json(33)])
def test_deeply_nested_json_is_a_400_on_every_post_endpoint(target, body):
    api = client()
    url = _post_targets(api)[target]
    response = api.post(url, data=body, content_type="application/json")
    assert_4xx(response, 400, "nested too deeply", "(at most 32)")


@pytest.mark.parametrize("target", [0, 1, 2], ids=["matches", "seat-actions", "tournaments"])
def test_a_lone_surrogate_escape_is_a_400_on_every_post_endpoint(target):
    api = client()
    url = _post_targets(api)[target]
    body = '{"variant": "\\ud800", "slug": "\\udfff", "type": "test", "input": [1, 2, 3], "id": "\\ud800"}'
    response = api.post(url, data=body, content_type="application/json")
    assert_4xx(response, 400, "lone surrogate")


def test_nesting_up_to_the_limit_is_parsed_and_brackets_inside_strings_do_not_count():
    assert inputs.parse_json(deep_json(32)) == json.loads(deep_json(32))
    assert inputs.parse_json(json.dumps({"rule": "[" * 500})) == {"rule": "[" * 500}
    assert inputs.json_depth(b'{"a": "\\"[[[[", "b": [[1]]}') == 3


def test_a_body_over_the_size_limit_is_a_413_that_says_the_limit():
    api = client()
    body = json.dumps({"variant": "x" * inputs.MAX_JSON_BYTES})
    response = api.post("/api/v1/matches", data=body, content_type="application/json")
    assert_4xx(response, 413, "too large", f"at most {inputs.MAX_JSON_BYTES:,}")


def test_a_body_that_is_not_utf8_is_a_400():
    response = client().post("/api/v1/matches", data=b'{"variant": "\xff"}', content_type="application/json")
    assert_4xx(response, 400, "not valid UTF-8")


# -- integers in query strings ---------------------------------------------------------------------------


BAD_INTS = ["²", "١", "0", "-1", "+1", " 1", "1 ", "1_0", "1.0", "1e3", "0x10", "abc", "9" * 30]


@pytest.mark.parametrize("raw", BAD_INTS)
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/research/matches", "page"),
        ("/api/v1/research/matches", "page_size"),
        ("/api/v1/leaderboard", "limit"),
        ("/api/v1/tournaments/cup", "page"),
        ("/api/v1/tournaments/cup", "limit"),
    ],
)
def test_a_loose_integer_in_a_query_string_is_a_400_naming_the_parameter(url, name, raw):
    api = client()
    response = api.get(url, {name: raw})
    assert_4xx(response, 400, f"{name} must be a whole number from 1 to", "in digits 0-9", repr(raw[:40]))


def test_parse_int_takes_plain_ascii_digits_within_bounds_only():
    assert inputs.parse_int("007", name="n", minimum=1, maximum=10) == 7
    for raw in BAD_INTS:
        with pytest.raises(inputs.InputError):
            inputs.parse_int(raw, name="n", minimum=1, maximum=10**9)


# -- free text -----------------------------------------------------------------------------------------


def _contestants(*slugs: str) -> list[ModelContestant]:
    return [
        ModelContestant.objects.get_or_create(slug=s, defaults={"name": s.title(), "backend": "builtin"})[0]
        for s in slugs
    ]


def _tournament_body(**fields) -> dict:
    _contestants("alpha", "beta")
    return {"slug": "cup", "variants": [factories.variant().slug], "contestants": ["alpha", "beta"],
            "seeds": "0-1", **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"description": "d" * 4_001}, "description is at most 4,000 characters; this one has 4,001"),
        ({"title": "t" * 121}, "title is at most 120 characters"),
        ({"slug": "s" * 81}, "slug is 1-80 letters"),
    ],
)
def test_too_long_free_text_is_refused_and_nothing_is_written(fields, fragment):
    response = client().post(
        "/api/v1/tournaments", _tournament_body(**fields), content_type="application/json"
    )
    assert_4xx(response, 400, fragment)
    assert not Tournament.objects.exists()


def test_a_two_million_character_description_is_refused_by_the_api_and_the_service():
    body = _tournament_body(description="d" * 2_000_000)
    response = client().post("/api/v1/tournaments", body, content_type="application/json")
    assert_4xx(response, 413, "too large", "2,000,")
    with pytest.raises(services.ActionError, match="at most 4,000 characters; this one has 2,000,000"):
        tournaments.tournament_create(
            slug="cup", title="Cup", description=body["description"], variants=[factories.variant()],
            contestants=_contestants("alpha"), seeds="0-1",
        )  # fmt: skip
    assert not Tournament.objects.exists()


def test_the_admin_refuses_a_too_long_variant_description(admin_client):
    form = {"slug": "long", "family": "wason", "title": "Long", "description": "d" * (DESCRIPTION_MAX_LENGTH + 1),
            "params": "{}"}  # fmt: skip
    response = admin_client.post("/admin/games/puzzlevariant/add/", form)
    assert response.status_code == 200  # the form again, with the error
    assert f"Ensure this value has at most {DESCRIPTION_MAX_LENGTH} characters" in response.content.decode()


# -- tournaments -----------------------------------------------------------------------------------------


def test_a_too_large_tournament_is_refused_over_the_api_with_the_count_and_the_limit(settings):
    settings.ARENA_TOURNAMENT_MAX_ROUNDS = 100
    response = client().post(
        "/api/v1/tournaments", _tournament_body(seeds="0-9999"), content_type="application/json"
    )
    assert_4xx(
        response, 400, "too many seeds (at least 10,000)", "at most 100 rounds", "ARENA_TOURNAMENT_MAX_ROUNDS"
    )
    assert not Tournament.objects.exists()


def test_the_default_round_limit_refuses_the_ten_thousand_round_tournament():
    response = client().post(
        "/api/v1/tournaments", _tournament_body(seeds="0-9999"), content_type="application/json"
    )
    assert_4xx(response, 400, f"at most {tournaments.DEFAULT_MAX_TOURNAMENT_ROUNDS:,} rounds")


def test_tournament_detail_lists_its_rounds_a_page_at_a_time():
    api = client()
    created = api.post("/api/v1/tournaments", _tournament_body(seeds="0-6"), content_type="application/json")
    assert created.status_code == 201, created.content
    pages = [api.get("/api/v1/tournaments/cup", {"limit": 3, "page": n}).json() for n in (1, 2, 3)]
    assert [p["rounds_page"] for p in pages] == [
        {"page": n, "limit": 3, "pages": 3, "count": 7} for n in (1, 2, 3)
    ]
    assert [r["seed"] for p in pages for r in p["rounds"]] == list(range(7))
    default = api.get("/api/v1/tournaments/cup").json()
    assert default["rounds_page"] == {"page": 1, "limit": 100, "pages": 1, "count": 7}
    assert_4xx(api.get("/api/v1/tournaments/cup", {"page": 4, "limit": 3}), 404, "past the last page (3)")
    assert_4xx(
        api.get("/api/v1/tournaments/cup", {"limit": 501}), 400, "limit must be a whole number from 1 to 500"
    )


# -- the sliding-window rate limit ---------------------------------------------------------------------


def test_the_sliding_window_refuses_a_burst_across_a_minute_boundary(settings):
    settings.ARENA_API_RATE_PER_MIN = 600
    token, _ = agent_token_create(name="burst")
    allowed = [auth.rate_limit_hit(token=token, now=59.0 + i * 0.001).allowed for i in range(600)]
    assert all(allowed)
    # The probe: a fixed window let 980 through in 21 s by starting again at 60 s.
    after = [auth.rate_limit_hit(token=token, now=60.0 + i * 0.02) for i in range(400)]
    assert not any(d.allowed for d in after)
    refused = after[0]
    assert refused.remaining == 0 and refused.retry_after_s == 60  # the burst's bucket leaves at 120 s
    assert auth.rate_limit_hit(token=token, now=119.9).allowed is False
    assert auth.rate_limit_hit(token=token, now=120.0).allowed is True


def test_no_sixty_second_span_ever_sees_more_than_the_limit(settings):
    settings.ARENA_API_RATE_PER_MIN = 50
    token, _ = agent_token_create(name="steady")
    times = [i * 0.25 for i in range(2_000)]  # 4 requests a second for 500 s: five times the rate
    granted = [t for t in times if auth.rate_limit_hit(token=token, now=t).allowed]
    assert len(granted) > 50 * 6  # it keeps serving, about the limit a minute
    worst = max(sum(1 for g in granted if start <= g < start + 60) for start in times)
    assert worst <= 50


def test_a_refused_request_is_a_429_with_retry_after_and_uses_no_budget(settings, monkeypatch):
    settings.ARENA_API_RATE_PER_MIN = 3
    now = [1_000.0]
    monkeypatch.setattr(auth, "clock", lambda: now[0])
    api = client(research=False)
    assert [api.get("/api/v1/variants").status_code for _ in range(3)] == [200, 200, 200]
    for _ in range(5):  # hammering while refused does not push the retry time back
        refused = api.get("/api/v1/variants")
    message = assert_4xx(refused, 429, "at most 3 requests in any 60 seconds per token")
    # The burst's five-second bucket counts whole until it is entirely over a minute old.
    assert refused["Retry-After"] == "65" and "retry after 65 s" in message
    now[0] += 64
    assert api.get("/api/v1/variants").status_code == 429
    now[0] += 1
    assert api.get("/api/v1/variants").status_code == 200


# -- downloads ----------------------------------------------------------------------------------------


def _asgi_get(path: str, headers: dict[str, str]) -> tuple[int, int, int]:
    """GET ``path`` through Django's ASGI handler, as uvicorn would; returns the status, the body
    size and the peak of traced memory while the response was produced and sent."""
    from asgiref.sync import async_to_sync
    from django.core import signals
    from django.core.asgi import get_asgi_application
    from django.db import close_old_connections

    app = get_asgi_application()
    path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    sent = {"status": 0, "bytes": 0}

    requested = []

    async def receive():
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until the response is sent

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["bytes"] += len(message.get("body", b""))  # counted and dropped, as a socket would

    # As Django's test client does: the request signals must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    tracemalloc.start()
    try:
        async_to_sync(app)(scope, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return sent["status"], sent["bytes"], peak


def test_a_large_export_download_is_streamed_with_bounded_memory(monkeypatch):
    from games.research import exports

    size = 40 * 1024 * 1024

    def big_export(dest, **kwargs):  # stands in for a large export: the zip is on disk either way
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            dest.write(block)
        return {"created_at": "2026-12-01T18:00:00+00:00"}

    monkeypatch.setattr(exports, "export_zip", big_export)
    _, key = agent_token_create(name="downloader", can_read_research=True)
    status, sent, peak = _asgi_get("/api/v1/research/export?format=jsonl", {"Authorization": f"Bearer {key}"})
    assert status == 200 and sent == size
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB download"


# -- undecodable WebSocket frames ------------------------------------------------------------------------


@pytest.fixture
def uvicorn_server(transactional_db):
    """The real ASGI app under a real uvicorn (its default WebSocket protocol), logging at INFO."""
    import uvicorn

    from arena.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from arena import wslog

    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="info",
        ws_max_size=wslog.WS_MAX_MESSAGE_BYTES,  # as `manage.py up` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-limits", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=15)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _raw_websocket(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    if len(payload) < 126:
        length = bytes([0x80 | len(payload)])
    elif len(payload) < 2**16:
        length = bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    else:
        length = bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
    return bytes([0x80 | opcode]) + length + mask + masked


def _read_close_code(sock: socket.socket) -> int:
    data = b""
    while True:
        while len(data) < 2:
            chunk = sock.recv(4096)
            assert chunk, "connection dropped without a close frame"
            data += chunk
        length = data[1] & 0x7F
        while len(data) < 2 + length:
            data += sock.recv(4096)
        opcode, payload, data = data[0] & 0x0F, data[2 : 2 + length], data[2 + length :]
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0]


def test_an_invalid_utf8_frame_is_closed_quietly_with_one_info_line(uvicorn_server):
    match, _ = factories.match()
    records = Records()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(records)
    try:
        sock = _raw_websocket(uvicorn_server, f"/ws/matches/{match.pk}/spectate/")
        with sock:
            sock.sendall(_masked_frame(0x1, b'{"type": "ping", "x": "\xff\xfe"}'))
            assert _read_close_code(sock) == 1007  # invalid frame payload data
        deadline = time.monotonic() + 5
        while not any("not valid UTF-8" in r.getMessage() for r in records.records):
            assert time.monotonic() < deadline, [r.getMessage() for r in records.records]
            time.sleep(0.05)
    finally:
        uvicorn_log.removeHandler(records)
    quiet = [r for r in records.records if "not valid UTF-8" in r.getMessage()]
    assert [r.levelno for r in quiet] == [logging.INFO]
    assert not [r for r in records.records if r.levelno >= logging.WARNING or r.exc_info]


def test_a_frame_over_the_size_limit_is_refused_with_1009_and_no_error(uvicorn_server):
    from arena import wslog

    match, _ = factories.match()
    records = Records()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(records)
    try:
        with _raw_websocket(uvicorn_server, f"/ws/matches/{match.pk}/spectate/") as sock:
            sock.sendall(_masked_frame(0x1, b"x" * (wslog.WS_MAX_MESSAGE_BYTES + 1)))
            assert _read_close_code(sock) == 1009  # message too big
    finally:
        uvicorn_log.removeHandler(records)
    assert not [r for r in records.records if r.levelno >= logging.WARNING or r.exc_info]


def test_the_filter_drops_the_line_when_info_is_off():
    from arena import wslog

    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, wslog.INVALID_UTF8_MESSAGES[0], (), None
    )
    uvicorn_log = logging.getLogger("uvicorn.error")
    old = uvicorn_log.level
    uvicorn_log.setLevel(logging.WARNING)
    try:
        assert wslog.InvalidUtf8FrameFilter().filter(record) is False
    finally:
        uvicorn_log.setLevel(old)


def test_the_openapi_document_states_the_limits_and_the_rounds_pagination():
    from games.api.app import openapi_document

    document = openapi_document()
    for path, item in document["paths"].items():
        if "post" in item:
            assert "413" in item["post"]["responses"], path
    detail = document["paths"]["/api/v1/tournaments/{slug}"]["get"]
    params = {p["name"]: p["schema"] for p in detail["parameters"] if p["in"] == "query"}
    assert params["limit"]["maximum"] == 500 and params["page"]["minimum"] == 1
    assert "rounds_page" in detail["responses"]["200"]["content"]["application/json"]["example"]
    described = document["info"]["description"]
    assert "64 KiB" in described and "32" in described and "2,000 rounds" in described

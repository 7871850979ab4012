"""Hostile traffic against the real stack, and what it does to a normal player's moves.

Starts the stack on loopback (embedded Redis unless ARENA_REDIS_URL is set, the ASGI app under
uvicorn in one process, a fresh SQLite file under a temporary ARENA_DATA_DIR unless
ARENA_DATABASE_URL is set), then:

  * a few normal players play over WebSocket at a human pace (one test every ``--pace`` s);
  * idle phase: only they play (``--idle-seconds``);
  * abuse phase: they keep playing while hostile clients hammer the server
    (``--abuse-seconds``, ``--hostile-workers`` HTTP loops plus WebSocket loops): malformed,
    deeply nested and oversized JSON bodies to POST /api/v1/matches, /api/v1/seats/<id>/actions
    and /api/v1/tournaments; bad query params (?page=², ?limit=-1, huge numbers); bad and
    oversized tokens; moves on other players' seats; rapid match creation; malformed, oversized,
    invalid-UTF-8 and protocol-breaking WebSocket frames; watch-socket connects.

Prints one JSON line: hostile requests, connections and frames sent; server errors (5xx
responses and handshakes, ERROR log records and tracebacks in the server's stderr, with a few
samples); the normal players' p50/p99 move latency in each phase and the ratio abuse/idle. It
reports and always exits 0: other fixes decide whether the error counts are zero.

    python tests/bench/bench_abuse.py [--idle-seconds 15] [--abuse-seconds 30] [--players 6]
        [--pace 0.5] [--hostile-workers 6] [--keep-log server.log]

Runs from the repository root; it imports the tree it sits in, not an installed copy. With
ARENA_DATABASE_URL / ARENA_REDIS_URL set it runs against that database and Redis: the rows it
creates (matches, sessions, tokens) are deleted at the end, but point it at a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

# The server: the arena's ASGI app under uvicorn, with every WARNING-or-worse log record (Django's
# 500s on django.request, uvicorn's "Exception in ASGI application", the app's own logger.exception)
# on stderr as "LEVEL logger: message", which Django does not print by itself when DEBUG is off.
SERVER_CODE = r"""
import logging, sys
import uvicorn
from arena.asgi import application
handler = logging.StreamHandler(sys.stderr)
handler.setLevel(logging.WARNING)
handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
logging.getLogger().addHandler(handler)
uvicorn.run(application, host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", log_config=None,
            access_log=False)
"""

ERROR_LINE = re.compile(r"^(ERROR|CRITICAL) ")
ORIGIN = "http://localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


def cpu_seconds(pid: int) -> float | None:
    try:
        import psutil

        proc = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in (proc, *proc.children(recursive=True)))
    except Exception:
        return None


@dataclass
class Tally:
    """What the hostile clients sent and what came back."""

    http_requests: int = 0
    ws_connects: int = 0
    ws_frames: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    server_5xx: int = 0
    samples_5xx: dict[str, dict[str, Any]] = field(default_factory=dict)  # one per distinct request
    client_exceptions: Counter[str] = field(default_factory=Counter)
    created_matches: list[int] = field(default_factory=list)

    def status(self, category: str, code: int, request: str = "", reply: str = "") -> None:
        self.statuses[str(code)] += 1
        if code >= 500:
            self.server_5xx += 1
            if request not in self.samples_5xx and len(self.samples_5xx) < 20:
                self.samples_5xx[request] = {"category": category, "status": code, "reply": reply[:120]}

    def exception(self, category: str, exc: BaseException) -> None:
        self.client_exceptions[f"{category}: {type(exc).__name__}"] += 1


@dataclass
class Target:
    base: str
    ws_base: str
    tokens: list[str]
    research_token: str
    own_seat: int  # an agent seat of tokens[0]
    other_seats: list[int]  # the normal players' seats
    other_matches: list[int]
    hostile_sessions: list[str]  # each has a seat in one of hostile_matches
    hostile_matches: list[int]


# -- hostile HTTP --------------------------------------------------------------------------------

DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
HUGE_DIGITS = b"1" + b"0" * 5000  # beyond Python's default int-from-string limit (4300 digits)
OVERSIZED = b'{"variant": "wason-tier-1", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'


def http_attacks(t: Target) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(category, method, path, httpx kwargs), token 'auth' filled in per call unless given."""
    own = f"/api/v1/seats/{t.own_seat}/actions"
    js = {"Content-Type": "application/json"}
    attacks: list[tuple[str, str, str, dict[str, Any]]] = []

    def post(category: str, path: str, body: bytes, **extra: Any) -> None:
        attacks.append((category, "POST", path, {"content": body, "headers": dict(js), **extra}))

    for body in (
        b'{"variant": ',
        b"{'variant': 'wason-tier-1'}",
        DEEP_ARRAY,
        DEEP_OBJECT,
        b"[]",
        b"null",
        b'"wason-tier-1"',
        b'{"variant": ["wason-tier-1"], "seed": "7", "opponents": "infogain"}',
        b'{"variant": "wason-tier-1", "seed": ' + HUGE_DIGITS + b"}",
        b'{"variant": "wason-tier-1", "seed": 1e400}',
        b'{"variant": "wason-tier-1", "seed": NaN}',
        b'{"variant": "wason-tier-1", "seed": -1}',
        b'{"variant": "wason-tier-1", "seed": 100000000000000000000000000000}',
        b'{"variant": "wason-tier-1", "opponents": ' + json.dumps(["x"] * 20_000).encode() + b"}",
        b'{"variant": "\\ud800"}',
        b'{"variant": "' + b"w" * 100_000 + b'"}',
        b'{"variant": "wason-tier-1"}\xff\xfe',
        b"\xff\xfe\x00",
    ):
        post("matches_malformed", "/api/v1/matches", body)
    post("matches_form_encoded", "/api/v1/matches", b"variant=wason-tier-1", headers={"Content-Type": "x"})
    for body in (
        b'{"type": "test", "input": [1e400, 2, 3]}',
        b'{"type": "test", "input": [' + HUGE_DIGITS + b", 2, 3]}",
        b'{"type": "test", "input": "' + b"1 2 3 " * 50_000 + b'"}',
        b'{"type": "test", "input": [[[1]], {"a": 1}, null]}',
        b'{"type": "test", "input": {"x": 1, "y": 2, "z": [3]}}',
        b'{"type": "test", "input": [1, 2, 3], "id": {"a": 1}}',
        b'{"type": "test", "input": [1, 2, 3], "think_ms": -1e308}',
        b'{"type": "test", "input": [1, 2, 3], "think_ms": ' + HUGE_DIGITS + b"}",
        b'{"type": "guess", "rule": "' + b"(" * 5000 + b'"}',
        b'{"type": "guess", "rule": "' + b"x + " * 30_000 + b'x"}',
        b'{"type": "guess", "rule": "x <"}',
        b'{"type": "guess", "rule": "x < y", "quiz": "' + b"t" * 10_000 + b'"}',
        b'{"type": "forfeit!"}',
        b'{"type": ["test"]}',
        DEEP_ARRAY,
        DEEP_OBJECT,
        b"",
        b"{",
    ):
        post("actions_malformed", own, body)
    post(
        "actions_bad_headers",
        own,
        b'{"type": "test", "input": [1, 2, 3]}',
        headers={**js, "Idempotency-Key": "k" * 20_000},
    )
    post(
        "actions_bad_headers",
        own,
        b'{"type": "test", "input": [1, 2, 3]}',
        headers={**js, "Idempotency-Key": b"\xff\xfe\xfd"},
    )
    for seat in t.other_seats[:3]:
        post("actions_other_seat", f"/api/v1/seats/{seat}/actions", b'{"type": "test", "input": [1, 2, 3]}')
        post("actions_other_seat", f"/api/v1/seats/{seat}/actions", b'{"type": "guess", "rule": "x < y"}')
    for seat in ("0", "99999999999999999999999", "9223372036854775808", "00000000000000000000001"):
        post("actions_other_seat", f"/api/v1/seats/{seat}/actions", b'{"type": "test", "input": [1, 2, 3]}')
    research = {"Authorization": f"Bearer {t.research_token}"}
    for body in (
        DEEP_ARRAY,
        DEEP_OBJECT,
        b'{"slug": "abuse-' + b"x" * 5000 + b'"}',
        b'{"slug": "abuse-a", "variants": "wason-tier-1", "contestants": "x", "seeds": "0-9"}',
        b'{"slug": "abuse-b", "variants": ["wason-tier-1"], "contestants": ["nobody"], '
        b'"seeds": "0-99999999999999999999"}',
        b'{"slug": "abuse-c", "variants": ["wason-tier-1"], "contestants": ["nobody"], "seeds": "0-9", '
        b'"concurrency": -1, "starts_at": "9999-99-99T99:99"}',
        b'{"slug": "abuse-d", "variants": [[]], "contestants": [{}], "seeds": ' + HUGE_DIGITS + b"}",
        b'{"slug": "abuse-e", "variants": ["nope"], "contestants": ["nobody"], "seeds": "0-9", '
        b'"concurrency": 1e400}',
        b"{",
    ):
        post("tournaments_malformed", "/api/v1/tournaments", body, headers={**js, **research})
    post("tournaments_not_research", "/api/v1/tournaments", b'{"slug": "abuse-f"}')
    for path in (
        "/api/v1/leaderboard?limit=-1",
        "/api/v1/leaderboard?limit=99999999999999999999999999",
        "/api/v1/leaderboard?limit=1e9",
        "/api/v1/leaderboard?limit=%C2%B2",
        "/api/v1/leaderboard?limit=%FF",
        "/api/v1/leaderboard?variant=%00&kind=%3Cscript%3E",
        "/api/v1/leaderboard?variant=" + "v" * 8000,
        "/api/v1/tournaments?page=%C2%B2&limit=-1",
        "/api/v1/matches/99999999999999999999999",
        "/api/v1/matches/9223372036854775808",
    ):
        attacks.append(("bad_query", "GET", path, {}))
    for path in (
        "/api/v1/research/matches?page=%C2%B2",
        "/api/v1/research/matches?page=-1",
        "/api/v1/research/matches?page=99999999999999999999999",
        "/api/v1/research/matches?page_size=0",
        "/api/v1/research/matches?page_size=1e9",
        "/api/v1/research/matches?since=not-a-date&until=99999-01-01",
        "/api/v1/research/matches?family=%FF&kind=%00",
        "/api/v1/research/matches/99999999999999999999999/steps",
        "/api/v1/research/export?format=../../etc/passwd",
    ):
        attacks.append(("bad_query", "GET", path, {"headers": research}))
    for path in (
        "/leaderboard/?variant=%FF&kind=%00&limit=-1&page=%C2%B2",
        "/tournaments/?page=%C2%B2",
        "/matches/99999999999999999999999/",
        "/matches/9223372036854775808/replay/",
        f"/matches/{t.other_matches[0]}/replay/",
        f"/matches/{t.other_matches[0]}/seats/{t.other_seats[0]}/trace/",
        f"/matches/{t.other_matches[0]}/spectate/?x=%FF",
        "/research/data/nope.csv",
        "/api/v1/" + "a/" * 2000,
    ):
        attacks.append(("pages_bad_query", "GET", path, {"auth": None}))
    attacks.append(("pages_no_csrf", "POST", "/play/wason-tier-1/", {"auth": None, "content": b"x=1"}))
    attacks.append(("oversized_body", "POST", "/api/v1/matches", {"content": OVERSIZED, "headers": dict(js)}))
    attacks.append(("oversized_body", "POST", own, {"content": OVERSIZED, "headers": dict(js)}))
    for header in (
        None,
        "Bearer",
        "Bearer " + "x" * 10_000,
        "Basic Zm9vOmJhcg==",
        "Bearer not-a-token",
        b"Bearer \xff\xfe\xfd",
        "bearer  " + t.tokens[0][:10],
    ):
        headers = {**js, "Authorization": header} if header is not None else dict(js)
        attacks.append(
            (
                "bad_token",
                "POST",
                "/api/v1/matches",
                {"content": b'{"variant": "wason-tier-1"}', "headers": headers, "auth": None},
            )
        )
    attacks.append(("rapid_create", "POST", "/api/v1/matches", {"content": b'{"variant": "wason-tier-1"}'}))
    attacks.append(("rapid_create", "POST", "/api/v1/matches", {"content": b'{"variant": "eleusis-tier-1"}'}))
    return attacks


async def http_worker(t: Target, tally: Tally, stop: asyncio.Event, worker: int) -> None:
    import httpx

    attacks = http_attacks(t)
    rng = random.Random(worker)
    rng.shuffle(attacks)
    # rapid match creation is the cheapest to abuse: give it a larger share
    creations = [a for a in attacks if a[0] == "rapid_create"]
    attacks += creations * 4
    token = t.tokens[worker % len(t.tokens)]
    async with httpx.AsyncClient(base_url=t.base, timeout=15.0) as client:
        i = 0
        while not stop.is_set():
            category, method, path, kwargs = attacks[i % len(attacks)]
            i += 1
            kwargs = dict(kwargs)
            headers = dict(kwargs.pop("headers", {}))
            auth = kwargs.pop("auth", "token")
            if auth == "token" and "Authorization" not in headers:
                headers["Authorization"] = f"Bearer {token}"
            tally.http_requests += 1
            tally.by_category[category] += 1
            try:
                response = await client.request(method, path, headers=headers, **kwargs)
            except Exception as exc:  # a dropped connection is worth reporting, not stopping for
                tally.exception(category, exc)
                continue
            body = kwargs.get("content", b"")[:60].decode("utf-8", "replace")
            tally.status(category, response.status_code, f"{method} {path[:100]} {body}", response.text)
            if category == "rapid_create" and response.status_code == 201:
                tally.created_matches.append(int(response.json()["match"]))


# -- hostile WebSocket -----------------------------------------------------------------------------


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_frame_fast(opcode: int, payload: bytes) -> bytes:
    """A masked frame with an all-zero mask (valid, and no per-byte Python loop for big payloads)."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + b"\x00\x00\x00\x00" + payload


async def raw_ws(
    t: Target, path: str, frames: list[bytes], *, session: str | None, origin: str = ORIGIN
) -> tuple[int, bytes]:
    """Handshake by hand, write the frames as given, read what comes back for a moment.
    Returns (handshake status, the first bytes the server sent after it)."""
    host, port = t.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {origin}",
        ]
        if session:
            lines.append(f"Cookie: sessionid={session}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        parts = status_line.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        while True:
            line = await asyncio.wait_for(reader.readline(), 10)
            if line in (b"\r\n", b""):
                break
        if status != 101:
            return status, b""
        for frame in frames:
            writer.write(frame)
            await writer.drain()
        try:
            first = await asyncio.wait_for(reader.read(512), 1.0)
        except TimeoutError:
            first = b""
        return status, first
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 2)
        except Exception:
            pass


def ws_text_messages(t: Target, other_seat: int) -> list[bytes | str]:
    move = f"m-{uuid.uuid4()}"
    return [
        "not json",
        "{",
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        "[]",
        "null",
        '"test"',
        '{"type": 5}',
        '{"type": "test"}',
        '{"type": "test", "input": [1e400, 1, 1], "id": "a1"}',
        '{"type": "test", "input": [' + HUGE_DIGITS.decode() + ', 1, 1], "id": "a2"}',
        '{"type": "test", "input": [1, 2, 3], "id": "' + "x" * 100_000 + '"}',
        '{"type": "test", "input": [1, 2, 3], "id": "a3", "think_ms": ' + HUGE_DIGITS.decode() + "}",
        '{"type": "test", "input": {"x": [1], "y": null, "z": "3"}, "id": "a4"}',
        '{"type": "resume", "after": -1}',
        '{"type": "resume", "after": 1e30}',
        '{"type": "resume", "after": ' + HUGE_DIGITS.decode() + "}",
        '{"type": "check_rule", "rule": "' + "(" * 3000 + '"}',
        '{"type": "check_rule", "rule": "x' + " + x" * 5000 + '"}',
        '{"type": "check_rule", "rule": "\\ud800"}',
        '{"type": "check_rule", "rule": "9 ** 9 ** 9 ** 9"}',
        '{"type": "guess", "rule": "x <", "id": "a5"}',
        json.dumps({"type": "test", "input": [1, 2, 3], "seat": other_seat, "id": move}),
        json.dumps({"type": "guess", "rule": "x < y", "seat": other_seat, "id": move + "g"}),
        json.dumps({"type": "test", "input": [1] * 200_000, "id": "big"}),  # about 0.6 MB
        b'{"type": "ping"}',  # a binary frame
        b"\xff\xfe\xfd",
    ]


def raw_ws_attacks() -> list[tuple[str, list[bytes]]]:
    ping = ws_frame(1, b'{"type": "ping"}')
    return [
        ("ws_invalid_utf8", [ws_frame(1, b'{"type": "ping", "x": "\xff\xfe"}')]),
        ("ws_invalid_utf8", [ws_frame(1, b"\xc3\x28\xa0\xa1")]),
        ("ws_unmasked", [ws_frame(1, b'{"type": "ping"}', mask=False)]),
        ("ws_reserved_opcode", [ws_frame(3, b"hello")]),
        ("ws_rsv_bits", [ws_frame(1, b'{"type": "ping"}', rsv=7)]),
        ("ws_stray_continuation", [ws_frame(0, b"tail")]),
        ("ws_unfinished_fragment", [ws_frame(1, b'{"type": ', fin=False), ping]),
        ("ws_big_control_frame", [ws_frame(9, b"p" * 200)]),
        ("ws_bad_close_code", [ws_frame(8, struct.pack("!H", 999) + b"\xff")]),
        # a header that announces 1 TiB: the server must refuse it without waiting for the bytes
        ("ws_oversized_announced", [bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 2**40) + b"\0\0\0\0"]),
        (
            "ws_oversized",
            [ws_frame_fast(1, b'{"type": "ping", "pad": "' + b"x" * (17 * 1024 * 1024) + b'"}')],
        ),
        ("ws_ping_flood", [ws_frame(9, b"x") for _ in range(200)]),
    ]


async def ws_own_seat_worker(t: Target, tally: Tally, stop: asyncio.Event, worker: int) -> None:
    """A hostile player on its own seat: every kind of bad message over one socket."""
    import websockets

    session = t.hostile_sessions[worker % len(t.hostile_sessions)]
    match = t.hostile_matches[worker % len(t.hostile_matches)]
    url = f"{t.ws_base}/ws/matches/{match}/"
    messages = ws_text_messages(t, t.other_seats[0])
    i = 0
    while not stop.is_set():
        try:
            tally.ws_connects += 1
            async with websockets.connect(
                url,
                additional_headers={"Cookie": f"sessionid={session}", "Origin": ORIGIN},
                max_size=None,
                open_timeout=15,
            ) as ws:
                while not stop.is_set():
                    msg = messages[i % len(messages)]
                    i += 1
                    tally.ws_frames += 1
                    tally.by_category["ws_bad_message"] += 1
                    await ws.send(msg)
                    try:
                        await asyncio.wait_for(ws.recv(), 5)
                    except TimeoutError:
                        tally.client_exceptions["ws_bad_message: no reply in 5 s"] += 1
        except websockets.InvalidStatus as exc:
            tally.status("ws_handshake", exc.response.status_code, f"GET {url}")
        except Exception as exc:  # the server closed the socket: note it and connect again
            tally.exception("ws_bad_message", exc)
            await asyncio.sleep(0.05)


async def ws_raw_worker(t: Target, tally: Tally, stop: asyncio.Event, worker: int) -> None:
    """Protocol-level attacks, handshakes that must fail, sockets on other people's matches and
    watch-socket connects, each on a fresh connection."""
    other = t.other_matches[worker % len(t.other_matches)]
    session = t.hostile_sessions[0]
    test = ws_frame(1, json.dumps({"type": "test", "input": [1, 2, 3], "id": "steal"}).encode())
    attacks: list[tuple[str, str, list[bytes], str | None, str]] = [
        (name, f"/ws/matches/{t.hostile_matches[0]}/", frames, session, ORIGIN)
        for name, frames in raw_ws_attacks()
    ]
    attacks += [
        ("ws_other_match", f"/ws/matches/{other}/", [test], session, ORIGIN),
        ("ws_other_match", f"/ws/matches/{other}/", [test], None, ORIGIN),
        ("ws_bad_path", "/ws/matches/99999999999999999999999/", [], session, ORIGIN),
        ("ws_bad_path", "/ws/matches/9223372036854775808/spectate/", [], None, ORIGIN),
        ("ws_bad_path", "/ws/nope/", [], None, ORIGIN),
        ("ws_bad_origin", f"/ws/matches/{other}/spectate/", [], None, "http://evil.example"),
        ("ws_watch", f"/ws/matches/{other}/spectate/", [test], None, ORIGIN),
        ("ws_watch", f"/ws/matches/{other}/spectate/", [ws_frame(1, b'{"type": "resume"}')], None, ORIGIN),
    ]
    i = worker
    while not stop.is_set():
        category, path, frames, sess, origin = attacks[i % len(attacks)]
        i += 1
        tally.ws_connects += 1
        tally.ws_frames += len(frames)
        tally.by_category[category] += 1
        try:
            status, _ = await raw_ws(t, path, frames, session=sess, origin=origin)
        except (ConnectionError, asyncio.IncompleteReadError):
            # the server hung up on a frame it refused before reading all of it: as it should
            tally.statuses["closed_by_server"] += 1
            continue
        except Exception as exc:
            tally.exception(category, exc)
            continue
        tally.status(category, status, f"GET {path[:100]} (WebSocket)")


# -- the normal players ---------------------------------------------------------------------------


async def normal_player(
    url: str,
    session: str,
    phase: list[str],
    pace: float,
    latencies: dict[str, list[float]],
    errors: list[str],
) -> None:
    import websockets

    rng = random.Random(url)
    try:
        async with websockets.connect(
            url, additional_headers={"Cookie": f"sessionid={session}", "Origin": ORIGIN}, open_timeout=30
        ) as ws:
            await asyncio.sleep(rng.uniform(0, pace))
            while phase[0] != "done":
                sent_in = phase[0]
                t0 = time.monotonic()
                move = {
                    "type": "test",
                    "input": [rng.randint(-9, 20) for _ in range(3)],
                    "id": str(uuid.uuid4()),
                }
                await ws.send(json.dumps(move))
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if reply.get("type") == "result":
                        break
                    if reply.get("type") == "error":
                        errors.append(reply.get("message", "")[:200])
                        break
                latency = time.monotonic() - t0
                if sent_in == phase[0]:  # a move that straddles a phase change counts for neither
                    latencies[sent_in].append(latency)
                await asyncio.sleep(max(0.0, pace - latency))
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}"[:200])


async def run(args: argparse.Namespace, t: Target, players: list[tuple[str, str]], server_pid: int) -> dict:
    phase = ["warmup"]
    latencies: dict[str, list[float]] = {"warmup": [], "idle": [], "abuse": []}
    player_errors: list[str] = []
    tasks = [
        asyncio.create_task(normal_player(url, session, phase, args.pace, latencies, player_errors))
        for url, session in players
    ]
    await asyncio.sleep(3.0)
    phase[0] = "idle"
    cpu0 = cpu_seconds(server_pid)
    await asyncio.sleep(args.idle_seconds)
    cpu1 = cpu_seconds(server_pid)
    phase[0] = "abuse"
    tally = Tally()
    stop = asyncio.Event()
    hostile = [asyncio.create_task(http_worker(t, tally, stop, k)) for k in range(args.hostile_workers)]
    hostile += [asyncio.create_task(ws_own_seat_worker(t, tally, stop, k)) for k in range(2)]
    hostile += [asyncio.create_task(ws_raw_worker(t, tally, stop, k)) for k in range(2)]
    started = time.monotonic()
    await asyncio.sleep(args.abuse_seconds)
    stop.set()
    phase[0] = "done"
    cpu2 = cpu_seconds(server_pid)
    # in-flight requests finish (bounded by the clients' timeouts); stragglers are cancelled
    done, pending = await asyncio.wait(hostile + tasks, timeout=20)
    for task in pending:
        task.cancel()
    abuse_elapsed = time.monotonic() - started

    def phase_row(name: str, seconds: float, cpu: float | None) -> dict[str, Any]:
        values = latencies[name]
        return {
            "seconds": round(seconds, 1),
            "moves": len(values),
            "p50_ms": pct(values, 0.50),
            "p99_ms": pct(values, 0.99),
            "max_ms": pct(values, 1.0),
            "server_cpu_s": None if cpu is None else round(cpu, 2),
        }

    idle = phase_row("idle", args.idle_seconds, None if cpu0 is None or cpu1 is None else cpu1 - cpu0)
    abuse = phase_row("abuse", args.abuse_seconds, None if cpu1 is None or cpu2 is None else cpu2 - cpu1)
    return {
        "tally": tally,
        "idle": idle,
        "abuse": abuse,
        "abuse_elapsed": abuse_elapsed,
        "player_errors": player_errors,
        "pending": len(pending),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--abuse-seconds", type=float, default=30.0)
    parser.add_argument("--players", type=int, default=6, help="normal players over WebSocket")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between a normal player's tests")
    parser.add_argument("--hostile-workers", type=int, default=6, help="concurrent hostile HTTP loops")
    parser.add_argument("--keep-log", metavar="PATH", help="copy the server's log (tracebacks) here")
    args = parser.parse_args()

    own_data_dir = "ARENA_DATA_DIR" not in os.environ
    data_dir = (
        tempfile.mkdtemp(prefix="arena-abuse-", dir="/tmp") if own_data_dir else os.environ["ARENA_DATA_DIR"]
    )
    os.environ["ARENA_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.management import call_command

    from arena import embedded
    from games.api import auth
    from games.models import AgentToken, Match, PuzzleVariant, Tournament
    from games.play import services
    from tests import factories

    children: list[subprocess.Popen] = []
    created_matches: list[int] = []
    created_sessions: list[str] = []
    token_rows: list[int] = []
    server_log = Path(data_dir) / "abuse-server.log"
    out: dict[str, Any] = {"bench": "abuse"}
    try:
        if not settings.REDIS_URL:
            children.append(embedded.start_redis(settings.EMBEDDED_REDIS_SOCKET))
        call_command("migrate", interactive=False, verbosity=0)
        port = free_port()
        env = {**os.environ, "ARENA_DATA_DIR": str(settings.DATA_DIR)}
        with open(server_log, "wb") as log:
            children.append(
                subprocess.Popen(
                    [sys.executable, "-c", SERVER_CODE, str(port)],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=embedded.die_with_parent,
                )
            )
        server_pid = children[-1].pid
        wait_http(port)

        variant = PuzzleVariant.objects.get(slug="wason-tier-1")
        run_id = uuid.uuid4().hex[:8]

        def seat_for_session() -> tuple[Match, str, int]:
            match = services.match_create(variant=variant, max_tests=10**6)
            key = factories.session_key()
            created_matches.append(match.pk)
            created_sessions.append(key)
            seat = services.seat_join(match=match, handle="abuse-bench", session_key=key)
            services.match_start(match=match)
            return match, key, seat.pk

        normal = [seat_for_session() for _ in range(args.players)]
        hostile_seats = [seat_for_session() for _ in range(2)]
        tokens = []
        for k in range(4):
            row, key = auth.agent_token_create(name=f"abuse-{run_id}-{k}")
            token_rows.append(row.pk)
            tokens.append(key)
        row, research_key = auth.agent_token_create(name=f"abuse-{run_id}-research", can_read_research=True)
        token_rows.append(row.pk)

        import httpx

        base = f"http://127.0.0.1:{port}"
        created = httpx.post(
            f"{base}/api/v1/matches",
            json={"variant": "wason-tier-1"},
            headers={"Authorization": f"Bearer {tokens[0]}"},
            timeout=30,
        )
        created.raise_for_status()
        created_matches.append(int(created.json()["match"]))
        target = Target(
            base=base,
            ws_base=f"ws://127.0.0.1:{port}",
            tokens=tokens,
            research_token=research_key,
            own_seat=int(created.json()["seat"]),
            other_seats=[seat for _, _, seat in normal],
            other_matches=[m.pk for m, _, _ in normal],
            hostile_sessions=[key for _, key, _ in hostile_seats],
            hostile_matches=[m.pk for m, _, _ in hostile_seats],
        )
        players = [(f"ws://127.0.0.1:{port}/ws/matches/{m.pk}/", key) for m, key, _ in normal]
        result = asyncio.run(run(args, target, players, server_pid))
        tally: Tally = result["tally"]
        created_matches.extend(tally.created_matches)
        time.sleep(0.5)  # let the server flush its log
        log_lines = server_log.read_text(errors="replace").splitlines()
        error_lines = [line for line in log_lines if ERROR_LINE.match(line)]
        by_logger = Counter(line.split(":", 1)[0].split(" ", 1)[1] for line in error_lines)
        if args.keep_log:
            shutil.copyfile(server_log, args.keep_log)
        tracebacks = sum(1 for line in log_lines if line.startswith("Traceback (most recent call last)"))
        idle_p99, abuse_p99 = result["idle"]["p99_ms"], result["abuse"]["p99_ms"]
        out.update(
            {
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "redis": "external" if settings.REDIS_URL else "embedded",
                "cpus": os.cpu_count(),
                "normal_players": args.players,
                "pace_s": args.pace,
                "hostile_workers": {"http": args.hostile_workers, "ws_own_seat": 2, "ws_raw": 2},
                "hostile": {
                    "http_requests": tally.http_requests,
                    "ws_connects": tally.ws_connects,
                    "ws_frames": tally.ws_frames,
                    "per_s": round(
                        (tally.http_requests + tally.ws_connects + tally.ws_frames) / result["abuse_elapsed"],
                        1,
                    ),
                    "matches_created": len(tally.created_matches),
                    "by_category": dict(sorted(tally.by_category.items())),
                    "statuses": dict(sorted(tally.statuses.items())),
                    "client_exceptions": dict(tally.client_exceptions.most_common(10)),
                },
                "server_errors": {
                    # one 500 of the API is two records (the API's own and django.request's)
                    "clean": tally.server_5xx == 0 and not error_lines and not tracebacks,
                    "responses_5xx": tally.server_5xx,
                    "error_log_records": len(error_lines),
                    "error_log_by_logger": dict(by_logger.most_common()),
                    "tracebacks": tracebacks,
                    "samples_5xx": [{"request": k, **v} for k, v in tally.samples_5xx.items()],
                    "samples_log": list(dict.fromkeys(line[:160] for line in error_lines))[:10],
                },
                "normal_moves": {
                    "idle": result["idle"],
                    "abuse": result["abuse"],
                    "p99_ratio_abuse_vs_idle": round(abuse_p99 / idle_p99, 2)
                    if idle_p99 and abuse_p99
                    else None,
                    "errors": len(result["player_errors"]),
                    "first_error": result["player_errors"][0] if result["player_errors"] else None,
                },
                "unfinished_tasks": result["pending"],
            }
        )
    except Exception as exc:  # it reports, it does not fail
        out["bench_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for proc in reversed(children):
            embedded.stop(proc)
        try:
            Match.objects.filter(pk__in=created_matches).delete()
            Match.objects.filter(seats__agent_token__in=token_rows).delete()
            Session.objects.filter(session_key__in=created_sessions).delete()
            Tournament.objects.filter(slug__startswith="abuse-").delete()
            AgentToken.objects.filter(pk__in=token_rows).delete()
        except Exception as exc:
            out["cleanup_error"] = f"{type(exc).__name__}: {exc}"
        if own_data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

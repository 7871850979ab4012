"""The match WebSocket. Thin: check the message's shape, call one service or selector, reply.

Client -> server messages (JSON objects):
  {"type": "resume", "after": <event seq>}            state snapshot unless nothing was missed
  {"type": "test", "input": [x, y, z], "id": "<move id>", "think_ms": <int>}
  {"type": "guess", "rule": "<rule>", "id": "<move id>", "think_ms": <int>}
                                                      ("rule" is any JSON of the family's guess schema:
                                                       e.g. a grid [[0, 1], [2, 0]] where the answer is one)
  {"type": "forfeit", "id": "<move id>"}
  {"type": "check_rule", "rule": "<rule>"}            live syntax check, writes nothing
  {"type": "ping"}
Server -> client: "state", "resumed", "result" (reply to a move: with "events", the events the move
made, which this socket does not get again as broadcasts), "rule_check", "event" (broadcast, with
the match's event seq), "pong" and "error" ({"type": "error", "message": ...}).
A bad message gets an error and the socket stays open; nothing is written.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import close_old_connections, connection

from games.engine.core import get_family
from games.models import Seat
from games.play import (
    channel_layer,
    events,
    inputs,
    metrics,
    movegroups,
    selectors,
    services,
    visibility,
    writer,
)

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16_384
FULL_CLOSE_CODE = 4503  # the arena is full: the page waits a minute before it tries again
MAX_RULE_LENGTH = services.MAX_RULE_LENGTH
MOVE_TYPES = ("test", "guess", "forfeit")
MESSAGE_TYPES = ("resume", "check_rule", "ping", *MOVE_TYPES)


# Threads that run this process's database work for its sockets. SQLite takes one writer at a time
# (BEGIN IMMEDIATE), so extra threads would only queue on its file lock: one thread. A database
# server runs moves side by side, each thread on its own persistent connection, so one move's
# round trips and commit flush overlap the next move's Python work.
DB_THREADS = int(os.environ.get("ARENA_WS_DB_THREADS") or 4)
# The hand-off to that thread: a plain executor call. asgiref's SyncToAsync (channels'
# database_sync_to_async) costs about twice the CPU per call (thread-sensitive routing, nested
# executors, a connection sweep before and after); ARENA_WS_ASGIREF_HOP=1 selects it again.
ASGIREF_HOP = os.environ.get("ARENA_WS_ASGIREF_HOP", "") == "1"
_db_executor: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _db_executor
    if _db_executor is None:
        threads = 1 if connection.vendor == "sqlite" else max(1, DB_THREADS)
        _db_executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="arena-ws-db")
    return _db_executor


def _in_db_thread(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # What Django does around a request: drop this thread's connection if it broke or outlived
    # CONN_MAX_AGE (attribute checks, no query) before using it.
    close_old_connections()
    return func(*args, **kwargs)


def database_work(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func`` (a method doing database work) on this process's database thread(s)."""
    if ASGIREF_HOP:
        if connection.vendor == "sqlite" or DB_THREADS <= 1:
            return database_sync_to_async(func)
        return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_executor())

    @functools.wraps(func)
    async def run(*args: Any, **kwargs: Any) -> Any:
        context = contextvars.copy_context()
        call = functools.partial(_in_db_thread, func, args, kwargs)
        return await asyncio.get_running_loop().run_in_executor(_executor(), context.run, call)

    return run


# A move's database work on its own (no group): built once, not per move.
_alone = database_work(lambda write: write())


def _grouped() -> bool:
    """Whether moves are written in groups: one database thread (SQLite), grouping not turned off,
    and not asgiref's hop (whose thread does its own connection handling)."""
    return connection.vendor == "sqlite" and movegroups.MOVE_GROUP > 1 and not ASGIREF_HOP


try:  # the ASGI server's "send after the client left" error, when the server is uvicorn
    from uvicorn.protocols.utils import ClientDisconnected as ClientGone
except ImportError:  # pragma: no cover - another server
    ClientGone = ()  # type: ignore[assignment,misc]


def dumps(data: Any) -> str:
    """``data`` as compact JSON: orjson (a few times faster on a move's messages), or the
    standard module for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(data, separators=(",", ":"))


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any WebSocket path that is not a match's: closed with 4404 (not a server error)."""

    async def connect(self) -> None:
        await self.close(code=4404)


class BadMessage(Exception):
    pass


def _int_field(msg: dict[str, Any], name: str, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    value = msg.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise BadMessage(f'"{name}" must be a whole number between {minimum} and {maximum}')
    return value


def parse_message(text: str | None) -> dict[str, Any]:
    if text is None:
        raise BadMessage("binary frames are not accepted; send JSON text")
    if len(text) > MAX_FRAME_BYTES:
        raise BadMessage(f"message too large: {len(text)} characters (at most {MAX_FRAME_BYTES})")
    try:
        msg = inputs.parse_json(text, what="the message", max_bytes=4 * MAX_FRAME_BYTES)
    except inputs.InputError as exc:
        raise BadMessage(
            f'malformed JSON: {exc.message}; send an object such as {{"type": "test", "input": [1, 2, 3]}}'
        ) from None
    if not isinstance(msg, dict):
        raise BadMessage(f'a message must be a JSON object with a "type", got {type(msg).__name__}')
    kind = msg.get("type")
    if kind not in MESSAGE_TYPES:
        raise BadMessage(f"unknown message type {kind!r}; allowed: {', '.join(MESSAGE_TYPES)}")
    move_id = msg.get("id", "")
    if move_id is None:
        move_id = ""
    if not isinstance(move_id, str) or len(move_id) > services.MAX_IDEMPOTENCY_KEY:
        raise BadMessage(f'"id" must be a string of at most {services.MAX_IDEMPOTENCY_KEY} characters')
    msg["id"] = move_id
    msg["think_ms"] = _int_field(msg, "think_ms", maximum=86_400_000)
    if kind == "resume":
        msg["after"] = _int_field(msg, "after")
    elif kind == "test":
        # the shape is the family's (its input_schema; parse_query says what is allowed)
        value = msg.get("input")
        if isinstance(value, bool) or not isinstance(value, (list, str, int)):
            raise BadMessage(
                'a test needs "input": the test as the puzzle writes it, e.g. [1, 2, 3], "abba" or 3'
            )
    elif kind in ("guess", "check_rule"):
        rule = msg.get("rule")
        if kind == "guess" and isinstance(rule, list):
            pass  # an answer such as a grid (the family's guess schema); the service checks its size
        elif not isinstance(rule, str):
            raise BadMessage(
                f'a {kind} needs "rule": a string (or, for a guess, the answer the puzzle asks for)'
            )
        elif len(rule) > MAX_RULE_LENGTH:
            raise BadMessage(f"a rule may be at most {MAX_RULE_LENGTH} characters")
    return msg


class MatchConsumer(AsyncWebsocketConsumer):
    spectate = False

    async def connect(self) -> None:
        self.match_id = int(self.scope["url_route"]["kwargs"]["match_id"])
        full = metrics.full_reason()
        if full is not None:  # tell the newcomer clearly, rather than slow everyone down
            metrics.FULL_REFUSALS.labels(full).inc()
            await self.accept()
            await self.send_json(
                {"type": "full", "message": metrics.FULL_MESSAGE, "retry_after": metrics.FULL_RETRY_AFTER_S}
            )
            await self.close(code=FULL_CLOSE_CODE)
            return
        self.group = events.group_name(self.match_id)
        session = self.scope.get("session")
        user = self.scope.get("user")
        session_key = getattr(session, "session_key", None) or ""
        user_id = user.pk if getattr(user, "is_authenticated", False) else None
        if not await self._viewer(session_key=session_key, user_id=user_id):
            await self.close(code=4404)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.counted = True
        metrics.socket_opened()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels' AsyncConsumer.dispatch first awaits aclose_old_connections() for every message
        # (each frame from the browser, each event from the group): a hop to the one sync thread,
        # queued behind other players' moves. Every handler here does its database work through
        # database_sync_to_async, which closes old connections in that thread anyway.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            metrics.socket_closed()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def send_json(self, data: dict[str, Any]) -> None:
        try:
            await self.send(text_data=dumps(data))
        except ClientGone:  # the client left while we answered: nothing to tell it, nothing lost
            logger.info("match %s: client left before a %s reached it", self.match_id, data.get("type"))

    async def error(self, message: str, *, move_id: str = "", column: int | None = None) -> None:
        data: dict[str, Any] = {"type": "error", "message": message}
        if move_id:
            data["id"] = move_id
        if column is not None:
            data["column"] = column
        await self.send_json(data)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            msg = parse_message(text_data)
        except BadMessage as exc:
            await self.error(str(exc))
            return
        kind = msg["type"]
        try:
            if kind == "ping":
                await self.send_json({"type": "pong"})
            elif kind == "resume":
                await self.send_json(await self._resume(after=msg["after"]))
            elif kind == "check_rule":
                await self.send_json(await self._check_rule(msg["rule"]))
            else:
                await self._move(msg)
        except services.ActionError as exc:
            await self.error(exc.message, move_id=msg["id"], column=exc.column)
        except Exception:  # ours, not the player's: log it, keep the socket and the match
            logger.exception("match %s: failed to handle %s message", self.match_id, kind)
            await self.error(
                "something went wrong on our side; your move was not recorded, please retry",
                move_id=msg["id"],
            )

    async def _move(self, msg: dict[str, Any]) -> None:
        if self.seat_id is None:
            if self.spectate:
                raise services.ActionError("this is a spectator connection; moves are not accepted here")
            raise services.ActionError("you are not playing in this match; you can only watch it")
        if "seat" in msg and msg["seat"] != self.seat_id:
            raise services.ActionError(
                f"seat {msg['seat']!r} is not yours; you can only move in your own seat"
            )
        action: dict[str, Any] = {"type": msg["type"]}
        if msg["type"] == "test":
            action["input"] = msg["input"]
            if msg.get("hypothesis") is not None:
                action["hypothesis"] = msg["hypothesis"]  # checked by the service
        elif msg["type"] == "guess":
            action["rule"] = msg["rule"]
            if "quiz" in msg:
                action["quiz"] = msg["quiz"]  # checked by the service
        started = time.perf_counter()
        metrics.move_queued()
        try:
            reply, to_publish = await self._submit(action=action, move_id=msg["id"], think_ms=msg["think_ms"])
            # The mover's own events ride in the reply (in seq order, as this socket sees them), so
            # the channel layer need not bring them back to this socket a moment later.
            own = [await self._seen(event) for group, event in to_publish if group == self.group]
            if own:
                reply["events"] = own
            await self.send_json(reply)
        finally:
            metrics.move_done(time.perf_counter() - started)
        for group, event in to_publish:
            try:
                await channel_layer.group_send(
                    self.channel_layer,
                    group,
                    events.channel_message(event),
                    skip=self.channel_name if group == self.group else None,
                    sure=event.get("event") == "match_finished",  # the one event nobody may miss
                )
            except Exception:  # the step is committed; others resync by seq
                logger.exception("match %s: could not publish event #%s", self.match_id, event.get("seq"))

    async def match_event(self, message: dict[str, Any]) -> None:
        await self.send_json(await self._seen(message["event"]))

    async def _seen(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` as this socket's viewer may see it (and whether the match is now over for them)."""
        if event.get("event") == "match_finished":
            if self.daily:  # over for this viewer only if they have played their own daily
                self.over, self.embargoed, _ = await self._over()
            else:
                self.over = True
        # A live event shows a rival's moves only as progress until the match ends (a delayed
        # spectator log, where a variant sets one, comes with the state snapshot).
        view = visibility.MatchView(viewer=self.viewer, over=self.over, embargoed=self.embargoed)
        return view.event(event)

    # -- database work, in a thread -------------------------------------------------------------

    @database_work
    def _viewer(self, *, session_key: str, user_id: int | None) -> bool:
        """Who this socket is (its seat, if it plays and does not only watch), and whether the
        match is over for them; False for no such match."""
        match = selectors.match_get(match_id=self.match_id)
        if match is None:
            return False
        seat = (
            None
            if self.spectate
            else selectors.seat_for_viewer(match=match, session_key=session_key, user_id=user_id)
        )
        self.seat_id = seat.pk if seat else None
        # what step_submit is handed on every move (it reads only the key, and locks and loads the
        # row itself): made once here, since a Seat built from a key alone costs some 40 µs
        self.seat_key = Seat(pk=self.seat_id) if seat else None
        # who they are goes with the viewer: a finished daily match is over only for those who
        # have played their own (games.play.visibility.daily_embargoed)
        self.viewer = (
            visibility.Viewer.player(self.seat_id, session_key=session_key, user_id=user_id)
            if self.seat_id
            else visibility.Viewer.spectator(session_key=session_key, user_id=user_id)
        )
        view = visibility.match_view(match=match, viewer=self.viewer)
        self.over, self.embargoed, self.daily = view.over, view.embargoed, match.daily is not None
        return True

    @database_work
    def _over(self) -> tuple[bool, bool, bool]:
        """Whether the match is over for this viewer, whether it is over but held back (a daily
        match under embargo for them), and whether it is a daily match at all."""
        match = selectors.match_get(match_id=self.match_id)
        view = visibility.match_view(match=match, viewer=self.viewer)
        return view.over, view.embargoed, match.daily is not None

    @database_work
    def _resume(self, *, after: int | None) -> dict[str, Any]:
        match = selectors.match_get(match_id=self.match_id)
        if after is not None and after == match.event_seq:
            return {"type": "resumed", "event_seq": match.event_seq}
        view = visibility.match_view(match=match, viewer=self.viewer)
        self.over, self.embargoed = view.over, view.embargoed
        return selectors.match_public_state(match=match, viewer=self.viewer)

    @database_work
    def _check_rule(self, rule: str) -> dict[str, Any]:
        match = selectors.match_get(match_id=self.match_id)
        result = get_family(match.instance.family).check_rule(rule)
        return {"type": "rule_check", "rule": rule, **result}

    async def _submit(
        self, *, action: dict[str, Any], move_id: str, think_ms: int | None
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """The move written on the database thread: in a group with the moves waiting beside it
        where one thread writes (SQLite, games.play.movegroups), else on its own."""
        if writer.WRITER:  # another process writes this box's moves (games.play.writer)
            assert self.seat_id is not None
            return await writer.client_for_loop().write(
                seat_id=self.seat_id, viewer=self.viewer, action=action, move_id=move_id, think_ms=think_ms
            )
        write = functools.partial(self._write_move, action=action, move_id=move_id, think_ms=think_ms)
        if _grouped():
            return await movegroups.queue_for_loop(_executor).run(write)  # type: ignore[no-any-return]
        return await _alone(write)  # type: ignore[no-any-return]

    def _write_move(
        self, *, action: dict[str, Any], move_id: str, think_ms: int | None
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        return writer.write_move(
            seat=self.seat_key, viewer=self.viewer, action=action, move_id=move_id, think_ms=think_ms
        )


class SpectatorConsumer(MatchConsumer):
    """Read-only view of a match, even for someone who holds a seat in it."""

    spectate = True

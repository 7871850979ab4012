"""The move writer: one process that writes the WebSocket moves of every web process on the box.

A web process serves its sockets on one event loop and writes their moves on a database thread
(``games.play.consumers``). Both hold the interpreter's lock by turns, so one process never uses
more than one core, and on SQLite two web processes only queue on the file's write lock (each
waiting writer sleeps in SQLite's busy handler). With ``ARENA_WS_WRITER`` set to a Unix socket
path, a web process sends each move's what and who (seat, viewer, action, move id, think time)
to the writer on that socket instead, and awaits the reply; the writer (``manage.py
arena_writer``) writes the moves that arrived together as one group (``games.play.movegroups``,
on SQLite; one at a time elsewhere) through the same ``services.step_submit``, and sends each
move's reply and events back. The single write path and each match's event order stay as they
were: the web process publishes the events as before.

Wire: each frame is a 4-byte big-endian length and a pickle (the socket is the arena's own, mode
0600 in its data directory: only this user's processes reach it). A request frame is ``(id,
move)``; a reply frame is a list of ``(id, ok, value)``: the move's ``(reply, events)``, or
``("refused", message, column)`` for a move the service refused (``services.ActionError``), or
``("failed", text)`` for anything else. If the writer goes away, every move waiting on it gets
``WriterGone``; a move it had already written stays written, and a move re-sent with its id is
answered from the log (``step_submit``'s idempotency key).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import logging
import os
import pickle
import selectors
import socket
import sqlite3
import struct
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.backends.signals import connection_created

from games.models import Seat
from games.play import events, metrics, movegroups, services, visibility
from games.play import selectors as play_selectors

logger = logging.getLogger(__name__)

# The writer's socket, or "" for moves written in the web process itself.
WRITER = os.environ.get("ARENA_WS_WRITER", "")
_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
# How long the writer waits for a web process to take its replies before giving up on it (its
# moves stay written; its waiting movers hear that the writer went away, and retry).
SEND_TIMEOUT_S = 10.0
# SQLite: checkpoint the write-ahead log from a thread of the writer's own every this many seconds
# (``_checkpoint_apart``); ARENA_WRITER_CHECKPOINT=0 leaves it to SQLite's automatic checkpoint.
CHECKPOINT_APART = os.environ.get("ARENA_WRITER_CHECKPOINT", "1") != "0"
CHECKPOINT_S = 1.0

Reply = tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]


class WriterGone(ConnectionError):
    """The move writer closed the connection (it stopped, or was restarted) before replying."""


def write_move(
    *, seat: Seat, viewer: visibility.Viewer, action: dict[str, Any], move_id: str, think_ms: int | None
) -> Reply:
    """One move through ``services.step_submit``: the reply its mover gets and the events it made
    (to publish once the move is committed). Call on a thread that may use the database."""
    with events.collected() as to_publish:
        outcome = services.step_submit(
            seat=seat, action=action, idempotency_key=move_id, client_think_ms=think_ms
        )
    match = outcome.match
    reply: dict[str, Any] = {
        "type": "result",
        "id": move_id,
        "replayed": outcome.replayed,
        "step": play_selectors.step_public(step=outcome.step),
        "seat": play_selectors.seat_summary(seat=outcome.seat),
        "match_status": match.status,
        "event_seq": match.event_seq,
        "reveal": play_selectors.match_reveal(
            match=match, view=visibility.match_view(match=match, viewer=viewer)
        ),
    }
    if outcome.timed_out and not outcome.replayed:
        reply["message"] = "time is up: the match's time limit passed before this move"
    return reply, to_publish


def _frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


# -- the writer's side ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _seat_key(seat_id: int) -> Seat:
    # step_submit reads only the key (and locks and loads the row itself); a Seat built from a
    # key alone costs some 40 µs, so one per seat
    return Seat(pk=seat_id)


def _call(move: dict[str, Any]) -> Callable[[], Reply]:
    return functools.partial(
        write_move,
        seat=_seat_key(move["seat"]),
        viewer=move["viewer"],
        action=move["action"],
        move_id=move["id"],
        think_ms=move["think_ms"],
    )


def _encoded(ok: bool, value: Any) -> tuple[bool, Any]:
    if ok:
        return True, value
    if isinstance(value, services.ActionError):
        return False, ("refused", value.message, value.column)
    logger.error("move writer: a move failed", exc_info=value)
    return False, ("failed", f"{type(value).__name__}: {value}")


def write_all(waiting: list[tuple[Any, int, dict[str, Any]]]) -> dict[Any, list[tuple[int, bool, Any]]]:
    """Write the moves in ``waiting`` (connection, request id, move), in order, in groups where the
    database takes them (SQLite, ``movegroups``) and one by one elsewhere; the replies by connection."""
    replies: dict[Any, list[tuple[int, bool, Any]]] = {}
    grouped = connection.vendor == "sqlite" and movegroups.MOVE_GROUP > 1
    while waiting:
        group = waiting[: movegroups.MOVE_GROUP if grouped else 1]
        calls = [(contextvars.copy_context(), _call(move)) for _, _, move in group]
        outcomes = movegroups.write_group(calls, movegroups.MOVE_GROUP_S)
        metrics.MOVE_GROUP_SIZE.observe(len(outcomes))
        for (conn, request, _), (ok, value) in zip(group, outcomes, strict=False):
            replies.setdefault(conn, []).append((request, *_encoded(ok, value)))
        waiting = waiting[len(outcomes) :]
    return replies


def _checkpoint_apart(stop: threading.Event) -> threading.Thread:
    """Copy SQLite's write-ahead log back into the database from a second connection on a thread of
    its own, every ``CHECKPOINT_S`` until ``stop``, instead of in the commit of whichever group of
    moves took the log past 1,000 pages (SQLite's automatic checkpoint), which held up every move
    waiting behind that group while the file was written and synced. A PASSIVE checkpoint never
    waits for the writer; the driver lets go of the interpreter's lock while it works."""
    serving = threading.get_ident()

    def no_autocheckpoint(sender: Any, connection: Any, **kwargs: Any) -> None:
        # every connection this thread opens: Django renews it after ARENA_DB_CONN_MAX_AGE
        if connection.vendor == "sqlite" and threading.get_ident() == serving:
            connection.connection.execute("PRAGMA wal_autocheckpoint=0")

    connection_created.connect(no_autocheckpoint, weak=False, dispatch_uid=f"move-writer-{serving}")
    connection.ensure_connection()
    connection.connection.execute("PRAGMA wal_autocheckpoint=0")  # the one open already
    database = str(connection.settings_dict["NAME"])

    def run() -> None:
        other = sqlite3.connect(database, timeout=30, check_same_thread=False)
        try:
            while not stop.wait(CHECKPOINT_S):
                try:
                    other.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    logger.exception("move writer: a checkpoint failed; the next one will try again")
        finally:
            other.close()
            connection_created.disconnect(dispatch_uid=f"move-writer-{serving}")

    thread = threading.Thread(target=run, name="move-writer-checkpoints", daemon=True)
    thread.start()
    return thread


def serve(
    path: str | Path, *, stop: threading.Event | None = None, ready: threading.Event | None = None
) -> None:
    """Take moves on the Unix socket ``path`` until ``stop`` is set (or forever)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(256)
    listener.setblocking(False)
    watch = selectors.DefaultSelector()
    watch.register(listener, selectors.EVENT_READ)
    buffers: dict[socket.socket, bytearray] = {}
    checkpoints = None
    if CHECKPOINT_APART and connection.vendor == "sqlite":
        checkpoints = _checkpoint_apart(stop or threading.Event())
    if ready is not None:
        ready.set()
    try:
        while stop is None or not stop.is_set():
            waiting: list[tuple[Any, int, dict[str, Any]]] = []
            for key, _ in watch.select(timeout=0.2):
                sock = key.fileobj
                if sock is listener:
                    conn, _ = listener.accept()
                    # a web process that stops reading its replies must not stop every other one
                    conn.settimeout(SEND_TIMEOUT_S)
                    buffers[conn] = bytearray()
                    watch.register(conn, selectors.EVENT_READ)
                    continue
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(1 << 20, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    watch.unregister(sock)
                    buffers.pop(sock, None)
                    sock.close()
                    continue
                buffer = buffers[sock]
                buffer += data
                while len(buffer) >= _HEADER.size:
                    (size,) = _HEADER.unpack_from(buffer)
                    if len(buffer) < _HEADER.size + size:
                        break
                    request, move = pickle.loads(bytes(buffer[_HEADER.size : _HEADER.size + size]))
                    del buffer[: _HEADER.size + size]
                    waiting.append((sock, request, move))
            if not waiting:
                continue
            for sock, replies in write_all(waiting).items():
                try:
                    sock.sendall(_frame(replies))
                except OSError as exc:  # gone, or not reading: its moves are written all the same
                    logger.warning(
                        "move writer: could not send %d replies to a web process (%r)", len(replies), exc
                    )
                    if sock in buffers:  # a frame may be half sent: that connection is done
                        watch.unregister(sock)
                        buffers.pop(sock)
                        sock.close()
    finally:
        for sock in list(buffers):
            sock.close()
        listener.close()
        watch.close()
        path.unlink(missing_ok=True)
        if checkpoints is not None:  # it sees the stop within CHECKPOINT_S
            checkpoints.join(CHECKPOINT_S + 5)


# -- the web process's side -----------------------------------------------------------------------


class WriterClient:
    """One event loop's connection to the move writer (opened on the first move, and again after
    the writer went away)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._stream: asyncio.StreamWriter | None = None
        self._opening: asyncio.Lock | None = None
        self._reading: asyncio.Future[None] | None = None

    async def _open(self) -> asyncio.StreamWriter:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._stream is None or self._stream.is_closing():
                reader, self._stream = await asyncio.open_unix_connection(self.path, limit=MAX_FRAME)
                self._reading = asyncio.ensure_future(self._read(reader, self._stream))
            return self._stream

    async def write(
        self,
        *,
        seat_id: int,
        viewer: visibility.Viewer,
        action: dict[str, Any],
        move_id: str,
        think_ms: int | None,
    ) -> Reply:
        """The move written by the writer: its reply and events, or the service's ActionError."""
        stream = (
            self._stream if self._stream is not None and not self._stream.is_closing() else await self._open()
        )
        request = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        move = {"seat": seat_id, "viewer": viewer, "action": action, "id": move_id, "think_ms": think_ms}
        stream.write(_frame((request, move)))
        ok, value = await future
        if ok:
            return value  # type: ignore[no-any-return]
        if value[0] == "refused":
            raise services.ActionError(value[1], column=value[2])
        raise RuntimeError(f"the move writer could not write this move: {value[1]}")

    async def _read(self, reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        gone: BaseException | None = None
        try:
            while True:
                (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                for request, ok, value in pickle.loads(await reader.readexactly(size)):
                    future = self._pending.pop(request, None)
                    if future is not None and not future.done():
                        future.set_result((ok, value))
        except (asyncio.IncompleteReadError, OSError) as exc:
            gone = exc
        finally:
            stream.close()
            if self._stream is stream:
                self._stream = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WriterGone(f"the move writer went away ({gone!r})"))


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriterClient] = weakref.WeakKeyDictionary()


def client_for_loop(path: str | None = None) -> WriterClient:
    """This event loop's connection to the writer at ``path`` (default ``ARENA_WS_WRITER``)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or (path is not None and client.path != path):
        client = _clients[loop] = WriterClient(path or WRITER)
    return client

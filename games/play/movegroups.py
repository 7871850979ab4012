"""Moves written in groups: one transaction, and one hop to the database thread, for all the moves
that wait while the one before them is written.

SQLite takes one writer at a time, so a process writes its sockets' moves on one thread
(``games.play.consumers``). Alone, every move paid for its own ``BEGIN IMMEDIATE`` and ``COMMIT``
(the commit appends the changed pages to the WAL file) and its own wake-up of the event loop from
that thread. Here the moves that queued up meanwhile are written together: each in its own
savepoint (SQLite's own, see ``_in_savepoint``), all under one transaction. A move that is refused or fails rolls back to its savepoint and leaves the others
alone. Under a light load the queue is empty and a move is written alone, as before; the busier
the process, the larger the groups and the less each move costs.

Measured (issue 21): in-process, 200 matches, the database part of a move (``step_submit`` in
``events.collected()``) on SQLite went from 1.3-1.6 ms of CPU alone to 1.0 ms in groups of 32.

Order: the moves are written in the order they arrived, and their callers hear back in that
order. A group stops taking moves after ``MOVE_GROUP_S`` so that the first move in it is not held
up by many behind it; the rest wait for the next group.

Only where one thread writes (SQLite): on a database server several threads write side by side,
and groups holding row locks for each other's seats could deadlock. ``ARENA_WS_MOVE_GROUP=1``
writes every move alone again.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from django.db import close_old_connections, connection, transaction

from games.play import metrics

MOVE_GROUP = max(1, int(os.environ.get("ARENA_WS_MOVE_GROUP") or 32))  # most moves in one transaction
MOVE_GROUP_S = 0.02  # a group takes no more moves once it has been writing this long

Outcome = tuple[bool, Any]  # (True, the call's value) or (False, the exception it raised)

_group = threading.local()


def claim_savepoint() -> bool:
    """True once per move of a group, for the outermost ``services.step_submit`` of that move:
    the move has its savepoint already, so that block opens without one of its own. A nested
    call gets False and its own savepoint as usual."""
    mine = getattr(_group, "on", False)
    _group.on = False
    return mine


def _outcome(context: contextvars.Context, call: Callable[[], Any]) -> Outcome:
    try:
        return True, context.run(call)
    except Exception as exc:
        return False, exc


def _in_savepoint(context: contextvars.Context, call: Callable[[], Any]) -> Outcome:
    """``call`` between SQLite's own ``SAVEPOINT`` and ``RELEASE``, written on the driver's
    connection: Django's nested ``atomic()`` costs several times as much in Python. If the call
    fails, its writes and the commit hooks it registered are undone, and the group goes on."""
    db = connection.connection
    hooks = len(connection.run_on_commit)
    db.execute('SAVEPOINT "move"')
    _group.on = True
    try:
        ok, value = _outcome(context, call)
    finally:
        _group.on = False
    if not ok:
        db.execute('ROLLBACK TO SAVEPOINT "move"')
        del connection.run_on_commit[hooks:]
        transaction.set_rollback(False)  # a block without a savepoint asked to roll it all back
    db.execute('RELEASE SAVEPOINT "move"')
    return ok, value


def write_group(calls: list[tuple[contextvars.Context, Callable[[], Any]]], within_s: float) -> list[Outcome]:
    """Run ``calls`` (each a move's database work) in one transaction, in order, until they are
    done or ``within_s`` has passed; one outcome per call run (the rest were not run). If the
    commit fails, none of them happened: every call that had succeeded gets that error instead."""
    # What Django does around a request: drop this thread's connection if it broke or outlived
    # CONN_MAX_AGE (attribute checks, no query) before using it.
    close_old_connections()
    if len(calls) == 1:
        return [_outcome(*calls[0])]
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + within_s
    try:
        with transaction.atomic():
            for context, call in calls:
                outcomes.append(_in_savepoint(context, call))
                if time.perf_counter() > deadline:
                    break
    except Exception as exc:
        return [(False, exc) if ok else (ok, value) for ok, value in outcomes]
    return outcomes


class MoveQueue:
    """The moves of one event loop's sockets on their way to the database thread."""

    def __init__(
        self, executor: Callable[[], Executor], *, most: int = MOVE_GROUP, within_s: float = MOVE_GROUP_S
    ):
        self._executor = executor
        self.most, self.within_s = most, within_s
        self._waiting: deque[tuple[contextvars.Context, Callable[[], Any], asyncio.Future[Any]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # groups written, and moves in them (for tests and metrics)
        self.moves = 0

    async def run(self, call: Callable[[], Any]) -> Any:
        """``call()`` on the database thread, in a group with the moves waiting beside it."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((contextvars.copy_context(), call, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write())
        return await future

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            group = [self._waiting.popleft() for _ in range(min(self.most, len(self._waiting)))]
            calls = [(context, call) for context, call, _ in group]
            try:
                outcomes = await loop.run_in_executor(self._executor(), write_group, calls, self.within_s)
            except BaseException as exc:  # the executor is gone (shutdown): tell every waiting mover
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
                raise
            self.groups += 1
            self.moves += len(outcomes)
            metrics.MOVE_GROUP_SIZE.observe(len(outcomes))
            for (_, _, future), (ok, value) in zip(group, outcomes, strict=False):
                if future.done():  # its socket went away meanwhile; the move is written all the same
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            self._waiting.extendleft(reversed(group[len(outcomes) :]))  # not reached: first in line again


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MoveQueue] = weakref.WeakKeyDictionary()


def queue_for_loop(executor: Callable[[], Executor]) -> MoveQueue:
    """This event loop's move queue (one per loop: a queue's futures belong to its loop)."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = MoveQueue(executor)
    return queue

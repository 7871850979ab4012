"""The statements of a move, written out by hand: the only hand-built SQL in the write path.

``services.step_submit`` runs for every move of every player. Through the ORM a move costs
about twice the server CPU (the ORM spends far longer compiling a query than the database
spends running it), so the move's statements are built here once per process from the models'
metadata and run with the value preparation (``Field.pre_save``, ``get_db_prep_save``) and result
conversion (``get_db_converters``, ``Model.from_db``) the ORM applies itself.

Measured (issue 17) with ``tests/bench/bench_ws_moves.py --players 200 --seconds 10
--modes paced_1hz --paths sql,orm --rounds 3``: 200 players, one move a second each, both paths
in the same run, ASGI server process CPU per move (2 cores, Django 5.2, uvicorn, one process):

    SQLite:      these statements 1.60 ms, p99 18 ms;  the ORM 3.30 ms (x2.07), p99 74 ms
    PostgreSQL:  these statements 2.15 ms, p99 110 ms; the ORM 4.40 ms (x2.05), p99 1.3 s
    (the bare echo consumer: 0.36 ms, p99 4-5 ms)

Saturating on SQLite, 578 moves/s against the ORM's 279. The ORM versions of these three
functions are in ``games.play.services`` (``ARENA_MOVE_PATH=orm``); ``tests/games/test_fastpath.py``
checks that both write the same rows, replies and events for the same moves. Re-measure when
Django or the models change, and delete this module when the ORM comes within a fifth of it.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from games.models import Match, Seat, Step


def _db() -> Any:
    """This thread's connection itself. ``django.db.connection`` is a proxy that looks the
    connection up again on every attribute; a move touched it about twenty times."""
    return connections[DEFAULT_DB_ALIAS]


@functools.cache
def _statements(vendor: str) -> dict[str, Any]:
    connection = _db()
    qn = connection.ops.quote_name
    features = connection.features
    seat_t, match_t, step_t = (qn(m._meta.db_table) for m in (Seat, Match, Step))
    seat_fields, match_fields = Seat._meta.concrete_fields, Match._meta.concrete_fields
    step_fields = [f for f in Step._meta.concrete_fields if not f.primary_key]
    columns = [f"s.{qn(f.column)}" for f in seat_fields] + [f"m.{qn(f.column)}" for f in match_fields]
    lock = ""
    if features.has_select_for_update:  # SQLite: BEGIN IMMEDIATE already serialises writers
        # Lock the seat row only: locking the match row too would serialise a race's seats.
        lock = " FOR UPDATE OF s" if features.has_select_for_update_of else " FOR UPDATE"

    def converters(fields: Any, alias: str) -> list[tuple[list[Any], Any]]:
        cols = [f.get_col(alias) for f in fields]
        return [(connection.ops.get_db_converters(c) + c.get_db_converters(connection), c) for c in cols]

    step_col = {name: qn(Step._meta.get_field(name).column) for name in ("seat", "seq", "idempotency_key")}
    step_pk, seat_pk, match_pk = (qn(m._meta.pk.column) for m in (Step, Seat, Match))
    insert = (
        f"INSERT INTO {step_t} ({', '.join(qn(f.column) for f in step_fields)}) "
        f"VALUES ({', '.join(['%s'] * len(step_fields))})"
    )
    returning = vendor in ("postgresql", "sqlite") and features.can_return_columns_from_insert
    event_seq = qn(Match._meta.get_field("event_seq").column)
    bump = f"UPDATE {match_t} SET {event_seq} = {event_seq} + 1 WHERE {match_pk} = %s RETURNING {event_seq}"
    return {
        "lock": (
            f"SELECT {', '.join(columns)} FROM {seat_t} s "
            f"INNER JOIN {match_t} m ON m.{match_pk} = s.{qn(Seat._meta.get_field('match').column)} "
            f"WHERE s.{seat_pk} = %s{lock}"
        ),
        "seat": ([f.attname for f in seat_fields], converters(seat_fields, "s")),
        "match": ([f.attname for f in match_fields], converters(match_fields, "m")),
        # Its own statement, after the lock: in PostgreSQL's read committed a statement sees what
        # committed before it began, so a subquery in the locking SELECT could miss a step that
        # committed while it waited for the lock.
        "position": (
            f"SELECT (SELECT MAX({step_col['seq']}) FROM {step_t} WHERE {step_col['seat']} = %s), "
            f"(SELECT {step_pk} FROM {step_t} "
            f"WHERE {step_col['seat']} = %s AND {step_col['idempotency_key']} = %s "
            # the partial unique index's own condition, written as the index writes it, so the
            # planner may use that index for a bound key (without it SQLite read every step of the
            # seat: a move's cost grew with the length of its log)
            f"AND NOT ({step_col['idempotency_key']} = '') LIMIT 1)"
        ),
        "insert": insert + (f" RETURNING {step_pk}" if returning else ""),
        "returning": returning,
        "step_fields": step_fields,
        "update_seat": f"UPDATE {seat_t} SET {{}} WHERE {seat_pk} = %s",
        # The match's event counter; the UPDATE takes the match row lock until commit, so the
        # moves of one match get consecutive numbers in commit order. None: the ORM bumps it.
        "bump": bump if returning else None,
        # PostgreSQL: append the step, update the seat and bump the counter in one statement and
        # one round trip.
        "record": (
            f"WITH new_step AS ({insert} RETURNING {step_pk}), "
            f"seat_row AS (UPDATE {seat_t} SET {{}} WHERE {seat_pk} = %s), "
            f"match_row AS ({bump}) "
            f"SELECT (SELECT {step_pk} FROM new_step), (SELECT {event_seq} FROM match_row)"
        )
        if vendor == "postgresql"
        else None,
    }


class _SQLiteCursor:
    """SQLite's own cursor for the move's statements, with their ``%s`` written as ``?`` once per
    statement and the driver's errors raised as Django's. Django's cursor around it (thread check,
    the async guard, placeholder rewriting on every call, wrappers) cost about a tenth of a move
    (issue 21); it is used where something watches the statements (DEBUG, execute wrappers)."""

    _qmarks: dict[str, str] = {}

    def __init__(self, connection: Any) -> None:
        self._errors = connection.wrap_database_errors
        self._cursor = connection.connection.cursor()

    def __enter__(self) -> _SQLiteCursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cursor.close()

    def execute(self, sql: str, params: Any) -> None:
        qmarks = self._qmarks.get(sql)
        if qmarks is None:
            qmarks = self._qmarks[sql] = sql.replace("%s", "?")
        with self._errors:
            self._cursor.execute(qmarks, params)

    def fetchone(self) -> Any:
        with self._errors:
            return self._cursor.fetchone()


def _cursor(connection: Any) -> Any:
    """A cursor for the move's statements (SQLite's own where nothing watches them)."""
    if connection.vendor == "sqlite" and not connection.queries_logged and not connection.execute_wrappers:
        connection.ensure_connection()
        return _SQLiteCursor(connection)
    return connection.cursor()


def _converted(values: Any, columns: list[tuple[list[Any], Any]], connection: Any) -> list[Any]:
    out = []
    for value, (convs, col) in zip(values, columns):
        for conv in convs:
            value = conv(value, col, connection)
        out.append(value)
    return out


def seat_locked(*, seat_id: int) -> Seat:
    """The seat, row-locked until commit, with its match loaded (one statement)."""
    connection = _db()
    sql = _statements(connection.vendor)
    with _cursor(connection) as cursor:
        cursor.execute(sql["lock"], [seat_id])
        row = cursor.fetchone()
    if row is None:
        raise Seat.DoesNotExist("Seat matching query does not exist.")
    seat_names, seat_cols = sql["seat"]
    match_names, match_cols = sql["match"]
    n = len(seat_names)
    seat = Seat.from_db(connection.alias, seat_names, _converted(row[:n], seat_cols, connection))
    match = Match.from_db(connection.alias, match_names, _converted(row[n:], match_cols, connection))
    Seat._meta.get_field("match").set_cached_value(seat, match)
    return seat


def log_position(*, seat_id: int, idempotency_key: str) -> tuple[int, int | None]:
    """The seat's last step seq and the id of the step already stored under ``idempotency_key``
    (None if there is none), in one round trip on two indexes. Call with the seat row locked."""
    connection = _db()
    with _cursor(connection) as cursor:
        cursor.execute(
            _statements(connection.vendor)["position"],
            [seat_id, seat_id, idempotency_key or None],  # no key: "= NULL" matches nothing
        )
        last, existing = cursor.fetchone()
    return last or 0, existing


def _step_params(step: Step, fields: list[Any], connection: Any) -> list[Any]:
    return [f.get_db_prep_save(f.pre_save(step, True), connection) for f in fields]


def _seat_assignments(seat: Seat, names: tuple[str, ...], connection: Any) -> tuple[str, list[Any]]:
    fields = [Seat._meta.get_field(name) for name in names]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    return assignments, [f.get_db_prep_save(getattr(seat, f.attname), connection) for f in fields]


def move_record(*, step: Step, seat: Seat, seat_fields: tuple[str, ...]) -> int | None:
    """Append ``step``, save ``seat_fields`` of the seat and bump the match's event counter;
    return the new counter, or None where the database cannot return it (the caller's event
    then bumps it through the ORM, events._next_seq)."""
    connection = _db()
    sql = _statements(connection.vendor)
    assignments, seat_params = _seat_assignments(seat, seat_fields, connection)
    step_params = _step_params(step, sql["step_fields"], connection)
    seq = None
    with _cursor(connection) as cursor:
        if sql["record"] is not None:
            cursor.execute(
                sql["record"].format(assignments), [*step_params, *seat_params, seat.pk, seat.match_id]
            )
            step.pk, seq = cursor.fetchone()
        else:
            cursor.execute(sql["insert"], step_params)
            if sql["returning"]:
                step.pk = cursor.fetchone()[0]
            else:
                step.pk = connection.ops.last_insert_id(cursor, Step._meta.db_table, Step._meta.pk.column)
            cursor.execute(sql["update_seat"].format(assignments), [*seat_params, seat.pk])
            if sql["bump"] is not None:
                cursor.execute(sql["bump"], [seat.match_id])
                seq = cursor.fetchone()[0]
    step._state.adding = False
    step._state.db = connection.alias
    return seq

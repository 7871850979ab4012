"""games.play.writer: a web process that sends its moves to the move writer gets the replies, errors
and events it gets when it writes them itself; the writer writes what arrives together as one group;
a writer that goes away costs the moves waiting on it a clear error, not the socket.

The writer runs here on a thread of the test process (its own database connection, a real Unix
socket); ``manage.py move_writer`` runs the same ``serve`` in a process of its own."""

import asyncio
import tempfile
import threading
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from games.models import Step
from games.play import movegroups, services, visibility, writer

# The socket's own behaviour, run again with every move going through the writer.
from tests.games.play.test_consumers import (  # noqa: F401 - collected here as well
    make_match,
    open_client,
    step_count,
    test_a_double_sent_move_is_applied_once,
    test_a_move_that_ends_the_match_brings_the_end_in_its_reply,
    test_a_player_plays_to_the_reveal,
    test_a_test_is_answered_at_once_and_broadcast_with_the_next_seq,
    test_bad_input_gets_a_clear_error_and_leaves_the_log_unchanged,
    test_over_budget_test_is_refused,
    test_the_hidden_rule_is_in_no_message_to_a_player_before_the_end,
    test_the_movers_events_ride_in_the_reply_and_are_not_broadcast_back_to_it,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class Writer:
    """A move writer on a thread, and every batch of moves it was handed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.batches: list[int] = []
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop.clear()
        ready = threading.Event()

        def run() -> None:
            try:
                writer.serve(self.path, stop=self.stop, ready=ready)
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run, name="move-writer", daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(10)
            assert not self.thread.is_alive()


@pytest.fixture(autouse=True)
def move_writer(monkeypatch):
    where = Writer(str(Path(tempfile.mkdtemp(prefix="writer-", dir="/tmp")) / "moves.sock"))
    real = writer.write_all

    def counted(waiting):
        where.batches.append(len(waiting))
        return real(waiting)

    monkeypatch.setattr(writer, "write_all", counted)
    monkeypatch.setattr(writer, "WRITER", where.path)
    where.start()
    yield where
    where.halt()


async def test_a_move_is_written_by_the_writer_and_answered_on_the_socket(move_writer):
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    result = await player.ask({"type": "test", "input": [1, 2, 3], "id": "w1"}, "result")
    assert result["step"]["seq"] == 1 and result["seat"]["tests_used"] == 1
    assert [event["seq"] for event in result["events"]] == [3]
    assert move_writer.batches == [1] and await step_count(seat) == 1
    refused = await player.ask({"type": "test", "input": [1, 2], "id": "w2"}, "error")
    assert "exactly three numbers" in refused["message"] and refused["id"] == "w2"
    assert move_writer.batches == [1, 1] and await step_count(seat) == 1
    await player.close()


async def test_a_writer_that_went_away_costs_the_move_an_error_and_a_new_one_takes_over(move_writer):
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    await player.ask({"type": "test", "input": [1, 2, 3], "id": "g1"}, "result")
    move_writer.halt()
    gone = await player.ask({"type": "test", "input": [4, 5, 6], "id": "g2"}, "error")
    assert "not recorded, please retry" in gone["message"] and gone["id"] == "g2"
    assert await step_count(seat) == 1
    move_writer.start()  # started again on the same socket: the next move reconnects
    again = await player.ask({"type": "test", "input": [4, 5, 6], "id": "g2"}, "result")
    assert again["step"]["seq"] == 2 and again["replayed"] is False
    await player.close()


async def test_moves_that_arrive_together_are_written_as_one_group_in_order(monkeypatch):
    groups: list[int] = []
    real = movegroups.write_group

    def counted(calls, within_s):
        groups.append(len(calls))
        return real(calls, within_s)

    monkeypatch.setattr(movegroups, "write_group", counted)
    matches = [await make_match(max_tests=3) for _ in range(2)]
    seats = [seats[0] for _, seats in matches]
    viewer = [visibility.Viewer.player(seat.pk, session_key=seat.session_key) for seat in seats]
    waiting = [
        (
            "a" if i % 2 == 0 else "b",
            i,
            {
                "seat": seats[i % 2].pk,
                "viewer": viewer[i % 2],
                "id": f"m{i}",
                "think_ms": None,
                "action": {"type": "test", "input": [i, 1, 1]},
            },
        )
        for i in range(8)
    ]

    replies = await sync_to_async(writer.write_all, thread_sensitive=False)(waiting)

    # SQLite: one transaction for all eight; a database server: one each (movegroups' docstring)
    assert groups == ([8] if connection.vendor == "sqlite" else [1] * 8)
    for conn, s in (("a", 0), ("b", 1)):
        # each seat's first three in order; its fourth is past the budget of three and refused
        written = [value[0]["step"]["seq"] for _, ok, value in replies[conn] if ok]
        refused = [value for _, ok, value in replies[conn] if not ok]
        assert [request for request, _, _ in replies[conn]] == list(range(s, 8, 2))
        assert written == [1, 2, 3] and refused[0][0] == "refused" and "no tests left" in refused[0][1]
        steps = await sync_to_async(list)(Step.objects.filter(seat=seats[s]).order_by("seq"))
        assert [step.action["input"][0] for step in steps] == [s, s + 2, s + 4]


async def test_the_client_raises_the_services_refusal_with_its_column(move_writer):
    match, (seat,) = await make_match()
    client = writer.client_for_loop(move_writer.path)
    viewer = visibility.Viewer.player(seat.pk, session_key=seat.session_key)
    with pytest.raises(services.ActionError) as refused:
        await client.write(
            seat_id=seat.pk,
            viewer=viewer,
            action={"type": "guess", "rule": "x + > y"},
            move_id="c1",
            think_ms=5,
        )
    assert "rule does not parse" in refused.value.message and refused.value.column is not None
    reply, published = await client.write(
        seat_id=seat.pk, viewer=viewer, action={"type": "test", "input": [3, 4, 5]}, move_id="c2", think_ms=5
    )
    assert reply["step"]["seq"] == 1 and [event["event"] for _, event in published] == ["step"]
    assert await sync_to_async(Step.objects.get)(seat=seat, seq=1) is not None


async def test_on_sqlite_the_log_is_checkpointed_on_a_thread_of_its_own_until_the_writer_stops(move_writer):
    """SQLite's automatic checkpoint ran in the commit of whichever group took the log past 1,000
    pages, holding up every move behind it; the writer checkpoints from a thread instead."""

    def checkpointers():
        return [t for t in threading.enumerate() if t.name == "move-writer-checkpoints" and t.is_alive()]

    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    await player.ask({"type": "test", "input": [1, 2, 3], "id": "k1"}, "result")
    assert len(checkpointers()) == (1 if connection.vendor == "sqlite" else 0)
    await player.close()
    move_writer.halt()
    for _ in range(50):  # it wakes once a second (CHECKPOINT_S) and sees the stop
        if not checkpointers():
            break
        await asyncio.sleep(0.1)
    assert checkpointers() == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's checkpoint")
async def test_the_writers_renewed_connection_keeps_sqlites_own_checkpoint_off():
    """Django renews a connection after ARENA_DB_CONN_MAX_AGE: the new one must not checkpoint in
    a move's commit either."""
    stop, seen = threading.Event(), []

    def writing_thread():
        try:
            writer._checkpoint_apart(stop)
            for _ in range(2):  # the connection open at the start, then a renewed one
                seen.append(connection.cursor().execute("PRAGMA wal_autocheckpoint").fetchone()[0])
                connection.close()
        finally:
            stop.set()
            connection.close()

    thread = threading.Thread(target=writing_thread)
    thread.start()
    thread.join(30)
    assert seen == [0, 0]

"""games.play.movegroups: the moves that queue up behind one another are written in one
transaction, each in its own savepoint, in order, and each caller hears its own outcome."""

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from games.models import Seat, Step
from games.play import events, movegroups, services
from tests import factories
from tests.games.play.test_consumers import make_match, open_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_thread():
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool
        pool.submit(connections.close_all).result()  # the thread's own connection


def _move(seat_id, x, key):
    """A move's database work as the consumer does it: the step, and the list its events go into
    once the group commits."""
    with events.collected() as published:
        outcome = services.step_submit(
            seat=Seat(pk=seat_id), action={"type": "test", "input": [x, 1, 1]}, idempotency_key=key
        )
    return outcome.step.seq, published


def _run_all(queue, calls):
    async def main():
        return await asyncio.gather(*(queue.run(call) for call in calls), return_exceptions=True)

    return asyncio.run(main())


def test_waiting_moves_are_written_together_in_order(one_thread):
    matches = [factories.match(seats=1, max_tests=50) for _ in range(3)]
    seat_ids = [seats[0].pk for _, seats in matches]
    queue = movegroups.MoveQueue(lambda: one_thread, most=32, within_s=60.0)
    calls = [functools.partial(_move, seat_ids[i % 3], i, f"m{i}") for i in range(12)]

    results = _run_all(queue, calls)

    assert queue.moves == 12 and queue.groups < 12  # the first alone, the rest waited and went together
    # each seat's moves in the order they were sent, and each move's own event (seq) came back to it
    for s, seat_id in enumerate(seat_ids):
        mine = [results[i] for i in range(12) if i % 3 == s]
        assert [seq for seq, _ in mine] == [1, 2, 3, 4]
        # seqs 1 and 2: the seat joined, the match started
        assert [[event["seq"] for _, event in published] for _, published in mine] == [[3], [4], [5], [6]]
        steps = Step.objects.filter(seat_id=seat_id).order_by("seq")
        assert [step.action["input"][0] for step in steps] == [i for i in range(12) if i % 3 == s]


def test_a_refused_move_in_a_group_leaves_the_others_written(one_thread):
    match, (seat,) = factories.match(seats=1, max_tests=2)
    queue = movegroups.MoveQueue(lambda: one_thread, most=32, within_s=60.0)
    calls = [functools.partial(_move, seat.pk, i, f"r{i}") for i in range(4)]  # a budget of two tests

    results = _run_all(queue, calls)

    assert [r[0] for r in results[:2]] == [1, 2]
    for refused in results[2:]:
        assert isinstance(refused, services.ActionError) and "no tests left" in refused.message
    assert list(Step.objects.filter(seat=seat).values_list("seq", flat=True).order_by("seq")) == [1, 2]


def test_a_failing_move_rolls_back_only_its_own_writes(one_thread):
    match, (seat,) = factories.match(seats=1, max_tests=50)
    queue = movegroups.MoveQueue(lambda: one_thread, most=32, within_s=60.0)

    def writes_then_fails():
        _move(seat.pk, 99, "bad")  # written inside the group's transaction...
        raise RuntimeError("boom")  # ...then fails: its savepoint goes with it

    calls = [
        functools.partial(_move, seat.pk, 1, "a"),
        writes_then_fails,
        functools.partial(_move, seat.pk, 2, "b"),
    ]
    results = _run_all(queue, calls)

    assert isinstance(results[1], RuntimeError)
    assert queue.groups == 1  # all three in one transaction
    steps = list(Step.objects.filter(seat=seat).order_by("seq").values_list("idempotency_key", "seq"))
    assert steps == [("a", 1), ("b", 2)]  # the failed move left no step and no gap
    # and its event was not published: the seqs the others got are consecutive
    assert [[e["seq"] for _, e in results[i][1]] for i in (0, 2)] == [[3], [4]]


def test_a_refused_move_mid_group_does_not_stop_the_moves_after_it(one_thread):
    (_, (done,)), (_, (live,)) = factories.match(seats=1, max_tests=1), factories.match(seats=1, max_tests=50)
    queue = movegroups.MoveQueue(lambda: one_thread, most=32, within_s=60.0)
    calls = [
        functools.partial(_move, live.pk, 0, "first"),
        functools.partial(_move, done.pk, 1, "d1"),
        functools.partial(_move, done.pk, 2, "d2"),  # over budget: refused inside step_submit
        functools.partial(_move, live.pk, 3, "after"),
    ]
    results = _run_all(queue, calls)

    assert isinstance(results[2], services.ActionError)
    assert results[3][0] == 2  # the group went on past the refusal
    assert queue.groups == 1
    assert Step.objects.filter(seat=done).count() == 1 and Step.objects.filter(seat=live).count() == 2


def test_a_failed_commit_fails_every_move_of_the_group(one_thread):
    match, (seat,) = factories.match(seats=1, max_tests=50)

    def breaks_a_deferred_constraint():
        # Django's foreign keys are checked at COMMIT (SQLite and PostgreSQL alike): a step of a
        # seat that does not exist passes its statement and fails the group's commit.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO games_step (seat_id, seq, kind, action, result, created_at, idempotency_key) "
                "VALUES (987654, 1, 'test', '{}', '{}', '2026-01-01', 'x')"
            )
        return "written?"

    calls = [functools.partial(_move, seat.pk, 1, "a"), breaks_a_deferred_constraint]
    outcomes = one_thread.submit(
        movegroups.write_group, [(contextvars.copy_context(), call) for call in calls], 1.0
    ).result()

    assert [ok for ok, _ in outcomes] == [False, False]
    assert all("foreign key" in str(value).lower() for _, value in outcomes)
    assert not Step.objects.filter(seat=seat).exists()  # nothing of the group was kept


def test_a_group_past_its_time_leaves_the_rest_for_the_next(one_thread):
    match, (seat,) = factories.match(seats=1, max_tests=50)
    queue = movegroups.MoveQueue(lambda: one_thread, most=32, within_s=0.0)  # one move per group
    calls = [functools.partial(_move, seat.pk, i, f"t{i}") for i in range(5)]

    results = _run_all(queue, calls)

    assert [seq for seq, _ in results] == [1, 2, 3, 4, 5]
    assert queue.groups == 5 and queue.moves == 5


@pytest.mark.asyncio
async def test_sockets_moving_at_once_each_get_their_own_reply_and_the_rival_each_event_once(monkeypatch):
    # grouped on any database (in production only where one thread writes: SQLite)
    monkeypatch.setattr("games.play.consumers._grouped", lambda: True)
    match, (a, b) = await make_match(seats=2, max_tests=50)
    (_, (solo,)) = await make_match(seats=1, max_tests=50)
    players = [await open_client(match.pk, a.session_key), await open_client(match.pk, b.session_key)]
    players.append(await open_client(solo.match_id, solo.session_key))
    for p in players:
        await p.drain()

    async def play(p, n):
        replies = []
        for i in range(n):  # sent without waiting, as a quick hand or an agent may
            await p.send({"type": "test", "input": [i, 1, 1], "id": f"{id(p)}-{i}"})
        while len(replies) < n:
            msg = await p.recv()
            if msg["type"] == "result":
                replies.append(msg)
        return replies

    results = await asyncio.gather(*(play(p, 6) for p in players))
    await asyncio.sleep(0.3)
    for p in players:
        await p.drain()

    for p, replies in zip(players, results, strict=True):
        assert [r["step"]["seq"] for r in replies] == [1, 2, 3, 4, 5, 6]  # in the order sent
        # the mover's own event rides in its reply, never again as a broadcast
        own = [e["seq"] for r in replies for e in r.get("events", [])]
        assert len(own) == 6 and not [m for m in p.received if m["type"] == "event" and m["seq"] in own]
    # each player of the race saw every match event exactly once: its own in replies, the rival's
    # as broadcasts, with no gap in the seqs
    for p in players[:2]:
        seen = [e["seq"] for m in p.received if m["type"] == "result" for e in m.get("events", [])]
        seen += [m["seq"] for m in p.received if m["type"] == "event"]
        assert sorted(seen) == list(range(min(seen), min(seen) + 12))
    counts = await sync_to_async(
        lambda: [Step.objects.filter(seat_id=s).count() for s in (a.pk, b.pk, solo.pk)]
    )()
    assert counts == [6, 6, 6]
    for p in players:
        await p.close()

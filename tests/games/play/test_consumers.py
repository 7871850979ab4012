"""The match WebSocket, end to end through the ASGI app, channel layer and database."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from arena.asgi import application
from games.models import Seat, Step
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

TIMEOUT = 10


def _connect(match_id, session_key=None, *, spectate=False):
    headers = [(b"origin", b"http://localhost")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    path = f"/ws/matches/{match_id}/" + ("spectate/" if spectate else "")
    return WebsocketCommunicator(application, path, headers=headers)


class Client:
    """A WebsocketCommunicator that keeps every message it received."""

    def __init__(self, comm):
        self.comm = comm
        self.received = []

    async def connect(self):
        connected, code = await self.comm.connect(timeout=TIMEOUT)
        return connected, code

    async def send(self, msg):
        await self.comm.send_to(text_data=msg if isinstance(msg, str) else json.dumps(msg))

    async def recv(self):
        msg = json.loads(await self.comm.receive_from(timeout=TIMEOUT))
        self.received.append(msg)
        return msg

    async def until(self, pred):
        while True:
            msg = await self.recv()
            if pred(msg):
                return msg

    async def ask(self, msg, reply_type):
        await self.send(msg)
        return await self.until(lambda m: m["type"] == reply_type)

    async def drain(self):
        while not await self.comm.receive_nothing(timeout=0.2):
            await self.recv()

    async def close(self):
        await self.comm.disconnect()


async def open_client(match_id, session_key=None, *, spectate=False):
    client = Client(_connect(match_id, session_key, spectate=spectate))
    connected, _ = await client.connect()
    assert connected
    return client


@sync_to_async
def make_match(**kwargs):
    return factories.match(**kwargs)


@sync_to_async
def step_count(seat):
    return Step.objects.filter(seat=seat).count()


@sync_to_async
def seat_status(seat):
    return Seat.objects.get(pk=seat.pk).status


async def test_resume_sends_a_snapshot_then_only_what_was_missed():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    state = await player.ask({"type": "resume"}, "state")
    assert state["you"] == seat.pk and state["status"] == "running"
    assert state["event_seq"] == 2 and state["reveal"] is None
    resumed = await player.ask({"type": "resume", "after": state["event_seq"]}, "resumed")
    assert resumed["event_seq"] == 2
    again = await player.ask({"type": "resume", "after": 0}, "state")
    assert again["event_seq"] == 2
    await player.close()


async def test_a_test_is_answered_at_once_and_broadcast_with_the_next_seq():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    watcher = await open_client(match.pk, spectate=True)
    result = await player.ask({"type": "test", "input": [3, 4, 5], "id": "m1", "think_ms": 1200}, "result")
    assert result["id"] == "m1" and result["step"]["result"] is True and result["seat"]["tests_left"] == 29
    event = await watcher.until(lambda m: m["type"] == "event")
    # the watcher learns that a test was made, never which (games.play.visibility)
    assert (event["event"], event["seq"], event["seat"]["tests_used"]) == ("progress", 3, 1)
    assert "step" not in event and "score" not in event["seat"]
    assert await step_count(seat) == 1
    await player.close()
    await watcher.close()


async def test_the_movers_events_ride_in_the_reply_and_are_not_broadcast_back_to_it():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    second_tab = await open_client(match.pk, seat.session_key)  # the same seat, another socket
    watcher = await open_client(match.pk, spectate=True)
    result = await player.ask({"type": "test", "input": [3, 4, 5], "id": "m1"}, "result")
    # the step event, as this player may see it (their own step in full), in the reply ...
    (event,) = result["events"]
    assert (event["type"], event["event"], event["seq"]) == ("event", "step", 3)
    assert event["step"]["input"] == [3, 4, 5] and event["step"]["result"] is True
    # ... and not again as a broadcast to the socket that moved
    assert await player.comm.receive_nothing(timeout=0.5)
    # every other socket of the match gets it once, through the channel layer
    for other, name in ((second_tab, "step"), (watcher, "progress")):
        got = await other.until(lambda m: m["type"] == "event")
        assert (got["event"], got["seq"]) == (name, 3)
        assert await other.comm.receive_nothing(timeout=0.3)
    for client in (player, second_tab, watcher):
        await client.close()


async def test_a_move_that_ends_the_match_brings_the_end_in_its_reply():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    result = await player.ask({"type": "guess", "rule": "x + y > z", "id": "g1"}, "result")
    assert [e["event"] for e in result["events"]] == ["step", "match_finished"]
    seqs = [e["seq"] for e in result["events"]]
    assert seqs == sorted(seqs) and seqs[0] == 3
    assert result["events"][1]["reveal"] is not None
    await player.close()


async def test_a_double_sent_move_is_applied_once():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    first = await player.ask({"type": "test", "input": [3, 4, 5], "id": "same"}, "result")
    second = await player.ask({"type": "test", "input": [3, 4, 5], "id": "same"}, "result")
    assert not first["replayed"] and second["replayed"]
    assert first["step"] == second["step"]
    assert await step_count(seat) == 1
    await player.close()


BAD_MESSAGES = [
    ("{not json", "malformed JSON"),
    ("[1, 2, 3]", "must be a JSON object"),
    ({"type": "jump"}, "unknown message type 'jump'"),
    ({"input": [1, 2, 3]}, "unknown message type None"),
    ({"type": "test"}, 'needs "input"'),
    # any JSON value goes to the family's parse_query, which reads a text form too (as the API does)
    ({"type": "test", "input": "1, two, 3"}, "'two' is not a number"),
    ({"type": "test", "input": {"x": 1}}, 'needs "input"'),
    ({"type": "test", "input": [1, "two", 3]}, "y must be a number"),
    ({"type": "test", "input": [1, 2]}, "exactly three numbers"),
    ({"type": "test", "input": [1, True, 3]}, "y must be a number"),
    ({"type": "test", "input": [1e12, 2, 3]}, "out of range"),
    ({"type": "test", "input": [1, 2, 3], "id": 7}, '"id" must be a string'),
    ({"type": "test", "input": [1, 2, 3], "id": "x" * 101}, "at most 100 characters"),
    ({"type": "test", "input": [1, 2, 3], "think_ms": -5}, '"think_ms" must be a whole number'),
    ({"type": "guess", "rule": 42}, 'needs "rule": a string'),
    ({"type": "guess", "rule": "   "}, "non-empty"),
    ({"type": "guess", "rule": "x <"}, "does not parse"),
    ({"type": "guess", "rule": "__import__('os')"}, "does not parse"),
    ({"type": "guess", "rule": "x" * 2000}, "at most 1000 characters"),
    ({"type": "check_rule"}, 'needs "rule"'),
    ({"type": "resume", "after": "yesterday"}, '"after" must be a whole number'),
    ("x" * 20_000, "message too large"),
]


@pytest.mark.parametrize("message,expected", BAD_MESSAGES, ids=[str(i) for i in range(len(BAD_MESSAGES))])
async def test_bad_input_gets_a_clear_error_and_leaves_the_log_unchanged(message, expected):
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    await player.ask({"type": "test", "input": [3, 4, 5], "id": "ok"}, "result")
    await player.drain()
    error = await player.ask(message, "error")
    assert expected in error["message"]
    assert await step_count(seat) == 1
    assert await seat_status(seat) == "playing"
    # the socket stays usable
    assert (await player.ask({"type": "ping"}, "pong"))["type"] == "pong"
    await player.close()


async def test_binary_frames_are_refused():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    await player.comm.send_to(bytes_data=b"\x00\x01")
    error = await player.until(lambda m: m["type"] == "error")
    assert "binary frames are not accepted" in error["message"]
    assert await step_count(seat) == 0
    await player.close()


async def test_over_budget_test_is_refused():
    match, (seat,) = await make_match(max_tests=1)
    player = await open_client(match.pk, seat.session_key)
    await player.ask({"type": "test", "input": [3, 4, 5], "id": "a"}, "result")
    error = await player.ask({"type": "test", "input": [3, 4, 5], "id": "b"}, "error")
    assert "no tests left" in error["message"] and error["id"] == "b"
    assert await step_count(seat) == 1
    await player.close()


async def test_moves_after_the_match_ended_are_refused():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    await player.ask({"type": "guess", "rule": "x > 0", "id": "g"}, "result")
    error = await player.ask({"type": "test", "input": [1, 2, 3], "id": "late"}, "error")
    assert "this match has ended" in error["message"]
    assert await step_count(seat) == 1
    await player.close()


async def test_moves_on_someone_elses_seat_are_refused():
    match, (mine, theirs) = await make_match(seats=2)
    player = await open_client(match.pk, mine.session_key)
    error = await player.ask({"type": "test", "input": [1, 2, 3], "seat": theirs.pk}, "error")
    assert f"seat {theirs.pk} is not yours" in error["message"]
    assert await step_count(mine) == 0 and await step_count(theirs) == 0
    stranger = await open_client(match.pk, await sync_to_async(factories.session_key)())
    error = await stranger.ask({"type": "test", "input": [1, 2, 3]}, "error")
    assert "not playing in this match" in error["message"]
    spectator = await open_client(match.pk, mine.session_key, spectate=True)
    error = await spectator.ask({"type": "guess", "rule": "x > 0"}, "error")
    assert "spectator connection" in error["message"]
    assert await step_count(mine) == 0 and await step_count(theirs) == 0
    for c in (player, stranger, spectator):
        await c.close()


async def test_check_rule_reports_errors_with_a_column_and_writes_nothing():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    bad = await player.ask({"type": "check_rule", "rule": "x < < y"}, "rule_check")
    assert bad["ok"] is False and bad["error"] and bad["column"] >= 1 and bad["rule"] == "x < < y"
    good = await player.ask({"type": "check_rule", "rule": "x<y"}, "rule_check")
    assert good["ok"] is True and good["canonical"] == "x < y"
    assert await step_count(seat) == 0
    await player.close()


async def test_a_player_plays_to_the_reveal():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    watcher = await open_client(match.pk, spectate=True)
    await player.ask({"type": "test", "input": [3, 4, 5], "id": "t"}, "result")
    result = await player.ask({"type": "guess", "rule": "x < y < z", "id": "g"}, "result")
    assert result["match_status"] == "finished"
    reveal = result["reveal"]
    assert reveal["rule"] == factories.HIDDEN_RULE
    (seat_reveal,) = reveal["seats"]
    assert seat_reveal["verdict"]["correct"] is False and seat_reveal["verdict"]["counterexample"]
    assert "points" in seat_reveal["score"]
    finished = await watcher.until(lambda m: m.get("event") == "match_finished")
    assert finished["reveal"]["rule"] == factories.HIDDEN_RULE
    await player.close()
    await watcher.close()


async def test_the_hidden_rule_is_in_no_message_to_a_player_before_the_end():
    match, (seat, rival) = await make_match(seats=2)
    player = await open_client(match.pk, seat.session_key)
    rival_client = await open_client(match.pk, rival.session_key)
    await player.ask({"type": "resume"}, "state")
    await player.ask({"type": "check_rule", "rule": "x + y >"}, "rule_check")
    await player.ask({"type": "check_rule", "rule": "x > y"}, "rule_check")
    for i, triple in enumerate(([3, 4, 5], [1, 1, 5], [0, 0, 0], [10, -2, 7])):
        await player.ask({"type": "test", "input": triple, "id": f"t{i}"}, "result")
    await player.ask({"type": "test", "input": "nonsense"}, "error")
    await player.ask({"type": "guess", "rule": "x >", "id": "bad"}, "error")
    # the rival's moves reach the player only as progress
    await rival_client.ask({"type": "test", "input": [2, 2, 2], "id": "r1"}, "result")
    await player.until(lambda m: m.get("event") == "progress")
    # the player guesses wrong: its seat is done, but the match goes on for the rival
    await player.ask({"type": "guess", "rule": "x > y", "id": "g"}, "result")
    await player.ask({"type": "resume"}, "state")
    await player.drain()
    before_end = list(player.received)
    assert len(before_end) >= 10
    for msg in before_end:
        assert factories.HIDDEN_RULE not in json.dumps(msg), msg
    # and once the match ends, the reveal carries it
    await rival_client.ask({"type": "forfeit", "id": "f"}, "result")
    finished = await player.until(lambda m: m.get("event") == "match_finished")
    assert finished["reveal"]["rule"] == factories.HIDDEN_RULE
    await player.close()
    await rival_client.close()


async def test_an_unknown_match_closes_the_socket():
    client = _connect(999_999)
    connected, code = await client.connect(timeout=TIMEOUT)
    assert not connected and code == 4404


async def test_a_socket_on_an_unknown_path_is_refused_not_an_error():
    comm = WebsocketCommunicator(application, "/ws/nope/", headers=[(b"origin", b"http://localhost")])
    connected, code = await comm.connect(timeout=TIMEOUT)
    assert not connected and code == 4404


async def test_a_lone_surrogate_in_a_message_is_refused_and_nothing_is_written():
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    reply = await player.ask('{"type": "test", "input": [1, 2, 3], "id": "\\ud800"}', "error")
    assert "lone surrogate" in reply["message"]
    assert await step_count(seat) == 0
    await player.close()


async def test_a_person_states_a_hypothesis_with_a_test_and_a_bad_one_is_refused():
    match, (seat,) = await make_match(hypothesis_mode="optional")
    player = await open_client(match.pk, seat.session_key)
    state = await player.ask({"type": "resume"}, "state")
    assert state["hypothesis"] == {"mode": "optional", "format": "rule"}
    result = await player.ask(
        {"type": "test", "input": [1, 2, 3], "hypothesis": "x < y < z", "id": "h1"}, "result"
    )
    assert result["step"]["hypothesis"]["parsed"] is True
    error = await player.ask({"type": "test", "input": [1, 2, 4], "hypothesis": 7, "id": "h2"}, "error")
    assert '"hypothesis" must be text' in error["message"] and error["id"] == "h2"
    assert await step_count(seat) == 1
    await player.close()

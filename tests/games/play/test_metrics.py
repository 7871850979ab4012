"""How full a web process is, and what a scraper reads at /metrics."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from arena.asgi import application
from games.play import metrics
from tests.games.play.test_consumers import TIMEOUT, make_match, open_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.asyncio
async def test_a_full_process_tells_a_newcomer_to_come_back_and_keeps_serving_the_others(settings):
    match, (seat,) = await make_match()
    player = await open_client(match.pk, seat.session_key)
    settings.ARENA_WS_MAX_SOCKETS = metrics._open  # this process is now full
    newcomer = WebsocketCommunicator(
        application, f"/ws/matches/{match.pk}/spectate/", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await newcomer.connect(timeout=TIMEOUT)
    assert connected
    told = json.loads(await newcomer.receive_from(timeout=TIMEOUT))
    assert told == {"type": "full", "message": metrics.FULL_MESSAGE, "retry_after": 60}
    closed = await newcomer.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4503}
    # the player already in keeps playing
    reply = await player.ask({"type": "test", "input": [1, 2, 3], "id": "m1"}, "result")
    assert reply["step"]["seq"] == 1
    settings.ARENA_WS_MAX_SOCKETS = 4000
    again = await open_client(match.pk, spectate=True)  # room again: let in
    await again.close()
    await player.close()


@pytest.mark.asyncio
async def test_too_many_queued_moves_also_make_a_process_full(settings):
    settings.ARENA_WS_MAX_QUEUED_MOVES = 0
    assert metrics.full_reason() == "queue"
    settings.ARENA_WS_MAX_QUEUED_MOVES = 400
    assert metrics.full_reason() is None


def scrape(client: Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_are_for_staff_and_count_moves_and_sockets():
    from games.play import services
    from tests import factories

    assert Client().get("/metrics").status_code == 403
    user = User.objects.create_user("player", password="x")
    stranger = Client()
    stranger.force_login(user)
    assert stranger.get("/metrics").status_code == 403

    staff = Client()
    staff.force_login(User.objects.create_user("ops", password="x", is_staff=True))
    before = scrape(staff)
    match, (seat,) = factories.match()
    services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="a")
    services.step_submit(
        seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="a"
    )  # replay
    after = scrape(staff)

    def moves(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('arena_moves_total{kind="test"}'):
                return float(line.split()[-1])
        return 0.0

    assert moves(after) - moves(before) == 1  # a replayed move is not a new one
    for name in (
        "arena_open_sockets",
        "arena_queued_moves",
        "arena_socket_move_seconds_bucket",
        "arena_move_group_moves_bucket",
    ):
        assert name in after
    assert "arena_model_turns_waiting" in after  # the broker's queue, read at scrape time


@pytest.mark.asyncio
async def test_a_socket_move_is_timed_and_its_socket_counted(monkeypatch):
    monkeypatch.setattr("games.play.consumers._grouped", lambda: True)  # as on SQLite
    match, (seat,) = await make_match()
    sockets = metrics._open
    player = await open_client(match.pk, seat.session_key)
    assert metrics._open == sockets + 1
    count = metrics.MOVE_SECONDS._sum.get() if hasattr(metrics.MOVE_SECONDS, "_sum") else None
    grouped = metrics.MOVE_GROUP_SIZE._sum.get() if hasattr(metrics.MOVE_GROUP_SIZE, "_sum") else None
    await player.ask({"type": "test", "input": [1, 2, 3], "id": "m1"}, "result")
    assert metrics._queued == 0
    if count is not None:
        assert metrics.MOVE_SECONDS._sum.get() > count
    if grouped is not None:
        assert metrics.MOVE_GROUP_SIZE._sum.get() == grouped + 1  # a move alone: a group of one
    await player.close()
    await sync_to_async(lambda: None)()
    assert metrics._open == sockets

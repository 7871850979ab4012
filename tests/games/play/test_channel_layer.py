"""The channel layer (games.play.channel_layer) against the real Redis: two layer objects with the
same settings stand for two processes sharing it."""

import asyncio

import pytest
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

from games.play import channel_layer

pytestmark = pytest.mark.asyncio

TIMEOUT = 5


def make_layer(**overrides):
    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], **overrides}
    return channel_layer.LocalFirstChannelLayer(**config)


async def member(layer, group):
    name = await layer.new_channel()
    await layer.group_add(group, name)
    return name


async def nothing_for(layer, name, wait=0.3):
    try:
        await asyncio.wait_for(layer.receive(name), wait)
    except asyncio.TimeoutError:
        return True
    return False


async def test_a_group_message_reaches_every_member_once_in_this_process_and_the_other():
    here, there = make_layer(), make_layer()
    try:
        group = "g-once"
        a1, a2 = await member(here, group), await member(here, group)
        b1 = await member(there, group)
        for n in range(3):
            await here.group_send(group, {"type": "x.y", "n": n})
        for layer, name in ((here, a1), (here, a2), (there, b1)):
            got = [await asyncio.wait_for(layer.receive(name), TIMEOUT) for _ in range(3)]
            assert [m["n"] for m in got] == [0, 1, 2]  # in send order
            assert await nothing_for(layer, name)  # the copy Redis brings back to the sender is dropped
    finally:
        await here.flush()
        await there.flush()


async def test_skip_leaves_out_one_local_channel_only():
    here, there = make_layer(), make_layer()
    try:
        group = "g-skip"
        mover, other = await member(here, group), await member(here, group)
        remote = await member(there, group)
        await channel_layer.group_send(here, group, {"type": "x.y", "v": 1}, skip=mover)
        assert (await asyncio.wait_for(here.receive(other), TIMEOUT))["v"] == 1
        assert (await asyncio.wait_for(there.receive(remote), TIMEOUT))["v"] == 1
        assert await nothing_for(here, mover)
    finally:
        await here.flush()
        await there.flush()


async def test_a_message_from_another_process_is_delivered_and_a_direct_send_too():
    here, there = make_layer(), make_layer()
    try:
        group = "g-remote"
        a = await member(here, group)
        await there.group_send(group, {"type": "x.y", "from": "there"})
        assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["from"] == "there"
        await there.send(a, {"type": "x.y", "direct": True})  # a channel of the other process
        assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["direct"] is True
        await here.send(a, {"type": "x.y", "local": True})  # its own: handed over in memory
        assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["local"] is True
        assert await nothing_for(here, a)
    finally:
        await here.flush()
        await there.flush()


async def test_many_sends_at_once_are_all_published():
    here, there = make_layer(), make_layer()
    try:
        group = "g-burst"
        b = await member(there, group)
        await asyncio.gather(*(here.group_send(group, {"type": "x.y", "n": n}) for n in range(200)))
        got = sorted([(await asyncio.wait_for(there.receive(b), TIMEOUT))["n"] for _ in range(200)])
        assert got == list(range(200))
    finally:
        await here.flush()
        await there.flush()


async def test_a_redis_that_cannot_be_reached_fails_the_send():
    broken = make_layer(hosts=["redis://127.0.0.1:1/0"])  # nothing listens on port 1
    try:
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(broken.group_send("g-down", {"type": "x.y"}), 30)
    finally:
        await broken.flush()


async def test_a_layer_without_skip_gives_everyone_the_message():
    from channels.layers import InMemoryChannelLayer

    layer = InMemoryChannelLayer()
    a = await layer.new_channel()
    await layer.group_add("g", a)
    await channel_layer.group_send(layer, "g", {"type": "x.y"}, skip=a)
    assert (await asyncio.wait_for(layer.receive(a), TIMEOUT))["type"] == "x.y"

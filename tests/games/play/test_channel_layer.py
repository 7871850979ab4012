"""The channel layer (games.play.channel_layer) against the real Redis: two layer objects with the
same settings stand for two processes sharing it."""

import asyncio
import functools

import pytest
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

from games.play import channel_layer

pytestmark = pytest.mark.asyncio

TIMEOUT = 5


def make_layer(**overrides):
    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], **overrides}
    return channel_layer.LocalFirstChannelLayer(**config)


@pytest.fixture
async def two():
    """Two layers on the same Redis: two processes. Flushed (connections closed) afterwards."""
    layers = make_layer(), make_layer()
    yield layers
    for layer in layers:
        await layer.flush()


async def member(layer, group):
    name = await layer.new_channel()
    await layer.group_add(group, name)
    return name


async def eventually(predicate, timeout=TIMEOUT):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not within the timeout")
        await asyncio.sleep(0.01)


async def known_to_each_other(group, *layers):
    """Wait until each layer knows the others have members of ``group`` (hello / here)."""
    others = len(layers) - 1

    def knows(loop_layer):
        return len(loop_layer.elsewhere.get(loop_layer._get_group_channel_name(group), ())) == others

    for layer in layers:
        await eventually(functools.partial(knows, layer._get_layer()))


async def nothing_for(layer, name, wait=0.3):
    try:
        await asyncio.wait_for(layer.receive(name), wait)
    except TimeoutError:
        return True
    return False


async def test_a_group_message_reaches_every_member_once_in_this_process_and_the_other(two):
    here, there = two
    group = "g-once"
    a1, a2 = await member(here, group), await member(here, group)
    b1 = await member(there, group)
    await known_to_each_other(group, here, there)
    for n in range(3):
        await here.group_send(group, {"type": "x.y", "n": n})
    for layer, name in ((here, a1), (here, a2), (there, b1)):
        got = [await asyncio.wait_for(layer.receive(name), TIMEOUT) for _ in range(3)]
        assert [m["n"] for m in got] == [0, 1, 2]  # in send order
        assert await nothing_for(layer, name)  # the copy Redis brings back to the sender is dropped


async def test_skip_leaves_out_one_local_channel_only(two):
    here, there = two
    group = "g-skip"
    mover, other = await member(here, group), await member(here, group)
    remote = await member(there, group)
    await known_to_each_other(group, here, there)
    await channel_layer.group_send(here, group, {"type": "x.y", "v": 1}, skip=mover)
    assert (await asyncio.wait_for(here.receive(other), TIMEOUT))["v"] == 1
    assert (await asyncio.wait_for(there.receive(remote), TIMEOUT))["v"] == 1
    assert await nothing_for(here, mover)


async def test_a_message_from_another_process_is_delivered_and_a_direct_send_too(two):
    here, there = two
    group = "g-remote"
    a = await member(here, group)
    await there.group_send(group, {"type": "x.y", "from": "there"})
    assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["from"] == "there"
    await there.send(a, {"type": "x.y", "direct": True})  # a channel of the other process
    assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["direct"] is True
    await here.send(a, {"type": "x.y", "local": True})  # its own: handed over in memory
    assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["local"] is True
    assert await nothing_for(here, a)


async def test_many_sends_at_once_are_all_published(two):
    here, there = two
    group = "g-burst"
    b = await member(there, group)
    await asyncio.gather(*(here.group_send(group, {"type": "x.y", "n": n}) for n in range(200)))
    got = sorted([(await asyncio.wait_for(there.receive(b), TIMEOUT))["n"] for _ in range(200)])
    assert got == list(range(200))


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


async def test_a_group_with_no_member_elsewhere_is_not_published_until_another_process_joins(two):
    import redis.asyncio as aioredis

    here, there = two
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    spy = aioredis.from_url(host) if isinstance(host, str) else aioredis.Redis(**host)
    pubsub = spy.pubsub()
    try:
        group = "g-alone"
        a = await member(here, group)
        loop_here = here._get_layer()
        channel = loop_here._get_group_channel_name(group)
        await pubsub.subscribe(channel)
        await pubsub.get_message(timeout=1)  # the subscribe confirmation

        async def published(wait=0.3):
            got = []
            while (m := await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)) is not None:
                got.append(m["data"])
            return got

        await here.group_send(group, {"type": "x.y", "n": 1})
        assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["n"] == 1
        assert await published() == []  # nobody else listens: Redis never saw it
        await channel_layer.group_send(here, group, {"type": "x.y", "n": 2}, sure=True)
        assert len(await published()) == 1  # unless the sender asks
        assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["n"] == 2

        b = await member(there, group)  # another process joins: it says hello, this one answers
        await eventually(lambda: loop_here.elsewhere.get(channel))
        loop_there = there._get_layer()
        await eventually(lambda: loop_there.elsewhere.get(channel))
        await here.group_send(group, {"type": "x.y", "n": 3})
        assert (await asyncio.wait_for(there.receive(b), TIMEOUT))["n"] == 3
        assert (await asyncio.wait_for(here.receive(a), TIMEOUT))["n"] == 3
        await published()

        await there.group_discard(group, b)  # and leaves: bye
        await eventually(lambda: not loop_here.elsewhere.get(channel))
        await published()
        await here.group_send(group, {"type": "x.y", "n": 4})
        assert await published() == []
    finally:
        await pubsub.aclose()
        await spy.aclose()


async def test_a_sender_with_no_member_of_the_group_always_publishes(two):
    worker, web = two  # a Celery worker publishing a model's move
    a = await member(web, "g-worker")
    await worker.group_send("g-worker", {"type": "x.y", "from": "worker"})
    assert (await asyncio.wait_for(web.receive(a), TIMEOUT))["from"] == "worker"

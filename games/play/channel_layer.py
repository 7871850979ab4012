"""The channel layer: channels-redis's pub/sub layer, handing this process's own messages over
in memory.

``channels_redis.pubsub.RedisPubSubChannelLayer`` sends every group message to Redis, one
``PUBLISH`` at a time under a lock, and a process hears its own message back from Redis before
it gives it to its own sockets. On the move path (issue 21) that round trip cost a fifth of a
move's server CPU, and the lock queued every publish of the process behind the one before it.
This layer keeps the same wire, names and subscriptions, and changes three things:

* **Local first.** A group message is put straight into the queues of this process's members of
  the group. Every message on Redis starts with the sending layer's origin (``ORIGIN_BYTES``
  random bytes, new per event loop); a process drops the messages that come back with its own.
* **Published only where someone listens.** A process that adds the first member of a group says
  so on the group's Redis channel (``hello``); the processes already there answer (``here``), and
  the last member's leaving says ``bye``. A group message goes to Redis only when another process
  has members of the group, or this one has none (a worker publishing a model's move), or the
  sender asks for it (``sure=True``: the end of a match). A process that joins while a message
  is on its way may miss it; its sockets took a snapshot when they connected, and a client that
  sees a gap in the event seqs resyncs, as with any lost message.
* **Skip one.** ``group_send(group, message, skip=channel)`` leaves out one local channel: a mover
  whose own event already went back in the reply to its move
  (``games.play.consumers.MatchConsumer._move``).
* **Batched publishing.** The publishes of one loop turn go to Redis as one pipeline
  (``transaction=False``), without the lock; each ``group_send`` still waits until Redis has
  taken its message, and a Redis failure reaches that caller as before.

Ordering: per group and per sending process, messages keep their send order (local queues and
one pipeline at a time). Across senders there was never an order; events carry the match's
``seq`` and a client that sees a gap resyncs (``games.play.events``).

Every process that shares the Redis channels must use this layer (settings do), since the origin
prefix is part of the message on Redis. ``ARENA_WS_LOCAL_FANOUT=0`` in the settings selects the
plain channels-redis layer again.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

logger = logging.getLogger(__name__)

ORIGIN_BYTES = 8
# A control message (never a serialized message: msgpack maps start with 0x8_ or 0xde/0xdf).
CONTROL = b"\x00"
HELLO, HERE, BYE = CONTROL + b"hello", CONTROL + b"here", CONTROL + b"bye"


class _Shard(RedisSingleShardConnection):
    """One Redis connection set: drops messages with this layer's origin, publishes in batches."""

    def __init__(self, host: Any, channel_layer: LocalFirstLoopLayer) -> None:
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._pump: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()

    def _receive_message(self, message: Any) -> None:
        if message is None:
            return
        data = message["data"]
        layer = self.channel_layer
        if not isinstance(data, bytes) or data[:ORIGIN_BYTES] == layer.origin:
            return  # ours: delivered in memory when it was sent
        origin, payload = data[:ORIGIN_BYTES], data[ORIGIN_BYTES:]
        if payload[:1] == CONTROL:
            name = message["channel"]
            layer.heard(name.decode() if isinstance(name, bytes) else name, origin, payload)
            return
        super()._receive_message({**message, "data": payload})

    async def publish(self, channel: str, message: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, self.channel_layer.origin + message, future))
        self._wakeup.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._publish_batches())
        await future

    async def _publish_batches(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            try:
                self._ensure_redis()
                pipe = self._redis.pipeline(transaction=False)
                for channel, data, _ in batch:
                    pipe.publish(channel, data)
                await pipe.execute()
            except Exception as exc:  # every waiting sender hears of it, as with a lone PUBLISH
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def flush(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        for _, _, future in self._outbox:
            if not future.done():
                future.cancel()
        self._outbox = []
        await super().flush()


class LocalFirstLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.origin = os.urandom(ORIGIN_BYTES)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        # group channel -> origins of the other processes with members in it
        self.elsewhere: dict[str, set[bytes]] = {}
        self._answers: set[asyncio.Task[None]] = set()

    def heard(self, group_channel: str, origin: bytes, control: bytes) -> None:
        """A control message from another process on a group's channel."""
        if control == BYE:
            self.elsewhere.get(group_channel, set()).discard(origin)
            return
        if control not in (HELLO, HERE):
            return
        self.elsewhere.setdefault(group_channel, set()).add(origin)
        if control == HELLO and group_channel in self.groups:  # tell the newcomer we are here
            task = asyncio.ensure_future(self._control(group_channel, HERE))
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)

    async def _control(self, group_channel: str, control: bytes) -> None:
        try:
            await self._get_shard(group_channel).publish(group_channel, control)
        except Exception:  # Redis is away: the others keep publishing to everyone meanwhile
            logger.warning("channel layer: could not say %r on %s", control, group_channel, exc_info=True)

    async def group_add(self, group: str, channel: str) -> None:
        group_channel = self._get_group_channel_name(group)
        first = group_channel not in self.groups
        await super().group_add(group, channel)
        if first:
            await self._control(group_channel, HELLO)

    async def group_discard(self, group: str, channel: str) -> None:
        group_channel = self._get_group_channel_name(group)
        had = group_channel in self.groups
        await super().group_discard(group, channel)
        if had and group_channel not in self.groups:
            self.elsewhere.pop(group_channel, None)
            await self._control(group_channel, BYE)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        data = self.channel_layer.serialize(message)
        queue = self.channels.get(channel)
        if queue is not None:  # a channel of this process: no need to go through Redis
            queue.put_nowait(data)
            return
        await self._get_shard(channel).publish(channel, data)

    async def group_send(
        self, group: str, message: dict[str, Any], skip: str | None = None, sure: bool = False
    ) -> None:
        group_channel = self._get_group_channel_name(group)
        data = None  # serialised once, and only when someone is to get it (often nobody: a lone player)
        members = self.groups.get(group_channel)
        for name in members or ():
            queue = self.channels.get(name)
            if queue is not None and name != skip:
                if data is None:
                    data = self.channel_layer.serialize(message)
                queue.put_nowait(data)
        if sure or not members or self.elsewhere.get(group_channel):
            if data is None:
                data = self.channel_layer.serialize(message)
            await self._get_shard(group_channel).publish(group_channel, data)


class LocalFirstChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with in-memory delivery to this
    process's own channels (see the module's docstring)."""

    supports_skip = True

    def _get_layer(self) -> LocalFirstLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]  # type: ignore[no-any-return]
        except KeyError:
            layer = LocalFirstLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer


async def group_send(
    layer: Any, group: str, message: dict[str, Any], *, skip: str | None = None, sure: bool = False
) -> None:
    """Send ``message`` to ``group``, leaving out the channel ``skip`` where the layer can (this
    one; elsewhere everyone gets it, ``skip`` too). ``sure``: publish it to Redis even when no
    other process is known to have members of the group (for a message nobody may miss)."""
    if getattr(layer, "supports_skip", False):
        await layer.group_send(group, message, skip=skip, sure=sure)
    else:
        await layer.group_send(group, message)

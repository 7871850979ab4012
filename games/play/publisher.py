"""Publishing to the channel layer from synchronous code (Celery workers, sync views, the
services' on_commit hooks) through one long-lived event loop per process.

``async_to_sync(layer.group_send)`` starts a fresh loop on a helper thread for every call and
the channel layer's Redis connections belong to that loop, so each publish reconnects (several
milliseconds). Here one daemon thread keeps a loop and its connections for the life of the
process; a publish is a hand-off to that loop and a wait for its completion.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
TIMEOUT_S = 5.0


def _ensure_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        # After a fork (Celery's prefork pool) the parent's loop thread does not exist here.
        if _loop is None or _loop_pid != os.getpid() or not _loop.is_running():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name="arena-publisher", daemon=True).start()
            ready.wait(TIMEOUT_S)
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def group_send(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` and wait until the layer has taken it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # called from inside an event loop thread: never block it
        raise RuntimeError("publisher.group_send is for synchronous code; await layer.group_send instead")
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _ensure_loop())
    future.result(timeout=TIMEOUT_S)

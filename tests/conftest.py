"""Test-wide setup.

With nothing set, tests use SQLite and an embedded redis-server started here on a private
socket; with ARENA_DATABASE_URL / ARENA_REDIS_URL set they use that PostgreSQL / Redis.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# from a thread with a loop unless told it is safe (it is: the test drives the loop).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def no_persistent_db_connections():
    """Consumers and the ASGI server thread open their own connections; persistent ones would
    outlive the tests and block dropping the PostgreSQL test database."""
    from django.db import connections

    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0
    yield


@pytest.fixture(scope="session", autouse=True)
def channel_layer_redis():
    from channels.layers import channel_layers
    from django.conf import settings

    from arena import embedded

    proc = None
    tmp = None
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    # A private prefix keeps concurrent test runs on a shared Redis from hearing each other.
    config["prefix"] = f"arena-test-{os.getpid()}"
    if not settings.REDIS_URL:
        tmp = tempfile.mkdtemp(prefix="arena-t-", dir="/tmp")
        sock = Path(tmp) / "redis.sock"
        proc = embedded.start_redis(sock)
        config["hosts"] = [f"unix://{sock}"]
        settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = f"redis+socket://{sock}"
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
    if proc is not None:
        embedded.stop(proc)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's chromium (no `playwright install`), headless as root."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "headless": True,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session, which the asyncio tests cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)

"""Test-wide setup.

With nothing set, tests use SQLite and an embedded redis-server started here on a private
socket; with ARENA_DATABASE_URL / ARENA_REDIS_URL set they use that PostgreSQL / Redis.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import hypothesis
import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# from a thread with a loop unless told it is safe (it is: the test drives the loop).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parent.parent

# Hypothesis fails an example that takes over 200 ms by default: a wall-clock assertion that a
# loaded machine trips. Tests bound work by counting it instead, and pytest-timeout guards hangs.
hypothesis.settings.register_profile("arena", deadline=None)
hypothesis.settings.load_profile("arena")


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


# -- the leak scan: no prompt sent to a model names the hidden rule ------------------------------

PROMPTS_SCANNED = {"calls": 0, "messages": 0}


@pytest.fixture(autouse=True)
def no_hidden_rule_in_any_prompt(request):
    """After every database test, read every ModelCall the test wrote and check that no
    message we sent (system and user turns; the model's own replies are its words) contains
    the hidden rule of that match. Calls are only made while a match runs."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = bool(marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    request.getfixturevalue("transactional_db" if transactional else "db")  # torn down after this check
    yield
    leaks = leaked_calls()
    assert not leaks, f"hidden rule sent to a model: {leaks}"


def leaked_calls() -> list[tuple[int, str]]:
    """(call id, rule) for every logged prompt message that contains its match's hidden rule."""
    from games.models import ModelCall

    leaks = []
    for call in ModelCall.objects.select_related("seat__match__instance"):
        rule = call.seat.match.instance.hidden.get("rule", "")
        PROMPTS_SCANNED["calls"] += 1
        for message in call.messages:
            if message.get("role") == "assistant":
                continue
            PROMPTS_SCANNED["messages"] += 1
            if rule and rule in message.get("content", ""):
                leaks.append((call.pk, rule))
    return leaks


def pytest_terminal_summary(terminalreporter):
    if PROMPTS_SCANNED["calls"]:
        terminalreporter.write_line(
            f"leak scan: {PROMPTS_SCANNED['messages']} prompt messages in {PROMPTS_SCANNED['calls']} model calls "
            "checked; none contained its match's hidden rule"
        )

"""What a scraper may read of the live arena, in Prometheus text format (``/metrics``, staff
only), and how full this process is.

Counted here: moves written (every writer: sockets, the agent API, model turns), the time a
socket move takes from frame to reply, how many socket moves share a transaction, open sockets, socket moves waiting for a database
thread, and model turns waiting in the broker. Under ``manage.py up`` every web and worker
process writes its figures to ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them, so a
scrape of any process sees the whole machine; elsewhere each process reports its own.

The same open-socket and queued-move counts (per process) decide when this process is full:
past ``ARENA_WS_MAX_SOCKETS`` open sockets or ``ARENA_WS_MAX_QUEUED_MOVES`` moves waiting, a
new connection is told to come back in a minute instead of slowing everyone down.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

MOVES = Counter("arena_moves", "Moves written to the step log (every writer)", ["kind"])
MOVE_SECONDS = Histogram(
    "arena_socket_move_seconds",
    "A socket move from its frame to its reply",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OPEN_SOCKETS = Gauge("arena_open_sockets", "Open match sockets", multiprocess_mode="livesum")
QUEUED_MOVES = Gauge(
    "arena_queued_moves", "Socket moves waiting for a database thread", multiprocess_mode="livesum"
)
MOVE_GROUP_SIZE = Histogram(
    "arena_move_group_moves",
    "Socket moves written in one transaction (games.play.movegroups; 1: a move alone)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
FULL_REFUSALS = Counter("arena_full_refusals", "Connections told the arena is full", ["reason"])

FULL_MESSAGE = "the arena is full right now; try again in a minute"
FULL_RETRY_AFTER_S = 60

# This process's own counts, for the "full" decision (the gauges may sum several processes).
_open = 0
_queued = 0


def socket_opened() -> None:
    global _open
    _open += 1
    OPEN_SOCKETS.inc()


def socket_closed() -> None:
    global _open
    _open -= 1
    OPEN_SOCKETS.dec()


def move_queued() -> None:
    global _queued
    _queued += 1
    QUEUED_MOVES.inc()


def move_done(seconds: float) -> None:
    global _queued
    _queued -= 1
    QUEUED_MOVES.dec()
    MOVE_SECONDS.observe(seconds)


def full_reason() -> str | None:
    """Why this process takes no new socket now, or None."""
    if _open >= settings.ARENA_WS_MAX_SOCKETS:
        return "sockets"
    if _queued >= settings.ARENA_WS_MAX_QUEUED_MOVES:
        return "queue"
    return None


class _ModelTurnsWaiting:
    """Model turns queued in the broker, read at scrape time."""

    def collect(self) -> Any:
        waiting = GaugeMetricFamily("arena_model_turns_waiting", "Model turns queued in the broker")
        try:
            from celery import current_app

            with current_app.connection_for_read() as conn:
                client = conn.default_channel.client
                waiting.add_metric([], float(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)))
        except Exception:  # the broker is down or not Redis: say nothing rather than fail the scrape
            logger.info("metrics: could not read the broker's queue length", exc_info=True)
            return
        yield waiting


def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for metric in (MOVES, MOVE_SECONDS, MOVE_GROUP_SIZE, OPEN_SOCKETS, QUEUED_MOVES, FULL_REFUSALS):
            registry.register(metric)
    registry.register(_ModelTurnsWaiting())
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The figures in Prometheus text format; staff only (a scraper logs in with a staff
    account's session, or scrapes each process from inside the network)."""
    if not (request.user.is_authenticated and request.user.is_staff):
        return HttpResponse("metrics are for staff; log in as staff\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)

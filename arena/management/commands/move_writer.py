"""``manage.py move_writer [--socket PATH]``: write the WebSocket moves of every web process that
has ``ARENA_WS_WRITER`` set to the same path (``games.play.writer``)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from arena import embedded, gctune
from games.play import writer


def default_socket() -> Path:
    """Where ``up`` puts the writer's socket: in the data directory (or under /tmp where that
    path is too long for a Unix socket)."""
    return embedded.socket_path_for(Path(settings.DATA_DIR), "move-writer.sock")


class Command(BaseCommand):
    help = "Write the moves of the web processes that send them here (ARENA_WS_WRITER)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--socket", default="", help="the Unix socket to listen on (default: in ARENA_DATA_DIR)"
        )

    def handle(self, *args: Any, socket: str, **options: Any) -> None:
        path = Path(socket) if socket else default_socket()
        path.parent.mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        gctune.settle()  # start-up is done (arena/gctune.py)
        self.stdout.write(f"move writer on unix://{path}")
        self.stdout.flush()
        writer.serve(path, stop=stop)

"""Progress for long management commands (export, bench): one helper, two renderings.

On a terminal it is a live ``rich`` bar with rate and ETA. Anywhere else (a log file, a pipe,
a test's StringIO) it writes plain lines, at most one every ``every_s`` seconds plus a final one,
and never a carriage return: a redraw loop written to a log file leaves thousands of lines.

It lives in ``games`` because the export command needs it and games may not import arena;
arena's bench command imports it from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

from django.core.management.base import OutputWrapper
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

Clock = Callable[[], float]

PLAIN_EVERY_S = 10.0


def _raw_stream(stream: IO[str] | OutputWrapper) -> IO[str]:
    # Django's OutputWrapper appends a newline to every write and styles stderr; the bar needs
    # the stream underneath.
    if isinstance(stream, OutputWrapper):
        return stream._out  # type: ignore[no-any-return]
    return stream


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def format_duration(seconds: float | None) -> str:
    """``H:MM:SS``, as rich shows it; ``?`` when unknown."""
    if seconds is None:
        return "?"
    whole = max(int(round(seconds)), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        shown = "?" if speed is None else f"{speed:,.2f}"
        return Text(f"{shown} {self.unit}/s", style="progress.data.speed", no_wrap=True)


class Progress:
    """Progress of ``total`` units of work written to ``stream``.

    ``update(completed)`` reports how many are finished (``initial`` of them were finished before
    this run and do not count towards the rate); ``close()`` ends the display with a final line.
    Use it as a context manager. ``clock`` is injectable so tests need no sleeps.
    """

    def __init__(
        self,
        stream: IO[str] | OutputWrapper,
        *,
        label: str,
        total: int | None = None,
        initial: int = 0,
        unit: str = "matches",
        note: str = "",
        every_s: float = PLAIN_EVERY_S,
        clock: Clock = time.monotonic,
        terminal: bool | None = None,
    ) -> None:
        self.stream = _raw_stream(stream)
        self.label = label
        self.total = total
        self.initial = initial
        self.completed = initial
        self.unit = unit
        self.note = note
        self.every_s = every_s
        self.clock = clock
        self.terminal = _is_terminal(self.stream) if terminal is None else terminal
        self.started = clock()
        self._last_line = self.started
        self._last_text = ""
        self._closed = False
        self._bar: RichProgress | None = None
        self._task_id: Any = None
        if self.terminal:
            console = Console(file=self.stream, force_terminal=True, force_interactive=True)
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn(unit),
                TaskProgressColumn(),
                _RateColumn(unit),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=console,
                auto_refresh=False,  # redrawn on each update: no thread, and the clock stays injectable
                redirect_stdout=False,
                redirect_stderr=False,
                get_time=clock,
            )
            self._task_id = self._bar.add_task(label, total=total, completed=initial, note=note)
            self._bar.start()

    # -- reporting -----------------------------------------------------------------------------------

    def update(self, completed: int, *, total: int | None = None, note: str | None = None) -> None:
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        self.completed = completed
        if self._bar is not None:
            self._bar.update(self._task_id, completed=completed, total=self.total, note=self.note)
            self._bar.refresh()
            return
        now = self.clock()
        if now - self._last_line >= self.every_s:
            self._last_line = now
            self._write_line(now)

    def advance(self, by: int = 1) -> None:
        """``by`` more units finished (0 is fine: it lets a plain-line report come due)."""
        self.update(self.completed + by)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.refresh()
            self._bar.stop()
        elif self.total is not None or self.completed:  # an export that found nothing stays quiet
            self._write_line(self.clock())

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- figures -------------------------------------------------------------------------------------

    def rate(self, now: float) -> float | None:
        """Units finished per second in this run (work finished before it is not counted)."""
        elapsed = now - self.started
        if elapsed <= 0:
            return None
        return (self.completed - self.initial) / elapsed

    def eta(self, now: float) -> float | None:
        if self.total is None:
            return None
        left = max(self.total - self.completed, 0)
        if left == 0:
            return 0.0
        rate = self.rate(now)
        return left / rate if rate else None

    def line(self, now: float) -> str:
        total = "?" if self.total is None else str(self.total)
        percent = f" {self.completed / self.total:4.0%}" if self.total else ""
        rate = self.rate(now)
        shown_rate = "?" if rate is None else f"{rate:,.2f}"
        parts = [
            f"{self.label}: {self.completed}/{total} {self.unit}{percent}",
            f"{shown_rate} {self.unit}/s",
            f"ETA {format_duration(self.eta(now))}",
            f"elapsed {format_duration(now - self.started)}",
        ]
        if self.note:
            parts.append(self.note)
        return "  ".join(parts)

    def _write_line(self, now: float) -> None:
        text = self.line(now)
        if text == self._last_text:  # the final line would repeat the last periodic one
            return
        self._last_text = text
        self.stream.write(text + "\n")
        self.stream.flush()

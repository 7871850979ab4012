"""games.research.progress: a live bar on a terminal, a few plain lines anywhere else (no sleeps: a fake clock)."""

from __future__ import annotations

import io
import math

from django.core.management.base import OutputWrapper
from hypothesis import given
from hypothesis import strategies as st

from games.research.progress import Progress, format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TerminalLike(io.StringIO):
    def isatty(self) -> bool:
        return True


@given(
    total=st.integers(min_value=0, max_value=500),
    gaps=st.lists(st.floats(min_value=0, max_value=45, allow_nan=False), max_size=300),
)
def test_a_log_gets_at_most_one_line_per_ten_seconds_and_a_last_one(total: int, gaps: list[float]) -> None:
    clock, out = FakeClock(), io.StringIO()
    with Progress(out, label="bench", total=total, clock=clock) as progress:
        for done, gap in enumerate(gaps, start=1):
            clock.now += gap
            progress.update(min(done, total))
    duration = sum(gaps)
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert 1 <= len(lines) <= math.ceil(duration / 10) + 2
    assert lines[-1].startswith(f"bench: {min(len(gaps), total)}/{total} matches")


def test_a_plain_line_says_rate_eta_and_what_was_skipped() -> None:
    clock, out = FakeClock(), io.StringIO()
    progress = Progress(out, label="bench", total=40, initial=10, clock=clock, note="(10 skipped)")
    clock.now += 10
    progress.update(15)  # 5 played in 10 s: 0.5/s, 25 left
    assert out.getvalue() == (
        "bench: 15/40 matches  38%  0.50 matches/s  ETA 0:00:50  elapsed 0:00:10  (10 skipped)\n"
    )
    clock.now += 5
    progress.update(16)  # not due yet: quiet
    assert out.getvalue().count("\n") == 1
    progress.close()
    assert (
        out.getvalue().splitlines()[-1].startswith("bench: 16/40 matches  40%  0.40 matches/s  ETA 0:01:00")
    )


def test_a_django_command_stream_gets_whole_lines() -> None:
    clock, raw = FakeClock(), io.StringIO()
    with Progress(OutputWrapper(raw), label="export csv", clock=clock) as progress:
        clock.now += 12
        progress.update(3, total=4, note="120 steps")
        clock.now += 1
        progress.update(4, total=4, note="150 steps")
    assert raw.getvalue().splitlines() == [
        "export csv: 3/4 matches  75%  0.25 matches/s  ETA 0:00:04  elapsed 0:00:12  120 steps",
        "export csv: 4/4 matches 100%  0.31 matches/s  ETA 0:00:00  elapsed 0:00:13  150 steps",
    ]


def test_nothing_found_writes_nothing() -> None:
    out = io.StringIO()
    Progress(out, label="export csv", clock=FakeClock()).close()
    assert out.getvalue() == ""


def test_a_terminal_gets_a_live_bar_with_rate_and_eta() -> None:
    clock, out = FakeClock(), TerminalLike()
    with Progress(out, label="bench", total=40, clock=clock) as progress:
        for done in range(1, 11):
            clock.now += 2
            progress.update(done)  # 0.5 matches/s, 30 left: one minute
        screen = out.getvalue()
        assert "\r" in screen  # redrawn in place
        assert "━" in screen  # rich's bar
        last = screen.rsplit("\r", 1)[-1]
        assert "10/40" in last and "25%" in last
        assert "0.50 matches/s" in last
        assert "ETA" in last and "0:01:00" in last


def test_durations_read_like_a_clock() -> None:
    assert [format_duration(s) for s in (None, 0, 59.4, 61, 3600 * 3 + 62)] == [
        "?",
        "0:00:00",
        "0:00:59",
        "0:01:01",
        "3:01:02",
    ]

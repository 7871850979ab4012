"""``tests/bench/bench_local_model.py`` stopped by a signal: it prints its JSON line over the games
so far, marked partial, and exits non-zero. Played against the loopback fake (``--url``), so the
test needs no llama.cpp."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.workers.fake_model import FakeModelServer, Reply
from tests.workers.worker import REPO

TEST = '{"action": "test", "input": [1, 2, 3]}'
BENCH = REPO / "tests" / "bench" / "bench_local_model.py"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_prints_the_summary_of_the_games_so_far(fake: FakeModelServer, sig: signal.Signals) -> None:
    fake.responder = lambda path, body: Reply(content=TEST, delay=0.2)
    bench = subprocess.Popen(
        [
            sys.executable,
            str(BENCH),
            *("--url", fake.base_url, "--families", "wason", "--seeds", "3", "--modes", "structured"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240  # a hang guard: django set-up and migrate come first
        while len(fake.requests) < 3:
            assert bench.poll() is None, bench.communicate()
            assert time.monotonic() < deadline, "the bench sent no model calls"
            time.sleep(0.2)
        sent = len(fake.requests)
        bench.send_signal(sig)
        out, err = bench.communicate(timeout=120)
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    assert bench.returncode == 128 + sig, (out, err[-2000:])
    (line,) = out.strip().splitlines()
    summary = json.loads(line)
    assert summary["partial"] is True and summary["interrupted_by"] == sig.name
    assert summary["families"] == ["wason"] and summary["games_cut_short"] == 1
    structured = summary["structured"]
    assert structured["games"] == 1  # stopped in its first of three games
    # every answered call counts (the one in flight at the signal may be lost), each was a test
    assert structured["replies"] >= sent - 1 and structured["tests"] == structured["replies"]
    assert structured["parse_failures"] == 0 and structured["mean_s_per_move"] > 0
    assert "text" not in summary

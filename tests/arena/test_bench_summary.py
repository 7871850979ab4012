"""`manage.py bench`: the summary's counts (real tests, forfeited turns, parse failures,
re-prompts, errors, latency), its summary when stopped by SIGTERM, benchmark matches kept off the
leaderboard unless --ranked, and the warning when --concurrency exceeds the workers."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from arena.management.commands.bench import COLUMNS, Job, format_table, summarise, write_csv
from games.competition import leaderboard
from games.models import Match, ModelCall, Seat
from games.play import services
from tests import factories
from tests.workers.fake_model import FakeModelServer, Reply
from tests.workers.helpers import builtin, contestant
from tests.workers.worker import REPO, Worker, database_url, point_the_app_at_the_test_queue
from tests.workers.worker import test_queue as worker_queue

TEST = '{"action": "test", "input": [1, 2, 3]}'


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    server = FakeModelServer().start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_the_summary_counts_real_tests_forfeited_turns_parse_failures_reprompts_errors_and_latency(
    tmp_path,
) -> None:
    model = contestant(slug="counted")
    variant = factories.variant()
    match = services.match_create(variant=variant, seed=3, mode=Match.Mode.BENCHMARK)
    seat = services.seat_join(match=match, handle="Counted", kind=Seat.Kind.MODEL, contestant=model.slug)
    services.match_start(match=match)
    services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, queue_next_turn=False)
    services.turn_forfeit(
        seat=seat, reason="could not read the reply", idempotency_key="t2", queue_next_turn=False
    )
    services.step_submit(seat=seat, action={"type": "test", "input": [3, 2, 1]}, queue_next_turn=False)
    calls = [
        dict(turn=1, latency_ms=100.0),
        dict(turn=2, latency_ms=300.0, parse_error="no JSON object in the reply"),
        dict(turn=2, purpose="reprompt", latency_ms=200.0, parse_error="no JSON object in the reply"),
        dict(turn=3, latency_ms=9000.0, error_class="http_500", error_message="server error"),
        dict(turn=3, attempt=2, latency_ms=250.0),
        dict(turn=4, error_class="in_flight"),  # not an error (yet): a call still under way
    ]
    for fields in calls:
        ModelCall.objects.create(seat=seat, messages=[], **fields)
    services.step_submit(seat=seat, action={"type": "guess", "rule": factories.HIDDEN_RULE})
    seat.refresh_from_db()
    assert seat.tests_used == 3  # the forfeited turn spent budget ...

    (row,) = summarise([Job(model, variant, 3, match_id=match.pk)])
    assert row["real_tests"] == 2 and row["mean_tests"] == 2  # ... but it was no test
    assert row["forfeited_turns"] == 1
    assert row["forfeited_seats"] == 0
    assert row["model_calls"] == 6
    assert row["parse_failures"] == 2
    assert row["reprompts"] == 1
    assert row["errors"] == 1
    assert row["median_latency_ms"] == 225.0  # of the four calls that got a reply
    assert row["solve_rate"] == 1.0

    table = format_table([row])
    for column in (
        "real_tests",
        "forfeited_turns",
        "parse_failures",
        "reprompts",
        "errors",
        "median_latency_ms",
    ):
        assert column in table.splitlines()[0]
    write_csv([row], tmp_path / "s.csv")
    (written,) = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert list(written) == COLUMNS
    assert written["forfeited_turns"] == "1" and written["median_latency_ms"] == "225.0"


@pytest.mark.django_db
@pytest.mark.timeout(120)
def test_concurrency_with_no_worker_data_is_warned_about_and_says_so() -> None:
    point_the_app_at_the_test_queue()
    builtin("infogain")
    services.variant_create(
        slug="bench-nobody", family="wason", title="T", params={"tier": 1, "max_tests": 6}
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="timed out"):
        call_command(
            "bench",
            contestants="infogain",
            variants="bench-nobody",
            seeds="0-3",
            concurrency=4,
            timeout=0.5,
            no_progress=True,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "warning: --concurrency 4: no worker data available" in err.getvalue()
    assert "no worker heartbeat" in err.getvalue()


def model_board() -> dict[str, dict]:
    return {row["name"]: row for row in leaderboard.leaderboard(kind="model")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
def test_benchmark_matches_stay_off_the_leaderboard_unless_ranked_and_excess_concurrency_is_warned(
    tmp_path,
) -> None:
    point_the_app_at_the_test_queue()
    name = builtin("infogain").name
    services.variant_create(slug="bench-lb", family="wason", title="T", params={"tier": 1, "max_tests": 6})
    worker = Worker()  # one pool process
    try:
        worker.wait_ready()
        common = dict(contestants="infogain", variants="bench-lb", no_progress=True, timeout=200)
        err = io.StringIO()
        call_command(
            "bench",
            seeds="0-1",
            concurrency=2,
            csv=str(tmp_path / "a.csv"),
            stdout=io.StringIO(),
            stderr=err,
            **common,
        )
        assert "warning: --concurrency 2 is more than the 1 model turns" in err.getvalue()
        assert Match.objects.filter(mode="benchmark", status="finished").count() == 2
        assert not Match.objects.filter(mode="benchmark", ranked=True).exists()
        assert name not in model_board()

        err = io.StringIO()
        call_command(
            "bench",
            seeds="2",
            concurrency=1,
            ranked=True,
            csv=str(tmp_path / "b.csv"),
            stdout=io.StringIO(),
            stderr=err,
            **common,
        )
        assert "warning" not in err.getvalue()
        assert Match.objects.filter(mode="benchmark", ranked=True, status="finished").count() == 1
        assert model_board()[name]["matches"] == 1  # only the ranked one
    finally:
        worker.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_writes_the_summary_so_far_and_exits_non_zero(fake, tmp_path, sig) -> None:
    point_the_app_at_the_test_queue()
    fake.responder = lambda path, body: Reply(content=TEST, delay=0.2)
    contestant(fake, slug="slowpoke", name="Slowpoke")
    services.variant_create(slug="bench-term", family="wason", title="T", params={"tier": 1, "max_tests": 30})
    worker = Worker()
    summary = tmp_path / "summary.csv"
    env = dict(os.environ)
    env.update(
        {
            "ARENA_DATABASE_URL": database_url(),
            "ARENA_DB_CONN_MAX_AGE": "0",
            "ARENA_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "ARENA_CHANNEL_REDIS_URL": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
            "ARENA_CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
            "ARENA_CELERY_QUEUE": worker_queue(),
        }
    )
    bench = None
    try:
        worker.wait_ready()
        bench = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "bench",
                "--contestants",
                "slowpoke",
                "--variants",
                "bench-term",
                "--seeds",
                "0-9",
                "--concurrency",
                "1",
                "--no-progress",
                "--csv",
                str(summary),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        while ModelCall.objects.filter(seat__contestant="slowpoke").count() < 3:
            assert bench.poll() is None, bench.communicate()
            time.sleep(0.2)
        bench.send_signal(sig)
        out, err = bench.communicate(timeout=120)
        assert bench.returncode == 128 + sig, (out, err)
        assert f"interrupted by {sig.name}" in err and "re-run the same command to resume" in err
        assert f"summary written to {summary}" in out
        (row,) = list(csv.DictReader(summary.open()))
        assert row["contestant"] == "slowpoke" and row["variant"] == "bench-term"
        assert row["matches"] == "1" and row["finished"] == "0"  # stopped in its first match
        assert int(row["model_calls"]) >= 3 and int(row["real_tests"]) >= 1
        assert float(row["median_latency_ms"]) > 0
    finally:
        if bench is not None and bench.poll() is None:
            bench.kill()
            bench.wait()
        worker.stop()

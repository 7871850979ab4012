"""`manage.py up` on a fresh data directory: it migrates, starts the embedded Redis, a Celery
worker and the ASGI server, serves HTTP and stops every child on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from arena import embedded

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def log_text(log) -> str:
    log.seek(0)
    return log.read()


@pytest.fixture
def fresh_env(tmp_path):
    data = Path("/tmp") / f"arena-up-{os.getpid()}"
    stripped = ("ARENA_DATABASE_URL", "ARENA_REDIS_URL", "ARENA_DATA_DIR")
    env = {k: v for k, v in os.environ.items() if k not in stripped}
    env["ARENA_DATA_DIR"] = str(data)  # nothing set: SQLite + embedded Redis
    env["ARENA_API_RATE_PER_MIN"] = "5"
    yield env, data
    import shutil

    shutil.rmtree(data, ignore_errors=True)


@pytest.mark.timeout(600)
def test_up_serves_the_site_runs_a_worker_and_stops_its_children(fresh_env):
    env, data = fresh_env
    port = free_port()
    log = open(data.parent / f"arena-up-{os.getpid()}.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--port", str(port), "--web-workers", "2"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    kids: set[int] = set()
    try:

        def home_ok():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(home_ok, 300, "the home page")  # a loaded machine: the worker warms up meanwhile
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
        assert "wason-tier-1" in page  # migrated and seeded
        assert httpx.get(f"http://127.0.0.1:{port}/static/arena/match.js", timeout=5).status_code == 200
        assert (data / "arena.sqlite3").exists()
        sock = embedded.socket_path_for(data)
        assert embedded.socket_is_live(sock)

        # a task round trip through the embedded broker and the worker `up` started
        from celery import Celery
        from django.conf import settings

        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        # not the current app: later tests' services send their tasks through the current app
        with Celery(
            "probe", broker=f"redis+socket://{sock}", backend=f"redis+socket://{sock}", set_as_current=False
        ) as client:
            # the worker answers once it has warmed up (seconds of CPU; minutes on a loaded machine)
            assert client.send_task("workers.ping", args=["hi"], queue=queue).get(timeout=300) == "hi"

        kids = children_of(proc.pid)
        assert len(kids) >= 3  # redis, celery, uvicorn
        log.seek(0)
        text = log.read()
        assert f"http://127.0.0.1:{port}/" in text and "2 web process(es)" in text
        assert "worker warm-up: reference spaces of" in text  # built before the worker was ready
        # two web processes under uvicorn's supervisor, each writing its metrics for /metrics
        uvicorn = next(pid for pid in kids if b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes())
        wait_for(lambda: len(children_of(uvicorn)) >= 2, 30, "two web processes")
        # served without per-message deflate (a zlib state per socket for messages of a few
        # hundred bytes: issue 21)
        argv = Path(f"/proc/{uvicorn}/cmdline").read_bytes().split(b"\0")
        assert argv[argv.index(b"--ws-per-message-deflate") + 1] == b"false"
        for _ in range(6):  # the requests land on either process; both are up
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        gauges = {p.name for p in (data / "metrics").glob("gauge_livesum_*.db")}
        assert len(gauges) >= 2, gauges
        # the two processes count against one rate budget (the cache is the embedded Redis)
        made = subprocess.run(
            [sys.executable, "manage.py", "create_agent_token", "rate-probe"],
            cwd=REPO, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        auth = {"Authorization": f"Bearer {made.stdout.split()[-1]}"}
        codes = [
            httpx.get(f"http://127.0.0.1:{port}/api/v1/variants", headers=auth, timeout=5).status_code
            for _ in range(12)
        ]
        assert codes.count(200) == 5 and codes.count(429) == 7, codes

        # a person's moves over the WebSocket are written by the move writer `up` started
        # (SQLite: games/play/writer.py); killed, it is started again and the next move goes through
        assert "move writer on unix://" in text
        writer = next(pid for pid in kids if b"move_writer" in Path(f"/proc/{pid}/cmdline").read_bytes())
        browser = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, follow_redirects=True)
        browser.get("/")
        page = browser.post(
            "/play/wason-tier-1/",
            data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Origin": f"http://127.0.0.1:{port}"},
        )
        match_id = int(str(page.url).rstrip("/").rsplit("/", 1)[1])
        headers = {
            "Cookie": f"sessionid={browser.cookies['sessionid']}",
            "Origin": f"http://127.0.0.1:{port}",
        }

        def move(key: str) -> dict:
            with ws_connect(
                f"ws://127.0.0.1:{port}/ws/matches/{match_id}/", additional_headers=headers
            ) as ws:
                ws.send(json.dumps({"type": "test", "input": [1, 2, 3], "id": key}))
                while True:
                    reply = json.loads(ws.recv(timeout=30))
                    if reply["type"] in ("result", "error"):
                        return reply

        assert move("m1")["step"]["seq"] == 1
        os.kill(writer, signal.SIGKILL)
        wait_for(lambda: "move writer started again" in log_text(log), 60, "the move writer's restart")
        # until the new writer listens a move may get "please retry"; then it is written
        again = wait_for(
            lambda: (r := move("m2")).get("type") == "result" and r, 60, "a move after the restart"
        )
        assert again["step"]["seq"] == 2 and again["replayed"] is False
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    for pid in kids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not embedded.socket_is_live(sock)

"""`manage.py up --local-model` (the optional extra ``.[local]``; skipped where it is not
installed): llama.cpp's server runs as a child on a loopback port, the local contestant points at
it and is offered on the home page, a killed server is started again, and SIGTERM stops it with
everything else."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("llama_cpp.server")

from arena import localmodel  # noqa: E402
from tests.arena.test_up import REPO, children_of, free_port, wait_for  # noqa: E402
from tests.arena.test_up import fresh_env as fresh_env  # noqa: E402, F401 - the fixture

pytestmark = pytest.mark.timeout(900)


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_serves_the_local_model_restarts_it_and_stops_it(fresh_env) -> None:  # noqa: F811
    try:
        localmodel.gguf_path()
    except localmodel.LocalModelMissing as exc:
        pytest.skip(str(exc))
    env, data = fresh_env
    env["ARENA_WORKER_WARMUP"] = "0"
    port = free_port()
    log_path = data.parent / f"arena-up-local-{os.getpid()}.log"
    log = open(log_path, "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--port", str(port), "--web-workers", "1", "--local-model",
         "--local-model-port", "0"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    kids: set[int] = set()
    try:
        found = wait_for(
            lambda: re.search(r"llama\.cpp server at (http://127\.0\.0\.1:\d+/v1)", log_path.read_text()),
            120,
            "the local model line",
        )
        url = found.group(1)
        assert "SmolLM2-135M (local)" in log_path.read_text()
        wait_for(lambda: answers(url), 300, "the local model server")

        def home() -> str:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.HTTPError:
                return ""
            return response.text if response.status_code == 200 else ""

        assert localmodel.NAME in wait_for(home, 300, "the home page")  # offered as an opponent
        kids = children_of(proc.pid)
        server = next(p for p in kids if b"llama_cpp.server" in Path(f"/proc/{p}/cmdline").read_bytes())
        os.kill(server, signal.SIGKILL)
        wait_for(lambda: "local model server started again" in log_path.read_text(), 60, "the restart")
        wait_for(lambda: answers(url), 300, "the restarted server")
        kids = children_of(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0
    for pid in kids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not answers(url)

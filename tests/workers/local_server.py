"""The real local model server for tests: llama.cpp's OpenAI-compatible server serving
SmolLM2-135M (the optional extra ``.[local]``), started with ``arena.localmodel``'s own command
line on a loopback port, and stopped, killed, paused or started again on the same port by the
tests that need a real server's faults."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from arena import localmodel

# How long a start may take: loading the 98 MB model is a few seconds; a loaded CI machine more.
START_TIMEOUT_S = 300


def require_llama_cpp() -> None:
    """Skip, saying why, where the extra is not installed (CI installs it: the tests run there)."""
    if importlib.util.find_spec("llama_cpp") is None or not localmodel.server_installed():
        pytest.skip(f"llama_cpp is not importable: {localmodel.INSTALL_HINT}")


class LocalServer:
    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.model = localmodel.gguf_path()
        self.port = port or localmodel.free_port()
        self.url = localmodel.base_url(self.port)
        self.log_path = log_dir / f"llama-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalServer:
        # one thread: the machine is shared, and a turn of a 135M model needs no more
        argv = localmodel.server_argv(self.model, self.port, threads=1)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local model server exited: {self.log()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local model server did not answer: {self.log()[-2000:]}")
            time.sleep(0.3)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash would: the port closes and calls fail to connect."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections on the port, nothing ever answers."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.resume()  # a paused process would not act on SIGTERM
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

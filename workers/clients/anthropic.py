"""Anthropic's Messages API through the official ``anthropic`` SDK."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from typing import Any

import anthropic as sdk

from workers.clients.base import (
    ClientConfig,
    Completion,
    ModelCallError,
    status_error,
)

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
    start = time.perf_counter()
    try:
        response = client.messages.create(
            model=config.model,
            system=system,
            messages=chat,
            max_tokens=config.max_tokens,
            **extra,  # type: ignore[arg-type]
        )
    except sdk.APIStatusError as exc:
        raise status_error(exc, (time.perf_counter() - start) * 1000) from None
    except sdk.APITimeoutError:
        raise ModelCallError(
            f"the model did not answer within {config.http_timeout_s:g}s",
            error_class="timeout",
            transient=True,
            latency_ms=(time.perf_counter() - start) * 1000,
        ) from None
    except sdk.APIConnectionError as exc:
        raise ModelCallError(
            f"could not connect to {config.base_url or 'the API'}: {exc.__cause__ or exc}",
            error_class="connection",
            transient=True,
            latency_ms=(time.perf_counter() - start) * 1000,
        ) from None
    except (sdk.APIResponseValidationError, ValueError) as exc:
        raise ModelCallError(
            f"the endpoint sent a malformed response: {exc}", error_class="bad_response", transient=True
        ) from None
    latency = (time.perf_counter() - start) * 1000
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

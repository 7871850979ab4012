"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
OpenRouter, llama.cpp server...), through the official ``openai`` SDK."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from workers.clients.base import ClientConfig, Completion, ModelCallError, sdk_errors

_ALLOWED_SAMPLING = (
    "temperature",
    "top_p",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "reasoning_effort",
)


@functools.lru_cache(maxsize=64)
def _client(base_url: str, api_key: str, timeout: float) -> openai.OpenAI:
    # One client (and so one pool of kept-alive connections) per endpoint, key and timeout.
    return openai.OpenAI(
        base_url=base_url or None,
        api_key=api_key or "missing-key",
        timeout=timeout,
        max_retries=0,  # retries are ours: bounded, with backoff, and every attempt logged
    )


def response_format(config: ClientConfig, schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``response_format`` of a structured reply, or None for free text."""
    if not config.structured or schema is None:
        return None
    if config.reply_mode == "json_object":  # llama.cpp's servers: the schema beside the type
        return {"type": "json_object", "schema": dict(schema)}
    return {"type": "json_schema", "json_schema": {"name": "move", "schema": dict(schema), "strict": False}}


def complete(
    config: ClientConfig,
    messages: Sequence[Mapping[str, str]],
    *,
    action_schema: Mapping[str, Any] | None = None,
    **_: Any,
) -> Completion:
    client = _client(config.base_url, config.api_key(), config.http_timeout_s)
    extra = {k: v for k, v in config.sampling.items() if k in _ALLOWED_SAMPLING}
    extra.update(config.request_options)  # validated at save: every key is sent
    fmt = response_format(config, action_schema)
    if fmt is not None:
        extra["response_format"] = fmt
    with sdk_errors(openai, config) as elapsed_ms:
        # The SDK's low-level post: same transport, auth, errors and response model as
        # chat.completions.create, without re-validating every message of a long chat
        # through the typed-params transform on every turn (tens of ms at 80 messages).
        response = client.post(
            "/chat/completions",
            cast_to=ChatCompletion,
            body={
                "model": config.model,
                "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
                "max_tokens": config.max_tokens,
                **extra,  # a request option's max_tokens replaces the contestant's cap
            },
        )
    latency = elapsed_ms()
    if not response.choices:
        raise ModelCallError(
            "the endpoint returned no choices", error_class="bad_response", transient=True, latency_ms=latency
        )
    choice = response.choices[0]
    message = choice.message
    reasoning = _reasoning_of(message)
    usage = response.usage
    return Completion(
        text=message.content or "",
        reasoning=reasoning,
        tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
        tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
        latency_ms=latency,
        finish_reason=str(choice.finish_reason or ""),
        raw=response.model_dump(mode="json"),
    )


def _reasoning_of(message: Any) -> str:
    # vLLM / DeepSeek: reasoning_content; OpenRouter and others: reasoning.
    extra = getattr(message, "model_extra", None) or {}
    for key in ("reasoning_content", "reasoning"):
        value = getattr(message, key, None) or extra.get(key)
        if isinstance(value, str) and value:
            return value
    return ""

"""What every model client returns or raises (no Django)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClientConfig:
    backend: str  # "openai" | "anthropic" | "builtin"
    model: str
    base_url: str = ""
    api_key_env: str = ""  # the NAME of the environment variable; the key is never stored
    sampling: Mapping[str, Any] = field(default_factory=dict)
    max_tokens: int = 1024
    http_timeout_s: float = 60.0
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0

    def api_key(self) -> str:
        if not self.api_key_env:
            return "not-needed"
        key = os.environ.get(self.api_key_env, "")
        if not key:
            # Not a placeholder key and a provider's 401 later: the seat ends now, saying why.
            raise ModelCallError(
                f"the environment variable {self.api_key_env} that should hold the API key is not "
                "set on this worker",
                error_class="config",
                transient=False,
            )
        return key


@dataclass
class Completion:
    text: str
    reasoning: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    finish_reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def cost(self, config: ClientConfig) -> float:
        return (self.tokens_in * config.price_in_per_mtok + self.tokens_out * config.price_out_per_mtok) / 1e6


class ModelCallError(Exception):
    """A failed call. ``transient`` errors are retried with backoff; the others
    end the seat with ``message`` as the visible reason."""

    def __init__(
        self,
        message: str,
        *,
        error_class: str,
        transient: bool,
        retry_after: float | None = None,
        status: int | None = None,
        latency_ms: float = 0.0,
        raw: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_class = error_class
        self.transient = transient
        self.retry_after = retry_after
        self.status = status
        self.latency_ms = latency_ms
        self.raw = raw


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    for key in ("retry-after-ms", "Retry-After-Ms"):
        if key in headers:
            try:
                return float(headers[key]) / 1000
            except ValueError:
                pass
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


CONTEXT_TOO_LONG_MARKERS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
)


def status_error(exc: Any, latency_ms: float) -> ModelCallError:
    """Classify an SDK's HTTP status error (OpenAI's and Anthropic's ``APIStatusError`` have
    the same shape): 429, 5xx, 408 and 409 are transient; the rest end the seat."""
    status = exc.status_code
    try:
        body = exc.response.text[:2000]
    except Exception:  # noqa: BLE001
        body = ""
    detail = str(getattr(exc, "message", "") or body or exc)
    headers = exc.response.headers
    if status == 429:
        return ModelCallError(
            f"rate limited (429): {detail}",
            error_class="rate_limit",
            transient=True,
            retry_after=retry_after_seconds(headers),
            status=status,
            latency_ms=latency_ms,
            raw=body,
        )
    if status >= 500 or status in (408, 409):  # Anthropic's 529 = overloaded
        return ModelCallError(
            f"server error {status}: {detail}",
            error_class="server_error",
            transient=True,
            retry_after=retry_after_seconds(headers),
            status=status,
            latency_ms=latency_ms,
            raw=body,
        )
    if status in (401, 403):
        return ModelCallError(
            f"not authorised ({status}): check the API key variable; {detail}",
            error_class="auth",
            transient=False,
            status=status,
            latency_ms=latency_ms,
            raw=body,
        )
    if status == 404:
        return ModelCallError(
            f"unknown model or endpoint (404): {detail}",
            error_class="not_found",
            transient=False,
            status=status,
            latency_ms=latency_ms,
            raw=body,
        )
    if any(m in detail.lower() for m in CONTEXT_TOO_LONG_MARKERS):
        return ModelCallError(
            f"the conversation is too long for the model: {detail}",
            error_class="context_length",
            transient=False,
            status=status,
            latency_ms=latency_ms,
            raw=body,
        )
    return ModelCallError(
        f"request rejected ({status}): {detail}",
        error_class="bad_request",
        transient=False,
        status=status,
        latency_ms=latency_ms,
        raw=body,
    )

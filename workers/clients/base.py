"""What every model client returns or raises (no Django)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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
    # games.model_options: how the reply is asked for, and extra body keys sent as they are
    # (validated when the contestant was saved).
    reply_mode: str = "text"
    request_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def structured(self) -> bool:
        return self.reply_mode != "text"

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
    if status == 429:
        message, error_class, transient = f"rate limited (429): {detail}", "rate_limit", True
    elif status >= 500 or status in (408, 409):  # Anthropic's 529 = overloaded
        message, error_class, transient = f"server error {status}: {detail}", "server_error", True
    elif status in (401, 403):
        message = f"not authorised ({status}): check the API key variable; {detail}"
        error_class, transient = "auth", False
    elif status == 404:
        message, error_class, transient = f"unknown model or endpoint (404): {detail}", "not_found", False
    elif any(m in detail.lower() for m in CONTEXT_TOO_LONG_MARKERS):
        message = f"the conversation is too long for the model: {detail}"
        error_class, transient = "context_length", False
    else:
        message, error_class, transient = f"request rejected ({status}): {detail}", "bad_request", False
    return ModelCallError(
        message,
        error_class=error_class,
        transient=transient,
        retry_after=retry_after_seconds(exc.response.headers) if transient else None,
        status=status,
        latency_ms=latency_ms,
        raw=body,
    )


@contextmanager
def sdk_errors(sdk: Any, config: ClientConfig) -> Iterator[Callable[[], float]]:
    """Run one call of an official SDK (``openai`` or ``anthropic``: the same exception
    classes by the same names) and raise whatever it raises as a ModelCallError. Yields a
    function giving the milliseconds since the call began."""
    start = time.perf_counter()

    def elapsed_ms() -> float:
        return (time.perf_counter() - start) * 1000

    try:
        yield elapsed_ms
    except sdk.APIStatusError as exc:
        raise status_error(exc, elapsed_ms()) from None
    except sdk.APITimeoutError:  # before APIConnectionError, its base class
        raise ModelCallError(
            f"the model did not answer within {config.http_timeout_s:g}s",
            error_class="timeout",
            transient=True,
            latency_ms=elapsed_ms(),
        ) from None
    except sdk.APIConnectionError as exc:
        raise ModelCallError(
            f"could not connect to {config.base_url or 'the API'}: {exc.__cause__ or exc}",
            error_class="connection",
            transient=True,
            latency_ms=elapsed_ms(),
        ) from None
    except (sdk.APIResponseValidationError, ValueError) as exc:
        raise ModelCallError(
            f"the endpoint sent a malformed response: {exc}", error_class="bad_response", transient=True
        ) from None

"""Model clients by backend. Each module has ``complete(config, messages, **context)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workers.clients.base import ClientConfig, Completion, ModelCallError

BACKENDS = ("openai", "anthropic", "builtin")


def client_for(backend: str) -> Callable[..., Completion]:
    if backend == "openai":
        from workers.clients import openai_compat

        return openai_compat.complete
    if backend == "anthropic":
        from workers.clients import anthropic

        return anthropic.complete
    if backend == "builtin":
        from workers.clients import builtin

        return builtin.complete
    raise ModelCallError(
        f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}",
        error_class="config",
        transient=False,
    )


__all__ = ["BACKENDS", "ClientConfig", "Completion", "ModelCallError", "client_for", "Any"]

"""The admin's "Test connection" for a model contestant: one small real call, and the reply or
the provider's error. Called from the admin through settings.ARENA_CONTESTANT_PROBE (games never imports
workers; the project wires it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workers.clients import ModelCallError, client_for
from workers.pipeline import config_for

PROBE_MESSAGES = [
    {"role": "system", "content": "You are being tested for connectivity."},
    {"role": "user", "content": "Reply with the single word: ready"},
]
PROBE_MAX_TOKENS = 16
PROBE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str  # the reply's text, or what went wrong
    latency_ms: float = 0.0


def contestant_probe(contestant: Any) -> ProbeResult:
    config = config_for(contestant)
    if config.backend == "builtin":
        from games.engine.core import all_families

        known = {name for family in all_families() for name in family.solvers}
        if config.model in known:
            return ProbeResult(True, f"built-in solver {config.model!r} is available (no network call)")
        return ProbeResult(
            False, f"unknown built-in solver {config.model!r}; available: {', '.join(sorted(known))}"
        )
    config = type(config)(
        **{
            **config.__dict__,
            "max_tokens": PROBE_MAX_TOKENS,
            "http_timeout_s": min(config.http_timeout_s, PROBE_TIMEOUT_S),
        }
    )
    try:
        completion = client_for(config.backend)(config, PROBE_MESSAGES)
    except ModelCallError as exc:
        return ProbeResult(False, f"{exc.error_class}: {exc.message}", exc.latency_ms)
    text = (completion.text or "").strip() or "(an empty reply)"
    return ProbeResult(True, f"replied: {text[:200]}", completion.latency_ms)

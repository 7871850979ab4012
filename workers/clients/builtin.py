"""Built-in contestants: the engine's baseline solvers, answering like a model.

They go through the same pipeline as any model (prompt logged, reply parsed,
action submitted through the services); they read the structured observation
rather than the prompt text, which carries the same information.

When the match asks for stated hypotheses, a solver's hypothesis before a test is the rule it
would guess with no tests left (``act(history, 0)``): its simplest consistent candidate.

``sampling`` may hold ``{"think_s": 0.5}``: the solver then takes that long per reply (at most
``MAX_THINK_S``), like a remote model would, for demos and for tests that need races to still be
running some seconds after they start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from games.engine.core import get_family
from workers.clients.base import ClientConfig, Completion, ModelCallError

MAX_THINK_S = 30.0


def complete(
    config: ClientConfig,
    messages: Sequence[Mapping[str, str]],
    *,
    observation: Mapping[str, Any] | None = None,
    **_: Any,
) -> Completion:
    if observation is None:
        raise ModelCallError(
            "the built-in solver needs the observation", error_class="bad_request", transient=False
        )
    start = time.perf_counter()
    family = get_family(observation["family"])
    if config.model not in family.solvers:
        raise ModelCallError(
            f"unknown built-in solver {config.model!r}; available: {', '.join(sorted(family.solvers))}",
            error_class="not_found",
            transient=False,
        )
    think_s = config.sampling.get("think_s", 0)
    if isinstance(think_s, int | float) and think_s > 0:
        time.sleep(min(float(think_s), MAX_THINK_S))
    history = [{"input": h["input"], "result": h["result"]} for h in observation["history"]]
    solver = family.make_solver(config.model, observation["public"], int(observation.get("seed", 0)))
    guesses = observation.get("guesses") or []
    # a solver of a puzzle with several attempts is told its wrong guesses so far
    action = (
        solver.act(history, int(observation["tests_left"]), guesses=guesses)  # type: ignore[call-arg]
        if guesses
        else solver.act(history, int(observation["tests_left"]))
    )
    payload = {"action": action["type"], **{k: v for k, v in action.items() if k != "type"}}
    if action["type"] == "test" and (observation.get("hypothesis") or {}).get("mode", "off") != "off":
        # Its current hypothesis is the rule it would state if it had no tests left.
        current = solver.act(history, 0)
        if current.get("type") == "guess":
            payload["hypothesis"] = current["rule"]
    parse = family.extras.get("parse")
    if action["type"] == "guess" and observation.get("quiz_items") and parse is not None:
        # A solver applies the rule it states: its quiz answers are its own rule's answers.
        rule = parse(action["rule"])
        payload["quiz"] = [bool(rule.evaluate_point(item)) for item in observation["quiz_items"]]
    reasoning = ""
    if hasattr(solver, "space"):
        alive = int(solver.space.survivors(solver.examples + history).sum())  # type: ignore[attr-defined]
        reasoning = f"{alive} hypotheses of the reference space are consistent with what I have seen."
    text = json.dumps(payload)
    return Completion(
        text=text,
        reasoning=reasoning,
        tokens_in=0,
        tokens_out=0,
        latency_ms=(time.perf_counter() - start) * 1000,
        finish_reason="stop",
        raw={"action": payload},
    )

"""What a model contestant may ask of its endpoint beyond the messages (pure: no Django).

* ``REPLY_MODES``: how a reply is asked for. ``text`` is free text, read by the tolerant parser;
  the others ask the endpoint for a reply constrained to the family's action schema:
  ``json_schema`` (OpenAI's ``response_format: {"type": "json_schema", ...}``), ``json_object``
  (``{"type": "json_object", "schema": ...}``, what llama.cpp's servers read) and ``tool``
  (Anthropic tool use: one forced tool whose input is the action).
* ``REQUEST_OPTIONS``: extra body keys per backend, each with the JSON types it takes. They are
  sent as they are; a key that is not listed is refused when the contestant is saved, so nothing
  an operator sets is ever silently dropped.
* ``PROMPT_VERSIONS``: the prompt templates a contestant can be given (``workers.prompts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REPLY_MODES: dict[str, str] = {
    "text": "free text, parsed",
    "json_schema": "structured: OpenAI response_format json_schema",
    "json_object": "structured: response_format json_object + schema (llama.cpp)",
    "tool": "structured: Anthropic tool use",
}
# Which backends can ask for which mode (the builtin solvers answer in JSON already).
MODES_BY_BACKEND: dict[str, tuple[str, ...]] = {
    "openai": ("text", "json_schema", "json_object"),
    "anthropic": ("text", "tool"),
    "builtin": ("text",),
}

PROMPT_VERSIONS: dict[int, str] = {
    1: "v1: full instructions, free reasoning, syntax example in the format reminder",
    2: "v2: compact, for small models and small context windows",
}

_INT = (int,)
_NUM = (int, float)
_STR = (str,)
_LIST = (list,)
_OBJ = (dict,)

REQUEST_OPTIONS: dict[str, dict[str, tuple[type, ...]]] = {
    "openai": {
        "max_tokens": _INT,
        "max_completion_tokens": _INT,
        "temperature": _NUM,
        "top_p": _NUM,
        "top_k": _INT,
        "min_p": _NUM,
        "typical_p": _NUM,
        "repeat_penalty": _NUM,
        "presence_penalty": _NUM,
        "frequency_penalty": _NUM,
        "seed": _INT,
        "stop": _STR + _LIST,
        "logit_bias": _OBJ,
        "mirostat_mode": _INT,
        "mirostat_tau": _NUM,
        "mirostat_eta": _NUM,
        "reasoning_effort": _STR,
    },
    "anthropic": {
        "max_tokens": _INT,
        "temperature": _NUM,
        "top_p": _NUM,
        "top_k": _INT,
        "stop_sequences": _LIST,
        "thinking": _OBJ,
    },
    "builtin": {},
}

# Keys the arena itself sets on every request: an option may not replace them.
RESERVED_KEYS = ("model", "messages", "system", "response_format", "tools", "tool_choice", "stream")


def request_option_problems(backend: str, options: Any) -> list[str]:
    """What is wrong with ``options`` for ``backend``: one sentence per problem, [] when fine."""
    if options in (None, ""):
        return []
    if not isinstance(options, Mapping):
        return [f"request options must be a JSON object, got {type(options).__name__}"]
    allowed = REQUEST_OPTIONS.get(backend, {})
    problems = []
    for key, value in options.items():
        if key in RESERVED_KEYS:
            problems.append(f"{key!r} is set by the arena itself and cannot be a request option")
        elif key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            problems.append(f"unknown request option {key!r} for the {backend} backend; known: {known}")
        elif isinstance(value, bool) or not isinstance(value, allowed[key]):
            kinds = " or ".join(_TYPE_NAMES[t] for t in allowed[key])
            problems.append(f"request option {key!r} must be {kinds}, got {value!r}")
        elif key in _AT_LEAST and isinstance(value, int) and value < _AT_LEAST[key]:
            problems.append(f"request option {key!r} must be at least {_AT_LEAST[key]}, got {value!r}")
    return problems


def reply_mode_problem(backend: str, mode: str) -> str:
    if mode not in REPLY_MODES:
        return f"unknown reply mode {mode!r}; known: {', '.join(REPLY_MODES)}"
    allowed = MODES_BY_BACKEND.get(backend, ("text",))
    if mode not in allowed:
        return f"the {backend} backend cannot ask for {mode!r} replies; it can: {', '.join(allowed)}"
    return ""


def prompt_version_problem(version: Any) -> str:
    if version not in PROMPT_VERSIONS:
        return f"unknown prompt version {version!r}; known: {', '.join(str(v) for v in PROMPT_VERSIONS)}"
    return ""


_TYPE_NAMES = {
    int: "an integer",
    float: "a decimal number",
    str: "text",
    list: "a list",
    dict: "a JSON object",
}
_AT_LEAST = {"max_tokens": 1, "max_completion_tokens": 1, "top_k": 0}

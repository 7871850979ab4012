"""Parsing what clients send, with limits: JSON bodies and messages, whole numbers in query
strings, free text. Every failure is an ``InputError`` whose message says what was wrong and
what is allowed; callers turn it into a 4xx (the API) or an error message (the WebSocket).

Python's own parsers are too forgiving or too fragile for hostile input: ``json.loads`` on a
few kilobytes of ``[[[[...`` raises ``RecursionError``, and ``int()`` accepts ``"²"``-like
digits from any script, spaces and underscores."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import orjson

MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32

# A JSON string (skipped whole, so brackets inside it do not count) or a bracket.
_JSON_NESTING_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_ASCII_INT = re.compile(r"[0-9]{1,19}")


class InputError(ValueError):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# A run of digits that may be an integer orjson would read as a float (past 64 bits).
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (a count of brackets outside
    strings; malformed input gives some number, and the parser reports it afterwards)."""
    depth = deepest = 0
    for token in _JSON_NESTING_TOKEN.finditer(raw):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


def parse_json(
    raw: bytes | str,
    *,
    what: str = "the request body",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """``raw`` decoded as JSON, refused (InputError) when it is larger than ``max_bytes``, nested
    deeper than ``max_depth``, not UTF-8 or not JSON. The depth is checked before parsing, so
    a deep document costs one linear scan, never the parser's recursion."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise InputError(f"{what} is too large: {len(data):,} bytes (at most {max_bytes:,})", status=413)
    depth = json_depth(data)
    if depth > max_depth:
        raise InputError(
            f"{what} is nested too deeply: {depth} levels of arrays/objects (at most {max_depth})"
        )
    # orjson is several times faster and agrees with the standard parser on what it takes, except
    # that it refuses lone surrogates, NaN and infinities and reads integers past 64 bits as floats:
    # those (and anything it refuses) go to the standard parser, which decides in its own words.
    if not _LONG_DIGITS.search(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        value = json.loads(data)
        # "\ud800" is valid JSON but no character: it would fail later, writing to the database
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise InputError(
            f"{what} holds a lone surrogate escape (\\ud800-\\udfff), which is not a character"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not valid UTF-8") from None
    except RecursionError:  # unreachable within max_depth; kept so no input can become a 500
        raise InputError(f"{what} is nested too deeply (at most {max_depth} levels)") from None
    except ValueError as exc:
        raise InputError(f"{what} is not valid JSON: {exc}") from None


def parse_int(raw: str, *, name: str, minimum: int, maximum: int) -> int:
    """A whole number written in ASCII digits (no sign, spaces, underscores or other scripts'
    digits) from ``minimum`` to ``maximum``."""
    if not isinstance(raw, str) or not _ASCII_INT.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        shown = raw if isinstance(raw, str) and len(raw) <= 40 else f"{str(raw)[:40]}…"
        raise InputError(
            f"{name} must be a whole number from {minimum} to {maximum} in digits 0-9; got {shown!r}"
        )
    return int(raw)


def query_int(params: Mapping[str, Any], name: str, *, default: int, minimum: int, maximum: int) -> int:
    """The query parameter ``name`` as ``parse_int``; ``default`` when it is absent or empty."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    return parse_int(raw, name=name, minimum=minimum, maximum=maximum)


def check_text(value: Any, *, name: str, max_length: int, required: bool = False) -> str:
    """``value`` as a string of at most ``max_length`` characters (``required``: not blank)."""
    if not isinstance(value, str):
        raise InputError(f'"{name}" must be a string')
    if required and not value.strip():
        raise InputError(f'"{name}" must not be empty')
    if len(value) > max_length:
        raise InputError(f'"{name}" is at most {max_length:,} characters; got {len(value):,}')
    return value

"""Pseudonymous handles for anonymous players."""

from __future__ import annotations

import secrets
from typing import Any

ADJECTIVES = (
    "Curious",
    "Patient",
    "Bold",
    "Quiet",
    "Clever",
    "Careful",
    "Lucky",
    "Swift",
    "Steady",
    "Bright",
    "Keen",
    "Calm",
    "Witty",
    "Brave",
    "Sly",
    "Eager",
    "Gentle",
    "Sharp",
    "Merry",
    "Nimble",
)
ANIMALS = (
    "Otter",
    "Heron",
    "Fox",
    "Badger",
    "Lynx",
    "Owl",
    "Marten",
    "Ibex",
    "Wren",
    "Seal",
    "Crane",
    "Hare",
    "Newt",
    "Raven",
    "Stoat",
    "Finch",
    "Bison",
    "Gecko",
    "Puffin",
    "Koala",
)


def new_handle() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)} {secrets.randbelow(90) + 10}"


def request_handle(request: Any) -> str:
    """The name this browser plays under: the account's user name, or else a handle given once
    per session."""
    if request.user.is_authenticated:
        return str(request.user.get_username())
    if "handle" not in request.session:
        request.session["handle"] = new_handle()
    return str(request.session["handle"])

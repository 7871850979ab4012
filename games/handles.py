"""Pseudonymous handles for anonymous players."""

from __future__ import annotations

import secrets

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

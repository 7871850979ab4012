"""Puzzle families. Adding a family = one module here + one import line below."""

from games.engine.families import (
    alchemy,  # noqa: F401
    arc,  # noqa: F401
    blackbox,  # noqa: F401
    eleusis,  # noqa: F401
    rewrite,  # noqa: F401
    subregular,  # noqa: F401
    tuple,  # noqa: F401
    wason,  # noqa: F401
)

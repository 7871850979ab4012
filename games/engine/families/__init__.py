"""Puzzle families. Adding a family = one module here + one import line below."""

from games.engine.families import wason  # noqa: F401

"""The pure puzzle engine: families, rule languages, judges, solvers, analytics.

Standard library and numpy only; no Django. ``python -m games.engine`` is its CLI.
"""

from games.engine.core import EngineError, Family, Instance, Verdict, all_families, get_family

__all__ = ["EngineError", "Family", "Instance", "Verdict", "all_families", "get_family"]

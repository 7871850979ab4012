"""Worker warm-up: build each family's reference spaces before the first task arrives (pure engine
calls, no database), so the first turn of the first race is as fast as the rest.

A family's solvers build their hypothesis spaces lazily (cached per process); the first solver
turn of a fresh process paid for the build (seconds for the info-gain solver). ``warm_up`` plays
one opening move of every solver on every variant the family ships, which builds and caches those
spaces. It runs in the worker's main process before the pool forks (``worker_init``), so every
pool child, and every child forked later, inherits the built spaces.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from games.engine.core import EngineError, all_families

logger = logging.getLogger(__name__)


def warm_up() -> dict[str, dict[str, Any]]:
    """Family id -> what was warmed: variants, solvers and seconds. A variant that fails is logged
    and skipped: a warm-up never stops a worker from starting."""
    report: dict[str, dict[str, Any]] = {}
    for family in all_families():
        start = time.perf_counter()
        params_list = [dict(spec.params) for spec in family.variants] or [{}]
        warmed = 0
        for raw in params_list:
            try:
                params = family.validate_params(raw)
                instance = family.generate(0, params)
                tests = int(params.get("max_tests", 20) or 20)
                for name in family.solvers:
                    family.make_solver(name, instance.public, 0).act([], tests)
                warmed += 1
            except (EngineError, ValueError, KeyError, TypeError):
                logger.exception("warm-up of %s with %s failed; it warms on its first turn", family.id, raw)
        report[family.id] = {
            "variants": warmed,
            "solvers": sorted(family.solvers),
            "seconds": round(time.perf_counter() - start, 3),
        }
    return report

"""The interpreter's cyclic garbage collector in the long-lived processes that serve moves (the
web processes and the move writer).

Everything start-up made (modules, settings, URL patterns, the ORM's metadata, the families'
reference data) lives as long as the process, yet every full collection walks all of it again:
tens of milliseconds during which no socket is served. ``settle()``, called once start-up is
done, moves those objects out of the collector's sight (``gc.freeze``), so a collection walks only
what serving has made since, and lets the youngest generation grow larger before it is collected.

Off unless ``ARENA_GC_TUNE=1``. Measured (issue 21, three same-run comparisons, one web process and
the move writer): 3-18 % more saturating moves a second and 0.05-0.08 ms less CPU a move, but the
paced p99 at 1,000 players was worse in both runs that had it (690-740 ms against 21-145 ms: each
young collection is larger), and a 150 s soak grew both processes by about 1 MB, where they had
stayed flat without it.
"""

from __future__ import annotations

import gc
import os

# Collect the youngest generation after this many allocations more than deallocations (Python's
# default: 700); the older two every 10 collections of the one below, as Python does.
YOUNGEST = 20_000


def enabled() -> bool:
    return os.environ.get("ARENA_GC_TUNE", "0") == "1"


def settle() -> bool:
    """Freeze what start-up made and raise the youngest generation's threshold; False (nothing
    done) unless ``ARENA_GC_TUNE=1``."""
    if not enabled():
        return False
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNGEST, 10, 10)
    return True

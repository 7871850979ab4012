"""Per-step analytics over a reference hypothesis space (pure).

For each test in a history:

* ``surviving_before`` / ``surviving``: hypotheses of the space consistent with
  all observations before / after this test;
* ``bits``: information gained, log2(before / after). When a test leaves no
  hypothesis (the hidden rule is outside the reference space) ``bits`` is
  ``None`` and ``space_exhausted`` is true;
* ``redundant``: every hypothesis alive before the test already predicted its
  answer, so the test could not narrow the space (``None`` once the space is
  exhausted);
* ``p_true``: the fraction of surviving hypotheses that predicted True.

Examples given with the puzzle are applied first and are not steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.hypotheses import HypothesisSpace


def trace(
    space: HypothesisSpace,
    history: Sequence[Mapping[str, Any]],
    *,
    examples: Sequence[Mapping[str, Any]] = (),
    evaluate: Callable[[Sequence[Any]], npt.NDArray[np.bool_]] | None = None,
) -> list[dict[str, Any]]:
    """``evaluate`` gives the space's truth values at the tested points when the family's oracle does not use
    ``space.truth``'s arithmetic (``wason`` version 3: exact decimals)."""
    observations = list(examples) + list(history)
    alive = np.ones(len(space), dtype=bool)
    if observations:
        truth = (evaluate or space.truth)([o["input"] for o in observations])
    else:
        truth = np.zeros((len(space), 0), dtype=bool)
    for k in range(len(examples)):
        alive &= truth[:, k] == bool(examples[k]["result"])
    out: list[dict[str, Any]] = []
    for step, obs in enumerate(history, start=1):
        column = truth[:, len(examples) + step - 1]
        before = int(alive.sum())
        predicted_true = int((alive & column).sum())
        result = bool(obs["result"])
        alive &= column == result
        after = int(alive.sum())
        exhausted = after == 0
        out.append(
            {
                "step": step,
                "input": obs["input"],
                "result": result,
                "surviving_before": before,
                "surviving": after,
                "bits": None if exhausted else math.log2(before / after),
                "redundant": None if before == 0 else predicted_true in (0, before),
                "p_true": None if before == 0 else predicted_true / before,
                "space_exhausted": exhausted,
            }
        )
    return out

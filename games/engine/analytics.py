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

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.hypotheses import HypothesisSpace


def answer_key(value: Any) -> str:
    """The canonical text of an answer of any JSON type: a reference space of a family whose
    answers are not yes/no returns an object matrix of these keys (``HypothesisSpace.truth``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def observed(matrix: npt.NDArray[Any], result: Any) -> Any:
    """``result`` in the form the space's answer matrix holds: a bool, or its answer key."""
    return bool(result) if matrix.dtype == bool else answer_key(result)


def trace(
    space: HypothesisSpace,
    history: Sequence[Mapping[str, Any]],
    *,
    examples: Sequence[Mapping[str, Any]] = (),
    evaluate: Callable[[Sequence[Any]], npt.NDArray[Any]] | None = None,
) -> list[dict[str, Any]]:
    """``evaluate`` gives the space's answers at the tested points when the family's oracle does
    not use ``space.truth``'s arithmetic (``wason`` version 3: exact decimals). Answers of any
    JSON type: the space returns a boolean matrix for yes/no families (``p_true`` is then the
    share of survivors that predicted True) or a matrix of answer keys (``p_true`` is None)."""
    observations = list(examples) + list(history)
    alive = np.ones(len(space), dtype=bool)
    if observations:
        truth = (evaluate or space.truth)([o["input"] for o in observations])
    else:
        truth = np.zeros((len(space), 0), dtype=bool)
    boolean = truth.dtype == bool
    for k in range(len(examples)):
        alive &= truth[:, k] == observed(truth, examples[k]["result"])
    out: list[dict[str, Any]] = []
    for step, obs in enumerate(history, start=1):
        column = truth[:, len(examples) + step - 1]
        before = int(alive.sum())
        answer = observed(truth, obs["result"])
        agrees = column == answer
        predicted_true = int((alive & column).sum()) if boolean else 0
        if boolean:
            distinct = (predicted_true > 0) + (predicted_true < before)
        else:
            distinct = len(set(column[alive].tolist()))
        alive &= agrees
        after = int(alive.sum())
        exhausted = after == 0
        out.append(
            {
                "step": step,
                "input": obs["input"],
                "result": answer if boolean else obs["result"],
                "surviving_before": before,
                "surviving": after,
                "bits": None if exhausted else math.log2(before / after),
                # every hypothesis alive before the test predicted the same answer
                "redundant": None if before == 0 else distinct <= 1,
                "p_true": None if before == 0 or not boolean else predicted_true / before,
                "space_exhausted": exhausted,
            }
        )
    return out

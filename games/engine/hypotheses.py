"""Reference hypothesis spaces: finite sets of candidate rules used for per-step
analytics (how many candidates a test leaves) and by the baseline solvers.

A space is ordered by simplicity (Occam): index 0 is the simplest rule. It can
tell, for a batch of points, which hypotheses hold there (``truth``), and it
keeps a precomputed truth matrix over a fixed pool of *probe* points that the
information-gain solver chooses its tests from.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.dsl import BoolOp, IfExp, Node, Not, Rule, parse_rule

BoolMatrix = npt.NDArray[np.bool_]


def clause_count(node: Node) -> int:
    """How many clauses a rule's boolean structure joins: ``and`` / ``or`` / ``not`` and a
    boolean ``a if c else b`` are structure, anything else (a comparison, ``is_int(x)``) is
    one clause. ``x > 0 and (y < z or z == 1)`` has three."""
    if isinstance(node, BoolOp):
        return sum(clause_count(o) for o in node.operands)
    if isinstance(node, Not):
        return clause_count(node.operand)
    if isinstance(node, IfExp):
        return clause_count(node.cond) + clause_count(node.then) + clause_count(node.orelse)
    return 1


def points_to_columns(points: Sequence[Sequence[float]], arity: int) -> list[npt.NDArray[np.float64]]:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, arity)
    return [arr[:, i] for i in range(arity)]


@dataclass
class HypothesisSpace:
    """A plain list of rules. Subclasses may compose rules from atoms for speed."""

    texts: list[str]
    variables: tuple[str, ...]
    probes: npt.NDArray[np.float64]  # (P, arity) candidate test points, simplest first

    def __post_init__(self) -> None:
        self._rules: list[Rule] = [parse_rule(t, self.variables) for t in self.texts]
        self._probe_truth: BoolMatrix | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def text(self, index: int) -> str:
        return self.texts[index]

    def truth(self, points: Sequence[Sequence[float]]) -> BoolMatrix:
        """(H, Q) matrix: hypothesis h holds at point q."""
        cols = points_to_columns(points, len(self.variables))
        if not len(cols[0]):
            return np.zeros((len(self), 0), dtype=bool)
        return (
            np.stack([r.evaluate(cols) for r in self._rules])
            if self._rules
            else np.zeros((0, len(cols[0])), bool)
        )

    @functools.cached_property
    def clause_counts(self) -> npt.NDArray[np.int64]:
        """``clause_count`` of every hypothesis, for priors that prefer fewer clauses. Kept on
        the space because solvers are rebuilt at every step and parsing a large space takes
        most of a second; subclasses that skip ``__post_init__`` still get it."""
        counts = [clause_count(parse_rule(t, self.variables).tree) for t in self.texts]
        return np.asarray(counts, dtype=np.int64)

    @property
    def probe_truth(self) -> BoolMatrix:
        if self._probe_truth is None:
            self._probe_truth = self.truth(self.probes.tolist())
        return self._probe_truth

    def survivors(self, history: Sequence[Mapping[str, Any]]) -> npt.NDArray[np.bool_]:
        """Mask of hypotheses consistent with every observed (input, result)."""
        alive = np.ones(len(self), dtype=bool)
        if not history:
            return alive
        truth = self.truth([h["input"] for h in history])
        consistent: npt.NDArray[np.bool_] = np.all(truth == _observed_row(truth, history), axis=1)
        return alive & consistent

    def mismatches(self, history: Sequence[Mapping[str, Any]]) -> npt.NDArray[np.int64]:
        """How many observations each hypothesis gets wrong."""
        if not history:
            return np.zeros(len(self), dtype=np.int64)
        truth = self.truth([h["input"] for h in history])
        misses: npt.NDArray[np.int64] = np.sum(truth != _observed_row(truth, history), axis=1).astype(
            np.int64
        )
        return misses


def _observed_row(truth: npt.NDArray[Any], history: Sequence[Mapping[str, Any]]) -> npt.NDArray[Any]:
    """The observed answers as a (1, Q) row comparable with the space's answer matrix: bools for
    yes/no families, answer keys (canonical JSON text) otherwise."""
    if truth.dtype == bool:
        return np.array([bool(h["result"]) for h in history])[None, :]
    keys = np.empty((1, len(history)), dtype=object)
    for i, h in enumerate(history):
        keys[0, i] = json.dumps(h["result"], sort_keys=True, separators=(",", ":"))
    return keys

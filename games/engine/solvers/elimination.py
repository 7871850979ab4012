"""Hypothesis-elimination baselines.

Both solvers keep the hypotheses of a reference space that agree with every
observation so far and guess the simplest survivor (Occam). They differ only in
how they choose tests:

* ``InfoGainSolver`` picks, from the space's probe pool, the point whose answer
  splits the survivors most evenly (maximum expected information, uniform
  prior); ties go to the simplest point.
* ``RandomSolver`` tests uniformly random integer points.

Both stop testing as soon as no probe point can tell the survivors apart, or
when the budget is used up. They see only the public info and their own
history, and ``act`` is a pure function of (public, seed, history).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine.hypotheses import HypothesisSpace

FloatArr = npt.NDArray[np.float64]
BoolArr = npt.NDArray[np.bool_]


def _binary_entropy(p: FloatArr) -> FloatArr:
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0)


def _as_json_point(point: Sequence[float]) -> list[int | float]:
    return [int(v) if float(v).is_integer() else float(v) for v in point]


class _EliminationSolver:
    def __init__(self, space: HypothesisSpace, examples: Sequence[Mapping[str, Any]], seed: int) -> None:
        self.space = space
        self.examples = list(examples)
        self.seed = seed

    def _observations(self, history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return self.examples + [h for h in history if "input" in h and "result" in h]

    def best_guess(self, history: Sequence[Mapping[str, Any]]) -> str:
        observations = self._observations(history)
        alive = self.space.survivors(observations)
        if alive.any():
            return self.space.text(int(np.argmax(alive)))
        # Nothing in the space fits: take the simplest rule with the fewest misses.
        misses = self.space.mismatches(observations)
        return self.space.text(int(np.argmin(misses)))

    def _split(self, alive: BoolArr) -> FloatArr:
        truth = self.space.probe_truth
        n = int(alive.sum())
        if n == 0:
            return np.zeros(truth.shape[1])
        counts = truth[alive].sum(axis=0) if n < len(alive) else truth.sum(axis=0)
        return _binary_entropy(counts / n)

    def _undecided(self, history: Sequence[Mapping[str, Any]]) -> tuple[BoolArr, FloatArr]:
        alive = self.space.survivors(self._observations(history))
        return alive, self._split(alive)


class InfoGainSolver(_EliminationSolver):
    name = "infogain"

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        if tests_left <= 0:
            return {"type": "guess", "rule": self.best_guess(history)}
        alive, gain = self._undecided(history)
        tested = {tuple(float(v) for v in h["input"]) for h in self._observations(history)}
        if tested:
            probes = self.space.probes
            seen = np.array([tuple(p) in tested for p in probes.tolist()])
            gain = np.where(seen, 0.0, gain)
        best = int(np.argmax(gain))
        if alive.sum() <= 1 or gain[best] <= 0.0:
            return {"type": "guess", "rule": self.best_guess(history)}
        return {"type": "test", "input": _as_json_point(self.space.probes[best])}


class RandomSolver(_EliminationSolver):
    name = "random"

    def __init__(
        self,
        space: HypothesisSpace,
        examples: Sequence[Mapping[str, Any]],
        seed: int,
        sample: Callable[[random.Random], list[int | float]],
    ) -> None:
        super().__init__(space, examples, seed)
        self.sample = sample

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        if tests_left <= 0:
            return {"type": "guess", "rule": self.best_guess(history)}
        alive, gain = self._undecided(history)
        if alive.sum() <= 1 or float(gain.max(initial=0.0)) <= 0.0:
            return {"type": "guess", "rule": self.best_guess(history)}
        rng = random.Random(f"random-solver:{self.seed}:{len(history)}")
        return {"type": "test", "input": self.sample(rng)}

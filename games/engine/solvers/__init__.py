"""Baseline solvers shared by families whose hidden rule is a boolean rule over
points and whose reference space is a ``HypothesisSpace``."""

from games.engine.solvers.elimination import InfoGainSolver, RandomSolver

__all__ = ["InfoGainSolver", "RandomSolver"]

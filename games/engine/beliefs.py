"""What a player's stated hypotheses say about how they test (pure).

Before a test a player may state their current hypothesis in the family's rule language
(the variant decides whether it is asked for). For each test with a hypothesis the family can
read, this module says, by the family's own semantics (``Family.guess_answer`` and ``judge``):

* ``predicted``: what the hypothesis answers at the tested input;
* ``positive``: a *positive test* (Klayman & Ha): the hypothesis predicts the input fits. Only
  for families whose answers are yes/no (``answer_schema`` of type boolean); for other answer
  types (strings, numbers, lists) there is no "fits", so it is None;
* ``confirmed``: the hidden rule's answer is the one the hypothesis predicted (any answer type);
* ``already_refuted``: some earlier answer (an example shown with the puzzle, or an earlier test
  of the same seat) differs from what the hypothesis predicts there: the player held on to a
  hypothesis the evidence had already ruled out (persistence);
* ``equivalent``: the judge finds the hypothesis equivalent to the hidden rule.

Per seat (``summary``): how many tests came with a hypothesis and how many of those parse, the
share of positive tests, of confirmed predictions and of already-refuted hypotheses, and the
first test (1-based among the seat's tests) whose stated hypothesis was equivalent to the hidden
rule.

A history is a list of ``{"input", "result", "hypothesis"}`` (``hypothesis``: the text, or None
when the player stated none for that test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from games.engine.core import EngineError, Family, Instance


def boolean_answers(family: Family, public: Mapping[str, Any]) -> bool:
    """Whether the family answers a test yes/no, so that "the hypothesis predicts it fits" means
    something (declared by its answer schema, never by its name)."""
    return family.shown_for(public).answer_schema.get("type") == "boolean"


def _examples(public: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    shown = public.get("examples") or []
    return [e for e in shown if isinstance(e, Mapping) and "input" in e and "result" in e]


class _Reader:
    """One hypothesis text, read once: its answers at every observation and its equivalence."""

    def __init__(self, family: Family, instance: Instance, observations: Sequence[Mapping[str, Any]]) -> None:
        self.family = family
        self.instance = instance
        self.observations = observations
        self._answers: dict[str, list[Any] | None] = {}
        self._equivalent: dict[str, bool] = {}

    def answers(self, text: str) -> list[Any] | None:
        """The hypothesis's answers at each observation, or None when it does not parse (or the
        family cannot evaluate it at one of them)."""
        if text not in self._answers:
            guess_answer = self.family.guess_answer
            assert guess_answer is not None  # register() requires it
            try:
                self._answers[text] = [
                    guess_answer(self.instance, text, o["input"]) for o in self.observations
                ]
            except EngineError:
                self._answers[text] = None
        return self._answers[text]

    def equivalent(self, text: str) -> bool:
        if text not in self._equivalent:
            try:
                self._equivalent[text] = bool(self.family.judge(self.instance, text).correct)
            except EngineError:
                self._equivalent[text] = False
        return self._equivalent[text]


def trace(family: Family, instance: Instance, history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per test of ``history``: ``test`` (1-based), ``stated`` (a hypothesis was given),
    ``parsed`` (it reads in the family's language; None when none was stated), and, for a parsed
    one, ``predicted``, ``positive``, ``confirmed``, ``already_refuted`` and ``equivalent``
    (None otherwise)."""
    examples = _examples(instance.public)
    observations = [*examples, *history]
    reader = _Reader(family, instance, observations)
    yes_no = boolean_answers(family, instance.public)
    out: list[dict[str, Any]] = []
    for index, obs in enumerate(history):
        row: dict[str, Any] = {
            "test": index + 1,
            "stated": False,
            "parsed": None,
            "predicted": None,
            "positive": None,
            "confirmed": None,
            "already_refuted": None,
            "equivalent": None,
        }
        text = obs.get("hypothesis")
        if isinstance(text, str) and text.strip():
            row["stated"] = True
            answers = reader.answers(text)
            row["parsed"] = answers is not None
            if answers is not None:
                at = len(examples) + index
                predicted = answers[at]
                row["predicted"] = predicted
                row["positive"] = (predicted is True) if yes_no else None
                row["confirmed"] = predicted == obs["result"]
                row["already_refuted"] = any(answers[j] != observations[j]["result"] for j in range(at))
                row["equivalent"] = reader.equivalent(text)
        out.append(row)
    return out


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A seat's measures from its ``trace``."""
    parsed = [r for r in rows if r["parsed"]]
    signed = [r for r in parsed if r["positive"] is not None]
    positive = sum(1 for r in signed if r["positive"])
    first = next((r["test"] for r in parsed if r["equivalent"]), None)
    return {
        "hypotheses_stated": sum(1 for r in rows if r["stated"]),
        "hypotheses_parsed": len(parsed),
        "positive_tests": positive,
        "negative_tests": len(signed) - positive,
        "positive_share": _share(positive, len(signed)),
        "confirmed_tests": sum(1 for r in parsed if r["confirmed"]),
        "confirmed_share": _share(sum(1 for r in parsed if r["confirmed"]), len(parsed)),
        "refuted_kept": sum(1 for r in parsed if r["already_refuted"]),
        "refuted_kept_share": _share(sum(1 for r in parsed if r["already_refuted"]), len(parsed)),
        "first_equivalent_test": first,
    }

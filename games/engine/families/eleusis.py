"""Family ``eleusis``: a hidden rule about which playing card may follow which.

As in Robert Abbott's Eleusis (and Zendo): the secret rule says whether a card may be played
after another. A test is a pair of cards (the previous card, the next card) and the answer is
whether the next card may follow; then the player states the rule once.

Cards are numbers so the rule language stays the one every family shares: a rank from 1 (ace)
to 13 (king) and a suit from 0 to 3 (0 clubs, 1 spades, 2 diamonds, 3 hearts), so
``suit // 2`` is the colour (0 black, 1 red). The variables are ``prev_rank``, ``prev_suit``,
``rank`` and ``suit``.

The domain is finite: all 52 x 52 = 2,704 pairs. A guess is judged on every one of them, so
the verdict is exact (no sampling), and the counterexample is the first pair where the two
rules differ, in the order low cards first.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from games.engine import analytics
from games.engine.core import (
    Family,
    Instance,
    ParamsError,
    Presentation,
    QueryError,
    ReferenceSpace,
    RuleError,
    VariantSpec,
    Verdict,
    register,
    seeded_rng,
)
from games.engine.dsl import Rule, compile_rule, language_summary, parse_rule, rule_pattern
from games.engine.families import common
from games.engine.hypotheses import HypothesisSpace, points_to_columns

FAMILY_ID = "eleusis"
# Generator versions: 1 drew the application quiz from the hidden rule (exactly half fitting);
# 2 draws it from public data only. Rules and examples did not change, so they keep drawing from
# the version 1 random stream: a seed gives the same rule in both.
VERSION = 2
RULE_STREAM_VERSION = 1
PUBLIC_QUIZ_VERSION = 2
VARIABLES = ("prev_rank", "prev_suit", "rank", "suit")
RANKS = range(1, 14)
SUITS = range(4)
RANK_NAMES = {1: "A", 11: "J", 12: "Q", 13: "K"}
SUIT_NAMES = ("clubs", "spades", "diamonds", "hearts")
SUIT_SYMBOLS = ("♣", "♠", "♦", "♥")
# The syntax example in the instructions: a rule the generator cannot produce, so it is never a
# hint (nor a false alarm for the leak scan).
RULE_EXAMPLE = "rank + suit > prev_rank and prev_suit != 2"

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "tier": {
            "x-knob": True,
            "type": "integer",
            "minimum": 1,
            "maximum": 4,
            "default": 1,
            "description": "difficulty: 1 one comparison of rank, suit or colour; 2 parity, steps and "
            "sums; 3 two clauses joined by and/or; 4 'a if condition else b': one condition decides "
            "which of two rules applies",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "default": 20,
            "description": "test budget before the final guess",
        },
        "examples": {
            "type": "integer",
            "minimum": 0,
            "maximum": 5,
            "default": 1,
            "description": "pairs that fit the rule, shown at the start",
        },
        "rule": {
            "type": "string",
            "default": "",
            "description": "a hand-written hidden rule over prev_rank, prev_suit, rank, suit (empty: generated)",
        },
    },
}

# -- the domain: every (previous card, next card) pair -----------------------------------------------


@functools.lru_cache(maxsize=1)
def domain() -> npt.NDArray[np.float64]:
    """All 2,704 pairs, low cards first (by the larger rank, then the ranks, then the suits)."""
    cards = [(r, s) for r in RANKS for s in SUITS]
    pairs = [(pr, ps, r, s) for pr, ps in cards for r, s in cards]
    pairs.sort(key=lambda p: (max(p[0], p[2]), p[0], p[2], p[1], p[3]))
    return np.asarray(pairs, dtype=np.float64)


@functools.lru_cache(maxsize=1)
def _columns() -> tuple[npt.NDArray[np.float64], ...]:
    pairs = domain()
    return tuple(pairs[:, i] for i in range(len(VARIABLES)))


@functools.lru_cache(maxsize=1)
def _domain_index() -> dict[tuple[int, ...], int]:
    return {tuple(int(v) for v in p): i for i, p in enumerate(domain().tolist())}


def parse(text: str) -> Rule:
    return parse_rule(text, VARIABLES)


@functools.lru_cache(maxsize=4096)
def _truth(canonical: str) -> npt.NDArray[np.bool_]:
    truth: npt.NDArray[np.bool_] = compile_rule(parse(canonical))(list(_columns()))
    return truth


def truth_on_domain(rule: Rule) -> npt.NDArray[np.bool_]:
    return _truth(rule.text)


def _pair_json(p: Sequence[float]) -> list[int]:
    return [int(v) for v in p]


def card_name(rank: int, suit: int) -> str:
    return f"{RANK_NAMES.get(rank, str(rank))}{SUIT_SYMBOLS[suit]}"


# -- the generator's grammar -----------------------------------------------------------------------

SAME_COLOUR = "suit // 2 == prev_suit // 2"
OTHER_COLOUR = "suit // 2 != prev_suit // 2"
# What decides which of two rules applies in a tier-4 rule ("a if condition else b").
CONDITIONS = (SAME_COLOUR, OTHER_COLOUR, "suit // 2 == 1", "prev_rank % 2 == 0", "prev_suit // 2 == 1")


def clause_templates() -> dict[int, tuple[str, ...]]:
    """Single clauses by tier; tiers 3 and 4 combine clauses of tiers 1 and 2."""
    tier1 = (
        "rank > prev_rank",
        "rank < prev_rank",
        "rank >= prev_rank",
        "rank <= prev_rank",
        "rank == prev_rank",
        "rank != prev_rank",
        "suit == prev_suit",
        "suit != prev_suit",
        SAME_COLOUR,
        OTHER_COLOUR,
        "suit // 2 == 1",
        "suit // 2 == 0",
        *(f"suit == {s}" for s in SUITS),
        *(f"rank > {k}" for k in (4, 7, 10)),
        *(f"rank < {k}" for k in (4, 7, 10)),
    )
    tier2 = (
        "rank % 2 == 0",
        "rank % 2 == 1",
        "rank % 2 == prev_rank % 2",
        "rank % 2 != prev_rank % 2",
        "rank == prev_rank + 1",
        "rank == prev_rank - 1",
        *(f"abs(rank - prev_rank) <= {k}" for k in (1, 2, 3)),
        *(f"abs(rank - prev_rank) >= {k}" for k in (3, 5)),
        "(rank + prev_rank) % 2 == 0",
        "(rank + prev_rank) % 3 == 0",
        "rank + prev_rank > 13",
        "rank + prev_rank <= 13",
        "rank % 3 == 0",
        "rank > 10 or rank == 1",
    )
    return {1: tier1, 2: tier2}


def _sample_rule(rng: random.Random, tier: int) -> str:
    t = clause_templates()
    if tier <= 2:
        return rng.choice(t[tier])
    pool = t[1] + t[2]
    if tier == 3:
        a, b = rng.sample(pool, 2)
        return f"({a}) {rng.choice(('and', 'or'))} ({b})"
    condition = rng.choice(CONDITIONS)
    a, b = rng.sample(pool, 2)
    return f"({a}) if ({condition}) else ({b})"


def _degenerate(rule: Rule, min_true: float = 0.1, max_true: float = 0.9) -> str | None:
    fraction = float(truth_on_domain(rule).mean())
    if fraction == 0.0:
        return "no pair of cards fits it"
    if fraction == 1.0:
        return "every pair of cards fits it"
    if not min_true <= fraction <= max_true:
        return f"it fits {fraction:.0%} of the pairs"
    return None


def _reducible(rule: Rule) -> bool:
    """A combined rule that equals a single clause (e.g. 'rank == prev_rank or rank > prev_rank'
    is 'rank >= prev_rank') is really a rule of a lower tier: the generator draws again."""
    whole = truth_on_domain(rule)
    templates = clause_templates()
    return any(np.array_equal(truth_on_domain(parse(c)), whole) for c in templates[1] + templates[2])


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    rng = seeded_rng(FAMILY_ID, RULE_STREAM_VERSION, seed, p)
    if p["rule"]:
        try:
            rule = parse(p["rule"])
        except RuleError as exc:
            raise ParamsError(f"parameter 'rule' is not a valid rule: {exc.message}") from None
        problem = _degenerate(rule, 0.0, 1.0)
        if problem:
            raise ParamsError(f"parameter 'rule' is degenerate: {problem}")
    else:
        for _ in range(10_000):
            rule = parse(_sample_rule(rng, p["tier"]))
            if _degenerate(rule) is None and (p["tier"] <= 2 or not _reducible(rule)):
                break
        else:  # pragma: no cover - the templates make this unreachable
            raise ParamsError("could not generate a non-degenerate rule with these params")
    truth = truth_on_domain(rule)
    fitting = np.flatnonzero(truth)
    chosen = sorted(rng.sample(range(len(fitting)), min(p["examples"], len(fitting))))
    examples = [{"input": _pair_json(domain()[fitting[i]]), "result": True} for i in chosen]
    public = {
        "family": FAMILY_ID,
        "variables": list(VARIABLES),
        "tier": p["tier"],
        "max_tests": p["max_tests"],
        "examples": examples,
        "input_kind": "cards",
        "rule_example": RULE_EXAMPLE,
    }
    hidden = {"rule": rule.text, "size": rule.size, "true_fraction": float(truth.mean())}
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    from games.engine.core import validate_params

    return validate_params(PARAMS_SCHEMA, params or {})


# -- oracle, judge, score ---------------------------------------------------------------------------

_SHAPE = "a test is two cards as four whole numbers: prev_rank, prev_suit, rank, suit"


def parse_query(public: Mapping[str, Any], raw: Any) -> list[int]:
    if isinstance(raw, str):
        try:
            raw = [int(s) for s in raw.replace(",", " ").split()]
        except ValueError:
            raise QueryError(f"{_SHAPE} (ranks 1-13, suits 0-3)") from None
    if isinstance(raw, Mapping):
        missing = [v for v in VARIABLES if v not in raw]
        if missing:
            raise QueryError(f"missing value for {', '.join(missing)}; {_SHAPE}")
        raw = [raw[v] for v in VARIABLES]
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise QueryError(f"{_SHAPE}, got {raw!r}"[:200])
    out: list[int] = []
    for name, v in zip(VARIABLES, raw):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            raise QueryError(f"{name} must be a whole number, got {v!r}"[:200])
        low, high = (1, 13) if name.endswith("rank") else (0, 3)
        if not low <= v <= high:
            what = (
                "ranks go from 1 (ace) to 13 (king)"
                if name.endswith("rank")
                else ("suits go from 0 to 3 (0 clubs, 1 spades, 2 diamonds, 3 hearts)")
            )
            raise QueryError(f"{name} = {v} is out of range: {what}")
        out.append(v)
    return out


def answer(instance: Instance, query: Any) -> bool:
    point = parse_query(instance.public, query)
    rule = parse(instance.hidden["rule"])
    return bool(compile_rule(rule)(points_to_columns([point], 4))[0])


def guess_answer(instance: Instance, guess: str, query: Any) -> bool:
    point = parse_query(instance.public, query)
    return bool(compile_rule(parse(guess))(points_to_columns([point], 4))[0])


def check_rule(text: str) -> dict[str, Any]:
    return common.check_rule(text, parse)


def judge(instance: Instance, guess: str) -> Verdict:
    hidden = truth_on_domain(parse(instance.hidden["rule"]))
    mine = truth_on_domain(parse(guess))
    differ = np.flatnonzero(hidden != mine)
    first = int(differ[0]) if len(differ) else None
    return Verdict(
        correct=first is None,
        counterexample=None if first is None else _pair_json(domain()[first]),
        hidden_answer=None if first is None else bool(hidden[first]),
        guess_answer=None if first is None else bool(mine[first]),
        agreement=round(float((hidden == mine).mean()), 6),
        checked=len(hidden),
    )


score = common.score


def rule_size(text: str) -> int:
    return parse(text).size


# -- text for prompts and screen readers ------------------------------------------------------------


def describe(public: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            "There is a hidden rule about which playing card may follow which, as in the game Eleusis.",
            "A card is two whole numbers: its rank, 1 (ace) to 13 (king), and its suit, 0 clubs, 1 spades, "
            "2 diamonds, 3 hearts (so suit // 2 is the colour: 0 black, 1 red).",
            f"You may run up to {public['max_tests']} tests: give a previous card and a next card, and you "
            "are told whether the next card may follow it (True) or not (False).",
            "Then state the rule once. A guess ends your game; you may guess early.",
            "Your guess is correct if it agrees with the hidden rule on every one of the 2,704 pairs of cards.",
            "Write the rule as a Python-style condition over prev_rank, prev_suit, rank and suit, for example: "
            f"{RULE_EXAMPLE}.",
            language_summary(VARIABLES),
        ]
    )


def _pair_text(p: Sequence[Any]) -> str:
    pr, ps, r, s = (int(v) for v in p)
    return f"{card_name(pr, ps)} then {card_name(r, s)} ({pr}, {ps}, {r}, {s})"


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    return common.render_observation(public, history, tests_left, show_input=_pair_text)


# -- the reference hypothesis space -----------------------------------------------------------------


class EleusisSpace(HypothesisSpace):
    """Every clause of the generator's grammar, every pair of them joined by ``and`` / ``or``, and
    every 'a if condition else b' of the tier-4 shape, with rules that are constant or that
    repeat an earlier rule's truth table dropped; the probes are the whole domain."""

    def __init__(self) -> None:
        templates = clause_templates()
        atoms = list(templates[1] + templates[2])
        texts: list[str] = list(atoms)
        texts += [
            f"({a}) {op} ({b})" for i, a in enumerate(atoms) for b in atoms[i + 1 :] for op in ("and", "or")
        ]
        # the tier-4 shape: one condition picks which of two clauses applies
        texts += [f"({a}) if ({c}) else ({b})" for c in CONDITIONS for a in atoms for b in atoms if a != b]
        seen: set[bytes] = set()
        kept: list[str] = []
        rows: list[npt.NDArray[np.bool_]] = []
        for text in texts:
            rule = parse(text)
            truth = truth_on_domain(rule)
            key = np.packbits(truth).tobytes()
            if truth.all() or not truth.any() or key in seen:
                continue
            seen.add(key)
            kept.append(rule.text)
            rows.append(truth)
        super().__init__(texts=kept, variables=VARIABLES, probes=domain())
        # the probes are the domain, in the same order: the truth rows are already at hand
        self._probe_truth = np.stack(rows)

    def truth(self, points: Sequence[Sequence[float]]) -> npt.NDArray[np.bool_]:
        """Every valid test is a pair of the domain, whose column is already in the probe truth
        table: a lookup instead of evaluating thousands of rules."""
        index = _domain_index()
        try:
            columns = [index[tuple(int(v) for v in p)] for p in points]
        except KeyError:  # not a pair of cards: evaluate the rules
            return super().truth(points)
        selected: npt.NDArray[np.bool_] = self.probe_truth[:, columns]
        return selected


@functools.lru_cache(maxsize=1)
def reference_space() -> EleusisSpace:
    return EleusisSpace()


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return analytics.trace(reference_space(), history, examples=public.get("examples") or [])


# -- the application quiz ----------------------------------------------------------------------------

QUIZ_ITEMS = 6


def quiz_items(instance: Instance) -> list[list[int]]:
    """Fresh pairs to predict with the guess: the same for every player of the instance, none of
    them a given example. From version 2 they depend on public data only
    (``common.public_quiz_pick``); version 1 instances keep their half-fitting items so their
    matches replay and score as they were played."""
    examples = tuple(tuple(e["input"]) for e in instance.public.get("examples") or [])
    if instance.version < PUBLIC_QUIZ_VERSION:
        params = json.dumps(instance.params, sort_keys=True)
        return [list(p) for p in _quiz_items_v1(instance.hidden["rule"], instance.seed, params, examples)]
    public_params = json.dumps(common.quiz_rng_key(instance.params), sort_keys=True)
    return [list(p) for p in _public_quiz_items(instance.seed, public_params, examples)]


@functools.lru_cache(maxsize=1)
def _quiz_strata() -> tuple[npt.NDArray[np.bool_], ...]:
    """Shapes of pairs that no rule is asked about, mixed in so that common rules (suits,
    colours, rank steps) do not answer every item the same way."""
    prev_rank, prev_suit, rank, suit = _columns()
    anything = np.ones(len(rank), dtype=bool)
    return (
        anything,
        anything,
        suit == prev_suit,
        (suit // 2 == prev_suit // 2) & (suit != prev_suit),
        np.abs(rank - prev_rank) == 1,
        rank == prev_rank,
    )


@functools.lru_cache(maxsize=1024)
def _public_quiz_items(
    seed: int, public_params: str, examples: tuple[tuple[Any, ...], ...]
) -> tuple[tuple[int, ...], ...]:
    rng = seeded_rng("quiz", FAMILY_ID, PUBLIC_QUIZ_VERSION, seed, json.loads(public_params))
    pts = domain()
    eligible = common.not_examples(pts, examples)
    picked = common.public_quiz_pick(rng, eligible=eligible, strata=_quiz_strata()[:QUIZ_ITEMS])
    return tuple(tuple(_pair_json(pts[i])) for i in picked)


@functools.lru_cache(maxsize=1024)
def _quiz_items_v1(
    rule_text: str, seed: int, params: str, examples: tuple[tuple[Any, ...], ...]
) -> tuple[tuple[int, ...], ...]:
    """Generator version 1: half the items fit the hidden rule (which leaked 2-3 bits)."""
    rng = seeded_rng("quiz", FAMILY_ID, 1, seed, json.loads(params))
    truth = _truth(rule_text)
    pts = domain()
    picked = common.half_true_pick(
        rng, eligible=common.not_examples(pts, examples), truth=truth, count=QUIZ_ITEMS
    )
    return tuple(tuple(_pair_json(pts[i])) for i in picked)


def quiz_score(instance: Instance, guess: str | None, answers: Sequence[Any]) -> dict[str, Any]:
    """The quiz answers, scored against the hidden rule and against the player's own rule."""
    return common.quiz_score(
        items=quiz_items(instance),
        arity=4,
        hidden=parse(instance.hidden["rule"]),
        guess=guess,
        parse=parse,
        answers=answers,
    )


# -- baseline solvers --------------------------------------------------------------------------------


def _random_test(rng: random.Random) -> list[int | float]:
    return [rng.choice(RANKS), rng.choice(SUITS), rng.choice(RANKS), rng.choice(SUITS)]


def random_input(rng: random.Random, public: Mapping[str, Any]) -> list[int]:
    return [rng.choice(RANKS), rng.choice(SUITS), rng.choice(RANKS), rng.choice(SUITS)]


def format_answer(value: Any) -> str:
    return "fits the rule (True)" if value is True else "does not fit the rule (False)"


def simplicity_key(value: Any) -> tuple[Any, ...]:
    """Low cards first: by the larger rank, then the ranks, then the suits (the judge's order)."""
    pr, ps, r, s = (int(v) for v in value)
    return (max(pr, r), pr, r, ps, s)


PRESENTATION = Presentation(
    input_schema={
        "type": "array",
        "prefixItems": [
            {"type": "integer", "minimum": 1, "maximum": 13, "description": "prev_rank"},
            {"type": "integer", "minimum": 0, "maximum": 3, "description": "prev_suit"},
            {"type": "integer", "minimum": 1, "maximum": 13, "description": "rank"},
            {"type": "integer", "minimum": 0, "maximum": 3, "description": "suit"},
        ],
        "minItems": 4,
        "maxItems": 4,
        "description": "two cards [prev_rank, prev_suit, rank, suit]: may the second follow the first?",
    },
    answer_schema={"type": "boolean", "description": "whether the next card may follow the previous one"},
    guess_schema={"type": "string", "maxLength": 2000, "description": "a condition over the four names"},
    # the harder tiers write "a if c else b"
    guess_pattern=rule_pattern(VARIABLES, conditional=True),
    widget={
        "kind": "card_pair",
        "fields": list(VARIABLES),
        "cards": ["previous card", "next card"],
        "ranks": [{"value": r, "text": RANK_NAMES.get(r, str(r))} for r in RANKS],
        # tone: the colour the page draws the suit in (suit // 2 is the colour: 0 black, 1 red)
        "suits": [
            {
                "value": k,
                "symbol": SUIT_SYMBOLS[k],
                "name": SUIT_NAMES[k],
                "tone": "red" if k // 2 else "black",
            }
            for k in SUITS
        ],
    },
    test_noun="a pair of cards",
    input_placeholder="[prev_rank, prev_suit, rank, suit]",
    input_example=[12, 3, 5, 0],
    rule_example=RULE_EXAMPLE,
    guess_label="prev_rank, prev_suit, rank, suit",
    syntax_help="A Python-style condition over prev_rank, prev_suit, rank and suit. "
    + language_summary(VARIABLES),
    format_input=_pair_text,
    format_answer=format_answer,
    answer_words={"true": "fits the rule", "false": "does not fit the rule"},
    simplicity_key=simplicity_key,
    simplicity_order="low cards first: by the larger of the two ranks, then the ranks, then the suits",
)
_TIERS = (
    ("Higher, lower, same suit", "One comparison of rank, suit or colour."),
    ("Parity, steps and sums", "Odd and even, one step up or down, sums of ranks."),
    ("Two conditions", "Two conditions joined by and / or."),
    (
        "It depends",
        "One condition decides which of two rules applies, e.g. after a face card go lower, otherwise go higher.",
    ),
)
VARIANTS = tuple(
    VariantSpec(
        slug=f"eleusis-tier-{tier}",
        title=f"Eleusis tier {tier}: {title}",
        params={"tier": tier, "max_tests": 20},
        description=description,
    )
    for tier, (title, description) in enumerate(_TIERS, 1)
)


REFERENCE_SPACE = ReferenceSpace(
    "enumerated",
    "Every clause of the generator's grammar, every pair joined by and / or and every tier-4 "
    "'a if condition else b', listed and compared on every pair of cards (the whole test domain): "
    "the counts are exact for that space.",
)


FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="Which card may follow (Eleusis)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=score,
        scoring_help=common.scoring_help,
        explain_score=common.explain_score,
        describe=describe,
        render_observation=render_observation,
        solvers=common.baseline_solvers(reference_space, _random_test),
        step_analytics=step_analytics,
        rule_size=rule_size,
        quiz_items=quiz_items,
        quiz_score=quiz_score,
        reference_space=REFERENCE_SPACE,
        presentation=PRESENTATION,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        extras={
            "parse": parse,
            "reference_space": reference_space,
            "domain": domain,
            "card_name": card_name,
            "format_query": _pair_text,
        },
    )
)

"""Family ``rewrite``: a hidden ordered cascade of string rewrite rules (as in PBEBench).

The hidden rule is a list of rules ``lhs -> rhs`` over a small alphabet (``a``, ``b``, ...).
A test is a string; the answer is the string the cascade makes of it. The meaning is exactly
Python's ``str.replace`` applied rule after rule: **each rule once, in order, on all
non-overlapping occurrences of its left side, found left to right in the string as the earlier
rules left it**. So ``ab -> ba`` turns ``aab`` into ``aba`` (one pass, not until nothing is left
to rewrite), and ``aa -> b`` turns ``aaa`` into ``ba``.

The testable domain is finite: every string of 1 to ``max_length`` letters of the instance's
alphabet (``max_length`` is set by the alphabet size so the domain holds at most about 30,000
strings). The judge runs both cascades on every one of them, so its verdict is exact, and the
counterexample is the first differing string in the simplicity order: shorter first, then
alphabetical. The whole domain is rewritten at once: the strings are joined with a newline, which
no rule can contain, so no occurrence can span two strings and one ``str.replace`` per rule
rewrites every string exactly as it would alone.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import re
from collections import Counter
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
    validate_params,
)
from games.engine.families import common
from games.engine.hypotheses import HypothesisSpace

FAMILY_ID = "rewrite"
VERSION = 1
LETTERS = "abcde"
# The longest testable string per alphabet size: the largest length whose domain (every string of
# 1..n letters) stays under about 33,000 strings, so the judge can check all of them.
MAX_LENGTH = {2: 14, 3: 9, 4: 7, 5: 6}
# Bounds of the guess language: nothing a player types can make the judge slow.
MAX_RULES = 60
MAX_SIDE = 10
MAX_GUESS_CHARS = 2000
MAX_GROWTH = 16  # the most a guessed cascade may multiply a string's length by, in the worst case
HIDDEN_GROWTH = 4
# Examples in the texts use x, y, z, letters no alphabet has, so no example is ever a hint.
RULE_EXAMPLE = "xy -> yx; z -> "

# difficulty level -> (cascade length, alphabet size, rule length)
TIERS = {1: (2, 3, 2), 2: (4, 3, 2), 3: (8, 4, 3)}

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "tier": {
            "x-knob": True,
            "type": "integer",
            "minimum": 1,
            "maximum": 3,
            "default": 1,
            "description": "difficulty level, setting the knobs left at 0: 1 two rules over a, b, c with "
            "sides of up to 2 letters; 2 four such rules; 3 eight rules over a-d with sides of up to 3 letters",
        },
        # difficulty levels, easiest first (0, "by the difficulty level", is not one of them; a
        # sample of the lengths keeps bench_families' run short)
        "cascade_length": {
            "x-knob": True,
            "x-knob-levels": [1, 2, 3, 5, 10, 20, 30],
            "type": "integer",
            "minimum": 0,
            "maximum": 30,
            "default": 0,
            "description": "how many rewrite rules the hidden cascade has (0: by the difficulty level)",
        },
        "alphabet_size": {
            "x-knob": True,
            "x-knob-levels": [2, 3, 4, 5],
            "type": "integer",
            "enum": [0, 2, 3, 4, 5],
            "default": 0,
            "description": "how many letters strings use, from a (0: by the difficulty level)",
        },
        "rule_length": {
            "x-knob": True,
            "x-knob-levels": [1, 2, 3],
            "type": "integer",
            "enum": [0, 1, 2, 3],
            "default": 0,
            "description": "the longest left or right side of a hidden rule (0: by the difficulty level)",
        },
        "examples": {
            "x-knob": True,
            "x-knob-levels": [8, 4, 2, 1],  # fewer examples, harder
            "type": "integer",
            "minimum": 1,
            "maximum": 8,
            "default": 3,
            "description": "input/output examples shown at the start",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "default": 20,
            "description": "test budget before the final guess",
        },
        "rule": {
            "type": "string",
            "default": "",
            "description": "a hand-written hidden cascade, e.g. 'xy -> yx; z -> x' (over the alphabet's letters) (empty: generated)",
        },
    },
}

Cascade = tuple[tuple[str, str], ...]


# -- the guess language ------------------------------------------------------------------------------

_SIDE = re.compile(r"[a-z]*")


def _side(raw: str, what: str, column: int) -> str:
    text = raw.strip()
    if text in ('""', "''"):
        return ""
    if len(text) > MAX_SIDE:
        raise RuleError(f"a {what} has at most {MAX_SIDE} letters, got {len(text)}", column=column)
    if not _SIDE.fullmatch(text):
        bad = next(c for c in text if not ("a" <= c <= "z"))
        raise RuleError(
            f'a {what} is lowercase letters only (write an empty right side as nothing or ""), found {bad!r}',
            column=column,
        )
    return text


def parse(text: str) -> Cascade:
    """Read a cascade: rules ``lhs -> rhs`` one per line or separated by ``;``."""
    if not isinstance(text, str):
        raise RuleError("a rule list is text")
    if len(text) > MAX_GUESS_CHARS:
        raise RuleError(f"a rule list has at most {MAX_GUESS_CHARS} characters, got {len(text)}")
    rules: list[tuple[str, str]] = []
    offset = 0
    for part in re.split(r"(;|\n)", text):
        if part in (";", "\n"):
            offset += 1
            continue
        column = offset + 1 + (len(part) - len(part.lstrip()))
        offset += len(part)
        if not part.strip():
            continue
        if part.count("->") != 1:
            raise RuleError(
                f"each rule is 'left -> right', e.g. 'xy -> yx'; got {part.strip()[:40]!r}", column=column
            )
        lhs_raw, rhs_raw = part.split("->")
        lhs = _side(lhs_raw, "left side", column)
        rhs = _side(rhs_raw, "right side", column + len(lhs_raw) + 2)
        if not lhs:
            raise RuleError("a left side needs at least one letter", column=column)
        rules.append((lhs, rhs))
        if len(rules) > MAX_RULES:
            raise RuleError(f"a rule list has at most {MAX_RULES} rules", column=column)
    if not rules:
        raise RuleError("write at least one rule 'left -> right', e.g. 'xy -> yx'")
    if growth(tuple(rules)) > MAX_GROWTH:
        raise RuleError(
            f"these rules could make a string more than {MAX_GROWTH} times longer; "
            "use fewer rules whose right side is longer than their left"
        )
    return tuple(rules)


# The pattern of well-formed guesses (constrained decoding) holds the longest side and the most
# rules a hidden cascade has, not the language's own limits: a decoder kept to what the puzzles
# use writes no 10-letter sides.
PATTERN_SIDE = max(
    int(PARAMS_SCHEMA["properties"]["rule_length"]["enum"][-1]), *(t[2] for t in TIERS.values())
)
PATTERN_RULES = int(PARAMS_SCHEMA["properties"]["cascade_length"]["maximum"])


def guess_pattern() -> str:
    """A regular expression whose every match ``parse`` reads, except where the rules could grow a
    string more than ``MAX_GROWTH`` times (a product of the rules' ratios a regular expression
    cannot bound): up to ``PATTERN_RULES`` rules ``lhs -> rhs`` of up to ``PATTERN_SIDE``
    lowercase letters, joined by ``;``, the empty right side written as nothing or ``''``.

    Never as ``""``, the canonical spelling: llama.cpp's grammar converter writes a quote in a
    pattern into the reply unescaped, which ends the JSON string early."""
    side = f"[a-z]{{1,{PATTERN_SIDE}}}"
    rule = f"{side} ?-> ?({side}|'')?"
    return f"^{rule}( ?; ?{rule}){{0,{PATTERN_RULES - 1}}}$"


def growth(cascade: Cascade) -> float:
    """The most the cascade can multiply a string's length by: a rule consumes len(lhs) letters
    per occurrence and writes len(rhs), so it grows a string by at most len(rhs) / len(lhs)."""
    out = 1.0
    for lhs, rhs in cascade:
        out *= max(1.0, len(rhs) / len(lhs))
    return out


def to_text(cascade: Cascade) -> str:
    return "; ".join(f"{lhs} -> {rhs if rhs else chr(34) * 2}" for lhs, rhs in cascade)


def size(cascade: Cascade) -> int:
    return sum(1 + len(lhs) + len(rhs) for lhs, rhs in cascade)


def apply(cascade: Cascade, text: str) -> str:
    """The semantics: each rule once, in order, on every non-overlapping occurrence left to right."""
    for lhs, rhs in cascade:
        text = text.replace(lhs, rhs)
    return text


def apply_all(cascade: Cascade, texts: Sequence[str]) -> list[str]:
    """``apply`` on many strings at once (none contains a newline; no rule can)."""
    joined = "\n".join(texts)
    for lhs, rhs in cascade:
        joined = joined.replace(lhs, rhs)
    return joined.split("\n")


def check_rule(text: str) -> dict[str, Any]:
    try:
        cascade = parse(text)
    except RuleError as exc:
        return {"ok": False, "error": exc.message, "column": exc.column}
    return {"ok": True, "canonical": to_text(cascade), "size": size(cascade)}


def rule_size(text: str) -> int:
    return size(parse(text))


# -- the domain ----------------------------------------------------------------------------------------


def alphabet_of(public: Mapping[str, Any]) -> str:
    return str(public["alphabet"])


@functools.lru_cache(maxsize=8)
def domain(alphabet: str, max_length: int) -> tuple[str, ...]:
    """Every testable string, simplest first: shorter first, then alphabetical."""
    return tuple("".join(p) for n in range(1, max_length + 1) for p in itertools.product(alphabet, repeat=n))


@functools.lru_cache(maxsize=256)
def _outputs(canonical: str, alphabet: str, max_length: int) -> tuple[str, ...]:
    return tuple(apply_all(parse(canonical), domain(alphabet, max_length)))


def simplicity_key(value: Any) -> tuple[Any, ...]:
    text = str(value)
    return (len(text), text)


# -- the generator -------------------------------------------------------------------------------------


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return validate_params(PARAMS_SCHEMA, params or {})


def settings(p: Mapping[str, Any]) -> tuple[int, int, int]:
    length, letters, side = TIERS[p["tier"]]
    return (p["cascade_length"] or length, p["alphabet_size"] or letters, p["rule_length"] or side)


def _sample_cascade(rng: random.Random, length: int, alphabet: str, side: int) -> Cascade | None:
    """Rule after rule, each one rewriting something in the strings the earlier rules leave
    (over the strings of up to 6 letters), and the whole growing a string at most 4 times."""
    probe = domain(alphabet, min(6, MAX_LENGTH[len(alphabet)]))
    current = "\n".join(probe)
    rules: list[tuple[str, str]] = []
    for _ in range(length):
        for _attempt in range(200):
            lhs = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, side)))
            # mostly same-length substitutions (as in PBEBench): deletions soon empty every string
            width = len(lhs) if rng.random() < 0.75 else rng.randint(0, side)
            rhs = "".join(rng.choice(alphabet) for _ in range(width))
            if lhs == rhs or lhs not in current:
                continue
            if growth((*rules, (lhs, rhs))) > HIDDEN_GROWTH:
                continue
            rewritten = current.replace(lhs, rhs)
            if len(set(rewritten.split("\n"))) < 3:  # nearly every string to one output
                continue
            rules.append((lhs, rhs))
            current = rewritten
            break
        else:
            return None
    return tuple(rules)


def _degenerate(cascade: Cascade, alphabet: str, max_length: int) -> str | None:
    outputs = _outputs(to_text(cascade), alphabet, max_length)
    if all(o == s for o, s in zip(outputs, domain(alphabet, max_length))):
        return "it leaves every string unchanged"
    most = max(Counter(outputs).values())
    if most > 0.9 * len(outputs):
        return f"it gives {most} of the {len(outputs)} strings the same output"
    return None


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    length, letters, side = settings(p)
    alphabet = LETTERS[:letters]
    max_length = MAX_LENGTH[letters]
    rng = seeded_rng(FAMILY_ID, VERSION, seed, p)
    if p["rule"]:
        try:
            cascade = parse(p["rule"])
        except RuleError as exc:
            raise ParamsError(f"parameter 'rule' is not a valid rule list: {exc.message}") from None
        problem = _degenerate(cascade, alphabet, max_length)
        if problem:
            raise ParamsError(f"parameter 'rule' is degenerate: {problem}")
    else:
        for _ in range(1000):
            drawn = _sample_cascade(rng, length, alphabet, side)
            if drawn is not None and _degenerate(drawn, alphabet, max_length) is None:
                cascade = drawn
                break
        else:  # pragma: no cover - the sampler only fails on alphabets no knob gives
            raise ParamsError("could not generate a cascade with these params")
    # examples: strings of 4 to 6 letters, preferring ones the cascade changes
    pool = [s for s in domain(alphabet, min(6, max_length)) if len(s) >= 4]
    changed = [s for s in pool if apply(cascade, s) != s]
    chosen: list[str] = []
    for _ in range(p["examples"]):
        source = changed if changed and rng.random() < 0.8 else pool
        s = rng.choice(source)
        if s not in chosen:
            chosen.append(s)
    chosen.sort(key=simplicity_key)
    public = {
        "family": FAMILY_ID,
        "alphabet": alphabet,
        "max_length": max_length,
        "tier": p["tier"],
        "max_tests": p["max_tests"],
        "examples": [{"input": s, "result": apply(cascade, s)} for s in chosen],
        "rule_example": RULE_EXAMPLE,
    }
    hidden = {"rule": to_text(cascade), "size": size(cascade), "rules": len(cascade)}
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


# -- oracle and judge ------------------------------------------------------------------------------------


def parse_query(public: Mapping[str, Any], raw: Any) -> str:
    alphabet, max_length = alphabet_of(public), int(public["max_length"])
    shape = f"a test is a string of 1 to {max_length} letters from {', '.join(alphabet)}"
    if not isinstance(raw, str):
        raise QueryError(f"{shape}, got {json.dumps(raw, default=str)[:80]}")
    text = raw.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        text = text[1:-1]
    if not text:
        raise QueryError(f"{shape}; the empty string is not a test")
    if len(text) > max_length:
        raise QueryError(f"{shape}; got {len(text)} characters")
    bad = [c for c in text if c not in alphabet]
    if bad:
        raise QueryError(f"{shape}; {bad[0]!r} is not one of them")
    return text


def answer(instance: Instance, query: Any) -> str:
    return apply(parse(instance.hidden["rule"]), parse_query(instance.public, query))


def guess_answer(instance: Instance, guess: str, query: Any) -> str:
    return apply(parse(guess), parse_query(instance.public, query))


def judge(instance: Instance, guess: str) -> Verdict:
    alphabet, max_length = alphabet_of(instance.public), int(instance.public["max_length"])
    mine_rules = parse(guess)
    hidden = _outputs(to_text(parse(instance.hidden["rule"])), alphabet, max_length)
    mine = apply_all(mine_rules, domain(alphabet, max_length))
    inputs = domain(alphabet, max_length)
    same = [h == m for h, m in zip(hidden, mine)]
    first = next((i for i, ok in enumerate(same) if not ok), None)
    return Verdict(
        correct=first is None,
        counterexample=None if first is None else inputs[first],
        hidden_answer=None if first is None else hidden[first],
        guess_answer=None if first is None else mine[first],
        agreement=round(sum(same) / len(same), 6),
        checked=len(inputs),
    )


score = common.score


# -- text ----------------------------------------------------------------------------------------------------


def describe(public: Mapping[str, Any]) -> str:
    alphabet = alphabet_of(public)
    return "\n".join(
        [
            "There is a hidden list of string rewrite rules, applied in order (a cascade).",
            "Each rule 'left -> right' is applied once, in its turn, to the string as the earlier rules "
            "left it: every non-overlapping occurrence of its left side, found from left to right, is "
            "replaced by its right side (Python's str.replace). It is not repeated until nothing changes: "
            "with letters x and y, 'xy -> yx' turns xxy into xyx, and 'xx -> y' turns xxx into yx.",
            f"Strings use the letters {', '.join(alphabet)}. A test is a string of 1 to {public['max_length']} "
            "of them; the answer is the string the cascade makes of it (possibly empty).",
            f"You may run up to {public['max_tests']} tests. Then state the rule list once; a guess ends "
            "your game, and you may guess early.",
            "Write one rule 'left -> right' per line or separate rules with ';'; an empty right side deletes "
            f'(write it as nothing or ""). For example: {RULE_EXAMPLE}',
            f"Your guess is correct if it gives the same output as the hidden cascade on every string of "
            f"1 to {public['max_length']} letters; otherwise you are shown the shortest (then alphabetically "
            "first) string where they differ.",
        ]
    )


def format_input(value: Any) -> str:
    return json.dumps(str(value))


def format_answer(value: Any) -> str:
    return json.dumps(str(value))


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    return common.render_observation(
        public, history, tests_left, show_input=format_input, show_answer=format_answer
    )


def random_input(rng: random.Random, public: Mapping[str, Any]) -> str:
    """Short strings more often: the length is drawn with weight 1 / length."""
    alphabet, max_length = alphabet_of(public), int(public["max_length"])
    lengths = list(range(1, max_length + 1))
    n = rng.choices(lengths, weights=[1 / k for k in lengths])[0]
    return "".join(rng.choice(alphabet) for _ in range(n))


# -- the reference space and the search baseline ----------------------------------------------------------


@functools.lru_cache(maxsize=16)
def single_rules(alphabet: str, side: int) -> tuple[tuple[str, str], ...]:
    sides = [""] + ["".join(p) for n in range(1, side + 1) for p in itertools.product(alphabet, repeat=n)]
    return tuple((lhs, rhs) for lhs in sides[1:] for rhs in sides if lhs != rhs)


@functools.lru_cache(maxsize=16)
def candidates(alphabet: str, side: int) -> tuple[Cascade, ...]:
    """Cascades of one rule, and of two when there are at most 200 single rules, simplest first
    (fewer rules, then fewer letters)."""
    singles = single_rules(alphabet, side)
    out: list[Cascade] = [(r,) for r in singles]
    if len(singles) <= 200:
        out += [(r, s) for r in singles for s in singles if r != s]
    out.sort(key=lambda c: (len(c), size(c)))
    return tuple(out)


def _answers(cascades: Sequence[Cascade], inputs: Sequence[str]) -> list[list[str]]:
    return [apply_all(c, inputs) for c in cascades]


class RewriteSpace(HypothesisSpace):
    """The cascades ``candidates`` lists (the public rule length; 1 to 2 rules). Its answers are
    strings, so ``truth`` is a matrix of answer keys. A hidden cascade outside it empties it."""

    def __init__(self, alphabet: str, side: int) -> None:
        self.cascades = candidates(alphabet, side)
        self.texts = [to_text(c) for c in self.cascades]
        self.variables = ("s",)
        self.probes = np.zeros((0, 1))
        self._probe_truth = None

    def truth(self, points: Sequence[Any]) -> npt.NDArray[Any]:
        out = np.empty((len(self.cascades), len(points)), dtype=object)
        inputs = [str(p) for p in points]
        for i, c in enumerate(self.cascades):
            out[i, :] = [analytics.answer_key(v) for v in apply_all(c, inputs)]
        return out


def _space_side(public: Mapping[str, Any]) -> int:
    # the solvers and analytics assume sides of up to 2 letters (3 would give 10^5+ cascades)
    return 2 if len(alphabet_of(public)) <= 3 else 1


@functools.lru_cache(maxsize=8)
def reference_space(alphabet: str, side: int) -> RewriteSpace:
    return RewriteSpace(alphabet, side)


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    space = reference_space(alphabet_of(public), _space_side(public))
    return analytics.trace(space, history, examples=public.get("examples") or [])


class SearchSolver:
    """Keeps the candidate cascades (1 or 2 rules) that reproduce every example and answer, tests
    the short string whose answers split the survivors into the most groups, and guesses the
    simplest survivor once all survivors agree on every string of up to 5 letters."""

    name = "search"
    max_scored = 1500

    def __init__(self, public: Mapping[str, Any], seed: int, *, random_tests: bool = False) -> None:
        self.public = public
        self.seed = seed
        self.random_tests = random_tests
        self.alphabet = alphabet_of(public)
        self.pool = domain(self.alphabet, min(5, int(public["max_length"])))

    def _survivors(self, observations: Sequence[Mapping[str, Any]]) -> tuple[list[Cascade], Cascade]:
        inputs = [str(o["input"]) for o in observations]
        wanted = [str(o["result"]) for o in observations]
        alive: list[Cascade] = []
        best, best_misses = None, len(inputs) + 1
        for c in candidates(self.alphabet, _space_side(self.public)):
            got = apply_all(c, inputs) if inputs else []
            misses = sum(g != w for g, w in zip(got, wanted))
            if misses == 0:
                alive.append(c)
            if misses < best_misses:
                best, best_misses = c, misses
        assert best is not None
        return alive, best

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        observations = list(self.public.get("examples") or []) + [h for h in history if "result" in h]
        alive, fallback = self._survivors(observations)
        guess = {"type": "guess", "rule": to_text(alive[0] if alive else fallback)}
        if tests_left <= 0 or len(alive) <= 1:
            return guess
        scored = alive[: self.max_scored]
        rows = _answers(scored, self.pool)
        tested = {str(o["input"]) for o in observations}
        groups = [len({row[j] for row in rows}) for j in range(len(self.pool))]
        if max(groups) <= 1:
            return guess
        if self.random_tests:
            rng = random.Random(f"rewrite-random:{self.seed}:{len(history)}")
            return {"type": "test", "input": random_input(rng, self.public)}
        best = max(
            (j for j in range(len(self.pool)) if self.pool[j] not in tested),
            key=lambda j: groups[j],
            default=None,
        )
        if best is None:
            return guess
        return {"type": "test", "input": self.pool[best]}


def _search(public: Mapping[str, Any], seed: int) -> SearchSolver:
    return SearchSolver(public, seed)


def _random(public: Mapping[str, Any], seed: int) -> SearchSolver:
    return SearchSolver(public, seed, random_tests=True)


# -- presentation and variants ------------------------------------------------------------------------------

PRESENTATION = Presentation(
    input_schema={
        "type": "string",
        "minLength": 1,
        "maxLength": max(MAX_LENGTH.values()),
        "pattern": f"^[{LETTERS[0]}-{LETTERS[-1]}]+$",
        "description": "a string of letters from the puzzle's alphabet",
    },
    answer_schema={"type": "string", "description": "the string the cascade makes of the input"},
    guess_schema={
        "type": "string",
        "maxLength": MAX_GUESS_CHARS,
        "description": "rules 'left -> right', one per line or separated by ';'",
    },
    widget={"kind": "string", "label": "string", "alphabet": LETTERS, "max_length": max(MAX_LENGTH.values())},
    test_noun="a string",
    input_placeholder='"abca"',
    input_example="abca",
    rule_example=RULE_EXAMPLE,
    guess_pattern=guess_pattern(),
    guess_label="strings: rules left -> right, in order",
    syntax_help=(
        "One rule 'left -> right' per line, or rules separated by ';', applied in order, each once to "
        "every non-overlapping occurrence from left to right. Sides are lowercase letters; an empty right "
        'side (nothing, or "") deletes.'
    ),
    format_input=format_input,
    format_answer=format_answer,
    simplicity_key=simplicity_key,
    simplicity_order="shorter strings first, then alphabetical",
)


def present(public: Mapping[str, Any]) -> Presentation:
    """The puzzle's own letters and longest test in the input's schema."""
    return common.string_input_presentation(PRESENTATION, alphabet_of(public), int(public["max_length"]))


VARIANTS = (
    VariantSpec(
        slug="rewrite-level-1",
        title="Rewrite level 1: two rules",
        params={"tier": 1},
        description="Two rewrite rules over a, b, c, each side at most two letters.",
    ),
    VariantSpec(
        slug="rewrite-level-2",
        title="Rewrite level 2: four rules",
        params={"tier": 2},
        description="Four rewrite rules over a, b, c, each side at most two letters.",
    ),
    VariantSpec(
        slug="rewrite-level-3",
        title="Rewrite level 3: eight rules",
        params={"tier": 3, "max_tests": 30},
        description="Eight rewrite rules over a, b, c, d, each side at most three letters.",
    ),
)

REFERENCE_SPACE = ReferenceSpace(
    "estimated",
    "Cascades of up to 30 rules are too many to list: the space listed is every single rule with "
    "sides of up to two letters (one letter over alphabets of four or more), and every cascade of two "
    "such rules when there are at most 200 single ones. Longer "
    "hidden cascades lie outside it (the analytics then report it exhausted), so the counts estimate "
    "the true space from its short part.",
)


FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="String rewrite cascade (PBEBench)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=score,
        describe=describe,
        render_observation=render_observation,
        solvers={"search": _search, "random": _random},
        step_analytics=step_analytics,
        rule_size=rule_size,
        reference_space=REFERENCE_SPACE,
        presentation=PRESENTATION,
        present=present,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        extras={"parse": parse, "apply": apply, "domain": domain},
    )
)

"""Family ``subregular``: strictly local string functions (as in InductionBench).

The hidden rule rewrites a string symbol by symbol. In an **input-strictly-local** (ISL) function
with window ``k`` the output symbol at position ``i`` depends on the input symbol there and the
``k - 1`` *input* symbols before it; in an **output-strictly-local** (OSL) one, on the input symbol
and the ``k - 1`` *output* symbols written before it. Before the start of the word the context is
padded with the boundary mark ``^``. Every function here preserves length: each symbol becomes
exactly one symbol.

A test is a string over the puzzle's alphabet (``a``, ``b``, ... up to ``max_length`` symbols);
the answer is the output string.

**The guess language.** A guess is a list of local rules separated by ``;`` or new lines::

    ab:b -> c        after the context "ab", the symbol b becomes c
    ^:a -> b         an a at the very start of the word becomes b
    ^a:c -> a        a c that follows a word-initial a becomes a
    b -> a           every b becomes a (empty context)

A context is zero or more symbols, optionally preceded by ``^`` marks (the word boundary; ``^``
only at its start). Where several rules fit a position the one with the **longest context**
wins; where none fits the symbol is copied. An optional first item ``OSL`` says the contexts are
read on the output already written (``ISL``, the default, says: on the input). Listing one
context and symbol twice with different results is an error. The canonical form sorts the rules
and writes them on one line, separated by ``"; "``.

**The judge is exact** on every testable string (every string over the alphabet of length 1 to
``max_length``): it explores the product of the two functions' local states (the last ``m``
input and output symbols, ``m`` the longest context either uses) breadth first, in the
simplicity order (shorter strings first, then alphabetical), so the counterexample it returns is
the simplest testable string on which the two outputs differ, and a "same" verdict means they
agree on every string a player may test. The agreement (partial credit) is the exact fraction of
testable strings with equal outputs, counted over the same states.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from games.engine.core import (
    Family,
    Instance,
    ParamsError,
    Presentation,
    QueryError,
    ReferenceSpace,
    RuleError,
    SolverFactory,
    VariantSpec,
    Verdict,
    register,
    seeded_rng,
    validate_params,
)
from games.engine.families import common

FAMILY_ID = "subregular"
VERSION = 1
BOUNDARY = "^"
SYMBOLS = "abcdef"  # the largest alphabet; a puzzle uses the first `alphabet` of them
MAX_CONTEXT = 5  # longest context a guess may write (the generator uses k - 1 <= 3)
MAX_RULES = 300
MAX_GUESS_CHARS = 5000
RULE_EXAMPLE = "ff:e -> f; ^:f -> e"  # no generated rule uses f and e this way (alphabets stop at e)

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "k": {
            "x-knob": True,
            "type": "integer",
            "minimum": 2,
            "maximum": 4,
            "default": 2,
            "description": "window size: a symbol's output depends on it and the k-1 symbols before it",
        },
        "alphabet": {
            "x-knob": True,
            "type": "integer",
            "minimum": 2,
            "maximum": 5,
            "default": 3,
            "description": "alphabet size (the first letters a, b, c, ...)",
        },
        "rules": {
            "x-knob": True,
            "type": "integer",
            "minimum": 1,
            "maximum": 6,
            "default": 2,
            "description": "number of local rules that change a symbol (the rest copy it)",
        },
        # a kind of function, not a difficulty order: the tabulation learner reads both alike
        "mode": {
            "type": "string",
            "enum": ["ISL", "OSL"],
            "default": "ISL",
            "description": "ISL: contexts are read on the input; OSL: on the output already written",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            # 30 strings of 10 symbols cover every window of the smaller puzzles even at random,
            # which made window size, alphabet and rule count no harder to solve
            "default": 12,
            "description": "test budget before the final guess",
        },
        "max_length": {
            "type": "integer",
            "minimum": 6,
            "maximum": 16,
            "default": 10,
            "description": "longest test string (at least 6 >= k + 2, so every window can be tested)",
        },
        "examples": {
            "type": "integer",
            "minimum": 0,
            "maximum": 5,
            "default": 2,
            "description": "input/output pairs shown at the start",
        },
    },
}


# -- the rule language --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalRules:
    """A parsed guess or hidden rule: mode and {(context, symbol): output}."""

    mode: str
    table: tuple[tuple[str, str, str], ...]  # sorted (context, symbol, output)

    @functools.cached_property
    def lookup(self) -> dict[tuple[str, str], str]:
        return {(context, symbol): result for context, symbol, result in self.table}

    @functools.cached_property
    def lengths(self) -> dict[str, tuple[int, ...]]:
        """Per symbol, the lengths of its rules' contexts, longest first (the longest wins)."""
        out: dict[str, set[int]] = {}
        for context, symbol, _ in self.table:
            out.setdefault(symbol, set()).add(len(context))
        return {symbol: tuple(sorted(lengths, reverse=True)) for symbol, lengths in out.items()}

    @property
    def reach(self) -> int:
        """How many symbols back the rules look."""
        return max((len(c) for c, _, _ in self.table), default=0)

    @property
    def text(self) -> str:
        body = "; ".join(f"{c}:{s} -> {r}" if c else f"{s} -> {r}" for c, s, r in self.table)
        return f"OSL; {body}" if self.mode == "OSL" else body

    @property
    def size(self) -> int:
        return len(self.table)

    def step(self, context: str, symbol: str) -> str:
        """The output for ``symbol`` after ``context`` (padded with ``^`` to at least the reach)."""
        for length in self.lengths.get(symbol, ()):
            result = self.lookup.get((context[len(context) - length :], symbol))
            if result is not None:
                return result
        return symbol

    def apply(self, word: str) -> str:
        pad = BOUNDARY * max(self.reach, 1)
        seen = pad
        out: list[str] = []
        for symbol in word:
            written = self.step(seen, symbol)
            out.append(written)
            seen += written if self.mode == "OSL" else symbol
        return "".join(out)


def _fail(message: str, column: int) -> RuleError:
    return RuleError(message, column=column)


def parse(text: str) -> LocalRules:
    """Read a guess as typed (see the module doc); a ``RuleError`` says what and where."""
    if not isinstance(text, str):
        raise RuleError("a guess is text: local rules such as 'ab:b -> c'")
    if len(text) > MAX_GUESS_CHARS:
        raise _fail(f"the guess is too long ({len(text)} characters; at most {MAX_GUESS_CHARS})", 1)
    mode = "ISL"
    table: dict[tuple[str, str], str] = {}
    items: list[tuple[str, int]] = []
    start = 0
    for i, ch in enumerate(text + ";"):
        if ch in ";\n":
            items.append((text[start:i], start + 1))
            start = i + 1
    first = True
    for raw, column in items:
        item = raw.strip()
        column += len(raw) - len(raw.lstrip())
        if not item:
            continue
        if first and item.upper() in ("ISL", "OSL"):
            mode = item.upper()
            first = False
            continue
        first = False
        if "->" not in item:
            raise _fail(
                f"'{item[:40]}' is not a rule: write 'context:symbol -> output', e.g. 'ab:b -> c'", column
            )
        left, _, right = item.partition("->")
        result = right.strip()
        right_col = column + len(left) + 2 + (len(right) - len(right.lstrip()))
        if len(result) != 1 or result not in SYMBOLS:
            raise _fail(
                f"after '->' write one symbol ({', '.join(SYMBOLS)}), got '{result[:20]}'",
                right_col,
            )
        left = left.strip()
        context, colon, symbol = left.rpartition(":")
        if not colon:
            context, symbol = "", left
        context, symbol = context.strip(), symbol.strip()
        if len(symbol) != 1 or symbol not in SYMBOLS:
            raise _fail(
                f"before '->' write one input symbol ({', '.join(SYMBOLS)}), after an optional "
                f"'context:', got '{symbol[:20]}'",
                column,
            )
        marks = len(context) - len(context.lstrip(BOUNDARY))
        letters = context[marks:]
        bad = next((c for c in letters if c not in SYMBOLS), None)
        if bad is not None:
            where = "only at the start of a context" if bad == BOUNDARY else f"not {bad!r}"
            raise _fail(
                f"a context is symbols ({', '.join(SYMBOLS)}) after optional '^' marks (^ {where})",
                column + context.find(bad) if bad in context else column,
            )
        if len(context) > MAX_CONTEXT:
            raise _fail(f"a context is at most {MAX_CONTEXT} long, got '{context}'", column)
        key = (context, symbol)
        if key in table and table[key] != result:
            raise _fail(f"'{context}:{symbol}' is given two outputs ({table[key]} and {result})", column)
        table[key] = result
        if len(table) > MAX_RULES:
            raise _fail(f"at most {MAX_RULES} rules", column)
    if not table:
        raise _fail("write at least one rule, e.g. 'ab:b -> c' (unlisted contexts copy the symbol)", 1)
    return LocalRules(mode=mode, table=tuple(sorted((c, s, r) for (c, s), r in table.items())))


# The boundary mark in a pattern: a bare ^ is an anchor, and llama.cpp's grammar converter copies
# an escape it does not know (\^) into its grammar, which llama.cpp then refuses. A class holding
# the hex escape is copied whole, and both read it (a bare hex escape the converter may split).
_PATTERN_MARK = "[\\x5e]"
# The most rules the pattern lets a guess list (a whole table of the easiest variant is 15).
PATTERN_RULES = 40


def guess_pattern() -> str:
    """A regular expression whose every match ``parse`` reads, except one listing a context and
    symbol twice with different results (a regular expression cannot remember what it has read):
    an optional ``OSL``/``ISL`` first item, then up to ``PATTERN_RULES`` rules
    ``[context:]symbol -> symbol`` joined by ``;``, a context being ``^`` marks then symbols, at
    most ``MAX_CONTEXT`` in all."""
    letter = f"[{SYMBOLS}]"
    contexts = [
        (f"{_PATTERN_MARK}{{{marks}}}" if marks else "")
        + (f"{letter}{{0,{MAX_CONTEXT - marks}}}" if marks < MAX_CONTEXT else "")
        for marks in range(MAX_CONTEXT + 1)
    ]
    rule = f"(({'|'.join(contexts)}) ?: ?)?{letter} ?-> ?{letter}"
    return f"^((ISL|OSL) ?; ?)?{rule}( ?; ?{rule}){{0,{PATTERN_RULES - 1}}}$"


def check_rule(text: str) -> dict[str, Any]:
    try:
        rules = parse(text)
    except RuleError as exc:
        return {"ok": False, "error": exc.message, "column": exc.column}
    return {"ok": True, "canonical": rules.text, "size": rules.size}


def rule_size(text: str) -> int:
    return parse(text).size


# -- the exact judge ------------------------------------------------------------------------------


def compare(
    hidden: LocalRules, guess: LocalRules, alphabet: str, max_length: int
) -> tuple[str | None, float, int]:
    """(the simplest string on which the outputs differ or None, the fraction of testable strings
    with equal outputs, how many strings that is).

    A state is (the last symbols of the input, the last symbols of the output), as many of each
    as the functions reading it look back; as long as the outputs agree they share it. Breadth
    first with symbols in alphabetical order, each state is first reached by the simplest string
    reaching it, so the first differing transition gives the simplest differing string."""
    functions = (hidden, guess)
    m_in = max((f.reach for f in functions if f.mode != "OSL"), default=0)
    m_out = max((f.reach for f in functions if f.mode == "OSL"), default=0)
    start = (BOUNDARY * m_in, BOUNDARY * m_out)
    first: str | None = None
    level: dict[tuple[str, str], tuple[str, int]] = {start: ("", 1)}  # state -> (simplest string, count)
    agree = 0
    total = 0
    for length in range(1, max_length + 1):
        nxt: dict[tuple[str, str], tuple[str, int]] = {}
        for (inputs, outputs), (word, count) in level.items():
            for symbol in alphabet:
                mine = guess.step(outputs if guess.mode == "OSL" else inputs, symbol)
                theirs = hidden.step(outputs if hidden.mode == "OSL" else inputs, symbol)
                if mine != theirs:
                    if first is None or (length, word + symbol) < (len(first), first):
                        first = word + symbol
                    continue
                state = ((inputs + symbol)[1:] if m_in else "", (outputs + mine)[1:] if m_out else "")
                if state in nxt:
                    best, seen = nxt[state]
                    nxt[state] = (min(best, word + symbol), seen + count)
                else:
                    nxt[state] = (word + symbol, count)
        level = nxt
        agree += sum(c for _, c in level.values())
        total += len(alphabet) ** length
    return first, agree / total, total


def _alphabet(public: Mapping[str, Any]) -> str:
    return SYMBOLS[: int(public["alphabet"])]


def judge(instance: Instance, guess: str) -> Verdict:
    mine = parse(guess)
    hidden = parse(instance.hidden["rule"])
    public = instance.public
    first, agreement, checked = compare(hidden, mine, _alphabet(public), int(public["max_length"]))
    return Verdict(
        correct=first is None,
        counterexample=first,
        hidden_answer=None if first is None else hidden.apply(first),
        guess_answer=None if first is None else mine.apply(first),
        agreement=round(agreement, 6),
        checked=checked,
    )


# -- tests and answers ------------------------------------------------------------------------------


def parse_query(public: Mapping[str, Any], raw: Any) -> str:
    alphabet = _alphabet(public)
    max_length = int(public["max_length"])
    shape = f"a test is a string of 1 to {max_length} symbols from {', '.join(alphabet)}"
    if not isinstance(raw, str):
        raise QueryError(f"{shape}, got {type(raw).__name__} {raw!r}"[:200])
    word = raw.strip()
    if not word:
        raise QueryError(f"{shape}; the string is empty")
    if len(word) > max_length:
        raise QueryError(f"{shape}; this one has {len(word)}")
    bad = next((c for c in word if c not in alphabet), None)
    if bad is not None:
        raise QueryError(f"{shape}; {bad!r} is not one of them"[:200])
    return word


def answer(instance: Instance, query: Any) -> str:
    return parse(instance.hidden["rule"]).apply(parse_query(instance.public, query))


def guess_answer(instance: Instance, guess: str, query: Any) -> str:
    return parse(guess).apply(parse_query(instance.public, query))


def random_input(rng: random.Random, public: Mapping[str, Any]) -> str:
    """Short strings more often; every testable string is possible."""
    max_length = int(public["max_length"])
    length = min(max_length, 1 + int(rng.expovariate(1 / 3)))
    return "".join(rng.choice(_alphabet(public)) for _ in range(length))


def simplicity_key(value: Any) -> tuple[Any, ...]:
    """Shorter strings first, then alphabetical (the judge's order)."""
    text = str(value)
    return (len(text), text)


# -- the generator --------------------------------------------------------------------------------


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    # max_length >= 6 >= k + 2 (the schema's bounds): every window fits in a test with room to spare
    return validate_params(PARAMS_SCHEMA, params or {})


def _contexts(k: int, alphabet: str) -> list[str]:
    """Every padded context of length k - 1: '^^', '^a', ..., 'ab', ..."""
    out: list[str] = []
    for real in range(k):
        tails = [""]
        for _ in range(real):
            tails = [t + s for t in tails for s in alphabet]
        out += [BOUNDARY * (k - 1 - real) + t for t in tails]
    return out


def _every_rule_matters(rules: LocalRules, alphabet: str, max_length: int) -> bool:
    identity = LocalRules(mode=rules.mode, table=())
    if compare(rules, identity, alphabet, max_length)[0] is None:
        return False
    for i in range(len(rules.table)):
        fewer = LocalRules(mode=rules.mode, table=rules.table[:i] + rules.table[i + 1 :])
        if fewer.table and compare(rules, fewer, alphabet, max_length)[0] is None:
            return False
    return True


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    rng = seeded_rng(FAMILY_ID, VERSION, seed, p)
    alphabet = SYMBOLS[: p["alphabet"]]
    contexts = _contexts(p["k"], alphabet)
    windows = [(c, s) for c in contexts for s in alphabet]
    # word-internal contexts (no boundary) three times as often: they are most of the windows
    weights = [1 if BOUNDARY in c else 3 for c, _ in windows]
    count = min(p["rules"], len(windows))
    for _ in range(1000):
        chosen: set[tuple[str, str]] = set()
        while len(chosen) < count:
            chosen.add(rng.choices(windows, weights)[0])
        table = tuple((c, s, rng.choice([o for o in alphabet if o != s])) for c, s in sorted(chosen))
        rules = LocalRules(mode=p["mode"], table=table)
        if _every_rule_matters(rules, alphabet, p["max_length"]):
            break
    else:  # pragma: no cover - ISL rules always matter; OSL ones almost always
        raise ParamsError("could not generate a function in which every rule matters with these params")
    examples = []
    for _ in range(p["examples"]):
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(p["k"], p["k"] + 3)))
        examples.append({"input": word, "result": rules.apply(word)})
    public = {
        "family": FAMILY_ID,
        "k": p["k"],
        "alphabet": p["alphabet"],
        "symbols": alphabet,
        "mode": p["mode"],
        "rules": p["rules"],
        "max_tests": p["max_tests"],
        "max_length": p["max_length"],
        "examples": examples,
        "input_kind": "string",
        "rule_example": RULE_EXAMPLE,
    }
    hidden = {"rule": rules.text, "size": rules.size}
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


# -- text -------------------------------------------------------------------------------------------

SYNTAX_HELP = (
    "Local rules separated by ';' or new lines: 'ab:b -> c' means after the context ab, the symbol b "
    "becomes c; '^' marks the start of the word ('^:a -> b' rewrites a word-initial a; '^a:c -> a' a c "
    "right after a word-initial a); 'b -> a' (no context) rewrites every b. The longest fitting context "
    "wins; unlisted contexts copy the symbol. Start with 'OSL;' to read contexts on the output already "
    "written instead of on the input."
)


def describe(public: Mapping[str, Any]) -> str:
    k, mode = public["k"], public["mode"]
    read = "input" if mode == "ISL" else "output already written"
    return "\n".join(
        [
            f"There is a hidden string function over the symbols {', '.join(public['symbols'])}. It rewrites a "
            "string symbol by symbol, left to right; each symbol becomes exactly one symbol.",
            f"It is {'input' if mode == 'ISL' else 'output'}-strictly-local with window {k}: the output at "
            f"each position depends only on the symbol there and the {k - 1} symbol(s) of the {read} just "
            "before it (before the start of the word, the boundary mark ^).",
            f"You may run up to {public['max_tests']} tests: give a string of 1 to {public['max_length']} "
            "symbols and you are told the output string.",
            "Then state the function once. A guess ends your game; you may guess early.",
            f"Your guess is correct if it gives the same output on every string of 1 to {public['max_length']} "
            "symbols (checked exactly on all of them).",
            SYNTAX_HELP,
            f"For example: {RULE_EXAMPLE}",
        ]
    )


def _quote(value: Any) -> str:
    return f'"{value}"'


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    return common.render_observation(public, history, tests_left, show_input=_quote, show_answer=_quote)


def surviving(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> int:
    """How many functions of the reference space fit the examples and ``history``, in closed form.

    The reference space: every function of the puzzle's window, alphabet and mode that changes
    exactly ``rules`` windows (a window is a padded context of ``k - 1`` symbols, read on the
    input or the output, and a symbol) and copies the rest. Each observed position fixes one
    window, so with ``c`` windows seen to change and ``u`` windows not seen, the survivors are
    C(u, rules - c) * (|alphabet| - 1) ** (rules - c): no enumeration, exact."""
    alphabet = _alphabet(public)
    total = len(_contexts(int(public["k"]), alphabet)) * len(alphabet)
    seen = _observed_windows(public, history)
    changed = sum(1 for (_, symbol), result in seen.items() if result != symbol)
    left = int(public["rules"]) - changed
    unseen = total - len(seen)
    if left < 0 or left > unseen:
        return 0
    count: int = math.comb(unseen, left) * (len(alphabet) - 1) ** left
    return count


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per test, over the reference space of ``surviving`` (counted, never enumerated: up to
    about 10 ** 18 functions at the largest knobs). ``p_true`` is None: answers are strings."""
    before = surviving(public, [])
    out: list[dict[str, Any]] = []
    for step in range(1, len(history) + 1):
        after = surviving(public, history[:step])
        exhausted = after == 0
        out.append(
            {
                "step": step,
                "input": history[step - 1]["input"],
                "result": history[step - 1]["result"],
                "surviving_before": before,
                "surviving": after,
                "bits": None if exhausted or before == 0 else math.log2(before / after),
                # the survivors shrink only when some of them predicted another answer
                "redundant": None if before == 0 else before == after,
                "p_true": None,
                "space_exhausted": exhausted,
            }
        )
        before = after
    return out


# -- baseline solvers: the window-tabulation learner and a random tester --------------------------


def _observed_windows(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, str], str]:
    """(context of k - 1, symbol) -> output, read off every observed pair (the examples first)."""
    k, mode = int(public["k"]), public["mode"]
    pad = BOUNDARY * (k - 1)
    table: dict[tuple[str, str], str] = {}
    for obs in list(public.get("examples") or []) + list(history):
        word, out = str(obs["input"]), str(obs["result"])
        seen = pad + (out if mode == "OSL" else word)
        for i, symbol in enumerate(word):
            context = seen[i : i + k - 1] if k > 1 else ""
            table.setdefault((context, symbol), out[i] if i < len(out) else symbol)
    return table


def tabulated_guess(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> str:
    """The windows seen to change their symbol, as rules; every unseen window is assumed to copy."""
    table = _observed_windows(public, history)
    changed = sorted((c, s, o) for (c, s), o in table.items() if o != s)
    if not changed:  # nothing seen to change: any rule that no testable window reaches
        return RULE_EXAMPLE
    rules = LocalRules(mode=public["mode"], table=tuple(changed))
    return rules.text


@dataclass
class TabulationSolver:
    """Chooses each test to cover as many unseen windows as it can (greedy, predicting the outputs
    of an OSL function with the table so far, unseen windows copied), guesses the tabulated rules
    once every window is seen, or as many windows are seen to change as the puzzle says change,
    or the budget is spent."""

    public: Mapping[str, Any]
    seed: int

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        public = self.public
        k, mode = int(public["k"]), public["mode"]
        alphabet = _alphabet(public)
        table = _observed_windows(public, history)
        unseen = {(c, s) for c in _contexts(k, alphabet) for s in alphabet} - set(table)
        changed = sum(1 for (_, symbol), result in table.items() if result != symbol)
        # the puzzle says how many windows change: once that many are seen, the rest copy
        if tests_left <= 0 or not unseen or changed >= int(public["rules"]):
            return {"type": "guess", "rule": tabulated_guess(public, history)}
        rng = random.Random(self.seed * 1_000_003 + len(history))
        word, seen = "", BOUNDARY * (k - 1)
        covered: set[tuple[str, str]] = set()
        for _ in range(int(public["max_length"])):
            context = seen[len(seen) - (k - 1) :] if k > 1 else ""
            fresh = [s for s in alphabet if (context, s) in unseen and (context, s) not in covered]
            if fresh:
                symbol = rng.choice(fresh)
            else:  # steer towards a context that still has unseen windows
                wanted = [s for s in alphabet if any(c.endswith(s) for c, _ in unseen - covered)]
                symbol = rng.choice(wanted or list(alphabet))
            covered.add((context, symbol))
            written = table.get((context, symbol), symbol)
            word += symbol
            seen += written if mode == "OSL" else symbol
            if not (unseen - covered):
                break
        return {"type": "test", "input": word}


@dataclass
class RandomTester:
    """Random strings (``random_input``) until the budget is spent, then the tabulated guess."""

    public: Mapping[str, Any]
    seed: int

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        if tests_left <= 0:
            return {"type": "guess", "rule": tabulated_guess(self.public, history)}
        rng = random.Random(self.seed * 1_000_003 + len(history))
        return {"type": "test", "input": random_input(rng, self.public)}


PRESENTATION = Presentation(
    input_schema={
        "type": "string",
        "pattern": f"^[{SYMBOLS}]+$",
        "minLength": 1,
        "maxLength": 16,
        "description": "a string over the puzzle's alphabet",
    },
    answer_schema={"type": "string", "pattern": f"^[{SYMBOLS}]*$", "description": "the output string"},
    guess_schema={"type": "string", "maxLength": MAX_GUESS_CHARS, "description": "local rules"},
    widget={"kind": "string", "label": "string", "alphabet": SYMBOLS[:5], "max_length": 16},
    test_noun="a string",
    input_placeholder='"abca"',
    input_example="abca",
    rule_example=RULE_EXAMPLE,
    guess_pattern=guess_pattern(),
    guess_label="local rules (context:symbol -> output)",
    syntax_help=SYNTAX_HELP,
    format_input=_quote,
    format_answer=_quote,
    simplicity_key=simplicity_key,
    simplicity_order="shorter strings first, then alphabetical",
)


def present(public: Mapping[str, Any]) -> Presentation:
    """The puzzle's own letters and longest test in the input's schema."""
    return common.string_input_presentation(PRESENTATION, _alphabet(public), int(public["max_length"]))


VARIANTS = (
    VariantSpec(
        slug="subregular-isl-2",
        title="Local rewrites 1: window 2, three symbols",
        params={"k": 2, "alphabet": 3, "rules": 2, "mode": "ISL", "max_tests": 12},
        description="Each symbol may change depending on the one before it (input-strictly-local, k = 2).",
    ),
    VariantSpec(
        slug="subregular-isl-3",
        title="Local rewrites 2: window 3, three symbols",
        params={"k": 3, "alphabet": 3, "rules": 3, "mode": "ISL", "max_tests": 12},
        description="Each symbol may change depending on the two before it (input-strictly-local, k = 3).",
    ),
    VariantSpec(
        slug="subregular-osl-3",
        title="Local rewrites 3: window 3 on the output, four symbols",
        params={"k": 3, "alphabet": 4, "rules": 4, "mode": "OSL", "max_tests": 12},
        description="Each symbol may change depending on the two symbols written before it (output-strictly-local).",
    ),
)


def _solvers() -> dict[str, SolverFactory]:
    return {"tabulate": TabulationSolver, "random": RandomTester}


REFERENCE_SPACE = ReferenceSpace(
    "counted",
    "Every function of the puzzle's window, alphabet and mode that changes exactly the stated "
    "number of windows, counted exactly in closed form from the windows seen (up to about 10^18 "
    "functions), never listed: exact, not estimated.",
)


FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="Local string rewrites (subregular)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=common.score,
        describe=describe,
        render_observation=render_observation,
        solvers=_solvers(),
        step_analytics=step_analytics,
        rule_size=rule_size,
        reference_space=REFERENCE_SPACE,
        presentation=PRESENTATION,
        present=present,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        extras={"parse": parse, "compare": compare, "format_query": _quote},
    )
)

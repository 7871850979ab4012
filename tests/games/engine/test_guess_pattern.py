"""A family's ``Presentation.guess_pattern``: the well-formed guesses a constrained decoder may
write. It must refuse no rule the family itself writes (its generators at every knob setting,
its solvers and its syntax example at the easiest variant), admit only texts ``check_rule``
accepts (but for the one limit each pattern says it cannot hold), and stay inside what
llama.cpp's grammar converter reads."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine.core import Family, all_families
from games.engine.dsl import MAX_NODES
from games.engine.play import play


def _easiest(family: Family) -> dict[str, Any]:
    return family.validate_params(family.variants[0].params)


def _pattern(family: Family, params: dict[str, Any], seed: int = 0) -> str:
    return family.shown_for(family.generate(seed, params).public).guess_pattern


PATTERNED = [f for f in all_families() if _pattern(f, _easiest(f))]
IDS = [f.id for f in PATTERNED]
# The converter (llama_cpp.llama_grammar) copies an escape it does not know into a grammar
# literal, where llama.cpp rejects it, and writes a quote unescaped into the JSON string; either
# makes the server fall back to unconstrained JSON without a word.
CONVERTER_ESCAPES = set("[]()|{}*+?")
# A class of one hex escape (subregular's ^): the converter copies a class whole and llama.cpp's
# grammar reads the escape; a bare one the converter may split before a group or a class.
HEX_ESCAPE = re.compile(r"\[\\x[0-9a-f]{2}\]")
# The limit each pattern does not hold, as the family's error words it: a count a regular
# expression cannot keep (see each family's pattern builder).
UNHELD = {
    "wason": f"more than {MAX_NODES} parts",
    "eleusis": f"more than {MAX_NODES} parts",
    "tuples": f"more than {MAX_NODES} parts",
    "rewrite": "times longer",
    "subregular": "is given two outputs",
}
# A pattern cannot hold a quote (the converter would write it into the JSON reply unescaped), so
# rewrite's canonical empty side "" is matched as its other spelling, ''.
SPELLED = {"rewrite": lambda text: text.replace('""', "''")}
# Built once: a strategy made from a pattern this long takes seconds to build.
ADMITTED = {f.id: st.from_regex(_pattern(f, _easiest(f)), fullmatch=True) for f in PATTERNED}


def test_every_family_with_a_text_guess_declares_a_pattern() -> None:
    assert {"wason", "eleusis", "tuples", "rewrite", "subregular", "blackbox"} <= set(IDS)


@pytest.mark.parametrize("family", PATTERNED, ids=IDS)
def test_the_pattern_is_anchored_and_in_the_converters_subset(family: Family) -> None:
    pattern = _pattern(family, _easiest(family))
    assert pattern.startswith("^") and pattern.endswith("$") and '"' not in pattern
    escaped = set(re.findall(r"\\(.)", HEX_ESCAPE.sub("", pattern)))
    assert escaped <= CONVERTER_ESCAPES, f"escapes the converter cannot read: {escaped - CONVERTER_ESCAPES}"
    assert "(?" not in pattern
    re.compile(pattern)


@pytest.mark.parametrize("family", PATTERNED, ids=IDS)
def test_every_rule_the_generators_write_matches(family: Family) -> None:
    missed = set()
    for knob, levels in family.knobs().items():
        for level in levels:
            params = family.validate_params({**family.variants[0].params, knob: level})
            for seed in range(40 if level == levels[0] else 8):
                instance = family.generate(seed, params)
                matches = re.compile(family.shown_for(instance.public).guess_pattern).fullmatch
                rule = family.right_guess(instance)
                canonical = family.check_rule(rule)["canonical"]
                spell = SPELLED.get(family.id, str)
                for text in (spell(rule), spell(canonical)):
                    if not matches(text) or family.check_rule(text)["canonical"] != canonical:
                        missed.add((knob, level, text))
    assert not missed


@pytest.mark.parametrize("family", PATTERNED, ids=IDS)
def test_the_solvers_guesses_and_the_syntax_example_match_at_the_easiest_variant(family: Family) -> None:
    params = _easiest(family)
    for seed in range(1):
        instance = family.generate(seed, params)
        shown = family.shown_for(instance.public)
        matches = re.compile(shown.guess_pattern).fullmatch
        assert matches(shown.rule_example)
        for solver in family.solvers:
            guess = play(family, instance, solver, seed=seed)["guess"]
            assert matches(guess), f"{solver} guessed {guess!r}"


@pytest.mark.parametrize("family", PATTERNED, ids=IDS)
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_text_the_pattern_admits_parses(family: Family, data: st.DataObject) -> None:
    """Drawn from the pattern itself, so the sample covers its odd corners (nested calls,
    unary minus, powers, chained comparisons) and not only rules anyone would write."""
    text = data.draw(ADMITTED[family.id], label="text")
    checked = family.check_rule(text)
    unheld = UNHELD.get(family.id)  # None: the pattern holds every limit
    assert checked["ok"] or (unheld is not None and unheld in checked["error"]), checked["error"]


# Text that is no rule, for every family, and near misses the family's parser refuses too.
GARBAGE = ("", " ", "I do not know", "rule: ?", "-> ; ->", '{"action": "guess"}')
NEAR_MISSES = {
    "rewrite": ("AB -> c", "ab => c", "-> a", "ab -> c -> d", "ab -> c1"),
    "subregular": ("a:b -> cc", "a^:b -> c", "g -> a", "abcdef:a -> b", "OSL", "a:b"),
    "blackbox": ("map(x, xs", "sum(xs))", "map(y, xs)", "filter(x + 1, xs)", "sum(x)", "xs > 0"),
}


@pytest.mark.parametrize("family", PATTERNED, ids=IDS)
def test_the_pattern_refuses_text_that_is_no_rule(family: Family) -> None:
    matches = re.compile(_pattern(family, _easiest(family))).fullmatch
    near = NEAR_MISSES.get(family.id, ())
    assert not [text for text in (*GARBAGE, *near) if matches(text)]
    assert not [text for text in near if family.check_rule(text)["ok"]]

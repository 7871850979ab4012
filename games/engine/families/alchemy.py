"""Family ``alchemy``: discover the elements of a hidden recipe graph by combining the ones you know.

Modelled on the Little Alchemy exploration studies. A puzzle starts with a few elements; each test
combines two elements the player knows (a starting one or one it has made), and the hidden recipe
book says what that makes, or that nothing happens. A new element joins what the player knows, so
the set of possible tests grows with the player's own history. There is no rule to state: the game
ends when the combination budget is spent, and the score counts the elements discovered, each
weighted by its depth (the number of combinations on the shortest way to it from the start).

The recipe graph is procedural (``generate``): elements are laid out in depth levels; an element of
depth ``d`` has one recipe whose ingredients are of depth below ``d`` (one of them exactly ``d - 1``)
and, with ``branching`` above 1, further recipes that keep its depth. A share of the elements
(``dead_ends``) is never an ingredient of anything. Combining is unordered (``a + b`` is ``b + a``),
an element may be combined with itself, and a pair makes at most one element. Names are drawn from
a word list (``WORDS``) shuffled per seed, so a name says nothing about where an element sits.

Measures per test (``step_analytics``, from the player's history only): whether the pair is new,
how many combinations each chosen element has been tried in before and how many of them worked
(what the player could know of its empowerment), and its uncertainty (the share of its pairings
with known elements still untried). ``reveal_analytics`` adds, once the hidden graph may be shown,
each chosen element's true empowerment: the number of recipes it is an ingredient of.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from games.engine.core import (
    Family,
    Instance,
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
from games.engine.families.common import plural

FAMILY_ID = "alchemy"
VERSION = 1
MAX_NAME = 24
NAME_RE = re.compile(r"[a-z][a-z -]{0,23}")

# Plain, unrelated nouns: nothing in a name hints at an element's depth or recipes.
WORDS = (
    "amber anvil arch ash aspen badge banner barrel basin beacon bell birch blade bloom bolt bone "
    "bramble brass bridge bronze brook bucket cabin canvas canyon carpet castle cedar chalk chapel "
    "cinder clay cliff clock cloud clover cobalt comet copper coral cork cotton crane crater crown "
    "crystal dagger delta desert dew dome dove drum dune eagle ember engine falcon feather fern "
    "fiddle flint fog forest fossil fountain fox frost garnet geyser glacier glass granite gravel "
    "grove harbor harp hazel helmet heron hill honey horn hut iris island ivory jade jasmine jet "
    "kettle kite lagoon lantern larch lava lemon lily linen lotus magnet maple marble marsh meadow "
    "mirror mist moss moth needle nectar oak oasis onyx opal orchid otter owl paddle palm paper "
    "pearl pebble pepper pine plume pond poppy quartz quill rain raven reed reef ribbon ridge river "
    "robin ruby rust saddle saffron sail salt sand satin shell shield silk silver slate smoke "
    "spark sparrow spice spire spruce staff star steam stone storm straw stream summit swan tar "
    "thistle thorn thunder tide timber torch tower trumpet tulip tundra valley velvet violet "
    "wagon walnut wave wax well whale wheat willow wind wool yarn zinc"
).split()

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "elements": {
            "x-knob": True,
            "type": "integer",
            "enum": [8, 14, 22, 30],
            "default": 14,
            "description": "how many elements can be made (besides the starting ones)",
        },
        "depth": {
            "x-knob": True,
            "type": "integer",
            "enum": [2, 3, 4, 5],
            "default": 3,
            "description": "the depth of the deepest element (combinations on the shortest way to it)",
        },
        "branching": {
            "x-knob": True,
            "type": "integer",
            "enum": [1, 2, 3],
            "default": 1,
            "description": "recipes per element: 2 or 3 give many elements a second or third recipe",
        },
        "dead_ends": {
            "x-knob": True,
            "type": "integer",
            "enum": [0, 25, 50],
            "default": 25,
            "description": "the share (percent) of the made elements that are an ingredient of nothing",
        },
        "start": {
            "type": "integer",
            "minimum": 3,
            "maximum": 6,
            "default": 4,
            "description": "how many elements the player knows at the start",
        },
        "max_tests": {
            "type": "integer",
            "minimum": 1,
            "maximum": 200,
            "default": 20,
            "description": "the combination budget: the game ends when it is spent",
        },
    },
}


@dataclass(frozen=True)
class Graph:
    start: tuple[str, ...]
    depth: Mapping[str, int]  # every element, start ones at 0
    recipes: Mapping[tuple[str, str], str]  # sorted pair -> product

    def uses(self, element: str) -> int:
        """The element's empowerment: how many recipes it is an ingredient of."""
        return sum(element in pair for pair in self.recipes)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def graph_of(instance: Instance) -> Graph:
    hidden = instance.hidden
    return Graph(
        start=tuple(instance.public["start"]),
        depth=dict(hidden["depth"]),
        recipes={_pair(a, b): c for a, b, c in hidden["recipes"]},
    )


# -- generation ---------------------------------------------------------------------------------------


def validate(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return validate_params(PARAMS_SCHEMA, params or {})


def _levels(rng: random.Random, count: int, depth: int, first_level_cap: int) -> list[int]:
    """The depth of each made element: every level 1..depth used at least once, the rest spread
    with more elements at the shallow levels (a crafting tree that widens), at most
    ``first_level_cap`` of them at depth 1 (made from starting elements only)."""
    depth = min(depth, count)
    levels = list(range(1, depth + 1))
    weights = [depth + 1 - d for d in range(1, depth + 1)]
    for _ in range(count - depth):
        level = rng.choices(range(1, depth + 1), weights=weights)[0]
        if level == 1 and levels.count(1) >= first_level_cap:
            level = rng.randint(2, depth) if depth > 1 else 1
        levels.append(level)
    return sorted(levels)


def build_graph(seed: int, p: Mapping[str, Any]) -> Graph:
    rng = seeded_rng(FAMILY_ID, VERSION, seed, dict(p))
    names = list(WORDS)
    rng.shuffle(names)
    start = tuple(sorted(names[: p["start"]]))
    made = names[p["start"] : p["start"] + p["elements"]]
    start_pairs = {_pair(a, b) for i, a in enumerate(start) for b in start[i:]}
    # At most half of the starting pairs make something, so a first test can fail too.
    start_budget = len(start_pairs) // 2
    levels = _levels(rng, p["elements"], p["depth"], start_budget)
    depth: dict[str, int] = {s: 0 for s in start}
    by_level: dict[int, list[str]] = {0: list(start)}
    for name, level in zip(made, levels, strict=True):
        depth[name] = level
        by_level.setdefault(level, []).append(name)
    # Dead ends: never an ingredient. The last element of each level below the deepest stays live,
    # so every level can still be reached from the one above it.
    candidates = [n for n in made if not (depth[n] < p["depth"] and by_level[depth[n]][-1] == n)]
    dead = set(rng.sample(candidates, min(len(candidates), round(len(made) * p["dead_ends"] / 100))))
    live = [n for n in depth if n not in dead]
    recipes: dict[tuple[str, str], str] = {}

    def free_pair(product: str, level: int, first: bool) -> tuple[str, str] | None:
        """An unused pair that makes ``product`` at depth ``level``: its deeper ingredient is of
        depth ``level - 1`` (a first recipe) or deeper (a further one, which cannot shorten the
        way to the product)."""
        pool = [n for n in live if n in settled and n != product and (depth[n] < level or not first)]
        options = sorted(
            {
                _pair(a, b)
                for a in pool
                for b in pool
                if (max(depth[a], depth[b]) == level - 1 if first else max(depth[a], depth[b]) >= level - 1)
            }
            - set(recipes)
        )
        if sum(q in recipes for q in start_pairs) >= start_budget:
            options = [q for q in options if q not in start_pairs]
        return rng.choice(options) if options else None

    # An element is an ingredient only once its own depth is settled (its first recipe chosen),
    # so a later move of an element to a deeper level cannot make a recipe shallower than stated.
    settled = set(start)
    for name in made:
        q = free_pair(name, depth[name], True)
        while q is None:  # no free pair at this level: the element moves one level down
            depth[name] += 1
            if depth[name] > len(made) + 1:
                raise RuntimeError("alchemy generator: no free pair")  # pragma: no cover
            q = free_pair(name, depth[name], True)
        recipes[q] = name
        settled.add(name)
    for name in made:
        for _ in range(p["branching"] - 1):
            if rng.random() < 0.6:
                q = free_pair(name, depth[name], False)
                if q is not None:
                    recipes[q] = name
    return Graph(start=start, depth=depth, recipes=recipes)


def recipe_text(recipes: Mapping[tuple[str, str], str], depth: Mapping[str, int]) -> str:
    """The recipe book, shallowest products first: ``ash + oak = smoke; ...``."""
    rows = sorted(recipes.items(), key=lambda kv: (depth[kv[1]], kv[1], kv[0]))
    return "; ".join(f"{a} + {b} = {c}" for (a, b), c in rows)


def generate(seed: int, params: Mapping[str, Any]) -> Instance:
    p = validate(params)
    graph = build_graph(seed, p)
    made = sorted(n for n in graph.depth if graph.depth[n] > 0)
    public = {
        "family": FAMILY_ID,
        "start": list(graph.start),
        "makeable": len(made),
        "max_tests": p["max_tests"],
        "examples": [],
    }
    hidden = {
        "rule": recipe_text(graph.recipes, graph.depth),
        "recipes": [[a, b, c] for (a, b), c in sorted(graph.recipes.items())],
        "depth": dict(sorted(graph.depth.items())),
        "weighted_total": sum(graph.depth[n] for n in made),
    }
    return Instance(family=FAMILY_ID, version=VERSION, seed=seed, params=p, public=public, hidden=hidden)


# -- tests --------------------------------------------------------------------------------------------

WHAT = 'a test is two elements you know, e.g. ["ash", "oak"] or "ash + oak"'


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise QueryError(f"an element is written as its name, got {str(value)[:40]!r}; {WHAT}")
    name = " ".join(value.strip().lower().split())
    if not NAME_RE.fullmatch(name):
        raise QueryError(f"{value[:40]!r} is not an element name (letters, at most {MAX_NAME}); {WHAT}")
    return name


def parse_query(public: Mapping[str, Any], raw: Any) -> list[str]:
    """Two element names, in alphabetical order (combining is unordered)."""
    if isinstance(raw, str):
        parts = [s for s in re.split(r"\s*(?:\+|,|&|\band\b|\bwith\b)\s*", raw.strip()) if s]
        raw = parts
    if not isinstance(raw, (list, tuple)):
        raise QueryError(f"{WHAT}; got {type(raw).__name__}")
    if len(raw) != 2:
        raise QueryError(f"{WHAT}; got {len(raw)} values")
    a, b = _name(raw[0]), _name(raw[1])
    return list(_pair(a, b))


def known_elements(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[str]:
    """The starting elements, then each made element in the order the player first made it."""
    known = list(public["start"])
    for h in history:
        made = h.get("result")
        if isinstance(made, str) and made not in known:
            known.append(made)
    return known


def check_test(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], query: Any) -> None:
    """A test may only combine elements the player knows; anything else is refused (no test used).
    The message is the same for a name that is an element not yet made and for one that is not an
    element at all, so it tells nothing about the recipe book."""
    known = known_elements(public, history)
    for name in query:
        if name not in known:
            raise QueryError(
                f"you can only combine elements you know; {name!r} is not one of them. You know: {', '.join(known)}"
            )


def answer(instance: Instance, query: Any) -> str | None:
    a, b = parse_query(instance.public, query)
    graph = graph_of(instance)
    for name in (a, b):
        if name not in graph.depth:
            raise QueryError(f"{name!r} is not an element of this puzzle; {WHAT}")
    return graph.recipes.get((a, b))


def random_input(rng: random.Random, public: Mapping[str, Any]) -> list[str]:
    """Two starting elements (the only ones every player knows), possibly the same one twice."""
    start = list(public["start"])
    return list(_pair(rng.choice(start), rng.choice(start)))


# -- the end: no rule to state, a score from the discoveries ------------------------------------------

NO_GUESS = "this puzzle has no rule to state: the game ends when your combinations are spent"


def check_rule(text: str) -> dict[str, Any]:
    return {"ok": False, "error": NO_GUESS, "column": None}


def judge(instance: Instance, guess: str) -> Verdict:
    raise RuleError(NO_GUESS)


def guess_answer(instance: Instance, guess: str, query: Any) -> Any:
    raise RuleError(NO_GUESS)


def rule_size(text: str) -> int:
    return 0


def final_score(instance: Instance, history: Sequence[Mapping[str, Any]], max_tests: int) -> dict[str, Any]:
    """Points: the depth-weighted share of the makeable elements discovered, out of 100. ``solved``
    means every makeable element was discovered."""
    graph = graph_of(instance)
    found = [n for n in known_elements(instance.public, history) if graph.depth.get(n, 0) > 0]
    weighted = sum(graph.depth[n] for n in found)
    total = int(instance.hidden["weighted_total"]) or 1
    makeable = int(instance.public["makeable"])
    return {
        "solved": len(found) == makeable,
        "tests_used": len(history),
        "max_tests": int(max_tests),
        "agreement": round(len(found) / max(1, makeable), 6),
        "points": (100 * weighted) // total,
        "discovered": len(found),
        "makeable": makeable,
        "weighted": weighted,
        "weighted_total": total,
    }


def score(*, solved: bool, tests_used: int, max_tests: int, agreement: float = 0.0) -> dict[str, Any]:
    """Without a history at hand (the services use ``final_score``): nothing discovered."""
    return {
        "solved": False,
        "tests_used": int(tests_used),
        "max_tests": int(max_tests),
        "agreement": 0.0,
        "points": 0,
    }


def scoring_help(max_tests: int) -> str:
    return (
        f"Scoring: you have {plural(max(1, max_tests), 'combination')}; the game ends when they are spent. "
        "Each element you discover earns its depth (1 for one made from starting elements, 2 for one that "
        "needs a made element, and so on); your points are that sum as a share of the most there is to "
        "find, out of 100. Trying a pair again, or a pair that makes nothing, earns nothing."
    )


def explain_score(score: Mapping[str, Any]) -> str:
    if "discovered" not in score:
        return f"{plural(int(score.get('points', 0)), 'point')}."
    return (
        f"Discovered {score['discovered']} of {plural(int(score['makeable']), 'element')} with "
        f"{plural(int(score['tests_used']), 'combination')}; depth-weighted {score['weighted']} of "
        f"{score['weighted_total']} = {plural(int(score['points']), 'point')}."
    )


# -- measures per test ---------------------------------------------------------------------------------


def step_analytics(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each test, what the player could know when it chose: whether the pair was new, and for
    each chosen element its tries and successes so far (its empowerment as seen) and its
    uncertainty (the share of its pairings with the elements then known still untried)."""
    out: list[dict[str, Any]] = []
    tried: set[tuple[str, str]] = set()
    tries: dict[str, int] = {}
    worked: dict[str, int] = {}
    for i, h in enumerate(history):
        known = known_elements(public, history[:i])
        a, b = h["input"]
        pair = _pair(a, b)
        row: dict[str, Any] = {
            "test": i + 1,
            "novel_pair": pair not in tried,
            "known_before": len(known),
            "untried_pairs_before": len(known) * (len(known) + 1) // 2 - len(tried),
            "made": h.get("result"),
            "discovery": isinstance(h.get("result"), str) and h["result"] not in known,
        }
        for side, name in (("a", a), ("b", b)):
            untried = sum(_pair(name, k) not in tried for k in known)
            row[f"{side}_tries_before"] = tries.get(name, 0)
            row[f"{side}_successes_before"] = worked.get(name, 0)
            row[f"{side}_uncertainty"] = round(untried / max(1, len(known)), 6)
        out.append(row)
        for name in set(pair):
            tries[name] = tries.get(name, 0) + 1
            if h.get("result") is not None:
                worked[name] = worked.get(name, 0) + 1
        tried.add(pair)
    return out


def reveal_analytics(instance: Instance, history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per test, what only the hidden graph tells (shown once the match is over): each chosen
    element's empowerment (the recipes it is an ingredient of), their sum, the best sum any pair
    of then-known elements had, and the product's depth."""
    graph = graph_of(instance)
    out: list[dict[str, Any]] = []
    for i, h in enumerate(history):
        known = known_elements(instance.public, history[:i])
        a, b = h["input"]
        ea, eb = graph.uses(a), graph.uses(b)
        best = max(graph.uses(x) + graph.uses(y) for x in known for y in known)
        made = h.get("result")
        out.append(
            {
                "a_empowerment": ea,
                "b_empowerment": eb,
                "pair_empowerment": ea + eb,
                "best_pair_empowerment": best,
                "made_depth": graph.depth.get(made) if isinstance(made, str) else None,
            }
        )
    return out


# -- solvers ---------------------------------------------------------------------------------------------


class Explorer:
    """Combines two known elements each turn, never guesses. ``random`` picks an untried pair at
    random; ``empowerment`` the untried pair whose elements look most productive so far: each
    element's chance to make something is estimated as (successes + 1) / (tries + 2), a new
    element starting at one half, so dead ends are dropped once they fail and fresh discoveries
    are tried early."""

    def __init__(self, public: Mapping[str, Any], seed: int, *, greedy: bool) -> None:
        self.public = public
        self.seed = seed
        self.greedy = greedy

    def act(self, history: Sequence[Mapping[str, Any]], tests_left: int) -> dict[str, Any]:
        rng = seeded_rng(FAMILY_ID, "explorer", self.seed, len(history))
        known = known_elements(self.public, history)
        tried = {_pair(*h["input"]) for h in history}
        pairs = [_pair(a, b) for i, a in enumerate(known) for b in known[i:]]
        untried = [q for q in pairs if q not in tried] or pairs
        if not self.greedy:
            return {"type": "test", "input": list(rng.choice(untried))}
        tries: dict[str, int] = {}
        worked: dict[str, int] = {}
        for h in history:
            for name in set(h["input"]):
                tries[name] = tries.get(name, 0) + 1
                worked[name] = worked.get(name, 0) + (h.get("result") is not None)

        def chance(name: str) -> float:
            return (worked.get(name, 0) + 1) / (tries.get(name, 0) + 2)

        best = max(chance(a) + chance(b) for a, b in untried)
        top = [q for q in untried if chance(q[0]) + chance(q[1]) >= best - 1e-12]
        return {"type": "test", "input": list(rng.choice(top))}


def _random(public: Mapping[str, Any], seed: int) -> Explorer:
    return Explorer(public, seed, greedy=False)


def _empowerment(public: Mapping[str, Any], seed: int) -> Explorer:
    return Explorer(public, seed, greedy=True)


# -- texts and presentation --------------------------------------------------------------------------


def describe(public: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            "A hidden recipe book says which pairs of elements combine into a new element.",
            f"You start knowing {len(public['start'])} elements: {', '.join(public['start'])}.",
            "A test combines two elements you know (an element may be combined with itself; the order "
            "does not matter): you are told what they make, or that nothing happens. A new element joins "
            "the ones you know and can be combined in later tests.",
            f"{public['makeable']} elements can be made in all. You have {public['max_tests']} combinations; "
            "the game ends when they are spent. There is no rule to state.",
            "Element names are random words: a name tells nothing about what it makes.",
            "Combining an element you do not know is refused and costs nothing.",
        ]
    )


def format_input(value: Any) -> str:
    return " + ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def format_answer(value: Any) -> str:
    return f"makes {value}" if isinstance(value, str) else "nothing happens"


def render_observation(
    public: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tests_left: int
) -> str:
    known = known_elements(public, history)
    lines = [f"Elements you know ({len(known)}): {', '.join(known)}."]
    if history:
        lines.append("Your combinations so far:")
        lines += [
            f"  {i}. {format_input(h['input'])}: {format_answer(h['result'])}"
            for i, h in enumerate(history, 1)
        ]
    else:
        lines.append("You have not combined anything yet.")
    lines.append(f"Combinations left: {tests_left}.")
    return "\n".join(lines)


PRESENTATION = Presentation(
    input_schema={
        "type": "array",
        "items": {"type": "string", "maxLength": 80, "description": "the name of an element you know"},
        "minItems": 2,
        "maxItems": 2,
        "description": "two elements you know (the same one twice is allowed)",
    },
    answer_schema={
        "type": ["string", "null"],
        "description": "the element the pair makes, or null when nothing happens",
    },
    guess_schema={"type": "string", "maxLength": 0, "description": "no guess: the game ends on its budget"},
    widget={"kind": "pick_pair", "labels": ["First element", "Second element"], "options": [], "grow": True},
    test_noun="a combination of two elements you know",
    input_placeholder='["<element>", "<element>"]',
    input_example=["first", "second"],
    rule_example="",
    guess_label="",
    syntax_help="",
    format_input=format_input,
    format_answer=format_answer,
    answer_words={"null": "nothing happens", "value": "makes {}"},
    simplicity_order="alphabetical",
    guess_widget={"kind": "none"},
)


def known_pair_schema(public: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A test for this seat now: two of the elements it knows, as an enumeration a constrained
    decoder enforces (a free string let a small model copy the ``<element>`` placeholder). The
    state text already lists every one of them, so the schema tells the seat nothing new."""
    items = {**PRESENTATION.input_schema["items"], "enum": known_elements(public, history)}
    return {**PRESENTATION.input_schema, "items": items}


def present(public: Mapping[str, Any]) -> Presentation:
    """The puzzle's own starting elements as the pickers' first options."""
    start = list(public["start"])
    return dataclasses.replace(
        PRESENTATION,
        widget={**PRESENTATION.widget, "options": start},
        input_example=[start[0], start[1]],
    )


VARIANTS = (
    VariantSpec(
        slug="alchemy-level-1",
        title="Alchemy: a small recipe book",
        params={"elements": 8, "depth": 2, "branching": 1, "dead_ends": 25, "max_tests": 15},
        description="Combine elements to discover new ones: 8 to find, 15 combinations.",
    ),
    VariantSpec(
        slug="alchemy-level-2",
        title="Alchemy: a deeper recipe book",
        params={"elements": 14, "depth": 3, "branching": 2, "dead_ends": 25, "max_tests": 25},
        description="14 elements to find, some with two recipes; 25 combinations.",
    ),
    VariantSpec(
        slug="alchemy-level-3",
        title="Alchemy: a large recipe book with dead ends",
        params={"elements": 30, "depth": 5, "branching": 2, "dead_ends": 50, "max_tests": 40},
        description="30 elements five levels deep, half of them dead ends; 40 combinations.",
    ),
)

FAMILY = register(
    Family(
        id=FAMILY_ID,
        version=VERSION,
        title="Alchemy (discover elements)",
        params_schema=PARAMS_SCHEMA,
        generate=generate,
        parse_query=parse_query,
        answer=answer,
        check_rule=check_rule,
        judge=judge,
        score=score,
        scoring_help=scoring_help,
        explain_score=explain_score,
        describe=describe,
        render_observation=render_observation,
        solvers={"random": _random, "empowerment": _empowerment},
        step_analytics=step_analytics,
        reference_space=ReferenceSpace(
            "enumerated",
            "No rule is guessed, so there is no hypothesis space: the analytics are exploration measures "
            "over the pairs of elements a seat knows, all listed (novelty of the chosen pair, each "
            "element's tries, successes and uncertainty; after the end its true empowerment from the "
            "hidden recipe graph). The surviving, bits and redundant columns are empty.",
        ),
        rule_size=rule_size,
        presentation=PRESENTATION,
        present=present,
        variants=VARIANTS,
        random_input=random_input,
        guess_answer=guess_answer,
        check_test=check_test,
        test_schema=known_pair_schema,
        final_score=final_score,
        reveal_analytics=reveal_analytics,
        extras={"graph_of": graph_of, "known_elements": known_elements},
    )
)

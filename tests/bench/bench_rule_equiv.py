"""Benchmark: judging a guess (rule equivalence over the wason domain).

Compares, in the same run and on the same >= 100 rule pairs (equal, near-equal
and different), the engine (exact arithmetic, generator version 3: the exact
domain of about 107,000 points) against plain per-point Python evaluation of
the same two rules over the same points, the way research harnesses
do it: each rule compiled once with Python's ``compile``/``eval`` into a
lambda (helper functions for the rule language), called per point, an
exception counting as False. Nothing is cached between pairs on either side.

Three measures:

* ``judge``: the arena's judge (``wason.exact_judge``) on an instance: the hidden rule's answers
  are made once per instance (as ``wason.generate`` does; timed apart as
  ``hidden_answers_ms_once_per_instance``), the guess is parsed, compiled and evaluated afresh in
  simplicity order up to the first differing chunk (every integer triple always, for the partial
  credit). Its verdict, counterexample, answers and agreement must equal the straightforward
  full-domain judge's (and the verdict and counterexample per-point Python's) on every pair:
  ``all_identical``; the script exits non-zero otherwise. Each judgement is timed ``--repeat``
  times on every side and the fastest kept.

* ``judge_full_domain``: judging a guess as the arena does: every point is
  compared (the partial credit needs the agreement on the whole integer
  grid), and the first difference is the counterexample.
* ``first_difference``: ``rule-equiv``: stop at the first difference (the
  engine checks prefixes of 256 and 4,096 simplest points first). Also timed
  against the engine's own scalar tree walker on a sample.

Prints one JSON line. Run: ``python tests/bench/bench_rule_equiv.py [--pairs N]``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from games.engine import exact  # noqa: E402
from games.engine.dsl import MAX_MAGNITUDE, parse_rule  # noqa: E402
from games.engine.families import wason  # noqa: E402


def make_pairs(limit: int) -> list[tuple[str, str, str]]:
    templates = [t for tier in (1, 2, 3, 5) for t in wason.clause_templates()[tier] if "x * y * z" not in t]
    templates = templates[:: max(1, len(templates) // 40)][:40]
    pairs: list[tuple[str, str, str]] = []
    for i, t in enumerate(templates):
        pairs.append(("equal", t, f"not (not ({t}))"))
        if " < " in t:
            near = t.replace(" < ", " <= ", 1)
        elif " > " in t:
            near = t.replace(" > ", " >= ", 1)
        else:
            near = f"({t}) != (x == 3 and y == -4 and z == 11)"  # flips exactly one point
        pairs.append(("near", t, near))
        pairs.append(("different", t, templates[(i + 7) % len(templates)]))
    return pairs[:limit]


HELPERS = {
    "abs": abs,
    "min": min,
    "max": max,
    "int": lambda v: float(math.trunc(v)),
    "round": lambda v: float(round(v)),
    "floor": lambda v: float(math.floor(v)),
    "ceil": lambda v: float(math.ceil(v)),
    "sqrt": math.sqrt,
    "gcd": lambda a, b: float(math.gcd(int(a), int(b))) if a == int(a) and b == int(b) else float("nan"),
    "is_int": lambda v: v == math.floor(v),
    "is_square": lambda v: v >= 0 and v == math.floor(v) and math.isqrt(int(v)) ** 2 == int(v),
}


def _python_rule(text: str):
    f = eval(compile(f"lambda x, y, z: {text}", "<rule>", "eval"), dict(HELPERS))  # noqa: S307 - bench input

    def safe(p):
        try:
            v = f(*p)
        except (ArithmeticError, ValueError, TypeError):
            return False
        return bool(v) and not (isinstance(v, float) and (math.isnan(v) or abs(v) > MAX_MAGNITUDE))

    return safe


def python_eval_first_difference(a: str, b: str, points) -> tuple[bool, object]:
    fa, fb = _python_rule(a), _python_rule(b)
    for p in points:
        if fa(p) != fb(p):
            return False, [int(v) if float(v).is_integer() else v for v in p]
    return True, None


def python_eval_judge(a: str, b: str, points, grid: list[bool]) -> tuple[bool, object, float]:
    """What a harness does to judge a guess with partial credit: every point."""
    fa, fb = _python_rule(a), _python_rule(b)
    first = None
    grid_agree = 0
    for i, p in enumerate(points):
        same = fa(p) == fb(p)
        if not same and first is None:
            first = [int(v) if float(v).is_integer() else v for v in p]
        if same and grid[i]:
            grid_agree += 1
    return first is None, first, grid_agree / sum(grid)


def python_tree_first_difference(a: str, b: str, points) -> tuple[bool, object]:
    ra, rb = parse_rule(a, wason.VARIABLES), parse_rule(b, wason.VARIABLES)
    for p in points:
        if exact.evaluate_point(ra, p) != exact.evaluate_point(rb, p):
            return False, [int(v) if float(v).is_integer() else v for v in p]
    return True, None


def engine(a: str, b: str, *, judge: bool) -> dict:
    # Parse, compile and evaluate afresh (no cache): a new guess each time.
    ra, rb = parse_rule(a, wason.VARIABLES), parse_rule(b, wason.VARIABLES)
    return wason.exact_equivalence(ra, rb, agreement=judge, cache=False)


def hidden_answers(a: str) -> None:
    """What ``wason.generate`` does for an instance (it measures the hidden rule's true
    fraction, or checks a hand-written rule for degeneracy, on the exact domain): the hidden
    rule's answers on the whole domain, kept for the instance's judgements."""
    wason._exact_truth(wason.parse(a).text)


def fast_judge(a: str, b: str) -> dict:
    """The arena's judge on an instance (hidden rule ``a``): its answers were kept when the
    instance was made; the guess is parsed, compiled and evaluated afresh, in simplicity
    order, up to the first differing chunk (and on every integer triple, for the partial
    credit)."""
    ra, rb = wason.parse(a), parse_rule(b, wason.VARIABLES)
    return wason.exact_judge(ra, rb)


def _verdict(eq: dict) -> tuple:
    return (eq["equivalent"], eq["counterexample"], eq["a"], eq["b"], eq["grid_agreement"])


def _ms(f, repeat: int = 1):
    """The fastest of ``repeat`` runs (the same for every side: the machine is shared, and the
    minimum is the least disturbed measure); nothing is kept between runs."""
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, (time.perf_counter() - t) * 1000)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=120)
    parser.add_argument(
        "--tree-sample", type=int, default=15, help="pairs also timed with the scalar tree walker"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="time each judgement this many times, keep the fastest"
    )
    args = parser.parse_args()
    scaled, _, _ = wason.exact_domain()
    points = [tuple(v / wason.SCALE for v in p) for p in scaled.tolist()]
    grid = wason._exact_grid_mask().tolist()
    pairs = make_pairs(args.pairs)

    times: dict[str, list[float]] = {
        k: []
        for k in (
            "engine_judge",
            "fast_judge",
            "hidden_answers",
            "python_judge",
            "engine_first",
            "python_first",
            "engine_first_sample",
            "tree_first",
        )
    }
    identical_judge = identical_first = identical_tree = identical_fast = 0
    wason._exact_truth.cache_clear()  # no hidden rule's answers kept from before the run
    hidden_seen: set[str] = set()
    mix: dict[str, int] = {}
    kinds = [kind for kind, _, _ in pairs]
    for n, (kind, a, b) in enumerate(pairs):
        t_ej, ej = _ms(lambda a=a, b=b: engine(a, b, judge=True), args.repeat)
        t_pj, pj = _ms(lambda a=a, b=b: python_eval_judge(a, b, points, grid), args.repeat)
        if a not in hidden_seen:
            t_h, _ = _ms(lambda a=a: hidden_answers(a))
            times["hidden_answers"].append(t_h)
            hidden_seen.add(a)
        t_fj, fj = _ms(lambda a=a, b=b: fast_judge(a, b), args.repeat)
        times["fast_judge"].append(t_fj)
        same_fast = _verdict(fj) == _verdict(ej) and (fj["equivalent"], fj["counterexample"]) == pj[:2]
        identical_fast += same_fast
        if not same_fast:
            print(json.dumps({"fast_mismatch": [a, b, fj, ej, pj]}), file=sys.stderr)
        t_ef, ef = _ms(lambda a=a, b=b: engine(a, b, judge=False))
        t_pf, pf = _ms(lambda a=a, b=b: python_eval_first_difference(a, b, points))
        times["engine_judge"].append(t_ej)
        times["python_judge"].append(t_pj)
        times["engine_first"].append(t_ef)
        times["python_first"].append(t_pf)
        same_judge = (ej["equivalent"], ej["counterexample"]) == pj[:2] and abs(
            ej["grid_agreement"] - pj[2]
        ) < 1e-12
        same_first = (ef["equivalent"], ef["counterexample"]) == pf
        identical_judge += same_judge
        identical_first += same_first
        if not (same_judge and same_first):
            print(json.dumps({"mismatch": [a, b, ej, pj, ef, pf]}), file=sys.stderr)
        key = f"{kind}:{'equal' if ej['equivalent'] else 'differ'}"
        mix[key] = mix.get(key, 0) + 1
        if n < args.tree_sample:
            t_tf, tf = _ms(lambda a=a, b=b: python_tree_first_difference(a, b, points))
            times["tree_first"].append(t_tf)
            times["engine_first_sample"].append(t_ef)
            identical_tree += (ef["equivalent"], ef["counterexample"]) == tf

    def mean(k: str) -> float:
        return statistics.mean(times[k])

    result = {
        "bench": "rule_equiv",
        "pairs": len(pairs),
        "repeat": args.repeat,
        "domain_points": len(points),
        "verdict_mix": mix,
        "judge": {
            "fast_ms_mean": round(mean("fast_judge"), 3),
            "straightforward_ms_mean": round(mean("engine_judge"), 3),
            "python_eval_ms_mean": round(mean("python_judge"), 3),
            "speedup_vs_python": round(mean("python_judge") / mean("fast_judge"), 1),
            "fast_ms_by_kind": {
                k: round(statistics.mean(t for t, kind in zip(times["fast_judge"], kinds) if kind == k), 3)
                for k in sorted(set(kinds))
            },
            "hidden_answers_ms_once_per_instance": round(mean("hidden_answers"), 3),
            "instances": len(hidden_seen),
            "speedup_vs_straightforward": round(mean("engine_judge") / mean("fast_judge"), 1),
            "identical_to_straightforward_and_python": identical_fast,
            "all_identical": identical_fast == len(pairs),
        },
        "judge_full_domain": {
            "engine_ms_mean": round(mean("engine_judge"), 3),
            "python_eval_ms_mean": round(mean("python_judge"), 3),
            "speedup": round(mean("python_judge") / mean("engine_judge"), 1),
            "identical_verdicts": identical_judge,
        },
        "first_difference": {
            "engine_ms_mean": round(mean("engine_first"), 3),
            "python_eval_ms_mean": round(mean("python_first"), 3),
            "speedup": round(mean("python_first") / mean("engine_first"), 1),
            "identical_verdicts": identical_first,
            "tree_walker_sample": len(times["tree_first"]),
            "tree_walker_speedup": round(mean("tree_first") / mean("engine_first_sample"), 1),
            "tree_walker_identical": identical_tree,
        },
        "target": "judge.speedup_vs_python >= 50 with judge.all_identical on >= 100 pairs",
    }
    print(json.dumps(result))
    if identical_fast != len(pairs):
        sys.exit("the fast judge's verdict differs from the straightforward one")


if __name__ == "__main__":
    main()

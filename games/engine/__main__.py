"""``python -m games.engine``: the engine's command line, JSON on stdout.

Bad input exits with code 2 and prints ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, NoReturn

from games.engine.core import EngineError, Family, RuleError, all_families, get_family


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(f"{self.prog}: {message}")


def _fail(message: str, column: int | None = None) -> NoReturn:
    out: dict[str, Any] = {"ok": False, "error": message}
    if column is not None:
        out["column"] = column
    print(json.dumps(out))
    sys.exit(2)


def _emit(data: Any) -> None:
    print(json.dumps(data, separators=(",", ":") if isinstance(data, dict) and "steps" in data else None))


def _difficulty_params(family: Family, level: int) -> dict[str, Any]:
    """``--difficulty N``: the ``tier`` knob where the family has one, otherwise the params of the
    family's N-th shipped variant (its difficulty levels, easiest first)."""
    if "tier" in family.params_schema.get("properties", {}):
        return {"tier": level}
    if not 1 <= level <= len(family.variants):
        _fail(f"--difficulty must be 1 to {len(family.variants)} for {family.id}")
    return dict(family.variants[level - 1].params)


def _params(args: argparse.Namespace, family: Family) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if getattr(args, "params", None):
        try:
            params = json.loads(args.params)
        except json.JSONDecodeError as exc:
            _fail(f"--params is not valid JSON: {exc.msg} at position {exc.pos}")
        if not isinstance(params, dict):
            _fail("--params must be a JSON object")
    if getattr(args, "difficulty", None) is not None:
        params = {**_difficulty_params(family, args.difficulty), **params}
    if getattr(args, "rule", None):
        params["rule"] = args.rule
    return params


def _equiv(family: Family, a: str, b: str) -> dict[str, Any]:
    start = time.perf_counter()
    if "equivalence" not in family.extras:
        # The contract's own route: an instance whose hidden rule is A, judged against B.
        try:
            verdict = family.judge(family.generate(0, family.validate_params({"rule": a})), b)
        except EngineError as exc:
            return {"ok": False, "error": exc.message, "column": exc.column}
        return {
            "equivalent": verdict.correct,
            "counterexample": verdict.counterexample,
            "checked": verdict.checked,
            "ms": round((time.perf_counter() - start) * 1000, 3),
        }
    parse = family.extras["parse"]
    try:
        ra, rb = parse(a), parse(b)
    except RuleError as exc:
        return {"ok": False, "error": exc.message, "column": exc.column}
    # A one-off comparison: no cache, and stop early when the simplest points differ.
    eq = family.extras["equivalence"](ra, rb, agreement=False, cache=False)
    return {
        "equivalent": eq["equivalent"],
        "counterexample": eq["counterexample"],
        "checked": eq["checked"],
        "ms": round((time.perf_counter() - start) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m games.engine", description="Induction Arena puzzle engine")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("families", help="list families, versions and params schemas")

    gen = sub.add_parser("generate", help="generate an instance, hidden rule included (admin tool)")
    gen.add_argument("--family", required=True)
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--difficulty", type=int)
    gen.add_argument("--params")

    chk = sub.add_parser("check-rule", help="parse a rule and print its canonical form")
    chk.add_argument("--family", required=True)
    chk.add_argument("expr")

    eqv = sub.add_parser("rule-equiv", help="are two rules equivalent on the judge's domain?")
    eqv.add_argument("--family", required=True)
    eqv.add_argument("--pairs", help='JSON lines file of {"a": ..., "b": ...}')
    eqv.add_argument("a", nargs="?")
    eqv.add_argument("b", nargs="?")

    ply = sub.add_parser("play", help="a full game by a baseline solver")
    ply.add_argument("--family", required=True)
    ply.add_argument("--seed", type=int, required=True)
    ply.add_argument("--difficulty", type=int)
    ply.add_argument("--params")
    ply.add_argument("--rule")
    ply.add_argument("--solver", required=True)

    args = parser.parse_args(argv)
    try:
        if args.command == "families":
            _emit([f.describe_schema() for f in all_families()])
            return 0
        family = get_family(args.family)
        if args.command == "generate":
            instance = family.generate(args.seed, family.validate_params(_params(args, family)))
            _emit(instance.to_dict(include_hidden=True))
        elif args.command == "check-rule":
            result = family.check_rule(args.expr)
            _emit(result)
            return 0 if result["ok"] else 2
        elif args.command == "rule-equiv":
            if args.pairs:
                return _equiv_batch(family, args.pairs)
            if args.a is None or args.b is None:
                _fail("rule-equiv needs two rules A B, or --pairs FILE")
            result = _equiv(family, args.a, args.b)
            _emit(result)
            return 0 if "equivalent" in result else 2
        elif args.command == "play":
            from games.engine.play import play

            instance = family.generate(args.seed, family.validate_params(_params(args, family)))
            _emit(play(family, instance, args.solver, seed=args.seed))
    except EngineError as exc:
        _fail(exc.message, exc.column)
    return 0


def _equiv_batch(family: Family, path: str) -> int:
    try:
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    status = 0
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                pair = json.loads(line)
                a, b = pair["a"], pair["b"]
                if not isinstance(a, str) or not isinstance(b, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                print(
                    json.dumps(
                        {"ok": False, "line": lineno, "error": 'expected {"a": "<rule>", "b": "<rule>"}'}
                    )
                )
                status = 2
                continue
            result = _equiv(family, a, b)
            if "equivalent" not in result:
                result["line"] = lineno
                status = 2
            print(json.dumps(result))
    return status


if __name__ == "__main__":
    sys.exit(main())

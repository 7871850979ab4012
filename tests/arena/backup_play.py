"""Helpers the backup tests run as separate processes (the environment picks the database):

python -m tests.arena.backup_play play --stop-file F --progress-file P
    plays two-person races through the services, several at once, one step at a time, until
    F exists; writes the number of steps so far to P and, at the end, a JSON summary
python -m tests.arena.backup_play verify
    re-runs every finished match's step log through the engine and prints a JSON summary:
    the instance regenerated from (family, seed, params) must be the stored one, every test
    must get the recorded answer, every guess the recorded verdict; every seat's log must be
    whole (seq 1..n, tests_used = its tests, a finished seat ends with its guess)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

import django  # noqa: E402

django.setup()

from games.engine.core import get_family  # noqa: E402
from games.models import Match, PuzzleVariant, Seat, Step  # noqa: E402
from games.play import services  # noqa: E402

VARIANTS = ["wason-tier-1", "wason-tier-2", "eleusis-tier-1"]
GUESSES = {
    "wason": ["x < y < z", "x + y > z", "x == y"],
    "eleusis": ["rank > prev_rank", "suit == prev_suit"],
}


def _random_input(family: str, rng: random.Random) -> list[int]:
    if family == "eleusis":
        return [rng.randint(1, 13), rng.randint(0, 3), rng.randint(1, 13), rng.randint(0, 3)]
    return [rng.randint(-20, 20) for _ in range(3)]


def play(stop_file: Path, progress_file: Path, at_once: int = 4) -> dict[str, int]:
    rng = random.Random(7)
    variants = list(PuzzleVariant.objects.filter(slug__in=VARIANTS))
    active: list[tuple[Match, list[Seat], list[int]]] = []
    steps = finished = started = 0
    while not stop_file.exists():
        while len(active) < at_once:
            variant = rng.choice(variants)
            match = services.match_create(variant=variant, seed=rng.randrange(10**6))
            seats = [services.seat_join(match=match, handle=f"Player {i}") for i in (1, 2)]
            services.match_start(match=match)
            active.append((match, seats, [rng.randint(1, 4) for _ in seats]))
            started += 1
        match, seats, tests_left = active[rng.randrange(len(active))]
        i = rng.randrange(len(seats))
        if seats[i] is None:
            continue
        family = match.instance.family
        if tests_left[i] > 0:
            action = {"type": "test", "input": _random_input(family, rng)}
            tests_left[i] -= 1
        else:
            action = {"type": "guess", "rule": rng.choice(GUESSES[family])}
        try:
            services.step_submit(seat=seats[i], action=action)
        except services.ActionError:  # e.g. an input the family rejects: try another
            continue
        steps += 1
        if action["type"] == "guess":
            seats[i] = None  # type: ignore[call-overload]
            if all(s is None for s in seats):
                active.remove((match, seats, tests_left))
                finished += 1
        progress_file.write_text(str(steps))
    return {"steps": steps, "started": started, "finished": finished}


def verify() -> dict[str, object]:
    summary: dict[str, object] = {"finished": 0, "running": 0, "tests": 0, "guesses": 0}
    problems: list[str] = []
    for match in Match.objects.select_related("instance").order_by("pk"):
        instance = match.instance
        family = get_family(instance.family)
        engine_instance = family.generate(instance.seed, instance.params)
        if engine_instance.public != instance.public or engine_instance.hidden != instance.hidden:
            problems.append(f"match {match.pk}: the instance does not regenerate")
        over = match.status == Match.Status.FINISHED
        summary["finished" if over else "running"] += 1  # type: ignore[operator]
        for seat in match.seats.all():
            steps = list(Step.objects.filter(seat=seat).order_by("seq"))
            if [s.seq for s in steps] != list(range(1, len(steps) + 1)):
                problems.append(f"seat {seat.pk}: seq is not 1..{len(steps)}")
            if seat.tests_used != sum(s.kind == Step.Kind.TEST for s in steps):
                problems.append(f"seat {seat.pk}: tests_used {seat.tests_used} but the log differs")
            if seat.status == Seat.Status.FINISHED and (not steps or steps[-1].kind != Step.Kind.GUESS):
                problems.append(f"seat {seat.pk}: finished without a final guess")
            if not over:
                continue
            for step in steps:
                if step.kind == Step.Kind.TEST:
                    if family.answer(engine_instance, step.action["input"]) != step.result["result"]:
                        problems.append(f"step {step.pk}: the engine answers differently")
                    summary["tests"] += 1  # type: ignore[operator]
                elif step.kind == Step.Kind.GUESS:
                    verdict = family.judge(engine_instance, step.action["rule"]).to_dict()
                    if verdict != step.result["verdict"]:
                        problems.append(f"step {step.pk}: the judge's verdict differs")
                    summary["guesses"] += 1  # type: ignore[operator]
    summary["problems"] = problems
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("play")
    p.add_argument("--stop-file", type=Path, required=True)
    p.add_argument("--progress-file", type=Path, required=True)
    sub.add_parser("verify")
    args = parser.parse_args()
    result = play(args.stop_file, args.progress_file) if args.cmd == "play" else verify()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

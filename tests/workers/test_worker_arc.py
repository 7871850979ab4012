"""``arc`` played by the built-in solvers through a real Celery worker: the search solves a
composed procedural task; the random baseline spends both attempts (the first wrong one logged as
a guess step while the seat plays on)."""

from __future__ import annotations

import pytest

from games.engine import get_family
from games.models import ModelContestant, Seat, Step
from games.play import services
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def solver(name: str) -> ModelContestant:
    return ModelContestant.objects.create(
        slug=f"arc-{name}", name=f"ARC {name}", backend="builtin", model=name, max_calls=200
    )


def test_a_real_worker_plays_the_arc_solvers_to_the_end() -> None:
    point_the_app_at_the_test_queue()
    solved_variant = services.variant_create(
        slug="arc-worker-search",
        family="arc",
        title="Turn and drop",
        params={"rule": "rotate(90) | gravity(down)", "size": 7, "attempts": 2, "max_tests": 3},
    )
    random_variant = services.variant_create(
        slug="arc-worker-random",
        family="arc",
        title="Mirror",
        params={"rule": "reflect(h) | recolour(1>2)", "size": 6, "colours": 4, "attempts": 2, "max_tests": 2},
    )
    search, random_player = solver("search"), solver("random")
    worker = Worker()
    try:
        worker.wait_ready()
        solved, _ = services.race_create(variant=solved_variant, opponents=[search.slug], seed=3)
        missed, _ = services.race_create(variant=random_variant, opponents=[random_player.slug], seed=4)
        solved, missed = wait_finished(solved), wait_finished(missed)
    finally:
        worker.stop()

    (seat,) = solved.seats.all()
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is True, seat.score
    assert seat.outcome["verdict"]["correct"] and len(seat.outcome["attempts"]) == 1
    assert_log_is_clean(seat)

    (seat,) = missed.seats.all()
    assert seat.status == Seat.Status.FINISHED and seat.score["solved"] is False
    guesses = list(seat.steps.filter(kind=Step.Kind.GUESS).order_by("seq"))
    assert len(guesses) == 2
    assert guesses[0].result == {"verdict": {"correct": False}, "attempt": 1, "attempts_left": 1}
    assert guesses[1].result["verdict"]["hidden_answer"] == missed.instance.hidden["answer"]
    assert [a["guess"] for a in seat.outcome["attempts"]] == [g.action["rule"] for g in guesses]
    family = get_family("arc")
    for step in seat.steps.filter(kind=Step.Kind.TEST):
        family.parse_query(missed.instance.public, step.action["input"])  # probes the rules allow
    assert seat.tests_used == 2  # it probed before guessing
    assert_log_is_clean(seat)

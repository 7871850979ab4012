"""A rule challenge on a real Celery worker: the submit queues the solvers' trial, the worker plays
it and publishes the challenge, and the built-in contestants then race on it to the end."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from games.competition import challenges
from games.models import Match, RuleChallenge
from tests import factories
from tests.workers.helpers import builtin
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_the_worker_runs_the_trial_publishes_and_the_models_race() -> None:
    point_the_app_at_the_test_queue()
    worker = Worker()
    try:
        worker.wait_ready()
        builtin("infogain")
        author = User.objects.create_user("eleusis-dealer", password="pw")
        made = challenges.challenge_create(
            author=author, base=factories.variant(max_tests=30), rule="x * y == z", title="Products"
        )
        assert made.status == RuleChallenge.Status.CHECKING
        deadline = time.monotonic() + 180
        race = None
        while time.monotonic() < deadline:
            made.refresh_from_db()
            race = Match.objects.filter(instance__variant=made.puzzle).first() if made.puzzle_id else None
            if race is not None and race.is_over:
                break
            time.sleep(0.3)
        assert made.status == RuleChallenge.Status.PUBLISHED, (
            made.status,
            made.refusal,
            worker.output()[-3000:],
        )
        assert made.trial["random"]["solved"] is False
        assert race is not None and race.status == Match.Status.FINISHED, worker.output()[-3000:]
        results = {r["player"]: r for r in challenges.challenge_results(challenge=made)}
        assert results["infogain"]["played"] == 1 and results["infogain"]["solved"] == 1
    finally:
        worker.stop()

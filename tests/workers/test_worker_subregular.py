"""The ``subregular`` family through a real Celery worker: the built-in window-tabulation learner
and a model (the fake server) race on string tests to the end."""

from __future__ import annotations

import json

import pytest

from games.engine import get_family
from games.models import ModelCall, ModelContestant, Seat
from games.play import services
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant
from tests.workers.test_worker_e2e import assert_log_is_clean, wait_finished
from tests.workers.worker import Worker, point_the_app_at_the_test_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

PARAMS = {"k": 2, "alphabet": 3, "rules": 2, "mode": "ISL", "max_tests": 30}


def test_a_real_worker_plays_the_tabulation_learner_and_a_model_on_strings(fake) -> None:
    family = get_family("subregular")
    hidden = family.generate(1, family.validate_params(PARAMS)).hidden["rule"]
    point_the_app_at_the_test_queue()
    fake.script(
        Reply(content='{"action": "test", "input": "abcabc"}'),
        Reply(content="Windows seen.\nTEST: ccba"),
        Reply(content=json.dumps({"action": "guess", "rule": hidden})),
    )
    tabulate, _ = ModelContestant.objects.get_or_create(
        slug="tabulate",
        defaults={"name": "Tabulate", "backend": "builtin", "model": "tabulate", "max_calls": 200},
    )
    model = contestant(fake)
    variant = services.variant_create(
        slug="test-subregular-worker", family="subregular", title="Local", params=PARAMS
    )
    worker = Worker()
    try:
        worker.wait_ready()
        match, _ = services.race_create(variant=variant, opponents=[model.slug, tabulate.slug], seed=1)
        match = wait_finished(match)
        seats = {s.contestant: s for s in match.seats.all()}
        learner = seats["tabulate"]
        assert learner.status == Seat.Status.FINISHED and learner.score["solved"] is True
        assert 1 <= learner.tests_used < 30
        tests = [s.action["input"] for s in learner.steps.filter(kind="test").order_by("seq")]
        assert all(isinstance(t, str) and set(t) <= set("abc") for t in tests)

        mine = seats[model.slug]
        assert mine.status == Seat.Status.FINISHED and mine.score["solved"] is True and mine.tests_used == 2
        steps = list(mine.steps.order_by("seq"))
        assert [s.action.get("input") for s in steps[:2]] == ["abcabc", "ccba"]
        # the model was told the output string of its first test, written as a string
        told = fake.requests[1][1]["messages"][-1]["content"]
        expected = family.extras["parse"](hidden).apply("abcabc")
        assert '"abcabc"' in told and f'"{expected}"' in told
        assert ModelCall.objects.filter(seat=mine).count() == 3
        for seat in match.seats.all():
            assert_log_is_clean(seat)
    finally:
        worker.stop()


@pytest.mark.timeout(60)
def test_a_model_sending_a_bad_string_is_reprompted_with_the_familys_message_and_example(fake) -> None:
    from tests.workers.test_pipeline import drive

    fake.script(
        Reply(content='{"action": "test", "input": "abz"}'),  # z is not in the alphabet
        Reply(content='{"action": "test", "input": "abc"}'),
        Reply(content='{"action": "guess", "rule": "ab:c -> zz"}'),  # not a rule: re-prompted
        Reply(content='{"action": "guess", "rule": "ab:c -> a"}'),
    )
    variant = services.variant_create(
        slug="test-subregular-reprompt", family="subregular", title="L", params=PARAMS
    )
    match, _ = services.race_create(variant=variant, opponents=[contestant(fake).slug], seed=1)
    (seat,) = match.seats.all()
    drive(seat)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.FINISHED and seat.tests_used == 1
    symbol_reprompt = fake.requests[1][1]["messages"][-1]["content"]
    assert "'z' is not one of them" in symbol_reprompt and '"input": "abca"' in symbol_reprompt
    rule_reprompt = fake.requests[3][1]["messages"][-1]["content"]
    assert "after '->' write one symbol" in rule_reprompt

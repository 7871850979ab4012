import datetime as dt
import json

import pytest
from django.db import IntegrityError, transaction

from games.engine.core import ParamsError, get_family
from games.models import Match, Seat, Step
from games.play import selectors, services
from games.play.visibility import Viewer
from tests import factories

pytestmark = pytest.mark.django_db


def steps_of(seat):
    return list(Step.objects.filter(seat=seat).order_by("seq"))


def test_instance_is_deterministic_and_stored_once():
    variant = factories.variant()
    a = services.instance_get_or_create(variant=variant, seed=42)
    b = services.instance_get_or_create(variant=variant, seed=42)
    assert a.pk == b.pk
    assert a.hidden["rule"] == factories.HIDDEN_RULE
    assert a.generator_version == get_family("wason").version


def test_variant_create_rejects_bad_params_with_a_clear_message():
    with pytest.raises(ParamsError, match="tier"):
        services.variant_create(slug="bad", family="wason", title="Bad", params={"tier": 9})


def test_test_step_answers_from_the_oracle_and_appends_to_the_log():
    _, (seat,) = factories.match()
    yes = services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="a")
    no = services.step_submit(seat=seat, action={"type": "test", "input": [1, 1, 5]}, idempotency_key="b")
    assert (yes.step.seq, yes.step.result) == (1, {"result": True})
    assert (no.step.seq, no.step.result) == (2, {"result": False})
    seat.refresh_from_db()
    assert seat.tests_used == 2


def test_resent_move_with_the_same_key_is_applied_once():
    _, (seat,) = factories.match()
    first = services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="k1")
    again = services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="k1")
    assert again.replayed and again.step.pk == first.step.pk
    assert len(steps_of(seat)) == 1
    seat.refresh_from_db()
    assert seat.tests_used == 1


def test_over_budget_test_is_refused_and_the_log_is_unchanged():
    _, (seat,) = factories.match(max_tests=2)
    for key in ("a", "b"):
        services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key=key)
    with pytest.raises(services.ActionError, match="no tests left"):
        services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="c")
    assert len(steps_of(seat)) == 2


def test_malformed_query_is_refused_with_the_engine_message():
    _, (seat,) = factories.match()
    with pytest.raises(services.ActionError, match="out of range"):
        services.step_submit(seat=seat, action={"type": "test", "input": [1e12, 2, 3]}, idempotency_key="a")
    assert steps_of(seat) == []


def test_unparseable_guess_is_refused_and_the_seat_keeps_playing():
    _, (seat,) = factories.match()
    with pytest.raises(services.ActionError, match="does not parse") as info:
        services.step_submit(seat=seat, action={"type": "guess", "rule": "x <"}, idempotency_key="g")
    assert info.value.column is not None
    seat.refresh_from_db()
    assert seat.status == Seat.Status.PLAYING and steps_of(seat) == []


def test_moves_before_the_start_are_refused():
    _, (seat,) = factories.match(start=False)
    with pytest.raises(services.ActionError, match="not started"):
        services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]})


def test_correct_guess_finishes_seat_and_solo_match_with_score():
    match, (seat,) = factories.match()
    services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="t")
    out = services.step_submit(seat=seat, action={"type": "guess", "rule": "z < x + y"}, idempotency_key="g")
    assert out.step.kind == Step.Kind.GUESS
    assert out.step.result["verdict"]["correct"] is True
    seat.refresh_from_db()
    match.refresh_from_db()
    assert seat.status == Seat.Status.FINISHED and seat.score["points"] > 0
    assert match.status == Match.Status.FINISHED and match.finished is not None


def test_wrong_guess_records_a_counterexample_the_two_rules_disagree_on():
    _, (seat,) = factories.match()
    out = services.step_submit(seat=seat, action={"type": "guess", "rule": "x < y < z"}, idempotency_key="g")
    verdict = out.step.result["verdict"]
    assert verdict["correct"] is False
    assert verdict["hidden_answer"] != verdict["guess_answer"]
    x, y, z = verdict["counterexample"]
    assert (x + y > z) == verdict["hidden_answer"]


def test_moves_after_the_match_ended_are_refused():
    _, (seat,) = factories.match()
    services.step_submit(seat=seat, action={"type": "guess", "rule": "x > 0"}, idempotency_key="g")
    with pytest.raises(services.ActionError, match="ended"):
        services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="late")
    assert len(steps_of(seat)) == 1


def test_race_finishes_only_when_every_seat_is_done():
    match, (a, b) = factories.match(seats=2)
    services.step_submit(seat=a, action={"type": "guess", "rule": "x > 0"}, idempotency_key="ga")
    match.refresh_from_db()
    assert match.status == Match.Status.RUNNING
    with pytest.raises(services.ActionError, match="already finished"):
        services.step_submit(seat=a, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="x")
    services.step_submit(seat=b, action={"type": "forfeit"}, idempotency_key="fb")
    match.refresh_from_db()
    assert match.status == Match.Status.FINISHED


def test_move_after_the_time_limit_records_a_timeout_instead():
    match, (seat,) = factories.match(time_limit_s=60)
    Match.objects.filter(pk=match.pk).update(started=match.started - dt.timedelta(seconds=61))
    out = services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="t")
    assert out.timed_out and out.step.kind == Step.Kind.TIMEOUT
    seat.refresh_from_db()
    assert seat.status == Seat.Status.TIMED_OUT and seat.tests_used == 0


def test_events_carry_consecutive_sequence_numbers(django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(
        "games.play.events.publish", lambda *, match_id, event, into=None: published.append(event)
    )
    with django_capture_on_commit_callbacks(execute=True):
        match, (seat,) = factories.match()
        services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="t")
        services.step_submit(seat=seat, action={"type": "guess", "rule": "z < x + y"}, idempotency_key="g")
    names = [e["event"] for e in published]
    assert names == ["seat_joined", "match_started", "step", "step", "match_finished"]
    assert [e["seq"] for e in published] == [1, 2, 3, 4, 5]
    match.refresh_from_db()
    assert match.event_seq == 5
    assert published[-1]["reveal"]["rule"] == factories.HIDDEN_RULE
    assert all(factories.HIDDEN_RULE not in json.dumps(e) for e in published[:-1])


def test_a_failed_publish_does_not_lose_the_move(django_capture_on_commit_callbacks, monkeypatch):
    class Broken:
        async def group_send(self, *args):
            raise ConnectionError("redis is down")

    monkeypatch.setattr("games.play.events.get_channel_layer", lambda: Broken())
    _, (seat,) = factories.match()
    with django_capture_on_commit_callbacks(execute=True):
        services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="t")
    assert len(steps_of(seat)) == 1


def test_observation_is_built_from_the_log_and_never_holds_the_hidden_rule():
    _, (seat,) = factories.match()
    services.step_submit(seat=seat, action={"type": "test", "input": [3, 4, 5]}, idempotency_key="t")
    seat.refresh_from_db()
    obs = selectors.seat_observation(seat=seat)
    assert obs["history"] == [{"input": [3, 4, 5], "result": True}]
    assert obs["tests_left"] == 29
    assert factories.HIDDEN_RULE not in json.dumps(obs)


def test_public_state_reveals_the_rule_only_after_the_end():
    match, (seat,) = factories.match()
    before = selectors.match_public_state(match=match, viewer=Viewer.player(seat.pk))
    assert before["reveal"] is None and factories.HIDDEN_RULE not in json.dumps(before)
    services.step_submit(seat=seat, action={"type": "forfeit"}, idempotency_key="f")
    match.refresh_from_db()
    after = selectors.match_public_state(match=match, viewer=Viewer.player(seat.pk))
    assert after["reveal"]["rule"] == factories.HIDDEN_RULE


class TestConstraintsInTheDatabase:
    def test_seq_must_be_positive(self):
        _, (seat,) = factories.match()
        with pytest.raises(IntegrityError), transaction.atomic():
            Step.objects.create(seat=seat, seq=0, kind="note")

    def test_seat_and_seq_are_unique(self):
        _, (seat,) = factories.match()
        Step.objects.create(seat=seat, seq=1, kind="note")
        with pytest.raises(IntegrityError), transaction.atomic():
            Step.objects.create(seat=seat, seq=1, kind="note")

    def test_idempotency_key_is_unique_per_seat_but_blank_is_allowed_twice(self):
        _, (seat,) = factories.match()
        Step.objects.create(seat=seat, seq=1, kind="note")
        Step.objects.create(seat=seat, seq=2, kind="note")
        Step.objects.create(seat=seat, seq=3, kind="note", idempotency_key="k")
        with pytest.raises(IntegrityError), transaction.atomic():
            Step.objects.create(seat=seat, seq=4, kind="note", idempotency_key="k")


def test_a_guess_can_carry_the_application_quiz():
    match, (seat,) = factories.match()
    items = selectors.quiz_items(instance=match.instance)
    services.step_submit(seat=seat, action={"type": "test", "input": items[0]}, idempotency_key="t")
    answers = [True] * len(items)
    out = services.step_submit(seat=seat, action={"type": "guess", "rule": "x + y > z", "quiz": answers})
    quiz = out.step.result["quiz"]
    assert quiz["answers"] == answers and quiz["accuracy_vs_own_rule"] is not None
    assert quiz["seen"][0] is True and quiz["seen"][1:] == [False] * (len(items) - 1)
    assert out.seat.outcome["quiz"] == quiz


def test_a_malformed_quiz_is_refused_and_nothing_is_written():
    _, (seat,) = factories.match()
    for bad, message in [([1, 0], "true/false"), ([True], "exactly")]:
        with pytest.raises(services.ActionError, match=message):
            services.step_submit(seat=seat, action={"type": "guess", "rule": "x > y", "quiz": bad})
    assert not steps_of(seat)


def test_every_variant_a_family_declares_is_there_after_migrate():
    from games.engine.core import all_families
    from games.models import PuzzleVariant

    declared = {spec.slug: family.id for family in all_families() for spec in family.variants}
    stored = dict(PuzzleVariant.objects.filter(slug__in=declared).values_list("slug", "family"))
    assert stored == declared
    assert PuzzleVariant.objects.filter(slug__in=declared, published=True).count() == len(declared)


def test_variants_sync_creates_what_is_missing_and_leaves_admin_edits_alone():
    from games.models import PuzzleVariant

    PuzzleVariant.objects.filter(slug="wason-tier-2").delete()
    PuzzleVariant.objects.filter(slug="wason-tier-1").update(title="Edited", published=False)
    assert services.variants_sync() == ["wason-tier-2"]
    assert PuzzleVariant.objects.get(slug="wason-tier-2").params == {"tier": 2, "max_tests": 30}
    edited = PuzzleVariant.objects.get(slug="wason-tier-1")
    assert (edited.title, edited.published) == ("Edited", False)
    assert services.variants_sync() == []


def test_the_match_snapshot_carries_the_family_presentation():
    match, (seat,) = factories.match()
    state = selectors.match_public_state(match=match, viewer=Viewer.player(seat.pk))
    shown = state["presentation"]
    assert shown["widget"]["kind"] == "number_tuple"
    assert [f["name"] for f in shown["widget"]["fields"]] == ["x", "y", "z"]
    assert shown["answer_schema"] == {
        "type": "boolean",
        "description": "whether the triple fits the hidden rule",
    }
    assert shown["answer_words"]["true"] == "fits the rule"
    assert match.instance.hidden["rule"] not in json.dumps(shown)

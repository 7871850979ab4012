"""games.play.fastpath (the move's hand-built SQL) writes exactly what the ORM path writes."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from games.models import Match, Seat, Step
from games.play import selectors, services
from tests import factories

pytestmark = pytest.mark.django_db

# Differ between two matches by construction: ids, who sat down, wall-clock times.
SEAT_OWN = {"id", "match", "session_key", "joined", "finished"}
STEP_OWN = {"id", "seat", "created_at"}
MATCH_OWN = {"id", "instance", "created", "started", "finished"}
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _without_ids(value):
    """An event with its ids and wall-clock times taken out, at any depth."""
    if isinstance(value, dict):
        return {
            k: _without_ids(v)
            for k, v in value.items()
            # winner: a seat id; clock_s: a person's race clock, from wall-clock times
            if k not in ("id", "winner", "match", "at", "started", "finished", "clock_s")
        }
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def play(path, settings, monkeypatch, capture):
    """One scripted race through ``path``: tests, a think time, a replayed key, a move without a
    key, a forfeited model turn, a quiz guess, a refused move and a timeout that ends the match."""
    settings.ARENA_MOVE_PATH = path
    published = []
    monkeypatch.setattr(
        "games.play.events.publish", lambda *, match_id, event, into=None: published.append(event)
    )
    replies = []
    with capture(execute=True):
        match, (a, b) = factories.match(seats=2, max_tests=3, time_limit_s=600, hypothesis_mode="optional")
        items = selectors.quiz_items(instance=match.instance)

        def move(seat, action, **kw):
            out = services.step_submit(seat=seat, action=action, **kw)
            replies.append(
                (
                    out.replayed,
                    out.timed_out,
                    out.match.status,
                    out.match.event_seq,
                    {k: v for k, v in selectors.seat_summary(seat=out.seat).items() if k != "id"},
                    {k: v for k, v in model_to_dict(out.step).items() if k not in STEP_OWN},
                )
            )
            # What the move returned is what it stored.
            stored = Step.objects.get(pk=out.step.pk)
            assert model_to_dict(stored) == model_to_dict(out.step)

        move(a, {"type": "test", "input": [3, 4, 5], "hypothesis": "x < y < z"}, idempotency_key="a1")
        move(
            a,
            {"type": "test", "input": [1, 1, 5], "hypothesis": "x <<< y"},  # stored, flagged unparseable
            idempotency_key="a2",
            client_think_ms=900,
        )
        move(a, {"type": "test", "input": [3, 4, 5]}, idempotency_key="a1")  # re-sent: replayed
        move(b, {"type": "test", "input": [2, 2, 2]})
        services.turn_forfeit(seat=b, reason="no action", idempotency_key="b-turn")
        with pytest.raises(services.ActionError, match="no tests left"):
            for key in ("a3", "a4"):
                move(a, {"type": "test", "input": [0, 0, 1]}, idempotency_key=key)
        move(a, {"type": "guess", "rule": "x + y > z", "quiz": [True] * len(items)}, idempotency_key="a-g")
        Match.objects.filter(pk=match.pk).update(started=LONG_AGO)  # the same deadline on both
        move(b, {"type": "test", "input": [1, 2, 3]}, idempotency_key="b-late")

    steps = [
        {k: v for k, v in model_to_dict(s).items() if k not in STEP_OWN} | {"player": s.seat.handle}
        for s in Step.objects.filter(seat__match=match).select_related("seat").order_by("seat__handle", "seq")
    ]
    seats = [
        {k: v for k, v in model_to_dict(s).items() if k not in SEAT_OWN} | {"ended": s.finished is not None}
        for s in Seat.objects.filter(match=match).order_by("handle")
    ]
    match.refresh_from_db()
    return {
        "steps": steps,
        "seats": seats,
        "match": {k: v for k, v in model_to_dict(match).items() if k not in MATCH_OWN},
        "replies": replies,
        "events": [_without_ids(e) for e in published],
    }


def test_the_hand_built_statements_write_what_the_orm_writes(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    orm = play("orm", settings, monkeypatch, django_capture_on_commit_callbacks)
    sql = play("sql", settings, monkeypatch, django_capture_on_commit_callbacks)
    assert len(orm["steps"]) == 7 and orm["match"]["status"] == Match.Status.FINISHED
    assert [s["hypothesis"] and s["hypothesis"]["parsed"] for s in orm["steps"][:3]] == [True, False, None]
    assert [e["seq"] for e in orm["events"]] == list(range(1, 12))
    for part in ("steps", "seats", "match", "replies", "events"):
        assert sql[part] == orm[part], part


def test_a_missing_seat_raises_does_not_exist_on_both_paths(settings):
    for path in ("orm", "sql"):
        settings.ARENA_MOVE_PATH = path
        with pytest.raises(Seat.DoesNotExist):
            services.step_submit(seat=Seat(pk=10**9), action={"type": "test", "input": [1, 2, 3]})


def play_to_budget_end(path, settings, monkeypatch, capture):
    """A family with no guess: tests until the budget is spent, on one path."""
    from tests.games.play.test_budget_end import alchemy_match, pairs

    settings.ARENA_MOVE_PATH = path
    published = []
    monkeypatch.setattr(
        "games.play.events.publish", lambda *, match_id, event, into=None: published.append(event)
    )
    with capture(execute=True):
        match, (seat,) = alchemy_match(max_tests=2)
        making, nothing, _ = pairs(match)
        services.step_submit(seat=seat, action={"type": "test", "input": making}, idempotency_key="1")
        services.step_submit(seat=seat, action={"type": "test", "input": nothing}, idempotency_key="2")
    steps = [
        {k: v for k, v in model_to_dict(s).items() if k not in STEP_OWN}
        for s in Step.objects.filter(seat__match=match).order_by("seq")
    ]
    seat.refresh_from_db()
    match.refresh_from_db()
    return {
        "steps": steps,
        "seat": {k: v for k, v in model_to_dict(seat).items() if k not in SEAT_OWN},
        "match": {k: v for k, v in model_to_dict(match).items() if k not in MATCH_OWN},
        "events": [_without_ids(e) for e in published],
    }


def test_both_paths_finish_a_seat_on_its_budget_alike(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    orm = play_to_budget_end("orm", settings, monkeypatch, django_capture_on_commit_callbacks)
    sql = play_to_budget_end("sql", settings, monkeypatch, django_capture_on_commit_callbacks)
    assert orm["seat"]["status"] == Seat.Status.FINISHED and orm["match"]["status"] == Match.Status.FINISHED
    for part in ("steps", "seat", "match", "events"):
        assert sql[part] == orm[part], part

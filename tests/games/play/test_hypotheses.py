"""Stated hypotheses through the write path: stored per step, validated with a clear error, the
log unchanged by a refused move; shown to the seat, hidden from a delayed spectator."""

from __future__ import annotations

import pytest

from games.models import PuzzleVariant, Step
from games.play import selectors, services
from games.play.visibility import Viewer
from tests import factories

pytestmark = pytest.mark.django_db


def submit(seat, inp, hypothesis):
    action = {"type": "test", "input": inp}
    if hypothesis is not ...:
        action["hypothesis"] = hypothesis
    return services.step_submit(seat=seat, action=action)


def test_optional_rule_hypotheses_are_stored_parsed_or_flagged() -> None:
    _, (seat,) = factories.match(hypothesis_mode="optional")
    submit(seat, [1, 2, 3], "  x < y < z ")
    submit(seat, [3, 2, 1], "x <<< y")
    submit(seat, [5, 5, 5], ...)  # skipped
    submit(seat, [5, 5, 6], "")  # skipped too
    stored = list(seat.steps.order_by("seq").values_list("hypothesis", flat=True))
    assert stored[0] == {"text": "x < y < z", "format": "rule", "parsed": True, "canonical": "x < y < z"}
    assert stored[1]["parsed"] is False and stored[1]["text"] == "x <<< y" and stored[1]["error"]
    assert stored[2:] == [None, None]


def test_free_text_hypotheses_are_stored_as_written() -> None:
    _, (seat,) = factories.match(hypothesis_mode="required", hypothesis_format="text")
    submit(seat, [2, 4, 6], "numbers going up by two")
    assert seat.steps.get().hypothesis == {"text": "numbers going up by two", "format": "text"}


@pytest.mark.parametrize(
    ("mode", "hypothesis", "message"),
    [
        ("off", "x < y", "does not ask for a hypothesis"),
        ("optional", 12, '"hypothesis" must be text'),
        ("optional", ["x < y"], '"hypothesis" must be text'),
        ("optional", "x < y or " * 200, "at most 1000 characters; this one has"),
        ("required", ..., "asks for your current hypothesis with every test"),
        ("required", "   ", "asks for your current hypothesis with every test"),
        ("required_parseable", "x <<< y", "your hypothesis does not parse as a rule"),
    ],
)
def test_a_bad_hypothesis_is_refused_and_nothing_is_written(mode, hypothesis, message) -> None:
    _, (seat,) = factories.match(hypothesis_mode=mode)
    with pytest.raises(services.ActionError, match=message):
        submit(seat, [1, 2, 3], hypothesis)
    seat.refresh_from_db()
    assert seat.steps.count() == 0 and seat.tests_used == 0


def test_required_but_unparseable_is_kept_under_plain_required() -> None:
    _, (seat,) = factories.match(hypothesis_mode="required")
    submit(seat, [1, 2, 3], "bigger each time")
    assert seat.steps.get().hypothesis["parsed"] is False


def test_a_hypothesis_goes_with_a_test_only() -> None:
    _, (seat,) = factories.match(hypothesis_mode="optional")
    with pytest.raises(services.ActionError, match="goes with a test"):
        services.step_submit(seat=seat, action={"type": "guess", "rule": "x < y", "hypothesis": "x < y"})


def test_the_match_keeps_the_variant_setting_it_was_made_with() -> None:
    match, (seat,) = factories.match(hypothesis_mode="optional")
    PuzzleVariant.objects.filter(pk=match.instance.variant_id).update(hypothesis_mode="off")
    submit(seat, [1, 2, 3], "x < y")  # still accepted: the match was made asking for it
    assert seat.steps.get().hypothesis["parsed"] is True


def test_the_seat_sees_its_hypotheses_and_a_delayed_spectator_does_not() -> None:
    match, (seat, rival) = factories.match(seats=2, hypothesis_mode="optional")
    PuzzleVariant.objects.filter(pk=match.instance.variant_id).update(spectator_delay_s=0)
    submit(seat, [1, 2, 3], "x < y")
    match.refresh_from_db()
    own = selectors.match_public_state(match=match, viewer=Viewer.player(seat.pk))
    mine = next(s for s in own["seats"] if s["id"] == seat.pk)
    assert mine["steps"][0]["hypothesis"]["text"] == "x < y"
    assert own["hypothesis"] == {"mode": "optional", "format": "rule"}
    watched = selectors.match_public_state(match=match, viewer=Viewer.spectator())
    shown = next(s for s in watched["seats"] if s["id"] == seat.pk)
    assert shown["steps"][0]["input"] == [1, 2, 3] and "hypothesis" not in shown["steps"][0]
    as_rival = selectors.match_public_state(match=match, viewer=Viewer.player(rival.pk))
    assert "steps" not in next(s for s in as_rival["seats"] if s["id"] == seat.pk)


def test_a_replayed_move_returns_the_stored_hypothesis() -> None:
    _, (seat,) = factories.match(hypothesis_mode="optional")
    first = services.step_submit(
        seat=seat, action={"type": "test", "input": [1, 2, 3], "hypothesis": "x < y"}, idempotency_key="k"
    )
    again = services.step_submit(
        seat=seat, action={"type": "test", "input": [1, 2, 3], "hypothesis": "x > y"}, idempotency_key="k"
    )
    assert again.replayed and again.step.pk == first.step.pk
    assert Step.objects.get(pk=first.step.pk).hypothesis["text"] == "x < y"

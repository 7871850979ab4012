"""Checking a variant as the engine will play it, and the admin's services for variants and
matches (abort, publish/retire)."""

from __future__ import annotations

import pytest

from games.models import Match, Seat
from games.play import events, services, variants
from tests import factories


def test_params_are_checked_against_the_schema_with_the_engines_message_by_field():
    with pytest.raises(variants.VariantInvalid) as bad:
        variants.variant_check(family_id="wason", params={"tier": 0})
    assert bad.value.errors == {"tier": ["parameter 'tier' must be >= 1, got 0"]}
    with pytest.raises(variants.VariantInvalid) as bad:
        variants.variant_check(family_id="eleusis", params={"rule": "rank >"})
    assert list(bad.value.errors) == ["rule"]
    check = variants.variant_check(family_id="eleusis", params={"tier": 2})
    assert check.params["tier"] == 2 and check.rules == [] and check.warnings == []


def test_a_rule_set_and_a_single_rule_are_not_given_together():
    with pytest.raises(variants.VariantInvalid) as bad:
        variants.variant_check(family_id="wason", params={"rule": "x < y"}, rules=["y < z"])
    assert "either one rule" in bad.value.errors["rule"][0]


def test_a_nearly_degenerate_rule_is_flagged_but_allowed():
    check = variants.variant_check(family_id="wason", params={"rule": "x == 3 and y == 4 and z == 5"})
    assert any("nearly degenerate" in w for w in check.warnings)


def test_fixed_rule():
    assert variants.fixed_rule(params={"rule": "x < y"}, rules=[]) == "x < y"
    assert variants.fixed_rule(params={}, rules=["x < y"]) == "x < y"
    assert variants.fixed_rule(params={"rule": ""}, rules=["x < y", "y < z"]) is None


@pytest.mark.django_db
def test_aborting_a_waiting_match_writes_no_step_and_sends_one_finished_event(
    django_capture_on_commit_callbacks,
):
    match, (seat,) = factories.match(start=False)
    with events.collected() as sent, django_capture_on_commit_callbacks(execute=True):
        services.match_abort(match=match, reason="set up by mistake")
    match.refresh_from_db()
    assert match.status == Match.Status.ABORTED and not seat.steps.exists()
    assert [e["event"] for _, e in sent] == ["match_finished"] and sent[0][1]["status"] == "aborted"
    with pytest.raises(services.ActionError, match="already over"):
        services.match_abort(match=match, reason="again")


@pytest.mark.django_db
def test_an_aborted_match_is_off_the_leaderboard():
    from games.competition import leaderboard

    match, (a,) = factories.match()
    services.step_submit(seat=a, action={"type": "test", "input": [1, 2, 3]})
    services.match_abort(match=match, reason="")
    a.refresh_from_db()
    assert a.status == Seat.Status.FORFEITED and a.outcome["reason"] == "match aborted: aborted by an admin"
    assert leaderboard.leaderboard() == []


@pytest.mark.django_db
def test_retire_then_publish():
    variant = factories.variant()
    services.variant_retire(variant=variant)
    variant.refresh_from_db()
    assert (variant.published, variant.retired) == (False, True)
    services.variant_publish(variant=variant)
    variant.refresh_from_db()
    assert (variant.published, variant.retired) == (True, False)

"""The admin runs the arena without code: variants from the family's schema (refused next to the
field with the engine's message), broken variants flagged and never a 500, preview, playtest,
publish/retire, rule sets, read-only results changed only through service actions, roles."""

from __future__ import annotations

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils.html import escape

from games.models import AgentToken, Match, ModelCall, PuzzleVariant, Seat, Step
from games.play import events, services
from games.research import exports
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client) -> User:
    user = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    client.force_login(user)
    return user


def variant_form(**overrides) -> dict:
    data = {
        "slug": "pairs-sum",
        "family": "wason",
        "title": "Sums",
        "description": "",
        "spectator_delay_s": "",
        "rule_set": "",
        "extra_params": "{}",
    }
    data.update(overrides)
    return data


def field_errors(response, field: str) -> list[str]:
    form = response.context["adminform"].form
    return list(form.errors.get(field, []))


ADD = "/admin/games/puzzlevariant/add/"


# -- the schema-driven form -------------------------------------------------------------------------


def test_the_variant_form_offers_the_registered_families_and_fields_from_their_schema(client, staff):
    page = client.get(ADD)
    form = page.context["adminform"].form
    assert ("wason", "Number triples (Wason 2-4-6) (wason)") in form.fields["family"].choices
    tier = form.fields["param__wason__tier"]
    assert (tier.min_value, tier.max_value) == (1, 5)
    assert "difficulty" in tier.help_text and "default: 1" in tier.help_text
    assert "param__eleusis__rule" in form.fields
    assert b"arena/admin_variant.js" in page.content  # a static script, not an inline one


def test_an_unknown_family_is_refused_next_to_the_family_field(client, staff):
    response = client.post(ADD, variant_form(family="wasonn"))
    assert response.status_code == 200
    assert any("wasonn" in e for e in field_errors(response, "family"))
    assert not PuzzleVariant.objects.filter(slug="pairs-sum").exists()


def test_an_unknown_parameter_is_refused_with_the_engines_message(client, staff):
    response = client.post(ADD, variant_form(extra_params='{"budget": 5}'))
    assert field_errors(response, "extra_params") == [
        "unknown parameter 'budget'; allowed: examples, input_bound, max_tests, min_true_fraction, rule, tier"
    ]
    assert not PuzzleVariant.objects.filter(slug="pairs-sum").exists()


def test_a_rule_that_does_not_parse_is_refused_next_to_the_rule_field(client, staff):
    response = client.post(ADD, variant_form(param__wason__rule="x <"))
    (error,) = field_errors(response, "param__wason__rule")
    assert error.startswith("parameter 'rule' is not a valid rule: something is missing after '<'")
    assert not PuzzleVariant.objects.exists() or not PuzzleVariant.objects.filter(slug="pairs-sum").exists()


def test_a_degenerate_rule_and_an_out_of_range_value_are_refused(client, staff):
    response = client.post(ADD, variant_form(param__wason__rule="x < x"))
    assert field_errors(response, "param__wason__rule") == [
        "parameter 'rule' is degenerate: never true on the evaluation domain"
    ]
    response = client.post(ADD, variant_form(param__wason__tier="9"))
    assert field_errors(response, "param__wason__tier")  # the schema's maximum, as a form bound
    response = client.post(ADD, variant_form(param__wason__tier="two"))
    assert field_errors(response, "param__wason__tier") == ["Enter a whole number."]


def test_a_valid_variant_is_saved_with_the_engines_validated_params_and_kept_in_history(client, staff):
    response = client.post(ADD, variant_form(param__wason__tier="2", param__wason__max_tests="12"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    variant = PuzzleVariant.objects.get(slug="pairs-sum")
    assert variant.params["tier"] == 2 and variant.params["max_tests"] == 12
    assert variant.params["rule"] == "" and variant.published is False
    entry = LogEntry.objects.get(object_id=str(variant.pk))
    assert entry.user == staff and entry.is_addition()


# -- broken after save ------------------------------------------------------------------------------


def test_a_variant_broken_after_save_gives_players_a_clear_page_a_log_line_and_an_admin_flag(
    client, staff, caplog
):
    variant = factories.variant()
    PuzzleVariant.objects.filter(pk=variant.pk).update(params={"rule": "x <"})  # edited outside the form
    player = client.__class__()
    with caplog.at_level(logging.ERROR, logger="games.play.services"):
        response = player.post(reverse("play", args=[variant.slug]))
    assert response.status_code == 400
    assert b"cannot be played right now" in response.content and b"Server Error" not in response.content
    (record,) = [r for r in caplog.records if "cannot generate a puzzle" in r.getMessage()]
    assert variant.slug in record.getMessage() and "seed" in record.getMessage()
    variant.refresh_from_db()
    assert variant.problem.startswith("parameter 'rule' is not a valid rule")
    listing = client.get("/admin/games/puzzlevariant/?broken=yes")
    assert escape(f"BROKEN: {variant.problem}").encode() in listing.content
    with pytest.raises(services.ActionError, match="fix it before publishing"):
        services.variant_publish(variant=variant)


# -- preview, playtest, publish, retire, delete -------------------------------------------------------


def test_preview_shows_each_seeds_hidden_rule_examples_answers_and_the_solvers_results(client, staff):
    variant = factories.variant(rule="x + y > z", published=False)
    page = client.get(reverse("admin:games_puzzlevariant_preview", args=[variant.pk]))
    assert page.status_code == 200
    seeds = page.context["seeds"]
    assert [s.seed for s in seeds] == [0, 1, 2]
    assert all(s.hidden["rule"] == "x + y > z" for s in seeds)
    assert all(s.examples and s.sample_answers for s in seeds)
    assert {r.solver for r in seeds[0].solvers} == {"infogain", "random"}
    infogain = next(r for r in seeds[0].solvers if r.solver == "infogain")
    assert infogain.correct is True and infogain.tests_used <= 30
    assert b"x + y &gt; z" in page.content


def test_playtest_is_staff_only_unranked_and_out_of_exports_unless_asked(client, staff):
    variant = factories.variant(published=False)
    response = client.post(reverse("admin:games_puzzlevariant_playtest", args=[variant.pk]))
    match = Match.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("match", args=[match.pk])
    assert match.playtest and not match.ranked and match.status == Match.Status.RUNNING
    assert match.seats.get().user == staff
    assert client.get(response["Location"]).context["seat"] is not None  # staff plays it

    player = User.objects.create_user("pat", password="pw-pat-123")
    with pytest.raises(services.ActionError, match="only staff"):
        services.playtest_create(variant=variant, user=player)
    assert client.__class__().post(reverse("play", args=[variant.slug])).status_code == 404  # unpublished

    assert list(exports.matches_for(exports.ExportFilters())) == []
    asked = exports.ExportFilters.parse(include_playtests="1")
    assert list(exports.matches_for(asked)) == [match]


def test_publish_and_retire_actions_and_a_variant_with_matches_cannot_be_deleted(client, staff):
    variant = factories.variant(published=False)
    changelist = "/admin/games/puzzlevariant/"
    client.post(changelist, {"action": "publish", "_selected_action": [variant.pk]})
    variant.refresh_from_db()
    assert variant.published and not variant.retired
    assert variant in [v for v in factories.services.selectors.published_variants()]

    services.match_create(variant=variant, seed=3)
    delete = client.get(reverse("admin:games_puzzlevariant_delete", args=[variant.pk]))
    assert delete.status_code == 403
    client.post(changelist, {"action": "delete_selected", "_selected_action": [variant.pk], "post": "yes"})
    assert PuzzleVariant.objects.filter(pk=variant.pk).exists()

    client.post(changelist, {"action": "retire", "_selected_action": [variant.pk]})
    variant.refresh_from_db()
    assert variant.retired and not variant.published
    history = LogEntry.objects.filter(object_id=str(variant.pk)).order_by("id")
    assert [(e.user.username, e.get_change_message()) for e in history] == [
        ("boss", "Published"),
        ("boss", "Retired"),
    ]

    unused = factories.variant(published=False)
    services.instance_get_or_create(variant=unused, seed=1)  # generated but never played
    gone = client.post(reverse("admin:games_puzzlevariant_delete", args=[unused.pk]), {"post": "yes"})
    assert gone.status_code == 302, gone.content.decode()[-3000:]
    assert not PuzzleVariant.objects.filter(pk=unused.pk).exists()


# -- rule sets --------------------------------------------------------------------------------------


def test_a_rule_set_is_validated_rule_by_rule(client, staff):
    response = client.post(ADD, variant_form(rule_set="x < y\nx <\ny > 0"))
    assert field_errors(response, "rule_set") == [
        "rule 2 (x <): parameter 'rule' is not a valid rule: something is missing after '<' (column 4)"
    ]
    response = client.post(ADD, variant_form(rule_set="x < y\nz > z"))
    assert field_errors(response, "rule_set") == [
        "rule 2 (z > z): parameter 'rule' is degenerate: never true on the evaluation domain"
    ]


def test_equivalent_rules_in_a_set_are_flagged_and_matches_draw_a_rule_by_seed(client, staff):
    response = client.post(ADD, variant_form(rule_set="x < y\ny > x\nz > 0"), follow=True)
    warnings = [str(m) for m in response.context["messages"]]
    assert any("rule 2 (y > x) is equivalent to rule 1 (x < y)" in w for w in warnings), warnings
    variant = PuzzleVariant.objects.get(slug="pairs-sum")
    assert variant.rules == ["x < y", "y > x", "z > 0"]
    drawn = {
        seed: services.instance_get_or_create(variant=variant, seed=seed).hidden["rule"] for seed in (0, 2, 5)
    }
    assert drawn == {0: "x < y", 2: "z > 0", 5: "z > 0"}


def test_a_single_fixed_rule_warns_that_every_seed_plays_the_same_rule(client, staff):
    response = client.post(ADD, variant_form(rule_set="x < y"), follow=True)
    assert any("every seed plays the same rule" in str(m) for m in response.context["messages"])


# -- results are written by services only -------------------------------------------------------------


@pytest.mark.parametrize("model", ["match", "seat", "step", "modelcall", "puzzleinstance"])
def test_results_cannot_be_added_changed_or_deleted_in_the_admin(client, staff, model):
    match, (seat,) = factories.match()
    services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]})
    ModelCall.objects.create(seat=seat, turn=1, messages=[])
    obj = {
        "match": match,
        "seat": seat,
        "step": Step.objects.get(),
        "modelcall": ModelCall.objects.get(),
        "puzzleinstance": match.instance,
    }[model]
    assert client.get(f"/admin/games/{model}/add/").status_code == 403
    assert client.get(f"/admin/games/{model}/{obj.pk}/delete/").status_code == 403
    change = client.get(f"/admin/games/{model}/{obj.pk}/change/")
    assert change.status_code == 200 and not change.context["has_change_permission"]
    client.post(f"/admin/games/{model}/{obj.pk}/change/", {"status": "finished", "score": "{}"})
    before = type(obj).objects.get(pk=obj.pk)
    assert getattr(before, "status", None) == getattr(obj, "status", None)


def test_abort_a_match_from_the_admin_goes_through_the_services(
    client, staff, django_capture_on_commit_callbacks
):
    match, (a, b) = factories.match(seats=2)
    services.step_submit(seat=a, action={"type": "guess", "rule": "x + y > z"})
    with events.collected() as sent, django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/games/match/", {"action": "abort", "_selected_action": [match.pk]})
    match.refresh_from_db()
    b.refresh_from_db()
    assert match.status == Match.Status.ABORTED and match.finished is not None
    assert LogEntry.objects.get(object_id=str(match.pk), content_type__model="match").user == staff
    assert b.status == Seat.Status.FORFEITED and "match aborted: by boss" in b.outcome["reason"]
    assert b.steps.last().kind == Step.Kind.FORFEIT
    names = [event["event"] for _, event in sent]
    assert names[-1] == "match_finished" and names.count("match_finished") == 1
    assert sent[-1][1]["status"] == "aborted"
    # a second abort is refused with a message, nothing written
    response = client.post(
        "/admin/games/match/", {"action": "abort", "_selected_action": [match.pk]}, follow=True
    )
    assert any("already over" in str(m) for m in response.context["messages"])


def test_end_a_stalled_seat_and_requeue_a_model_turn(client, staff, django_capture_on_commit_callbacks):
    from games.models import ModelContestant
    from tests.workers.worker import point_the_app_at_the_test_queue, take_queued

    point_the_app_at_the_test_queue()
    ModelContestant.objects.create(slug="alpha", name="Alpha", backend="builtin", model="infogain")
    variant = factories.variant()
    with django_capture_on_commit_callbacks(execute=True):
        match, person = services.race_create(variant=variant, opponents=["alpha"], human_handle="Ann")
        services.match_start(match=match)
    model_seat = match.seats.get(kind=Seat.Kind.MODEL)
    take_queued()
    Seat.objects.filter(pk=model_seat.pk).update(turn_worker="gone:1:x")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/games/seat/", {"action": "requeue_turn", "_selected_action": [model_seat.pk]})
    assert take_queued() == [("workers.model_turn", (model_seat.pk, 1), 0)]
    model_seat.refresh_from_db()
    assert model_seat.turn_worker == "" and model_seat.resumed_at is not None

    response = client.post(
        "/admin/games/seat/", {"action": "requeue_turn", "_selected_action": [person.pk]}, follow=True
    )
    assert any("only a model's turn" in str(m) for m in response.context["messages"])

    client.post("/admin/games/seat/", {"action": "end_seat", "_selected_action": [model_seat.pk]})
    model_seat.refresh_from_db()
    assert model_seat.status == Seat.Status.FORFEITED
    assert model_seat.outcome["reason"].startswith("seat ended by an admin: stalled")
    match.refresh_from_db()
    assert match.status == Match.Status.RUNNING  # the person plays on


# -- roles -------------------------------------------------------------------------------------------


def test_a_player_cannot_reach_admin_pages_or_exports(client):
    player = User.objects.create_user("pat", password="pw-pat-123")
    client.force_login(player)
    assert client.get("/admin/games/puzzlevariant/").status_code == 302  # to the admin login
    assert client.get(reverse("research_exports")).status_code == 403
    home = client.get("/")
    assert b">Admin<" not in home.content and b">Research<" not in home.content
    assert b">API docs<" in home.content


def test_a_researcher_reads_research_but_cannot_edit_variants(client):
    variant = factories.variant()
    researcher = User.objects.create_user("rita", password="pw-rita-123", is_staff=True)
    researcher.groups.add(Group.objects.get(name="researchers"))
    researcher.user_permissions.add(Permission.objects.get(codename="view_puzzlevariant"))
    client.force_login(researcher)
    assert client.get(reverse("research_exports")).status_code == 200
    assert (
        client.get(f"/admin/games/puzzlevariant/{variant.pk}/change/").context["has_change_permission"]
        is False
    )
    client.post(
        f"/admin/games/puzzlevariant/{variant.pk}/change/", variant_form(slug=variant.slug, title="Hacked")
    )
    variant.refresh_from_db()
    assert variant.title != "Hacked"
    assert client.get(ADD).status_code == 403
    home = client.get("/")
    assert b">Research<" in home.content and b">Admin<" in home.content


def test_staff_see_admin_and_research_links(client, staff):
    home = client.get("/")
    assert b'href="/admin/"' in home.content and b'href="/research/"' in home.content


# -- agent tokens ---------------------------------------------------------------------------------


def test_a_token_made_in_the_admin_is_shown_once_then_revoked(client, staff):
    from games.api import auth

    response = client.post(
        "/admin/games/agenttoken/add/", {"name": "bot-1", "user": "", "can_read_research": "on"}, follow=True
    )
    (shown,) = [str(m) for m in response.context["messages"] if "shown only once" in str(m)]
    key = shown.split("Token for bot-1: ")[1].split()[0]
    token = AgentToken.objects.get(name="bot-1")
    assert token.can_read_research and token.key_hash == auth.token_hash(key) and key not in token.key_hash
    assert auth.agent_token_for_header(f"Bearer {key}") == token
    page = client.get(f"/admin/games/agenttoken/{token.pk}/change/")
    assert key.encode() not in page.content  # never again
    client.post("/admin/games/agenttoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert not token.active and auth.agent_token_for_header(f"Bearer {key}") is None


def test_the_arena_admins_group_configures_variants_and_acts_on_matches_but_cannot_edit_results(client):
    admin_user = User.objects.create_user("ada", password="pw-ada-123", is_staff=True)
    admin_user.groups.add(Group.objects.get(name="arena admins"))
    client.force_login(admin_user)
    response = client.post(ADD, variant_form(param__wason__tier="3"))
    assert response.status_code == 302 and PuzzleVariant.objects.filter(slug="pairs-sum").exists()
    assert client.get("/admin/games/modelcontestant/add/").status_code == 200
    assert client.get("/admin/games/agenttoken/add/").status_code == 200
    match, _ = factories.match()
    assert client.get(f"/admin/games/match/{match.pk}/change/").context["has_change_permission"] is False
    client.post("/admin/games/match/", {"action": "abort", "_selected_action": [match.pk]})
    match.refresh_from_db()
    assert match.status == Match.Status.ABORTED


def test_a_tournament_over_a_variant_with_one_fixed_rule_warns(client, staff):
    from games.models import ModelContestant

    fixed = factories.variant(rule="x < y")
    alpha = ModelContestant.objects.create(slug="alpha", name="Alpha", backend="builtin", model="infogain")
    response = client.post(
        "/admin/games/tournament/add/",
        {
            "slug": "cup",
            "title": "Cup",
            "description": "",
            "variants": [fixed.pk],
            "contestants": [alpha.pk],
            "seeds": "0-3",
            "concurrency": "1",
            "starts_at_0": "2099-01-01",
            "starts_at_1": "00:00:00",
            "published": "on",
        },
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any(
        f"{fixed.slug} has one fixed rule (x < y): every seed plays the same rule" in m for m in shown
    ), shown


def test_a_playtest_stays_off_the_home_page_the_leaderboard_and_the_dashboard(client, staff):
    from games.competition import leaderboard
    from games.play import selectors
    from games.research import analytics

    variant = factories.variant(published=False)
    match, seat = services.playtest_create(variant=variant, user=staff)
    services.step_submit(seat=seat, action={"type": "guess", "rule": "x + y > z"})
    assert Match.objects.get(pk=match.pk).status == Match.Status.FINISHED
    assert selectors.recent_matches() == []
    assert analytics.finished_seats() == []
    assert leaderboard.leaderboard() == []

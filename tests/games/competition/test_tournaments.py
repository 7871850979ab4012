"""Tournaments: validation, the rounds, and each tick's decisions (start when due, concurrency,
busy contestants, duplicate ticks, finishing, cancelling). Races are played here through the
services; tests/workers/test_tournament_worker.py runs a whole tournament on a real worker."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from games.competition import tournaments
from games.models import Match, ModelContestant, Seat, Tournament
from games.play import services
from tests import factories

pytestmark = pytest.mark.django_db

RIGHT = "z < x + y"  # the factories' hidden rule is x + y > z


def contestants(*slugs: str, limit: int = 10) -> list[ModelContestant]:
    return [
        ModelContestant.objects.get_or_create(
            slug=s, defaults={"name": s.title(), "backend": "builtin", "max_concurrent_matches": limit}
        )[0]
        for s in slugs
    ]


def make(
    slug="cup", *, seeds="0-2", concurrency=2, starts_at=None, variants=None, players=None
) -> Tournament:
    return tournaments.tournament_create(
        slug=slug,
        title=slug.title(),
        variants=variants or [factories.variant()],
        contestants=players or contestants("alpha", "beta"),
        seeds=seeds,
        concurrency=concurrency,
        starts_at=starts_at,
    )


def advance(t: Tournament) -> tournaments.TournamentProgress:
    Tournament.objects.filter(pk=t.pk).update(next_tick_at=None)  # as if this tick were the one due
    return tournaments.tournament_advance(tournament_id=t.pk)


def finish_running(t: Tournament) -> None:
    for seat in Seat.objects.filter(match__tournament_round__tournament=t, status=Seat.Status.PLAYING):
        services.step_submit(seat=seat, action={"type": "guess", "rule": RIGHT})


def test_a_tournament_has_one_round_per_variant_and_seed() -> None:
    v1, v2 = factories.variant(), factories.variant()
    t = make(variants=[v1, v2], seeds="0-1,5")
    rounds = sorted((r.variant.slug, r.seed) for r in t.rounds.all())
    assert rounds == sorted((v.slug, s) for v in (v1, v2) for s in (0, 1, 5))
    assert t.status == Tournament.Status.SCHEDULED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seeds": "9-1"}, "end is before the start"),
        ({"seeds": ""}, "no seeds given"),
        ({"concurrency": 0}, "concurrency (rounds running at once) must be a whole number from 1 to 100"),
        ({"variants": []}, "at least one puzzle variant"),
        ({"contestants": []}, "at least one model contestant"),
        ({"slug": "no spaces"}, "slug is 1-80 letters"),
        ({"seeds": "0-99999"}, "too many seeds (at least 100,000); a tournament has at most 2,000 rounds"),
        ({"seeds": "0-999999,1000000-1999999,2000000-2999999"}, "too many seeds (at least 1,000,000)"),
        ({"description": "d" * 4_001}, "description is at most 4,000 characters; this one has 4,001"),
        ({"seeds": "9223372036854775808"}, "seed 9223372036854775808 is too large"),
        ({"title": "x" * 121}, "title is at most 120 characters"),
    ],
)
def test_bad_tournaments_are_refused_with_a_reason_and_nothing_is_written(fields, message) -> None:
    args = {
        "slug": "bad",
        "title": "Bad",
        "variants": [factories.variant()],
        "contestants": contestants("alpha"),
        "seeds": "0-2",
        **fields,
    }
    with pytest.raises(services.ActionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tournaments.tournament_create(**args)
    assert not Tournament.objects.exists()


def test_a_tournament_over_the_round_limit_is_refused_with_the_count_and_the_limit(settings) -> None:
    settings.ARENA_TOURNAMENT_MAX_ROUNDS = 10
    with pytest.raises(services.ActionError) as refused:
        make(seeds="0-5", variants=[factories.variant(), factories.variant()])
    assert refused.value.message.startswith(
        "2 variant(s) x 6 seeds is 12 rounds; a tournament has at most 10"
    )
    assert not Tournament.objects.exists()
    assert make(seeds="0-4", variants=[factories.variant(), factories.variant()]).rounds.count() == 10


def test_a_slug_is_taken_once() -> None:
    make("cup")
    with pytest.raises(services.ActionError, match="already a tournament 'cup'"):
        make("cup")


def test_ticks_start_rounds_up_to_the_concurrency_and_finish_when_all_races_are_over() -> None:
    t = make(seeds="0-2", concurrency=2)
    first = advance(t)
    assert (first.status, first.running, first.pending, first.done) == ("running", 2, 1, 0)
    match = Match.objects.filter(tournament_round__tournament=t).first()
    assert sorted(match.seats.values_list("contestant", flat=True)) == ["alpha", "beta"]
    assert match.mode == Match.Mode.RACE and match.status == Match.Status.RUNNING
    assert advance(t).running == 2  # nothing finished: nothing more starts
    finish_running(t)
    second = advance(t)
    assert (second.running, second.pending, second.done) == (1, 0, 2)
    finish_running(t)
    last = advance(t)
    assert (last.status, last.done, last.next_tick_in_s) == ("finished", 3, None)
    t.refresh_from_db()
    assert t.finished is not None and t.is_over
    # every seed is an instance of its own
    instances = {r.seed: r.match.instance_id for r in t.rounds.select_related("match")}
    assert len(set(instances.values())) == 3


def test_a_tick_that_is_not_due_stops_without_scheduling_another() -> None:
    t = make()
    Tournament.objects.filter(pk=t.pk).update(next_tick_at=timezone.now() + dt.timedelta(seconds=30))
    progress = tournaments.tournament_advance(tournament_id=t.pk)
    assert progress.next_tick_in_s is None and progress.running == 0
    assert not Match.objects.exists()


def test_a_scheduled_tournament_waits_for_its_start() -> None:
    t = make(starts_at=timezone.now() + dt.timedelta(hours=2))
    progress = advance(t)
    assert progress.status == "scheduled" and progress.next_tick_in_s == 60.0  # re-checks every minute
    assert not Match.objects.exists()
    tournaments.tournament_start_now(tournament=t)
    assert advance(t).running == 2


def test_a_busy_contestant_makes_the_tournament_wait_and_says_why() -> None:
    busy = contestants("solo", limit=1)
    t = make(players=busy, concurrency=3)
    progress = advance(t)
    assert progress.running == 1 and progress.pending == 2
    assert "waiting: Solo is busy" in progress.note


def test_a_cancelled_tournament_starts_no_more_rounds() -> None:
    t = make(seeds="0-4", concurrency=1)
    advance(t)
    tournaments.tournament_cancel(tournament=t)
    progress = advance(t)
    assert (progress.status, progress.running, progress.pending) == ("cancelled", 1, 4)
    with pytest.raises(services.ActionError, match="already cancelled"):
        tournaments.tournament_cancel(tournament=t)


# -- pages, API, admin ---------------------------------------------------------------------------


def test_the_pages_show_progress_standings_and_each_rounds_winners() -> None:
    from django.test import Client

    t = make(seeds="0-1", concurrency=1)
    advance(t)
    client = Client()
    listing = client.get("/tournaments/").content.decode()
    assert "Cup" in listing and "0/2 rounds" in listing
    page = client.get("/tournaments/cup/").content.decode()
    assert "0 of 2 rounds finished" in page and 'http-equiv="refresh"' in page
    seat = Seat.objects.filter(match__tournament_round__tournament=t, contestant="alpha").get()
    services.step_submit(seat=seat, action={"type": "guess", "rule": RIGHT})
    other = Seat.objects.filter(match__tournament_round__tournament=t, contestant="beta").get()
    services.step_submit(seat=other, action={"type": "guess", "rule": "x < y"})
    page = client.get("/tournaments/cup/").content.decode()
    assert "1 of 2 rounds finished" in page
    standings = page[page.index('data-testid="standings"') : page.index('data-testid="rounds"')]
    assert standings.index("Alpha") < standings.index("Beta")
    rounds = page[page.index('data-testid="rounds"') :]
    assert "<td>Alpha</td>" in rounds and "pending" in rounds


def test_an_unpublished_tournament_is_not_shown() -> None:
    from django.test import Client

    t = make()
    Tournament.objects.filter(pk=t.pk).update(published=False)
    assert Client().get("/tournaments/cup/").status_code == 404
    assert "Cup" not in Client().get("/tournaments/").content.decode()


def api_client(research: bool):
    from django.test import Client

    from games.api.auth import agent_token_create

    _, key = agent_token_create(name=f"t-{research}", can_read_research=research)
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_the_api_schedules_and_reports_tournaments() -> None:
    v = factories.variant()
    contestants("alpha", "beta")
    research = api_client(True)
    body = {"slug": "api-cup", "variants": [v.slug], "contestants": ["alpha", "beta"], "seeds": "0-3"}
    created = research.post("/api/v1/tournaments", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["progress"] == {"rounds": 4, "done": 0, "running": 0, "pending": 4, "note": ""}
    reader = api_client(False)
    assert [t["slug"] for t in reader.get("/api/v1/tournaments").json()["tournaments"]] == ["api-cup"]
    detail = reader.get("/api/v1/tournaments/api-cup").json()
    assert detail["contestants"] == ["alpha", "beta"] and len(detail["rounds"]) == 4
    assert detail["standings"] == [] and detail["rounds"][0]["status"] == "pending"


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"seeds": "9-1"}, 400, "end is before the start"),
        ({"contestants": ["nobody"]}, 404, "no enabled contestant 'nobody'"),
        ({"variants": []}, 400, '"variants" must be a non-empty list'),
        ({"starts_at": "tomorrow"}, 400, "ISO 8601"),
        ({"starts_at": "2026-12-01T09:00:00"}, 400, "needs a time zone"),
        ({"concurrency": "2"}, 400, "whole number"),
        ({"colour": "red"}, 400, "unknown field(s) colour"),
        ({"slug": "taken"}, 409, "already a tournament 'taken'"),
    ],
)
def test_bad_tournament_requests_get_a_clear_error(change, status, fragment) -> None:
    v = factories.variant()
    contestants("alpha")
    make("taken")
    body = {"slug": "new", "variants": [v.slug], "contestants": ["alpha"], "seeds": "0-1", **change}
    response = api_client(True).post("/api/v1/tournaments", body, content_type="application/json")
    assert response.status_code == status and fragment in response.json()["error"], response.content
    assert not Tournament.objects.filter(slug="new").exists()


def test_only_research_tokens_schedule_tournaments() -> None:
    response = api_client(False).post("/api/v1/tournaments", {"slug": "x"}, content_type="application/json")
    assert response.status_code == 403 and "only research tokens" in response.json()["error"]


def test_the_admin_actions_start_and_cancel_and_say_what_they_refuse() -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin_user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-12345-long")
    client = Client()
    client.force_login(admin_user)
    later = make("later", starts_at=timezone.now() + dt.timedelta(hours=2))
    done = make("done")
    tournaments.tournament_cancel(tournament=done)

    def act(action: str, *selected: Tournament) -> str:
        response = client.post(
            "/admin/games/tournament/",
            {"action": action, "_selected_action": [t.pk for t in selected]},
            follow=True,
        )
        assert response.status_code == 200
        return response.content.decode()

    page = act("start_now", later, done)
    assert '<li class="error">Tournament &#x27;done&#x27; is cancelled</li>' in page
    later.refresh_from_db()
    assert later.starts_at <= timezone.now()  # the refused one did not stop the other
    page = act("cancel", later, done)
    later.refresh_from_db()
    assert later.status == Tournament.Status.CANCELLED
    assert '<li class="error">Tournament &#x27;done&#x27; is already cancelled</li>' in page


def test_an_admin_schedules_a_tournament_in_the_admin_and_bad_seeds_are_explained() -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin_user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-12345-long")
    client = Client()
    client.force_login(admin_user)
    v = factories.variant()
    (alpha,) = contestants("alpha")
    form = {
        "slug": "admin-cup",
        "title": "Admin cup",
        "variants": [v.pk],
        "contestants": [alpha.pk],
        "seeds": "0-2",
        "concurrency": 1,
        "published": "on",
        "rounds-TOTAL_FORMS": 0,
        "rounds-INITIAL_FORMS": 0,
    }
    bad = client.post("/admin/games/tournament/add/", {**form, "seeds": "2-1"})
    assert bad.status_code == 200 and "the end is before the start" in bad.content.decode()
    assert not Tournament.objects.exists()
    good = client.post("/admin/games/tournament/add/", form)
    assert good.status_code == 302, good.content.decode()[:2000]
    t = Tournament.objects.get(slug="admin-cup")
    assert t.rounds.count() == 3 and t.status == Tournament.Status.SCHEDULED and t.published
    hidden = {k: v for k, v in form.items() if k != "published"} | {"slug": "private-cup"}
    assert client.post("/admin/games/tournament/add/", hidden).status_code == 302
    assert Tournament.objects.get(slug="private-cup").published is False


def test_exports_name_each_races_tournament_and_filter_by_it(tmp_path) -> None:
    import json

    from games.research import exports

    t = make(seeds="0-1", concurrency=2)
    advance(t)
    finish_running(t)
    other, _ = services.race_create(variant=factories.variant(), opponents=["alpha"], seed=9)
    every = [
        r
        for chunk in exports.RecordBuilder(analytics=False).records(Match.objects.order_by("id"))
        for r in chunk
    ]
    assert {r["match_id"]: r["tournament"] for r in every} == {
        **{r.match_id: "cup" for r in t.rounds.all()},
        other.pk: None,
    }
    assert {r["ranked"] for r in every} == {True}
    Match.objects.filter(pk=other.pk).update(ranked=False)
    (unranked,) = exports.RecordBuilder(analytics=False).build(
        list(Match.objects.filter(pk=other.pk).values_list(*exports.MATCH_COLUMNS))
    )
    assert unranked["ranked"] is False
    filters = exports.ExportFilters.from_query({"tournament": "cup"})
    exports.export_directory(tmp_path / "out", fmt="jsonl", filters=filters, analytics=False)
    lines = (tmp_path / "out" / "matches.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["match_id"] for line in lines) == sorted(
        r.match_id for r in t.rounds.all()
    )
    with pytest.raises(exports.ExportError, match="no tournament 'nope'; known tournaments: cup"):
        exports.ExportFilters.from_query({"tournament": "nope"})


def test_the_command_line_creates_follows_and_cancels_tournaments() -> None:
    import io

    from django.core.management import CommandError, call_command

    v = factories.variant()
    contestants("alpha", "beta")
    out = io.StringIO()
    call_command(
        "tournament", "create", "cli-cup", "--variants", v.slug, "--contestants", "alpha,beta", "--seeds", "0-1",
        stdout=out,
    )  # fmt: skip
    assert "Scheduled tournament 'cli-cup': 2 rounds (1 variants x 2 seeds), 2 contestants" in out.getvalue()
    t = Tournament.objects.get(slug="cli-cup")
    for _ in range(2):
        advance(t)
        finish_running(t)
    advance(t)
    out = io.StringIO()
    call_command("tournament", "status", "cli-cup", "--follow", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "finished: 2/2 rounds finished, 0 running, 0 to come"
    assert lines[2].split()[:3] == ["1", "Alpha", "2"] and lines[3].split()[:3] == ["1", "Beta", "2"]
    for argv, message in [
        (["create", "x", "--variants", "nope", "--contestants", "alpha", "--seeds", "0"], "unknown variant(s): nope"),
        (["create", "x", "--variants", v.slug, "--contestants", "alpha", "--seeds", "3-1"], "end is before"),
        (["create", "x", "--variants", v.slug, "--contestants", "alpha", "--seeds", "0", "--starts-at", "soon"], "ISO 8601"),
        (["status", "nope"], "no tournament 'nope'; known: cli-cup"),
        (["cancel", "cli-cup"], "already finished"),
    ]:  # fmt: skip
        with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
            call_command("tournament", *argv)


def test_a_round_that_cannot_start_is_marked_and_the_tournament_still_ends() -> None:
    from games.models import PuzzleVariant

    good, bad = factories.variant(), factories.variant()
    t = make(variants=[good, bad], seeds="0", concurrency=2)
    PuzzleVariant.objects.filter(pk=bad.pk).update(params={"tier": 1, "rule": "x > x"})  # as an admin might
    progress = advance(t)
    assert (progress.running, progress.pending, progress.done) == (1, 0, 1)
    failed = t.rounds.get(variant=bad)
    assert failed.match is None and failed.error.startswith("could not start: parameter 'rule' is degenerate")
    finish_running(t)
    assert advance(t).status == "finished"


def test_a_disabled_contestant_makes_the_tournament_wait_and_says_why() -> None:
    players = contestants("alpha", "beta")
    t = make(players=players)
    ModelContestant.objects.filter(slug="beta").update(enabled=False)
    progress = advance(t)
    assert progress.running == 0 and "contestant beta is disabled" in progress.note
    ModelContestant.objects.filter(slug="beta").update(enabled=True)
    assert advance(t).running == 2


def test_a_tick_for_a_deleted_tournament_ends_its_chain() -> None:
    from workers.tasks import tournament_tick

    t = make()
    t.delete()
    assert tournament_tick.apply(args=[t.pk]).get() == {"status": "deleted"}


def test_a_model_seat_that_shows_no_life_is_given_its_turn_again(
    settings, django_capture_on_commit_callbacks
) -> None:
    from tests.workers.worker import point_the_app_at_the_test_queue, take_queued

    point_the_app_at_the_test_queue()
    settings.ARENA_MODEL_STALL_S = 60
    t = make(seeds="0", concurrency=1)
    advance(t)
    match = Match.objects.get(tournament_round__tournament=t)
    take_queued()
    with django_capture_on_commit_callbacks(execute=True):
        quiet = advance(t)
    assert "resumed" not in quiet.note and take_queued() == []  # started just now: not stalled
    Match.objects.filter(pk=match.pk).update(started=timezone.now() - dt.timedelta(minutes=5))
    Seat.objects.filter(match=match).update(joined=timezone.now() - dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        stalled = advance(t)
    assert stalled.note == "resumed 2 stalled model seat(s)"
    seat_ids = set(match.seats.values_list("pk", flat=True))
    assert {(name, args[0], args[1]) for name, args, _ in take_queued()} == {
        ("workers.model_turn", seat_id, 1) for seat_id in seat_ids
    }


def test_stalled_model_seats_of_ordinary_races_are_found_too(
    settings, django_capture_on_commit_callbacks
) -> None:
    from tests.workers.worker import point_the_app_at_the_test_queue, take_queued

    point_the_app_at_the_test_queue()
    settings.ARENA_MODEL_STALL_S = 60
    contestants("alpha")
    match, _ = services.race_create(variant=factories.variant(), opponents=["alpha"], seed=3)
    (seat,) = match.seats.all()
    services.step_submit(seat=seat, action={"type": "test", "input": [1, 2, 3]}, idempotency_key="turn-1")
    take_queued()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_stalled_model_seats() == 0  # it just played
    old = timezone.now() - dt.timedelta(minutes=5)
    Match.objects.filter(pk=match.pk).update(started=old)
    Seat.objects.filter(pk=seat.pk).update(joined=old)
    seat.steps.update(created_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_stalled_model_seats() == 1
    assert take_queued() == [("workers.model_turn", (seat.pk, 2), 0)]


def test_a_big_tournament_page_shows_its_rounds_a_page_at_a_time(monkeypatch) -> None:
    from django.test import Client

    from games.competition import views

    monkeypatch.setattr(views, "ROUNDS_PER_PAGE", 2)
    make(seeds="0-4")
    client = Client()
    pages = [client.get(f"/tournaments/cup/?page={n}").content.decode() for n in (1, 2, 3)]
    rounds = [p[p.index('data-testid="rounds"') :] for p in pages]
    assert [r.count("<tr>") - 1 for r in rounds] == [2, 2, 1]  # minus the header row
    assert "Rounds 1–2 of 5 (page 1 of 3)" in pages[0] and 'rel="next"' in pages[0]
    assert "Rounds 5–5 of 5 (page 3 of 3)" in pages[2] and 'rel="next"' not in pages[2]
    seeds = [re.findall(r"<td>(\d+)</td>", r) for r in rounds]
    assert sum(seeds, []) == ["0", "1", "2", "3", "4"]  # each round once, in order


@pytest.mark.parametrize("page", ["0", "4", "²", "1.0", "-1", " 1", "9" * 30])
def test_a_bad_tournament_page_number_is_400_with_the_allowed_range(page, monkeypatch) -> None:
    from django.test import Client

    from games.competition import views

    monkeypatch.setattr(views, "ROUNDS_PER_PAGE", 2)
    make(seeds="0-4")
    response = Client().get("/tournaments/cup/", {"page": page})
    assert response.status_code == 400
    assert "page must be a whole number from 1 to 3" in response.content.decode()

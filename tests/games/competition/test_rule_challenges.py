"""Rule challenges: a signed-in player's hidden rule is validated (parses, not degenerate, not a
duplicate, not trivial for the built-in solvers), published after the solvers' trial, raced by the
models and played by people; a daily limit per author; staff can remove one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from games.competition import challenges
from games.models import Match, ModelContestant, PuzzleVariant, RuleChallenge, Seat
from games.play import services
from tests import factories
from tests.workers.helpers import builtin

pytestmark = pytest.mark.django_db

HARD = "x * y == z"  # the random tester does not find it in 30 tests; infogain does


@pytest.fixture
def author():
    return User.objects.create_user("zendo-master", password="pw")


@pytest.fixture
def base():
    return factories.variant()


def publish(**kw):
    """What a player's submit and the trial task do: the checks, then the solvers' trial."""
    made = challenges.challenge_create(**kw)
    assert made.status == RuleChallenge.Status.CHECKING and made.puzzle is None
    return challenges.challenge_trial_run(challenge_id=made.pk)


def test_a_rule_is_published_after_the_solvers_trial_and_the_models_race_on_it(
    author, base, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    builtin("infogain")
    sent = []
    monkeypatch.setattr("celery.current_app.send_task", lambda name, args=(), **kw: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        made = challenges.challenge_create(author=author, base=base, rule=HARD, title="Products")
    assert made.status == "checking" and sent == [("workers.rule_challenge_trial", (made.pk,))]
    assert not Match.objects.filter(instance__variant__slug__startswith="rule-").exists()
    from workers import tasks

    assert tasks.rule_challenge_trial.run(made.pk) == "published"
    assert tasks.rule_challenge_trial.run(made.pk) == "published"  # a second delivery changes nothing
    made.refresh_from_db()
    assert made.status == RuleChallenge.Status.PUBLISHED and made.rule == "x * y == z"
    assert made.trial["infogain"]["solved"] is True and made.trial["random"]["solved"] is False
    puzzle = made.puzzle
    assert not puzzle.published and puzzle.params["rule"] == "x * y == z" and puzzle.family == "wason"
    race = Match.objects.get(instance__variant=puzzle)
    assert race.status == Match.Status.RUNNING and not race.ranked
    builtins = ModelContestant.objects.filter(backend="builtin", enabled=True).values_list("slug", flat=True)
    assert "infogain" in builtins
    assert sorted(race.seats.values_list("contestant", flat=True)) == sorted(builtins)
    assert set(race.seats.values_list("kind", flat=True)) == {"model"}
    assert race.instance.hidden["rule"] == "x * y == z" and race.instance.seed == challenges.SEED


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("x <<< y", "does not parse"),
        ("", "write a rule"),
        ("x + y - y == x", "cannot be a puzzle"),  # always true: the family calls it degenerate
    ],
)
def test_a_bad_rule_is_refused_with_the_reason_and_nothing_is_written(author, base, rule, message) -> None:
    with pytest.raises(challenges.ChallengeRefused, match=message):
        challenges.challenge_create(author=author, base=base, rule=rule)
    assert not RuleChallenge.objects.exists()
    assert not PuzzleVariant.objects.filter(slug__startswith="rule-").exists()


def test_a_rule_every_solver_finds_is_refused_as_too_easy(author, base) -> None:
    refused = publish(author=author, base=base, rule="x > 0")
    assert refused.status == "refused" and refused.puzzle is None
    assert refused.refusal.startswith("this rule is too easy: every built-in solver found it (infogain in")
    assert not PuzzleVariant.objects.filter(slug__startswith="rule-").exists()


def test_an_equivalent_rule_is_refused_as_a_duplicate(author, base) -> None:
    first = publish(author=author, base=base, rule=HARD, title="Products")
    other = User.objects.create_user("someone", password="pw")
    with pytest.raises(challenges.ChallengeRefused, match="equivalent to an existing challenge, 'Products'"):
        challenges.challenge_create(author=other, base=base, rule="z == y * x")
    assert list(RuleChallenge.objects.all()) == [first]


def test_a_family_without_hand_written_rules_is_refused(author) -> None:
    blackbox = PuzzleVariant.objects.filter(family="blackbox", published=True).first()
    assert blackbox is not None
    with pytest.raises(challenges.ChallengeRefused, match="do not take a hand-written rule"):
        challenges.challenge_create(author=author, base=blackbox, rule="sort(xs)")


def test_the_daily_limit(author, base, settings) -> None:
    settings.ARENA_RULE_CHALLENGES_PER_DAY = 1
    challenges.challenge_create(author=author, base=base, rule="x > 0")  # refused later, still counted
    with pytest.raises(challenges.ChallengeLimit, match="1 rules a day"):
        challenges.challenge_create(author=author, base=base, rule="x * z == y")


def test_only_staff_remove_a_challenge(author, base) -> None:
    made = publish(author=author, base=base, rule=HARD)
    with pytest.raises(challenges.ChallengeRefused, match="only staff"):
        challenges.challenge_remove(challenge=made, by=author)
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    challenges.challenge_remove(challenge=made, by=staff, reason="offensive title")
    made.refresh_from_db()
    assert made.status == "removed" and made.puzzle.retired
    with pytest.raises(challenges.ChallengeRefused, match="it is removed"):
        challenges.challenge_play(challenge=made, handle="p", user=None, session_key=factories.session_key())


def test_pages_write_play_and_show_the_author_how_each_did(client, author, base) -> None:
    assert client.get("/rules/").status_code == 200
    client.force_login(author)
    refused = client.post("/rules/", {"base": base.slug, "rule": "x <<< y"})
    assert refused.status_code == 400 and "does not parse" in refused.content.decode()
    created = client.post("/rules/", {"base": base.slug, "rule": HARD, "title": "Products"})
    assert created.status_code == 302
    made = RuleChallenge.objects.get()
    assert "solvers are playing this rule first" in client.get(created["Location"]).content.decode()
    challenges.challenge_trial_run(challenge_id=made.pk)  # what the worker's task does
    made.refresh_from_db()
    page = client.get(created["Location"]).content.decode()
    assert "x * y == z" in page and "only you see it here" in page

    player = User.objects.create_user("finder", password="pw")
    client.force_login(player)
    page = client.get(f"/rules/{made.pk}/").content.decode()
    assert "x * y == z" not in page  # nobody but the author sees the rule before their reveal
    started = client.post(f"/rules/{made.pk}/")
    match = Match.objects.get(pk=int(started["Location"].strip("/").split("/")[-1]))
    seat = match.seats.get(kind=Seat.Kind.HUMAN)
    assert match.instance.variant == made.puzzle and not match.ranked
    services.step_submit(seat=seat, action={"type": "test", "input": [2, 3, 6]})
    services.step_submit(seat=seat, action={"type": "guess", "rule": "z == x * y"})
    client.force_login(author)
    results = challenges.challenge_results(challenge=made)
    assert results == [
        {"player": "people", "kind": "human", "played": 1, "solved": 1, "mean_tests_when_solved": 1.0}
    ]
    assert "Found it" in client.get(f"/rules/{made.pk}/").content.decode()


def test_staff_remove_challenges_from_the_admin(client, author, base) -> None:
    made = publish(author=author, base=base, rule=HARD)
    staff = User.objects.create_superuser("boss", password="pw")
    client.force_login(staff)
    assert client.get("/admin/games/rulechallenge/").status_code == 200
    response = client.post(
        "/admin/games/rulechallenge/", {"action": "remove", "_selected_action": [made.pk]}, follow=True
    )
    assert response.status_code == 200
    made.refresh_from_db()
    assert made.status == "removed" and made.removed_reason == "removed from the admin"

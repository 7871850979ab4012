"""Rule challenges: a signed-in player writes a hidden rule for a variant, for other people and the
models to find (as in Eleusis and Zendo, where one player holds the rule).

A rule is refused, with a message saying why, when:

* the variant's family takes no hand-written rule (no ``rule`` param), or the rule does not parse;
* the family finds it degenerate (always or never true, a cascade that changes nothing, ...: the
  family's own check when it generates the puzzle);
* it is equivalent (by the family's judge) to a published challenge on the same variant;
* it is trivial: every built-in solver of the family finds it within the variant's test budget
  (the random tester included, which tests at random and guesses the simplest consistent rule);
* its author has written ``ARENA_RULE_CHALLENGES_PER_DAY`` challenges in the last 24 hours.

The quick checks (language, degeneracy, duplicates, the limit) run when the rule is submitted; the
solvers' trial takes seconds, so it runs in a Celery task (``workers.rule_challenge_trial``, sent by
name after commit; ``challenge_trial_run``) while the challenge is ``checking``. Then it is
refused (``refusal`` says why) or published: an unpublished variant of its own (the base variant's params with the
rule; off the home page, unranked, since its author knows the rule), played on seed 0 so that every
player meets the same instance, and a race of the enabled built-in contestants is started on it.
Staff can remove a challenge (its variant is retired; finished matches stay in the data).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from games.engine.core import EngineError, Family, Instance, get_family
from games.models import Match, ModelContestant, PuzzleVariant, RuleChallenge, Seat
from games.play import services, visibility

logger = logging.getLogger(__name__)

SEED = 0
MAX_RULE_LENGTH = 1000
DEFAULT_PER_DAY = 3


class ChallengeRefused(services.ActionError):
    """A rule that cannot be published, with the reason; nothing was written."""


class ChallengeLimit(ChallengeRefused):
    pass


def per_day() -> int:
    return int(getattr(settings, "ARENA_RULE_CHALLENGES_PER_DAY", DEFAULT_PER_DAY))


def takes_rules(family: Family) -> bool:
    """Whether the family's puzzles can have a hand-written hidden rule (a ``rule`` param)."""
    return "rule" in family.params_schema.get("properties", {})


def solver_trial(family: Family, instance: Instance, max_tests: int) -> dict[str, dict[str, Any]]:
    """Every built-in solver plays the puzzle to its guess: solved, and tests used."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(family.solvers):
        solver = family.make_solver(name, instance.public, SEED)
        history: list[dict[str, Any]] = []
        while True:
            action = solver.act(history, max_tests - len(history))
            if action["type"] == "guess" or len(history) >= max_tests:
                rule = action.get("rule") if action["type"] == "guess" else solver.act(history, 0)["rule"]
                try:
                    solved = bool(family.judge(instance, rule).correct)
                except EngineError:
                    solved = False
                out[name] = {"solved": solved, "tests": len(history)}
                break
            query = family.parse_query(instance.public, action["input"])
            history.append({"input": query, "result": family.answer(instance, query)})
    return out


TRIAL_TASK = "workers.rule_challenge_trial"


def _equivalent_to(
    family: Family, instance: Instance, *, base: PuzzleVariant, exclude: int | None
) -> str | None:
    """The title of a published (or still checking) challenge on ``base`` the judge finds
    equivalent to the instance's rule, if any."""
    others = RuleChallenge.objects.filter(
        base=base, status__in=[RuleChallenge.Status.PUBLISHED, RuleChallenge.Status.CHECKING]
    ).exclude(pk=exclude)
    for other in others:
        try:
            if family.judge(instance, other.rule).correct:
                return other.title
        except EngineError:
            continue
    return None


def challenge_create(*, author: Any, base: PuzzleVariant, rule: Any, title: str = "") -> RuleChallenge:
    """Check a rule and queue the solvers' trial; the challenge is ``checking`` until it runs.
    ChallengeRefused (nothing written) for a rule that fails the quick checks."""
    if author is None or not getattr(author, "is_authenticated", False):
        raise ChallengeRefused("sign in to write a rule for others to find")
    if not base.published or base.retired:
        raise ChallengeRefused(f"{base.title!r} is not a published puzzle; pick one from the list")
    family = get_family(base.family)
    if not takes_rules(family):
        raise ChallengeRefused(f"{family.title} puzzles do not take a hand-written rule; pick another puzzle")
    if not isinstance(rule, str) or not rule.strip():
        raise ChallengeRefused("write a rule, e.g. " + family.shown.rule_example)
    if len(rule) > MAX_RULE_LENGTH:
        raise ChallengeRefused(
            f"a rule may be at most {MAX_RULE_LENGTH} characters; this one has {len(rule)}"
        )
    title = (title or "").strip()[:120] or f"{base.title}: a rule by {author.get_username()}"
    since = timezone.now() - dt.timedelta(days=1)
    if RuleChallenge.objects.filter(author=author, created__gte=since).count() >= per_day():
        raise ChallengeLimit(f"you can write {per_day()} rules a day; come back tomorrow")
    check = family.check_rule(rule.strip())
    if not check.get("ok"):
        raise ChallengeRefused(f"your rule does not parse: {check['error']}", column=check.get("column"))
    canonical = check["canonical"]
    try:
        params = family.validate_params({**(base.params or {}), "rule": canonical})
        instance = family.generate(SEED, params)
    except EngineError as exc:  # the family's own degeneracy checks say what is wrong
        raise ChallengeRefused(f"this rule cannot be a puzzle: {exc.message}") from None
    same = _equivalent_to(family, instance, base=base, exclude=None)
    if same is not None:
        raise ChallengeRefused(f"this rule is equivalent to an existing challenge, {same!r}")
    with transaction.atomic():
        challenge = RuleChallenge.objects.create(
            author=author, base=base, rule=canonical, params=params, title=title
        )
        challenge_id = challenge.pk

        def send() -> None:
            from celery import current_app

            try:
                current_app.send_task(TRIAL_TASK, args=(challenge_id,), ignore_result=True)
            except Exception:  # the broker is down: the sweep of a later submit, or staff, re-queue it
                logger.exception("could not queue the trial of rule challenge %s", challenge_id)

        transaction.on_commit(send)
    return challenge


def challenge_trial_run(*, challenge_id: int) -> RuleChallenge | None:
    """The built-in solvers play a ``checking`` challenge (no lock held meanwhile); then it is
    refused as too easy (or as equivalent to one published meanwhile) or published, and the
    built-in contestants race on it. Safe to run twice: only a ``checking`` challenge is played."""
    challenge = RuleChallenge.objects.select_related("base").filter(pk=challenge_id).first()
    if challenge is None or challenge.status != RuleChallenge.Status.CHECKING:
        return challenge
    family = get_family(challenge.base.family)
    instance = family.generate(SEED, challenge.params)
    trial = solver_trial(family, instance, int(instance.public.get("max_tests", 30)))
    refusal = ""
    if trial and all(t["solved"] for t in trial.values()):
        found = ", ".join(f"{name} in {t['tests']} tests" for name, t in trial.items())
        refusal = f"this rule is too easy: every built-in solver found it ({found})"
    with transaction.atomic():
        challenge = RuleChallenge.objects.select_for_update().get(pk=challenge_id)
        if challenge.status != RuleChallenge.Status.CHECKING:  # another run finished first
            return challenge
        if not refusal:
            published = RuleChallenge.objects.filter(
                base=challenge.base, status=RuleChallenge.Status.PUBLISHED
            )
            for other in published:
                try:
                    if family.judge(instance, other.rule).correct:
                        refusal = f"this rule is equivalent to an existing challenge, {other.title!r}"
                        break
                except EngineError:
                    continue
        challenge.trial = trial
        if refusal:
            challenge.status, challenge.refusal = RuleChallenge.Status.REFUSED, refusal
        else:
            challenge.puzzle = PuzzleVariant.objects.create(
                slug=f"rule-{secrets.token_hex(6)}",
                family=challenge.base.family,
                title=challenge.title,
                description=f"A rule written by a player for {challenge.base.title}.",
                params=challenge.params,
                published=False,
                hypothesis_mode=challenge.base.hypothesis_mode,
                hypothesis_format=challenge.base.hypothesis_format,
            )
            challenge.status = RuleChallenge.Status.PUBLISHED
        challenge.save(update_fields=["trial", "status", "refusal", "puzzle"])
    if challenge.status == RuleChallenge.Status.PUBLISHED:
        models_race_start(challenge=challenge)
    return challenge


def models_race_start(*, challenge: RuleChallenge) -> Match | None:
    """The enabled built-in contestants race on the challenge (their turns run on the workers)."""
    opponents = list(
        ModelContestant.objects.filter(enabled=True, backend=ModelContestant.Backend.BUILTIN)
        .order_by("slug")
        .values_list("slug", flat=True)
    )
    if not opponents or challenge.puzzle is None:
        return None
    try:
        match, _ = services.race_create(
            variant=challenge.puzzle, opponents=opponents, seed=SEED, ranked=False
        )
    except services.ActionError as exc:  # busy contestants: the challenge stands, models can race later
        logger.info("no models race on rule challenge %s yet: %s", challenge.pk, exc.message)
        return None
    return match


def challenge_play(
    *, challenge: RuleChallenge, handle: str, user: Any, session_key: str, creator: Any = None
) -> Match:
    """A person's match on the challenge: seed 0, unranked."""
    if challenge.status != RuleChallenge.Status.PUBLISHED or challenge.puzzle is None:
        raise ChallengeRefused("this challenge is not open: it is " + challenge.status)
    match, _ = services.race_create(
        variant=challenge.puzzle,
        opponents=[],
        seed=SEED,
        ranked=False,
        human_handle=handle,
        user=user,
        session_key=session_key,
        creator=creator,
    )
    return services.match_start(match=match)


def challenge_remove(*, challenge: RuleChallenge, by: Any, reason: str = "") -> RuleChallenge:
    if by is None or not getattr(by, "is_staff", False):
        raise ChallengeRefused("only staff may remove a challenge")
    challenge.status = RuleChallenge.Status.REMOVED
    challenge.removed_reason = (reason or "").strip()[:300] or "removed by staff"
    challenge.save(update_fields=["status", "removed_reason"])
    if challenge.puzzle is not None:
        services.variant_retire(variant=challenge.puzzle)
    return challenge


def challenge_results(*, challenge: RuleChallenge) -> list[dict[str, Any]]:
    """How each player kind did on the challenge, over matches that are over (so it tells nothing
    early): people pooled, each model by contestant, agents pooled; the author's own seats left
    out."""
    seats = (
        Seat.objects.filter(
            match__instance__variant=challenge.puzzle, match__status__in=list(visibility.OVER_STATUSES)
        )
        .exclude(user=challenge.author)
        .only("kind", "contestant", "score", "tests_used")
    )
    rows: dict[str, dict[str, Any]] = {}
    for seat in seats:
        who = {"human": "people", "agent": "agents"}.get(seat.kind, seat.contestant)
        row = rows.setdefault(who, {"player": who, "kind": seat.kind, "played": 0, "solved": 0, "tests": []})
        row["played"] += 1
        if (seat.score or {}).get("solved"):
            row["solved"] += 1
            row["tests"].append(seat.tests_used)
    out = []
    for row in sorted(rows.values(), key=lambda r: (r["player"] != "people", r["player"])):
        tests = row.pop("tests")
        row["mean_tests_when_solved"] = round(sum(tests) / len(tests), 1) if tests else None
        out.append(row)
    return out


def challenges_published() -> list[RuleChallenge]:
    return list(
        RuleChallenge.objects.filter(status=RuleChallenge.Status.PUBLISHED).select_related("base", "author")[
            :200
        ]
    )


def bases_for_challenges() -> list[PuzzleVariant]:
    """Published variants whose family takes a hand-written rule."""
    return [
        v
        for v in PuzzleVariant.objects.filter(published=True, retired=False, as_rule_challenge=None).order_by(
            "title"
        )
        if takes_rules(get_family(v.family))
    ]

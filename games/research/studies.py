"""Study mode: a human-subjects study run on the arena (services and selectors).

A researcher creates a study (``study_create``); its join link takes the participant's panel ID
from the URL (``?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=...``, names set per study). Nothing is
written until the participant consents (``participant_join``); from then on:

* their panel IDs exist only as keyed hashes (``id_hash``: HMAC-SHA256 with the study key, scoped
  to the study), never the raw ID, in the database or in exports;
* their sequence is drawn once and recorded (``sequence_for``: fixed, a balanced Latin square row
  by join order, or a seeded shuffle), with the attention checks placed between puzzles;
* each puzzle is a normal solo match through the play services, unranked (off the leaderboard);
* one ID joins once: a second visit, from any browser, resumes at their current item
  (``participant_sync``), never restarts; the end shows the completion code or returns them to
  the panel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
import secrets
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from games.models import Match, PuzzleVariant, Seat, Study, StudyEntry, StudyParticipant, StudyPuzzle
from games.play import limits, services

MAX_ID_LENGTH = 200
MAX_ANSWER_LENGTH = 500
MAX_PUZZLES = 30
MAX_CHECKS = 20
PARTICIPANT_HANDLE = "Participant"  # never the panel ID
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,39}$")


class StudyError(ValueError):
    """Something a researcher or participant did that cannot be done; the message says what was
    wrong and what is allowed. Raised before anything is written."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StudyClosed(StudyError):
    """A closed study refuses new participants (those already in may finish)."""


# -- participant IDs ------------------------------------------------------------------------------------


def study_key() -> bytes:
    """``settings.ARENA_STUDY_ID_KEY`` if set, else a key derived from SECRET_KEY (a different one
    from the export pseudonyms'). Whoever holds it can hash a panel ID to find that participant
    (a withdrawal request); nobody can turn a stored hash back into the ID."""
    configured = getattr(settings, "ARENA_STUDY_ID_KEY", "")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    return hmac.new(settings.SECRET_KEY.encode(), b"arena-study-participant-v1", hashlib.sha256).digest()


def id_hash(*, study: Study, kind: str, raw: str) -> str:
    """The keyed hash of one panel ID (``kind``: pid, study or session) in one study: the same
    person in two studies gets two unrelated hashes."""
    message = f"study:{study.pk}:{kind}:{raw}".encode()
    return hmac.new(study_key(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PanelIds:
    """The IDs a join link carried (raw: they are hashed before anything is stored)."""

    pid: str
    external_study: str = ""
    session: str = ""

    @classmethod
    def from_query(cls, *, study: Study, params: Mapping[str, Any]) -> PanelIds:
        """The IDs under the study's parameter names; StudyError when the participant ID is
        missing or is not a plain ID."""

        def read(name: str) -> str:
            value = params.get(name, "") if name else ""
            return value.strip() if isinstance(value, str) else ""

        pid = read(study.pid_param)
        if not pid:
            raise StudyError(
                f"This link has no participant ID (the {study.pid_param} parameter). Please open the "
                "study from the link your recruiting site gave you."
            )
        for name, value in ((study.pid_param, pid), (study.study_param, read(study.study_param)),
                            (study.session_param, read(study.session_param))):  # fmt: skip
            if len(value) > MAX_ID_LENGTH or any(not ch.isprintable() for ch in value):
                raise StudyError(
                    f"The {name} parameter is not a valid ID (printable text, at most {MAX_ID_LENGTH} characters)."
                )
        return cls(pid=pid, external_study=read(study.study_param), session=read(study.session_param))

    def as_query(self, study: Study) -> dict[str, str]:
        """The parameters to carry through the consent form."""
        query = {study.pid_param: self.pid}
        if study.study_param and self.external_study:
            query[study.study_param] = self.external_study
        if study.session_param and self.session:
            query[study.session_param] = self.session
        return query


# -- counterbalancing (pure) ------------------------------------------------------------------------------


def williams_rows(k: int) -> list[list[int]]:
    """A balanced Latin square (Williams design) over ``k`` items: each item appears once at each
    position, and each item follows every other equally often (first-order carry-over balanced).
    ``k`` rows for an even ``k``; for an odd ``k`` the ``k`` rows and their reverses, ``2k``."""
    if k <= 0:
        return []
    # The standard first row 0, 1, k-1, 2, k-2, ...; the others shift it.
    first = [0] + [((i + 1) // 2 if i % 2 else k - i // 2) % k for i in range(1, k)]
    rows = [[(item + shift) % k for item in first] for shift in range(k)]
    if k % 2:
        rows += [list(reversed(row)) for row in rows]
    return rows


def shuffle_seed(*, study: Study, pid_hash: str) -> int:
    """The seed of a participant's shuffled order: from the study's seed and their hash, so it is
    reproducible from the export and unpredictable without the key."""
    digest = hmac.new(study_key(), f"order:{study.seed}:{pid_hash}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:6], "big")


def sequence_for(
    *, order: str, puzzles: Sequence[str], checks: Sequence[Mapping[str, Any]], ordinal: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A participant's items in order, and how the order was drawn. ``puzzles`` are variant slugs
    in the listed order; each check goes after the participant's ``after``-th puzzle."""
    k = len(puzzles)
    if order == Study.Order.LATIN:
        rows = williams_rows(k)
        row = ordinal % len(rows)
        arrangement = rows[row]
        how: dict[str, Any] = {"method": "latin", "row": row, "rows": len(rows)}
    elif order == Study.Order.SHUFFLE:
        arrangement = list(range(k))
        random.Random(seed).shuffle(arrangement)
        how = {"method": "shuffle", "seed": seed}
    else:
        arrangement = list(range(k))
        how = {"method": "fixed"}
    how["puzzle_order"] = arrangement
    items: list[dict[str, Any]] = [
        {"kind": "check", "check": i} for i, check in enumerate(checks) if int(check["after"]) == 0
    ]
    for done, index in enumerate(arrangement, start=1):
        items.append({"kind": "puzzle", "puzzle": index, "variant": puzzles[index]})
        items += [
            {"kind": "check", "check": i} for i, check in enumerate(checks) if int(check["after"]) == done
        ]
    return items, how


def answer_matches(given: str, expected: str) -> bool:
    """An attention check's answer, ignoring case and spacing."""

    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    return norm(given) == norm(expected)


# -- creating and closing -----------------------------------------------------------------------------------


@dataclass
class StudyDesign:
    """What a researcher sets; ``study_create`` checks it (StudyError names the field)."""

    title: str
    consent_text: str
    puzzles: list[str]  # published variant slugs, in the listed order
    slug: str = ""
    order: str = Study.Order.FIXED
    attention_checks: list[dict[str, Any]] = field(default_factory=list)
    time_limit_s: int | None = None
    max_tests: int | None = None
    max_duration_min: int = 60
    completion_code: str = ""
    return_url: str = ""
    pid_param: str = "PROLIFIC_PID"
    study_param: str = "STUDY_ID"
    session_param: str = "SESSION_ID"
    hypotheses: str = Study.Hypotheses.OFF
    same_instances: bool = False


def _check_design(design: StudyDesign) -> list[PuzzleVariant]:
    if not design.title.strip():
        raise StudyError("a study needs a title", field="title")
    if not design.consent_text.strip():
        raise StudyError("a study needs a consent text: what participants agree to", field="consent_text")
    if not design.puzzles:
        raise StudyError("list at least one puzzle (a published variant's slug per line)", field="puzzles")
    if len(design.puzzles) > MAX_PUZZLES:
        raise StudyError(f"at most {MAX_PUZZLES} puzzles, got {len(design.puzzles)}", field="puzzles")
    found = {v.slug: v for v in PuzzleVariant.objects.filter(slug__in=design.puzzles, published=True)}
    missing = [slug for slug in design.puzzles if slug not in found]
    if missing:
        known = ", ".join(
            PuzzleVariant.objects.filter(published=True).order_by("slug").values_list("slug", flat=True)[:40]
        )
        raise StudyError(
            f"not a published variant: {', '.join(missing)}; published: {known or 'none'}", field="puzzles"
        )
    if design.order not in Study.Order.values:
        raise StudyError(f"order must be one of {', '.join(Study.Order.values)}", field="order")
    if design.hypotheses not in Study.Hypotheses.values:
        raise StudyError(
            f"hypotheses must be one of {', '.join(Study.Hypotheses.values)}", field="hypotheses"
        )
    if len(design.attention_checks) > MAX_CHECKS:
        raise StudyError(f"at most {MAX_CHECKS} attention checks", field="attention_checks")
    for n, check in enumerate(design.attention_checks, start=1):
        after = check.get("after")
        if not isinstance(after, int) or not 0 <= after <= len(design.puzzles):
            raise StudyError(
                f"attention check {n}: 'after' must be a puzzle number from 0 (before the first) to "
                f"{len(design.puzzles)}",
                field="attention_checks",
            )
        for key in ("question", "answer"):
            if not isinstance(check.get(key), str) or not check[key].strip():
                raise StudyError(f"attention check {n} needs a {key}", field="attention_checks")
    if not design.completion_code.strip() and not design.return_url.strip():
        raise StudyError("give a completion code, a return URL, or both", field="completion_code")
    if design.return_url and not design.return_url.startswith(("https://", "http://")):
        raise StudyError("the return URL must start with https:// or http://", field="return_url")
    names = {
        "pid_param": design.pid_param,
        "study_param": design.study_param,
        "session_param": design.session_param,
    }
    for name, value in names.items():
        if (value or name == "pid_param") and not _PARAM_NAME.match(value or ""):
            raise StudyError(
                f"{value!r} is not a URL parameter name (letters, digits, _ . -; up to 40)", field=name
            )
    used = [v for v in names.values() if v]
    if len(set(used)) != len(used):
        raise StudyError("the three parameter names must differ", field="study_param")
    for name, value in (("time_limit_s", design.time_limit_s), ("max_tests", design.max_tests)):
        if value is not None and value < 1:
            raise StudyError(f"{name} must be at least 1 (or empty for none)", field=name)
    if design.max_duration_min < 1:
        raise StudyError("the maximum duration must be at least a minute", field="max_duration_min")
    return [found[slug] for slug in design.puzzles]


def _free_slug(title: str) -> str:
    from django.utils.text import slugify

    base = slugify(title)[:60] or "study"
    slug, n = base, 1
    while Study.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def study_create(*, design: StudyDesign, created_by: Any = None) -> Study:
    variants = _check_design(design)
    slug = design.slug.strip() or _free_slug(design.title)
    if Study.objects.filter(slug=slug).exists():
        raise StudyError(f"a study with the slug {slug!r} exists; choose another", field="slug")
    with transaction.atomic():
        study = Study.objects.create(
            slug=slug,
            title=design.title.strip(),
            consent_text=design.consent_text.strip(),
            order=design.order,
            attention_checks=[
                {"after": c["after"], "question": c["question"].strip(), "answer": c["answer"].strip()}
                for c in design.attention_checks
            ],
            time_limit_s=design.time_limit_s,
            max_tests=design.max_tests,
            max_duration_min=design.max_duration_min,
            completion_code=design.completion_code.strip(),
            return_url=design.return_url.strip(),
            pid_param=design.pid_param,
            study_param=design.study_param or "",
            session_param=design.session_param or "",
            hypotheses=design.hypotheses,
            same_instances=design.same_instances,
            seed=secrets.randbelow(services.RANKED_SEED_SPACE),
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        StudyPuzzle.objects.bulk_create(
            StudyPuzzle(study=study, position=i, variant=variant) for i, variant in enumerate(variants)
        )
    return study


def study_close(*, study: Study) -> Study:
    """No new participants from now on; those already in may finish."""
    if study.status != Study.Status.CLOSED:
        study.status, study.closed_at = Study.Status.CLOSED, timezone.now()
        study.save(update_fields=["status", "closed_at"])
    return study


# -- joining ---------------------------------------------------------------------------------------------------


def participant_find(*, study: Study, ids: PanelIds) -> StudyParticipant | None:
    pid_hash = id_hash(study=study, kind="pid", raw=ids.pid)
    return StudyParticipant.objects.filter(study=study, pid_hash=pid_hash).first()


def participant_join(*, study: Study, ids: PanelIds) -> tuple[StudyParticipant, bool]:
    """The participant for these IDs after they consented: the existing one (a second visit,
    never a restart), else a new one with their sequence drawn. StudyClosed for a new one when
    the study is closed. Returns (participant, created)."""
    existing = participant_find(study=study, ids=ids)
    if existing is not None:
        return existing, False
    pid_hash = id_hash(study=study, kind="pid", raw=ids.pid)
    now = timezone.now()
    try:
        with transaction.atomic():
            # The study row is the lock that orders joins: ordinals (the Latin square's rows)
            # are handed out one at a time.
            locked = Study.objects.select_for_update().get(pk=study.pk)
            if not locked.is_open:
                raise StudyClosed(
                    "This study is closed and is not taking new participants. Thank you for your interest; "
                    "please return it on your recruiting site."
                )
            puzzles = list(locked.puzzles.order_by("position").values_list("variant__slug", flat=True))
            ordinal = locked.participants.count()
            sequence, how = sequence_for(
                order=locked.order,
                puzzles=puzzles,
                checks=locked.attention_checks,
                ordinal=ordinal,
                seed=shuffle_seed(study=locked, pid_hash=pid_hash),
            )
            participant = StudyParticipant.objects.create(
                study=locked,
                pid_hash=pid_hash,
                external_study_hash=id_hash(study=locked, kind="study", raw=ids.external_study)
                if ids.external_study
                else "",
                session_hash=id_hash(study=locked, kind="session", raw=ids.session) if ids.session else "",
                ordinal=ordinal,
                sequence=sequence,
                counterbalance=how,
                consented_at=now,
                last_seen=now,
            )
    except IntegrityError:  # the same ID consented twice at once: the first one stands
        again = participant_find(study=study, ids=ids)
        if again is None:
            raise
        return again, False
    return participant, True


# -- going through the sequence ------------------------------------------------------------------------------


@dataclass
class Current:
    """Where a participant is: ``kind`` is "puzzle" (``match`` set once started), "check" or
    "done"; ``puzzle_number`` / ``puzzles_total`` count puzzles for the page."""

    participant: StudyParticipant
    kind: str
    position: int
    item: dict[str, Any] = field(default_factory=dict)
    match: Match | None = None
    puzzle_number: int = 0
    puzzles_total: int = 0
    check: dict[str, Any] | None = None


def _current(participant: StudyParticipant, match: Match | None = None) -> Current:
    sequence = participant.sequence
    total = sum(1 for item in sequence if item["kind"] == "puzzle")
    if participant.position >= len(sequence):
        return Current(
            participant=participant, kind="done", position=participant.position, puzzles_total=total
        )
    item = sequence[participant.position]
    number = sum(1 for prior in sequence[: participant.position + 1] if prior["kind"] == "puzzle")
    check = None
    if item["kind"] == "check":
        checks = participant.study.attention_checks
        check = checks[item["check"]] if item["check"] < len(checks) else {"question": "", "answer": ""}
    return Current(
        participant=participant,
        kind=item["kind"],
        position=participant.position,
        item=item,
        match=match,
        puzzle_number=number,
        puzzles_total=total,
        check=check,
    )


def participant_sync(*, participant: StudyParticipant, session_key: str) -> Current:
    """Bring the participant's position up to date and say where they are: a puzzle whose match
    is over (or whose time ran out) is behind them; the end of the sequence completes them. A
    running match's seat moves to this browser session (a second visit from another browser
    resumes it). Safe to call on every page view."""
    with transaction.atomic():
        participant = (
            StudyParticipant.objects.select_for_update().select_related("study").get(pk=participant.pk)
        )
        now = timezone.now()
        match = None
        while participant.position < len(participant.sequence):
            entry = (
                StudyEntry.objects.filter(participant=participant, position=participant.position)
                .select_related("match")
                .first()
            )
            if entry is None or entry.kind != StudyEntry.Kind.PUZZLE or entry.match is None:
                break
            match = entry.match
            if not match.is_over:
                seat = match.seats.filter(kind=Seat.Kind.HUMAN).first()
                deadline = (
                    match.started + dt.timedelta(seconds=match.time_limit_s)
                    if match.time_limit_s and match.started
                    else None
                )
                if seat is not None and not seat.is_done and deadline is not None and now > deadline:
                    services.seat_time_out(seat=seat, reason="the study's time limit for this puzzle ran out")
                    match.refresh_from_db()
                elif seat is not None and session_key and seat.session_key != session_key:
                    Seat.objects.filter(pk=seat.pk).update(session_key=session_key)
            if not match.is_over:
                break
            StudyEntry.objects.filter(pk=entry.pk, finished__isnull=True).update(
                finished=match.finished or now
            )
            participant.position += 1
            match = None
        if participant.position >= len(participant.sequence) and participant.completed_at is None:
            participant.completed_at = now
        participant.last_seen = now
        participant.save(update_fields=["position", "completed_at", "last_seen"])
    return _current(participant, match)


def puzzle_start(
    *, participant: StudyParticipant, position: int, session_key: str, creator: limits.Creator | None = None
) -> Match:
    """Start the participant's puzzle at ``position`` (their current item): a solo, unranked match
    for this browser session, with the study's budgets. Starting it twice gives the same match."""
    current = participant_sync(participant=participant, session_key=session_key)
    participant = current.participant
    if current.kind != "puzzle" or current.position != position:
        raise StudyError("That puzzle is not your current step; the page has been brought up to date.")
    if current.match is not None:
        return current.match
    study = participant.study
    variant = PuzzleVariant.objects.get(slug=current.item["variant"])
    if study.same_instances:
        seed = (study.seed + int(current.item["puzzle"])) % services.RANKED_SEED_SPACE
    else:
        seed = secrets.randbelow(services.RANKED_SEED_SPACE)
    try:
        # Outside the transaction, as race_create does: a variant that cannot generate a puzzle
        # is flagged for the admins even though this start is refused.
        services.instance_get_or_create(variant=variant, seed=seed)
    except services.ActionError as exc:
        raise StudyError(exc.message) from None
    try:
        with transaction.atomic():
            StudyParticipant.objects.select_for_update().get(pk=participant.pk)
            existing = (
                StudyEntry.objects.filter(participant=participant, position=position)
                .select_related("match")
                .first()
            )
            if existing is not None and existing.match is not None:
                return existing.match
            match = services.match_create(
                variant=variant,
                seed=seed,
                max_tests=study.max_tests,
                time_limit_s=study.time_limit_s,
                ranked=False,
                creator=creator,
                # the study decides whether its participants state hypotheses (off: not asked)
                hypothesis_mode=study.hypotheses,
            )
            services.seat_join(match=match, handle=PARTICIPANT_HANDLE, session_key=session_key)
            match = services.match_start(match=match)
            StudyEntry.objects.create(
                participant=participant, position=position, kind=StudyEntry.Kind.PUZZLE, match=match
            )
    except services.ActionError as exc:
        raise StudyError(exc.message) from None
    return match


def check_answer(*, participant: StudyParticipant, position: int, answer: str) -> bool:
    """Record the participant's answer to the attention check at ``position`` (their current item)
    and move on. Returns whether it passed. A re-sent answer to a check already answered is
    ignored (the first answer stands)."""
    answer = (answer or "").strip()
    if not answer:
        raise StudyError("Please type an answer.")
    if len(answer) > MAX_ANSWER_LENGTH:
        raise StudyError(f"An answer may be at most {MAX_ANSWER_LENGTH} characters.")
    participant_sync(participant=participant, session_key="")  # past a puzzle that has just ended
    with transaction.atomic():
        participant = (
            StudyParticipant.objects.select_for_update().select_related("study").get(pk=participant.pk)
        )
        current = _current(participant)
        if current.kind != "check" or current.position != position:
            done = StudyEntry.objects.filter(participant=participant, position=position, kind="check").first()
            if done is not None:
                return bool(done.correct)
            raise StudyError("That question is not your current step; the page has been brought up to date.")
        assert current.check is not None
        correct = answer_matches(answer, current.check["answer"])
        now = timezone.now()
        StudyEntry.objects.create(
            participant=participant,
            position=position,
            kind=StudyEntry.Kind.CHECK,
            answer=answer,
            correct=correct,
            finished=now,
        )
        participant.position += 1
        participant.last_seen = now
        participant.save(update_fields=["position", "last_seen"])
    return correct


# -- what the researcher sees ---------------------------------------------------------------------------------


def study_progress(*, study: Study, now: Any = None) -> dict[str, Any]:
    """Joined (consented), completed, dropped (not done ``max_duration_min`` after consenting),
    active, the median time to complete (seconds) and attention checks failed."""
    now = now or timezone.now()
    limit = now - dt.timedelta(minutes=study.max_duration_min)
    rows = list(study.participants.values_list("consented_at", "completed_at"))
    durations = [(done - start).total_seconds() for start, done in rows if done is not None]
    completed = len(durations)
    dropped = sum(1 for start, done in rows if done is None and start < limit)
    checks = StudyEntry.objects.filter(participant__study=study, kind=StudyEntry.Kind.CHECK)
    return {
        "joined": len(rows),
        "completed": completed,
        "dropped": dropped,
        "active": len(rows) - completed - dropped,
        "median_s": statistics.median(durations) if durations else None,
        "checks_answered": checks.count(),
        "checks_failed": checks.filter(correct=False).count(),
    }


def participant_summary(participant: StudyParticipant) -> dict[str, Any]:
    """One participant as the researcher may see them: the export pseudonym, never the ID."""
    entries = list(participant.entries.order_by("position"))
    return {
        "pseudonym": "p_" + participant.pid_hash[:20],
        "ordinal": participant.ordinal,
        "consented_at": participant.consented_at,
        "completed_at": participant.completed_at,
        "position": participant.position,
        "items": len(participant.sequence),
        "counterbalance": participant.counterbalance,
        "matches": [e.match_id for e in entries if e.match_id is not None],
        "checks_failed": sum(1 for e in entries if e.kind == StudyEntry.Kind.CHECK and e.correct is False),
    }


def study_design(*, study: Study) -> dict[str, Any]:
    """The study's design as plain data, for the dataset card and the researcher's page. Leaves
    out the completion code and return URL (they pay participants)."""
    return {
        "slug": study.slug,
        "title": study.title,
        "status": study.status,
        "created": study.created.isoformat(),
        "closed_at": study.closed_at.isoformat() if study.closed_at else None,
        "consent_text": study.consent_text,
        "puzzles": list(study.puzzles.order_by("position").values_list("variant__slug", flat=True)),
        "order": study.order,
        "order_note": Study.Order(study.order).label,
        "attention_checks": study.attention_checks,
        "time_limit_s": study.time_limit_s,
        "max_tests": study.max_tests,
        "max_duration_min": study.max_duration_min,
        "hypotheses": study.hypotheses,
        "same_instances": study.same_instances,
        "id_parameters": [p for p in (study.pid_param, study.study_param, study.session_param) if p],
        "completion": "completion code" if study.completion_code else "return URL",
    }

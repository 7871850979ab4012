"""Research exports: JSON Lines, CSV and Parquet from one schema.

One record per match, built in chunks of matches (a few queries per chunk, never one per row),
is the single shape every format is written from: JSON Lines writes it nested, CSV and Parquet
flatten it into four tables joinable by id (matches, seats, steps, model_calls).

Memory stays bounded: matches are read with ``.iterator(chunk_size=...)`` (a server-side
cursor on PostgreSQL), their seats, steps and model calls are fetched per chunk, and every
writer appends to its files as it goes (Parquet in row groups).

What leaves and what does not:

* people are pseudonymised with a keyed hash (HMAC-SHA256) of their user id or, for anonymous
  players, their session key: ``h_<hex>``; agents by their token id: ``a_<hex>``; models keep
  their contestant slug. Handles (a logged-in player's handle is their user name; an agent's is
  its token's name), user ids, session keys, tokens and idempotency keys are never written;
* what a match shows is decided by ``games.play.visibility``, as for every other viewer: a match that
  is over (finished or aborted, the moment the site reveals it) is written whole; a running
  match is listed with progress only: no instance id, seed, params, public data or hidden rule
  (the public engine could rebuild the rule from them), and each seat with its status and tests
  used but no steps, guess, verdict, score or model calls.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import hashlib
import hmac
import itertools
import json
import logging
import os
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connections
from django.db.models import DateTimeField, Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from games.engine import beliefs
from games.engine.core import EngineError, Family, Instance, all_families, get_family
from games.models import (
    Match,
    ModelCall,
    ModelContestant,
    PuzzleVariant,
    RatingSnapshot,
    Seat,
    Step,
    Study,
    Tournament,
)
from games.play import selectors, visibility
from games.play.visibility import Viewer

try:  # optional: about 5x faster JSON; the output is the same JSON either way
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None
if os.environ.get("ARENA_EXPORT_STDLIB_JSON"):  # benchmarks compare the two
    orjson = None

logger = logging.getLogger(__name__)

# 2: matches.tournament, matches.ranked; 3: matches.study, study_position, seats.participant;
# 4: steps.measures (per-test measures a family declares, e.g. alchemy's novelty and empowerment);
# 5: stated hypotheses and their measures (steps.hypothesis*, positive_test, seats.positive_share, ...)
SCHEMA_VERSION = 5
FORMATS = ("jsonl", "csv", "parquet")
KINDS = tuple(Seat.Kind.values)
DEFAULT_CHUNK = 250  # matches per chunk (~12k steps): bounded memory, few queries
TABLES = ("matches", "seats", "steps", "model_calls")


class ExportError(ValueError):
    """Bad export arguments: the message says what was wrong and what is allowed."""


# -- the schema -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # int | float | bool | string | timestamp | json
    description: str


# Empty text is written as a missing value (CSV cannot tell the two apart).
TYPE_NOTES = {
    "int": "integer (64-bit)",
    "float": "floating point (64-bit)",
    "bool": "true / false",
    "string": "text (UTF-8)",
    "timestamp": "UTC instant; ISO 8601 text in JSONL/CSV, timestamp[us, UTC] in Parquet",
    "json": "JSON value; nested in JSONL, JSON text in CSV and Parquet",
}

_ANALYTICS_NOTE = " (engine analytics; empty when exported with --no-analytics)"
_HYPOTHESIS_NOTE = (
    " (measured by games.engine.beliefs for rule-language hypotheses of matches that are over; empty "
    "with --no-analytics)"
)

SCHEMA: dict[str, tuple[Field, ...]] = {
    "matches": (
        Field(
            "match_id", "int", "match id; seats.match_id, steps.match_id, model_calls.match_id refer to it"
        ),
        Field("family", "string", "puzzle family id, e.g. wason"),
        Field("variant", "string", "puzzle variant slug (family + parameters configured by an admin)"),
        Field(
            "instance_id",
            "int",
            "puzzle instance id; matches on the same instance share it (races); empty unless the match is over",
        ),
        Field(
            "seed",
            "int",
            "instance seed: family.generate(seed, params) rebuilds the instance; empty unless the match is over",
        ),
        Field("generator_version", "int", "family generator version the instance was generated with"),
        Field(
            "params",
            "json",
            "validated family parameters the instance was generated with; empty unless the match is over",
        ),
        Field(
            "public",
            "json",
            "what every player saw before the end: examples, budgets, query shape; empty unless the match is over",
        ),
        Field("mode", "string", "solo | race | benchmark"),
        Field(
            "tournament", "string", "slug of the tournament this race is a round of; empty (null) otherwise"
        ),
        Field("study", "string", "slug of the study this match is a puzzle of; empty (null) otherwise"),
        Field(
            "study_position",
            "int",
            "0-based position of this puzzle in the participant's own sequence (attention checks count); "
            "study matches only",
        ),
        Field("status", "string", "waiting | running | finished | aborted"),
        Field("ranked", "bool", "false when a player chose the seed (kept off the leaderboard)"),
        Field(
            "hypothesis_mode",
            "string",
            "whether players stated a hypothesis before each test: off | optional | required | "
            "required_parseable (a rule that does not parse is refused)",
        ),
        Field("hypothesis_format", "string", "how hypotheses were written: rule | text"),
        Field("max_tests", "int", "test budget per seat"),
        Field("time_limit_s", "int", "time limit in seconds, empty = none"),
        Field("created", "timestamp", "when the match was created (the date filters apply to this)"),
        Field("started", "timestamp", "when the match started"),
        Field("finished", "timestamp", "when the last seat finished"),
        Field("hidden", "json", "the hidden rule as the engine stores it; empty unless the match is over"),
        Field("hidden_rule", "string", "the hidden rule's text; empty unless the match is over"),
        Field("hidden_size", "int", "size of the hidden rule's tree; empty unless the match is over"),
        Field("seats_count", "int", "number of seats (players) in the match"),
    ),
    "seats": (
        Field("seat_id", "int", "seat id; steps.seat_id and model_calls.seat_id refer to it"),
        Field("match_id", "int", "the seat's match (matches.match_id)"),
        Field("kind", "string", "human | model | agent"),
        Field(
            "player",
            "string",
            "pseudonymous player: h_<hex> for a person (keyed hash of the account, or of the browser "
            "session for anonymous play), a_<hex> for an API agent (keyed hash of its token id), "
            "the contestant slug for a model",
        ),
        Field("contestant", "string", "model contestant slug (model seats only)"),
        Field(
            "participant",
            "string",
            "a study participant: p_ + the first 20 hex digits of the keyed hash of their panel ID (the "
            "same in all their matches of the study; player is the same value); empty outside studies",
        ),
        Field("status", "string", "playing | finished (made a guess) | timed_out | forfeited"),
        Field("solved", "bool", "the guess was judged equivalent to the hidden rule; empty while playing"),
        Field("tests_used", "int", "tests run (a forfeited model turn uses one too)"),
        Field("steps_count", "int", "rows of this seat in steps"),
        Field(
            "guess",
            "string",
            "the stated rule, as typed (an answer that is not text, e.g. a grid: its JSON text)",
        ),
        Field("guess_correct", "bool", "the judge's verdict on the guess"),
        Field(
            "agreement",
            "float",
            "fraction of the family's agreement domain where guess and hidden rule agree",
        ),
        Field("guess_size", "int", "size of the guess's rule tree (family.rule_size)"),
        Field("hidden_size", "int", "size of the hidden rule's tree; empty unless the match is over"),
        Field("parsimony", "float", "guess_size / hidden_size (Occam: 1 = as small as the hidden rule)"),
        Field("points", "int", "the family's score in points"),
        Field(
            "quiz_accuracy_hidden",
            "float",
            "application quiz: fraction of the fresh items predicted as the hidden rule answers them",
        ),
        Field(
            "quiz_accuracy_own",
            "float",
            "application quiz: fraction predicted as the player's own stated rule answers them",
        ),
        Field(
            "outcome", "json", "how the seat ended: guess, verdict and application quiz, forfeit or timeout"
        ),
        Field("score", "json", "the family's full score record"),
        Field("joined", "timestamp", "when the seat joined"),
        Field("finished", "timestamp", "when the seat finished"),
        Field("model_calls_count", "int", "calls made to the model for this seat, failed ones included"),
        Field("tokens_in", "int", "prompt tokens over all model calls"),
        Field("tokens_out", "int", "completion tokens over all model calls"),
        Field("cost_usd", "float", "model cost over all calls, US dollars"),
        Field("bits_total", "float", "information gained over all tests, bits" + _ANALYTICS_NOTE),
        Field("redundant_tests", "int", "tests that could not narrow the reference space" + _ANALYTICS_NOTE),
        Field("hypotheses_stated", "int", "tests that came with a stated hypothesis (see steps.hypothesis)"),
        Field(
            "hypotheses_parsed",
            "int",
            "stated hypotheses that read as rules of the family" + _HYPOTHESIS_NOTE,
        ),
        Field(
            "positive_tests",
            "int",
            "tests the stated hypothesis said fit (positive tests)" + _HYPOTHESIS_NOTE,
        ),
        Field("negative_tests", "int", "tests the stated hypothesis said do not fit" + _HYPOTHESIS_NOTE),
        Field(
            "positive_share",
            "float",
            "positive_tests / (positive_tests + negative_tests): positive-test bias" + _HYPOTHESIS_NOTE,
        ),
        Field(
            "refuted_kept",
            "int",
            "tests run under a hypothesis that earlier answers (or the examples) had already refuted"
            + _HYPOTHESIS_NOTE,
        ),
        Field(
            "first_equivalent_test",
            "int",
            "the first test (1-based among the seat's tests) whose stated hypothesis the judge finds "
            "equivalent to the hidden rule; empty if none" + _HYPOTHESIS_NOTE,
        ),
    ),
    "steps": (
        Field("step_id", "int", "step id; model_calls.step_id refers to it"),
        Field("seat_id", "int", "the step's seat (seats.seat_id)"),
        Field("match_id", "int", "the step's match (matches.match_id)"),
        Field("seq", "int", "1-based position in the seat's log"),
        Field("kind", "string", "test | guess | forfeit | timeout | note"),
        Field("created_at", "timestamp", "server time the step was recorded"),
        Field(
            "since_prev_ms",
            "int",
            "server milliseconds since the seat's previous step (the first step: since the match started)",
        ),
        Field("client_think_ms", "int", "think time the client reported (browsers and agents), milliseconds"),
        Field("test_index", "int", "1-based number among the seat's tests (tests only)"),
        Field("test_input", "json", "the test's input as the oracle parsed it (tests only)"),
        Field("test_result", "json", "the oracle's answer (tests only)"),
        Field("guess", "string", "the stated rule (guesses only; an answer such as a grid as JSON text)"),
        Field("guess_correct", "bool", "the judge's verdict (guesses only)"),
        Field("action", "json", "the action as stored"),
        Field("result", "json", "the result as stored (a guess: verdict with counterexample, and score)"),
        Field(
            "surviving_before", "int", "reference hypotheses consistent before this test" + _ANALYTICS_NOTE
        ),
        Field("surviving", "int", "reference hypotheses consistent after this test" + _ANALYTICS_NOTE),
        Field(
            "bits",
            "float",
            "log2(surviving_before / surviving); empty once the space is exhausted" + _ANALYTICS_NOTE,
        ),
        Field(
            "redundant", "bool", "every surviving hypothesis already predicted the answer" + _ANALYTICS_NOTE
        ),
        Field("p_true", "float", "fraction of surviving hypotheses that predicted True" + _ANALYTICS_NOTE),
        Field("space_exhausted", "bool", "no reference hypothesis is consistent any more" + _ANALYTICS_NOTE),
        Field(
            "measures",
            "json",
            "the family's own per-test measures (its step_analytics beyond the columns above, and once the "
            "match is over its reveal_analytics, which need the hidden rule; e.g. alchemy: novel_pair, "
            "a_/b_tries_before, a_/b_successes_before, a_/b_uncertainty, a_/b_empowerment, "
            "pair_empowerment, best_pair_empowerment, made_depth; docs/FAMILIES.md)" + _ANALYTICS_NOTE,
        ),
        Field(
            "hypothesis",
            "string",
            "the player's current hypothesis, stated before this test, as typed (tests only; when the "
            "match asked for one: matches.hypothesis_mode)",
        ),
        Field("hypothesis_format", "string", "rule (the family's rule language) | text (free text)"),
        Field(
            "hypothesis_parsed",
            "bool",
            "a rule-language hypothesis reads as a rule (one that does not is still stored); empty for free text",
        ),
        Field(
            "positive_test",
            "bool",
            "the stated hypothesis said this input fits (a positive test); false: it said it does not; "
            "empty for families whose answers are not yes/no" + _HYPOTHESIS_NOTE,
        ),
        Field(
            "hypothesis_confirmed",
            "bool",
            "the hidden rule's answer is the one the stated hypothesis predicted" + _HYPOTHESIS_NOTE,
        ),
        Field(
            "hypothesis_already_refuted",
            "bool",
            "an earlier answer of this seat, or an example shown with the puzzle, already contradicted the "
            "stated hypothesis (persistence)" + _HYPOTHESIS_NOTE,
        ),
        Field(
            "hypothesis_equivalent",
            "bool",
            "the judge finds the stated hypothesis equivalent to the hidden rule" + _HYPOTHESIS_NOTE,
        ),
    ),
    "model_calls": (
        Field("call_id", "int", "model call id"),
        Field("seat_id", "int", "the model's seat (seats.seat_id)"),
        Field("match_id", "int", "the match (matches.match_id)"),
        Field("step_id", "int", "the step this call produced (steps.step_id); empty if none"),
        Field("contestant", "string", "contestant slug"),
        Field("turn", "int", "1-based model turn"),
        Field("attempt", "int", "attempt within the turn (retries after transient errors)"),
        Field("purpose", "string", "turn | reprompt"),
        Field(
            "messages", "json", "the messages sent (system and user turns, and the model's earlier replies)"
        ),
        Field("raw_response", "string", "the model's reply text"),
        Field("reasoning", "string", "reasoning text when the provider returned it"),
        Field("parsed_action", "json", "the action parsed from the reply"),
        Field("parse_error", "string", "why the reply could not be parsed"),
        Field("tokens_in", "int", "prompt tokens"),
        Field("tokens_out", "int", "completion tokens"),
        Field("latency_ms", "float", "wall time of the call, milliseconds"),
        Field("cost_usd", "float", "cost of the call, US dollars"),
        Field("finish_reason", "string", "the provider's finish reason"),
        Field("error_class", "string", "error class of a failed call"),
        Field("error_message", "string", "error message of a failed call"),
        Field("created_at", "timestamp", "when the call was logged"),
    ),
}

FIELD_NAMES = {table: tuple(f.name for f in fields) for table, fields in SCHEMA.items()}
_NO_ANALYTICS = {"surviving_before": None, "surviving": None, "bits": None, "redundant": None, "p_true": None}
# The analytics every family reports in their own columns; anything else a family measures goes
# to the ``measures`` column.
_SHARED_ANALYTICS = {*_NO_ANALYTICS, "space_exhausted", "test", "input", "result", "answer"}
_NO_BELIEFS = {
    "positive_test": None, "hypothesis_confirmed": None, "hypothesis_already_refuted": None,
    "hypothesis_equivalent": None,
}  # fmt: skip
_BELIEF_SEAT_FIELDS = (
    "hypotheses_parsed", "positive_tests", "negative_tests", "positive_share", "refuted_kept",
    "first_equivalent_test",
)  # fmt: skip


# -- filters ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    family: str | None = None
    variant: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    kind: str | None = None
    contestant: str | None = None
    finished_only: bool = False
    tournament: str | None = None
    study: str | None = None
    # Staff playtests of unpublished variants are left out unless asked for.
    include_playtests: bool = False

    @classmethod
    def from_query(cls, params: Any) -> ExportFilters:
        """Filters from a query string or form (``finished`` for finished only)."""
        return cls.parse(
            family=params.get("family"),
            variant=params.get("variant"),
            since=params.get("since"),
            until=params.get("until"),
            kind=params.get("kind"),
            contestant=params.get("contestant"),
            finished_only=params.get("finished"),
            tournament=params.get("tournament"),
            study=params.get("study"),
            include_playtests=params.get("playtests"),
        )

    @classmethod
    def parse(
        cls,
        *,
        family: str | None = None,
        variant: str | None = None,
        since: str | None = None,
        until: str | None = None,
        kind: str | None = None,
        contestant: str | None = None,
        finished_only: bool | str | None = False,
        tournament: str | None = None,
        study: str | None = None,
        include_playtests: bool | str | None = False,
    ) -> ExportFilters:
        """Filters from text (a form, a query string, the command line); ExportError says what
        was wrong. Dates are YYYY-MM-DD (``until`` includes that whole day) or ISO 8601."""
        family, variant, kind, contestant, tournament, study = (
            _blank(v) for v in (family, variant, kind, contestant, tournament, study)
        )
        if family is not None:
            try:
                get_family(family)
            except EngineError as exc:
                raise ExportError(exc.message) from None
        if variant is not None and not PuzzleVariant.objects.filter(slug=variant).exists():
            known = list(PuzzleVariant.objects.order_by("slug").values_list("slug", flat=True)[:30])
            raise ExportError(f"no variant {variant!r}; known variants: {', '.join(known) or 'none'}")
        if kind is not None and kind not in KINDS:
            raise ExportError(f"player kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if contestant is not None and not ModelContestant.objects.filter(slug=contestant).exists():
            known = list(ModelContestant.objects.order_by("slug").values_list("slug", flat=True)[:30])
            raise ExportError(
                f"no contestant {contestant!r}; known contestants: {', '.join(known) or 'none'}"
            )
        if tournament is not None and not Tournament.objects.filter(slug=tournament).exists():
            known = list(Tournament.objects.order_by("slug").values_list("slug", flat=True)[:30])
            raise ExportError(
                f"no tournament {tournament!r}; known tournaments: {', '.join(known) or 'none'}"
            )
        if study is not None and not Study.objects.filter(slug=study).exists():
            known = list(Study.objects.order_by("slug").values_list("slug", flat=True)[:30])
            raise ExportError(f"no study {study!r}; known studies: {', '.join(known) or 'none'}")
        start = _parse_when("since", since, end_of_day=False)
        end = _parse_when("until", until, end_of_day=True)
        if start is not None and end is not None and start >= end:
            raise ExportError(f"since ({since}) must be before until ({until})")
        return cls(
            family=family,
            variant=variant,
            since=start,
            until=end,
            kind=kind,
            contestant=contestant,
            finished_only=_truthy(finished_only),
            tournament=tournament,
            study=study,
            include_playtests=_truthy(include_playtests),
        )

    def apply(self, matches: QuerySet[Match]) -> QuerySet[Match]:
        if not self.include_playtests:
            matches = matches.filter(playtest=False)
        if self.family:
            matches = matches.filter(instance__family=self.family)
        if self.variant:
            matches = matches.filter(instance__variant__slug=self.variant)
        if self.since:
            matches = matches.filter(created__gte=self.since)
        if self.until:
            matches = matches.filter(created__lt=self.until)
        if self.finished_only:
            matches = matches.filter(status=Match.Status.FINISHED)
        if self.tournament:
            matches = matches.filter(tournament_round__tournament__slug=self.tournament)
        if self.study:
            matches = matches.filter(study_entry__participant__study__slug=self.study)
        # Kind and contestant select matches with such a seat; every seat of those matches is
        # exported (a race is one unit), and seats.kind / seats.contestant narrow it further.
        if self.kind:
            matches = matches.filter(Exists(Seat.objects.filter(match=OuterRef("pk"), kind=self.kind)))
        if self.contestant:
            matches = matches.filter(
                Exists(Seat.objects.filter(match=OuterRef("pk"), contestant=self.contestant))
            )
        return matches

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "until"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["until_is_exclusive"] = True
        return data


def _blank(value: str | None) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    return value or None


def _truthy(value: bool | str | None) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _parse_when(name: str, text: str | None, *, end_of_day: bool) -> dt.datetime | None:
    text = _blank(text)
    if text is None:
        return None
    try:
        # A bare date first: datetime.fromisoformat (under parse_datetime) reads it as midnight.
        day = parse_date(text)
        moment = None if day else parse_datetime(text)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise ExportError(f"{name} must be a date YYYY-MM-DD or an ISO 8601 date-time, got {text!r}")
    if day is not None:
        moment = dt.datetime.combine(day, dt.time()) + (
            dt.timedelta(days=1) if end_of_day else dt.timedelta()
        )
    assert moment is not None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def matches_for(filters: ExportFilters) -> QuerySet[Match]:
    return filters.apply(Match.objects.all()).order_by("id")


# -- pseudonyms ---------------------------------------------------------------------------------------


def pseudonym_key() -> bytes:
    """``settings.ARENA_EXPORT_PSEUDONYM_KEY`` if set, else a key derived from SECRET_KEY, so
    pseudonyms are stable across exports of one deployment and useless without its secret."""
    configured = getattr(settings, "ARENA_EXPORT_PSEUDONYM_KEY", "")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    return hmac.new(settings.SECRET_KEY.encode(), b"arena-export-pseudonym-v1", hashlib.sha256).digest()


class Pseudonyms:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else pseudonym_key()

    def _hash(self, prefix: str, text: str) -> str:
        return prefix + hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:20]

    def player(self, *, kind: str, user_id: int | None, session_key: str, token_id: int | None,
               contestant: str, seat_id: int) -> str:  # fmt: skip
        if kind == Seat.Kind.MODEL:
            return contestant
        if kind == Seat.Kind.AGENT:
            return self._hash("a_", f"token:{token_id}" if token_id else f"seat:{seat_id}")
        if user_id is not None:
            return self._hash("h_", f"user:{user_id}")
        if session_key:
            return self._hash("h_", f"session:{session_key}")
        return self._hash("h_", f"seat:{seat_id}")


def participant_pseudonym(pid_hash: str) -> str:
    """A study participant in exports: their stored keyed hash (games.research.studies.id_hash),
    shortened as the other pseudonyms are. Never their panel ID."""
    return "p_" + pid_hash[:20]


# -- building records --------------------------------------------------------------------------------

MATCH_COLUMNS = (
    "id",
    "instance__family",
    "instance__variant__slug",
    "instance_id",
    "instance__seed",
    "instance__generator_version",
    "instance__params",
    "instance__public",
    "instance__hidden",
    "mode",
    "status",
    "max_tests",
    "time_limit_s",
    "created",
    "started",
    "finished",
    "tournament_round__tournament__slug",
    "ranked",
    "study_entry__participant__study__slug",
    "study_entry__position",
    "study_entry__participant__pid_hash",
    "hypothesis_mode",
    "hypothesis_format",
)
_SEAT_COLUMNS = (
    "id",
    "match_id",
    "kind",
    "user_id",
    "session_key",
    "agent_token_id",
    "contestant",
    "status",
    "outcome",
    "score",
    "tests_used",
    "joined",
    "finished",
)
_STEP_COLUMNS = (
    "id", "seat_id", "seq", "kind", "action", "result", "created_at", "client_think_ms", "hypothesis",
)  # fmt: skip
_CALL_COLUMNS = (
    "id",
    "seat_id",
    "step_id",
    "contestant_id",
    "turn",
    "attempt",
    "purpose",
    "messages",
    "raw_response",
    "reasoning",
    "parsed_action",
    "parse_error",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "cost_usd",
    "finish_reason",
    "error_class",
    "error_message",
    "created_at",
)


class RecordBuilder:
    """Turns chunks of matches into export records (one nested dict per match)."""

    def __init__(self, *, analytics: bool = True, pseudonyms: Pseudonyms | None = None) -> None:
        self.analytics = analytics
        self.pseudonyms = pseudonyms or Pseudonyms()
        self.generator_versions: dict[str, set[int]] = defaultdict(set)
        self._contestants = dict(ModelContestant.objects.values_list("id", "slug"))
        self._families: dict[str, Family | None] = {}
        self._sizes: dict[tuple[str, str], int | None] = {}

    def family(self, family_id: str) -> Family | None:
        if family_id not in self._families:
            try:
                self._families[family_id] = get_family(family_id)
            except EngineError:
                logger.warning(
                    "export: unknown family %r; its analytics and rule sizes stay empty", family_id
                )
                self._families[family_id] = None
        return self._families[family_id]

    def records(self, matches: QuerySet[Match], *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[list[dict]]:
        """Lists of records, ``chunk_size`` matches at a time, in match id order."""
        chunk: list[tuple] = []
        for row in matches.values_list(*MATCH_COLUMNS).iterator(chunk_size=chunk_size):
            chunk.append(row)
            if len(chunk) >= chunk_size:
                yield self.build(chunk)
                chunk = []
        if chunk:
            yield self.build(chunk)

    def build(self, match_rows: list[tuple]) -> list[dict[str, Any]]:
        """Records for these match rows (``MATCH_COLUMNS``): one query per table for them all."""
        ids = [row[0] for row in match_rows]
        seats_by_match: dict[int, list[tuple]] = defaultdict(list)
        seats = Seat.objects.filter(match_id__in=ids).order_by("match_id", "id")
        for row in _raw_rows(_select(seats, _SEAT_COLUMNS)):
            seats_by_match[row[1]].append(row)
        steps_by_seat: dict[int, list[tuple]] = defaultdict(list)
        steps = Step.objects.filter(seat__match_id__in=ids).order_by("seat_id", "seq")
        for row in _raw_rows(_select(steps, _STEP_COLUMNS)):
            steps_by_seat[row[1]].append(row)
        calls_by_seat: dict[int, list[tuple]] = defaultdict(list)
        calls = ModelCall.objects.filter(seat__match_id__in=ids).order_by("seat_id", "id")
        for row in _raw_rows(_select(calls, _CALL_COLUMNS)):
            calls_by_seat[row[1]].append(row)
        return [self._match(row, seats_by_match[row[0]], steps_by_seat, calls_by_seat) for row in match_rows]

    def _match(self, row: tuple, seats: list[tuple], steps_by_seat: Mapping, calls_by_seat: Mapping) -> dict:
        (match_id, family_id, variant, instance_id, seed, version, params, public, hidden) = row[:9]
        mode, status, max_tests, time_limit_s, created, started, finished, tournament, ranked = row[9:18]
        study, study_position, pid_hash, hypothesis_mode, hypothesis_format = row[18:]
        self.generator_versions[family_id].add(version)
        # games.play.visibility decides; a researcher has no seat, so a running match shows progress only
        view = visibility.status_view(status=status, viewer=Viewer.researcher())
        if not view.sees_instance:  # nothing the public engine could rebuild the rule from
            instance_id = seed = params = public = hidden = None
        hidden_size = _int_or_none((hidden or {}).get("size"))
        family = self.family(family_id)
        engine_instance = None
        if (
            view.sees_instance and hidden is not None and family is not None
        ):  # the measures need the hidden rule
            engine_instance = Instance(
                family=family_id,
                version=version,
                seed=seed,
                params=_json(params) or {},
                public=_json(public) or {},
                hidden=_json(hidden) or {},
            )
        record = {
            "match_id": match_id,
            "family": family_id,
            "variant": variant,
            "instance_id": instance_id,
            "seed": seed,
            "generator_version": version,
            "params": params,
            "public": public,
            "mode": mode,
            "tournament": tournament,
            "study": study,
            "study_position": study_position,
            "status": status,
            "ranked": bool(ranked),
            "hypothesis_mode": hypothesis_mode,
            "hypothesis_format": hypothesis_format,
            "max_tests": max_tests,
            "time_limit_s": time_limit_s,
            "created": _iso(created),
            "started": _iso(started),
            "finished": _iso(finished),
            "hidden": hidden,
            "hidden_rule": (hidden or {}).get("rule"),
            "hidden_size": hidden_size,
            "seats_count": len(seats),
        }
        record["seats"] = [
            self._seat(
                seat,
                view=view,
                match_id=match_id,
                family=family,
                public=public,
                started=started,
                hidden_size=hidden_size,
                participant=participant_pseudonym(pid_hash) if pid_hash else None,
                engine_instance=engine_instance,
                steps=steps_by_seat.get(seat[0], ()),
                calls=calls_by_seat.get(seat[0], ()),
            )
            for seat in seats
        ]
        return record

    def _seat(self, row: tuple, *, view: visibility.MatchView, match_id: int, family: Family | None,
              public: Any, started: Any, hidden_size: int | None, participant: str | None,
              steps: Iterable[tuple], calls: Iterable[tuple],
              engine_instance: Instance | None = None) -> dict:  # fmt: skip
        seat_id, _, kind, user_id, session_key, token_id, contestant, status, outcome, score = row[:10]
        tests_used, joined, finished = row[10:]
        if not view.sees_log(seat_id):  # progress only: its tests, guess and calls stay private
            steps, calls, outcome, score = (), (), None, None
        outcome, score = _json(outcome) or {}, _json(score)
        (joined_iso, joined), (finished_iso, _) = _stamp(joined), _stamp(finished)
        verdict = outcome.get("verdict") or {}
        guess = outcome.get("guess")
        guess_size = self._rule_size(family, guess)
        step_records = self._steps(
            steps,
            match_id=match_id,
            family=family,
            public=public,
            start=started or joined,
            engine_instance=engine_instance,
        )
        measured = self._beliefs_summary(step_records)
        call_records = [self._call(c, match_id=match_id) for c in calls]
        bits = [s["bits"] for s in step_records if s["bits"] is not None]
        if kind != Seat.Kind.HUMAN:  # a study's participant is its person; models never are
            participant = None
        redundant = [s["redundant"] for s in step_records if s["redundant"] is not None]
        return {
            "seat_id": seat_id,
            "match_id": match_id,
            "kind": kind,
            "player": participant
            or self.pseudonyms.player(
                kind=kind,
                user_id=user_id,
                session_key=session_key,
                token_id=token_id,
                contestant=contestant,
                seat_id=seat_id,
            ),
            "contestant": contestant or None,
            "participant": participant,
            "status": status,
            "solved": None if not score else bool(score.get("solved")),
            "tests_used": tests_used,
            "steps_count": len(step_records),
            "guess": _guess_text(guess),
            "guess_correct": verdict.get("correct") if verdict else None,
            "agreement": _float_or_none(verdict.get("agreement")),
            "guess_size": guess_size,
            "hidden_size": hidden_size,
            "parsimony": guess_size / hidden_size if guess_size is not None and hidden_size else None,
            "points": _int_or_none((score or {}).get("points")),
            "quiz_accuracy_hidden": _float_or_none((outcome.get("quiz") or {}).get("accuracy_vs_hidden")),
            "quiz_accuracy_own": _float_or_none((outcome.get("quiz") or {}).get("accuracy_vs_own_rule")),
            "outcome": outcome or None,
            "score": score,
            "joined": joined_iso,
            "finished": finished_iso,
            "model_calls_count": len(call_records),
            "tokens_in": sum(c["tokens_in"] for c in call_records),
            "tokens_out": sum(c["tokens_out"] for c in call_records),
            "cost_usd": float(sum(c["cost_usd"] for c in call_records)),
            "bits_total": float(sum(bits)) if self.analytics and step_records else None,
            "redundant_tests": sum(1 for r in redundant if r) if self.analytics and step_records else None,
            "hypotheses_stated": sum(1 for r in step_records if r["hypothesis"] is not None),
            **{k: measured.get(k) for k in _BELIEF_SEAT_FIELDS},
            "steps": step_records,
            "model_calls": call_records,
        } | ({} if view.sees_log(seat_id) else _LOG_HIDDEN)

    def _rule_size(self, family: Family | None, guess: Any) -> int | None:
        if family is None or not isinstance(guess, str):
            return None
        key = (family.id, guess)
        if key not in self._sizes:
            try:
                self._sizes[key] = int(family.rule_size(guess))
            except EngineError:
                self._sizes[key] = None
            if len(self._sizes) > 50_000:  # bounded memory on huge exports
                self._sizes.clear()
        return self._sizes.get(key)

    def _beliefs_summary(self, step_records: list[dict]) -> dict[str, Any]:
        """The seat's hypothesis measures from its steps' (``games.engine.beliefs.summary``),
        empty when none of its tests were measured."""
        rows = [
            {
                "test": s["test_index"],
                "stated": s["hypothesis"] is not None,
                "parsed": s["hypothesis_parsed"],
                "positive": s["positive_test"],
                "confirmed": s["hypothesis_confirmed"],
                "already_refuted": s["hypothesis_already_refuted"],
                "equivalent": s["hypothesis_equivalent"],
            }
            for s in step_records
            if s["kind"] == Step.Kind.TEST
        ]
        if not any(r["confirmed"] is not None for r in rows):
            return {}
        # the engine's summary counts a row as measured when it parsed and was measured
        return beliefs.summary([{**r, "parsed": r["parsed"] and r["confirmed"] is not None} for r in rows])

    def _steps(self, rows: Iterable[tuple], *, match_id: int, family: Family | None, public: Any,
               start: dt.datetime | None, engine_instance: Instance | None = None) -> list[dict]:  # fmt: skip
        out: list[dict] = []
        history: list[dict] = []
        test_positions: list[int] = []
        previous = start
        for step_id, seat_id, seq, kind, action, result, created_at, think_ms, hypothesis in rows:
            action = _json(action) or {}
            result = _json(result) or {}
            hypothesis = _json(hypothesis) or {}
            created_iso, created_at = _stamp(created_at)
            is_test = kind == Step.Kind.TEST
            is_guess = kind == Step.Kind.GUESS
            if is_test:
                history.append(
                    {
                        "input": action.get("input"),
                        "result": result.get("result"),
                        # only rule-language hypotheses are measured
                        "hypothesis": hypothesis.get("text") if hypothesis.get("format") == "rule" else None,
                    }
                )
                test_positions.append(len(out))
            verdict = (result.get("verdict") or {}) if is_guess else {}
            out.append(
                {
                    "step_id": step_id,
                    "seat_id": seat_id,
                    "match_id": match_id,
                    "seq": seq,
                    "kind": kind,
                    "created_at": created_iso,
                    "since_prev_ms": _ms_between(previous, created_at),
                    "client_think_ms": think_ms,
                    "test_index": len(history) if is_test else None,
                    "test_input": action.get("input") if is_test else None,
                    "test_result": result.get("result") if is_test else None,
                    "guess": _guess_text(action.get("rule")) if is_guess else None,
                    "guess_correct": verdict.get("correct") if is_guess else None,
                    "action": action,
                    "result": result,
                    **_NO_ANALYTICS,
                    "space_exhausted": None,
                    "measures": None,
                    "hypothesis": hypothesis.get("text"),
                    "hypothesis_format": hypothesis.get("format"),
                    "hypothesis_parsed": hypothesis.get("parsed"),
                    **_NO_BELIEFS,
                }
            )
            previous = created_at
        if self.analytics and history and family is not None:
            try:
                traced = family.step_analytics(public, history)
            except Exception:  # ours: keep exporting, with this seat's analytics left empty
                logger.exception("export: step analytics failed for match %s", match_id)
                traced = []
            revealed: list[dict] = []
            if engine_instance is not None and family.reveal_analytics is not None:
                try:
                    revealed = family.reveal_analytics(engine_instance, history)
                except Exception:  # ours, as above
                    logger.exception("export: reveal analytics failed for match %s", match_id)
            for position, item, more in itertools.zip_longest(test_positions, traced, revealed):
                if position is None or item is None:
                    break
                step = out[position]
                own = {k: v for k, v in item.items() if k not in _SHARED_ANALYTICS} | (more or {})
                step["measures"] = own or None
                step["surviving_before"] = item.get("surviving_before")
                step["surviving"] = item.get("surviving")
                step["bits"] = item.get("bits")
                step["redundant"] = item.get("redundant")
                step["p_true"] = item.get("p_true")
                step["space_exhausted"] = item.get("space_exhausted")
        measurable = engine_instance is not None and family is not None
        if self.analytics and measurable and any(h["hypothesis"] for h in history):
            try:
                believed = beliefs.trace(family, engine_instance, history)  # type: ignore[arg-type]
            except Exception:  # ours: keep exporting, with this seat's measures left empty
                logger.exception("export: hypothesis measures failed for match %s", match_id)
                believed = []
            for position, item in zip(test_positions, believed):
                if item["parsed"]:
                    step = out[position]
                    step["positive_test"] = item["positive"]
                    step["hypothesis_confirmed"] = item["confirmed"]
                    step["hypothesis_already_refuted"] = item["already_refuted"]
                    step["hypothesis_equivalent"] = item["equivalent"]
        return out

    def _call(self, row: tuple, *, match_id: int) -> dict:
        (call_id, seat_id, step_id, contestant_id, turn, attempt, purpose, messages, raw, reasoning) = row[
            :10
        ]
        parsed, parse_error, tokens_in, tokens_out, latency, cost, finish, err_cls, err_msg, created = row[
            10:
        ]
        return {
            "call_id": call_id,
            "seat_id": seat_id,
            "match_id": match_id,
            "step_id": step_id,
            "contestant": self._contestants.get(contestant_id),
            "turn": turn,
            "attempt": attempt,
            "purpose": purpose,
            "messages": _json(messages),
            "raw_response": raw or None,
            "reasoning": reasoning or None,
            "parsed_action": _json(parsed),
            "parse_error": parse_error or None,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "latency_ms": float(latency),
            "cost_usd": float(cost),
            "finish_reason": finish or None,
            "error_class": err_cls or None,
            "error_message": err_msg or None,
            "created_at": _stamp(created)[0],
        }


# A seat's fields that describe its log, left empty while the log is private (games.play.visibility).
_LOG_HIDDEN: dict[str, Any] = {
    key: None
    for key in (
        "steps_count", "model_calls_count", "tokens_in", "tokens_out", "cost_usd", "bits_total",
        "redundant_tests", "hypotheses_stated",
    )
}  # fmt: skip


def _select(queryset: QuerySet, columns: tuple[str, ...]) -> QuerySet:
    """``values_list(*columns)``; on SQLite, timestamps as their stored text (a cast has no
    declared type, so the driver's Python-level datetime converter is skipped)."""
    if connections[queryset.db].vendor != "sqlite":
        return queryset.values_list(*columns)
    model = queryset.model
    return queryset.values_list(
        *(
            Cast(name, TextField()) if isinstance(model._meta.get_field(name), DateTimeField) else name
            for name in columns
        )
    )


def _raw_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a ``values_list`` query straight from the database cursor, without Django's
    per-value converters (most of the export's time went there): JSON columns come back as text
    (SQLite, and PostgreSQL with psycopg 3 as Django configures it) and timestamps as text
    (SQLite) or datetimes (PostgreSQL); ``_json`` and ``_stamp`` read either."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_scan_json = json.JSONDecoder().scan_once  # the C scanner, without json.loads' Python layers


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if orjson is not None:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return json.loads(value)  # NaN and friends, which the stdlib accepts
    try:
        decoded, end = _scan_json(value, 0)
    except StopIteration:
        return json.loads(value)  # raises with a proper message
    return decoded if end == len(value) else json.loads(value)


def _stamp(value: Any) -> tuple[str | None, dt.datetime | None]:
    """(ISO 8601 text, aware datetime) of a timestamp read by ``_raw_rows``."""
    if value is None:
        return None, None
    if isinstance(value, str):  # SQLite's text, in UTC without an offset: string work only
        iso = value.replace(" ", "T", 1) + "+00:00"
        return iso, dt.datetime.fromisoformat(iso)
    if value.tzinfo is None:  # stored in UTC (USE_TZ)
        value = value.replace(tzinfo=dt.UTC)
    elif value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.isoformat(), value


def _guess_text(guess: Any) -> str | None:
    """A guess in the text column: a rule as typed; an answer that is not text (a grid) as its
    JSON text (the step's ``action`` keeps the value itself)."""
    return guess if guess is None or isinstance(guess, str) else json.dumps(guess, separators=(",", ":"))


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.isoformat()


def _ms_between(earlier: dt.datetime | None, later: dt.datetime | None) -> int | None:
    if earlier is None or later is None:
        return None
    return round((later - earlier).total_seconds() * 1000)


def _int_or_none(value: Any) -> int | None:
    return None if value is None or isinstance(value, bool) else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def flatten(record: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) pairs of one nested match record, in table order within the match."""
    yield "matches", {k: v for k, v in record.items() if k != "seats"}
    for seat in record["seats"]:
        yield "seats", {k: v for k, v in seat.items() if k not in ("steps", "model_calls")}
        for step in seat["steps"]:
            yield "steps", step
        for call in seat["model_calls"]:
            yield "model_calls", call


# -- writers ------------------------------------------------------------------------------------------


_encode = json.JSONEncoder(separators=(",", ":")).encode  # ASCII-escaped: faster in the stdlib


def _dumps_bytes(value: Any) -> bytes:
    """Compact JSON, UTF-8 (orjson) or ASCII with escapes (the standard library, faster so)."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # e.g. an integer beyond 64 bits: the stdlib writes it
            pass
    return _encode(value).encode()


def _dumps(value: Any) -> str:
    return _dumps_bytes(value).decode() if orjson is not None else _encode(value)


class _Writer:
    files: tuple[str, ...] = ()

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counts = dict.fromkeys(TABLES, 0)

    def write(self, records: list[dict]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class JsonlWriter(_Writer):
    files = ("matches.jsonl",)

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self._file = open(directory / "matches.jsonl", "wb")  # noqa: SIM115

    def write(self, records: list[dict]) -> None:
        counts = self.counts
        for record in records:
            counts["matches"] += 1
            for seat in record["seats"]:
                counts["seats"] += 1
                counts["steps"] += len(seat["steps"])
                counts["model_calls"] += len(seat["model_calls"])
        self._file.write(b"".join(_dumps_bytes(record) + b"\n" for record in records))

    def close(self) -> None:
        self._file.close()


def _csv_cell(kind: str) -> Callable[[Any], Any]:
    if kind == "json":
        return lambda v: "" if v is None else _dumps(v)
    if kind == "bool":
        return lambda v: "" if v is None else ("true" if v else "false")
    if kind == "float":
        return lambda v: "" if v is None else repr(float(v))
    return lambda v: "" if v is None else v


class CsvWriter(_Writer):
    files = tuple(f"{t}.csv" for t in TABLES)

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self._handles = {t: open(directory / f"{t}.csv", "w", encoding="utf-8", newline="") for t in TABLES}  # noqa: SIM115
        self._writers = {t: csv.writer(h) for t, h in self._handles.items()}
        self._cells = {t: [(f.name, _csv_cell(f.type)) for f in SCHEMA[t]] for t in TABLES}
        for table, writer in self._writers.items():
            writer.writerow(FIELD_NAMES[table])

    def write(self, records: list[dict]) -> None:
        rows: dict[str, list[list[Any]]] = {t: [] for t in TABLES}
        for record in records:
            for table, row in flatten(record):
                rows[table].append([cell(row[name]) for name, cell in self._cells[table]])
        for table, table_rows in rows.items():
            self._writers[table].writerows(table_rows)
            self.counts[table] += len(table_rows)

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()


# Rows per Parquet row group: small for model calls (whole conversations), large for steps.
ROW_GROUP_ROWS = {"matches": 50_000, "seats": 50_000, "steps": 100_000, "model_calls": 5_000}


def arrow_schema(table: str) -> Any:
    import pyarrow as pa

    types = {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "json": pa.string(),
    }
    return pa.schema(
        [
            pa.field(
                f.name, types[f.type], nullable=True, metadata={"description": f.description, "type": f.type}
            )
            for f in SCHEMA[table]
        ],  # fmt: skip
        metadata={"schema_version": str(SCHEMA_VERSION), "table": table},
    )


class ParquetWriter(_Writer):
    """Each chunk's rows become Arrow record batches at once (compact next to Python objects);
    a table's batches are written as one row group once they reach ``ROW_GROUP_ROWS``."""

    files = tuple(f"{t}.parquet" for t in TABLES)

    def __init__(self, directory: Path, row_group_rows: Mapping[str, int] | None = None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(directory)
        # Arrow's default allocator (mimalloc or jemalloc) keeps freed memory for reuse, so the
        # peak of a long export crept up with its length; the system allocator returns it.
        self._previous_pool = pa.default_memory_pool()
        pa.set_memory_pool(pa.system_memory_pool())
        self._schemas = {t: arrow_schema(t) for t in TABLES}
        self._writers = {t: pq.ParquetWriter(directory / f"{t}.parquet", self._schemas[t]) for t in TABLES}
        self._row_group_rows = {**ROW_GROUP_ROWS, **(row_group_rows or {})}
        self._types = {t: [(f.name, f.type) for f in SCHEMA[t]] for t in TABLES}
        self._pending: dict[str, list] = {t: [] for t in TABLES}
        self._pending_rows = dict.fromkeys(TABLES, 0)

    def write(self, records: list[dict]) -> None:
        import pyarrow as pa

        rows: dict[str, list[dict]] = {t: [] for t in TABLES}
        for record in records:
            for table, row in flatten(record):
                rows[table].append(row)
        for table, table_rows in rows.items():
            if not table_rows:
                continue
            arrays = []
            for (name, kind), field in zip(self._types[table], self._schemas[table]):
                column = [row[name] for row in table_rows]
                if kind == "json":
                    column = [None if v is None else _dumps(v) for v in column]
                if kind == "timestamp":  # ISO 8601 text in the records; Arrow parses it in C
                    arrays.append(pa.array(column, pa.string()).cast(field.type))
                else:
                    arrays.append(pa.array(column, field.type))
            self._pending[table].append(pa.RecordBatch.from_arrays(arrays, schema=self._schemas[table]))
            self._pending_rows[table] += len(table_rows)
            if self._pending_rows[table] >= self._row_group_rows[table]:
                self._flush(table)

    def _flush(self, table: str) -> None:
        import pyarrow as pa

        rows = self._pending_rows[table]
        if not rows:
            return
        data = pa.Table.from_batches(self._pending[table], schema=self._schemas[table])
        self._writers[table].write_table(data, row_group_size=rows)
        self.counts[table] += rows
        self._pending[table], self._pending_rows[table] = [], 0

    def close(self) -> None:
        import pyarrow as pa

        try:
            for table in TABLES:
                self._flush(table)
                self._writers[table].close()
        finally:
            pa.set_memory_pool(self._previous_pool)


WRITERS: dict[str, type[_Writer]] = {"jsonl": JsonlWriter, "csv": CsvWriter, "parquet": ParquetWriter}


# -- the export ---------------------------------------------------------------------------------------

Progress = Callable[[int, int, Mapping[str, int]], None]  # (matches done, matches total, row counts)


def export_directory(
    out: Path,
    *,
    fmt: str,
    filters: ExportFilters | None = None,
    analytics: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write an export into the directory ``out`` (created; must be empty if it exists) and
    return its manifest."""
    if fmt not in WRITERS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    filters = filters or ExportFilters()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not an empty directory; choose a new path")
    out.mkdir(parents=True, exist_ok=True)
    created_at = timezone.now()
    matches = matches_for(filters)
    total = matches.count() if progress else 0
    builder = RecordBuilder(analytics=analytics)
    writer = WRITERS[fmt](out)
    done = 0
    try:
        with _rare_collections():
            for records in builder.records(matches, chunk_size=chunk_size):
                writer.write(records)
                done += len(records)
                if progress:
                    progress(done, total, writer.counts)
    finally:
        writer.close()
    versions = {family: sorted(v) for family, v in sorted(builder.generator_versions.items())}
    ratings = ratings_record(pseudonyms=builder.pseudonyms)
    extra_files = []
    if ratings is not None:
        (out / RATINGS_FILE).write_text(json.dumps(ratings, indent=1) + "\n", encoding="utf-8")
        extra_files.append(RATINGS_FILE)
    (out / "SCHEMA.md").write_text(
        dataset_card(fmt=fmt, filters=filters, analytics=analytics, versions=versions, created_at=created_at),
        encoding="utf-8",
    )
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "format": fmt,
        "created_at": created_at.isoformat(),
        "filters": filters.as_dict(),
        "analytics": analytics,
        "hidden_rules": "included for matches that are over (finished or aborted); empty for the others",
        "generator_versions": versions,
        "counts": dict(writer.counts),
        "ratings": {k: ratings[k] for k in ("model_version", "computed_at")} if ratings else None,
        "files": {name: _file_digest(out / name) for name in (*writer.files, *extra_files, "SCHEMA.md")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """An export allocates millions of short-lived objects that reference counting frees (no
    cycles); at the default thresholds the cyclic collector rescans the live ones every 700
    allocations, a third of the export's time. Collect rarely while exporting."""
    old = gc.get_threshold()
    gc.set_threshold(200_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def export_zip(
    dest: BinaryIO,
    *,
    fmt: str,
    filters: ExportFilters | None = None,
    analytics: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write an export as a zip into the open binary file ``dest``, through a temporary
    directory (so memory stays bounded), and return the manifest."""
    with tempfile.TemporaryDirectory(prefix="arena-export-") as tmp:
        folder = Path(tmp) / "export"
        manifest = export_directory(
            folder, fmt=fmt, filters=filters, analytics=analytics, chunk_size=chunk_size, progress=progress
        )
        top = zip_folder_name(fmt, manifest["created_at"])
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                stored = path.suffix == ".parquet"  # already compressed
                archive.write(
                    path,
                    f"{top}/{path.name}",
                    compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                )
    return manifest


def zip_folder_name(fmt: str, created_at: str) -> str:
    stamp = created_at[:19].replace(":", "").replace("-", "")
    return f"arena-export-{fmt}-{stamp}"


def _file_digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


# -- the dataset card ---------------------------------------------------------------------------------

_FILES = {
    "jsonl": "`matches.jsonl`: one JSON object per line, one line per match, with the match's fields, "
    "and `seats`: a list of seat objects, each with the seat's fields, `steps` (a list of step "
    "objects) and `model_calls` (a list of model-call objects).",
    "csv": "`matches.csv`, `seats.csv`, `steps.csv`, `model_calls.csv`: one table each, with a header "
    "row, joinable by id (`match_id`, `seat_id`, `step_id`). An empty cell is a missing value; "
    "booleans are `true` / `false`.",
    "parquet": "`matches.parquet`, `seats.parquet`, `steps.parquet`, `model_calls.parquet`: the same "
    "tables as the CSV export, typed, written in row groups; each column carries its description "
    "and schema type in its field metadata.",
}


def dataset_card(
    *,
    fmt: str,
    filters: ExportFilters,
    analytics: bool,
    versions: Mapping[str, list[int]],
    created_at: dt.datetime,
) -> str:
    current = {f.id: f.version for f in all_families()}
    lines = [
        "# Induction Arena game logs",
        "",
        f"Schema version {SCHEMA_VERSION}, format `{fmt}`, created {created_at.isoformat()}.",
        "",
        "People and AI models play the same induction puzzles: find a hidden rule by running experiments "
        "(tests), then state the rule (a guess), judged by equivalence with the hidden rule. Every step "
        "of every seat is here, with server timestamps, client think time, the engine's per-step "
        "hypothesis-space analytics and every call made to a model.",
        "",
        "## Files",
        "",
        f"- {_FILES[fmt]}",
        "- `SCHEMA.md`: this card.",
        f"- `{RATINGS_FILE}` (when ratings have been fitted): the latest fitted abilities of every player "
        "(by the same pseudonym as in the seats), with 90 % bootstrap intervals, the pooled 'all people' "
        "entry, variant and instance difficulties, head-to-head strengths and the human-model gap per "
        "family and tier, with the model's version and fit date. Over every finished, ranked match at "
        "the fit date, whatever the filters of this export.",
        "- `manifest.json`: row counts per table, SHA-256 and size of every file, the filters used, the "
        "schema version and the creation time.",
        "",
        "## Filters used",
        "",
        *(f"- `{k}`: {v if v not in (None, '') else '(any)'}" for k, v in filters.as_dict().items()),
        "",
        *study_card(filters.study),
        "## Generator versions",
        "",
        "A puzzle instance is reproducible from (family, generator version, seed, params): "
        "`get_family(family).generate(seed, params)` in `games.engine` rebuilds it, and `answer` / "
        "`judge` replay every test and guess.",
        "",
    ]
    if versions:
        for family, family_versions in versions.items():
            now = current.get(family)
            lines.append(
                f"- `{family}`: generator version(s) {', '.join(map(str, family_versions))} in this export"
                + (f"; the engine's current version is {now}" if now is not None else "")
            )
    else:
        lines.append("- (no matches in this export)")
    lines += [
        "",
        "## Privacy and pseudonymisation",
        "",
        "- People appear only as `player` = `h_` + the first 20 hex digits of HMAC-SHA256(key, "
        "`user:<account id>`) for logged-in players, or of `session:<browser session key>` for "
        "anonymous ones. The key is the site's secret (`ARENA_EXPORT_PSEUDONYM_KEY`, by default derived "
        "from the site's SECRET_KEY), so the same person has the same pseudonym across this site's "
        "exports, and it cannot be reversed or recomputed without the secret. Anonymous players who "
        "clear their cookies get a new pseudonym.",
        "- Study participants appear as `p_` + the first 20 hex digits of HMAC-SHA256(study key, "
        "`study:<study id>:pid:<panel ID>`) in both `player` and `participant`: the raw panel ID "
        "(e.g. a Prolific ID) is never stored or exported. Whoever holds the site's study key "
        "(`ARENA_STUDY_ID_KEY`, by default derived from SECRET_KEY) can hash a given ID to find that "
        "participant's rows (a withdrawal request); the hash cannot be turned back into the ID, and "
        "the same person gets unrelated hashes in two studies.",
        "- API agents appear as `a_` + a keyed hash of their token's id. Models appear by their public "
        "contestant slug.",
        "- Never exported: e-mail addresses, IP addresses, user names, the handles players chose or were "
        "given (a logged-in player's handle is the user name; an agent's is its token's name), account "
        "ids, session keys, API tokens and idempotency keys.",
        "- Free text that players typed (their guesses, forfeit reasons) is exported as typed.",
        "",
        "## Hidden rules",
        "",
        "The hidden rule (`matches.hidden`, `hidden_rule`, `hidden_size`, and so `seats.hidden_size` and "
        "`parsimony`) is included only for matches that are over (status finished or aborted), the moment "
        "the site reveals it to the players. Running and waiting matches are listed with progress only, "
        "as a spectator sees them: no `instance_id`, `seed`, `params`, `public` or hidden rule (the "
        "public engine rebuilds the rule from a seed), and each seat with its `status`, `tests_used` and "
        "times but no steps, guess, verdict, score or model calls; export again once they are over.",
        "",
        "## Analytics",
        "",
        (
            "Per-step analytics were computed with the engine (`family.step_analytics(public, history)` "
            "over the family's reference hypothesis space; the examples shown with the puzzle are "
            "applied first and are not steps)."
            if analytics
            else "This export was made without the engine's per-step analytics: those columns are empty."
        ),
        "",
        "The reference space of each family, and whether its figures are enumerated (every hypothesis "
        "listed), counted (exactly, in closed form) or estimated (from a listed part of a space too large "
        "to list):",
        "",
        *(
            f"- `{f.id}`: {f.reference_space.method}. {f.reference_space.description}"
            for f in all_families()
            if f.reference_space is not None
        ),
        "",
        "## Stated hypotheses and positive-test bias",
        "",
        "A variant may ask players (people, models and agents alike) to state their current hypothesis "
        "before each test (`matches.hypothesis_mode`: `optional`, `required`, or `required_parseable`, "
        "where a rule that does not parse is refused; `off`: not asked). It is written in the family's "
        "rule language or as free text (`matches.hypothesis_format`). `steps.hypothesis` is the text as "
        "typed; a rule-language hypothesis that does not parse is kept, with `hypothesis_parsed` false. "
        'Models were asked in their prompt and answered with `"hypothesis"` next to the test.',
        "",
        "For each test with a parsed rule-language hypothesis of a match that is over, by the family's own "
        "semantics (`guess_answer` and the judge): `positive_test` (the hypothesis said the input fits: "
        "Klayman and Ha's positive test; **only for families whose answers are yes/no**, such as `wason`, "
        "`eleusis` and `tuples`; empty for families whose answers are strings, numbers or lists, where no "
        "answer means 'fits'), `hypothesis_confirmed` (the answer was the one the hypothesis predicted; "
        "every family), `hypothesis_already_refuted` (an earlier answer of the same seat, or an example "
        "shown with the puzzle, contradicted it: persistence) and `hypothesis_equivalent` (the judge "
        "finds it equivalent to the hidden rule). Per seat: `positive_share` = positive / (positive + "
        "negative) tests, `refuted_kept`, and `first_equivalent_test`. Free-text hypotheses are exported "
        "but not measured.",
        "",
        "## Licence and ethics",
        "",
        "Released for research on human and machine inductive reasoning. Do not try to re-identify "
        "players, link pseudonyms with other data about people, or publish free text that could identify "
        "someone. Cite the Induction Arena when you use the data. Players agreed to their games being "
        "logged for research when they played; models' outputs are subject to their providers' terms.",
        "",
        "## Types",
        "",
        *(f"- `{name}`: {note}" for name, note in TYPE_NOTES.items()),
        "",
        "## Fields",
        "",
    ]
    for table, fields in SCHEMA.items():
        lines += [f"### {table}", "", "| field | type | description |", "|---|---|---|"]
        lines += [f"| `{f.name}` | {f.type} | {f.description} |" for f in fields]
        lines.append("")
    return "\n".join(lines)


def study_card(slug: str | None) -> list[str]:
    """The dataset card's section on the study an export is filtered by: its design as the
    researcher set it, and how each participant's order was drawn."""
    if not slug:
        return []
    from games.research import studies

    study = Study.objects.filter(slug=slug).first()
    if study is None:
        return []
    design = studies.study_design(study=study)
    checks = [
        f"after puzzle {c['after']}: {c['question']!r} (expected answer {c['answer']!r})"
        for c in design["attention_checks"]
    ]
    progress = studies.study_progress(study=study)
    lines = [
        f"## Study design: {design['title']}",
        "",
        f"- slug: `{design['slug']}`; status: {design['status']}; created {design['created']}"
        + (f"; closed {design['closed_at']}" if design["closed_at"] else ""),
        f"- puzzles (variant slugs, in the listed order): {', '.join(design['puzzles'])}",
        f"- order: `{design['order']}`: {design['order_note']}. Each participant's drawn order is "
        "`matches.study_position` (their sequence, attention checks included, counted from 0).",
        f"- attention checks: {'; '.join(checks) if checks else 'none'}",
        f"- time limit per puzzle: {design['time_limit_s'] or 'none'} s; tests per puzzle: "
        f"{design['max_tests'] or 'the variant default'}",
        f"- stated hypotheses before each test: `{design['hypotheses']}`",
        "- instances: "
        + ("the same for every participant" if design["same_instances"] else "a fresh seed per participant"),
        f"- participants arrive with the URL parameters {', '.join(design['id_parameters'])} (stored only "
        "as keyed hashes); each puzzle is a solo, unranked match (off the leaderboard)",
        f"- at the end: {design['completion']} (not included here)",
        f"- a participant counts as dropped when not done {design['max_duration_min']} minutes after consenting",
        f"- progress at export time: {progress['joined']} joined, {progress['completed']} completed, "
        f"{progress['dropped']} dropped; attention checks failed {progress['checks_failed']} of "
        f"{progress['checks_answered']}",
        "",
        "Consent text shown to participants:",
        "",
        *(f"> {line}" if line else ">" for line in design["consent_text"].splitlines()),
        "",
    ]
    return lines


# -- ratings --------------------------------------------------------------------------------------

RATINGS_FILE = "ratings.json"


def ratings_record(*, pseudonyms: Pseudonyms | None = None) -> dict[str, Any] | None:
    """The latest overall ratings snapshot (games/competition/rating_snapshots.py) with each player
    under their export pseudonym, so abilities join the seats; no names, no rating keys."""
    snap = RatingSnapshot.objects.filter(scope="all", period="all").order_by("-computed_at", "-id").first()
    if snap is None:
        return None
    pseudonyms = pseudonyms or Pseudonyms()
    alias: dict[str, str] = {}
    seats = Seat.objects.filter(match__status=Match.Status.FINISHED, match__ranked=True).values_list(
        "kind", "user_id", "session_key", "agent_token_id", "contestant", "id", "handle"
    )
    for kind, user_id, session_key, token_id, contestant, seat_id, handle in seats.iterator(chunk_size=5000):
        key = selectors.player_key(
            kind=kind,
            user_id=user_id,
            session_key=session_key,
            token_id=token_id,
            contestant=contestant,
            handle=handle,
        )
        if key in alias:
            continue
        alias[key] = pseudonyms.player(
            kind=kind,
            user_id=user_id,
            session_key=session_key,
            token_id=token_id,
            contestant=contestant,
            seat_id=seat_id,
        )
    payload = snap.payload

    def player(entry: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in entry.items() if k not in ("key", "name", "last_played")}
        return {"player": alias.get(entry["key"], "unknown"), **out}

    return {
        "model_version": snap.model_version,
        "computed_at": snap.computed_at.isoformat(),
        "data_until": _iso(snap.data_until),
        "scope": "every finished, ranked match",
        "level": payload.get("level"),
        "bootstrap_rounds": payload.get("rounds"),
        "min_matches": payload.get("min_matches"),
        "players": [player(p) for p in payload.get("players", [])],
        "people": {k: v for k, v in (payload.get("people") or {}).items() if k not in ("key", "name")}
        or None,
        "variants": payload.get("variants", []),
        "instances": payload.get("instances", []),
        "head_to_head": [player(p) for p in payload.get("head_to_head", [])],
        "gap": [{k: v for k, v in g.items() if k != "name"} for g in payload.get("gap", [])],
    }

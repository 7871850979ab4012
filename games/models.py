"""Tables. The Step log is append-only; everything else about a match is derived from it
or updated in the same transaction that appends to it (see services.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q

from games import model_options

# Free text people type (admin forms, the API) has a bound; CharFields carry theirs, and
# TextFields get a validator too, because the database enforces neither on SQLite.
TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 4_000


class HypothesisMode(models.TextChoices):
    """Whether a player states their current hypothesis before each test (a variant's setting,
    copied onto each of its matches when the match is made)."""

    OFF = "off", "not asked"
    OPTIONAL = "optional", "asked; the player may skip it"
    # Required: a hypothesis with every test; in the rule language one that does not parse is
    # still accepted (stored and flagged unparseable).
    REQUIRED = "required", "required with every test"
    # Required and, in the rule language, refused with the parser's message until it parses.
    REQUIRED_PARSEABLE = "required_parseable", "required, and must parse as a rule"


class HypothesisFormat(models.TextChoices):
    RULE = "rule", "a rule in the puzzle's own language (measured: positive tests, persistence)"
    TEXT = "text", "free text (stored and exported, not measured)"


HYPOTHESIS_MAX_LENGTH = 1000


class PuzzleVariant(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    family = models.CharField(max_length=40)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(
        blank=True, max_length=DESCRIPTION_MAX_LENGTH, validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)]
    )
    params = models.JSONField(default=dict, blank=True)
    published = models.BooleanField(default=False)
    # Retired: no longer offered, kept because matches refer to it (a variant with matches is
    # never deleted: their replays and exports need it).
    retired = models.BooleanField(default=False)
    # A list of hand-written hidden rules; a match draws one by its seed (rule_for_seed). Empty:
    # the family's params decide (a generated rule, or params["rule"]).
    rules = models.JSONField(
        default=list,
        blank=True,
        help_text="hand-written hidden rules, one per line; each match draws one by its seed",
    )
    # Why the variant last failed to generate a puzzle (set when a player hit it, cleared on a
    # successful save): flagged in the admin list.
    problem = models.CharField(max_length=500, blank=True)
    spectator_delay_s = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "While a match runs, spectators see each seat's tests once they are this many seconds old "
            "(never a guess, verdict or score). Empty: spectators see progress only (tests used, status)."
        ),
    )
    hypothesis_mode = models.CharField(
        max_length=20,
        choices=HypothesisMode.choices,
        default=HypothesisMode.OFF,
        help_text="ask players (people, models, agents) to state their current hypothesis before each test",
    )
    hypothesis_format = models.CharField(
        max_length=8,
        choices=HypothesisFormat.choices,
        default=HypothesisFormat.RULE,
        help_text="how a stated hypothesis is written",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family", "slug"]

    def __str__(self) -> str:
        return f"{self.title} ({self.family})"

    def params_for_seed(self, seed: int) -> dict:
        """The params a seed plays: with a rule set, the set's rule for this seed."""
        if not self.rules:
            return dict(self.params or {})
        return {**(self.params or {}), "rule": self.rules[seed % len(self.rules)]}


class PuzzleInstance(models.Model):
    # Deleting a variant drops its generated instances; a played one is kept by Match.instance
    # (PROTECT), so a variant that matches refer to cannot be deleted, only retired.
    variant = models.ForeignKey(PuzzleVariant, on_delete=models.CASCADE, related_name="instances")
    family = models.CharField(max_length=40)
    generator_version = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    params = models.JSONField(default=dict)
    public = models.JSONField(default=dict)
    hidden = models.JSONField(default=dict)  # server-side only until the match ends
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "seed", "generator_version"], name="instance_unique_variant_seed_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.variant.slug} seed={self.seed} v{self.generator_version}"


class Match(models.Model):
    class Mode(models.TextChoices):
        SOLO = "solo"
        RACE = "race"
        BENCHMARK = "benchmark"

    class Status(models.TextChoices):
        WAITING = "waiting"
        RUNNING = "running"
        FINISHED = "finished"
        ABORTED = "aborted"

    instance = models.ForeignKey(PuzzleInstance, on_delete=models.PROTECT, related_name="matches")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.SOLO)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    max_tests = models.PositiveIntegerField()
    time_limit_s = models.PositiveIntegerField(null=True, blank=True)
    # False when a player chose the seed: the engine is public, so a known seed could have told
    # them the rule. Unranked matches stay out of the leaderboard.
    ranked = models.BooleanField(default=True)
    # A staff playtest of an unpublished variant: unranked, only staff may play it, and left out
    # of research exports unless they ask for playtests.
    playtest = models.BooleanField(default=False)
    # The variant's hypothesis settings when the match was made (a later edit of the variant does
    # not change a match in play or its replay).
    hypothesis_mode = models.CharField(
        max_length=20, choices=HypothesisMode.choices, default=HypothesisMode.OFF
    )
    hypothesis_format = models.CharField(
        max_length=8, choices=HypothesisFormat.choices, default=HypothesisFormat.RULE
    )
    # The day (UTC) whose daily puzzle this match plays (games/play/daily.py); None for any other.
    daily = models.DateField(null=True, blank=True, db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # Last event number published for this match; bumped inside each write transaction.
    event_seq = models.PositiveIntegerField(default=0)
    # Who asked for the match, for the per-creator caps (games/play/limits.py): an account, a guest's
    # session or an agent token, and a keyed hash of the client address (never the address).
    # Empty for matches the arena makes itself (tournaments, the bench command).
    creator_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    creator_session_key = models.CharField(max_length=64, blank=True)
    creator_token = models.ForeignKey(
        "AgentToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    creator_address = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "matches"
        constraints = [
            models.CheckConstraint(condition=Q(max_tests__gte=0), name="match_max_tests_nonnegative"),
        ]
        indexes = [
            # The caps count a creator's matches of the last hour. Not partial indexes: SQLite
            # uses one only when the query repeats its condition with literal values.
            models.Index(fields=["creator_session_key", "created"], name="match_creator_session_created"),
            models.Index(fields=["creator_address", "created"], name="match_creator_address_created"),
            # Are the ratings stale? The latest end of a match, asked by the sweep every few seconds.
            models.Index(fields=["finished"], name="match_finished"),
        ]

    def __str__(self) -> str:
        return f"match {self.pk} ({self.status})"

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.ABORTED)


class Seat(models.Model):
    class Kind(models.TextChoices):
        HUMAN = "human"
        MODEL = "model"
        AGENT = "agent"

    class Status(models.TextChoices):
        PLAYING = "playing"
        FINISHED = "finished"  # made a guess
        TIMED_OUT = "timed_out"
        FORFEITED = "forfeited"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="seats")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HUMAN)
    handle = models.CharField(max_length=60)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    contestant = models.SlugField(max_length=80, blank=True)
    # The API token that owns an agent seat. A field of its own rather than a marker in
    # session_key: a browser controls its session cookie, so it must never name an agent seat.
    agent_token = models.ForeignKey(
        "AgentToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="seats"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLAYING)
    outcome = models.JSONField(null=True, blank=True)
    score = models.JSONField(null=True, blank=True)
    tests_used = models.PositiveIntegerField(default=0)
    joined = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    # A model seat's turns: the worker that last received a turn task for it (WorkerBeat.worker_id),
    # and when the sweep last queued a turn because that worker had died or the seat had stalled.
    turn_worker = models.CharField(max_length=120, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["match_id", "id"]
        indexes = [
            # A contestant's busy count (games/play/limits.py) runs before every race it joins.
            models.Index(
                fields=["contestant"],
                condition=Q(kind="model", status="playing"),
                name="seat_model_playing_contestant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} in match {self.match_id}"

    @property
    def is_done(self) -> bool:
        return self.status != self.Status.PLAYING


class Step(models.Model):
    class Kind(models.TextChoices):
        TEST = "test"
        GUESS = "guess"
        NOTE = "note"
        TIMEOUT = "timeout"
        FORFEIT = "forfeit"

    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    client_think_ms = models.PositiveIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    # The hypothesis the player stated before this test, when the match asks for one:
    # {"text", "format": "rule" | "text", "parsed": bool (rule format), "canonical" | "error"}.
    # None: none was stated (not asked, or skipped).
    hypothesis = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["seat_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["seat", "seq"], name="step_unique_seat_seq"),
            models.UniqueConstraint(
                fields=["seat", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="step_unique_seat_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="step_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"step {self.seq} ({self.kind}) of seat {self.seat_id}"


class ModelContestant(models.Model):
    """A model player: an endpoint and model, or an engine baseline solver.

    ``api_key_env`` holds the *name* of an environment variable; the key itself
    is never stored, logged or shown."""

    class Backend(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible chat completions"
        ANTHROPIC = "anthropic", "Anthropic Messages"
        BUILTIN = "builtin", "Built-in engine solver"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    backend = models.CharField(max_length=16, choices=Backend.choices)
    base_url = models.URLField(max_length=300, blank=True, help_text="empty = the provider's default")
    model = models.CharField(max_length=200, help_text="model name, or the solver name for builtin")
    api_key_env = models.CharField(
        max_length=100, blank=True, help_text="NAME of the environment variable holding the API key"
    )
    sampling = models.JSONField(default=dict, blank=True, help_text='e.g. {"temperature": 0.2}')
    prompt_version = models.PositiveIntegerField(
        default=1, help_text="1 = full instructions; 2 = compact, for small models (games/model_options.py)"
    )
    reply_mode = models.CharField(
        max_length=16,
        default="text",
        help_text="text = free text, parsed; json_schema / json_object / tool = a reply constrained to "
        "the family's action schema (OpenAI response_format / llama.cpp / Anthropic tool use)",
    )
    request_options = models.JSONField(
        default=dict,
        blank=True,
        help_text='extra request body keys sent as they are, e.g. {"max_tokens": 128, "top_k": 40, '
        '"min_p": 0.05, "repeat_penalty": 1.1}; unknown keys are refused',
    )
    max_calls = models.PositiveIntegerField(
        default=100, help_text="per match, re-prompts and retries included"
    )
    max_tokens = models.PositiveIntegerField(default=200_000, help_text="per match, in + out; 0 = no limit")
    max_cost_usd = models.FloatField(default=5.0, help_text="per match; 0 = no limit")
    max_tokens_per_call = models.PositiveIntegerField(default=2048)
    http_timeout_s = models.FloatField(default=60.0)
    price_in_per_mtok = models.FloatField(default=0.0)
    price_out_per_mtok = models.FloatField(default=0.0)
    max_concurrent_matches = models.PositiveIntegerField(default=4)
    enabled = models.BooleanField(default=True)
    plays_daily = models.BooleanField(
        default=False,
        help_text="plays each day's daily puzzle (built-in solvers always do); a paid model costs a match a day per puzzle",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(backend__in=["openai", "anthropic", "builtin"]), name="contestant_backend_known"
            ),
            models.CheckConstraint(condition=Q(http_timeout_s__gt=0), name="contestant_timeout_positive"),
            models.CheckConstraint(condition=Q(max_cost_usd__gte=0), name="contestant_cost_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.backend}:{self.model})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every path that saves a contestant (the admin, the shell, ``up --local-model``) is
        # checked: an option the endpoint would never receive is refused, never dropped.
        if problems := self.option_problems():
            raise ValidationError(problems)
        super().save(*args, **kwargs)

    def option_problems(self) -> dict[str, list[str]]:
        """Field -> what is wrong with the request settings (reply mode, options, prompt version)."""
        out: dict[str, list[str]] = {}
        if problems := model_options.request_option_problems(self.backend, self.request_options):
            out["request_options"] = problems
        if problem := model_options.reply_mode_problem(self.backend, self.reply_mode):
            out["reply_mode"] = [problem]
        if problem := model_options.prompt_version_problem(self.prompt_version):
            out["prompt_version"] = [problem]
        return out

    def clean(self) -> None:
        super().clean()
        if problems := self.option_problems():
            raise ValidationError(problems)


class ModelCall(models.Model):
    """Every call to a model, failed ones too, in the order they were made."""

    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="model_calls")
    contestant = models.ForeignKey(
        ModelContestant, null=True, on_delete=models.SET_NULL, related_name="calls"
    )
    turn = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=1)
    purpose = models.CharField(max_length=16, default="turn")  # turn | reprompt
    messages = models.JSONField(default=list)
    raw_response = models.TextField(blank=True)
    reasoning = models.TextField(blank=True)
    parsed_action = models.JSONField(null=True, blank=True)
    parse_error = models.TextField(blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(default=0.0)
    cost_usd = models.FloatField(default=0.0)
    finish_reason = models.CharField(max_length=40, blank=True)
    # How the reply was asked for (games.model_options.REPLY_MODES): free text or structured.
    reply_mode = models.CharField(max_length=16, blank=True)
    error_class = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # The worker process that made the call (WorkerBeat.worker_id; empty when run outside a
    # worker): an "in_flight" call whose worker is dead was cut short and nobody owns its turn.
    worker = models.CharField(max_length=120, blank=True)
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_calls"
    )
    # The version of workers.parsing that read parsed_action / parse_error from raw_response
    # (calls logged before versions were recorded are version 1). ``manage.py rescore`` re-reads
    # stored replies with the current parser and reports what would change.
    parser_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seat_id", "id"]
        indexes = [
            models.Index(fields=["seat", "turn"], name="modelcall_seat_turn"),
            # The sweep looks for calls in flight every few seconds; they are a handful among many.
            models.Index(fields=["worker"], condition=Q(error_class="in_flight"), name="modelcall_in_flight"),
        ]

    def __str__(self) -> str:
        return f"call seat={self.seat_id} turn={self.turn} attempt={self.attempt} {self.error_class or 'ok'}"


class RuleChallenge(models.Model):
    """A hidden rule a signed-in player wrote for a variant, for others (people and models) to find
    (``games.competition.challenges``). It is played as its own unpublished variant (``puzzle``:
    the base variant's params with this rule), seed 0, unranked (its author knows the rule)."""

    class Status(models.TextChoices):
        CHECKING = "checking"  # the built-in solvers' trial is queued or running (a Celery task)
        PUBLISHED = "published"
        REFUSED = "refused"  # too easy, or equivalent to one published while it was checked
        REMOVED = "removed"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rule_challenges"
    )
    base = models.ForeignKey(PuzzleVariant, on_delete=models.PROTECT, related_name="rule_challenges")
    puzzle = models.OneToOneField(
        PuzzleVariant, on_delete=models.PROTECT, related_name="as_rule_challenge", null=True, blank=True
    )
    rule = models.CharField(max_length=1000)  # the family's canonical text of the rule
    params = models.JSONField(default=dict)  # the base variant's params with the rule, validated
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CHECKING)
    refusal = models.CharField(max_length=500, blank=True)
    # The built-in solvers' trial before publication: {solver: {"solved", "tests"}}.
    trial = models.JSONField(default=dict, blank=True)
    removed_reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["author", "created"], name="rulechallenge_author_created")]

    def __str__(self) -> str:
        return f"{self.title} (by {self.author_id}, {self.status})"


class ModelCallReparse(models.Model):
    """A stored reply read again by a newer parser (``manage.py rescore --write``): both readings,
    side by side. The call's own ``parsed_action`` and the step it produced stay as they were when
    the match was played (the log is the record; a finished match replays from it)."""

    call = models.ForeignKey(ModelCall, on_delete=models.CASCADE, related_name="reparses")
    old_parser_version = models.PositiveIntegerField()
    new_parser_version = models.PositiveIntegerField()
    old_parsed_action = models.JSONField(null=True, blank=True)
    old_parse_error = models.TextField(blank=True)
    new_parsed_action = models.JSONField(null=True, blank=True)
    new_parse_error = models.TextField(blank=True)
    # what changed: action (a different move), now_parses, now_fails, hypothesis (the same move,
    # another stated hypothesis)
    change = models.CharField(max_length=16)
    # The call produced a step of a match that is over: its outcome would have differed.
    in_finished_match = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call_id", "new_parser_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "new_parser_version"], name="reparse_unique_call_version"
            ),
        ]

    def __str__(self) -> str:
        return f"call {self.call_id} re-read by parser v{self.new_parser_version}: {self.change}"


class AgentToken(models.Model):
    """An API token for external agents and scripts. Only a SHA-256 of the token is stored."""

    name = models.CharField(max_length=80, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    can_read_research = models.BooleanField(default=False, help_text="may read all matches and exports")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Tournament(models.Model):
    """Model contestants race each other on every (variant, seed) of a schedule: one race per
    round, all contestants on the same instance. Started at ``starts_at`` (or at once) and run by
    a self-rescheduling Celery task, a few rounds at a time."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        RUNNING = "running"
        FINISHED = "finished"
        CANCELLED = "cancelled"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(
        blank=True, max_length=DESCRIPTION_MAX_LENGTH, validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)]
    )
    variants = models.ManyToManyField(PuzzleVariant, related_name="tournaments")
    contestants = models.ManyToManyField(ModelContestant, related_name="tournaments")
    seeds = models.CharField(max_length=200, help_text="e.g. 0-9 or 1,5,7: one round per variant and seed")
    concurrency = models.PositiveSmallIntegerField(default=2, help_text="rounds running at once")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="empty: as soon as it is saved")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    published = models.BooleanField(default=True, help_text="listed on the site")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # The tick task that is due next; an earlier or duplicate tick finds it in the future and stops,
    # so there is only ever one chain of ticks per tournament.
    next_tick_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="why it is waiting, if it is")

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(condition=Q(concurrency__gte=1), name="tournament_concurrency_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.CANCELLED)


class TournamentRound(models.Model):
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="rounds")
    variant = models.ForeignKey(PuzzleVariant, on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField()
    match = models.OneToOneField(
        Match, null=True, blank=True, on_delete=models.SET_NULL, related_name="tournament_round"
    )
    error = models.CharField(max_length=300, blank=True, help_text="why this round could not start")

    class Meta:
        ordering = ["tournament_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tournament", "variant", "seed"], name="round_unique_per_tournament"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tournament.slug}: {self.variant.slug} seed={self.seed}"


class WorkerBeat(models.Model):
    """A Celery worker process that is (or was) running model turns, and the last time it said
    so. A worker whose beat is older than a few heartbeats (or, on this host, whose process is
    gone) is dead: its in-flight calls are closed as interrupted and their seats played again."""

    worker_id = models.CharField(max_length=120, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} (last beat {self.beat_at:%H:%M:%S})"


class Sweep(models.Model):
    """The one row that keeps the periodic sweep (lost model turns, abandoned matches) a single
    chain of tasks: the sweep due next; an earlier or duplicate one finds it in the future and
    stops, as tournament ticks do."""

    next_at = models.DateTimeField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"sweep (next {self.next_at})"


class RatingSnapshot(models.Model):
    """Fitted ratings (games/competition/ratings.py) for one scope and period, as computed by the
    ratings task, never in a request: abilities with intervals, difficulties, head-to-head
    strengths and the human-model gap, in ``payload``. Scopes: ``all``, ``family:<id>``,
    ``variant:<slug>``; periods: ``all``, ``30d``, ``7d``. The ``all``/``all`` snapshots are kept
    as a history (a player's ability over time); other scopes keep their latest few."""

    scope = models.CharField(max_length=120)
    period = models.CharField(max_length=8, default="all")
    model_version = models.CharField(max_length=40)
    computed_at = models.DateTimeField()
    # The latest end of a match the fit includes: a ranked match that ended later makes it stale.
    data_until = models.DateTimeField(null=True, blank=True)
    seats = models.PositiveIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [
            models.Index(fields=["scope", "period", "-computed_at"], name="ratingsnapshot_scope_latest"),
        ]

    def __str__(self) -> str:
        return f"ratings {self.scope}/{self.period} at {self.computed_at:%Y-%m-%d %H:%M}"


class RatingsRun(models.Model):
    """The one row that keeps ratings computations one at a time: when the running one started
    (empty when none runs) and when the last one finished."""

    running_since = models.DateTimeField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"ratings run (last {self.last_at})"


class Study(models.Model):
    """A human-subjects study: participants arrive from a recruiting panel with an ID in the URL,
    consent, play a sequence of published variants (each a solo, unranked match) with attention
    checks between them, and get a completion code or are sent back to a return URL. The design
    is kept with the study; each participant's own order is recorded on their row."""

    class Order(models.TextChoices):
        FIXED = "fixed", "as listed, for everyone"
        LATIN = "latin", "balanced Latin square (Williams design), a row per participant in join order"
        SHUFFLE = "shuffle", "shuffled per participant (seed recorded)"

    class Hypotheses(models.TextChoices):
        OFF = "off"
        OPTIONAL = "optional"
        REQUIRED = "required"

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    consent_text = models.TextField(max_length=20_000, validators=[MaxLengthValidator(20_000)])
    order = models.CharField(max_length=16, choices=Order.choices, default=Order.FIXED)
    # [{"after": n, "question": "...", "answer": "..."}]: shown after the participant's n-th puzzle
    # (0: before the first); an answer passes when it equals ``answer`` ignoring case and spacing.
    attention_checks = models.JSONField(default=list, blank=True)
    time_limit_s = models.PositiveIntegerField(null=True, blank=True, help_text="per puzzle; empty = none")
    max_tests = models.PositiveIntegerField(
        null=True, blank=True, help_text="per puzzle; empty = the variant's"
    )
    max_duration_min = models.PositiveIntegerField(
        default=60, help_text="a participant not done this long after consenting counts as dropped"
    )
    completion_code = models.CharField(max_length=100, blank=True)
    return_url = models.URLField(max_length=500, blank=True)
    pid_param = models.CharField(max_length=40, default="PROLIFIC_PID")
    study_param = models.CharField(max_length=40, default="STUDY_ID", blank=True)
    session_param = models.CharField(max_length=40, default="SESSION_ID", blank=True)
    # Whether players state a hypothesis before each test (used by play; stored and carried in
    # the dataset card here).
    hypotheses = models.CharField(max_length=16, choices=Hypotheses.choices, default=Hypotheses.OFF)
    # True: every participant plays the same instance of each puzzle (seeds from ``seed``);
    # False: a fresh secret seed per participant and puzzle.
    same_instances = models.BooleanField(default=False)
    seed = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(completion_code="") | ~Q(return_url=""), name="study_has_completion"
            ),
            models.CheckConstraint(condition=~Q(pid_param=""), name="study_pid_param_set"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class StudyPuzzle(models.Model):
    """One puzzle of a study's design, at its position in the listed order."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="puzzles")
    position = models.PositiveSmallIntegerField()
    variant = models.ForeignKey(PuzzleVariant, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["study_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "position"], name="studypuzzle_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug} #{self.position}: {self.variant.slug}"


class StudyParticipant(models.Model):
    """A participant who consented. Their panel IDs are kept only as keyed hashes (HMAC-SHA256
    with the site's study key, scoped to the study): never the raw ID. ``sequence`` is their
    items in order and ``counterbalance`` how that order was drawn; ``position`` is the next item."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    pid_hash = models.CharField(max_length=64)
    external_study_hash = models.CharField(max_length=64, blank=True)
    session_hash = models.CharField(max_length=64, blank=True)
    ordinal = models.PositiveIntegerField(help_text="0-based join order (the Latin square's row)")
    sequence = models.JSONField(default=list)
    counterbalance = models.JSONField(default=dict)
    position = models.PositiveSmallIntegerField(default=0)
    consented_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study_id", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["study", "pid_hash"], name="participant_unique_per_study"),
            models.UniqueConstraint(fields=["study", "ordinal"], name="participant_unique_ordinal"),
        ]

    def __str__(self) -> str:
        return f"participant {self.ordinal} of {self.study.slug}"


class StudyEntry(models.Model):
    """A participant's item once reached: a puzzle (its match) or an attention check (the answer)."""

    class Kind(models.TextChoices):
        PUZZLE = "puzzle"
        CHECK = "check"

    participant = models.ForeignKey(StudyParticipant, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    match = models.OneToOneField(
        Match, null=True, blank=True, on_delete=models.PROTECT, related_name="study_entry"
    )
    answer = models.CharField(max_length=500, blank=True)
    correct = models.BooleanField(null=True, blank=True)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant_id", "position"]
        verbose_name_plural = "study entries"
        constraints = [
            models.UniqueConstraint(fields=["participant", "position"], name="studyentry_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} item {self.position} ({self.kind})"


class PlayerProfile(models.Model):
    """What the site remembers about a signed-in player beyond the account itself (a guest's
    browser keeps the same in its session and local storage)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arena_profile"
    )
    # Finished or skipped the guided first puzzle: the home page no longer offers it first.
    guide_done_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"

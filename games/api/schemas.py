"""The API's request and response bodies as pydantic models: ninja validates requests with them
and generates the OpenAPI document (/api/openapi.json) from them.

Request bodies are strict (a JSON ``"5"`` is not a number, ``true`` is not 1) and refuse unknown
fields, as the hand-written checks did, and every failure keeps the message clients already get
(``Body.messages``). Response models allow extra keys: the document states what is always there,
and a reply never loses a field because the model did not name it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from games.engine.core import Family, VariantSpec, all_families
from games.play import inputs, services

MAX_OPPONENTS = 8
MAX_SEED = services.MAX_SEED


def explained(message: str) -> PydanticCustomError:
    """A validation error whose text is exactly ``message`` (the handler sends it as ``error``)."""
    return PydanticCustomError("arena", "{message}", {"message": message})


# -- requests ----------------------------------------------------------------------------------------


Message = str | Callable[[Any], str]


class Body(BaseModel):
    """A JSON object body. ``messages`` maps a field to what a client is told when it is missing
    or wrong (a string, or a function of the value sent); unknown fields are named together."""

    model_config = ConfigDict(strict=True, extra="forbid")
    messages: ClassVar[dict[str, Message]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _explain(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(data, dict):
            raise explained(f"the request body must be a JSON object, got {type(data).__name__}")
        try:
            return handler(data)
        except ValidationError as exc:
            raise explained(cls._message(exc, data)) from None

    @classmethod
    def _message(cls, exc: ValidationError, data: dict[str, Any]) -> str:
        errors = exc.errors()
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        if unknown:
            allowed = ", ".join(sorted(cls.model_fields))
            return f"unknown field(s) {', '.join(unknown)}; allowed: {allowed}"
        first = errors[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = cls.messages.get(field)
        if message is None:
            return f'"{field}": {first["msg"]}' if field else first["msg"]
        return message(data.get(field)) if callable(message) else message


class CreateMatchIn(Body):
    variant: str = Field(min_length=1, description="slug of a published variant (GET /api/v1/variants)")
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="a fixed seed: reproducible but unranked; leave it out for a ranked match",
    )
    opponents: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None, max_length=MAX_OPPONENTS, description="model contestants to race (slugs)"
    )

    messages: ClassVar[dict[str, Message]] = {
        "variant": '"variant" is required: the slug of a published variant (GET /api/v1/variants)',
        "seed": f'"seed" must be a whole number from 0 to {MAX_SEED}, or left out for a random one',
        "opponents": lambda value: (
            f"at most {MAX_OPPONENTS} opponents, got {len(value)}"
            if isinstance(value, list)
            and len(value) > MAX_OPPONENTS
            and all(isinstance(o, str) and o for o in value)
            else '"opponents" must be a list of contestant slugs (GET /api/v1/contestants)'
        ),
    }


class ActionIn(Body):
    """One move. Fields other than these are passed to the puzzle family as they are."""

    model_config = ConfigDict(strict=True, extra="allow")

    type: str | None = Field(default=None, description="test, guess or forfeit")
    input: Any = Field(
        default=None,
        description="test: the input, written as the family's input schema (presentation.input_schema) says",
    )
    rule: str | list[Any] | None = Field(
        default=None,
        description="guess: the rule in the family's rule language, or, where the puzzle asks for an answer "
        "(presentation.guess_schema, e.g. a grid as a list of rows), that answer",
    )
    hypothesis: str | None = Field(
        default=None,
        description="test: your current hypothesis, when the match asks for one (observation.hypothesis: "
        "its mode and whether it is a rule in the family's language or free text); at most 1,000 characters",
    )
    reason: Any = Field(default=None, description="forfeit: why (optional)")
    id: str | None = Field(
        default=None, description="the move's idempotency key (at most 100 characters), if no header"
    )
    think_ms: int | None = Field(default=None, description="your thinking time, for analysis")

    messages: ClassVar[dict[str, Message]] = {
        "type": lambda value: f"unknown action type {value!r}; allowed: test, guess, forfeit",
        "rule": 'a guess needs a "rule": a non-empty string, or the answer presentation.guess_schema describes',
        "hypothesis": '"hypothesis" must be text (your current idea of the rule), or left out to skip it',
        "id": '"id" (the move\'s idempotency key) must be a string',
        "think_ms": '"think_ms" must be a whole number of milliseconds',
    }


class CreateTournamentIn(Body):
    variants: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1, description="variant slugs")
    contestants: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="model contestant slugs"
    )
    slug: str = Field(description="1-80 letters, digits, '-' or '_'")
    seeds: str = Field(description='seeds such as "0-49" or "1,5,9"')
    title: str = Field(default="", description="at most 120 characters; the slug if left out")
    description: str = Field(default="", description="at most 4,000 characters")
    concurrency: int = Field(default=2, description="rounds running at once")
    starts_at: str | None = Field(default=None, description="ISO 8601 with a time zone; now if left out")

    messages: ClassVar[dict[str, Message]] = {
        "variants": '"variants" must be a non-empty list of slugs (GET /api/v1/variants)',
        "contestants": '"contestants" must be a non-empty list of slugs (GET /api/v1/contestants)',
        "slug": '"slug" is required and must be a string',
        "seeds": '"seeds" is required and must be a string',
        "title": '"title" must be a string',
        "description": '"description" must be a string',
        "concurrency": '"concurrency" must be a whole number (rounds running at once)',
        "starts_at": '"starts_at" must be an ISO 8601 time, e.g. 2026-12-01T09:00:00+00:00',
    }


def query_int(name: str, *, default: int, minimum: int, maximum: int) -> Any:
    """A whole number in a query string, read by ``games.play.inputs.parse_int`` (ASCII digits
    only, within range; its message names the parameter), typed as an integer in the schema."""

    def parse(raw: Any) -> Any:
        if isinstance(raw, int):
            return raw
        try:
            return inputs.query_int({name: raw}, name, default=default, minimum=minimum, maximum=maximum)
        except inputs.InputError as exc:
            raise explained(exc.message) from None

    bounds = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return Annotated[int, BeforeValidator(parse), WithJsonSchema(bounds)]


# -- examples for the document ---------------------------------------------------------------------


def example_variants() -> tuple[Family, list[VariantSpec]]:
    """The family and shipped variants the document's examples show, read from the registry (the
    starter variant's family, the one the home page begins with), so no route names a family."""
    families = all_families()
    family = next((f for f in families if any(v.starter for v in f.variants)), families[0])
    return family, list(family.variants)


# -- responses ---------------------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorOut(Out):
    error: str = Field(description="what was wrong and what is allowed")


class Budgets(Out):
    max_tests: int | None
    time_limit_s: int | None


class VariantOut(Out):
    slug: str
    family: str
    title: str
    description: str
    budgets: Budgets


class VariantsOut(Out):
    variants: list[VariantOut]


class ContestantOut(Out):
    slug: str
    name: str
    backend: str


class ContestantsOut(Out):
    contestants: list[ContestantOut]


class PlayerRow(Out):
    rank: int
    name: str
    kind: str
    matches: int
    solved: int
    solve_rate: float
    mean_points: float
    best_points: int
    mean_tests_when_solved: float | None
    last_played: str | None


class LeaderboardOut(Out):
    variant: str | None
    kind: str | None
    players: list[PlayerRow]


class SeatProgress(Out):
    """What anyone may see of a seat while its match runs."""

    id: int
    handle: str
    kind: str
    status: str
    tests_used: int
    tests_left: int


class SeatSummary(SeatProgress):
    outcome: dict[str, Any] | None
    score: dict[str, Any] | None


class Observation(Out):
    seat: SeatSummary
    public: dict[str, Any] = Field(description="the puzzle's public data (family-specific)")
    history: list[dict[str, Any]] = Field(description="your tests and their answers, in order")
    tests_left: int
    text: str = Field(description="the observation as text, as a model sees it")
    quiz_items: list[Any]
    guesses: list[Any] = Field(
        default_factory=list, description="your wrong guesses so far (a puzzle with several attempts)"
    )
    attempts_left: int = Field(default=1, description="how many guesses you may still make")
    description: str = Field(description="the family's description of the puzzle")
    presentation: dict[str, Any] | None = Field(
        default=None,
        description="how the family writes inputs and answers: JSON Schemas of a test input, an answer "
        "and a guess, the input widget, examples and syntax help (docs/FAMILIES.md)",
    )
    hypothesis: dict[str, Any] | None = Field(
        default=None,
        description='whether each test asks for your current hypothesis: {"mode": off | optional | required '
        '| required_parseable, "format": rule | text}; send it as "hypothesis" next to the test',
    )


class MatchCreatedOut(Out):
    match: int
    seat: int = Field(description="your seat: act on it with POST /api/v1/seats/{seat_id}/actions")
    status: str
    mode: str
    ranked: bool
    observation: Observation


class VariantRef(Out):
    slug: str
    title: str
    family: str


class SeatState(SeatProgress):
    """A seat as this token may see it: progress only for rivals while the match runs, its
    steps once the match is over (or for your own seat)."""

    steps: list[dict[str, Any]] | None = None


class MatchStateOut(Out):
    match: int
    status: str
    mode: str
    variant: VariantRef
    max_tests: int
    time_limit_s: int | None
    created: str | None
    started: str | None
    finished: str | None
    public: dict[str, Any]
    description: str
    presentation: dict[str, Any] | None = Field(default=None, description="as in the observation")
    you: int | None = Field(description="your seat in this match, if any")
    seats: list[SeatState]
    rule: str | None = Field(default=None, description="the hidden rule; only once the match is over")
    reveal: dict[str, Any] | None = Field(default=None, description="only once the match is over")


class TestOut(Out):
    result: Any = Field(description="the hidden rule's answer for your input")
    hypothesis: dict[str, Any] | None = Field(
        default=None,
        description='the hypothesis stored with this test: {"text", "format", "parsed", "canonical" | "error"}',
    )
    observation: Observation
    finished: bool = Field(
        default=False,
        description="true when this test ended your seat: a family with no rule to state ends when "
        "the test budget is spent (the presentation's guess_widget kind is none)",
    )
    score: dict[str, Any] | None = Field(default=None, description="your score, once the seat has ended")
    match_status: str | None = Field(default=None, description="the match's status, once the seat has ended")


class GuessOut(Out):
    correct: bool
    counterexample: Any = Field(description="an input where your rule and the hidden one differ, or null")
    hidden_answer: Any = Field(description="the hidden rule's answer at the counterexample")
    guess_answer: Any = Field(description="your rule's answer at the counterexample")
    agreement: float | None
    score: dict[str, Any] | None
    finished: bool
    attempts_left: int | None = Field(
        default=None,
        description="a wrong guess where the puzzle allows several: the guesses you have left (you play on; "
        "the full verdict comes with your last guess)",
    )
    match_status: str


class ForfeitOut(Out):
    forfeited: bool
    finished: bool
    score: dict[str, Any] | None
    match_status: str


class Progress(Out):
    rounds: int
    done: int
    running: int
    pending: int
    note: str


class TournamentOut(Out):
    slug: str
    title: str
    status: str
    starts_at: str | None
    started: str | None
    finished: str | None
    progress: Progress


class TournamentsOut(Out):
    tournaments: list[TournamentOut]


class RoundsPage(Out):
    page: int
    limit: int
    pages: int
    count: int


class TournamentDetailOut(TournamentOut):
    description: str
    seeds: str
    concurrency: int
    variants: list[str]
    contestants: list[str]
    standings: list[PlayerRow]
    rounds_page: RoundsPage
    rounds: list[dict[str, Any]]


class ResearchPageOut(Out):
    count: int
    page: int
    page_size: int
    pages: int
    schema_version: int
    filters: dict[str, Any]
    matches: list[dict[str, Any]] = Field(
        description="match records as in the exports (SCHEMA.md), each seat with a steps summary"
    )


class ResearchMatchOut(Out):
    schema_version: int
    match: dict[str, Any] = Field(
        description="one match record as in the exports, every seat with its steps and model calls"
    )


# -- operations --------------------------------------------------------------------------------------

COMMON_ERRORS = (401, 405, 429, 500)


def operation(
    operation_id: str,
    summary: str,
    description: str,
    *,
    ok: dict[int, Any],
    errors: dict[int, str] | None = None,
    request_example: Any = None,
    request_examples: dict[str, Any] | None = None,
    response_example: Any = None,
) -> dict[str, Any]:
    """Keyword arguments for a ninja route: the reply's model, every error status it may
    answer (each an ``ErrorOut``, with what it means here), examples for the docs page. Keys
    a reply leaves out stay out (``exclude_unset``): the hidden rule is absent, not null."""
    errors = dict(errors or {})
    if request_example is not None or request_examples is not None:
        errors.setdefault(400, "Bad JSON or a bad field: the message says which and what is allowed.")
        errors.setdefault(413, "The body is larger than 64 KiB (65,536 bytes).")
    responses: dict[int, Any] = {**ok, **{status: ErrorOut for status in (*errors, *COMMON_ERRORS)}}
    extra: dict[str, Any] = {"responses": {status: {"description": text} for status, text in errors.items()}}
    if response_example is not None:
        extra["responses"][next(iter(ok))] = {"content": {"application/json": {"example": response_example}}}
    if request_example is not None:
        extra["requestBody"] = {"content": {"application/json": {"example": request_example}}}
    if request_examples is not None:
        extra["requestBody"] = {
            "content": {
                "application/json": {"examples": {k: {"value": v} for k, v in request_examples.items()}}
            }
        }
    return {
        "response": dict(sorted(responses.items())),
        "operation_id": operation_id,
        "summary": summary,
        "description": description,
        "openapi_extra": extra,
        "exclude_unset": True,
    }

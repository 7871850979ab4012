"""The agent and research API on django-ninja: one ``NinjaAPI`` with bearer-token auth, the
per-token rate limit as its throttle, the limited JSON parser (games.play.inputs) for every
body, and handlers that turn every failure into ``{"error": ...}`` with its status code. The
OpenAPI document (/api/openapi.json) is generated from the schemas in games/api/schemas.py;
/api/docs renders it on the server (no CDN, no inline script: the site's CSP holds)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.parser import Parser

from games.api import auth, ratings, research, tournaments, views
from games.api.errors import ApiError, error
from games.play import inputs

logger = logging.getLogger(__name__)

UNAUTHORIZED = (
    "missing or invalid API token; send 'Authorization: Bearer <token>' "
    "(an admin makes one with `python manage.py create_agent_token NAME`)"
)

DESCRIPTION = (
    "Play the arena's induction puzzles from a script or an agent, exactly as a person or a "
    "built-in model does: same observation, same test budget, same judge. Create a match "
    "(optionally racing model contestants on the same instance), run tests, then state the "
    "rule once. The hidden rule is never in a response until the match is over.\n\n"
    "Every request needs `Authorization: Bearer <token>`; an admin makes a token with "
    "`python manage.py create_agent_token NAME`. Requests are rate-limited per token "
    "(default 600 in any 60 seconds, a sliding window; 429 with Retry-After beyond that). "
    'Every error is `{"error": "<message>"}` with its status code.\n\n'
    "Limits on input: a request body is one JSON object of at most 64 KiB (413 beyond), "
    "nested at most 32 arrays/objects deep, in UTF-8 (400 otherwise); a whole number in a "
    "query string is plain ASCII digits within the parameter's range (400 otherwise, naming "
    "the parameter and the range); a tournament title is at most 120 characters, its "
    "description at most 4,000, its slug 1-80 letters, digits, '-' or '_', and it has at most "
    "2,000 rounds (variants x seeds; the server's ARENA_TOURNAMENT_MAX_ROUNDS)."
)


class LimitedJsonParser(Parser):
    """Every body through ``inputs.parse_json``: at most 64 KiB and 32 levels deep, UTF-8,
    no lone surrogates. ninja's own parser is ``json.loads``, which a few kilobytes of ``[[[``
    turn into a RecursionError."""

    def parse_body(self, request: HttpRequest) -> Any:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isascii() and declared.isdigit() and int(declared) > inputs.MAX_JSON_BYTES:
            raise inputs.InputError(
                f"the request body is too large: {int(declared):,} bytes (at most {inputs.MAX_JSON_BYTES:,})",
                status=413,
            )
        if not request.body.strip():
            raise inputs.InputError("the request body is empty; send a JSON object")
        return inputs.parse_json(request.body)


class ServerRenderedDocs(DocsBase):
    """The document as one server-rendered page: Swagger UI and Redoc load from a CDN and run
    inline script, which the site's Content-Security-Policy blocks."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        document = openapi_document()
        return render(request, "api/docs.html", {"doc": document, "operations": docs_operations(document)})


ERROR_DESCRIPTIONS = {
    400: "Bad input: the message says what was wrong and what is allowed.",
    401: "Missing or invalid token (see WWW-Authenticate).",
    405: "Wrong HTTP method; the Allow header lists the right ones.",
    413: "The body is larger than 64 KiB (65,536 bytes).",
    429: (
        "Too many requests for this token in the last 60 seconds (a sliding window, counted in "
        "five-second buckets; refused requests do not count); wait Retry-After seconds."
    ),
    500: "Our failure, logged; retrying a move with the same Idempotency-Key is safe.",
}
RATE_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "requests allowed in any 60 s"},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "requests left in the window"},
}


class ArenaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        # One scheme for every operation (research-only ones are the same bearer token).
        schemes = schema["components"].pop("securitySchemes", {})
        if schemes:
            schema["components"]["securitySchemes"] = {"bearer": next(iter(schemes.values()))}
            schema["security"] = [{"bearer": []}]
        for item in schema["paths"].values():
            for operation in item.values():
                operation["security"] = [{"bearer": []}]
                responses = operation["responses"]
                for status, response in responses.items():
                    if status in ERROR_DESCRIPTIONS and response.get("description", "") in (
                        "",
                        _REASON.get(status),
                    ):
                        response["description"] = ERROR_DESCRIPTIONS[status]
                    if status < 300:
                        response.setdefault("headers", {}).update(RATE_HEADERS)
                if 429 in responses:
                    responses[429]["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
                    }
                operation["responses"] = dict(sorted(responses.items()))
        return schema


_REASON = {400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed", 413: "Payload Too Large",
           429: "Too Many Requests", 500: "Internal Server Error"}  # fmt: skip

api = ArenaAPI(
    title="Induction Arena agent API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=auth.BearerToken(),
    throttle=auth.TokenRate(),
    parser=LimitedJsonParser(),
    docs=ServerRenderedDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    servers=[{"url": "/"}],
)
api.add_router("/v1", views.router)
api.add_router("/v1", tournaments.router)
api.add_router("/v1", ratings.router)
api.add_router("/v1/research", research.router)


def openapi_document() -> dict[str, Any]:
    """The generated document as /api/openapi.json serves it (status codes as strings)."""
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/")))


# -- errors -----------------------------------------------------------------------------------------


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error(exc.status, exc.message, **exc.extra)


@api.exception_handler(inputs.InputError)
def _input_error(request: HttpRequest, exc: inputs.InputError) -> HttpResponse:
    return error(exc.status, exc.message)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error(413, f"the request body is too large (at most {inputs.MAX_JSON_BYTES:,} bytes)")


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error(401, UNAUTHORIZED)
    response["WWW-Authenticate"] = 'Bearer realm="arena"'
    return response


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    rate: auth.RateDecision = request.api_rate  # type: ignore[attr-defined]
    return error(
        429,
        f"rate limit: at most {rate.limit} requests in any 60 seconds per token; "
        f"retry after {rate.retry_after_s} s",
        retry_after=rate.retry_after_s,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, inputs.InputError):  # ninja wraps what the body parser raises
        return error(cause.status, cause.message)
    if isinstance(cause, RequestDataTooBig):
        return _too_big(request, cause)
    return error(exc.status_code, str(exc))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error(400, validation_message(exc.errors))


def validation_message(errors: list[dict[str, Any]]) -> str:
    """The first error, as the schemas word it (schemas.Body.messages, schemas.query_int)."""
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    if first.get("type") == "arena":
        return str(first["msg"])
    if first.get("type") == "missing" and loc[:1] == ["body"] and len(loc) == 2:
        return "the request body is empty; send a JSON object"
    return f"{' '.join(loc[1:]) or loc[0]}: {first.get('msg', 'invalid')}"


@api.exception_handler(Exception)
def _ours(request: HttpRequest, exc: Exception) -> HttpResponse:
    token = getattr(request, "auth", None)
    logger.exception(
        "agent API %s %s failed (token %s)",
        request.method,
        request.path,
        getattr(token, "pk", None),
        exc_info=exc,
    )
    return error(500, "internal error; it has been logged. Retrying with the same Idempotency-Key is safe")


# -- the docs page ------------------------------------------------------------------------------------


def _examples(media: dict[str, Any]) -> list[dict[str, str]]:
    if "example" in media:
        return [{"name": "", "json": json.dumps(media["example"], indent=2)}]
    return [
        {"name": name, "json": json.dumps(example["value"], indent=2)}
        for name, example in media.get("examples", {}).items()
    ]


def docs_operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations flattened for the human-readable page."""
    operations = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            request = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "description": op.get("description", ""),
                    "requests": _examples(request),
                    "responses": [
                        {
                            "status": status,
                            "description": response["description"],
                            "examples": _examples(response.get("content", {}).get("application/json", {})),
                        }
                        for status, response in op["responses"].items()
                    ],
                }
            )
    return operations

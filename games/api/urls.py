"""Routes under /api/: the ninja API (games/api/app.py: /api/v1/..., /api/openapi.json,
/api/docs), and a JSON 404 for anything else, so a client never has to parse an HTML page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt

from games.api.app import api
from games.api.errors import error

app_name = "api"


def _finished(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """What every reply gets, whichever way ninja produced it: a wrong method is a JSON 405
    with ``Allow`` (ninja answers in plain text), and the token's rate in X-RateLimit-*."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(m.strip() for m in sorted(response["Allow"].split(",")))
            response = error(405, f"{request.method} is not allowed here; allowed: {allowed}")
            response["Allow"] = allowed
        rate = getattr(request, "api_rate", None)
        if rate is not None and rate.limit:
            response["X-RateLimit-Limit"] = str(rate.limit)
            response["X-RateLimit-Remaining"] = str(rate.remaining)
        return response

    return wrapper


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "", **kwargs: Any) -> HttpResponse:
    return error(404, f"no such endpoint: {request.method} {request.path}; see /api/docs")


def _patterns() -> list[Any]:
    patterns, seen = [], set()
    for pattern in api.urls[0]:
        assert isinstance(pattern, URLPattern)
        if str(pattern.pattern) in seen:  # ninja lists a path once per method; one view serves them all
            continue
        seen.add(str(pattern.pattern))
        patterns.append(pattern)
        if pattern.name == "api-root":  # ninja's root only anchors the document's paths
            pattern.callback = not_found
        else:
            pattern.callback = _finished(pattern.callback)
    return patterns


urlpatterns = [
    *_patterns(),
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]

"""The researchers' export page: a filter form and download buttons (zip per format).

Researchers are staff or members of the ``researchers`` group (made by a data migration);
signed-in non-researchers get 403, anonymous visitors the login page."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import IO

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from games.models import ModelContestant, PuzzleVariant, Study, Tournament
from games.research import exports
from games.research.dashboard import is_researcher

FILTER_FIELDS = (
    "family",
    "variant",
    "since",
    "until",
    "kind",
    "contestant",
    "finished",
    "tournament",
    "study",
)


BLOCK_SIZE = 256 * 1024


async def _blocks(handle: IO[bytes], block_size: int) -> AsyncIterator[bytes]:
    """The file a block at a time, each read in a worker thread: under ASGI the response is
    sent as it is read, one block in memory, and the event loop never waits on the disk."""
    read = sync_to_async(handle.read, thread_sensitive=False)
    while block := await read(block_size):
        yield block


def zip_response(
    *, fmt: str, filters: exports.ExportFilters, analytics: bool, request: HttpRequest
) -> FileResponse:
    """The export as a zip attachment. Built into an anonymous temporary file (memory stays
    bounded; the file disappears when the response closes it), then streamed from disk a block
    at a time: through an async iterator under ASGI (Django would otherwise warn that it "must
    consume synchronous iterators" and read the whole file into a list first), through the
    file itself under WSGI."""
    handle = tempfile.TemporaryFile(prefix="arena-export-", suffix=".zip")
    try:
        manifest = exports.export_zip(handle, fmt=fmt, filters=filters, analytics=analytics)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    name = exports.zip_folder_name(fmt, manifest["created_at"]) + ".zip"
    return file_response(handle, filename=name, asynchronous=isinstance(request, ASGIRequest))


def file_response(handle: IO[bytes], *, filename: str, asynchronous: bool) -> FileResponse:
    """``handle`` as a zip attachment; ``asynchronous`` (an ASGI request): its body is an async
    iterator. Headers (length, name) and closing the file stay FileResponse's."""
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/zip")
    response.block_size = BLOCK_SIZE
    if asynchronous:
        response.streaming_content = _blocks(handle, BLOCK_SIZE)
    return response


@require_GET
def exports_page(request: HttpRequest) -> HttpResponse:
    # Like the research dashboard: anonymous visitors log in first, others get a 403 saying why.
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_researcher(request.user):
        return render(request, "research/forbidden.html", status=403)
    error = ""
    fmt = request.GET.get("format")
    if fmt:
        try:
            if fmt not in exports.FORMATS:
                raise exports.ExportError(f"format must be one of {', '.join(exports.FORMATS)}, got {fmt!r}")
            filters = exports.ExportFilters.from_query(request.GET)
        except exports.ExportError as exc:
            error = str(exc)
        else:
            analytics = request.GET.get("analytics", "1") not in ("0", "false", "off")
            return zip_response(fmt=fmt, filters=filters, analytics=analytics, request=request)
    return render(
        request,
        "research/exports.html",
        {
            "error": error,
            "values": {key: request.GET.get(key, "") for key in FILTER_FIELDS},
            "families": sorted(set(PuzzleVariant.objects.values_list("family", flat=True))),
            "variants": PuzzleVariant.objects.order_by("slug").values_list("slug", flat=True),
            "contestants": ModelContestant.objects.order_by("slug").values_list("slug", flat=True),
            "tournaments": Tournament.objects.order_by("slug").values_list("slug", flat=True),
            "studies": Study.objects.order_by("slug").values_list("slug", flat=True),
            "kinds": exports.KINDS,
            "formats": exports.FORMATS,
            "schema_version": exports.SCHEMA_VERSION,
        },
        status=400 if error else 200,
    )

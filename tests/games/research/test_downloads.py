"""Export downloads under ASGI stream through an async iterator: no "must consume synchronous
iterators" warning (Django would read the whole file into a list first), the whole zip sent,
and the same headers and bytes as the synchronous (WSGI) path."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest
from django.test import Client

from games.api.auth import agent_token_create
from tests.games.play.test_input_limits import _asgi_get, private_cache  # noqa: F401  (autouse)
from tests.games.research.test_exports import log  # noqa: F401  (the fixture: three matches)

pytestmark = pytest.mark.django_db


def test_an_export_under_asgi_streams_through_an_async_iterator_without_the_warning(log):  # noqa: F811
    _, key = agent_token_create(name="asgi-reader", can_read_research=True)
    headers = {"Authorization": f"Bearer {key}"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, sent, _ = _asgi_get("/api/v1/research/export?format=jsonl&finished=1", headers)
    assert status == 200 and sent > 0
    assert not [w for w in caught if "must consume" in str(w.message)], [str(w.message) for w in caught]

    over_wsgi = Client(headers=headers).get("/api/v1/research/export", {"format": "jsonl", "finished": "1"})
    body = b"".join(over_wsgi.streaming_content)
    assert int(over_wsgi["Content-Length"]) == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert any(name.endswith("manifest.json") for name in archive.namelist())
    assert abs(sent - len(body)) < 64  # a fresh export of the same matches: only its time stamps differ

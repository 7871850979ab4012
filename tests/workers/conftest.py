from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.workers.fake_model import FakeModelServer


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    server = FakeModelServer().start()
    yield server
    server.stop()

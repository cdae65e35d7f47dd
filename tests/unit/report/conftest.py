"""The scripted OpenAI-compatible server (``tests/fakeserver.py``) as a fixture, fresh per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeserver import FakeServer


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server

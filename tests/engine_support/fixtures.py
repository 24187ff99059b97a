"""Pytest fixtures for engine tests (import them into a test module with ``from ... import *``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine_support.bench_folder import register_fakes, unregister_fakes
from tests.engine_support.fake_local import FakeLocalProvider
from tests.engine_support.fake_remote_server import FakeRemoteServer
from workbench.engine import RetryPolicy

#: Backoff fast enough for tests: five attempts, a few milliseconds apart.
FAST_RETRY = RetryPolicy(max_attempts=5, base=0.002, cap=0.01)


@pytest.fixture(autouse=True)
def fake_providers() -> Iterator[None]:
    register_fakes()
    FakeLocalProvider.log.reset()
    yield
    unregister_fakes()


@pytest.fixture
def remote_server() -> Iterator[FakeRemoteServer]:
    with FakeRemoteServer() as server:
        yield server


__all__ = ["FAST_RETRY", "fake_providers", "remote_server"]

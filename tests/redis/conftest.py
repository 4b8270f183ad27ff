"""Fixtures: a real redis-server per module, and one per test that kills its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ._server import RedisServer, redis_server_binary


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(redis_server_binary())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    """A server this test alone uses: it may stop, kill or restart it."""
    server = RedisServer(redis_server_binary())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def namespace() -> str:
    """A namespace of its own per test: tests never share a budget."""
    return "test-" + uuid.uuid4().hex[:12]

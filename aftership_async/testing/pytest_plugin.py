"""pytest fixtures for testing code that uses aftership-async, registered as a pytest11 plugin.

``aftership_fake``: a started :class:`FakeAfterShip` (no latency, rate limits
off, no faults), fresh for each test. ``aftership_client``: an
``AfterShip(api_key="test", base_url=aftership_fake.url)`` opened for the
test. Both are async fixtures (pytest-asyncio). Tests that need latency,
limits or faults build their own ``FakeAfterShip(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from aftership_async import AfterShip

from ._server import FakeAfterShip

__all__ = ["aftership_client", "aftership_fake"]


@pytest_asyncio.fixture
async def aftership_fake() -> AsyncIterator[FakeAfterShip]:
    """A running fake AfterShip server, empty at the start of the test."""
    async with FakeAfterShip() as fake:
        yield fake


@pytest_asyncio.fixture
async def aftership_client(aftership_fake: FakeAfterShip) -> AsyncIterator[AfterShip]:
    """An ``AfterShip`` client talking to ``aftership_fake``."""
    # The fake's limits are off by default, so the client's limiter is too.
    async with AfterShip(api_key="test", base_url=aftership_fake.url, rate_limit=None) as client:
        yield client

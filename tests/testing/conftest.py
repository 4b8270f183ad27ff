"""Fixtures for the fake's own tests (the public ones come from the pytest plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from aftership_async import AfterShip
from aftership_async.testing import FakeAfterShip

from .helpers import client_for


@pytest_asyncio.fixture
async def fake_client(aftership_fake: FakeAfterShip) -> AsyncIterator[AfterShip]:
    """A client on ``aftership_fake`` without client-side retries or throttling."""
    async with client_for(aftership_fake) as client:
        yield client

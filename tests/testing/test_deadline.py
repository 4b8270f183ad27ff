"""A retry policy's deadline bounds the whole call, the attempt in flight included."""

from __future__ import annotations

import time

import pytest

from aftership_async import AfterShip, APITimeoutError, RetryPolicy
from aftership_async.testing import FakeAfterShip


async def test_a_deadline_shorter_than_the_timeout_cuts_the_attempt_in_flight() -> None:
    policy = RetryPolicy(max_attempts=5, backoff=0.01, deadline=0.5)
    async with (
        FakeAfterShip(fault_rate=1.0, faults=["slow"], slow_seconds=20.0) as fake,
        AfterShip(
            api_key="k", base_url=fake.url, timeout=30.0, retry=policy, rate_limit=None
        ) as client,
    ):
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="deadline") as info:
            await client.tracking.get_couriers()
        elapsed = time.monotonic() - started
    # The 30 s timeout would have let the stalled answer hold the call for 20 s.
    assert elapsed < 10.0
    assert info.value.attempts == 1  # no time was left for a second attempt


async def test_without_a_short_deadline_the_attempt_keeps_its_own_timeout() -> None:
    policy = RetryPolicy(max_attempts=1, deadline=60.0)
    async with (
        FakeAfterShip(fault_rate=1.0, faults=["slow"], slow_seconds=20.0) as fake,
        AfterShip(api_key="k", base_url=fake.url, timeout=0.3, retry=policy, rate_limit=None) as c,
    ):
        with pytest.raises(APITimeoutError, match=r"0\.3s timeout of an attempt"):
            await c.tracking.get_couriers()

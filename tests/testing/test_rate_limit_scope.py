"""Shipping and Returns have one rate budget for the whole API; Tracking one per endpoint.

AfterShip counts Shipping's 10 requests/second per organisation across every endpoint
(../shared/reference/shared-rate-limit.md). The spec says so (``rate-limit-scope``), and
both the client's limiter and the fake server count that way.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import aiohttp

from aftership_async import NO_RETRY, AfterShip, RateLimitError
from aftership_async._generated.returns.api import ReturnsAPI
from aftership_async._generated.shipping.api import ShippingAPI
from aftership_async._generated.tracking.api import TrackingAPI
from aftership_async.testing import FakeAfterShip


def test_the_budget_an_endpoint_draws_from() -> None:
    assert ShippingAPI.API.limiter_key("GET /labels") == "shipping *"
    assert ShippingAPI.API.limiter_key("POST /rates") == "shipping *"
    assert ReturnsAPI.API.limiter_key("GET /returns") == "returns *"
    assert TrackingAPI.API.limiter_key("GET /trackings") == "tracking GET /trackings"
    assert TrackingAPI.API.limiter_key("POST /trackings") == "tracking POST /trackings"


async def _start_of_a_second() -> None:
    await asyncio.sleep(1.02 - time.time() % 1)


async def test_the_fake_counts_shipping_across_endpoints() -> None:
    async with (
        FakeAfterShip(rate_limits="documented") as fake,
        AfterShip(api_key="k", base_url=fake.url, rate_limit=None, retry=NO_RETRY) as client,
    ):
        calls = [client.shipping.get_labels, client.shipping.get_rates] * 6  # 12 in one window
        await _start_of_a_second()
        outcomes = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, RateLimitError)]
    assert len(refused) == 2, outcomes  # 10 per second for the whole API, not 10 per endpoint
    assert all(not isinstance(o, Exception) or isinstance(o, RateLimitError) for o in outcomes)


async def test_the_client_paces_shipping_as_one_budget() -> None:
    sends: list[float] = []

    async def sent(*_: object) -> None:
        sends.append(time.time())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(sent)
    async with (
        FakeAfterShip(rate_limits="documented") as fake,
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        AfterShip(
            api_key="k", base_url=fake.url, session=session, rate_limit="documented"
        ) as client,
    ):
        calls = [client.shipping.get_labels, client.shipping.get_rates, client.shipping.get_pickups]
        await _start_of_a_second()
        started = time.monotonic()
        # Per-endpoint pacing (10/s each) would send all 15 in the first second.
        await asyncio.gather(*(calls[i % 3]() for i in range(15)))
        elapsed = time.monotonic() - started
    per_second = Counter(int(t) for t in sends)
    assert max(per_second.values()) <= 10, per_second  # one budget of 10/s for the API
    assert client.stats.rate_limited == fake.stats.rate_limited  # any 429 was retried
    assert len(sends) == 15 + client.stats.retries
    assert elapsed > 0.5  # the last 5 waited for the next window

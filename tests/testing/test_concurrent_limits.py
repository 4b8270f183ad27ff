"""The rate limiter under real concurrent use, through the public client (issue 19).

Each test is the regression test of one finding, against the fake server on
127.0.0.1. They assert contracts with wide margins (a bound well under the
broken behaviour's figure, a lower bound that load can only lengthen), never
an idle machine's timing: they must hold on a busy 2-core machine.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from aftership_async import AfterShip, DetectCourierRequest
from aftership_async.testing import FakeAfterShip


class Sends:
    """Wall-clock times at which the client put requests on the wire, and the peak in flight."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.in_flight = 0
        self.peak = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._start)
        self.trace.on_request_end.append(self._end)
        self.trace.on_request_exception.append(self._end)

    async def _start(self, *_: object) -> None:
        self.times.append(time.time())
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def _end(self, *_: object) -> None:
        self.in_flight -= 1

    def busiest_second(self) -> int:
        return max(Counter(int(t) for t in self.times).values(), default=0)


@pytest_asyncio.fixture
async def sends() -> AsyncIterator[Sends]:
    yield Sends()


async def test_cancelled_callers_leave_no_debt_behind(sends: Sends) -> None:
    # 200 calls queue on GET /couriers (5/s) and are cancelled after 0.5 s. Before the fix
    # each had taken its permit before sleeping, and the next lone call waited ~40 s.
    async with (
        FakeAfterShip(rate_limits="documented") as fake,
        aiohttp.ClientSession(trace_configs=[sends.trace]) as session,
        AfterShip(api_key="k", base_url=fake.url, session=session) as client,
    ):
        storm = [
            asyncio.wait_for(client.tracking.get_couriers(active=True), 0.5) for _ in range(200)
        ]
        outcomes = await asyncio.gather(*storm, return_exceptions=True)
        cancelled = sum(isinstance(o, TimeoutError) for o in outcomes)
        assert cancelled >= 150, Counter(type(o).__name__ for o in outcomes)

        started = time.monotonic()
        await asyncio.wait_for(client.tracking.get_couriers(active=True), 30)
        assert time.monotonic() - started < 8  # ~40 s of debt before the fix

        # Nothing given back twice either: a burst after the storm keeps to 5 a second.
        await asyncio.gather(*(client.tracking.get_couriers(active=True) for _ in range(12)))
    assert sends.busiest_second() <= 5, Counter(int(t) for t in sends.times)
    assert fake.stats.requests["get_couriers"] == len(sends.times) == client.stats.requests


async def test_a_call_on_an_idle_budget_does_not_wait_behind_a_busy_one(sends: Sends) -> None:
    # 40 detect_courier calls (3/s: ~13 s of queue) with max_concurrency=8. Before the fix
    # the queued calls held all 8 slots while waiting for permits, and one GET /couriers,
    # whose 5/s budget was untouched, waited 10 s behind them.
    async with (
        FakeAfterShip(rate_limits="documented", latency=0.05) as fake,
        aiohttp.ClientSession(trace_configs=[sends.trace]) as session,
        AfterShip(api_key="k", base_url=fake.url, session=session, max_concurrency=8) as client,
    ):
        busy = [
            asyncio.ensure_future(
                client.tracking.detect_courier(DetectCourierRequest(tracking_number=f"1Z{i:016d}"))
            )
            for i in range(40)
        ]
        await asyncio.sleep(0.3)  # every one of them is queued
        started = time.monotonic()
        await asyncio.wait_for(client.tracking.get_user_couriers(), 30)
        waited = time.monotonic() - started
        done = sum(task.done() for task in busy)
        for task in busy:
            task.cancel()
        await asyncio.gather(*busy, return_exceptions=True)
    assert waited < 5, f"waited {waited:.1f} s"  # 10.3 s before the fix
    assert done < 40  # the busy budget was still queueing: the comparison is fair
    assert sends.peak <= 8


async def test_max_concurrency_still_caps_requests_in_flight(sends: Sends) -> None:
    async with (
        FakeAfterShip(latency=0.2) as fake,
        aiohttp.ClientSession(trace_configs=[sends.trace]) as session,
        AfterShip(
            api_key="k", base_url=fake.url, session=session, max_concurrency=4, rate_limit=100.0
        ) as client,
    ):
        calls = [client.tracking.get_couriers(active=True) for _ in range(8)]
        calls += [client.shipping.get_labels() for _ in range(8)]
        await asyncio.gather(*calls)
    assert len(sends.times) == 16
    assert sends.peak <= 4


async def test_a_configured_rate_is_a_cap_under_a_higher_server_limit(sends: Sends) -> None:
    # The server says 50/s; the user asked for 1/s. Before the fix the header replaced
    # the configured rate (10 sequential calls took 0.46 s).
    async with (
        FakeAfterShip(rate_limits=50.0) as fake,
        aiohttp.ClientSession(trace_configs=[sends.trace]) as session,
        AfterShip(api_key="k", base_url=fake.url, session=session, rate_limit=1.0) as client,
    ):
        started = time.monotonic()
        for _ in range(4):
            await client.tracking.get_couriers(active=True)
        elapsed = time.monotonic() - started
    assert len(sends.times) == 4
    assert sends.busiest_second() == 1, sends.times
    assert elapsed >= 2.0  # four distinct wall-clock seconds

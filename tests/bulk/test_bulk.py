"""Bulk tracking against the fake server: nothing lost, nothing duplicated, bounded."""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aftership_async import (
    AfterShip,
    AuthenticationError,
    BulkStats,
    CreateTrackingRequest,
    InvalidRequestError,
    InvalidResponseError,
    NotFoundError,
    RetryPolicy,
    TrackingRef,
)
from aftership_async.testing import FakeAfterShip

RETRY = RetryPolicy(max_attempts=6, backoff=0.01, max_backoff=0.05, deadline=20)


def numbers(n: int, prefix: str = "1Z") -> list[str]:
    return [f"{prefix}{i:016d}" for i in range(n)]


async def test_lookup_finds_existing_and_reports_missing_and_bad_input() -> None:
    async with FakeAfterShip() as fake:
        fake.add_trackings(numbers(120))
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            items: list[str | TrackingRef] = [*numbers(130), "", "a,b"]
            results = await client.bulk.lookup(items).collect()
    assert [r.index for r in results] == list(range(132))
    assert all(
        r.ok and r.value is not None and r.value.tracking_number == items[r.index]
        for r in results[:120]
    )
    assert all(isinstance(r.error, NotFoundError) for r in results[120:130])
    assert all(isinstance(r.error, InvalidRequestError) for r in results[130:])
    # 130 valid numbers in chunks of 50: three list requests, not 130 lookups
    assert fake.stats.requests["get_trackings"] == 3


async def test_get_or_create_creates_only_what_is_missing() -> None:
    async with FakeAfterShip() as fake:
        fake.add_trackings(numbers(60))
        preloaded = fake.stats.created["tracking"]
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            run = client.bulk.get_or_create(numbers(100))
            results = [r async for r in run]
    assert len(results) == 100 and all(r.ok for r in results)
    assert sum(r.created for r in results) == 40 == run.stats.created
    assert fake.stats.created["tracking"] - preloaded == 40
    assert len(fake.trackings) == 100


@pytest.fixture
def small_heap() -> Iterator[None]:
    """Keep the test process's heap out of the garbage collector during a timing test.

    Client and fake share one event loop here; a full collection over the heap of the
    tests before this one can stall it longer than the limiter's 100 ms end-of-second
    margin, which a real client process (or `make demo`) does not have.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    ("rate", "count", "latency", "concurrency"),
    [(40.0, 60, 0.0, 20), (200.0, 500, 0.05, 64)],  # the second is make demo's setting
)
@pytest.mark.usefixtures("small_heap")
async def test_when_the_limiter_knows_the_limit_it_keeps_to_it_and_loses_nothing(
    rate: float, count: int, latency: float, concurrency: int
) -> None:
    # The contract, which holds on a busy machine too: every input created once, no
    # wall-clock second with more sends than the limit, and any 429 (a request that a
    # stalled loop delivered in the server's next window) retried. That an idle machine
    # sees no 429 at all is bench (d)'s figure, not an assertion here.
    sends: list[float] = []

    async def sent(*_: object) -> None:
        sends.append(time.time())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(sent)
    async with (
        FakeAfterShip(rate_limits=rate, latency=latency) as fake,
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        AfterShip(
            api_key="k",
            base_url=fake.url,
            session=session,
            rate_limit=rate,
            max_concurrency=concurrency,
        ) as client,
    ):
        requests = [CreateTrackingRequest(tracking_number=n) for n in numbers(count, "JJD")]
        results = await client.bulk.create(requests, concurrency=concurrency).collect()
    assert len(results) == count
    assert all(r.ok and r.created for r in results)
    assert fake.stats.created["tracking"] == count
    assert client.stats.rate_limited == fake.stats.rate_limited == fake.stats.statuses[429]
    assert len(sends) == client.stats.requests == count + client.stats.retries
    busiest = max(Counter(int(t) for t in sends).values())
    assert busiest <= rate, busiest


async def test_with_faults_every_item_is_accounted_for_once_and_nothing_is_created_twice() -> None:
    faults = ("429", "500", "502_html", "503", "drop", "truncated", "malformed")
    async with FakeAfterShip(fault_rate=0.1, faults=faults, seed=11) as fake:
        fake.add_trackings(numbers(150))
        preloaded = fake.stats.created["tracking"]
        async with AfterShip(
            api_key="k", base_url=fake.url, rate_limit=None, retry=RETRY, timeout=5
        ) as client:
            items = numbers(300)
            results = await client.bulk.get_or_create(items, concurrency=16).collect()
    assert sum(fake.stats.faults.values()) > 0
    assert [r.index for r in results] == list(range(300))
    ok = [r for r in results if r.ok]
    assert len(ok) + sum(1 for r in results if not r.ok) == 300
    assert len(ok) >= 295  # retries absorb the faults; any rest are typed errors, never lost
    # Each OK result is the tracking of its own input; no number was created twice.
    assert all(r.value is not None and r.value.tracking_number == items[r.index] for r in ok)
    stored = [t["tracking_number"] for t in fake.trackings.values()]
    assert len(stored) == len(set(stored))
    assert fake.stats.created["tracking"] - preloaded == len(fake.trackings) - 150 <= 150
    assert client.stats.retries > 0


async def test_cancellation_leaves_no_tasks_and_reports_progress() -> None:
    async with FakeAfterShip(latency=0.05) as fake:
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            run = client.bulk.detect_couriers(numbers(400), concurrency=10)
            seen: list[int] = []

            async def consume() -> None:
                async for result in run:
                    seen.append(result.index)

            before = asyncio.all_tasks()
            task = asyncio.create_task(consume())
            # Cancel once the run is under way, however slow the machine is.
            async with asyncio.timeout(60):
                while len(seen) < 5:
                    await asyncio.sleep(0.01)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert task.cancelled()
            # The fake server's own handler tasks may still be winding down;
            # none of the bulk engine's tasks may be.
            leftover = asyncio.all_tasks() - before - {asyncio.current_task()}
            engine = [t for t in leftover if "_guarded" in t.get_coro().__qualname__]  # type: ignore[union-attr]
            assert not [t for t in engine if not t.done()]
    stats = run.stats
    assert 0 < len(seen) == stats.done < 400
    assert stats.cancelled == stats.submitted - stats.done
    assert stats.submitted <= len(seen) + 10  # never more than `concurrency` units read ahead


async def test_progress_callback_sees_every_result() -> None:
    calls: list[int] = []

    def progress(stats: BulkStats) -> None:
        calls.append(stats.done)

    async with FakeAfterShip() as fake:
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            await client.bulk.lookup(numbers(75), progress=progress).collect()
    assert calls == list(range(1, 76))


@pytest.mark.slow
@pytest.mark.timeout(600)  # a hang guard, generous for a busy machine
async def test_100k_streamed_lookups_in_bounded_memory() -> None:
    total = 100_000

    def generated() -> Iterator[str]:
        for i in range(total):
            yield f"ZZ{i:012d}"

    async with FakeAfterShip() as fake:
        async with AfterShip(
            api_key="k", base_url=fake.url, rate_limit=None, max_concurrency=32
        ) as client:
            tracemalloc.start()
            count = 0
            peak_at_10k = 0
            async for result in client.bulk.lookup(generated(), concurrency=16):
                count += 1
                assert isinstance(result.error, NotFoundError)
                if count == 10_000:
                    peak_at_10k = tracemalloc.get_traced_memory()[1]
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert count == total
    # Memory does not grow with N: the peak over 100k items stays near the
    # peak after the first 10k (an O(N) design would hold 10x as much).
    assert peak < peak_at_10k * 1.5 + 2_000_000


@pytest.mark.slow
@pytest.mark.timeout(600)  # a hang guard, generous for a busy machine
async def test_5000_get_or_create_under_10pc_faults_of_every_kind_loses_nothing() -> None:
    """Every valid input ends OK, nothing is created twice, bad inputs keep their own error.

    The timeout is short, so that the "slow" faults (stalled answers) cost 5 s
    each instead of 30, yet long enough for a busy machine's answers; with eight
    attempts, a request that meets a fault every time (10% ** 8) does not happen.
    The contract is nothing lost and nothing created twice, not a duration.
    """
    items: list[str | TrackingRef] = [*numbers(5000)]
    items[10], items[2345] = "", "bad,number"  # rejected before the network
    async with FakeAfterShip(fault_rate=0.1, seed=12, slow_seconds=10.0) as fake:
        fake.add_trackings(numbers(5000)[::2])
        preloaded = fake.stats.created["tracking"]
        async with AfterShip(
            api_key="k",
            base_url=fake.url,
            rate_limit=None,
            timeout=5.0,
            retry=RetryPolicy(max_attempts=8, max_backoff=1.0, deadline=120),
        ) as client:
            results = await client.bulk.get_or_create(items, concurrency=32).collect()
    assert set(fake.stats.faults) == {
        "429", "500", "502_html", "503", "drop", "slow", "truncated", "malformed"
    }  # fmt: skip
    assert fake.stats.faults["truncated"] > 10 and fake.stats.faults["malformed"] > 10
    assert [r.index for r in results] == list(range(5000))
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {10, 2345}
    assert all(isinstance(e, InvalidRequestError) for e in failed.values())
    ok = [r for r in results if r.ok]
    assert all(r.value is not None and r.value.tracking_number == items[r.index] for r in ok)
    stored = [t["tracking_number"] for t in fake.trackings.values()]
    assert len(stored) == len(set(stored)) == 4999
    created = fake.stats.created["tracking"] - preloaded
    assert created == 2499  # the odd numbers, less the one replaced by "bad,number"
    assert sum(r.created for r in results) <= created  # a retried create resolves to found


def _poisoned(*numbers_: str, status: int = 200, body: bytes = b"<html>oops</html>") -> Any:
    """A fake middleware: any list lookup that includes one of ``numbers_`` gets a bad answer."""

    @web.middleware
    async def poison(request: web.Request, handler: Any) -> web.StreamResponse:
        asked = request.query.get("tracking_numbers", "").split(",")
        if request.method == "GET" and set(numbers_) & set(asked):
            return web.Response(status=status, body=body, content_type="text/html")
        response: web.StreamResponse = await handler(request)
        return response

    return poison


async def test_a_chunk_that_keeps_failing_is_split_down_to_the_input_it_concerns() -> None:
    items = numbers(50)
    poison = items[17]
    unit: list[str | TrackingRef] = [*items, "", "a,b"]  # two rejected inputs in the chunk
    fake = FakeAfterShip()
    fake.app.middlewares.append(_poisoned(poison))
    async with fake:
        fake.add_trackings(items)
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None, retry=RETRY) as c:
            results = await c.bulk.lookup(unit).collect()
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {17, 50, 51}
    assert isinstance(failed[17], InvalidResponseError)  # its own failure, once split out
    assert isinstance(failed[50], InvalidRequestError) and "empty" in str(failed[50])
    assert isinstance(failed[51], InvalidRequestError) and "a,b" in str(failed[51])
    # Bisection: a handful of lookups, not one per number.
    assert fake.stats.requests["get_trackings"] < 60


async def test_get_or_create_still_creates_the_rest_of_a_failing_chunk() -> None:
    items = numbers(50, "JJD")
    fake = FakeAfterShip()
    fake.app.middlewares.append(_poisoned(items[3], status=500, body=b"{}"))
    async with fake:
        fake.add_trackings(items[:25])
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None, retry=RETRY) as c:
            results = await c.bulk.get_or_create(items).collect()
    failed = [r.index for r in results if not r.ok]
    assert failed == [3]
    assert sum(r.created for r in results) == 25
    assert len(fake.trackings) == 50


async def test_an_outage_is_not_bisected_into_a_storm_of_requests() -> None:
    fake = FakeAfterShip(fault_rate=1.0, faults=["503"])
    async with fake:
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None, retry=RETRY) as c:
            results = await c.bulk.lookup(numbers(50)).collect()
    assert all(type(r.error).__name__ == "InternalServerError" for r in results)
    # The chunk twice, then both halves once: 4 lookups of RETRY's 6 attempts each.
    assert fake.stats.requests["get_trackings"] == 4 * 6


async def test_a_refused_key_fails_the_chunk_without_splitting() -> None:
    async with FakeAfterShip(api_key="right") as fake:
        async with AfterShip(api_key="wrong", base_url=fake.url, rate_limit=None) as c:
            results = await c.bulk.lookup([*numbers(50), ""]).collect()
    assert sum(isinstance(r.error, AuthenticationError) for r in results) == 50
    assert isinstance(results[50].error, InvalidRequestError)
    assert fake.stats.statuses[401] == 1

"""The clients under test, each driven the way its users would drive it.

Every client fetches the same tracking ids (``GET /tracking/2026-07/trackings/{id}``)
from the same server with ``concurrency`` requests in flight:

* ``ours``: ``client.tracking.get_tracking_by_id`` from ``concurrency`` tasks,
  decoding every answer into the typed ``Tracking`` model;
* ``ours-raw`` (zero-latency run only): the same call through
  ``client.tracking.with_raw_response``, whose answer is not decoded into the
  model: the whole path (retry loop, limiter, slot, envelope, version watch,
  raw response) without the typed decode;
* ``ours-bulk``: ``client.bulk.get(ids, concurrency=...)``, the bulk helper
  (results streamed; no per-request latency, so only throughput and CPU);
* ``official``: ``aftership-tracking-sdk`` 10.0.x (API 2026-07; sync, httpx,
  pydantic): ``client.tracking.get_tracking_by_id`` from a thread pool of
  ``concurrency`` threads, as its README suggests for parallel work; its
  ``Configuration(domain=...)`` points at the server (the SDK joins it with
  the absolute ``/tracking/2026-07/...`` path of each operation);
* ``pyaftership``: its request helper (it has no get-by-id method; its only
  calls are list/add/remove/detect) with its base URL pointed at the server;
  it returns raw dicts, no models;
* ``aiohttp``: bare ``session.get`` + ``response.json()``, the ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from aftership_async import AfterShip
from aftership_async._generated.tracking.api import TrackingAPI

from ._server import BENCH_KEY

__all__ = ["ASYNC_CLIENTS", "CLIENTS", "EXTRA_CLIENTS", "Sample", "measure"]

CLIENTS = ("ours", "ours-bulk", "official", "pyaftership", "aiohttp")
#: Not in the default tables: a diagnostic for the zero-latency run.
EXTRA_CLIENTS = ("ours-raw",)
ASYNC_CLIENTS = ("ours", "ours-raw", "pyaftership", "aiohttp")

Call = Callable[[str], Awaitable[object]]

#: ``/tracking/2026-07``: the version every client asks for (the one aftership-async pins).
TRACKING_PREFIX = urlsplit(TrackingAPI.API.base_url).path.rstrip("/")


@dataclass
class Sample:
    """One client's run: wall and CPU time, per-request latencies, errors."""

    client: str
    concurrency: int
    n: int
    wall: float
    cpu: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    @property
    def throughput(self) -> float:
        return self.n / self.wall

    def percentile_ms(self, q: float) -> float | None:
        if len(self.latencies) < 2:
            return None
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[round(q) - 1] * 1000.0

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.n * 1000.0


@contextlib.contextmanager
def _timed(sample: Sample) -> Iterator[None]:
    """Set ``sample.wall`` and ``sample.cpu`` (this process, all threads) for the block."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    sample.wall = time.perf_counter() - wall
    sample.cpu = time.process_time() - cpu


async def _drive(call: Call, ids: Sequence[str], concurrency: int, sample: Sample) -> None:
    """``concurrency`` workers pull ids from one iterator: never more in flight."""
    pending = iter(ids)

    async def worker() -> None:
        for tracking_id in pending:
            started = time.perf_counter()
            try:
                await call(tracking_id)
            except Exception as exc:
                sample.errors += 1
                sample.first_error = sample.first_error or f"{type(exc).__name__}: {exc}"[:200]
            sample.latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


@contextlib.asynccontextmanager
async def _async_client(name: str, url: str, concurrency: int) -> AsyncIterator[Call]:
    if name in ("ours", "ours-raw"):
        async with AfterShip(
            api_key=BENCH_KEY, base_url=url, rate_limit=None, max_concurrency=concurrency
        ) as client:
            if name == "ours":
                yield lambda tracking_id: client.tracking.get_tracking_by_id(tracking_id)
            else:
                raw = client.tracking.with_raw_response
                yield lambda tracking_id: raw.get_tracking_by_id(tracking_id)
        return
    connector = aiohttp.TCPConnector(limit=concurrency)
    if name == "aiohttp":
        async with aiohttp.ClientSession(connector=connector) as session:
            headers = {"as-api-key": BENCH_KEY}
            timeout = aiohttp.ClientTimeout(total=30)

            async def bare(tracking_id: str) -> object:
                address = f"{url}{TRACKING_PREFIX}/trackings/{tracking_id}"
                async with session.get(address, headers=headers, timeout=timeout) as response:
                    body = await response.json()
                    if response.status != 200:
                        raise RuntimeError(f"HTTP {response.status}")
                    return body["data"]

            yield bare
        return
    if name == "pyaftership":
        import pyaftership.base
        from pyaftership import AfterShip as PyAfterShip

        # pyaftership targets API v4 and sends the legacy ``aftership-api-key``
        # header, which the versioned API (2023-10 on) no longer accepts; the
        # session's default header supplies ``as-api-key`` so that its requests
        # are served.
        pyaftership.base.BASE_URL = f"{url}{TRACKING_PREFIX}"
        async with aiohttp.ClientSession(
            connector=connector, headers={"as-api-key": BENCH_KEY}
        ) as session:
            api = PyAfterShip(api_key=BENCH_KEY, session=session, timeout=30)
            request: Callable[[str], Awaitable[Any]] = api.trackings._call_api
            yield lambda tracking_id: request(f"trackings/{tracking_id}")
        return
    raise ValueError(f"not an async client: {name}")


async def _measure_async(
    name: str, url: str, ids: Sequence[str], concurrency: int, warmup: int
) -> Sample:
    async with _async_client(name, url, concurrency) as call:
        await _drive(call, ids[:warmup], concurrency, Sample(name, concurrency, 0, 0.0, 0.0))
        sample = Sample(name, concurrency, len(ids), 0.0, 0.0)
        with _timed(sample):
            await _drive(call, ids, concurrency, sample)
    return sample


async def _measure_bulk(url: str, ids: Sequence[str], concurrency: int, warmup: int) -> Sample:
    sample = Sample("ours-bulk", concurrency, len(ids), 0.0, 0.0)
    async with AfterShip(
        api_key=BENCH_KEY, base_url=url, rate_limit=None, max_concurrency=concurrency
    ) as client:
        await client.bulk.get(ids[:warmup], concurrency=concurrency).collect()
        with _timed(sample):
            async for result in client.bulk.get(ids, concurrency=concurrency):
                if not result.ok:
                    sample.errors += 1
                    sample.first_error = sample.first_error or repr(result.error)[:200]
    return sample


def _measure_official(url: str, ids: Sequence[str], concurrency: int, warmup: int) -> Sample:
    from tracking import Client, Configuration

    # SDK 10.0.1 (API 2026-07): the host from ``domain`` (or $AFTERSHIP_TRACKING_SDK_DOMAIN),
    # every operation's path hard-coded as /tracking/2026-07/...; API-key auth, default retries.
    client = Client(Configuration(domain=url, api_key=BENCH_KEY))
    tracking_api = client.tracking

    def run(batch: Sequence[str], sample: Sample) -> None:
        pending = iter(batch)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    tracking_id = next(pending, None)
                if tracking_id is None:
                    return
                started = time.perf_counter()
                try:
                    tracking_api.get_tracking_by_id(tracking_id)
                except Exception as exc:
                    with lock:
                        sample.errors += 1
                        sample.first_error = sample.first_error or f"{type(exc).__name__}: {exc}"
                sample.latencies.append(time.perf_counter() - started)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(worker) for _ in range(concurrency)]:
                future.result()

    run(ids[:warmup], Sample("official", concurrency, 0, 0.0, 0.0))
    sample = Sample("official", concurrency, len(ids), 0.0, 0.0)
    with _timed(sample):
        run(ids, sample)
    return sample


def measure(name: str, url: str, ids: Sequence[str], concurrency: int, warmup: int = 200) -> Sample:
    """Fetch every id once (after ``warmup`` untimed requests) and time it."""
    warmup = min(warmup, len(ids))
    if name == "official":
        return _measure_official(url, ids, concurrency, warmup)
    if name == "ours-bulk":
        return asyncio.run(_measure_bulk(url, ids, concurrency, warmup))
    return asyncio.run(_measure_async(name, url, ids, concurrency, warmup))

"""RedisRateLimiter against a real redis-server: windows, share, shared pauses and limits."""

from __future__ import annotations

import asyncio
import logging
import math
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio

from aftership_async import (
    AfterShip,
    ConfigurationError,
    Limiter,
    RateLimiter,
    RedisRateLimiter,
    bulk_traffic,
)
from aftership_async._policies import WINDOW_MARGIN

from ._server import RedisServer

KEY = "tracking GET /trackings/{id}"
ENDPOINT = "GET /trackings/{id}"


@pytest_asyncio.fixture
async def pair(
    redis_server: RedisServer, namespace: str
) -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    """Two limiters with their own connections, as two workers would have."""
    async with RedisRateLimiter.from_url(redis_server.url, namespace=namespace) as a:
        async with RedisRateLimiter.from_url(redis_server.url, namespace=namespace) as b:
            yield a, b


async def _grant_times(limiter: RedisRateLimiter, count: int, rate: float) -> list[float]:
    """Wall-clock times at which ``count`` concurrent acquires were granted."""
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire(KEY, ENDPOINT, rate)
        times.append(time.time())

    await asyncio.gather(*(one() for _ in range(count)))
    return times


def _per_second(times: Sequence[float]) -> Counter[int]:
    return Counter(int(t) for t in times)


@pytest.mark.slow
def test_it_is_a_limiter_and_redis_is_imported_lazily() -> None:
    assert isinstance(RateLimiter(), Limiter)
    code = (
        "import sys, aftership_async\n"
        "assert 'redis' not in sys.modules, 'importing aftership_async imported redis'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.slow
def test_without_redis_py_a_clear_configuration_error() -> None:
    code = (
        "import sys\n"
        "sys.modules['redis'] = None  # as if the extra were not installed\n"
        "from aftership_async import ConfigurationError, RedisRateLimiter\n"
        "try:\n"
        "    RedisRateLimiter.from_url('redis://127.0.0.1:6379/0', namespace='acme')\n"
        "except ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert "pip install 'aftership-async[redis]'" in out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"namespace": ""}, "namespace"),
        ({"namespace": "a{b}"}, "namespace"),
        ({"namespace": "acme", "share": 0}, "share"),
        ({"namespace": "acme", "share": 1.5}, "share"),
        ({"namespace": "acme", "fallback": 0}, "fallback"),
        ({"namespace": "acme", "timeout": 0}, "timeout"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RedisRateLimiter.from_url("redis://127.0.0.1:6379/0", **kwargs)  # type: ignore[arg-type]


def test_a_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="redis://"):
        RedisRateLimiter.from_url("http://127.0.0.1:6379", namespace="acme")


async def test_two_workers_share_one_window_budget_and_keep_the_margin(
    pair: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    a, b = pair
    rate = 10
    times_a, times_b = await asyncio.gather(_grant_times(a, 13, rate), _grant_times(b, 13, rate))
    times = times_a + times_b
    seconds = _per_second(times)
    assert max(seconds.values()) <= rate, seconds  # together, never over the limit
    assert rate in seconds.values(), seconds  # and a busy window is used in full
    late = [t for t in times if t - math.floor(t) >= 1 - WINDOW_MARGIN + 0.03]
    assert late == [], "a permit was issued in a window's last 100 ms"
    assert a.stats.redis_permits == b.stats.redis_permits == 13
    assert a.stats.local_permits == b.stats.local_permits == 0


async def test_no_permit_in_the_last_100_ms_of_a_second(
    pair: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    a, _ = pair
    await a.acquire(KEY, ENDPOINT, 50)  # connected: the next call is one quick round trip
    now = time.time()
    await asyncio.sleep(math.floor(now) + 1.95 - now)  # 50 ms before a second ends
    await a.acquire(KEY, ENDPOINT, 50)  # a fresh window with room: only the margin holds it
    granted = time.time()
    assert granted - math.floor(granted) < 0.5, "granted in the margin, not in the next second"
    assert a.stats.redis_waits == 1


async def test_bulk_takes_its_share_and_single_calls_use_the_headroom(
    pair: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    a, b = pair
    a.share = 0.5
    rate = 10
    bulk_times: list[float] = []
    single_times: list[float] = []

    async def bulk_worker() -> None:
        with bulk_traffic():
            bulk_times.extend(await _grant_times(a, 15, rate))

    async def single_calls() -> None:
        await asyncio.sleep(0.3)  # the bulk backlog is queued by now
        single_times.extend(await _grant_times(b, 5, rate))

    await asyncio.gather(bulk_worker(), single_calls())
    bulk_seconds = _per_second(bulk_times)
    assert max(bulk_seconds.values()) <= 5, bulk_seconds  # share 0.5 of 10
    assert max(_per_second(bulk_times + single_times).values()) <= rate
    # Single calls did not queue behind the 3 s bulk backlog.
    assert max(single_times) < max(bulk_times) - 1.0


async def test_a_pause_seen_by_one_worker_holds_every_worker(
    pair: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    a, b = pair
    await a.acquire(KEY, ENDPOINT, 10)
    reset = int(time.time()) + 2
    a.observe(
        KEY,
        {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    await a.flush()
    assert a.stats.pauses_published == 1
    await b.acquire(KEY, ENDPOINT, 10)
    assert time.time() >= reset - 0.01  # b, which saw nothing, waited for the reset
    assert b.stats.redis_waits >= 1


@pytest.mark.parametrize("unit", ["milliseconds", "delta"])
async def test_a_pause_in_the_other_spelling_holds_every_worker(
    pair: tuple[RedisRateLimiter, RedisRateLimiter], unit: str
) -> None:
    """RateLimit-* (Shipping's, Returns'), a reset in ms or seconds from now: the same pause."""
    a, b = pair
    await a.acquire(KEY, ENDPOINT, 10)
    reset = time.time() + 1.5
    value = str(int(reset * 1000)) if unit == "milliseconds" else "1.5"
    a.observe(KEY, {"ratelimit-limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": value})
    await a.flush()
    assert a.stats.pauses_published == 1
    await b.acquire(KEY, ENDPOINT, 10)
    assert time.time() >= reset - 0.05  # b, which saw nothing, waited for the reset


async def test_a_retry_after_seen_by_one_worker_holds_every_worker(
    pair: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    a, b = pair
    await a.acquire(KEY, ENDPOINT, 10)
    a.observe(KEY, {"Retry-After": "1"})
    until = time.time() + 1
    await a.flush()
    await b.acquire(KEY, ENDPOINT, 10)
    assert time.time() >= until - 0.05


async def test_a_limit_one_worker_learns_is_used_by_all(
    pair: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    a, b = pair
    await a.acquire(KEY, ENDPOINT, 10)
    a.observe(KEY, {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2"})
    await a.flush()
    times = await _grant_times(b, 7, 10)  # b is configured for 10/s
    seconds = _per_second(times)
    assert max(seconds.values()) <= 3, seconds


async def test_every_key_expires(
    redis_server: RedisServer, pair: tuple[RedisRateLimiter, RedisRateLimiter], namespace: str
) -> None:
    import redis.asyncio as redis_asyncio

    a, _ = pair
    await a.acquire(KEY, ENDPOINT, 10)
    await a.acquire("shipping GET /labels", "GET /labels", 10)
    a.observe(KEY, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + 1)})  # fmt: skip
    await a.flush()
    client = redis_asyncio.Redis.from_url(redis_server.url)
    try:
        keys = [key async for key in client.scan_iter(match=f"aftership:{{{namespace}}}:*")]
        assert len(keys) >= 4  # two windows, a limit, a pause
        for key in keys:
            ttl = await client.pttl(key)
            assert 0 < ttl <= 3600 * 1000, (key, ttl)
    finally:
        await client.aclose()


async def test_a_mapping_sets_rates_by_endpoint(redis_server: RedisServer, namespace: str) -> None:
    async with RedisRateLimiter.from_url(
        redis_server.url, namespace=namespace, rate_limit={ENDPOINT: 1.0}
    ) as limiter:
        started = time.monotonic()
        for _ in range(3):  # another endpoint: documented 50/s
            await limiter.acquire("tracking GET /couriers", "GET /couriers", 50)
        assert time.monotonic() - started < 1.8  # at 1/s, three would take over 2 s
        await limiter.acquire(KEY, ENDPOINT, 10)
        await limiter.acquire(KEY, ENDPOINT, 10)  # 1/s configured: the next window
        assert limiter.stats.redis_waits >= 1


async def test_unreachable_redis_paces_locally_logs_once_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="aftership_async")
    limiter = RedisRateLimiter.from_url(
        "redis://:s3cret-redis-pass@127.0.0.1:1/0",  # nothing listens on port 1
        namespace="acme",
        fallback=0.5,
    )
    async with limiter:
        started = time.monotonic()
        times = await _grant_times(limiter, 12, 20)  # paced locally at 10/s
        elapsed = time.monotonic() - started
    assert limiter.stats.local_permits == 12
    assert limiter.stats.redis_permits == 0
    assert limiter.stats.fallbacks == 1
    assert max(_per_second(times).values()) <= 10
    assert elapsed < 10  # never a hang
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert "pacing locally at 0.5" in warnings[0].getMessage()
    everything = caplog.text + repr(limiter)
    assert "s3cret-redis-pass" not in everything


async def test_a_stopped_redis_times_out_fast_and_the_limiter_comes_back(
    own_redis_server: RedisServer, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    import signal

    caplog.set_level(logging.INFO, logger="aftership_async")
    async with RedisRateLimiter.from_url(
        own_redis_server.url, namespace=namespace, retry_interval=0.5
    ) as limiter:
        await limiter.acquire(KEY, ENDPOINT, 50)
        assert limiter.stats.redis_permits == 1
        own_redis_server.signal(signal.SIGSTOP)  # alive but silent: a slow Redis
        try:
            started = time.monotonic()
            for _ in range(5):
                await limiter.acquire(KEY, ENDPOINT, 50)
            assert time.monotonic() - started < 3  # bounded by the 0.25 s timeout
            assert limiter.stats.local_permits == 5
        finally:
            own_redis_server.signal(signal.SIGCONT)
        await asyncio.sleep(0.6)  # past retry_interval
        await limiter.acquire(KEY, ENDPOINT, 50)
        assert limiter.stats.redis_permits == 2  # back on Redis
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1, messages
    assert sum("answers again" in m for m in messages) == 1, messages


async def test_a_client_with_the_limiter_sends_through_the_seam(
    redis_server: RedisServer, namespace: str
) -> None:
    from aftership_async.testing import FakeAfterShip

    async with FakeAfterShip(rate_limits=5) as fake:
        fake.add_trackings(["1Z999AA10123456784"])
        async with RedisRateLimiter.from_url(redis_server.url, namespace=namespace) as limiter:
            async with AfterShip(api_key="k", base_url=fake.url, rate_limit=limiter) as client:
                assert client._transport.rate_limiter is limiter
                await asyncio.gather(
                    *(client.tracking.get_trackings(tracking_numbers="1Z999AA10123456784")
                      for _ in range(8))
                )  # fmt: skip
            # Every 429 (the documented 6/s until the server's 5 is learned) was retried.
            assert client.stats.requests == 8 + client.stats.retries
            assert client.stats.rate_limited == fake.stats.rate_limited
            assert limiter.stats.redis_permits >= client.stats.requests


@pytest.mark.slow
async def test_a_new_event_loop_gets_new_connections(redis_server: RedisServer) -> None:
    """A Celery task per ``asyncio.run``: the limiter made in one loop works in the next."""
    code = (
        "import asyncio, sys\n"
        "from aftership_async import RedisRateLimiter\n"
        f"limiter = RedisRateLimiter.from_url({redis_server.url!r}, namespace='loops')\n"
        "async def task():\n"
        "    await limiter.acquire('tracking GET /x', 'GET /x', 50)\n"
        "for _ in range(3):\n"
        "    asyncio.run(task())\n"
        "asyncio.run(limiter.aclose())\n"
        "print(limiter.stats.redis_permits, limiter.stats.redis_errors)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert out.split() == ["3", "0"]


async def test_a_configured_rate_is_a_cap_that_a_learned_limit_cannot_raise(
    redis_server: RedisServer, namespace: str
) -> None:
    from aftership_async.testing import FakeAfterShip

    async with RedisRateLimiter.from_url(redis_server.url, namespace=namespace) as documented:
        # Another worker, on the documented rate, learned and published 50/s.
        await documented.acquire("tracking GET /couriers", "GET /couriers", 5)
        documented.observe("tracking GET /couriers", {"X-RateLimit-Limit": "50"})
        await documented.flush()
    times: list[float] = []
    async with (
        FakeAfterShip(rate_limits=50.0) as fake,
        RedisRateLimiter.from_url(redis_server.url, namespace=namespace, rate_limit=1.0) as capped,
        AfterShip(api_key="k", base_url=fake.url, rate_limit=capped) as client,
    ):
        started = time.monotonic()
        for _ in range(3):
            await client.tracking.get_couriers(active=True)  # answers say 50/s
            times.append(time.time())
        elapsed = time.monotonic() - started
    assert len(_per_second(times)) == 3, times  # one a second, as configured
    assert elapsed >= 1.0


async def test_a_released_permit_goes_back_to_the_shared_window(
    redis_server: RedisServer, namespace: str
) -> None:
    async with RedisRateLimiter.from_url(
        redis_server.url, namespace=namespace, rate_limit=1.0
    ) as limiter:
        permit = await limiter.acquire(KEY, ENDPOINT, 10)
        permit.release()
        permit.release()  # once only
        await limiter.flush()
        # Given back while its window was open (or that window has closed): either way
        # the next permit needs no wait for the next window, at 1/s.
        second = await limiter.acquire(KEY, ENDPOINT, 10)
        assert second.commit()
    assert limiter.stats.redis_waits == 0
    assert limiter.stats.released <= 1 and limiter.stats.redis_permits == 2


async def test_cancelled_waiters_leave_no_debt_in_the_local_fallback() -> None:
    # Redis unreachable: local pacing at 4/s x 0.25 = 1/s. Waiters are cancelled one after
    # another while they wait; before the fix each had taken a local permit before
    # sleeping, and after 15 of them the next caller waited ~14 s.
    limiter = RedisRateLimiter.from_url(
        "redis://127.0.0.1:1/0", namespace="acme", rate_limit=4.0, fallback=0.25
    )
    async with limiter:
        cancelled = 0
        for _ in range(15):
            try:
                await asyncio.wait_for(limiter.acquire(KEY, ENDPOINT, 4), 0.1)
            except TimeoutError:
                cancelled += 1
        assert cancelled >= 10
        started = time.monotonic()
        permit = await asyncio.wait_for(limiter.acquire(KEY, ENDPOINT, 4), 30)
        assert time.monotonic() - started < 5
        permit.release()
    assert limiter.stats.redis_permits == 0

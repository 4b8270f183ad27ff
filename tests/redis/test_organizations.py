"""Per-organisation budgets on one Redis: ``with_options(api_key=..., organization=...)``
with a ``RedisRateLimiter`` keys the new organisation's budget by its name (issue 22)."""

from __future__ import annotations

import asyncio

from aftership_async import AfterShip, RedisRateLimiter
from aftership_async.testing import FakeAfterShip

from ._server import RedisServer

LIMIT = 4


async def test_each_organisation_draws_from_its_own_namespace_on_one_redis(
    redis_server: RedisServer, namespace: str
) -> None:
    import redis.asyncio as redis_asyncio

    limiter = RedisRateLimiter.from_url(redis_server.url, namespace=namespace, rate_limit=LIMIT)
    other = f"{namespace}-b"
    try:
        async with (
            FakeAfterShip(rate_limits=LIMIT) as fake,
            AfterShip(api_key="key-of-a", base_url=fake.url, rate_limit=limiter) as a,
        ):
            b = a.with_options(api_key="secret-key-of-b", organization=other)
            await asyncio.gather(
                *(client.tracking.get_couriers(active=True) for client in (a, b) for _ in range(8))
            )
            assert fake.stats.rate_limited == 0
            assert a.stats.requests == b.stats.requests == 8
    finally:
        await limiter.aclose()
    client = redis_asyncio.Redis.from_url(redis_server.url)
    try:
        mine = [k async for k in client.scan_iter(match=f"aftership:{{{namespace}}}:*")]
        theirs = [k async for k in client.scan_iter(match=f"aftership:{{{other}}}:*")]
        assert mine and theirs  # two budgets, one Redis
        every = [k async for k in client.scan_iter(match="*")]
        assert not [k for k in every if b"secret-key-of-b" in k]  # named by the user, not the key
    finally:
        await client.aclose()


async def test_the_organisations_limiter_borrows_the_connections_and_closes_none(
    redis_server: RedisServer, namespace: str
) -> None:
    limiter = RedisRateLimiter.from_url(redis_server.url, namespace=namespace, rate_limit=50)
    sibling = limiter.for_organization(f"{namespace}-b")
    assert (sibling.namespace, sibling.setting, sibling.timeout) == (
        f"{namespace}-b",
        50,
        limiter.timeout,
    )
    permit = await sibling.acquire("tracking GET /couriers", "GET /couriers", 10.0)
    assert permit.commit()
    await sibling.aclose()  # closes nothing of the lender's
    assert (await limiter.acquire("tracking GET /couriers", "GET /couriers", 10.0)).commit()
    assert limiter.stats.redis_permits >= 1 and sibling.stats.redis_permits >= 1
    await limiter.aclose()

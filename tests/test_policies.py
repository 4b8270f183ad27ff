"""Retries, backoff hints, the rate limiter and pagination (aioresponses, no server)."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import pytest
from aioresponses import aioresponses

from aftership_async import (
    AfterShip,
    APIConnectionError,
    APIError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    RateLimiter,
    RateLimitError,
    RateLimitSetting,
    RequestOptions,
    RetryPolicy,
)
from aftership_async._policies import WINDOW_MARGIN, _Bucket

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"
R = "https://api.aftership.com/returns/2026-07"
OK = {"meta": {"code": 200}, "data": {"total": 0, "couriers": []}}
FAST = RetryPolicy(max_attempts=3, backoff=0.001, max_backoff=0.002)


def error(code: int) -> dict[str, object]:
    return {"meta": {"code": code, "message": "nope", "type": "X"}, "data": {}}


async def test_5xx_then_success_is_retried(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(f"{T}/couriers?active=true", status=503, payload=error(503))
    mocked.get(f"{T}/couriers?active=true", status=200, payload=OK)
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with caplog.at_level(logging.DEBUG, logger="aftership_async"):
            data = await client.tracking.get_user_couriers()
    assert data.total == 0
    assert client.stats.retries == 1 and client.stats.requests == 2
    assert "retrying GET /couriers" in caplog.text and API_KEY not in caplog.text


async def test_attempts_are_bounded(mocked: aioresponses) -> None:
    for _ in range(5):
        mocked.get(f"{T}/couriers?active=true", status=500, payload=error(500))
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(InternalServerError):
            await client.tracking.get_user_couriers()
    assert client.stats.requests == 3


async def test_4xx_is_not_retried(mocked: aioresponses) -> None:
    mocked.get(f"{T}/trackings/x", status=404, payload=error(4004))
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(NotFoundError):
            await client.tracking.get_tracking_by_id("x")
    assert client.stats.requests == 1


async def test_connection_errors_are_retried(mocked: aioresponses) -> None:
    mocked.get(f"{T}/couriers?active=true", exception=ConnectionResetError("reset"))
    mocked.get(f"{T}/couriers?active=true", payload=OK)
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        await client.tracking.get_user_couriers()
    assert client.stats.retries == 1


async def test_shipping_retryable_business_error(mocked: aioresponses) -> None:
    mocked.get(
        f"{S}/labels/l1",
        status=200,
        payload={
            "meta": {"code": 4101, "message": "retry", "details": [], "retryable": True},
            "data": {},
        },
    )
    mocked.get(
        f"{S}/labels/l1",
        status=200,
        payload={
            "meta": {"code": 200, "message": "OK", "details": []},
            "data": {"id": "l1", "status": "created"},
        },
    )
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        label = await client.shipping.get_label_by_id("l1")
    assert label.id == "l1" and client.stats.retries == 1


async def test_retry_after_is_honoured(mocked: aioresponses) -> None:
    mocked.get(f"{R}/item-tags", status=429, payload=error(42900), headers={"Retry-After": "0.2"})
    mocked.get(f"{R}/item-tags", payload={"meta": {"code": 20000}, "data": {"item_tags": []}})
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        started = time.monotonic()
        await client.returns.get_item_tags()
    assert time.monotonic() - started >= 0.2
    assert client.stats.rate_limited == 1


def test_rate_limit_reset_is_honoured() -> None:
    exc = RateLimitError(
        "slow down", status_code=429, headers={"X-RateLimit-Reset": str(time.time() + 0.7)}
    )
    delay = RetryPolicy().delay(exc, 1, random.Random(0))
    assert delay is not None and 0.5 < delay <= 0.7


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=10, backoff=0.5, max_backoff=4.0)
    exc = APIConnectionError("reset")
    rng = random.Random(1)
    delays = [policy.delay(exc, n, rng) for n in range(1, 7)]
    assert all(d is not None for d in delays)
    for n, d in enumerate(delays, start=1):
        ceiling = min(4.0, 0.5 * 2 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling  # type: ignore[operator]
    assert policy.delay(exc, 10, rng) is None


def test_retry_post_is_gone_the_operation_declares_its_safety() -> None:
    # RetryPolicy no longer decides by HTTP method: each operation's spec says what is safe.
    with pytest.raises(TypeError):
        RetryPolicy(retry_post=False)  # type: ignore[call-arg]


async def test_per_call_retry_override(mocked: aioresponses) -> None:
    mocked.get(f"{T}/couriers?active=true", status=500, payload=error(500))
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(APIError):
            await client.tracking.get_user_couriers(
                options=RequestOptions(retry=RetryPolicy(max_attempts=1))
            )
    assert client.stats.requests == 1


async def test_limiter_spaces_requests_at_the_documented_rate() -> None:
    limiter = RateLimiter("documented")
    started = time.monotonic()
    for _ in range(6):
        await limiter.acquire("k", "GET /trackings/{id}", 20.0)
    # six permits at 20/s: the first is free, five more are spaced by 50 ms,
    # tightened by the window margin (see _Bucket)
    assert time.monotonic() - started >= 5 * 0.05 * (1 - WINDOW_MARGIN) - 0.005


def test_bucket_counts_each_wall_second_and_keeps_off_its_end() -> None:
    bucket = _Bucket(3.0)
    t0 = bucket.stamp
    for i in range(3):  # 3/s, spaced by 0.3 s (0.333 tightened by the margin)
        assert bucket.wait(t0 + 0.31 * i, 100.0 + 0.31 * i) == 0.0
        bucket.take(t0 + 0.31 * i, 100.0 + 0.31 * i)
    # the window is full: wait for the next wall-clock second
    assert bucket.wait(t0 + 0.65, 100.65) == pytest.approx(0.35)
    # a new window, but its last WINDOW_MARGIN seconds issue nothing
    late = 101 + 1 - WINDOW_MARGIN / 2
    assert bucket.wait(t0 + late - 100, late) == pytest.approx(WINDOW_MARGIN / 2)
    assert bucket.wait(t0 + 2.0, 102.0) == 0.0


def test_a_permit_given_back_is_uncounted_and_a_late_one_is_refused() -> None:
    bucket = _Bucket(1.0)
    t0 = bucket.stamp
    permit = bucket.take(t0, 100.2)
    assert bucket.wait(t0 + 0.1, 100.3) > 0.5  # 1/s: the window is full
    permit.release()
    assert bucket.count == 0 and bucket.wait(t0 + 0.1, 100.3) == 0.0
    permit.release()  # idempotent: no negative count
    assert bucket.count == 0
    # a permit whose window has closed is released on commit, not sent
    stale = bucket.take(time.monotonic() - 5.0, time.time() - 5.0)
    assert not stale.commit() and stale.state == "released"


async def test_limiter_obeys_remaining_zero_and_a_lower_server_limit() -> None:
    limiter = RateLimiter(1000.0)
    await limiter.acquire("k", "GET /x", 5.0)
    limiter.observe(
        "k",
        {
            "X-RateLimit-Limit": "8",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(time.time() + 0.3),
        },
    )
    started = time.monotonic()
    await limiter.acquire("k", "GET /x", 5.0)
    assert time.monotonic() - started >= 0.2
    assert limiter._buckets["k"].rate == 8  # a server's limit may lower a configured rate


@pytest.mark.parametrize(
    ("setting", "after_8", "after_2"),
    [
        ("documented", 8.0, 2.0),  # the documented rate follows the server up and down
        (5.0, 5.0, 2.0),  # a configured rate is a cap: lowered, never raised
        ({"GET /x": 5.0}, 5.0, 2.0),
        ({"GET /other": 1.0}, 8.0, 2.0),  # left out of the mapping: documented
    ],
)
async def test_a_server_limit_never_raises_a_configured_rate(
    setting: RateLimitSetting, after_8: float, after_2: float
) -> None:
    limiter = RateLimiter(setting)
    await limiter.acquire("k", "GET /x", 5.0)
    limiter.observe("k", {"X-RateLimit-Limit": "8"})
    assert limiter._buckets["k"].rate == after_8
    limiter.observe("k", {"X-RateLimit-Limit": "2"})
    assert limiter._buckets["k"].rate == after_2
    limiter.observe("k", {"X-RateLimit-Limit": "8"})
    assert limiter._buckets["k"].rate == after_8


async def test_limiter_off() -> None:
    limiter = RateLimiter(None)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire("k", "GET /x", 1.0) for _ in range(50)))
    assert time.monotonic() - started < 0.5


# -- pagination ---------------------------------------------------------


def tracking(n: int) -> dict[str, object]:
    return {
        "id": f"id{n}",
        "tracking_number": f"N{n}",
        "slug": "ups",
        "created_at": "2024-05-01T10:00:00Z",
    }


async def test_cursor_pagination(mocked: aioresponses, client: AfterShip) -> None:
    mocked.get(
        f"{T}/trackings?limit=2&tag=InTransit",
        payload={
            "meta": {"code": 200},
            "data": {
                "pagination": {"total": 3, "next_cursor": "c2", "has_next_page": True},
                "trackings": [tracking(1), tracking(2)],
            },
        },
    )
    mocked.get(
        f"{T}/trackings?cursor=c2&limit=2&tag=InTransit",
        payload={
            "meta": {"code": 200},
            "data": {
                "pagination": {"total": 3, "next_cursor": None, "has_next_page": False},
                "trackings": [tracking(3)],
            },
        },
    )
    ids = [t.id async for t in client.tracking.iter_trackings(limit=2, tag="InTransit")]
    assert ids == ["id1", "id2", "id3"]


async def test_next_token_pagination(mocked: aioresponses, client: AfterShip) -> None:
    label = {"id": "l", "status": "created"}
    mocked.get(
        f"{S}/labels?limit=1",
        payload={
            "meta": {"code": 200, "message": "OK", "details": []},
            "data": {"next_token": "t2", "limit": 1, "labels": [label]},
        },
    )
    mocked.get(
        f"{S}/labels?limit=1&next_token=t2",
        payload={
            "meta": {"code": 200, "message": "OK", "details": []},
            "data": {"next_token": "", "limit": 1, "labels": [label]},
        },
    )
    assert len([x async for x in client.shipping.iter_labels(limit=1)]) == 2


def a_return(n: int) -> dict[str, object]:
    return {
        "id": f"r{n}",
        "rma_number": f"A{n}",
        "approval_status": "submitted",
        "created_at": "2024-05-01T10:00:00Z",
    }


def returns_page(n: int, more: bool, item: int | None = None) -> dict[str, object]:
    return {
        "meta": {"code": 20000},
        "data": {
            "returns": [a_return(n if item is None else item)],
            "pagination": {"total": 9, "page": n, "limit": 1, "has_next_page": more},
        },
    }


async def test_page_pagination(mocked: aioresponses, client: AfterShip) -> None:
    for n, more in ((1, True), (2, False)):
        mocked.get(f"{R}/returns?page={n}", payload=returns_page(n, more))
    assert [x.id async for x in client.returns.iter_returns()] == ["r1", "r2"]


async def test_a_server_repeating_the_same_page_stops_with_an_error(
    mocked: aioresponses, client: AfterShip
) -> None:
    # A server that ignores ``page``: page 1's items, and "more", every time.
    for n in range(1, 4):
        mocked.get(f"{R}/returns?page={n}", payload=returns_page(n, True, item=1))
    seen = []
    with pytest.raises(InvalidResponseError, match="page 2 with the items of page 1"):
        async for item in client.returns.iter_returns():
            seen.append(item.id)
    assert seen == ["r1"]  # the repeated items are not yielded again


async def test_pages_that_share_some_items_are_not_a_repeat(
    mocked: aioresponses, client: AfterShip
) -> None:
    # Items shifting between requests (one inserted ahead) repeat an item, not a page.
    pages = [["r1", "r2"], ["r2", "r3"], ["r4"]]
    for n, ids in enumerate(pages, start=1):
        body = returns_page(n, n < len(pages))
        body["data"]["returns"] = [a_return(int(i[1:])) for i in ids]  # type: ignore[index]
        mocked.get(f"{R}/returns?page={n}", payload=body)
    assert [x.id async for x in client.returns.iter_returns()] == ["r1", "r2", "r2", "r3", "r4"]


async def test_a_repeated_cursor_stops_with_an_error(
    mocked: aioresponses, client: AfterShip
) -> None:
    body = {
        "meta": {"code": 200},
        "data": {
            "pagination": {"total": 9, "next_cursor": "same", "has_next_page": True},
            "trackings": [tracking(1)],
        },
    }
    mocked.get(f"{T}/trackings", payload=body)
    mocked.get(f"{T}/trackings?cursor=same", payload=body, repeat=True)
    with pytest.raises(Exception, match="repeated"):
        async for _ in client.tracking.iter_trackings():
            pass

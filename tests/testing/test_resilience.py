"""Rate limits, latency and injected faults, seen from the real client."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from aftership_async import (
    AfterShipError,
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    InvalidResponseError,
    RateLimitError,
    TrackingAlreadyExistsError,
)
from aftership_async.testing import FAULT_KINDS, FakeAfterShip

from .helpers import body, client_for


async def test_rate_limit_refuses_the_excess_with_headers() -> None:
    async with FakeAfterShip(rate_limits=5.0) as fake:
        async with client_for(fake, api_key="k") as client:
            first = int(time.time())
            results = await asyncio.gather(
                *(client.tracking.get_couriers(active=True) for _ in range(20)),
                return_exceptions=True,
            )
            windows = int(time.time()) - first + 1
        limited = [r for r in results if isinstance(r, RateLimitError)]
        assert len(limited) + sum(not isinstance(r, Exception) for r in results) == 20
        # 20 at once against 5/s: at most 5 pass in each window the burst spanned (two on
        # an idle machine; a busy one may stretch it over a third).
        assert 20 - len(limited) <= 5 * windows
        assert len(limited) >= 5
        assert fake.stats.rate_limited == len(limited)
        assert fake.stats.statuses[429] == len(limited)
        error = limited[0]
        assert error.code == 429 and error.type == "TooManyRequests"
        headers = {k.lower(): v for k, v in error.headers.items()}
        assert headers["x-ratelimit-limit"] == "5"
        assert headers["x-ratelimit-remaining"] == "0"
        assert int(headers["x-ratelimit-reset"]) > 0
        assert int(headers["retry-after"]) >= 1


async def test_rate_limit_headers_on_every_answer() -> None:
    limits = {"GET /trackings/{id}": 2.0}
    # (path, limit, the spelling the API's spec declares in x-aftership.rate-limit-headers)
    expected = [
        ("/tracking/2026-07/trackings", "6", "X-RateLimit-"),  # documented per-endpoint
        ("/tracking/2026-07/trackings/missing", "2", "X-RateLimit-"),  # overridden
        ("/postmen/v3/labels", "10", "RateLimit-"),
        ("/returns/2026-07/returns", "10", "RateLimit-"),
    ]
    async with (
        FakeAfterShip(rate_limits=limits) as fake,
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
    ):
        for path, limit, prefix in expected:
            async with session.get(fake.url + path) as resp:
                assert resp.headers[prefix + "Limit"] == limit, path
                assert int(resp.headers[prefix + "Remaining"]) < int(limit)
                assert int(resp.headers[prefix + "Reset"]) >= int(time.time())
                other = "RateLimit-" if prefix == "X-RateLimit-" else "X-RateLimit-"
                assert other + "Limit" not in resp.headers  # one spelling per API


async def test_rate_limits_off_by_default(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake, api_key="k") as client:
        await asyncio.gather(*(client.tracking.get_couriers(active=True) for _ in range(30)))
    assert aftership_fake.stats.rate_limited == 0


async def _outcomes(fake: FakeAfterShip, n: int, timeout: float = 5.0) -> list[str]:
    outcomes = []
    async with client_for(fake, api_key="k", timeout=timeout) as client:
        for _ in range(n):
            try:
                await client.tracking.get_couriers(active=True)
                outcomes.append("ok")
            except AfterShipError as exc:
                outcomes.append(type(exc).__name__)
    return outcomes


async def test_fault_rate_is_about_right_and_seeded() -> None:
    async with FakeAfterShip(fault_rate=0.2, seed=3, slow_seconds=0.01) as fake:
        outcomes = await _outcomes(fake, 200)
        requests = sum(fake.stats.requests.values())
        faults = sum(fake.stats.faults.values())
    # Binomial(requests, 0.2): mean ~40, sd ~5.7; allow +-5 sd.
    assert abs(faults - 0.2 * requests) <= 5 * (requests * 0.2 * 0.8) ** 0.5
    assert len(set(fake.stats.faults)) >= 5
    assert outcomes.count("ok") >= 200 - faults

    async with FakeAfterShip(fault_rate=0.2, seed=3, slow_seconds=0.01) as again:
        assert await _outcomes(again, 200) == outcomes
        assert again.stats.faults == fake.stats.faults
    async with FakeAfterShip(fault_rate=0.2, seed=4, slow_seconds=0.01) as other:
        assert await _outcomes(other, 200) != outcomes


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("429", RateLimitError),
        ("500", InternalServerError),
        ("503", InternalServerError),
        ("502_html", InternalServerError),
        ("drop", APIConnectionError),
        ("slow", APITimeoutError),
        ("truncated", InvalidResponseError),
        ("malformed", InvalidResponseError),
    ],
)
async def test_each_fault_kind_maps_to_its_exception(kind: str, error: type[Exception]) -> None:
    assert kind in FAULT_KINDS
    async with FakeAfterShip(fault_rate=1.0, faults=[kind], slow_seconds=2.0) as fake:
        async with client_for(fake, api_key="k", timeout=0.3) as client:
            with pytest.raises(error) as excinfo:
                await client.tracking.get_trackings()
            if kind == "drop":
                assert not isinstance(excinfo.value, APITimeoutError)
            if kind == "429":
                headers = {k.lower() for k in excinfo.value.headers}  # type: ignore[attr-defined]
                assert {"x-ratelimit-limit", "x-ratelimit-reset", "retry-after"} <= headers
            if kind == "502_html":
                assert "502 Bad Gateway" in str(excinfo.value)
            # a faulted create creates nothing (except "drop", see below)
            with pytest.raises(error):
                await client.tracking.create_tracking(
                    body("CreateTrackingRequest", {"tracking_number": "123456789012"})
                )
        assert fake.stats.faults[kind] >= 2
        assert len(fake.trackings) == (1 if kind == "drop" else 0)


async def test_dropped_create_is_ambiguous_and_retry_meets_4003() -> None:
    async with (
        FakeAfterShip(fault_rate=1.0, faults=["drop"]) as fake,
        client_for(fake, api_key="k") as client,
    ):
        request = body("CreateTrackingRequest", {"tracking_number": "123456789012"})
        with pytest.raises(APIConnectionError):
            await client.tracking.create_tracking(request)
        assert len(fake.trackings) == 1 and fake.stats.created["tracking"] == 1
        assert fake.stats.statuses == {}  # nothing was sent
        fake.fault_rate = 0.0
        with pytest.raises(TrackingAlreadyExistsError):
            await client.tracking.create_tracking(request)


async def test_latency_is_applied_and_close_releases_stalls() -> None:
    async with FakeAfterShip(latency=(0.01, 0.02)) as fake, client_for(fake) as client:
        await client.tracking.get_couriers(active=True)
    # a stalled answer does not hold up close()
    fake = FakeAfterShip(fault_rate=1.0, faults=["slow"], slow_seconds=60)
    await fake.start()
    async with client_for(fake, api_key="k", timeout=0.2) as client:
        with pytest.raises(APITimeoutError):
            await client.tracking.get_couriers(active=True)
    await asyncio.wait_for(fake.close(), timeout=10)

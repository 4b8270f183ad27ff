"""Damaged answers: corrupt 2xx bodies are retried, odd Retry-After values ignored,
oversized bodies refused without being read (aioresponses and a local aiohttp server)."""

from __future__ import annotations

import gzip
import random
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aioresponses import aioresponses

from aftership_async import (
    AfterShip,
    APIConnectionError,
    ConfigurationError,
    InvalidResponseError,
    RateLimitError,
    RetryPolicy,
)
from aftership_async._envelope import CorruptResponseError

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
OK = {"meta": {"code": 200}, "data": {"total": 0, "couriers": []}}
FAST = RetryPolicy(max_attempts=3, backoff=0.001, max_backoff=0.002)


@pytest.mark.parametrize(
    "body",
    [
        '{"meta": {"code": 200}, "data": {"total": 0, "cour',  # truncated
        "{'meta': {'code': 200}, 'data': ",  # malformed
        "<html>captive portal</html>",
        "",
    ],
    ids=["truncated", "malformed", "html", "empty"],
)
async def test_a_corrupt_success_is_retried_like_a_dropped_connection(
    mocked: aioresponses, body: str
) -> None:
    mocked.get(f"{T}/couriers?active=true", status=200, body=body)
    mocked.get(f"{T}/couriers?active=true", status=200, payload=OK)
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        data = await client.tracking.get_user_couriers()
    assert data.total == 0
    assert client.stats.requests == 2 and client.stats.retries == 1


async def test_a_corrupt_create_is_retried_too(mocked: aioresponses) -> None:
    # create_tracking has a natural key: a retry that meets 4003 says an earlier attempt
    # may have created it (bulk resolves it to the existing tracking).
    mocked.post(f"{T}/trackings", status=201, body='{"meta": {"code": 201}, "data": {"id"')
    mocked.post(
        f"{T}/trackings",
        status=400,
        payload={"meta": {"code": 4003, "message": "exists", "type": "BadRequest"}, "data": {}},
    )
    from aftership_async import CreateTrackingRequest, TrackingAlreadyExistsError

    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(TrackingAlreadyExistsError, match="earlier attempt") as info:
            await client.tracking.create_tracking(CreateTrackingRequest(tracking_number="1Z1"))
    assert info.value.retried_after == "CorruptResponseError"
    assert client.stats.requests == 2


async def test_a_persistently_corrupt_answer_ends_as_invalid_response(
    mocked: aioresponses,
) -> None:
    for _ in range(3):
        mocked.get(f"{T}/couriers?active=true", status=200, body="not json")
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(InvalidResponseError) as info:
            await client.tracking.get_user_couriers()
    # Both what it is (an unreadable answer) and how it behaves (a transport fault).
    assert isinstance(info.value, CorruptResponseError)
    assert isinstance(info.value, APIConnectionError)
    assert client.stats.requests == 3


async def test_a_well_formed_answer_of_the_wrong_shape_is_not_retried(
    mocked: aioresponses,
) -> None:
    mocked.get(f"{T}/couriers?active=true", status=200, payload={"meta": {"code": 200}})
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(InvalidResponseError) as info:
            await client.tracking.get_user_couriers()
    assert not isinstance(info.value, APIConnectionError)
    assert client.stats.requests == 1


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-1", "1e999", "soon", " "])
def test_a_retry_after_that_is_not_a_finite_non_negative_number_is_ignored(value: str) -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=1.0)
    exc = RateLimitError("slow down", status_code=429, headers={"Retry-After": value})
    delay = policy.delay(exc, 1, random.Random(0))
    # The policy's own backoff (0.5 to 1 s), not "at once" and not forever.
    assert delay is not None and 0.5 <= delay <= 1.0


def test_a_sane_retry_after_still_wins() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=1.0)
    for value, expected in (("0", 0.0), ("2.5", 2.5)):
        exc = RateLimitError("x", status_code=429, headers={"Retry-After": value})
        assert policy.delay(exc, 1, random.Random(0)) == expected
    past = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 60))
    exc = RateLimitError("x", status_code=429, headers={"Retry-After": past})
    assert policy.delay(exc, 1, random.Random(0)) == 0.0


def test_a_non_finite_rate_limit_reset_is_ignored() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=1.0)
    exc = RateLimitError("x", status_code=429, headers={"X-RateLimit-Reset": "nan"})
    delay = policy.delay(exc, 1, random.Random(0))
    assert delay is not None and 0.5 <= delay <= 1.0


# -- the response size cap, against a real server (aiohttp decompresses) ------

#: Bytes the big handlers wrote, to show the client stopped reading early.
SENT: dict[str, int] = {}


async def _big_chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    SENT["chunked"] = 0
    await response.write(b'{"meta": {"code": 200}, "data": {"x": "')
    try:
        for _ in range(4096):  # up to 256 MiB, if nobody stopped reading
            await response.write(b"x" * 65536)
            SENT["chunked"] += 65536
    except (ConnectionResetError, ConnectionError):
        pass
    return response


async def _gzip_bomb(request: web.Request) -> web.Response:
    inflated = b'{"meta": {"code": 200}, "data": {"x": "' + b"x" * 3_000_000 + b'"}}'
    return web.Response(
        body=gzip.compress(inflated),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


async def _declared(request: web.Request) -> web.Response:
    return web.Response(body=b'{"meta": {"code": 200}, "data": {"total": 0, "couriers": []}}')


@pytest.fixture
async def big_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/tracking/2026-07/couriers", _declared)
    app.router.add_get("/tracking/2026-07/trackings", _big_chunked)
    app.router.add_get("/tracking/2026-07/courier-connections", _gzip_bomb)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_body_over_the_cap_is_refused_without_reading_the_rest(big_server: str) -> None:
    async with AfterShip(
        api_key=API_KEY, base_url=big_server, rate_limit=None, max_response_bytes=1_000_000
    ) as client:
        # Declared length under the cap: read as usual.
        assert (await client.tracking.get_user_couriers()).total == 0
        with pytest.raises(InvalidResponseError, match="max_response_bytes=1000000") as info:
            await client.tracking.get_trackings()
        assert not isinstance(info.value, APIConnectionError)  # refused, not retried
        assert client.stats.requests == 2
        # Decompressed bytes count: 3 MB inflated from a few KB on the wire.
        with pytest.raises(InvalidResponseError, match="larger than max_response_bytes"):
            await client.tracking.get_courier_connections()
    # The server was cut off long before its 256 MiB.
    assert SENT["chunked"] < 64 * 1024 * 1024


async def test_the_cap_defaults_to_64_mib_and_is_validated() -> None:
    async with AfterShip(api_key=API_KEY) as client:
        assert client._transport.max_response_bytes == 64 * 1024 * 1024
    with pytest.raises(ConfigurationError):
        AfterShip(api_key=API_KEY, max_response_bytes=0)

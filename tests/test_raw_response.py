"""Response metadata on success (``with_raw_response``) and ``with_options`` (issue 14, item 1)."""

from __future__ import annotations

import inspect

import pytest
from aioresponses import aioresponses

from aftership_async import (
    NO_RETRY,
    AfterShip,
    APIResponse,
    GetCouriersResponseData,
    InvalidResponseError,
    NotFoundError,
    RateLimitState,
    Tracking,
)
from aftership_async._generated.returns.api import ReturnsAPI, ReturnsAPIWithRawResponse
from aftership_async._generated.shipping.api import ShippingAPI, ShippingAPIWithRawResponse
from aftership_async._generated.tracking.api import TrackingAPI, TrackingAPIWithRawResponse

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
TRACKING = {"id": "t1", "tracking_number": "1Z999", "slug": "ups", "tag": "InTransit"}
HEADERS = {
    "X-Request-Id": "req-42",
    "X-RateLimit-Limit": "5",
    "X-RateLimit-Remaining": "4",
    "X-RateLimit-Reset": "1767225600",
    "as-api-version": "2026-07",
}


@pytest.mark.parametrize(
    ("group", "raw"),
    [
        (TrackingAPI, TrackingAPIWithRawResponse),
        (ShippingAPI, ShippingAPIWithRawResponse),
        (ReturnsAPI, ReturnsAPIWithRawResponse),
    ],
)
def test_every_method_has_a_raw_twin_with_the_same_parameters(group: type, raw: type) -> None:
    client = AfterShip(api_key=API_KEY)
    api = getattr(client, group.API.name)
    twin = api.with_raw_response
    assert isinstance(twin, raw) and api.with_raw_response is twin  # built once
    methods = {
        name
        for name, value in vars(group).items()
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    }
    assert methods and methods == set(vars(twin))
    for name in methods:
        assert inspect.signature(getattr(twin, name)) == inspect.signature(getattr(api, name))


async def test_a_raw_response_carries_the_metadata_and_parses_on_demand(
    mocked: aioresponses,
) -> None:
    mocked.get(
        f"{T}/trackings/t1?lang=en",
        payload={"meta": {"code": 200}, "data": TRACKING},
        headers=HEADERS,
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        response = await client.tracking.with_raw_response.get_tracking_by_id("t1", lang="en")
    assert isinstance(response, APIResponse)
    assert response.status_code == 200
    assert response.request_id == "req-42"
    assert response.headers["as-api-version"] == "2026-07"
    assert response.rate_limit == RateLimitState(limit=5, remaining=4, reset=1767225600.0)
    assert b'"tracking_number":"1Z999"' in response.content.replace(b" ", b"")
    tracking = response.parse()
    assert isinstance(tracking, Tracking) and tracking.tracking_number == "1Z999"
    assert response.parse() is tracking  # decoded once
    assert "req-42" in repr(response) and API_KEY not in repr(response)


async def test_aliases_and_errors_through_the_raw_path(mocked: aioresponses) -> None:
    mocked.get(
        f"{T}/couriers?active=true", payload={"meta": {"code": 200}, "data": {"couriers": []}}
    )
    mocked.get(
        f"{T}/trackings/nope",
        status=404,
        payload={"meta": {"code": 4004, "type": "NotFound", "message": "Tracking does not exist."}},
    )
    mocked.get(f"{T}/trackings/bad", payload={"meta": {"code": 200}, "data": {"id": 5}})
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        couriers = await client.tracking.with_raw_response.get_user_couriers()
        assert isinstance(couriers.parse(), GetCouriersResponseData)
        assert couriers.rate_limit == RateLimitState(None, None, None)
        with pytest.raises(NotFoundError):  # errors raise, as from the plain method
            await client.tracking.with_raw_response.get_tracking_by_id("nope")
        bad = await client.tracking.with_raw_response.get_tracking_by_id("bad")
        assert bad.status_code == 200  # the metadata is there even when the data is not valid
        with pytest.raises(InvalidResponseError):
            bad.parse()
        # Outside with_raw_response, the same client answers typed data again.
        mocked.get(f"{T}/trackings/t1", payload={"meta": {"code": 200}, "data": TRACKING})
        assert isinstance(await client.tracking.get_tracking_by_id("t1"), Tracking)


async def test_with_options_shares_the_session_and_overrides_per_call_defaults(
    mocked: aioresponses,
) -> None:
    async with AfterShip(api_key=API_KEY, rate_limit="documented") as client:
        fast = client.with_options(timeout=2.5, retry=NO_RETRY, rate_limit=None)
        assert fast._transport.timeout == 2.5 and client._transport.timeout == 30.0
        assert fast._transport.retry is NO_RETRY and client._transport.retry is not NO_RETRY
        assert fast._transport.rate_limiter.setting is None
        assert client._transport.rate_limiter.setting == "documented"
        shared = client.with_options(timeout=1)._transport
        assert shared.rate_limiter is client._transport.rate_limiter  # one budget
        assert shared.versions is client._transport.versions
        assert await fast._transport.open() is await client._transport.open()
        for _ in range(2):
            mocked.get(f"{T}/couriers", status=503, payload={"meta": {"code": 503}})
        with pytest.raises(Exception) as info:
            await fast.tracking.get_all_couriers()  # NO_RETRY: one attempt only
        assert type(info.value).__name__ == "InternalServerError"
        assert client.stats.requests == 1  # statistics are shared
        await fast.close()  # leaves the shared session open
        session = await client._transport.open()
        assert not session.closed
    assert session.closed


def test_with_options_validates() -> None:
    client = AfterShip(api_key=API_KEY)
    with pytest.raises(ValueError, match="timeout must be positive"):
        client.with_options(timeout=0)

"""Each API's error envelopes become the right exception, with code and message."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from aftership_async import (
    AfterShip,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TrackingAlreadyExistsError,
    UnprocessableEntityError,
)

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"
R = "https://api.aftership.com/returns/2026-07"


def tracking_error(code: int, type_: str, message: str) -> dict[str, Any]:
    return {"meta": {"code": code, "type": type_, "message": message}, "data": {}}


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            400,
            tracking_error(4003, "BadRequest", "Tracking already exists."),
            TrackingAlreadyExistsError,
            4003,
        ),
        (
            400,
            tracking_error(4005, "BadRequest", "The value of tracking_number is invalid."),
            BadRequestError,
            4005,
        ),
        (401, tracking_error(401, "Unauthorized", "Invalid API key."), AuthenticationError, 401),
        (
            403,
            tracking_error(403, "Forbidden", "The request is understood, but it has been refused."),
            PermissionDeniedError,
            403,
        ),
        (404, tracking_error(4004, "NotFound", "Tracking does not exist."), NotFoundError, 4004),
        (
            429,
            tracking_error(429, "TooManyRequests", "You have exceeded the API call rate limit."),
            RateLimitError,
            429,
        ),
        (
            500,
            tracking_error(500, "InternalError", "Something went wrong on AfterShip's end."),
            InternalServerError,
            500,
        ),
    ],
)
async def test_tracking_errors(
    mocked: aioresponses,
    client: AfterShip,
    status: int,
    body: dict[str, Any],
    error: type[APIError],
    code: int,
) -> None:
    mocked.get(f"{T}/trackings/abc", status=status, payload=body, headers={"X-Request-Id": "req-1"})
    with pytest.raises(error) as info:
        await client.tracking.get_tracking_by_id("abc")
    exc = info.value
    assert type(exc) is error
    assert (exc.status_code, exc.code, exc.api) == (status, code, "tracking")
    assert exc.message == body["meta"]["message"]
    assert exc.type == body["meta"]["type"]
    assert exc.request_id == "req-1"
    assert exc.headers["x-request-id"] == "req-1"  # case-insensitive
    assert str(exc).startswith(f"HTTP {status}, code {code}")


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (200, 4153, NotFoundError),
        (200, 4104, BadRequestError),
        (200, 4722, ConflictError),
        (200, 4101, InternalServerError),
        (200, 4715, BadRequestError),
        (401, 401, AuthenticationError),
        (429, 429, RateLimitError),
        (503, 503, InternalServerError),
    ],
)
async def test_shipping_errors_including_http_200_business_errors(
    mocked: aioresponses, client: AfterShip, status: int, code: int, error: type[APIError]
) -> None:
    details = [{"path": "shipment.ship_to.postal_code", "info": "is required"}]
    body = {
        "meta": {
            "code": code,
            "message": "Shipping says no",
            "details": details,
            "retryable": code == 4101,
        },
        "data": {},
    }
    mocked.get(f"{S}/labels/l1", status=status, payload=body)
    with pytest.raises(error) as info:
        await client.shipping.get_label_by_id("l1")
    exc = info.value
    assert (exc.status_code, exc.code, exc.message, exc.api) == (
        status,
        code,
        "Shipping says no",
        "shipping",
    )
    assert exc.details == details
    assert exc.retryable is (code == 4101)


async def test_shipping_success_meta_is_not_an_error(
    mocked: aioresponses, client: AfterShip
) -> None:
    body = {"meta": {"code": 200, "message": "OK", "details": []}, "data": {"id": "sa1"}}
    mocked.delete(f"{S}/shipper-accounts/sa1", payload=body)
    deleted = await client.shipping.delete_shipper_account_by_id("sa1")
    assert deleted.id == "sa1"


@pytest.mark.parametrize(
    ("status", "code", "type_", "error"),
    [
        (404, 40400, "NotFound", NotFoundError),
        (409, 40900, "Conflict", ConflictError),
        (422, 42213, "UnprocessableEntity", UnprocessableEntityError),
        (429, 42900, "TooManyRequests", RateLimitError),
    ],
)
async def test_returns_errors(
    mocked: aioresponses,
    client: AfterShip,
    status: int,
    code: int,
    type_: str,
    error: type[APIError],
) -> None:
    errors = [{"path": "items[0].quantity", "info": "exceeds the returnable quantity"}]
    body = {
        "meta": {"code": code, "type": type_, "message": "Returns says no", "errors": errors},
        "data": None,
    }
    mocked.get(f"{R}/returns/r1", status=status, payload=body)
    with pytest.raises(error) as info:
        await client.returns.get_return_by_id("r1")
    exc = info.value
    assert (exc.status_code, exc.code, exc.type, exc.api) == (status, code, type_, "returns")
    assert exc.details == errors


async def test_html_502_from_a_proxy(mocked: aioresponses, client: AfterShip) -> None:
    mocked.get(
        f"{T}/couriers?active=true",
        status=502,
        body="<html><body>502 Bad Gateway</body></html>",
        content_type="text/html",
    )
    with pytest.raises(InternalServerError) as info:
        await client.tracking.get_user_couriers()
    assert info.value.code is None
    assert "502 Bad Gateway" in info.value.message


@pytest.mark.parametrize(
    "body",
    ['{"meta": {"code": 200}, "data": {"total": 1', "not json", '{"meta": {"code": 200}}', "[]"],
)
async def test_broken_success_bodies(mocked: aioresponses, client: AfterShip, body: str) -> None:
    mocked.get(f"{T}/couriers?active=true", status=200, body=body)
    with pytest.raises(InvalidResponseError):
        await client.tracking.get_user_couriers()


async def test_data_of_the_wrong_shape(mocked: aioresponses, client: AfterShip) -> None:
    # A required field of the wrong type fails the response (an optional one would not:
    # tests/test_decode_robust.py).
    mocked.get(
        f"{T}/couriers?active=true",
        payload={"meta": {"code": 200}, "data": {"total": 2, "couriers": "many"}},
    )
    with pytest.raises(InvalidResponseError, match="GetCouriersResponseData"):
        await client.tracking.get_user_couriers()


async def test_connection_errors_are_wrapped_without_the_key(
    mocked: aioresponses, client: AfterShip
) -> None:
    mocked.get(
        f"{T}/couriers?active=true", exception=aiohttp.ClientConnectionError("connection reset")
    )
    with pytest.raises(APIConnectionError) as info:
        await client.tracking.get_user_couriers()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert API_KEY not in repr(info.value) and API_KEY not in str(info.value)


async def test_timeouts_are_typed(mocked: aioresponses, client: AfterShip) -> None:
    mocked.get(f"{T}/couriers?active=true", exception=TimeoutError())
    with pytest.raises(APITimeoutError):
        await client.tracking.get_user_couriers()


def test_hierarchy() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(TrackingAlreadyExistsError, BadRequestError)
    for cls in (BadRequestError, NotFoundError, ConflictError, RateLimitError, InternalServerError):
        assert issubclass(cls, APIError)

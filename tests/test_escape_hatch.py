"""The escape hatch (issue 22, item 4): ``client.request``, ``extra_*`` options, unknown fields."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aioresponses import aioresponses
from yarl import URL

from aftership_async import (
    NO_RETRY,
    AfterShip,
    AfterShipVersionWarning,
    APIResponse,
    CreateTrackingRequest,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    RequestOptions,
    RetryPolicy,
    Tracking,
)
from aftership_async.testing import FakeAfterShip

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"
FAST = RetryPolicy(max_attempts=3, backoff=0.001, max_backoff=0.001)


def _only_call(mocked: aioresponses) -> tuple[str, URL, dict[str, Any]]:
    ((key, calls),) = mocked.requests.items()
    (call,) = calls
    return key[0], URL(str(key[1])), call.kwargs


# ----------------------------------------------------------------- client.request


async def test_request_sends_the_exact_request_and_returns_the_data_as_json(
    mocked: aioresponses,
) -> None:
    data = {"trackings": [{"id": "t1", "surprise": True}], "pagination": {"total": 1}}
    mocked.get(
        f"{T}/trackings?tag=Delivered&limit=5", payload={"meta": {"code": 200}, "data": data}
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        result = await client.request(
            "get", "/trackings", api="tracking", query={"tag": "Delivered", "limit": 5, "x": None}
        )
    assert result == data  # plain JSON, nothing dropped
    method, url, kwargs = _only_call(mocked)
    assert method == "GET" and url.path == "/tracking/2026-07/trackings"
    assert sorted(parse_qsl(url.raw_query_string)) == [("limit", "5"), ("tag", "Delivered")]
    assert kwargs["headers"]["as-api-key"] == API_KEY
    assert kwargs["data"] is None


async def test_request_posts_json_and_raises_the_envelopes_typed_errors(
    mocked: aioresponses,
) -> None:
    mocked.post(f"{S}/labels", payload={"meta": {"code": 200}, "data": {"id": "l1"}})
    mocked.get(
        f"{T}/trackings/nope",
        status=404,
        payload={"meta": {"code": 4004, "type": "NotFound", "message": "Tracking does not exist."}},
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        body = {"order_number": "o-1", "new_option": [1, 2]}
        assert await client.request("POST", "/labels", api="shipping", json=body) == {"id": "l1"}
        with pytest.raises(NotFoundError) as caught:
            await client.request("GET", "/trackings/nope", api="tracking")
    assert caught.value.code == 4004
    sent = mocked.requests[("POST", URL(f"{S}/labels"))][0].kwargs
    assert json.loads(sent["data"]) == body
    assert sent["headers"]["content-type"] == "application/json"


async def test_request_retries_by_the_http_methods_safety(mocked: aioresponses) -> None:
    failure = {"status": 503, "payload": {"meta": {"code": 503, "message": "busy"}}}
    ok = {"payload": {"meta": {"code": 200}, "data": {"ok": True}}}
    mocked.get(f"{T}/couriers", **failure)
    mocked.get(f"{T}/couriers", **ok)
    mocked.post(f"{T}/couriers/detect", **failure)
    mocked.post(f"{T}/couriers/detect", **failure)
    mocked.post(f"{T}/couriers/detect", **ok)
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        # GET: idempotent, retried after the 503.
        assert await client.request("GET", "/couriers", api="tracking") == {"ok": True}
        # POST: unsafe, a 503 may have acted: not resent, the caller is told.
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.request("POST", "/couriers/detect", api="tracking", json={})
        assert "client.request" in str(caught.value)
        # ...unless the caller says a repeat is harmless.
        result = await client.request(
            "POST",
            "/couriers/detect",
            api="tracking",
            json={},
            options=RequestOptions(retry_unsafe=True),
        )
    assert result == {"ok": True}
    assert len(mocked.requests[("GET", URL(f"{T}/couriers"))]) == 2
    assert len(mocked.requests[("POST", URL(f"{T}/couriers/detect"))]) == 3
    assert client.stats.retries == 2


async def test_request_watches_the_served_version(mocked: aioresponses) -> None:
    mocked.get(
        f"{T}/couriers",
        payload={"meta": {"code": 200}, "data": {}},
        headers={"as-api-version": "2025-07"},
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        with pytest.warns(AfterShipVersionWarning, match="2025-07"):
            await client.request("GET", "/couriers", api="tracking")


async def test_request_under_with_raw_response_answers_an_api_response(
    mocked: aioresponses,
) -> None:
    mocked.get(
        f"{T}/couriers",
        payload={"meta": {"code": 200}, "data": {"couriers": []}},
        headers={"X-Request-Id": "req-9", "X-RateLimit-Remaining": "3"},
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        response = await client.with_raw_response.request("GET", "/couriers", api="tracking")
    assert isinstance(response, APIResponse)
    assert response.status_code == 200 and response.request_id == "req-9"
    assert response.rate_limit.remaining == 3
    assert response.parse() == {"couriers": []}


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("TRACE", "/trackings"), {"api": "tracking"}, "method must be one of"),
        (("GET", "/trackings"), {"api": "billing"}, "api must be one of"),
        (("GET", "trackings"), {"api": "tracking"}, "must start with one '/'"),
        (("GET", "https://evil.example/x"), {"api": "tracking"}, "must start with one '/'"),
        (("GET", "//evil.example/x"), {"api": "tracking"}, "must start with one '/'"),
        (("GET", "/trackings?tag=x"), {"api": "tracking"}, "query"),
        (("GET", "/trackings/../labels"), {"api": "tracking"}, "'..'"),
        (("GET", "/trackings/a b"), {"api": "tracking"}, "spaces"),
        (("GET", "/trackings/{id}"), {"api": "tracking"}, "template"),
        (("GET", "/trackings"), {"api": "tracking", "query": ["tag"]}, "mapping"),
        (("GET", "/trackings"), {"api": "tracking", "options": {"timeout": 1}}, "RequestOptions"),
        (("GET", "/trackings"), {"api": "tracking", "query": {"q": object()}}, "cannot be"),
    ],
)
async def test_request_refuses_bad_input_before_the_network(
    mocked: aioresponses, args: tuple[str, str], kwargs: dict[str, Any], message: str
) -> None:
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        with pytest.raises(InvalidRequestError, match=message):
            await client.request(*args, **kwargs)
    assert not mocked.requests


async def test_request_against_the_fake_is_signed_and_limited_like_a_method() -> None:
    secret = "fake-signing-secret-1234"
    async with FakeAfterShip(api_key=API_KEY, api_secret=secret, seed=3) as fake:
        async with AfterShip(api_key=API_KEY, api_secret=secret, base_url=fake.url) as client:
            created = await client.tracking.create_tracking(
                CreateTrackingRequest(tracking_number="1Z999AA10123456784", slug="ups")
            )
            data = await client.request("GET", f"/trackings/{created.id}", api="tracking")
            listed = await client.request(
                "GET",
                "/trackings",
                api="tracking",
                query={"tracking_numbers": "1Z999AA10123456784"},
            )
    assert data["id"] == created.id and data["tracking_number"] == "1Z999AA10123456784"
    assert Tracking.from_dict(data) == created
    assert [t["id"] for t in listed["trackings"]] == [created.id]
    # The fake checked the signature of every call and counted them as the operations they are.
    assert fake.stats.requests["get_tracking_by_id"] == 1
    assert fake.stats.requests["get_trackings"] == 1


# ----------------------------------------------------------------- extra_query / _body / _headers


async def test_extra_options_reach_the_wire_on_a_generated_method(mocked: aioresponses) -> None:
    tracking = {"id": "t1", "tracking_number": "1Z", "slug": "ups"}
    mocked.post(f"{T}/trackings?beta_feature=on", payload={"meta": {"code": 201}, "data": tracking})
    mocked.get(
        f"{T}/trackings/t1?lang=en&lang2=fr", payload={"meta": {"code": 200}, "data": tracking}
    )
    options = RequestOptions(
        extra_query={"beta_feature": "on", "dropped": None},
        extra_body={"new_field": {"a": 1}, "slug": "fedex"},
        extra_headers={"x-partner": "p1"},
        headers={"x-partner": "old", "x-other": "o"},
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        await client.tracking.create_tracking(
            CreateTrackingRequest(tracking_number="1Z", slug="ups"), options=options
        )
        await client.tracking.get_tracking_by_id(
            "t1", lang="en", options=RequestOptions(extra_query={"lang2": "fr"})
        )
    sent = mocked.requests[("POST", URL(f"{T}/trackings?beta_feature=on"))][0].kwargs
    # extra_body sits at the body's top level and wins over the model's own field.
    assert json.loads(sent["data"]) == {
        "tracking_number": "1Z",
        "slug": "fedex",
        "new_field": {"a": 1},
    }
    assert sent["headers"]["x-partner"] == "p1" and sent["headers"]["x-other"] == "o"
    assert sent["headers"]["as-api-key"] == API_KEY
    got = mocked.requests[("GET", URL(f"{T}/trackings/t1?lang=en&lang2=fr"))][0].kwargs
    assert got["data"] is None  # no body for a GET without extra_body


async def test_extra_body_on_a_method_without_a_body_becomes_the_body(
    mocked: aioresponses,
) -> None:
    mocked.post(
        f"{T}/trackings/t1/retrack",
        payload={
            "meta": {"code": 200},
            "data": {"id": "t1", "tracking_number": "1", "slug": "ups"},
        },
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        await client.tracking.retrack_tracking_by_id(
            "t1", options=RequestOptions(extra_body={"reason": "x"})
        )
    _, _, kwargs = _only_call(mocked)
    assert json.loads(kwargs["data"]) == {"reason": "x"}
    assert kwargs["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize(
    "options",
    [
        RequestOptions(extra_headers={"as-api-key": "other"}),
        RequestOptions(extra_headers={"As-Signature-Hmac-Sha256": "forged"}),
        RequestOptions(extra_headers={"bad header": "v"}),
        RequestOptions(extra_query={"q": object()}),
        RequestOptions(extra_body={"n": float("nan")}),
    ],
)
async def test_bad_extra_options_fail_before_the_network(
    mocked: aioresponses, options: RequestOptions
) -> None:
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        with pytest.raises(InvalidRequestError):
            await client.tracking.get_tracking_by_id("t1", options=options)
    assert not mocked.requests


async def test_extra_query_and_body_are_signed_like_the_rest() -> None:
    secret = "fake-signing-secret-1234"
    async with FakeAfterShip(api_key=API_KEY, api_secret=secret, seed=4) as fake:
        async with AfterShip(api_key=API_KEY, api_secret=secret, base_url=fake.url) as client:
            created = await client.tracking.create_tracking(
                CreateTrackingRequest(tracking_number="1Z999AA10123456784", slug="ups"),
                options=RequestOptions(extra_body={"title": "from extra_body"}),
            )
            again = await client.tracking.get_tracking_by_id(
                created.id, options=RequestOptions(extra_query={"lang": "en"})
            )
    assert created.title == "from extra_body" and again.id == created.id


# ----------------------------------------------------------------- unknown fields


async def test_fields_the_model_does_not_know_are_kept(mocked: aioresponses) -> None:
    data = {
        "id": "t1",
        "tracking_number": "1Z",
        "slug": "ups",
        "carbon_footprint": {"grams": 120},
        "checkpoints": [
            {"message": "Picked up", "drone_id": "d-7"},
            {"message": "Delivered"},
        ],
    }
    mocked.get(f"{T}/trackings/t1", payload={"meta": {"code": 200}, "data": data})
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        tracking = await client.tracking.get_tracking_by_id("t1")
    assert tracking.unknown_fields() == {"carbon_footprint": {"grams": 120}}
    assert tracking.checkpoints
    assert tracking.checkpoints[0].unknown_fields() == {"drone_id": "d-7"}
    assert tracking.checkpoints[1].unknown_fields() == {}
    # to_dict() stays what a request sends; include_unknown=True round-trips the response.
    assert "carbon_footprint" not in tracking.to_dict()
    assert tracking.to_dict(include_unknown=True) == data
    assert json.loads(tracking.to_json(include_unknown=True)) == data
    # from_dict decodes the same way; unknown fields play no part in equality.
    again = Tracking.from_dict(data)
    assert again.unknown_fields() == tracking.unknown_fields()
    plain = Tracking.from_dict({k: v for k, v in data.items() if k != "carbon_footprint"})
    assert plain.unknown_fields() == {} and plain == again
    assert Tracking(id="t", tracking_number="1", slug="ups").unknown_fields() == {}


def test_unknown_fields_are_read_only_and_kept_by_the_tolerant_decoder() -> None:
    # A malformed optional field (the tolerant decoder's path) does not lose the unknown ones.
    tracking = Tracking.from_dict(
        {"id": "t1", "tracking_number": "1", "slug": "ups", "created_at": "not a date", "extra": 1}
    )
    assert tracking.unknown_fields() == {"extra": 1}
    with pytest.raises(TypeError):
        tracking.unknown_fields()["extra"] = 2  # type: ignore[index]

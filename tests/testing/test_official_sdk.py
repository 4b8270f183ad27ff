"""A client nobody here wrote: AfterShip's official SDK 10.0.1 (API 2026-07) against the fake.

``aftership-tracking-sdk`` is synchronous (httpx), so its calls run in a
worker thread while the fake serves on the test's event loop. It is pointed
at the fake through its ``domain`` (constructor, or the
``AFTERSHIP_TRACKING_SDK_DOMAIN`` environment variable) and signs every
request with an AES key, which the fake (``api_secret=``) checks. Retries are
off (``max_retry=0``): its backoff is 3 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, TypeVar

import pytest
from tracking import Client, Configuration, exceptions, models
from tracking.request import _default_user_agent

from aftership_async.testing import FakeAfterShip

SECRET = "official-sdk-secret"
KEY = "official-sdk-key"

T = TypeVar("T")

# The SDK's own use of httpx is dated (raw bytes as data=, URL.raw): its warnings, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:URL.raw is deprecated:UserWarning"),
]


async def _in_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


def _sdk(domain: str | None = None, secret: str | None = SECRET) -> Any:
    return Client(
        Configuration(
            domain=domain,
            api_key=KEY,
            api_secret=secret,
            authentication_type="AES" if secret else "API_KEY",
            max_retry=0,
            timeout=10_000,
        )
    )


def test_the_installed_sdk_is_10_0_1_for_2026_07() -> None:
    assert version("aftership-tracking-sdk") == "10.0.1"
    assert "tracking-sdk-python/10.0.1" in _default_user_agent


async def test_official_sdk_creates_gets_lists_and_detects_with_aes_signing() -> None:
    async with FakeAfterShip(api_key=KEY, api_secret=SECRET, seed=8) as fake:
        sdk = _sdk(domain=fake.url)
        request = models.CreateTrackingRequest(
            tracking_number="1Z999AA10123456784",
            title="Order #1001",
            order_id="1001",
            customers=[models.CreateTrackingRequestCustomers(role="buyer", name="Ann", id="c-1")],
        )
        created = await _in_thread(lambda: sdk.tracking.create_tracking(request))
        tracking = created.data
        assert tracking.slug == "ups" and tracking.title == "Order #1001"
        assert tracking.customers[0].id == "c-1"
        assert created.response_header["as-api-version"] == ["2026-07"]

        got = await _in_thread(lambda: sdk.tracking.get_tracking_by_id(tracking.id))
        assert got.data.id == tracking.id
        assert got.data.checkpoints == tracking.checkpoints
        assert all(p.postal_code and p.hash for p in got.data.checkpoints or [])
        assert got.data.model_dump(mode="json") == tracking.model_dump(mode="json")

        for number in ("123456789012", "JJD0123456789012"):
            more = models.CreateTrackingRequest(tracking_number=number)
            await _in_thread(lambda r=more: sdk.tracking.create_tracking(r))  # type: ignore[misc]
        first = await _in_thread(lambda: sdk.tracking.get_trackings(limit=2))
        page = first.data
        assert page.pagination.total == 3 and page.pagination.has_next_page is True
        rest = await _in_thread(
            lambda: sdk.tracking.get_trackings(limit=2, cursor=page.pagination.next_cursor)
        )
        listed = [t.tracking_number for t in page.trackings + rest.data.trackings]
        assert listed == ["JJD0123456789012", "123456789012", "1Z999AA10123456784"]
        fedex = await _in_thread(lambda: sdk.tracking.get_trackings(slug="fedex,usps"))
        assert [t.tracking_number for t in fedex.data.trackings] == ["123456789012"]

        detect = models.DetectCourierRequest(tracking_number="123456789012")
        detected = await _in_thread(lambda: sdk.courier.detect_courier(detect))
        assert [c.slug for c in detected.data.couriers] == ["fedex"]
        assert detected.data.total == 1

        mine = await _in_thread(lambda: sdk.courier.get_couriers(active=True, slug="ups,dhl"))
        assert sorted(c.slug for c in mine.data.couriers) == ["dhl", "ups"]

        connection = await _in_thread(
            lambda: sdk.courier_connection.post_courier_connections(
                models.PostCourierConnectionsRequest(
                    courier_slug="dhl-api", credentials={"api_key": "k1"}
                )
            )
        )
        connection_id = connection.data.id
        await _in_thread(
            lambda: sdk.courier_connection.put_courier_connections_by_id(
                connection_id,
                models.PutCourierConnectionsByIdRequest(credentials={"api_key": "k2"}),
            )
        )
        fetched = await _in_thread(
            lambda: sdk.courier_connection.get_courier_connections_by_id(connection_id)
        )
        assert fetched.data.credentials == {"api_key": "k2"}

        completed = await _in_thread(
            lambda: sdk.tracking.mark_tracking_completed_by_id(
                tracking.id, models.MarkTrackingCompletedByIdRequest(reason="DELIVERED")
            )
        )
        assert completed.data.active is False
    assert fake.stats.statuses[401] == 0
    assert fake.stats.created["tracking"] == 3
    assert fake.stats.requests["create_tracking"] == 3


async def test_official_sdk_errors_are_its_typed_errors() -> None:
    async with FakeAfterShip(api_key=KEY, api_secret=SECRET, seed=8) as fake:
        sdk = _sdk(domain=fake.url)
        with pytest.raises(exceptions.NotFoundError) as missing:
            await _in_thread(lambda: sdk.tracking.get_tracking_by_id("f" * 32))
        assert missing.value.meta_code == 4004
        assert missing.value.code == exceptions.ErrorCodeEnum.TRACKING_DOES_NOT_EXIST

        request = models.CreateTrackingRequest(tracking_number="123456789012")
        created = await _in_thread(lambda: sdk.tracking.create_tracking(request))
        with pytest.raises(exceptions.BadRequestError) as duplicate:
            await _in_thread(lambda: sdk.tracking.create_tracking(request))
        assert duplicate.value.code == exceptions.ErrorCodeEnum.TRACKING_ALREADY_EXIST

        assert created.data.active is True  # seed 8: in transit
        with pytest.raises(exceptions.BadRequestError) as active:
            await _in_thread(lambda: sdk.tracking.retrack_tracking_by_id(created.data.id))
        assert active.value.code == exceptions.ErrorCodeEnum.INACTIVE_RETRACK_NOT_ALLOWED
        assert active.value.meta_code == 4013

        unsigned = _sdk(domain=fake.url, secret=None)  # the fake wants AES signatures
        with pytest.raises(exceptions.UnauthorizedError) as refused:
            await _in_thread(lambda: unsigned.courier.get_couriers())
        assert refused.value.status_code == 401
    assert fake.stats.statuses[401] == 1


async def test_official_sdk_finds_the_fake_through_its_domain_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeAfterShip(api_key=KEY, api_secret=SECRET) as fake:
        monkeypatch.setenv("AFTERSHIP_TRACKING_SDK_DOMAIN", fake.url)
        sdk = _sdk()
        everything = await _in_thread(lambda: sdk.courier.get_couriers())
        mine = await _in_thread(lambda: sdk.courier.get_couriers(active=True))
    assert {c.slug for c in mine.data.couriers} < {c.slug for c in everything.data.couriers}
    assert fake.stats.requests["get_couriers"] == 2

"""Tracking behaviour of the fake (API 2026-07): the flows bulk tracking code depends on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from aftership_async import (
    AfterShip,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    Tag,
    Tracking,
    TrackingAlreadyExistsError,
)
from aftership_async.testing import FakeAfterShip

from .helpers import assert_valid, body, client_for

NUMBERS = [f"1Z{n:016d}" for n in range(25)]


def create(number: str, **extra: object) -> object:
    return body("CreateTrackingRequest", {"tracking_number": number, **extra})


async def test_create_get_list_update_complete_delete(fake_client: AfterShip) -> None:
    t = fake_client.tracking
    created = [await t.create_tracking(create(n, order_id=f"o{i}")) for i, n in enumerate(NUMBERS)]
    assert all(c.slug == "ups" for c in created)

    got = await t.get_tracking_by_id(created[3].id)
    assert got.tracking_number == NUMBERS[3] and got.order_id == "o3"

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await t.get_trackings(limit=10, cursor=cursor)
        pages += 1
        assert page.pagination.total == 25
        seen += [tr.id for tr in page.trackings]
        if not page.pagination.has_next_page:
            assert page.pagination.next_cursor is None
            break
        cursor = page.pagination.next_cursor
    assert pages == 3
    assert seen == [c.id for c in reversed(created)]  # newest first, no gaps or repeats

    updated = await t.update_tracking_by_id(
        created[0].id, body("UpdateTrackingByIdRequest", {"title": "Blue shoes", "note": "gift"})
    )
    assert (updated.title, updated.note) == ("Blue shoes", "gift")

    done = await t.mark_tracking_completed_by_id(
        created[0].id, body("MarkTrackingCompletedByIdRequest", {"reason": "DELIVERED"})
    )
    assert done.tag == Tag.DELIVERED and done.active is False
    assert done.checkpoints and done.checkpoints[-1].source == "user"
    assert done.checkpoints[-1].tag == Tag.DELIVERED

    deleted = await t.delete_tracking_by_id(created[0].id)
    assert deleted.id == created[0].id
    with pytest.raises(NotFoundError) as excinfo:
        await t.get_tracking_by_id(created[0].id)
    assert excinfo.value.code == 4004 and excinfo.value.status_code == 404


async def test_list_filters(aftership_fake: FakeAfterShip, fake_client: AfterShip) -> None:
    t = fake_client.tracking
    await t.create_tracking(create("1Z0000000000000001", title="red shoes"))
    await t.create_tracking(create("123456789012", order_id="A-1"))
    await t.create_tracking(create("JJD0123456789012"))
    slugs = {tr.slug for tr in (await t.get_trackings(slug="fedex,dhl")).trackings}
    assert slugs == {"fedex", "dhl"}
    by_number = await t.get_trackings(tracking_numbers="123456789012,nope")
    assert [tr.order_id for tr in by_number.trackings] == ["A-1"]
    assert (await t.get_trackings(keyword="RED")).pagination.total == 1
    tags = {tr["tag"] for tr in aftership_fake.trackings.values()}
    for tag in tags:
        page = await t.get_trackings(tag=tag)
        assert page.trackings and all(tr.tag == tag for tr in page.trackings)


async def test_duplicate_create_is_4003(fake_client: AfterShip) -> None:
    await fake_client.tracking.create_tracking(create("123456789012"))
    with pytest.raises(TrackingAlreadyExistsError) as excinfo:
        await fake_client.tracking.create_tracking(create("123456789012", slug="fedex"))
    assert excinfo.value.code == 4003 and excinfo.value.status_code == 400
    assert excinfo.value.type == "BadRequest"
    # the same number with another courier is another tracking
    other = await fake_client.tracking.create_tracking(create("123456789012", slug="usps"))
    assert other.slug == "usps"


async def test_unknown_id_is_4004(fake_client: AfterShip) -> None:
    with pytest.raises(NotFoundError) as excinfo:
        await fake_client.tracking.get_tracking_by_id("doesnotexist")
    assert (excinfo.value.code, excinfo.value.status_code, excinfo.value.type) == (
        4004,
        404,
        "NotFound",
    )


async def test_courier_detection_and_unknown_numbers(fake_client: AfterShip) -> None:
    t = fake_client.tracking
    cases = {
        "1Z999AA10123456784": "ups",
        "123456789012": "fedex",
        "123456789012345": "fedex",
        "92001901755477000000000013": "usps",
        "9400111899223344556677": "usps",
        "JJD000390007880126481": "dhl",
        "1234567890": "dhl",
        "RA123456789US": "usps",
        "LX123456789CN": "china-post",
    }
    for number, slug in cases.items():
        assert (await t.create_tracking(create(number))).slug == slug, number
    with pytest.raises(BadRequestError) as excinfo:
        await t.create_tracking(create("??-not-a-number"))
    assert excinfo.value.code == 4012
    with pytest.raises(BadRequestError) as excinfo:
        await t.create_tracking(create("123456789012", slug="no-such-courier"))
    assert excinfo.value.code == 4010


async def test_retrack_only_when_inactive(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake, api_key="k") as client:
        t = client.tracking
        tracking = await t.create_tracking(create("123456789012", slug="fedex"))
        aftership_fake.trackings[tracking.id]["active"] = True
        with pytest.raises(BadRequestError) as excinfo:
            await t.retrack_tracking_by_id(tracking.id)
        assert excinfo.value.code == 4013
        aftership_fake.trackings[tracking.id]["active"] = False
        retracked = await t.retrack_tracking_by_id(tracking.id)
        assert retracked.active is True


async def test_predict_batch_refuses_six(fake_client: AfterShip) -> None:
    item = {
        "slug": "ups",
        "origin_address": {"country_region": "USA"},
        "destination_address": {"country_region": "CAN"},
    }
    request = body("PredictBatchRequest", {"estimated_delivery_dates": [item] * 6})
    with pytest.raises(BadRequestError) as excinfo:
        await fake_client.tracking.predict_batch(request)
    assert "estimated_delivery_dates" in excinfo.value.message
    five = body("PredictBatchRequest", {"estimated_delivery_dates": [item] * 5})
    first = await fake_client.tracking.predict_batch(five)
    again = await fake_client.tracking.predict_batch(five)
    assert first == again and len(first.estimated_delivery_dates) == 5


async def test_missing_or_wrong_key_is_401() -> None:
    async with FakeAfterShip(api_key="right") as fake:
        async with client_for(fake, api_key="wrong") as client:
            with pytest.raises(AuthenticationError) as excinfo:
                await client.tracking.get_trackings()
        assert excinfo.value.status_code == 401 and excinfo.value.type == "Unauthorized"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{fake.url}/tracking/2026-07/trackings") as resp,
        ):
            assert resp.status == 401
            assert (await resp.json())["meta"]["code"] == 401
        assert fake.stats.statuses[401] == 2


async def test_content_is_deterministic_and_spec_valid() -> None:
    numbers = [f"{n:012d}" for n in range(40)]

    async def snapshot(seed: int) -> list[dict[str, object]]:
        async with FakeAfterShip(seed=seed) as fake:
            fake.add_trackings(numbers)
            return [
                {k: v for k, v in t.items() if k not in ("created_at", "updated_at")}
                for t in fake.trackings.values()
            ]

    first, second, other = await snapshot(1), await snapshot(1), await snapshot(2)
    assert first == second
    assert first != other
    tags = {t["tag"] for t in first}
    assert len(tags) >= 4  # a realistic mix, not one canned answer
    from aftership_async._generated import CONVERTER

    for tracking in first:
        full = {**tracking, "created_at": "2025-06-01T00:00:00+00:00"}
        assert_valid("tracking", {"$ref": "#/components/schemas/Tracking"}, full)
        CONVERTER.structure(full, Tracking)


async def test_add_trackings_preloads_for_bulk_lookups(aftership_fake: FakeAfterShip) -> None:
    ids = aftership_fake.add_trackings(["123456789012", "1Z0000000000000009"])
    assert ids == aftership_fake.add_trackings(["123456789012", "1Z0000000000000009"])
    assert len(aftership_fake.trackings) == 2
    assert aftership_fake.stats.created["tracking"] == 2
    fedex = aftership_fake.add_trackings(["999999999999"], slug="usps")
    assert aftership_fake.trackings[fedex[0]]["slug"] == "usps"


async def test_content_follows_2026_07() -> None:
    """Checkpoints carry postal_code and a stable hash; the new fields appear as carriers send them."""
    from aftership_async._generated import CONVERTER

    numbers = [f"{n:012d}" for n in range(150)] + [f"1Z{n:016d}" for n in range(150)]
    postal = [f"RR{n:09d}GB" for n in range(10)]  # Royal Mail: pickup dates without a time
    async with FakeAfterShip(seed=11) as fake:
        fake.add_trackings(numbers + postal)
        trackings = list(fake.trackings.values())
    removed = {"tracking_postal_code", "tracking_state", "tracking_origin_country_region",
               "tracking_destination_country_region", "last_mile_tracking_supported"}  # fmt: skip
    for tracking in trackings:
        assert not removed & set(tracking)
        points = tracking["checkpoints"]
        assert all("zip" not in p and "postal_code" in p for p in points)
        hashes = [p["hash"] for p in points]
        assert all(isinstance(h, str) and len(h) == 32 for h in hashes)
        assert len(set(hashes)) == len(hashes)  # one event, one hash
        if tracking["proof_of_delivery"]:
            assert tracking["tag"] == "Delivered"
        if tracking["shipment_direction"] == "return":
            assert tracking["forward_shipment"]["id"] and tracking["return_shipment"] is None
        promised = tracking["order_promised_delivery_date"]
        assert promised is None or set(promised) == {
            "promised_delivery_date", "promised_delivery_date_min", "promised_delivery_date_max"
        }  # fmt: skip

    def share(test: Callable[[dict[str, Any]], bool]) -> float:
        return sum(1 for t in trackings if test(t)) / len(trackings)

    # present now and then, never all the time
    for field in ("shipment_dimensions", "multi_piece_info", "order_promised_delivery_date",
                  "return_shipment", "forward_shipment"):  # fmt: skip
        assert 0 < share(lambda t, f=field: t[f] is not None) < 0.7, field
    assert 0 < share(lambda t: bool(t["proof_of_delivery"])) < 0.5
    assert 0.5 < share(lambda t: t["shipment_direction"] == "forward") < 1
    bare = [t for t in trackings if isinstance(t["shipment_pickup_date"], str)
            and len(t["shipment_pickup_date"]) == 10]  # fmt: skip
    assert bare and len(bare) < len(trackings) / 2
    royal = [t for t in trackings if t["slug"] == "royal-mail" and t["shipment_pickup_date"]]
    assert royal and all(len(t["shipment_pickup_date"]) == 10 for t in royal)

    # the same event keeps its hash (it identifies the event, not the answer)
    async with FakeAfterShip(seed=11) as again:
        again.add_trackings(numbers[:5])
        first = [p["hash"] for t in trackings[:5] for p in t["checkpoints"]]
        assert first == [p["hash"] for t in again.trackings.values() for p in t["checkpoints"]]

    import datetime as dt

    for tracking in bare[:5]:
        full = {**tracking, "created_at": "2025-06-01T00:00:00+00:00"}
        assert_valid("tracking", {"$ref": "#/components/schemas/Tracking"}, full)
        decoded = CONVERTER.structure(full, Tracking)
        assert type(decoded.shipment_pickup_date) is dt.date  # a date, not an invented midnight


async def test_create_keeps_2026_07_request_fields(fake_client: AfterShip) -> None:
    request = body(
        "CreateTrackingRequest",
        {
            "tracking_number": "1Z0000000000000077",
            "shipment_direction": "return",
            "order_promised_delivery_date": {"promised_delivery_date": "2026-08-01"},
            "customers": [{"role": "buyer", "name": "Ann", "id": "cust-9"}],
            "id": "a" * 32,
        },
    )
    created = await fake_client.tracking.create_tracking(request)
    assert created.id == "a" * 32
    assert created.shipment_direction == "return"
    assert created.order_promised_delivery_date is not None
    assert created.order_promised_delivery_date.promised_delivery_date == "2026-08-01"
    assert created.customers is not None and created.customers[0].id == "cust-9"
    got = await fake_client.tracking.get_tracking_by_id("a" * 32)
    assert got.customers == created.customers

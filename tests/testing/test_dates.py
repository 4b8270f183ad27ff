"""The fake serves the date and time forms AfterShip sends, and the client decodes each.

Rates carry a delivery date as a date, a local date-time or an aware one, and the cut-off
and pickup deadline as times of day; some carriers' trackings carry local times with no
offset. Every answer validates against the spec with format checking on, and decodes
with nothing set aside.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from aftership_async import (
    AfterShip,
    MarkTrackingCompletedByIdRequest,
    MarkTrackingCompletedByIdRequestReason,
    Tracking,
    malformed_fields,
)
from aftership_async._generated import CONVERTER
from aftership_async.testing import FakeAfterShip

from .helpers import ADDRESS, SHIPMENT, assert_valid, body, capture_raw, client_for


async def test_rates_carry_every_documented_form(monkeypatch: Any) -> None:
    kinds: dict[str, Counter[type]] = {}
    async with FakeAfterShip(seed=5) as fake, client_for(fake) as client:
        s = client.shipping
        with capture_raw(monkeypatch) as raw:
            accounts = []
            for n, slug in enumerate(["fedex", "ups", "usps", "dhl"] * 3):
                account = await s.create_shipper_account(
                    body(
                        "CreateShipperAccountRequest",
                        {
                            "slug": slug,
                            "description": f"{slug} {n}",
                            "credentials": {"k": "v"},
                            "address": ADDRESS,
                        },
                    )
                )
                accounts.append({"id": account.id})
            del raw.items[:]
            calculated = await s.calculate_rates(
                body("CalculateRatesRequest", {"shipper_accounts": accounts, "shipment": SHIPMENT})
            )
            assert_valid("shipping", {"$ref": "#/components/schemas/RateRecord"}, raw.pop())
    rates = calculated.rates
    assert isinstance(rates, list) and len(rates) >= 20
    for rate in rates:
        assert malformed_fields(rate) == {}
        for field in ("pickup_deadline", "booking_cut_off", "delivery_date"):
            kinds.setdefault(field, Counter())[type(getattr(rate, field))] += 1
    assert set(kinds["pickup_deadline"]) == {dt.time}
    assert set(kinds["booking_cut_off"]) == {dt.time}
    assert set(kinds["delivery_date"]) == {dt.datetime, dt.date}
    moments = [r.delivery_date for r in rates if isinstance(r.delivery_date, dt.datetime)]
    assert {m.tzinfo is None for m in moments} == {True, False}  # naive and aware both served


async def test_some_carriers_local_times_have_no_offset() -> None:
    numbers = [f"{n:012d}" for n in range(120)] + [f"1Z{n:016d}" for n in range(120)]
    async with FakeAfterShip(seed=11) as fake:
        fake.add_trackings(numbers)
        trackings = list(fake.trackings.values())

    def naive(text: Any) -> bool:
        return (
            isinstance(text, str)
            and len(text) > 10
            and dt.datetime.fromisoformat(text).tzinfo is None
        )

    local = [t for t in trackings if any(naive(p["checkpoint_time"]) for p in t["checkpoints"])]
    assert 0 < len(local) < len(trackings) / 4  # now and then, not always
    for tracking in local:
        assert all(naive(p["checkpoint_time"]) for p in tracking["checkpoints"])
        full = {**tracking, "created_at": "2025-06-01T00:00:00+00:00"}
        assert_valid("tracking", {"$ref": "#/components/schemas/Tracking"}, full)
        decoded = CONVERTER.structure(full, Tracking)
        assert malformed_fields(decoded) == {}
        assert decoded.checkpoints
        for point, raw in zip(decoded.checkpoints, tracking["checkpoints"], strict=True):
            assert isinstance(point.checkpoint_time, dt.datetime)
            assert point.checkpoint_time.tzinfo is None  # no zone invented
            assert point.checkpoint_time.isoformat() == raw["checkpoint_time"]
        if tracking["shipment_delivery_date"]:
            assert naive(tracking["shipment_delivery_date"])
            assert type(decoded.shipment_delivery_date) is dt.datetime
            assert decoded.shipment_delivery_date.tzinfo is None
    assert any(t["shipment_delivery_date"] for t in local)


async def _complete(client: AfterShip, number: str, when: dt.date) -> Tracking:
    t = client.tracking
    created = await t.create_tracking(body("CreateTrackingRequest", {"tracking_number": number}))
    request = MarkTrackingCompletedByIdRequest(
        reason=MarkTrackingCompletedByIdRequestReason.DELIVERED, event_datetime=when
    )
    await t.mark_tracking_completed_by_id(created.id, request)
    return await t.get_tracking_by_id(created.id)


async def test_completion_on_a_bare_date_keeps_the_date(monkeypatch: Any) -> None:
    async with FakeAfterShip(seed=2) as fake, client_for(fake) as client:
        with capture_raw(monkeypatch) as raw:
            day = await _complete(client, "1Z999AA10123456784", dt.date(2024, 5, 1))
            assert_valid("tracking", {"$ref": "#/components/schemas/Tracking"}, raw.pop())
        local = await _complete(client, "1Z999AA10123456785", dt.datetime(2024, 5, 1, 9, 30))
        aware = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
        utc = await _complete(client, "1Z999AA10123456786", aware)
    assert type(day.shipment_delivery_date) is dt.date
    assert day.shipment_delivery_date == dt.date(2024, 5, 1)
    assert local.shipment_delivery_date == dt.datetime(2024, 5, 1, 9, 30)  # naive, as sent
    assert isinstance(local.shipment_delivery_date, dt.datetime)
    assert local.shipment_delivery_date.tzinfo is None
    assert utc.shipment_delivery_date == aware
    assert local.checkpoints and utc.checkpoints and day.checkpoints
    assert local.checkpoints[-1].checkpoint_time == dt.datetime(2024, 5, 1, 9, 30)  # naive
    assert utc.checkpoints[-1].checkpoint_time == aware
    assert day.checkpoints[-1].checkpoint_time == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    for tracking in (day, local, utc):
        assert tracking.tag == "Delivered" and malformed_fields(tracking) == {}

"""What user code may rely on under ``mypy --strict`` (type-checked, not run)."""

import datetime as dt
from typing import Any, assert_type

from aftership_async import (
    UNSET,
    AfterShip,
    CreateTrackingRequest,
    InvalidDataError,
    MarkTrackingCompletedByIdRequest,
    Model,
    Rate,
    RateLimitSetting,
    ShippingWeight,
    ShippingWeightUnit,
    Tag,
    Tracking,
    TrackingRef,
    Unset,
)


def describe(t: Tracking) -> str:
    if t.tag:  # UNSET and None are falsy: the branch sees a Tag
        assert_type(t.tag, Tag)
        return f"{t.tracking_number}: {t.tag.value} (known: {t.tag.is_known})"
    assert_type(t.tag, Tag | Unset | None)
    if not isinstance(t.title, Unset) and t.title is not None:
        return t.title.upper()
    return t.tracking_number


def models_in_and_out(t: Tracking) -> Tracking:
    data = t.to_dict()
    assert_type(data, dict[str, Any])
    text: str = t.to_json()
    again = Tracking.from_json(text)
    assert_type(again, Tracking)
    assert_type(Tracking.from_dict(data), Tracking)
    model: Model = again
    try:
        Tracking.from_dict({"id": 1})
    except InvalidDataError as exc:
        assert isinstance(exc, ValueError)
    return again if model else t


def enums_take_strings() -> None:
    weight = ShippingWeight(unit="kg", value=1.5)  # as the methods' parameters do
    assert_type(weight.unit, ShippingWeightUnit)
    ShippingWeight(unit=ShippingWeightUnit.KG, value=2)
    CreateTrackingRequest(tracking_number="1Z", slug="ups")
    assert UNSET is not None


async def filters(client: AfterShip) -> None:
    page = await client.tracking.get_trackings(slug=["ups", "fedex"], tag="InTransit")
    page = await client.tracking.get_trackings(slug="ups,fedex", tag=Tag.INTRANSIT)
    async for t in client.tracking.iter_trackings(tracking_numbers=("1Z", "2Z")):
        print(describe(t), page)
    await client.tracking.get_tracking_by_id("id", fields=["title", "order_id"])


def settings() -> tuple[RateLimitSetting, TrackingRef]:
    return "documented", TrackingRef("1Z999AA10123456784", "ups")


def dates_as_sent(rate: Rate) -> str:
    """A rate's dates are a datetime, a date or a time of day: isinstance narrows them."""
    when = rate.delivery_date
    assert_type(when, dt.datetime | dt.date | dt.time | Unset | None)
    if isinstance(when, dt.datetime):  # before date: a datetime is a date too
        return when.isoformat(timespec="minutes")
    if isinstance(when, dt.date):
        return when.strftime("%d %b")
    if isinstance(when, dt.time):
        return when.strftime("%H:%M")
    MarkTrackingCompletedByIdRequest(reason="DELIVERED", event_datetime=dt.date(2024, 5, 1))
    return "unknown"

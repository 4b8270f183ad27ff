"""Dates and times as AfterShip sends them: each documented form decodes to what it is.

* Shipping ``Rate.pickup_deadline`` / ``booking_cut_off`` / ``delivery_date`` take every
  form AfterShip's rate examples show: a date-time with an offset (aware), one without
  (naive), a bare date, a time of day (``HH:MM``);
* Tracking's carrier times (``checkpoint_time``, ``first_attempted_at``,
  ``shipment_pickup_date``, ``shipment_delivery_date``) keep a missing offset missing:
  a naive ``datetime``, no zone invented; a bare date stays a ``date``;
* ``MarkTrackingCompletedByIdRequest.event_datetime`` takes a date or a date-time and sends
  each as AfterShip documents (``YYYY-MM-DD``, ``YYYY-MM-DDTHH:mm:ss``, ``...Z``);
* every value encodes back (``to_dict``) to a string that decodes to the same value, and a
  value in none of the declared forms is set aside (``malformed_fields``), raw value kept;
* the spec declares these forms so that a standard JSON Schema validator accepts each one
  and refuses the rest (``test_fidelity`` validates AfterShip's own examples).
"""

from __future__ import annotations

import datetime as dt
import json
import typing
from typing import Any

import jsonschema
import pytest
from aioresponses import aioresponses

from aftership_async import (
    UNSET,
    AfterShip,
    Checkpoint,
    MarkTrackingCompletedByIdRequest,
    MarkTrackingCompletedByIdRequestReason,
    Rate,
    Tracking,
    Unset,
    malformed_fields,
)

from .testing.helpers import spec_document

T = "https://api.aftership.com/tracking/2026-07"
UTC = dt.UTC
PLUS8 = dt.timezone(dt.timedelta(hours=8))
MINUS5 = dt.timezone(dt.timedelta(hours=-5))

# (JSON value, the decoded value, the string it encodes back to): the forms of
# AfterShip's rate examples (AEV rates export `Rate.v3`), and a few more ISO spellings.
RATE_FORMS: list[tuple[str, object, str]] = [
    ("10:30", dt.time(10, 30), "10:30"),
    ("08:30", dt.time(8, 30), "08:30"),
    ("17:45:10", dt.time(17, 45, 10), "17:45:10"),
    ("2016-09-20", dt.date(2016, 9, 20), "2016-09-20"),
    ("2016-09-20T08:00:00", dt.datetime(2016, 9, 20, 8), "2016-09-20T08:00:00"),
    ("2016-09-22T20:00:00", dt.datetime(2016, 9, 22, 20), "2016-09-22T20:00:00"),
    (
        "2015-09-01T18:00:00+00:00",
        dt.datetime(2015, 9, 1, 18, tzinfo=UTC),
        "2015-09-01T18:00:00Z",
    ),
    ("2015-09-01T18:00:00Z", dt.datetime(2015, 9, 1, 18, tzinfo=UTC), "2015-09-01T18:00:00Z"),
    (
        "2016-09-20T10:30:00+08:00",
        dt.datetime(2016, 9, 20, 10, 30, tzinfo=PLUS8),
        "2016-09-20T10:30:00+08:00",
    ),
]
RATE_FIELDS = ("pickup_deadline", "booking_cut_off", "delivery_date")
RATE_BASE = {"shipper_account": {"id": "acc-1", "slug": "fedex", "description": "FedEx"}}

# Tracking's carrier times: (field, JSON value, decoded value).
TRACKING_FORMS: list[tuple[str, str, object]] = [
    ("shipment_pickup_date", "2022-01-21T15:00:00", dt.datetime(2022, 1, 21, 15)),
    ("shipment_pickup_date", "2022-01-21", dt.date(2022, 1, 21)),
    ("shipment_pickup_date", "2022-01-21T15:00:00Z", dt.datetime(2022, 1, 21, 15, tzinfo=UTC)),
    ("shipment_delivery_date", "2022-01-29T11:23:00", dt.datetime(2022, 1, 29, 11, 23)),
    ("shipment_delivery_date", "2022-01-29", dt.date(2022, 1, 29)),
    (
        "shipment_delivery_date",
        "2022-01-29T11:23:00-05:00",
        dt.datetime(2022, 1, 29, 11, 23, tzinfo=MINUS5),
    ),
    ("first_attempted_at", "2022-01-28T09:00:00", dt.datetime(2022, 1, 28, 9)),
    ("first_attempted_at", "2022-01-28T09:00:00.5", dt.datetime(2022, 1, 28, 9, 0, 0, 500000)),
    ("first_attempted_at", "2022-01-28T09:00:00+08:00", dt.datetime(2022, 1, 28, 9, tzinfo=PLUS8)),
]
TRACKING_BASE = {"id": "t1", "tracking_number": "1Z999AA10123456784", "slug": "ups"}


def same(decoded: object, expected: object) -> None:
    """Equal, of the same type, and (for date-times) equally aware or naive."""
    assert type(decoded) is type(expected), (decoded, expected)
    assert decoded == expected
    if isinstance(expected, dt.datetime):
        assert isinstance(decoded, dt.datetime)
        assert decoded.utcoffset() == expected.utcoffset()  # naive stays naive (None)


def validate(api: str, schema_name: str, data: Any) -> list[str]:
    """Problems a standard validator (Draft 2020-12, format assertion on) finds in ``data``."""
    root = {
        "$ref": f"#/components/schemas/{schema_name}",
        "components": spec_document(api)["components"],
    }
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validator = jsonschema.Draft202012Validator(root, format_checker=checker)
    return [e.message for e in validator.iter_errors(data)]


# -- Shipping Rate -------------------------------------------------------------


def test_rate_fields_are_typed_as_every_form() -> None:
    hints = typing.get_type_hints(Rate)
    for name in RATE_FIELDS:
        expected = dt.datetime | dt.date | dt.time | Unset | None
        assert hints[name] == expected, name


@pytest.mark.parametrize(
    ("text", "expected", "encoded"), RATE_FORMS, ids=[f[0] for f in RATE_FORMS]
)
@pytest.mark.parametrize("field", RATE_FIELDS)
def test_each_rate_form_decodes_to_what_it_is_and_round_trips(
    field: str, text: str, expected: object, encoded: str
) -> None:
    rate = Rate.from_dict({**RATE_BASE, field: text})
    assert malformed_fields(rate) == {}
    same(getattr(rate, field), expected)
    out = rate.to_dict()
    assert out[field] == encoded
    again = Rate.from_dict(out)
    same(getattr(again, field), expected)
    assert again == rate
    assert Rate.from_json(rate.to_json()) == rate


@pytest.mark.parametrize(
    ("text", "expected", "encoded"), RATE_FORMS, ids=[f[0] for f in RATE_FORMS]
)
def test_each_rate_form_is_valid_for_a_standard_validator(
    text: str, expected: object, encoded: str
) -> None:
    payload = {**RATE_BASE, **dict.fromkeys(RATE_FIELDS, text)}
    assert validate("shipping", "Rate", payload) == []
    assert validate("shipping", "Rate", {**RATE_BASE, "delivery_date": encoded}) == []


@pytest.mark.parametrize(
    "text", ["next Tuesday", "25:00", "10h30", "2016-13-01", "2016-09-31", "1030"]
)
def test_a_rate_value_in_no_documented_form_is_set_aside_and_refused_by_the_spec(
    text: str,
) -> None:
    rate = Rate.from_dict({**RATE_BASE, "delivery_date": text, "booking_cut_off": "10:30"})
    assert rate.delivery_date is UNSET
    assert malformed_fields(rate) == {"delivery_date": text}
    assert rate.booking_cut_off == dt.time(10, 30)  # the neighbour is unharmed
    assert validate("shipping", "Rate", {**RATE_BASE, "delivery_date": text})


def test_rate_dates_may_be_null_or_empty() -> None:
    rate = Rate.from_dict({**RATE_BASE, "pickup_deadline": None, "delivery_date": ""})
    assert rate.pickup_deadline is None and rate.delivery_date is None
    assert rate.booking_cut_off is UNSET
    assert malformed_fields(rate) == {}


def test_a_time_of_day_keeps_its_offset_and_its_fraction() -> None:
    rate = Rate.from_dict({**RATE_BASE, "pickup_deadline": "10:30:00+08:00"})
    assert rate.pickup_deadline == dt.time(10, 30, tzinfo=PLUS8)
    assert rate.to_dict()["pickup_deadline"] == "10:30+08:00"
    built = Rate(shipper_account=rate.shipper_account, pickup_deadline=dt.time(9, 5, 0, 250000))
    assert built.to_dict()["pickup_deadline"] == "09:05:00.250000"
    assert Rate.from_dict(built.to_dict()) == built


# -- Tracking: no zone invented ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "expected"), TRACKING_FORMS, ids=[f"{f[0]}={f[1]}" for f in TRACKING_FORMS]
)
def test_tracking_carrier_times_stay_as_given(field: str, text: str, expected: object) -> None:
    tracking = Tracking.from_dict({**TRACKING_BASE, field: text})
    assert malformed_fields(tracking) == {}
    same(getattr(tracking, field), expected)
    again = Tracking.from_dict(tracking.to_dict())
    same(getattr(again, field), expected)
    assert validate("tracking", "Tracking", {**TRACKING_BASE, field: text}) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-21T15:00:00", dt.datetime(2022, 1, 21, 15)),
        ("2021-01-14T00:52:00", dt.datetime(2021, 1, 14, 0, 52)),
        ("2021-01-14T00:52:00.250", dt.datetime(2021, 1, 14, 0, 52, 0, 250000)),
        ("2022-01-21T15:00:00+08:00", dt.datetime(2022, 1, 21, 15, tzinfo=PLUS8)),
        ("2022-01-21T07:00:00Z", dt.datetime(2022, 1, 21, 7, tzinfo=UTC)),
    ],
)
def test_checkpoint_time_naive_or_aware(text: str, expected: dt.datetime) -> None:
    point = Checkpoint.from_dict({"checkpoint_time": text})
    same(point.checkpoint_time, expected)
    assert Checkpoint.from_dict(point.to_dict()).checkpoint_time == expected
    assert validate("tracking", "Checkpoint", {"checkpoint_time": text}) == []


@pytest.mark.parametrize("text", ["10:30", "yesterday", "2022-01-21T25:00:00"])
def test_a_checkpoint_time_must_have_a_day_and_a_time(text: str) -> None:
    """checkpoint_time is a date-time in every source: a time of day alone is malformed."""
    point = Checkpoint.from_dict({"checkpoint_time": text, "message": "Delivered"})
    assert point.checkpoint_time is UNSET
    assert malformed_fields(point) == {"checkpoint_time": text}
    assert point.message == "Delivered"
    assert validate("tracking", "Checkpoint", {"checkpoint_time": text})


def test_created_at_is_still_an_rfc_3339_date_time() -> None:
    """Only the fields documented as possibly offset-less accept a missing offset in the spec."""
    assert validate("tracking", "Tracking", {**TRACKING_BASE, "created_at": "2022-01-21T15:00:00"})
    assert not validate(
        "tracking", "Tracking", {**TRACKING_BASE, "created_at": "2022-01-21T15:00:00Z"}
    )


# -- mark-as-completed: event_datetime -----------------------------------------


def test_event_datetime_is_typed_as_a_date_or_a_date_time() -> None:
    hint = typing.get_type_hints(MarkTrackingCompletedByIdRequest)["event_datetime"]
    assert hint == dt.datetime | dt.date | Unset


EVENT_FORMS: list[tuple[dt.date, str]] = [
    (dt.date(2024, 5, 1), "2024-05-01"),
    (dt.datetime(2024, 5, 1, 10, 30), "2024-05-01T10:30:00"),
    (dt.datetime(2024, 5, 1, 10, 30, tzinfo=UTC), "2024-05-01T10:30:00Z"),
    (dt.datetime(2024, 5, 1, 10, 30, tzinfo=PLUS8), "2024-05-01T10:30:00+08:00"),
]


@pytest.mark.parametrize(("value", "sent"), EVENT_FORMS, ids=[f[1] for f in EVENT_FORMS])
async def test_event_datetime_is_sent_as_documented(
    client: AfterShip, mocked: aioresponses, value: dt.date, sent: str
) -> None:
    request = MarkTrackingCompletedByIdRequest(
        reason=MarkTrackingCompletedByIdRequestReason.DELIVERED, event_datetime=value
    )
    mocked.post(
        f"{T}/trackings/t1/mark-as-completed",
        payload={"meta": {"code": 200}, "data": TRACKING_BASE},
    )
    await client.tracking.mark_tracking_completed_by_id("t1", request)
    ((_, calls),) = mocked.requests.items()
    body = json.loads(calls[0].kwargs["data"])
    assert body == {"reason": "DELIVERED", "event_datetime": sent}
    assert validate("tracking", "MarkTrackingCompletedByIdRequest", body) == []
    same(MarkTrackingCompletedByIdRequest.from_dict(body).event_datetime, value)


def test_event_datetime_in_no_documented_form_is_refused_by_the_spec() -> None:
    for text in ("10:30", "01/05/2024", "2024-05-01 10:30"):
        body = {"reason": "DELIVERED", "event_datetime": text}
        assert validate("tracking", "MarkTrackingCompletedByIdRequest", body), text

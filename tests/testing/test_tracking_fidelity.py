"""Tracking details of the fidelity audit (issue 21 item 6), where behaviour changed.

- T3: a tracking id is 1 to 128 letters, digits, ``_`` and ``-`` (or a 24-character
  ``legacy_id``); anything else is refused before the network, by the spec's pattern.
- T1/T2: clearing fields the documented way: ``note: ""`` and ``last_mile: null``, against the
  fake too.
"""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from aftership_async import (
    AfterShip,
    BadRequestError,
    CreateTrackingRequest,
    CreateTrackingRequestLastMile,
    InvalidRequestError,
    MarkTrackingCompletedByIdRequest,
    UpdateTrackingByIdRequest,
)
from aftership_async.testing import FakeAfterShip

T = "https://api.aftership.com/tracking/2026-07"
MINIMAL = {"id": "x", "tracking_number": "1Z999AA10123456784", "slug": "ups"}


@pytest.mark.parametrize(
    "tracking_id",
    [
        "0b02015fc7fd4f3c8d5490cece4d124d",  # 32 hex, the usual system id
        "my2uktymyz72xld1f7l3h01z",  # a 24-character legacy_id
        "order-1001_A",  # caller-chosen
        "a" * 128,
        "7",
    ],
)
async def test_valid_tracking_ids_are_sent(
    mocked: aioresponses, client: AfterShip, tracking_id: str
) -> None:
    mocked.get(f"{T}/trackings/{tracking_id}", payload={"meta": {"code": 200}, "data": MINIMAL})
    tracking = await client.tracking.get_tracking_by_id(tracking_id)
    assert tracking.tracking_number == MINIMAL["tracking_number"]
    assert len(mocked.requests) == 1


@pytest.mark.parametrize("tracking_id", ["a" * 129, "has space", "dot.ted", "ünï", "a+b", "%41"])
async def test_other_tracking_ids_are_refused_before_the_network(
    mocked: aioresponses, client: AfterShip, tracking_id: str
) -> None:
    calls = [
        lambda: client.tracking.get_tracking_by_id(tracking_id),
        lambda: client.tracking.delete_tracking_by_id(tracking_id),
        lambda: client.tracking.retrack_tracking_by_id(tracking_id),
        lambda: client.tracking.update_tracking_by_id(
            tracking_id, UpdateTrackingByIdRequest(note="")
        ),
        lambda: client.tracking.mark_tracking_completed_by_id(
            tracking_id, MarkTrackingCompletedByIdRequest(reason="LOST")
        ),
    ]
    for call in calls:
        with pytest.raises(InvalidRequestError, match="path parameter 'id' must match"):
            await call()
    assert not mocked.requests


async def test_other_path_parameters_keep_their_own_rules(
    mocked: aioresponses, client: AfterShip
) -> None:
    """Only the tracking id has a pattern: an RMA number with a space is still sent, quoted."""
    mocked.get(f"{T.replace('tracking', 'returns')}/returns/rma/A1B2%20C3", status=404)
    with pytest.raises(Exception) as caught:
        await client.returns.get_return_by_rma("A1B2 C3")
    assert not isinstance(caught.value, InvalidRequestError)
    assert len(mocked.requests) == 1


async def test_clearing_note_and_last_mile_on_the_fake(fake_client: AfterShip) -> None:
    t = fake_client.tracking
    created = await t.create_tracking(
        CreateTrackingRequest(
            tracking_number="1Z999AA10123456784",
            slug="ups",
            note="fragile",
            last_mile=CreateTrackingRequestLastMile(tracking_number="9400111899", slug="usps"),
        )
    )
    assert created.note == "fragile"
    assert created.last_mile and created.last_mile.tracking_number == "9400111899"

    cleared = await t.update_tracking_by_id(
        created.id, UpdateTrackingByIdRequest(note="", last_mile=None)
    )
    assert cleared.note == ""
    assert cleared.last_mile is None
    again = await t.get_tracking_by_id(created.id)
    assert again.note == "" and again.last_mile is None


async def test_a_tracking_number_outside_4_to_100_characters_is_refused_by_the_fake(
    fake_client: AfterShip, aftership_fake: FakeAfterShip
) -> None:

    for number in ("1Z9", "9" * 101):
        with pytest.raises(BadRequestError, match="tracking_number"):
            await fake_client.tracking.create_tracking(
                CreateTrackingRequest(tracking_number=number)
            )
    assert aftership_fake.stats.created.get("tracking", 0) == 0

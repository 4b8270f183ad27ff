"""The tracking lifecycle and the error table, through the real client.

Every transition the spec declares for trackings (``x-aftership.resources.tracking.lifecycle``)
and every code of the fake's Tracking error table (``ERRORS``) is driven
through ``AfterShip(base_url=fake.url)`` and must surface as the typed error
the client raises for it, with the code, status and type AfterShip sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aftership_async import (
    AfterShip,
    AfterShipError,
    BadRequestError,
    NotFoundError,
    Tag,
    Tracking,
    TrackingAlreadyExistsError,
)
from aftership_async.testing import FakeAfterShip
from aftership_async.testing._envelopes import MESSAGES
from aftership_async.testing._resources import resources
from aftership_async.testing._spec import load_specs
from aftership_async.testing._tracking import STATES, lifecycle

from .helpers import body, client_for

COMPLETE = {"reason": "DELIVERED"}
ERRORS = MESSAGES["tracking"]
TRANSITIONS = resources(load_specs()["tracking"])["tracking"].lifecycle


async def _active(fake: FakeAfterShip, client: AfterShip) -> Tracking:
    """A new tracking AfterShip is still updating (content is seeded: the first active one)."""
    for n in range(50):
        created = await client.tracking.create_tracking(
            body("CreateTrackingRequest", {"tracking_number": f"1Z{n:016d}"})
        )
        if created.active:
            assert lifecycle(fake.trackings[created.id]) == "active"
            return created
    raise AssertionError("no active tracking among 50")


def _complete(reason: str = "DELIVERED") -> Any:
    return body("MarkTrackingCompletedByIdRequest", {"reason": reason})


def test_the_transition_table_is_closed() -> None:
    for rule in TRANSITIONS.values():
        assert rule.sources <= set(STATES) and rule.target in STATES
        for code in (*rule.refused.values(), rule.over_limit):
            assert code is None or code in ERRORS
    retrack = TRANSITIONS["retrack"]
    assert "active" not in retrack.sources and retrack.refused == {"*": 4013}
    assert (retrack.limit, retrack.over_limit) == (3, 4016)


async def test_retracking_an_active_tracking_is_4013(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake) as client:
        tracking = await _active(aftership_fake, client)
        with pytest.raises(BadRequestError) as excinfo:
            await client.tracking.retrack_tracking_by_id(tracking.id)
    error = excinfo.value
    assert (error.code, error.status_code, error.type) == (4013, 400, "BadRequest")
    assert "inactive" in error.message
    assert aftership_fake.trackings[tracking.id]["active"] is True  # nothing changed


@pytest.mark.parametrize(
    ("reason", "tag", "subtag", "returned"),
    [
        ("DELIVERED", Tag.DELIVERED, "Delivered_001", False),
        ("LOST", Tag.EXCEPTION, "Exception_013", False),
        ("RETURNED_TO_SENDER", Tag.EXCEPTION, "Exception_011", True),
    ],
)
async def test_mark_as_completed_makes_it_inactive(
    aftership_fake: FakeAfterShip, reason: str, tag: Tag, subtag: str, returned: bool
) -> None:
    async with client_for(aftership_fake) as client:
        tracking = await _active(aftership_fake, client)
        before = len(tracking.checkpoints or [])
        done = await client.tracking.mark_tracking_completed_by_id(tracking.id, _complete(reason))
    assert done.active is False and done.tag == tag and done.subtag == subtag
    assert done.return_to_sender is returned
    assert done.checkpoints is not None and len(done.checkpoints) == before + 1
    last = done.checkpoints[-1]
    assert last.source == "user" and last.subtag == subtag and last.hash
    assert lifecycle(aftership_fake.trackings[tracking.id]) == "completed"


async def test_a_completed_tracking_can_be_retracked(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake) as client:
        tracking = await _active(aftership_fake, client)
        await client.tracking.mark_tracking_completed_by_id(tracking.id, _complete())
        again = await client.tracking.retrack_tracking_by_id(tracking.id)
        assert again.active is True
        assert again.tracked_count == (tracking.tracked_count or 0) + 1
        with pytest.raises(BadRequestError) as excinfo:  # active again: 4013 again
            await client.tracking.retrack_tracking_by_id(tracking.id)
        assert excinfo.value.code == 4013


async def test_an_expired_tracking_can_be_retracked(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake) as client:
        tracking = await _active(aftership_fake, client)
        aftership_fake.expire_tracking(tracking.id)
        expired = await client.tracking.get_tracking_by_id(tracking.id)
        assert (expired.active, expired.tag, expired.subtag) == (False, Tag.EXPIRED, "Expired_001")
        retracked = await client.tracking.retrack_tracking_by_id(tracking.id)
    assert retracked.active is True
    assert (retracked.tag, retracked.subtag) == (Tag.PENDING, "Pending_001")
    with pytest.raises(ValueError, match="not active"):  # expire: only from active
        aftership_fake.expire_tracking(aftership_fake.expire_tracking(tracking.id)["id"])
    with pytest.raises(KeyError):
        aftership_fake.expire_tracking("nope")


async def test_a_delivered_tracking_can_be_retracked(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake) as client:
        tracking = await _active(aftership_fake, client)
        aftership_fake.trackings[tracking.id]["active"] = False  # stopped by AfterShip
        assert lifecycle(aftership_fake.trackings[tracking.id]) == "inactive"
        assert (await client.tracking.retrack_tracking_by_id(tracking.id)).active is True


async def test_the_fourth_retrack_is_4016(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake) as client:
        t = client.tracking
        tracking = await _active(aftership_fake, client)
        for _ in range(3):
            await t.mark_tracking_completed_by_id(tracking.id, _complete())
            assert (await t.retrack_tracking_by_id(tracking.id)).active is True
        await t.mark_tracking_completed_by_id(tracking.id, _complete())
        with pytest.raises(BadRequestError) as excinfo:
            await t.retrack_tracking_by_id(tracking.id)
        assert (excinfo.value.code, excinfo.value.status_code) == (4016, 400)
        assert "3 times" in excinfo.value.message
        assert (await t.get_tracking_by_id(tracking.id)).active is False  # still completed
        # another tracking has its own count
        other = await t.create_tracking(
            body("CreateTrackingRequest", {"tracking_number": "123456789012"})
        )
        await t.mark_tracking_completed_by_id(other.id, _complete())
        assert (await t.retrack_tracking_by_id(other.id)).active is True


@pytest.mark.parametrize("action", ["retrack", "mark"])
async def test_transitions_of_an_unknown_tracking_are_4004(
    aftership_fake: FakeAfterShip, action: str
) -> None:
    async with client_for(aftership_fake) as client:
        with pytest.raises(NotFoundError) as excinfo:
            if action == "retrack":
                await client.tracking.retrack_tracking_by_id("0" * 32)
            else:
                await client.tracking.mark_tracking_completed_by_id("0" * 32, _complete())
    assert (excinfo.value.code, excinfo.value.status_code, excinfo.value.type) == (
        4004,
        404,
        "NotFound",
    )


# ------------------------------------------------------------------ every code of the table

Scenario = Callable[[AfterShip, FakeAfterShip], Awaitable[object]]


def _create(
    number: str, **extra: object
) -> Callable[[AfterShip, FakeAfterShip], Awaitable[object]]:
    async def run(client: AfterShip, fake: FakeAfterShip) -> object:
        request = body("CreateTrackingRequest", {"tracking_number": number, **extra})
        return await client.tracking.create_tracking(request)

    return run


async def _duplicate(client: AfterShip, fake: FakeAfterShip) -> object:
    await _create("123456789012")(client, fake)
    return await _create("123456789012", slug="fedex")(client, fake)


async def _unknown_tracking(client: AfterShip, fake: FakeAfterShip) -> object:
    return await client.tracking.get_tracking_by_id("f" * 32)


async def _bad_cursor(client: AfterShip, fake: FakeAfterShip) -> object:
    return await client.tracking.get_trackings(cursor="not-our-cursor")


async def _missing_credential(client: AfterShip, fake: FakeAfterShip) -> object:
    request = body("CreateCourierConnectionRequest",
                   {"courier_slug": "ups-api", "credentials": {"user_id": "u", "password": "p"}})  # fmt: skip
    return await client.tracking.create_courier_connection(request)


async def _unknown_courier_slug(client: AfterShip, fake: FakeAfterShip) -> object:
    return await client.tracking.get_couriers(slug="ups,no-such-courier")


async def _retrack_active(client: AfterShip, fake: FakeAfterShip) -> object:
    tracking = await _active(fake, client)
    return await client.tracking.retrack_tracking_by_id(tracking.id)


async def _retrack_four_times(client: AfterShip, fake: FakeAfterShip) -> object:
    tracking = await _active(fake, client)
    for _ in range(4):
        await client.tracking.mark_tracking_completed_by_id(tracking.id, _complete())
        await client.tracking.retrack_tracking_by_id(tracking.id)
    raise AssertionError("the fourth retrack was accepted")


async def _unknown_connection(client: AfterShip, fake: FakeAfterShip) -> object:
    return await client.tracking.get_courier_connection_by_id("c" * 32)


SCENARIOS: dict[int, tuple[Scenario, type[AfterShipError], int]] = {
    404: (_unknown_connection, NotFoundError, 404),
    4003: (_duplicate, TrackingAlreadyExistsError, 400),
    4004: (_unknown_tracking, NotFoundError, 404),
    4005: (_create("12"), BadRequestError, 400),
    4007: (_create("   "), BadRequestError, 400),
    4008: (_bad_cursor, BadRequestError, 400),
    4009: (_missing_credential, BadRequestError, 400),
    4010: (_unknown_courier_slug, BadRequestError, 400),
    4012: (_create("??-not-a-number"), BadRequestError, 400),
    4013: (_retrack_active, BadRequestError, 400),
    4016: (_retrack_four_times, BadRequestError, 400),
}


def test_every_code_of_the_error_table_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ERRORS)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
async def test_each_error_code_reaches_the_client_typed(
    aftership_fake: FakeAfterShip, code: int
) -> None:
    scenario, error_type, status = SCENARIOS[code]
    async with client_for(aftership_fake) as client:
        with pytest.raises(error_type) as excinfo:
            await scenario(client, aftership_fake)
    error = excinfo.value
    assert type(error) is error_type
    assert (error.code, error.status_code) == (code, status)  # type: ignore[attr-defined]
    assert error.type == ("NotFound" if status == 404 else "BadRequest")  # type: ignore[attr-defined]
    assert error.message  # type: ignore[attr-defined]

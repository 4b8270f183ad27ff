"""Courier connections (Tracking 2026-07): a stateful store, paged and filtered like trackings."""

from __future__ import annotations

import aiohttp
import pytest

from aftership_async import AfterShip, BadRequestError, NotFoundError
from aftership_async.testing import FakeAfterShip

from .helpers import body

DHL = {"courier_slug": "dhl-api", "credentials": {"api_key": "dhl-1"}}
UPS = {
    "courier_slug": "ups-api",
    "credentials": {"user_id": "u", "password": "p", "access_license_number": "L"},
}


async def test_create_list_get_update_delete(
    aftership_fake: FakeAfterShip, fake_client: AfterShip
) -> None:
    t = fake_client.tracking
    made = []
    for i in range(5):
        request = DHL if i % 2 == 0 else UPS
        made.append(
            await t.create_courier_connection(body("CreateCourierConnectionRequest", request))
        )
    assert aftership_fake.stats.created["courier_connection"] == 5
    assert len({c.id for c in made}) == 5 and all(len(c.id) == 32 for c in made)
    assert made[0].courier_slug == "dhl-api" and made[0].credentials == {"api_key": "dhl-1"}

    seen, cursor, pages = [], None, 0
    while True:
        page = await t.get_courier_connections(limit=2, cursor=cursor)
        pages += 1
        assert page.pagination is not None and page.pagination.total == 5
        seen += [c.id for c in page.courier_connections]
        if not page.pagination.has_next_page:
            assert page.pagination.next_cursor is None
            break
        cursor = page.pagination.next_cursor
    assert pages == 3 and seen == [c.id for c in reversed(made)]  # newest first, no gaps

    dhl = await t.get_courier_connections(courier_slug="dhl-api")
    assert [c.id for c in dhl.courier_connections] == [made[4].id, made[2].id, made[0].id]
    assert dhl.pagination is not None and dhl.pagination.total == 3
    assert [c.id async for c in t.iter_courier_connections(courier_slug="ups-api", limit=1)] == [
        made[3].id,
        made[1].id,
    ]

    got = await t.get_courier_connection_by_id(made[1].id)
    assert got == made[1]
    rotated = await t.update_courier_connection_by_id(
        made[1].id,
        body("UpdateCourierConnectionByIdRequest", {"credentials": {**UPS["credentials"],  # type: ignore[dict-item]
                                                                     "password": "new"}}),
    )  # fmt: skip
    assert rotated.credentials is not None and rotated.credentials["password"] == "new"
    assert rotated.courier_slug == "ups-api" and rotated.created_at == made[1].created_at
    assert (await t.get_courier_connection_by_id(made[1].id)).credentials == rotated.credentials

    deleted = await t.delete_courier_connection_by_id(made[1].id)
    assert deleted.id == made[1].id
    with pytest.raises(NotFoundError) as excinfo:
        await t.get_courier_connection_by_id(made[1].id)
    assert (excinfo.value.code, excinfo.value.status_code, excinfo.value.type) == (
        404,
        404,
        "NotFound",
    )
    for call in (
        t.delete_courier_connection_by_id(made[1].id),
        t.update_courier_connection_by_id(
            made[1].id, body("UpdateCourierConnectionByIdRequest", {"credentials": {}})
        ),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert (await t.get_courier_connections()).pagination.total == 4  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("request_body", "code", "words"),
    [
        ({"courier_slug": "no-such-courier", "credentials": {}}, 4010, "courier_slug"),
        ({"courier_slug": "ups", "credentials": {}}, 4008, "courier connection"),
        ({"courier_slug": "dhl-api", "credentials": {}}, 4009, "credentials.api_key"),
        ({"courier_slug": "dhl-api", "credentials": {"api_key": 7}}, 4008, "credentials.api_key"),
        ({"courier_slug": "dhl-api"}, 4009, "credentials"),  # the spec requires it
    ],
)
async def test_create_refusals(
    aftership_fake: FakeAfterShip, request_body: dict[str, object], code: int, words: str
) -> None:
    async with (
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
        session.post(
            aftership_fake.url + "/tracking/2026-07/courier-connections", json=request_body
        ) as resp,
    ):
        payload = await resp.json()
    assert resp.status == 400, payload
    assert payload["meta"]["code"] == code and payload["meta"]["type"] == "BadRequest"
    assert words in payload["meta"]["message"]
    assert aftership_fake.stats.created["courier_connection"] == 0


async def test_update_checks_the_credentials_of_the_connections_courier(
    fake_client: AfterShip,
) -> None:
    t = fake_client.tracking
    made = await t.create_courier_connection(body("CreateCourierConnectionRequest", UPS))
    with pytest.raises(BadRequestError) as excinfo:
        await t.update_courier_connection_by_id(
            made.id, body("UpdateCourierConnectionByIdRequest", {"credentials": {"user_id": "x"}})
        )
    assert excinfo.value.code == 4009 and "credentials.password" in excinfo.value.message
    assert (await t.get_courier_connection_by_id(made.id)).credentials == UPS["credentials"]


async def test_connectable_couriers_list_their_credential_fields(fake_client: AfterShip) -> None:
    couriers = await fake_client.tracking.get_couriers(slug="ups-api,ups")
    by_slug = {c.slug: c for c in couriers.couriers}
    assert by_slug["ups"].credentials is None
    fields = by_slug["ups-api"].credentials.fields  # type: ignore[union-attr]
    assert fields is not None
    assert [(f.name, f.required) for f in fields] == [
        ("user_id", True),
        ("password", True),
        ("access_license_number", True),
    ]

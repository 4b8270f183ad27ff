"""Error answers: each API's envelope, business errors, validation, unknown paths."""

from __future__ import annotations

import aiohttp
import pytest

from aftership_async import (
    AfterShip,
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from aftership_async.testing import FakeAfterShip

from .helpers import RETURN_REQUEST, SHIPMENT, body, client_for


async def test_shipping_business_error_is_http_200(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake, api_key="k") as client:
        with pytest.raises(NotFoundError) as excinfo:
            await client.shipping.get_label_by_id("00000000-0000-0000-0000-000000000000")
    assert (excinfo.value.status_code, excinfo.value.code) == (200, 4153)
    assert excinfo.value.retryable is False


async def test_shipping_cancel_twice_is_4722(fake_client: AfterShip) -> None:
    s = fake_client.shipping
    label = await s.create_label(
        body(
            "CreateLabelRequest",
            {
                "shipper_account": {"id": "acc"},
                "service_type": "fedex_ground",
                "shipment": SHIPMENT,
            },
        )
    )
    assert label.status == "created"
    cancel = body("CancelLabelRequest", {"label": {"id": label.id}})
    assert (await s.cancel_label(cancel)).status == "cancelled"
    assert (await s.get_label_by_id(label.id)).status == "cancelled"
    with pytest.raises(ConflictError) as excinfo:
        await s.cancel_label(cancel)
    assert (excinfo.value.status_code, excinfo.value.code) == (200, 4722)


async def test_shipping_labels_page_by_next_token(fake_client: AfterShip) -> None:
    s = fake_client.shipping
    request = body(
        "CreateLabelRequest",
        {"shipper_account": {"id": "acc"}, "service_type": "usps_priority", "shipment": SHIPMENT},
    )
    ids = {(await s.create_label(request)).id for _ in range(5)}
    seen: list[str] = []
    token = None
    while True:
        page = await s.get_labels(limit=2, next_token=token)
        seen += [label.id for label in page.labels]
        token = page.next_token
        if not token:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5


async def test_returns_state_machine(fake_client: AfterShip) -> None:
    r = fake_client.returns
    created = await r.create_return(body("CreateReturnRequest", RETURN_REQUEST))
    assert created.approval_status == "submitted"
    resolve = body("ResolveReturnRequest", {})
    with pytest.raises(ConflictError) as excinfo:
        await r.resolve_return_by_id(created.id, resolve)
    assert (excinfo.value.status_code, excinfo.value.code, excinfo.value.type) == (
        409,
        40900,
        "Conflict",
    )
    approved = await r.approve_return_by_rma(created.rma_number, body("ApproveReturnRequest", {}))
    assert approved.approval_status == "approved"
    with pytest.raises(ConflictError):
        await r.approve_return_by_id(created.id, body("ApproveReturnRequest", {}))
    done = await r.resolve_return_by_id(created.id, resolve)
    assert done.approval_status == "done"
    with pytest.raises(ConflictError):
        await r.reject_return_by_id(created.id, body("RejectReturnRequest", {"reject_reason": "x"}))
    with pytest.raises(NotFoundError) as notfound:
        await r.get_return_by_rma("RMA-NOPE")
    assert (notfound.value.status_code, notfound.value.code) == (404, 40400)
    listed = await r.get_returns(approval_status="done")
    assert [x.id for x in listed.returns] == [created.id]


async def test_returns_receive_more_than_returned_is_422(fake_client: AfterShip) -> None:
    r = fake_client.returns
    created = await r.create_return(body("CreateReturnRequest", RETURN_REQUEST))
    too_many = body(
        "ReceiveReturnItemsRequest", {"items": [{"external_id": "item-1", "quantity": 4}]}
    )
    with pytest.raises(UnprocessableEntityError) as excinfo:
        await r.receive_return_items_by_id(created.id, too_many)
    assert excinfo.value.code == 42213


async def test_validation_errors_name_the_field(aftership_fake: FakeAfterShip) -> None:
    async with client_for(aftership_fake, api_key="k") as client:
        with pytest.raises(BadRequestError) as tracking:
            await client.tracking.get_trackings(limit=500)
        assert tracking.value.status_code == 400 and "limit" in tracking.value.message

        with pytest.raises(BadRequestError) as shipping:
            await client.shipping.create_label(
                body(
                    "CreateLabelRequest",
                    {
                        "shipper_account": {"id": "acc"},
                        "service_type": "ups_ground",
                        "shipment": SHIPMENT,
                        "paper_size": "poster",
                    },
                )
            )
        assert (shipping.value.status_code, shipping.value.code) == (200, 4104)
        assert [d["path"] for d in shipping.value.details] == ["paper_size"]

        item = {**RETURN_REQUEST["return_items"][0], "intended_return_quantity": 0}  # type: ignore[index]
        with pytest.raises(UnprocessableEntityError) as returns:
            await client.returns.create_return(
                body("CreateReturnRequest", {**RETURN_REQUEST, "return_items": [item]})
            )
        assert (returns.value.status_code, returns.value.code) == (422, 42200)
        assert [d["path"] for d in returns.value.details] == [
            "return_items[0].intended_return_quantity"
        ]

    headers = {"as-api-key": "k"}
    async with aiohttp.ClientSession(headers=headers) as session:
        bad_label = {"shipper_account": {"id": "a"}, "service_type": "x",
                     "shipment": {**SHIPMENT, "ship_from": {"country": "USA"}}}  # fmt: skip
        async with session.post(f"{aftership_fake.url}/postmen/v3/labels", json=bad_label) as resp:
            payload = await resp.json()
        assert resp.status == 200 and payload["meta"]["code"] == 4104
        paths = {d["path"] for d in payload["meta"]["details"]}
        assert paths == {"shipment.ship_from.street1", "shipment.ship_from.contact_name"}

        bad_return = {**RETURN_REQUEST, "return_items": [{"intended_return_quantity": 1}]}
        async with session.post(
            f"{aftership_fake.url}/returns/2026-07/returns", json=bad_return
        ) as resp:
            payload = await resp.json()
        assert resp.status == 422 and payload["data"] is None
        errors = {e["path"]: e["info"] for e in payload["meta"]["errors"]}
        assert errors["return_items[0].external_order_item_id"] == (
            "external_order_item_id is a required field"
        )
    assert aftership_fake.stats.created == {}


async def test_raw_validation_and_unknown_paths(aftership_fake: FakeAfterShip) -> None:
    headers = {"as-api-key": "k", "content-type": "application/json"}
    url = aftership_fake.url
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{url}/tracking/2026-07/trackings", data=b"{nope") as resp:
            assert resp.status == 400 and (await resp.json())["meta"]["code"] == 4001
        async with session.post(f"{url}/tracking/2026-07/trackings", json={"slug": "ups"}) as resp:
            meta = (await resp.json())["meta"]
            assert (resp.status, meta["code"]) == (400, 4007)
            assert "tracking_number" in meta["message"]
        async with session.get(f"{url}/tracking/2026-07/trackings?limit=abc") as resp:
            assert resp.status == 400 and "limit" in (await resp.json())["meta"]["message"]
        async with session.get(f"{url}/tracking/2026-07/nothing-here") as resp:
            assert resp.status == 404 and (await resp.json())["meta"]["type"] == "NotFound"
        async with session.get(f"{url}/postmen/v3/nothing-here") as resp:
            assert resp.status == 404 and (await resp.json())["meta"]["code"] == 404
        async with session.get(f"{url}/returns/2026-07/nothing-here") as resp:
            payload = await resp.json()
            assert resp.status == 404 and payload == {
                "meta": {
                    "code": 40400,
                    "type": "NotFound",
                    "message": "The requested resource does not exist.",
                },
                "data": None,
            }
        async with session.get(f"{url}/elsewhere/v1/x") as resp:
            assert resp.status == 404 and (await resp.json())["meta"]["code"] == 404


async def test_odd_paths_get_the_apis_own_404_and_405(aftership_fake: FakeAfterShip) -> None:
    headers = {"as-api-key": "k"}
    async with aiohttp.ClientSession() as session:
        # an encoded newline in a path parameter: still the API's JSON envelope, not aiohttp's text
        async with session.get(
            aftership_fake.url + "/returns/2026-07/returns/a%0Ab", headers=headers
        ) as response:
            assert response.status == 404
            assert (await response.json())["meta"]["code"] == 40400
        # a known path with an undeclared method: 405 and Allow, in the API's envelope
        async with session.delete(
            aftership_fake.url + "/returns/2026-07/returns/link", headers=headers
        ) as response:
            assert response.status == 405
            assert response.headers["Allow"] == "POST"
            assert (await response.json())["meta"]["code"] == 40500
        async with session.patch(
            aftership_fake.url + "/tracking/2026-07/trackings", headers=headers
        ) as response:
            assert response.status == 405
            assert response.headers["Allow"] == "GET, POST"
            assert (await response.json())["meta"]["type"] == "MethodNotAllowed"

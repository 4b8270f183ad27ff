"""Spec conformance: all 67 operations, end to end through the real client.

Each call goes through ``AfterShip(base_url=fake.url)``; the raw ``data`` of
every answer is validated with jsonschema against the operation's response
schema in the shipped spec, and the decoded model is what the client returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aftership_async import AfterShip
from aftership_async.testing import FakeAfterShip

from .helpers import (
    ADDRESS,
    FEDEX,
    RETURN_REQUEST,
    SHIPMENT,
    all_operation_ids,
    assert_valid,
    body,
    capture_raw,
    client_for,
    data_schema,
)


class Recorder:
    """Runs calls and keeps each operation's raw data for validation."""

    def __init__(self, capture: Any) -> None:
        self.capture = capture
        self.seen: dict[tuple[str, str], Any] = {}

    async def __call__(
        self, api: str, operation_id: str, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        result = await call()
        self.seen[(api, operation_id)] = self.capture.pop()
        return result


async def test_all_67_operations_answer_spec_valid_data(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeAfterShip(seed=7) as fake, client_for(fake, api_key="k") as client:
        with capture_raw(monkeypatch) as capture:
            run = Recorder(capture)
            await _tracking(run, client)
            await _shipping(run, client)
            await _returns(run, client)

    for api in ("tracking", "shipping", "returns"):
        missing = all_operation_ids(api) - {op for a, op in run.seen if a == api}
        assert not missing, f"{api} operations not exercised: {sorted(missing)}"
    assert len(run.seen) == 67
    for (api, operation_id), data in run.seen.items():
        assert_valid(api, data_schema(api, operation_id), data)


async def _tracking(run: Recorder, client: AfterShip) -> None:
    t = client.tracking
    created = await run(
        "tracking",
        "create_tracking",
        lambda: t.create_tracking(
            body(
                "CreateTrackingRequest",
                {
                    "tracking_number": "1Z999AA10123456784",
                    "title": "Order #1001",
                    "order_id": "1001",
                    "custom_fields": {"store": "main"},
                    "customers": [{"role": "buyer", "name": "Ann", "email": "ann@example.com"}],
                    "shipment_tags": ["vip"],
                },
            )
        ),
    )
    await run("tracking", "get_trackings", lambda: t.get_trackings(limit=10, tag=created.tag))
    await run("tracking", "get_tracking_by_id", lambda: t.get_tracking_by_id(created.id))
    await run(
        "tracking",
        "update_tracking_by_id",
        lambda: t.update_tracking_by_id(
            created.id, body("UpdateTrackingByIdRequest", {"note": "n"})
        ),
    )
    await run(
        "tracking",
        "mark_tracking_completed_by_id",
        lambda: t.mark_tracking_completed_by_id(
            created.id, body("MarkTrackingCompletedByIdRequest", {"reason": "DELIVERED"})
        ),
    )
    await run("tracking", "retrack_tracking_by_id", lambda: t.retrack_tracking_by_id(created.id))
    await run("tracking", "delete_tracking_by_id", lambda: t.delete_tracking_by_id(created.id))
    everything = await run("tracking", "get_couriers", lambda: t.get_couriers())
    mine = await run("tracking", "get_couriers", lambda: t.get_couriers(active=True))
    assert {c.slug for c in mine.couriers} < {c.slug for c in everything.couriers}
    assert (await t.get_user_couriers()) == mine  # the listed methods are aliases
    assert (await t.get_all_couriers()) == everything
    run.capture.items.clear()
    picked = await run("tracking", "get_couriers", lambda: t.get_couriers(slug="ups-api,dhl"))
    assert sorted(c.slug for c in picked.couriers) == ["dhl", "ups-api"]
    assert picked.total == 2
    detected = await run(
        "tracking",
        "detect_courier",
        lambda: t.detect_courier(body("DetectCourierRequest", {"tracking_number": "123456789012"})),
    )
    assert [c.slug for c in detected.couriers] == ["fedex"]
    predicted = await run(
        "tracking",
        "predict_batch",
        lambda: t.predict_batch(
            body(
                "PredictBatchRequest",
                {
                    "estimated_delivery_dates": [
                        {
                            "slug": "ups",
                            "origin_address": {"country_region": "USA", "postal_code": "10001"},
                            "destination_address": {"country_region": "USA"},
                            "pickup_time": "2025-06-01T10:00:00+00:00",
                        }
                    ]
                },
            )
        ),
    )
    assert predicted.estimated_delivery_dates[0].estimated_delivery_date
    single = await run(
        "tracking",
        "predict",
        lambda: t.predict(
            body(
                "EstimatedDeliveryDateRequest",
                {
                    "slug": "ups",
                    "origin_address": {"country_region": "USA", "postal_code": "10001"},
                    "destination_address": {"country_region": "USA"},
                    "pickup_time": "2025-06-01T10:00:00+00:00",
                },
            )
        ),
    )
    assert single == predicted.estimated_delivery_dates[0]  # one model, one answer
    connection = await run(
        "tracking",
        "create_courier_connection",
        lambda: t.create_courier_connection(
            body(
                "CreateCourierConnectionRequest",
                {"courier_slug": "dhl-api", "credentials": {"api_key": "dhl-secret"}},
            )
        ),
    )
    await run(
        "tracking",
        "get_courier_connections",
        lambda: t.get_courier_connections(courier_slug="dhl-api", limit=5),
    )
    await run(
        "tracking",
        "get_courier_connection_by_id",
        lambda: t.get_courier_connection_by_id(connection.id),
    )
    await run(
        "tracking",
        "update_courier_connection_by_id",
        lambda: t.update_courier_connection_by_id(
            connection.id,
            body("UpdateCourierConnectionByIdRequest", {"credentials": {"api_key": "rotated"}}),
        ),
    )
    await run(
        "tracking",
        "delete_courier_connection_by_id",
        lambda: t.delete_courier_connection_by_id(connection.id),
    )


async def _shipping(run: Recorder, client: AfterShip) -> None:
    s = client.shipping
    account = await run(
        "shipping",
        "create_shipper_account",
        lambda: s.create_shipper_account(
            body(
                "CreateShipperAccountRequest",
                {
                    "slug": "ups",
                    "description": "UPS",
                    "credentials": {"k": "v"},
                    "address": ADDRESS,
                },
            )
        ),
    )
    await run("shipping", "get_shipper_accounts", lambda: s.get_shipper_accounts(slug="ups"))
    await run(
        "shipping", "get_shipper_account_by_id", lambda: s.get_shipper_account_by_id(account.id)
    )
    await run(
        "shipping",
        "update_shipper_account_info_by_id",
        lambda: s.update_shipper_account_info_by_id(
            account.id, body("UpdateShipperAccountInfoRequest", {"description": "Main UPS"})
        ),
    )
    await run(
        "shipping",
        "update_shipper_account_credentials_by_id",
        lambda: s.update_shipper_account_credentials_by_id(account.id, {"password": "x"}),
    )
    await run(
        "shipping",
        "update_shipper_account_settings_by_id",
        lambda: s.update_shipper_account_settings_by_id(account.id, {"paper_size": "4x6"}),
    )
    fedex = await run(
        "shipping",
        "create_fedex_shipper_account",
        lambda: s.create_fedex_shipper_account(body("CreateFedexShipperAccountRequest", FEDEX)),
    )
    await run(
        "shipping",
        "update_fedex_shipper_account_by_id",
        lambda: s.update_fedex_shipper_account_by_id(
            fedex.id,
            body("UpdateFedexShipperAccountRequest", {"invoice": FEDEX["invoice"]}),
        ),
    )
    ref = {"id": account.id}
    label = await run(
        "shipping",
        "create_label",
        lambda: s.create_label(
            body(
                "CreateLabelRequest",
                {"shipper_account": ref, "service_type": "ups_ground", "shipment": SHIPMENT},
            )
        ),
    )
    second = await run(
        "shipping",
        "create_label",
        lambda: s.create_label(
            body(
                "CreateLabelRequest",
                {"shipper_account": ref, "service_type": "ups_ground", "shipment": SHIPMENT},
            )
        ),
    )
    assert label.tracking_numbers[0].startswith("1Z")
    await run("shipping", "get_labels", lambda: s.get_labels(limit=1))
    await run("shipping", "get_label_by_id", lambda: s.get_label_by_id(label.id))
    cancelled = await run(
        "shipping",
        "cancel_label",
        lambda: s.cancel_label(body("CancelLabelRequest", {"label": {"id": label.id}})),
    )
    await run("shipping", "get_cancel_labels", lambda: s.get_cancel_labels())
    await run("shipping", "get_cancel_label_by_id", lambda: s.get_cancel_label_by_id(cancelled.id))
    rates = await run(
        "shipping",
        "calculate_rates",
        lambda: s.calculate_rates(
            body("CalculateRatesRequest", {"shipper_accounts": [ref], "shipment": SHIPMENT})
        ),
    )
    await run("shipping", "get_rates", lambda: s.get_rates())
    await run("shipping", "get_rate_by_id", lambda: s.get_rate_by_id(rates.id))
    manifest = await run(
        "shipping",
        "create_manifest",
        lambda: s.create_manifest(
            body("CreateManifestRequest", {"shipper_account": ref, "label_ids": [second.id]})
        ),
    )
    await run("shipping", "get_manifests", lambda: s.get_manifests())
    await run("shipping", "get_manifest_by_id", lambda: s.get_manifest_by_id(manifest.id))
    await run("shipping", "get_couriers", lambda: s.get_couriers())
    await run(
        "shipping",
        "validate_address",
        lambda: s.validate_address(body("CreateAddressValidationRequest", {"address": ADDRESS})),
    )
    await run("shipping", "get_locations", lambda: s.get_locations(slug="ups", postal_code="10001"))
    pickup = await run(
        "shipping",
        "create_pickup",
        lambda: s.create_pickup(
            body(
                "CreatePickupRequest",
                {
                    "pickup_start_time": "09:00:00",
                    "pickup_end_time": "18:00:00",
                    "pickup_from": ADDRESS,
                    "label_ids": [second.id],
                    "shipper_account": ref,
                },
            )
        ),
    )
    await run("shipping", "get_pickups", lambda: s.get_pickups())
    await run("shipping", "get_pickup_by_id", lambda: s.get_pickup_by_id(pickup.id))
    cancelled_pickup = await run(
        "shipping",
        "cancel_pickup",
        lambda: s.cancel_pickup(body("CancelPickupRequest", {"pickup": {"id": pickup.id}})),
    )
    await run("shipping", "get_cancel_pickups", lambda: s.get_cancel_pickups())
    await run(
        "shipping",
        "get_cancel_pickup_by_id",
        lambda: s.get_cancel_pickup_by_id(cancelled_pickup.id),
    )
    await run(
        "shipping",
        "delete_shipper_account_by_id",
        lambda: s.delete_shipper_account_by_id(account.id),
    )


async def _returns(run: Recorder, client: AfterShip) -> None:
    r = client.returns
    create = body("CreateReturnRequest", RETURN_REQUEST)
    first = await run("returns", "create_return", lambda: r.create_return(create))
    second = await r.create_return(create)
    run.capture.pop()
    await run("returns", "get_returns", lambda: r.get_returns(page=1, limit=1))
    await run("returns", "get_return_by_id", lambda: r.get_return_by_id(first.id))
    await run("returns", "get_return_by_rma", lambda: r.get_return_by_rma(first.rma_number))
    approve = body("ApproveReturnRequest", {"notify_customer": False})
    await run("returns", "approve_return_by_id", lambda: r.approve_return_by_id(first.id, approve))
    await run(
        "returns",
        "approve_return_by_rma",
        lambda: r.approve_return_by_rma(second.rma_number, approve),
    )
    receive = body(
        "ReceiveReturnItemsRequest", {"items": [{"external_id": "item-1", "quantity": 1}]}
    )
    await run(
        "returns",
        "receive_return_items_by_id",
        lambda: r.receive_return_items_by_id(first.id, receive),
    )
    await run(
        "returns",
        "receive_return_items_by_rma",
        lambda: r.receive_return_items_by_rma(first.rma_number, receive),
    )
    remove = body(
        "RemoveReturnItemsRequest",
        {"items": [{"external_id": "item-1", "quantity": 1}], "edit_reason": "x",
         "notify_customer": False},
    )  # fmt: skip
    await run(
        "returns",
        "remove_return_items_by_id",
        lambda: r.remove_return_items_by_id(second.id, remove),
    )
    await run(
        "returns",
        "remove_return_items_by_rma",
        lambda: r.remove_return_items_by_rma(second.rma_number, remove),
    )
    attach = body(
        "AttachReturnShipmentsRequest",
        {"shipments": [{"tracking_number": "1Z999AA10123456784", "slug": "ups",
                        "label": {"url": "https://example.com/l.pdf"}}]},
    )  # fmt: skip
    await run(
        "returns",
        "attach_return_shipments_by_id",
        lambda: r.attach_return_shipments_by_id(first.id, attach),
    )
    await run(
        "returns",
        "attach_return_shipments_by_rma",
        lambda: r.attach_return_shipments_by_rma(first.rma_number, attach),
    )
    tags = await run("returns", "get_item_tags", lambda: r.get_item_tags())
    item_id = first.return_items[0].id
    update = body("UpdateReturnItemRequest", {"item_tags": [{"id": tags.item_tags[0].id}]})
    item = await run(
        "returns",
        "update_return_item_by_id",
        lambda: r.update_return_item_by_id(first.id, item_id, update),
    )
    assert item.item_tags[0].name == tags.item_tags[0].name
    await run(
        "returns",
        "update_return_item_by_rma",
        lambda: r.update_return_item_by_rma(first.rma_number, item_id, update),
    )
    resolve = body("ResolveReturnRequest", {})
    await run("returns", "resolve_return_by_id", lambda: r.resolve_return_by_id(first.id, resolve))
    reject = body("RejectReturnRequest", {"reject_reason": "not eligible"})
    await run("returns", "reject_return_by_id", lambda: r.reject_return_by_id(second.id, reject))
    third = await r.create_return(create)
    run.capture.pop()
    await run(
        "returns", "reject_return_by_rma", lambda: r.reject_return_by_rma(third.rma_number, reject)
    )
    fourth = await r.create_return(create)
    run.capture.pop()
    await r.approve_return_by_id(fourth.id, approve)
    run.capture.pop()
    await run(
        "returns",
        "resolve_return_by_rma",
        lambda: r.resolve_return_by_rma(fourth.rma_number, resolve),
    )
    drops = body("RecordDropoffDropsRequest", {"items": [{"external_order_item_id": "item-1",
                                                          "quantity": 1}]})  # fmt: skip
    await run(
        "returns",
        "record_dropoff_drops_by_rma",
        lambda: r.record_dropoff_drops_by_rma(first.rma_number, "dropoff-1", drops),
    )
    link = await run(
        "returns",
        "create_returns_page_link",
        lambda: r.create_returns_page_link(
            body("CreateReturnsPageLinkRequest", {"order_number": "1001"})
        ),
    )
    assert link.url.startswith("https://")


async def test_generic_sample_answers_every_operation_schema() -> None:
    """The fallback sample builder is spec-valid for every operation's data schema."""
    from aftership_async.testing._records import sample
    from aftership_async.testing._spec import load_specs

    for api, spec in load_specs().items():
        for op in spec.operations:
            assert_valid(api, op.data_schema, sample(spec, op.data_schema, op.operation_id))

"""What the Returns API computes: RMA numbers, prices, and the items' quantities.

The return itself (stored, found by id or RMA number, listed by page with its
filters and one-year window) and its approval lifecycle (approve, reject,
resolve; anything else 409/40900) are the spec's ``x-aftership.resources``.
Here: the prices and identifiers AfterShip fills in on create, and the item
sub-resources whose quantities must add up (receive 42213/42247, remove 42200,
unknown item 42225, 40425), shipments attached, drop-offs recorded.
"""

from __future__ import annotations

import random
from typing import Any

from . import _content as content
from ._envelopes import Failure, not_found, refused
from ._records import EPOCH, iso, stable_uuid
from ._resources import Behaviour, find, resources
from ._state import Call

__all__ = ["BEHAVIOUR"]


def _money(amount: float) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": "USD"}


def _create(call: Call, record: dict[str, Any]) -> None:
    seed, order = call.state.seed, record["order"]
    external = call.body["order"]["external_id"]
    record["rma_number"] = "RMA" + content.stable_hex(seed, "rma", record["id"], length=8).upper()
    email = f"shopper-{content.stable_hex(seed, 'email', external, length=8)}@example.com"
    record["contact_email"] = email
    record["organization"] = {"id": content.stable_hex(seed, "organization")}
    order.update(id=content.stable_hex(seed, "order", external), order_number=external,
                 order_name=f"#{external}", customer={"emails": [email], "locale": "en-US"},
                 country_region="USA", placed_at=iso(EPOCH))  # fmt: skip
    rng = random.Random(content.stable_hex(seed, "return", external))
    total = 0.0
    for index, item in enumerate(record["return_items"]):
        price = round(rng.uniform(9, 120), 2)
        total += price * item["intended_return_quantity"]
        ident = content.stable_hex(item["external_order_item_id"], length=8)
        item.update(id=stable_uuid(seed, record["id"], "item", index), sku=f"SKU-{ident.upper()}",
                    external_product_id=f"prod-{ident}", product_title=f"Product {index + 1}",
                    unit_display_price=_money(price), unit_tax=_money(0), unit_discount=_money(0),
                    unit_discounted_price_including_tax=_money(price))  # fmt: skip
    record["return_total_including_tax"] = record["estimated_refund_total"] = _money(total)
    record["return_tax"] = _money(0)


def _return(call: Call, item_update: bool = False) -> dict[str, Any]:
    try:
        return find(call, resources(call.spec)["return"])
    except Failure:
        raise not_found("returns", "Return not found", 40406 if item_update else None) from None


def _item(record: dict[str, Any], external_id: str) -> dict[str, Any]:
    for item in record["return_items"]:
        if item["external_order_item_id"] == external_id:
            return item  # type: ignore[no-any-return]
    raise refused("returns", 42225)


def _receive(call: Call) -> Any:
    record = _return(call)
    received = []
    for wanted in call.body["items"]:
        item, quantity = _item(record, wanted["external_id"]), int(wanted["quantity"])
        if quantity < 1 or item["received_quantity"] + quantity > item["return_quantity"]:
            raise refused("returns", 42213)
        gradings = wanted.get("gradings", [])
        if sum(int(g["quantity"]) for g in gradings) > quantity:
            raise refused("returns", 42247)
        received.append((item, quantity, gradings))
    fields = ("grade", "quantity", "notes", "image_urls", "inspector", "inspected_at")
    items = []
    for item, quantity, gradings in received:
        item["received_quantity"] += quantity
        items.append({
            "external_id": item["external_order_item_id"],
            "external_product_id": item["external_product_id"],
            "external_variant_id": item["external_variant_id"],
            "sku": item["sku"],
            "quantity": quantity,
            "gradings": [{k: g.get(k) for k in fields} for g in gradings],
        })  # fmt: skip
    receiving = {"id": call.state.new_id("receiving"), "items": items,
                 "received_at": iso(call.now)}  # fmt: skip
    record["receivings"] = [*(record.get("receivings") or []), receiving]
    call.changed("return", "received", record)
    return record


def _remove(call: Call) -> Any:
    record = _return(call)
    changes = []
    for wanted in call.body["items"]:
        item = _item(record, wanted["external_id"])
        if wanted["quantity"] > item["return_quantity"] - item["received_quantity"]:
            raise refused("returns", 42200)
        changes.append((item, wanted["quantity"]))
    for item, quantity in changes:
        item["return_quantity"] -= quantity
        item["removed_quantity"] += quantity
    return record


def _attach(call: Call) -> Any:
    record = _return(call)
    items = [{"external_order_item_id": i["external_order_item_id"],
              "quantity": i["return_quantity"]} for i in record["return_items"]]  # fmt: skip
    for shipment in call.body["shipments"]:
        label = shipment["label"]
        record["shipments"] = [*(record.get("shipments") or []), {
            "id": call.state.new_id("return_shipment"),
            "tracking_number": shipment["tracking_number"],
            "tracking_status": "Pending",
            "slug": shipment["slug"],
            "items": items,
            "label": {"url": label["url"], "aftership_shipping_slug": None,
                      "slug": shipment["slug"], "total_charge": label.get("total_charge"),
                      "qr_code_url": None},
            "source": "merchant_api",
            "created_at": iso(call.now),
        }]  # fmt: skip
    return record


def _tags(seed: int) -> list[dict[str, Any]]:
    return [
        {"id": content.stable_hex(seed, "item-tag", name, length=24), "name": name,
         "created_at": iso(EPOCH)}
        for name in ("damaged", "wrong-item", "resellable", "missing-parts")
    ]  # fmt: skip


def _update_item(call: Call) -> Any:
    record = _return(call, item_update=True)
    for item in record["return_items"]:
        if item["id"] == call.params["item_id"]:
            if "item_tags" in call.body:
                tags = {t["id"]: t for t in _tags(call.state.seed)}
                item["item_tags"] = [
                    tags.get(t["id"], {"id": t["id"], "name": None, "created_at": None})
                    for t in call.body["item_tags"]
                ]
            if "merchant_uploaded_image_urls" in call.body:
                item["merchant_uploaded_image_urls"] = call.body["merchant_uploaded_image_urls"]
            return item
    raise not_found("returns", "Return item not found", 40425)


def _drop(call: Call, drop: dict[str, Any]) -> None:
    record = _return(call)
    drop["return"] = {"id": record["id"], "rma_number": record["rma_number"]}
    drop["dropoff"] = {"id": call.params["dropoff_id"]}
    drop["dropped_at"] = call.body.get("dropped_at") or iso(call.now)


def _link(call: Call) -> Any:
    token = content.stable_hex(call.state.seed, "link", call.body["order_number"], length=16)
    return {"url": f"https://returns.aftership.com/fake-store/return?token={token}"}


BEHAVIOUR = Behaviour(
    hooks={"create_return": _create, "record_dropoff_drops_by_rma": _drop},
    handlers={
        "get_item_tags": lambda call: {"item_tags": _tags(call.state.seed)},
        "create_returns_page_link": _link,
        **{
            f"{name}_{suffix}": handler
            for suffix in ("by_id", "by_rma")
            for name, handler in (
                ("receive_return_items", _receive),
                ("remove_return_items", _remove),
                ("attach_return_shipments", _attach),
                ("update_return_item", _update_item),
            )
        },
    },
)

"""Returns API 2026-07 behaviour: returns, their approval state machine and items.

``approval_status`` moves only along the documented transitions::

    submitted --approve--> approved --resolve--> done
        |                     |
        +------reject---------+--> rejected      (expired -> rejected / done too)

Anything else is HTTP 409 with meta 40900, with the API's own wording.
Every operation exists by id and by RMA number; both share one handler.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from . import _content as content
from ._envelopes import Failure, conflict, not_found
from ._state import Call, Handler, parse_time

__all__ = ["HANDLERS"]

_TRANSITIONS = {
    "approve": ({"submitted"}, "approved", "submitted"),
    "reject": ({"submitted", "approved", "expired"}, "rejected", "approve, expired"),
    "resolve": ({"approved", "expired"}, "done", "approve, expired"),
}


def _find(call: Call, *, item_update: bool = False) -> dict[str, Any]:
    state = call.state
    if "return_id" in call.params:
        found = state.returns.get(call.params["return_id"])
    else:
        return_id = state.rma_index.get(call.params["rma_number"], "")
        found = state.returns.get(return_id)
    if found is None:
        raise not_found("returns", "Return not found", 40406 if item_update else None)
    return found


def _money(amount: float, currency: str = "USD") -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def _create(call: Call) -> Any:
    state = call.state
    body = call.body
    return_id = state.new_id("return")
    rma = "RMA" + content.stable_hex(state.seed, "rma", state.next_number("rma"), length=8).upper()
    order = body["order"]
    rng = random.Random(content.stable_hex(state.seed, "return", order["external_id"]))
    items = []
    total = 0.0
    for index, item in enumerate(body["return_items"]):
        price = round(rng.uniform(9, 120), 2)
        quantity = item["intended_return_quantity"]
        total += price * quantity
        external = item["external_order_item_id"]
        items.append(
            {
                "id": content.stable_uuid(state.seed, return_id, "item", index),
                "external_order_item_id": item["external_order_item_id"],
                "external_product_id": f"prod-{content.stable_hex(external, length=8)}",
                "external_variant_id": None,
                "sku": f"SKU-{content.stable_hex(external, length=6).upper()}",
                "product_title": f"Product {index + 1}",
                "variant_title": None,
                "intended_return_quantity": quantity,
                "return_reason": item["return_reason"],
                "return_reason_comment": item.get("return_reason_comment"),
                "return_subreason": item.get("return_subreason"),
                "ordered_quantity": quantity,
                "refund_quantity": 0,
                "return_quantity": quantity,
                "received_quantity": 0,
                "restocked_quantity": 0,
                "removed_quantity": 0,
                "unit_display_price": _money(price),
                "unit_discounted_price_including_tax": _money(price),
                "unit_discount": _money(0),
                "unit_tax": _money(0),
                "properties": [],
                "shopper_uploaded_image_urls": item.get("shopper_uploaded_image_urls", []),
                "product_image_urls": [],
                "product_categories": [],
                "product_tags": [],
                "item_tags": [],
                "merchant_uploaded_image_urls": [],
                "bundled_items": [],
                "exchange_variant": None,
                "parent_item_id": None,
                "green_return": False,
            }
        )
    shopper = content.stable_hex(state.seed, "email", order["external_id"], length=8)
    email = f"shopper-{shopper}@example.com"  # the order's customer, as the store reports it
    record: dict[str, Any] = {
        "id": return_id,
        "organization": {"id": content.stable_hex(state.seed, "organization")},
        "rma_number": rma,
        "contact_email": email,
        "filed_by": "merchant",
        "approval_status": "submitted",
        "approved_at": None,
        "auto_approved": False,
        "rejected_at": None,
        "reject_reason": None,
        "auto_rejected": False,
        "resolved_at": None,
        "auto_resolved": False,
        "refunded_at": None,
        "auto_refunded": False,
        "auto_received": False,
        "expired_at": None,
        "shop_now": False,
        "merchant_note": None,
        "return_total_including_tax": _money(total),
        "return_tax": _money(0),
        "refund_destination": body["refund_destination"],
        "refunded_total": None,
        "estimated_refund_total": _money(total),
        "checkout_total": None,
        "shipping_address": None,
        "order": {
            "id": content.stable_hex(state.seed, "order", order["external_id"]),
            "external_id": order["external_id"],
            "order_number": order["external_id"],
            "order_name": f"#{order['external_id']}",
            "customer": {"emails": [email], "locale": "en-US"},
            "country_region": "USA",
            "store": order["store"],
            "placed_at": content.iso(content.CONTENT_EPOCH),
        },
        "return_items": items,
        "return_method": body.get("return_method"),
        "exchange": None,
        "instant_exchange": None,
        "receivings": [],
        "is_gift_return": False,
        "shipments": [],
        "restocks": [],
        "cost_of_return": None,
        "refunds": [],
        "dropoffs": [],
        "outcomes": ["refund"],
        "created_at": content.iso(call.now),
        "shipping_status": None,
        "exceptions": [],
    }
    state.returns.add(return_id, record)
    state.rma_index[rma] = return_id
    state.created("return")
    return record


def _transition(action: str) -> Handler:
    allowed, target, wording = _TRANSITIONS[action]

    def handler(call: Call) -> Any:
        record = _find(call)
        if record["approval_status"] not in allowed:
            raise conflict(
                "returns", f"Approval status can only be changed from {wording} to {target}"
            )
        record["approval_status"] = target
        stamp = content.iso(call.now)
        if action == "approve":
            record["approved_at"] = stamp
        elif action == "reject":
            record["rejected_at"] = stamp
            record["reject_reason"] = call.body["reject_reason"]
        else:
            record["resolved_at"] = stamp
        return record

    return handler


def _item_by_external(record: dict[str, Any], external_id: str) -> dict[str, Any]:
    for item in record["return_items"]:
        if item["external_order_item_id"] == external_id:
            return item  # type: ignore[no-any-return]
    raise Failure(422, 42225, "Return item not exists")


def _receive(call: Call) -> Any:
    record = _find(call)
    received = []
    for wanted in call.body["items"]:
        item = _item_by_external(record, wanted["external_id"])
        quantity = int(wanted["quantity"])
        if quantity < 1 or item["received_quantity"] + quantity > item["return_quantity"]:
            raise Failure(422, 42213, "Exceeds the acceptable return item quantity")
        gradings = wanted.get("gradings", [])
        if sum(int(g["quantity"]) for g in gradings) > quantity:
            raise Failure(
                422, 42247, "Grading quantity should not exceed the receive item quantity"
            )
        received.append((item, quantity, gradings))
    receiving_items = []
    for item, quantity, gradings in received:
        item["received_quantity"] += quantity
        receiving_items.append(
            {
                "external_id": item["external_order_item_id"],
                "external_product_id": item["external_product_id"],
                "external_variant_id": item["external_variant_id"],
                "sku": item["sku"],
                "quantity": quantity,
                "gradings": [
                    {
                        "grade": g["grade"],
                        "quantity": g["quantity"],
                        "notes": g.get("notes"),
                        "image_urls": g.get("image_urls"),
                        "inspector": g.get("inspector"),
                        "inspected_at": g.get("inspected_at"),
                    }
                    for g in gradings
                ],
            }
        )
    record["receivings"].append(
        {
            "id": call.state.new_id("receiving"),
            "items": receiving_items,
            "received_at": content.iso(call.now),
        }
    )
    return record


def _remove(call: Call) -> Any:
    record = _find(call)
    changes = []
    for wanted in call.body["items"]:
        item = _item_by_external(record, wanted["external_id"])
        if wanted["quantity"] > item["return_quantity"] - item["received_quantity"]:
            raise Failure(422, 42200, "Cannot remove more items than available in the return")
        changes.append((item, wanted["quantity"]))
    for item, quantity in changes:
        item["return_quantity"] -= quantity
        item["removed_quantity"] += quantity
    return record


def _attach(call: Call) -> Any:
    record = _find(call)
    for shipment in call.body["shipments"]:
        label = shipment["label"]
        record["shipments"].append(
            {
                "id": call.state.new_id("return_shipment"),
                "tracking_number": shipment["tracking_number"],
                "tracking_status": "Pending",
                "slug": shipment["slug"],
                "items": [
                    {
                        "external_order_item_id": i["external_order_item_id"],
                        "quantity": i["return_quantity"],
                    }
                    for i in record["return_items"]
                ],
                "label": {
                    "url": label["url"],
                    "aftership_shipping_slug": None,
                    "slug": shipment["slug"],
                    "total_charge": label.get("total_charge"),
                    "qr_code_url": None,
                },
                "packing_slip_url": None,
                "shipping_documents_url": None,
                "shipping_documents_components": [],
                "conditional_shipping_document_urls": [],
                "source": "merchant_api",
                "created_at": content.iso(call.now),
                "tracking_status_updated_at": None,
                "ship_from": None,
                "ship_to": None,
                "invoice_url": None,
            }
        )
    return record


def _update_item(call: Call) -> Any:
    record = _find(call, item_update=True)
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


def _drops(call: Call) -> Any:
    state = call.state
    return_id = state.rma_index.get(call.params["rma_number"])
    record = state.returns.get(return_id or "")
    if record is None:
        raise not_found("returns", "Return not found")
    drop_id = state.new_id("dropoff_drop")
    drop = {
        "id": drop_id,
        "items": call.body["items"],
        "dropped_at": call.body.get("dropped_at") or content.iso(call.now),
        "created_at": content.iso(call.now),
        "return": {"id": record["id"], "rma_number": record["rma_number"]},
        "dropoff": {"id": call.params["dropoff_id"]},
    }
    state.drops.add(drop_id, drop)
    state.created("dropoff_drop")
    return drop


def _link(call: Call) -> Any:
    number = call.body["order_number"]
    token = content.stable_hex(call.state.seed, "link", number, length=16)
    return {"url": f"https://returns.aftership.com/fake-store/return?token={token}"}


def _tags(seed: int) -> list[dict[str, Any]]:
    return [
        {"id": content.stable_hex(seed, "item-tag", name, length=24), "name": name,
         "created_at": content.iso(content.CONTENT_EPOCH)}
        for name in ("damaged", "wrong-item", "resellable", "missing-parts")
    ]  # fmt: skip


def _item_tags(call: Call) -> Any:
    return {"item_tags": _tags(call.state.seed)}


_HISTORY = dt.timedelta(days=365)


def _list(call: Call) -> Any:
    """``GET /returns``: newest first, one page, filtered as the real endpoint filters.

    Only returns created in ``created_at_min``..``created_at_max`` (inclusive,
    any UTC offset) are listed; the window defaults to the last 365 days and
    never reaches further back (an empty window lists nothing, it is no
    error). ``customer_email`` matches the contact email or an order email,
    case-insensitively; ``outcome`` any of the outcomes.
    """
    params = call.params
    page = int(params.get("page", 1))
    limit = int(params.get("limit", 10))
    oldest = call.now - _HISTORY
    low = max(parse_time(params.get("created_at_min")) or oldest, oldest)
    high = parse_time(params.get("created_at_max")) or call.now
    email = str(params.get("customer_email") or "").lower()

    def keep(record: dict[str, Any]) -> bool:
        created = parse_time(record.get("created_at"))
        if created is None or not low <= created <= high:
            return False
        if "approval_status" in params and record["approval_status"] != params["approval_status"]:
            return False
        if "outcome" in params and params["outcome"] not in (record.get("outcomes") or []):
            return False
        method = record.get("return_method") or {}
        if "return_method" in params and method.get("type") != params["return_method"]:
            return False
        if "order_name" in params and record["order"].get("order_name") != params["order_name"]:
            return False
        if email:
            emails = [record.get("contact_email"), *record["order"]["customer"].get("emails", [])]
            if email not in {str(e).lower() for e in emails if e}:
                return False
        return True

    selected = [r for r in call.state.returns.newest_first() if keep(r)]
    start = (page - 1) * limit
    return {
        "returns": selected[start : start + limit],
        "pagination": {
            "total": len(selected),
            "page": page,
            "limit": limit,
            "has_next_page": start + limit < len(selected),
        },
    }


def _get(call: Call) -> Any:
    return _find(call)


HANDLERS: dict[str, Handler] = {
    "get_returns": _list,
    "create_return": _create,
    "get_item_tags": _item_tags,
    "create_returns_page_link": _link,
    "record_dropoff_drops_by_rma": _drops,
}
for _suffix in ("by_id", "by_rma"):
    HANDLERS[f"get_return_{_suffix}"] = _get
    HANDLERS[f"approve_return_{_suffix}"] = _transition("approve")
    HANDLERS[f"reject_return_{_suffix}"] = _transition("reject")
    HANDLERS[f"resolve_return_{_suffix}"] = _transition("resolve")
    HANDLERS[f"receive_return_items_{_suffix}"] = _receive
    HANDLERS[f"remove_return_items_{_suffix}"] = _remove
    HANDLERS[f"attach_return_shipments_{_suffix}"] = _attach
    HANDLERS[f"update_return_item_{_suffix}"] = _update_item

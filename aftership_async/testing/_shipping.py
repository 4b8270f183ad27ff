"""Shipping API (Postmen v3) behaviour: labels and what hangs off them.

Business errors are HTTP 200 with ``meta.code`` >= 3000, as in production:
unknown ids give 4153 (record not found), cancelling a cancelled label 4722,
cancelling a manifested label 4724, a manifest with nothing to manifest 4725.
Shipper accounts referenced by id need not have been created through the
fake (real accounts are usually connected in the dashboard); their slug is
then inferred from the service type.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from typing import Any

from . import _content as content
from ._envelopes import Failure, Pending, not_found
from ._state import Call, Collection, Handler, decode_cursor, parse_time

__all__ = ["HANDLERS"]

_SERVICES = {
    "fedex": (("fedex_ground", "FedEx Ground"), ("fedex_2_day", "FedEx 2Day")),
    "ups": (("ups_ground", "UPS Ground"), ("ups_next_day_air", "UPS Next Day Air")),
    "usps": (("usps_priority", "USPS Priority Mail"), ("usps_ground_advantage",
                                                        "USPS Ground Advantage")),
    "dhl": (("dhl_express_worldwide", "DHL Express Worldwide"), ("dhl_express_0900",
                                                                  "DHL Express 0900")),
}  # fmt: skip


def _slug_for(call: Call, account_id: str | None, service_type: str | None = None) -> str:
    account = call.state.shipping["shipper_account"].get(account_id or "")
    if account and account.get("slug"):
        return str(account["slug"])
    prefix = (service_type or "").split("_")[0]
    return prefix if prefix in _SERVICES else "fedex"


def _account_summary(call: Call, account_id: str, slug: str) -> dict[str, Any]:
    account = call.state.shipping["shipper_account"].get(account_id)
    description = account.get("description") if account else None
    return {"id": account_id, "slug": slug, "description": description or f"{slug} account"}


def _get(kind: str, label: str) -> Handler:
    def handler(call: Call) -> Any:
        item = call.state.shipping[kind].get(call.params["id"])
        if item is None:
            raise not_found("shipping", f"{label} not found.")
        return item

    return handler


_DEFAULT_WINDOW = dt.timedelta(hours=24)


Field = str | Callable[[Call, Mapping[str, Any]], Any]
"""A record's value for a filter: a dotted path, or a function of the call and the record."""


def _list(kind: str, items_key: str, filters: Mapping[str, Field] = {}) -> Handler:
    """``next_token`` paging, newest first, filtered as the real list endpoints filter.

    ``filters`` maps exact-match parameters to fields (see :data:`Field`). Where the
    operation takes ``created_at_min``/``created_at_max``, only records created
    in that window are listed (bounds inclusive, any UTC offset; by default
    the last 24 hours; an inverted window lists nothing). ``s`` searches
    tracking numbers and references (case-insensitive substring).
    """

    def handler(call: Call) -> Any:
        store: Collection = call.state.shipping[kind]
        params = call.params
        limit = int(params.get("limit", 30))  # 1..200, checked against the spec
        after = None
        if params.get("next_token"):
            after = decode_cursor(str(params["next_token"]))
            if after is None:
                message = "next_token is invalid."
                raise Failure(200, 4104, message, problems=[("next_token", message)])
        windowed = any(p.name == "created_at_min" for p in call.op.params)
        low = high = None
        if windowed:
            low = parse_time(params.get("created_at_min")) or call.now - _DEFAULT_WINDOW
            high = parse_time(params.get("created_at_max")) or call.now
        search = str(params.get("s") or "").lower()

        def keep(item: dict[str, Any]) -> bool:
            for param, field in filters.items():
                if param not in params:
                    continue
                value = field(call, item) if callable(field) else _field(item, field)
                if value != params[param]:
                    return False
            if low is not None and high is not None:
                created = parse_time(item.get("created_at"))
                if created is None or not low <= created <= high:
                    return False
            if search:
                haystack = [*(item.get("tracking_numbers") or []), *(item.get("references") or [])]
                if not any(search in str(text).lower() for text in haystack):
                    return False
            return True

        selected = [i for i in store.newest_first() if keep(i)]
        page, token = store.page(selected, key=lambda i: str(i["id"]), after=after, limit=limit)
        data: dict[str, Any] = {"next_token": token, "limit": limit}
        if windowed:
            data["created_at_min"] = params.get("created_at_min") or content.iso(low or call.now)
            data["created_at_max"] = params.get("created_at_max") or content.iso(high or call.now)
        else:
            data["created_at_min"] = data["created_at_max"] = None
        data[items_key] = page
        return data

    return handler


def _field(item: Mapping[str, Any], dotted: str) -> Any:
    value: Any = item
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _cancelled_label_account(call: Call, record: Mapping[str, Any]) -> Any:
    """The shipper account of a cancellation is its label's."""
    label = call.state.shipping["label"].get(str(_field(record, "label.id")))
    return _field(label, "shipper_account.id") if label else None


def _weight(shipment: Mapping[str, Any]) -> dict[str, Any]:
    total = 0.0
    unit = "kg"
    for parcel in shipment.get("parcels", []):
        weight = parcel.get("weight") or {}
        total += float(weight.get("value", 0) or 0)
        unit = weight.get("unit", unit)
    return {"value": round(total or 1.0, 3), "unit": unit}


def _rate(
    call: Call,
    account_id: str,
    slug: str,
    service_type: str,
    service_name: str,
    shipment: Mapping[str, Any],
) -> dict[str, Any]:
    rng = random.Random(content.stable_hex(call.state.seed, account_id, service_type))
    base = round(rng.uniform(6, 60), 2)
    fuel = round(base * 0.12, 2)
    days = rng.randint(1, 5)
    # The forms AfterShip's rate examples show (AEV rates export): a date, a local date-time
    # without offset, or one with an offset; cut-off and pickup deadline as local times (HH:MM).
    arrival = call.now.replace(hour=20, minute=0, second=0, microsecond=0)
    arrival += dt.timedelta(days=days)
    delivery = rng.choice(
        [content.iso(arrival), arrival.replace(tzinfo=None).isoformat(), arrival.date().isoformat()]
    )
    cut_off = rng.randint(14, 17)
    return {
        "shipper_account": _account_summary(call, account_id, slug),
        "service_type": service_type,
        "service_name": service_name,
        "charge_weight": _weight(shipment),
        "total_charge": {"amount": round(base + fuel, 2), "currency": "USD"},
        "pickup_deadline": f"{cut_off + 1}:30",
        "booking_cut_off": f"{cut_off}:00",
        "delivery_date": delivery,
        "transit_time": days,
        "detailed_charges": [
            {"type": "base", "charge": {"amount": base, "currency": "USD"}},
            {"type": "fuel_surcharge", "charge": {"amount": fuel, "currency": "USD"}},
        ],
        "error_message": None,
        "info_message": None,
    }


def _file(kind: str, ident: str, paper: str = "4x6", file_type: str = "pdf") -> dict[str, Any]:
    return {
        "paper_size": paper,
        "url": f"https://sandbox-download.postmen.com/{kind}/{ident}.{file_type}",
        "file_type": file_type,
    }


def _create_label(call: Call) -> Any:
    body = call.body
    state = call.state
    call.refuse_repeat(state.shipping["label"])  # 4801 for a repeated order_number
    account_id = body["shipper_account"]["id"]
    slug = _slug_for(call, account_id, body["service_type"])
    label_id = state.new_id("label")
    numbers = [
        content.tracking_number_for(slug, state.seed, label_id, index)
        for index, _ in enumerate(body["shipment"].get("parcels") or [None])
    ]
    name = body["service_type"].replace("_", " ").title()
    stamp = content.iso(call.now)
    label = {
        "id": label_id,
        "status": "created",
        "ship_date": body.get("ship_date") or call.now.date().isoformat(),
        "tracking_numbers": numbers,
        "carrier_references": [],
        "files": {
            "label": _file("label", label_id, body.get("paper_size", "4x6"),
                           body.get("file_type", "pdf")),
            "qr_code": None,
            "invoice": None,
            "customs_declaration": None,
            "packing_slip": None,
            "manifest": None,
        },
        "rate": _rate(call, account_id, slug, body["service_type"], name, body["shipment"]),
        "references": body.get("references", []),
        "shipper_account": {"id": account_id},
        "service_type": body["service_type"],
        "service_options": body.get("service_options", []),
        "order_number": body.get("order_number"),
        "order_id": body.get("order_id"),
        "custom_fields": body.get("custom_fields"),
        "carrier_redirect_link": f"https://www.aftership.com/track/{slug}/{numbers[0]}",
        "created_at": stamp,
        "updated_at": stamp,
    }  # fmt: skip
    state.shipping["label"].add(label_id, label)
    state.created("label")
    return label


def _cancel_label(call: Call) -> Any:
    state = call.state
    label = state.shipping["label"].get(call.body["label"]["id"])
    if label is None:
        raise not_found("shipping", "Label not found.")
    if label["status"] == "cancelled":
        raise Failure(200, 4722, "The label has already been cancelled.")
    if label["status"] == "manifested":
        raise Failure(200, 4724, "The label has been manifested and cannot be cancelled.")
    label["status"] = "cancelled"
    label["updated_at"] = content.iso(call.now)
    cancel_id = state.new_id("cancel_label")
    record = {
        "id": cancel_id,
        "status": "cancelled",
        "label": {"id": label["id"]},
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }
    state.shipping["cancel_label"].add(cancel_id, record)
    state.created("cancel_label")
    return record


def _calculate_rates(call: Call) -> Any:
    state = call.state
    rates = []
    for account in call.body["shipper_accounts"]:
        slug = _slug_for(call, account["id"])
        for service_type, name in _SERVICES.get(slug, _SERVICES["fedex"]):
            rates.append(_rate(call, account["id"], slug, service_type, name,
                               call.body["shipment"]))  # fmt: skip
    rate_id = state.new_id("rate")
    record = {
        "id": rate_id,
        "status": "calculated",
        "rates": rates,
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }
    state.created("rate")
    if call.body.get("async") is True:
        # Answered at once in status calculating (meta.code 3001): the caller polls
        # GET /rates/{id}, which finds the calculation finished.
        state.pending[rate_id] = record
        record = {**record, "status": "calculating", "rates": []}
        state.shipping["rate"].add(rate_id, record)
        return Pending(record)
    state.shipping["rate"].add(rate_id, record)
    return record


def _get_rate(call: Call) -> Any:
    finished = call.state.pending.pop(call.params["id"], None)
    record = _get("rate", "Rate")(call)
    if finished is not None:
        record.update(finished)
    return record


def _create_manifest(call: Call) -> Any:
    state = call.state
    account_id = call.body["shipper_account"]["id"]
    labels = state.shipping["label"]
    if "label_ids" in call.body:
        chosen = []
        for label_id in call.body["label_ids"]:
            label = labels.get(label_id)
            if label is None:
                raise not_found("shipping", f"Label {label_id} not found.")
            chosen.append(label)
    else:
        chosen = [
            label
            for label in labels.items.values()
            if label["shipper_account"]["id"] == account_id and label["status"] == "created"
        ]
    chosen = [label for label in chosen if label["status"] == "created"]
    if not chosen:
        raise Failure(200, 4725, "There are no shipments to manifest.")
    for label in chosen:
        label["status"] = "manifested"
        label["updated_at"] = content.iso(call.now)
    manifest_id = state.new_id("manifest")
    slug = _slug_for(call, account_id)
    record = {
        "id": manifest_id,
        "status": "manifested",
        "shipper_account": _account_summary(call, account_id, slug),
        "labels": [{"id": label["id"], "manifested": True} for label in chosen],
        "files": {"manifest": _file("manifest", manifest_id, "a4")},
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }
    state.shipping["manifest"].add(manifest_id, record)
    state.created("manifest")
    return record


def _create_pickup(call: Call) -> Any:
    state = call.state
    body = call.body
    if not body.get("label_ids") and not body.get("pickup_parcels"):
        message = "Either label_ids or pickup_parcels is required."
        raise Failure(200, 4104, message, problems=[("label_ids", message)])
    for label_id in body.get("label_ids", []):
        if state.shipping["label"].get(label_id) is None:
            raise not_found("shipping", f"Label {label_id} not found.")
    account_id = (body.get("shipper_account") or {}).get("id") or "default"
    pickup_id = state.new_id("pickup")
    record = {
        "id": pickup_id,
        "status": "created",
        "pickup_confirmation_numbers": [str(1000 + state.next_number("pickup_confirmation"))],
        "pickup_location_code": None,
        "pickup_date": body.get("pickup_date") or call.now.date().isoformat(),
        "pickup_start_time": body["pickup_start_time"],
        "pickup_end_time": body["pickup_end_time"],
        "pickup_from": body["pickup_from"],
        "ship_to": body.get("ship_to"),
        "label_ids": body.get("label_ids", []),
        "pickup_parcels": body.get("pickup_parcels", []),
        "shipper_account": _account_summary(call, account_id, _slug_for(call, account_id)),
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }
    state.shipping["pickup"].add(pickup_id, record)
    state.created("pickup")
    return record


def _cancel_pickup(call: Call) -> Any:
    state = call.state
    pickup = state.shipping["pickup"].get(call.body["pickup"]["id"])
    if pickup is None:
        raise not_found("shipping", "Pickup not found.")
    if pickup["status"] == "cancelled":
        raise Failure(200, 4722, "The pickup has already been cancelled.")
    pickup["status"] = "cancelled"
    pickup["updated_at"] = content.iso(call.now)
    cancel_id = state.new_id("cancel_pickup")
    record = {
        "id": cancel_id,
        "status": "cancelled",
        "pickup": {"id": pickup["id"]},
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }
    state.shipping["cancel_pickup"].add(cancel_id, record)
    state.created("cancel_pickup")
    return record


def _create_shipper_account(call: Call) -> Any:
    state = call.state
    body = call.body
    account_id = state.new_id("shipper_account")
    record = {
        "id": account_id,
        "slug": body["slug"],
        "status": "enabled",
        "description": body.get("description") or f"{body['slug']} account",
        "type": "user",
        "timezone": body.get("timezone") or "UTC",
        "address": body.get("address"),
        "settings": body.get("settings") or {},
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }
    state.shipping["shipper_account"].add(account_id, record)
    state.created("shipper_account")
    return record


def _account(call: Call) -> dict[str, Any]:
    account = call.state.shipping["shipper_account"].get(call.params["id"])
    if account is None:
        raise Failure(200, 4140, "Shipper account not found.")
    return account


def _get_account(call: Call) -> Any:
    return _account(call)


def _delete_account(call: Call) -> Any:
    account = _account(call)
    call.state.shipping["shipper_account"].remove(account["id"])
    return {"id": account["id"]}


def _update_account(*keys: str) -> Handler:
    """Copies these body fields onto the account (credentials are never stored)."""

    def handler(call: Call) -> Any:
        account = _account(call)
        for key in keys:
            if key in call.body:
                account[key] = call.body[key]
        account["updated_at"] = content.iso(call.now)
        return account

    return handler


def _update_credentials(call: Call) -> Any:
    account = _account(call)  # credentials are write-only: never echoed back
    account["updated_at"] = content.iso(call.now)
    return account


def _update_settings(call: Call) -> Any:
    account = _account(call)
    settings = {**(account.get("settings") or {}), **call.body}
    account["settings"] = settings
    account["updated_at"] = content.iso(call.now)
    return settings


def _validate_address(call: Call) -> Any:
    address = call.body["address"]
    valid = bool(address.get("postal_code") and address.get("city"))
    recommended = dict(address)
    if valid:
        recommended["street1"] = str(address["street1"]).upper()
        recommended["city"] = str(address["city"]).upper()
    validation_id = call.state.new_id("address_validation")
    return {
        "id": validation_id,
        "status": "valid" if valid else "invalid",
        "address": address,
        "recommended_address": recommended if valid else None,
        "created_at": content.iso(call.now),
        "updated_at": content.iso(call.now),
    }


def _couriers(call: Call) -> Any:
    couriers = []
    for order, (slug, services) in enumerate(_SERVICES.items()):
        info = content.courier(slug)
        couriers.append(
            {
                "slug": slug,
                "name": info.name if info else slug,
                "operations": {
                    "post@labels": True,
                    "post@rates": True,
                    "post@cancel-labels": True,
                    "post@manifests": slug != "usps",
                },
                "ship_from": "Global",
                "ship_to": "Global",
                "paper_sizes": ["4x6", "a4", "default"],
                "courier_service_types": [
                    {"service_type": t, "service_name": n, "is_domestic": None} for t, n in services
                ],
                "courier_box_types": [],
                "tracking_numbers": True,
                "order": order,
            }
        )
    return {"couriers": couriers}


def _locations(call: Call) -> Any:
    params = call.params
    slug = str(params.get("slug") or "ups")
    count = int(params.get("count") or 3)
    rng = random.Random(content.stable_hex(call.state.seed, "locations", sorted(params.items())))
    unit = params.get("distance_unit") or "km"
    locations = []
    for index in range(max(0, min(count, 10))):
        locations.append(
            {
                "location_id": f"{slug.upper()}-{rng.randint(10000, 99999)}",
                "name": f"{slug.upper()} Access Point #{index + 1}",
                "distance": round(rng.uniform(0.2, 9.5), 2),
                "distance_unit": unit if unit in ("km", "mi") else "km",
                "phone": None,
                "services": ["drop_off", "pickup"],
                "address": {
                    "street": f"{rng.randint(1, 999)} {params.get('street') or 'Main St'}",
                    "postal_code": params.get("postal_code"),
                    "city": params.get("city"),
                    "state": params.get("state"),
                    "country": params.get("country"),
                    "latitude": None,
                    "longitude": None,
                },
                "business_hours": [
                    {"day_of_week": day, "open_time": "09:00", "close_time": "18:00"}
                    for day in ("Mon", "Tue", "Wed", "Thu", "Fri")
                ],
                "instructions": None,
                "location_type": "access_point",
                "business_classification": None,
                "drop_off_link": None,
                "courier_specific": None,
            }
        )
    return {"locations": locations}


HANDLERS: dict[str, Handler] = {
    "get_labels": _list("label", "labels", {"shipper_account_id": "shipper_account.id",
                                            "status": "status"}),
    "create_label": _create_label,
    "get_label_by_id": _get("label", "Label"),
    "get_cancel_labels": _list("cancel_label", "cancel_labels", {"status": "status",
                                "shipper_account_id": _cancelled_label_account}),
    "cancel_label": _cancel_label,
    "get_cancel_label_by_id": _get("cancel_label", "Cancel label"),
    "get_rates": _list("rate", "rates", {"status": "status"}),
    "calculate_rates": _calculate_rates,
    "get_rate_by_id": _get_rate,
    "get_manifests": _list("manifest", "manifests", {"shipper_account_id": "shipper_account.id",
                                                     "status": "status"}),
    "create_manifest": _create_manifest,
    "get_manifest_by_id": _get("manifest", "Manifest"),
    "get_couriers": _couriers,
    "validate_address": _validate_address,
    "get_locations": _locations,
    "get_pickups": _list("pickup", "pickups", {"status": "status"}),
    "create_pickup": _create_pickup,
    "get_pickup_by_id": _get("pickup", "Pickup"),
    "get_cancel_pickups": _list("cancel_pickup", "cancel_pickups", {"status": "status"}),
    "cancel_pickup": _cancel_pickup,
    "get_cancel_pickup_by_id": _get("cancel_pickup", "Cancel pickup"),
    "get_shipper_accounts": _list("shipper_account", "shipper_accounts", {"slug": "slug"}),
    "create_shipper_account": _create_shipper_account,
    "get_shipper_account_by_id": _get_account,
    "delete_shipper_account_by_id": _delete_account,
    "update_shipper_account_info_by_id": _update_account("description", "timezone", "address"),
    "update_shipper_account_credentials_by_id": _update_credentials,
    "update_shipper_account_settings_by_id": _update_settings,
    "create_fedex_shipper_account": _create_shipper_account,
    "update_fedex_shipper_account_by_id": _update_account("address", "settings"),
}  # fmt: skip

"""What the Shipping API (Postmen v3) computes: rates, label numbers, manifests, addresses.

Storing, listing (``next_token``, creation windows, ``s`` search), cancelling
(4722, 4724) and the 4153/4140 "not found" answers are the spec's
``x-aftership.resources``. Shipper accounts referenced by id need not have been
created through the fake (real ones are connected in the dashboard); their slug
is then inferred from the service type.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

from . import _content as content
from ._envelopes import Failure, Pending, not_found, refused
from ._records import iso
from ._resources import Behaviour, move
from ._state import Call

__all__ = ["BEHAVIOUR"]

_SERVICES = {
    "fedex": (("fedex_ground", "FedEx Ground"), ("fedex_2_day", "FedEx 2Day")),
    "ups": (("ups_ground", "UPS Ground"), ("ups_next_day_air", "UPS Next Day Air")),
    "usps": (("usps_priority", "USPS Priority Mail"),
             ("usps_ground_advantage", "USPS Ground Advantage")),
    "dhl": (("dhl_express_worldwide", "DHL Express Worldwide"),
            ("dhl_express_0900", "DHL Express 0900")),
}  # fmt: skip


def _slug_for(call: Call, account_id: str | None, service_type: str | None = None) -> str:
    account = call.state["shipper_account"].get(account_id or "")
    if account and account.get("slug"):
        return str(account["slug"])
    prefix = (service_type or "").split("_")[0]
    return prefix if prefix in _SERVICES else "fedex"


def _account(call: Call, account_id: str, slug: str) -> dict[str, Any]:
    account = call.state["shipper_account"].get(account_id) or {}
    return {"id": account_id, "slug": slug,
            "description": account.get("description") or f"{slug} account"}  # fmt: skip


def _money(amount: float) -> dict[str, Any]:
    return {"amount": round(amount, 2), "currency": "USD"}


def _rate(call: Call, account_id: str, service_type: str, name: str,
          shipment: Mapping[str, Any]) -> dict[str, Any]:  # fmt: skip
    """A deterministic quote for one service (the rate calculation AfterShip does)."""
    slug = _slug_for(call, account_id, service_type)
    rng = random.Random(content.stable_hex(call.state.seed, account_id, service_type))
    base = round(rng.uniform(6, 60), 2)
    fuel = round(base * 0.12, 2)
    days = rng.randint(1, 5)
    parcels = shipment.get("parcels", [])
    weight = sum(float((p.get("weight") or {}).get("value", 0) or 0) for p in parcels)
    unit = next((p["weight"].get("unit") for p in parcels if p.get("weight")), "kg")
    # The forms AfterShip's rate examples show (AEV rates export): a date, a local date-time
    # without offset, or one with an offset; cut-off and pickup deadline as local times (HH:MM).
    arrival = call.now.replace(hour=20, minute=0, second=0, microsecond=0)
    arrival += dt.timedelta(days=days)
    delivery = rng.choice(
        [iso(arrival), arrival.replace(tzinfo=None).isoformat(), arrival.date().isoformat()]
    )
    cut_off = rng.randint(14, 17)
    return {
        "shipper_account": _account(call, account_id, slug),
        "service_type": service_type,
        "service_name": name,
        "charge_weight": {"value": round(weight or 1.0, 3), "unit": unit},
        "total_charge": _money(base + fuel),
        "pickup_deadline": f"{cut_off + 1}:30",
        "booking_cut_off": f"{cut_off}:00",
        "delivery_date": delivery,
        "transit_time": days,
        "detailed_charges": [{"type": "base", "charge": _money(base)},
                             {"type": "fuel_surcharge", "charge": _money(fuel)}],
        "error_message": None,
        "info_message": None,
    }  # fmt: skip


def _file(kind: str, ident: str, paper: str = "4x6", file_type: str = "pdf") -> dict[str, Any]:
    url = f"https://sandbox-download.postmen.com/{kind}/{ident}.{file_type}"
    return {"paper_size": paper, "url": url, "file_type": file_type}


def _label(call: Call, label: dict[str, Any]) -> None:
    body = call.body
    account_id, service = body["shipper_account"]["id"], body["service_type"]
    slug = _slug_for(call, account_id, service)
    parcels = body["shipment"].get("parcels") or [None]
    label["tracking_numbers"] = numbers = [
        content.tracking_number_for(slug, call.state.seed, label["id"], i)
        for i in range(len(parcels))
    ]
    label["files"] = {"label": _file("label", label["id"], body.get("paper_size", "4x6"),
                                     body.get("file_type", "pdf"))}  # fmt: skip
    label["rate"] = _rate(call, account_id, service, service.replace("_", " ").title(),
                          body["shipment"])  # fmt: skip
    label["shipper_account"] = {"id": account_id}
    label["ship_date"] = body.get("ship_date") or call.now.date().isoformat()
    label["carrier_redirect_link"] = f"https://www.aftership.com/track/{slug}/{numbers[0]}"


def _rates(call: Call, record: dict[str, Any]) -> Any:
    record["rates"] = [
        _rate(call, account["id"], service_type, name, call.body["shipment"])
        for account in call.body["shipper_accounts"]
        for service_type, name in _SERVICES.get(_slug_for(call, account["id"]), _SERVICES["fedex"])
    ]
    if call.body.get("async") is not True:
        return None
    # Answered at once in status calculating (the spec's pending code, 3001): the caller
    # polls GET /rates/{id}, which finds the calculation finished.
    call.state.pending[str(record["id"])] = dict(record)
    record.update(status="calculating", rates=[])
    return Pending(record)


def _finished_rate(call: Call, record: dict[str, Any]) -> None:
    finished = call.state.pending.pop(str(record["id"]), None)
    if finished is not None:
        record.update(finished)


def _manifest(call: Call, record: dict[str, Any]) -> None:
    account_id = call.body["shipper_account"]["id"]
    labels = call.state["label"]
    if "label_ids" in call.body:
        chosen = [labels.get(i) or _no_label(i) for i in call.body["label_ids"]]
    else:
        chosen = [lb for lb in labels.items.values() if lb["shipper_account"]["id"] == account_id]
    chosen = [label for label in chosen if label["status"] == "created"]
    if not chosen:
        raise refused("shipping", 4725)
    for label in chosen:  # the label's lifecycle rule "manifest", as the spec declares it
        move(call, "label", "manifest", label)
    record["shipper_account"] = _account(call, account_id, _slug_for(call, account_id))
    record["labels"] = [{"id": label["id"], "manifested": True} for label in chosen]
    record["files"] = {"manifest": _file("manifest", record["id"], "a4")}


def _no_label(label_id: str) -> dict[str, Any]:
    raise not_found("shipping", f"Label {label_id} not found.")


def _pickup(call: Call, record: dict[str, Any]) -> None:
    body = call.body
    if not body.get("label_ids") and not body.get("pickup_parcels"):
        message = "Either label_ids or pickup_parcels is required."
        raise Failure(200, 4104, message, problems=[("label_ids", message)])
    for label_id in body.get("label_ids", []):
        if call.state["label"].get(label_id) is None:
            _no_label(label_id)
    account_id = (body.get("shipper_account") or {}).get("id") or "default"
    record["shipper_account"] = _account(call, account_id, _slug_for(call, account_id))
    record["pickup_confirmation_numbers"] = [str(1000 + call.state.next_number("pickup"))]
    record["pickup_date"] = body.get("pickup_date") or call.now.date().isoformat()


def _cancel(kind: str) -> Any:
    def hook(call: Call, record: dict[str, Any]) -> None:
        record[kind] = {"id": call.body[kind]["id"]}

    return hook


def _new_account(call: Call, record: dict[str, Any]) -> None:
    record["description"] = call.body.get("description") or f"{call.body['slug']} account"
    record["settings"] = call.body.get("settings") or {}
    record["timezone"] = call.body.get("timezone") or "UTC"


def _settings(call: Call, record: dict[str, Any]) -> Any:
    record["settings"] = {**(record.get("settings") or {}), **call.body}
    return record["settings"]


def _validate_address(call: Call) -> Any:
    address = call.body["address"]
    valid = bool(address.get("postal_code") and address.get("city"))
    recommended = {**address, "street1": str(address["street1"]).upper(),
                   "city": str(address.get("city")).upper()}  # fmt: skip
    return {
        "id": call.state.new_id("address_validation"),
        "status": "valid" if valid else "invalid",
        "address": address,
        "recommended_address": recommended if valid else None,
        "created_at": iso(call.now),
        "updated_at": iso(call.now),
    }


def _couriers(call: Call) -> Any:
    couriers = []
    for order, (slug, services) in enumerate(_SERVICES.items()):
        info = content.courier(slug)
        operations = {f"post@{p}": True for p in ("labels", "rates", "cancel-labels")}
        couriers.append({
            "slug": slug,
            "name": info.name if info else slug,
            "operations": {**operations, "post@manifests": slug != "usps"},
            "ship_from": "Global",
            "ship_to": "Global",
            "paper_sizes": ["4x6", "a4", "default"],
            "courier_service_types": [
                {"service_type": t, "service_name": n, "is_domestic": None} for t, n in services
            ],
            "courier_box_types": [],
            "tracking_numbers": True,
            "order": order,
        })  # fmt: skip
    return {"couriers": couriers}


def _locations(call: Call) -> Any:
    params = call.params
    slug = str(params.get("slug") or "ups")
    rng = random.Random(content.stable_hex(call.state.seed, "locations", sorted(params.items())))
    unit = params.get("distance_unit") if params.get("distance_unit") in ("km", "mi") else "km"
    address = {k: params.get(k) for k in ("postal_code", "city", "state", "country")}
    hours = [{"day_of_week": d, "open_time": "09:00", "close_time": "18:00"}
             for d in ("Mon", "Tue", "Wed", "Thu", "Fri")]  # fmt: skip
    return {"locations": [{
        "location_id": f"{slug.upper()}-{rng.randint(10000, 99999)}",
        "name": f"{slug.upper()} Access Point #{index + 1}",
        "distance": round(rng.uniform(0.2, 9.5), 2),
        "distance_unit": unit,
        "phone": None,
        "services": ["drop_off", "pickup"],
        "address": {**address, "latitude": None, "longitude": None,
                    "street": f"{rng.randint(1, 999)} {params.get('street') or 'Main St'}"},
        "business_hours": hours,
        "instructions": None,
        "location_type": "access_point",
        "business_classification": None,
        "drop_off_link": None,
        "courier_specific": None,
    } for index in range(max(0, min(int(params.get("count") or 3), 10)))]}  # fmt: skip


BEHAVIOUR = Behaviour(
    hooks={
        "create_label": _label,
        "calculate_rates": _rates,
        "create_manifest": _manifest,
        "create_pickup": _pickup,
        "cancel_label": _cancel("label"),
        "cancel_pickup": _cancel("pickup"),
        "get_rate_by_id": _finished_rate,
        "create_shipper_account": _new_account,
        "create_fedex_shipper_account": _new_account,
        "update_shipper_account_settings_by_id": _settings,
        "delete_shipper_account_by_id": lambda call, record: None,
    },
    handlers={
        "validate_address": _validate_address,
        "get_couriers": _couriers,
        "get_locations": _locations,
    },
)

"""Shared helpers: raw-response capture, schema validation, typed request bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import pytest

import aftership_async
import aftership_async._transport as transport_module
from aftership_async._generated import CONVERTER


@cache
def spec_document(api: str) -> dict[str, Any]:
    root = resources.files("aftership_async._generated").joinpath("specs")
    return json.loads(root.joinpath(f"{api}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def data_schema(api: str, operation_id: str) -> dict[str, Any]:
    for item in spec_document(api)["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                (status,) = [c for c in op["responses"] if c.startswith("2")]
                envelope = op["responses"][status]["content"]["application/json"]["schema"]
                return envelope["properties"]["data"]  # type: ignore[no-any-return]
    raise KeyError(operation_id)


def all_operation_ids(api: str) -> set[str]:
    return {
        op["operationId"]
        for item in spec_document(api)["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


def assert_valid(api: str, schema: Mapping[str, Any], data: Any) -> None:
    """Validate ``data`` with jsonschema, resolving ``#/components/...`` in the API's spec.

    Formats are checked too (``date-time`` as RFC 3339, with an offset; ``date``), as a
    standard validator with format assertion does.
    """
    root = {**schema, "components": spec_document(api)["components"]}
    validator = jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def body(type_name: str, data: Mapping[str, Any]) -> Any:
    """A request model (e.g. ``"CreateTrackingRequest"``) built from JSON."""
    return CONVERTER.structure(dict(data), getattr(aftership_async, type_name))


class RawCapture:
    """The raw ``data`` of each response the client unwrapped, in order."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def pop(self) -> Any:
        assert self.items, "no response was captured"
        return self.items.pop()


@contextmanager
def capture_raw(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawCapture]:
    captured = RawCapture()
    original = transport_module.unwrap

    def recording(envelope: Any, status: int, headers: Any, raw: bytes) -> Any:
        data = original(envelope, status, headers, raw)
        captured.items.append(data)
        return data

    monkeypatch.setattr(transport_module, "unwrap", recording)
    yield captured


ADDRESS = {
    "contact_name": "AfterShip Shipping",
    "company_name": "AfterShip Shipping",
    "street1": "230 W 200 S LBBY",
    "city": "Salt Lake City",
    "state": "UT",
    "postal_code": "84101",
    "country": "USA",
    "phone": "19835553752",
    "email": "test@test.com",
}

#: AfterShip's example body of POST /couriers/fedex/shipper-accounts (AEV
#: specific-shipper-accounts export), with this file's address.
FEDEX = {
    "slug": "fedex",
    "description": "My Shipper Account",
    "timezone": "Asia/Hong_Kong",
    "credentials": {"account_number": "510087020"},
    "invoice": {"number": "234562278", "currency": "USD", "date": "2026-02-24", "amount": 234},
    "settings": {
        "preferred_currency": "USD",
        "electronic_trade_documents_enabled": True,
        "commercial_invoice_letterhead": "aGVhZA==",
        "commercial_invoice_signature": "c2lnbg==",
    },
    "address": ADDRESS,
}

SHIPMENT = {
    "ship_from": ADDRESS,
    "ship_to": {**ADDRESS, "city": "New York", "state": "NY", "postal_code": "10001"},
    "parcels": [
        {
            "box_type": "custom",
            "dimension": {"width": 10, "height": 10, "depth": 10, "unit": "cm"},
            "items": [
                {
                    "description": "Food Bar",
                    "quantity": 1,
                    "price": {"currency": "USD", "amount": 100},
                    "weight": {"unit": "kg", "value": 1},
                }
            ],
            "weight": {"unit": "kg", "value": 1},
        }
    ],
}

RETURN_REQUEST = {
    "order": {
        "external_id": "10579097059534",
        "store": {"platform": "shopify", "external_id": "s1"},
    },
    "return_items": [
        {
            "external_order_item_id": "item-1",
            "intended_return_quantity": 3,
            "return_reason": "Too late",
            "resolution": "refund",
        }
    ],
    "return_method": {"type": "retailer_label"},
    "refund_destination": "original_payment",
}


def client_for(fake: Any, **kwargs: Any) -> aftership_async.AfterShip:
    """A client on the fake that sends each call once, unthrottled.

    The fake is what is under test here, so the client's own retries and
    rate limiter (when this version of the client has them) are switched off:
    every fault and 429 must reach the test as an exception.
    """
    import inspect

    accepted = inspect.signature(aftership_async.AfterShip).parameters
    if "retry" in accepted and hasattr(aftership_async, "NO_RETRY"):
        kwargs.setdefault("retry", aftership_async.NO_RETRY)
    if "rate_limit" in accepted:
        kwargs.setdefault("rate_limit", None)
    return aftership_async.AfterShip(
        api_key=kwargs.pop("api_key", "k"), base_url=fake.url, **kwargs
    )

"""AfterShip's own example payloads: they fit the spec, and decode with nothing dropped.

Every example request and response body of the three APIs validates against the spec
with a standard JSON Schema validator (Draft 2020-12, format assertion on: a date-time
needs its offset unless the spec declares the offset-less form too). ``test_operations``
checks that every value a model keeps is right; this also checks the other direction:
every key of AfterShip's 2026-07 Tracking examples has a home in the models, so a user
who stores ``to JSON`` of what they got loses nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

import aftership_async
from aftership_async._generated import CONVERTER

from .specdata import body_schema_name, data_schema_name, example_index, find_operation, operations
from .testing.helpers import spec_document


def assert_same(encoded: Any, original: Any, where: str = "data") -> None:
    """Equal JSON, keys both ways; date-times compared as instants, numbers as numbers."""
    if isinstance(original, dict):
        assert isinstance(encoded, dict), where
        assert sorted(encoded) == sorted(original), (
            f"{where}: dropped {sorted(set(original) - set(encoded))}, "
            f"invented {sorted(set(encoded) - set(original))}"
        )
        for key, value in original.items():
            assert_same(encoded[key], value, f"{where}.{key}")
    elif isinstance(original, list):
        assert isinstance(encoded, list) and len(encoded) == len(original), where
        for i, (a, b) in enumerate(zip(encoded, original, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(original, str):
        assert isinstance(encoded, str), where  # an enum member is a str too
        if encoded != original:
            assert dt.datetime.fromisoformat(encoded) == dt.datetime.fromisoformat(original), where
    elif isinstance(original, bool) or original is None:
        assert encoded is original, where
    else:
        assert isinstance(encoded, (int, float)) and not isinstance(encoded, bool), where
        assert encoded == original, where


def _payloads(apis: tuple[str, ...] = ("tracking",)) -> list[tuple[str, str, Any]]:
    """(id, model name, JSON) for every example request and response body of ``apis``."""
    out = []
    for (api, method, path), ex in sorted(example_index().items()):
        if api not in apis:
            continue
        op = next(o for m, p, o in operations(api) if (m, p) == (method, path))
        name = body_schema_name(op)
        if name and ex.get("request_example") is not None:
            out.append((f"{method} {path} request", name, ex["request_example"]))
        for status, body in ex["responses"].items():
            if status.startswith("2"):
                out.append((f"{method} {path} {status}", data_schema_name(api, op), body["data"]))
        named = ex.get("named_examples") or {}
        for label, body in named.get("request", {}).items():
            assert name is not None
            out.append((f"{method} {path} request {label}", name, body))
        for status, bodies in named.items():
            if status.startswith("2"):
                for label, body in bodies.items():
                    out.append(
                        (f"{method} {path} {label}", data_schema_name(api, op), body["data"])
                    )
    return out


PAYLOADS = _payloads()
ALL_PAYLOADS = {api: _payloads((api,)) for api in ("tracking", "shipping", "returns")}
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def test_the_validator_checks_date_formats() -> None:
    """Without its RFC 3339 checker, jsonschema would pass any string as a date-time."""
    assert FORMATS.conforms("2022-01-21T15:00:00Z", "date-time")
    assert not FORMATS.conforms("2022-01-21T15:00:00", "date-time")  # no offset
    assert not FORMATS.conforms("2022-02-30", "date")


@pytest.mark.parametrize(
    ("api", "name", "payload"),
    [(api, *p[1:]) for api, payloads in ALL_PAYLOADS.items() for p in payloads],
    ids=[f"{api} {p[0]}" for api, payloads in ALL_PAYLOADS.items() for p in payloads],
)
def test_every_example_validates_against_the_spec(api: str, name: str, payload: Any) -> None:
    root = {"$ref": f"#/components/schemas/{name}", "components": spec_document(api)["components"]}
    validator = jsonschema.Draft202012Validator(root, format_checker=FORMATS)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
    assert errors == []


def test_the_examples_carry_offset_less_date_times() -> None:
    """The forms T4 is about are in the examples validated above (so the test covers them)."""
    (_, _, ex) = next(p for p in PAYLOADS if p[0] == "GET /trackings/{id} 200")
    assert ex["shipment_pickup_date"] == "2022-01-21T15:00:00"
    assert ex["shipment_delivery_date"] == "2022-01-29T11:23:00"
    tracking = CONVERTER.structure(ex, aftership_async.Tracking)
    assert tracking.shipment_pickup_date == dt.datetime(2022, 1, 21, 15)  # naive, as given
    assert isinstance(tracking.shipment_pickup_date, dt.datetime)
    assert tracking.shipment_pickup_date.tzinfo is None
    assert sum(len(p) for p in ALL_PAYLOADS.values()) >= 50


def test_every_tracking_example_is_checked() -> None:
    assert len(PAYLOADS) >= 10
    assert find_operation("tracking", "get_tracking_by_id")


@pytest.mark.parametrize(
    ("name", "payload"), [p[1:] for p in PAYLOADS], ids=[p[0] for p in PAYLOADS]
)
def test_example_round_trips_with_nothing_dropped(name: str, payload: Any) -> None:
    model = CONVERTER.structure(payload, getattr(aftership_async, name))
    assert aftership_async.malformed_fields(model) == {}
    assert_same(CONVERTER.unstructure(model), payload)


def test_the_fields_the_2025_01_models_dropped_are_kept() -> None:
    (_, _, ex) = next(p for p in PAYLOADS if p[0] == "GET /trackings/{id} 200")
    tracking = CONVERTER.structure(ex, aftership_async.Tracking)
    assert tracking.shipment_dimensions.length == 30  # type: ignore[union-attr]
    assert tracking.customers[0].id == "cust_12345"  # type: ignore[index]
    assert tracking.checkpoints[0].hash  # type: ignore[index]
    assert tracking.proof_of_delivery[0].url == "https://example.com/pod-image.jpg"  # type: ignore[index]
    assert tracking.order_promised_delivery_date.promised_delivery_date == "2026-01-01"  # type: ignore[union-attr]
    assert tracking.multi_piece_info.pieces[1].type == "child"  # type: ignore[union-attr,index]

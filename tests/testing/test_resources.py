"""The fake's resources are the spec's ``x-aftership.resources``: a spec edit reaches the fake.

These drive the engine directly (no HTTP) with an edited copy of a spec, as a new AfterShip
field or rule would arrive: nothing in ``aftership_async/testing`` is edited.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from aftership_async.testing._envelopes import Failure
from aftership_async.testing._records import fresh, overlay, values
from aftership_async.testing._resources import Behaviour, build_handlers, resources
from aftership_async.testing._shipping import BEHAVIOUR
from aftership_async.testing._spec import ApiSpec, _build, load_specs
from aftership_async.testing._state import Call, FakeStats, State

from .helpers import SHIPMENT

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _edited(api: str, edit: Any) -> ApiSpec:
    document = copy.deepcopy(dict(load_specs()[api].document))
    edit(document)
    return _build(api, document)


def _run(spec: ApiSpec, behaviour: Behaviour, state: State, op: str, body: Any = None,
         **params: Any) -> Any:  # fmt: skip
    handlers = build_handlers(spec, behaviour)
    call = Call(spec=spec, op=spec.operation(op), params=params, body=body, state=state, now=NOW)
    return handlers[op](call)


LABEL = {"shipper_account": {"id": "acc"}, "service_type": "ups_ground", "shipment": SHIPMENT}


def test_a_new_response_field_and_a_new_request_field_reach_the_record() -> None:
    def edit(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["Label"]["properties"]["carbon_neutral"] = {"type": "boolean"}
        schemas["Label"]["properties"]["insurance_note"] = {"type": ["string", "null"]}
        schemas["CreateLabelRequest"]["properties"]["insurance_note"] = {"type": "string"}

    spec = _edited("shipping", edit)
    state = State(0, FakeStats())
    label = _run(spec, BEHAVIOUR, state, "create_label", {**LABEL, "insurance_note": "fragile"})
    assert label["carbon_neutral"] is False  # sampled from the schema
    assert label["insurance_note"] == "fragile"  # overlaid from the request
    assert state["label"].get(label["id"]) is label


def test_a_new_lifecycle_rule_and_filter_need_no_fake_code() -> None:
    def edit(document: dict[str, Any]) -> None:
        label = document["x-aftership"]["resources"]["label"]
        label["lifecycle"]["void"] = {
            "operations": ["get_label_by_id"],  # any operation will do for the test
            "from": ["created"],
            "to": "voided",
            "refused": {"voided": 4722},
        }

    spec = _edited("shipping", edit)
    state = State(0, FakeStats())
    label = _run(spec, BEHAVIOUR, state, "create_label", LABEL)
    assert _run(spec, BEHAVIOUR, state, "get_label_by_id", id=label["id"])["status"] == "voided"
    with pytest.raises(Failure) as refused:
        _run(spec, BEHAVIOUR, state, "get_label_by_id", id=label["id"])
    assert (refused.value.status, refused.value.code) == (200, 4722)
    listed = _run(spec, BEHAVIOUR, state, "get_labels", status="voided",
                  created_at_min=(NOW - dt.timedelta(hours=1)).isoformat())  # fmt: skip
    assert [x["id"] for x in listed["labels"]] == [label["id"]]


def test_every_declared_resource_names_real_operations_and_schemas() -> None:
    for spec in load_specs().values():
        ids = {op.operation_id for op in spec.operations}
        for res in resources(spec).values():
            named = [*res.create, res.list, res.delete, *res.read, *res.update]
            assert {n for n in named if n} <= ids, res.kind
            assert spec.schema(res.schema)["properties"]
            for rule in res.lifecycle.values():
                assert set(rule.operations) <= ids


def test_records_helpers() -> None:
    spec = load_specs()["returns"]
    record = fresh(spec, "Return", "r")
    assert record["approved_at"] is None and record["return_items"] == []
    laid = overlay(spec, spec.schema("Return"), record,
                   {"return_items": [{"external_order_item_id": "i", "intended_return_quantity": 2}],
                    "approval_status": 7, "unknown": 1})  # fmt: skip
    assert laid["return_items"][0]["external_order_item_id"] == "i"
    assert "received_quantity" in laid["return_items"][0]  # the item's schema filled in
    assert laid["approval_status"] == record["approval_status"]  # 7 does not fit: not laid over
    assert "unknown" not in laid
    assert values({"a": [{"b": 1}, {"b": 2}], "m": {"x": 3}}, "a[].b") == [1, 2]
    assert values({"m": {"x": 3, "y": 4}}, "m.*") == [3, 4]

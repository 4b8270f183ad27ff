"""Models: open enums, unknown fields, UNSET versus None, renames, dates."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle

import attrs
import pytest
from aioresponses import aioresponses

from aftership_async import (
    UNSET,
    AfterShip,
    CalculateRatesRequest,
    CreateTrackingRequest,
    InvalidRequestError,
    Tag,
    Tracking,
    Unset,
    UpdateTrackingByIdRequest,
    UpdateTrackingByIdRequestLastMile,
)
from aftership_async._converter import make_converter
from aftership_async._generated import CONVERTER

T = "https://api.aftership.com/tracking/2026-07"

MINIMAL = {
    "id": "t1",
    "tracking_number": "123",
    "slug": "ups",
    "created_at": "2024-05-01T10:00:00+08:00",
}


def test_unknown_enum_value_is_kept() -> None:
    tracking = CONVERTER.structure({**MINIMAL, "tag": "Teleported"}, Tracking)
    assert isinstance(tracking.tag, Tag)
    assert tracking.tag == "Teleported" and tracking.tag.value == "Teleported"
    assert not tracking.tag.is_known
    assert Tag.DELIVERED.is_known
    assert CONVERTER.unstructure(tracking)["tag"] == "Teleported"
    assert len(list(Tag)) == 9  # the unknown value did not join the enum


def test_unknown_fields_are_ignored() -> None:
    tracking = CONVERTER.structure(
        {**MINIMAL, "teleport_coordinates": {"x": 1}, "shipment_dimensions": [1]}, Tracking
    )
    assert tracking.id == "t1"
    assert "teleport_coordinates" not in CONVERTER.unstructure(tracking)


def test_missing_optional_is_unset_and_null_is_none() -> None:
    tracking = CONVERTER.structure({**MINIMAL, "title": None}, Tracking)
    assert tracking.title is None
    assert tracking.note is UNSET
    assert not tracking.note  # UNSET is falsy
    out = CONVERTER.unstructure(tracking)
    assert out["title"] is None and "note" not in out


def test_missing_required_field_fails() -> None:
    with pytest.raises(Exception, match="slug"):
        CONVERTER.structure(
            {"id": "t1", "tracking_number": "1", "created_at": "2024-05-01T10:00:00Z"}, Tracking
        )


def test_update_sends_only_what_was_set_and_clears_as_documented() -> None:
    """``note: ""`` and ``last_mile: null`` are the two ways AfterShip documents to clear."""
    body = UpdateTrackingByIdRequest(title="New title", note="", last_mile=None)
    assert CONVERTER.unstructure(body) == {"title": "New title", "note": "", "last_mile": None}
    assert CONVERTER.unstructure(UpdateTrackingByIdRequest()) == {}
    leg = UpdateTrackingByIdRequestLastMile(tracking_number="9400111", slug="usps")
    assert CONVERTER.unstructure(UpdateTrackingByIdRequest(last_mile=leg)) == {
        "last_mile": {"tracking_number": "9400111", "slug": "usps"}
    }


def test_python_keywords_are_renamed() -> None:
    request = CONVERTER.structure(
        {
            "async": True,
            "shipment": {
                "ship_from": {"street1": "a", "country": "USA", "contact_name": None},
                "ship_to": {"street1": "b", "country": "HKG", "contact_name": "x"},
                "parcels": [],
            },
            "shipper_accounts": [{"id": "sa"}],
        },
        CalculateRatesRequest,
    )
    assert request.async_ is True
    assert CONVERTER.unstructure(request)["async"] is True


def test_dates_are_parsed_and_round_trip() -> None:
    tracking = CONVERTER.structure({**MINIMAL, "created_at": "2024-05-01T10:00:00Z"}, Tracking)
    assert tracking.created_at == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    assert CONVERTER.unstructure(tracking)["created_at"] == "2024-05-01T10:00:00Z"
    naive = CONVERTER.structure({**MINIMAL, "created_at": "2024-05-01T10:00:00"}, Tracking)
    assert naive.created_at.tzinfo is None


def test_unset_is_a_singleton_that_survives_copies() -> None:
    assert Unset() is UNSET
    assert copy.deepcopy(UNSET) is UNSET
    assert pickle.loads(pickle.dumps(UNSET)) is UNSET
    assert repr(UNSET) == "UNSET"


async def test_request_body_on_the_wire(mocked: aioresponses, client: AfterShip) -> None:
    mocked.post(f"{T}/trackings", status=201, payload={"meta": {"code": 201}, "data": MINIMAL})
    created = await client.tracking.create_tracking(
        CreateTrackingRequest(tracking_number="123", slug="ups", title=None)
    )
    assert created.tracking_number == "123"
    ((_, calls),) = mocked.requests.items()
    assert json.loads(calls[0].kwargs["data"]) == {
        "tracking_number": "123",
        "slug": "ups",
        "title": None,
    }


async def test_wrong_body_type_is_rejected_before_the_network(
    mocked: aioresponses, client: AfterShip
) -> None:
    with pytest.raises(InvalidRequestError, match="CreateTrackingRequest"):
        await client.tracking.create_tracking({"tracking_number": "123"})  # type: ignore[arg-type]
    assert not mocked.requests


# The converter generates one decoder per attrs class: the cases generated
# models do not exercise (yet) must behave like the hooks.


@attrs.define(kw_only=True)
class _Node:
    name: str
    child: _Node | Unset | None = UNSET
    children: list[_Node] | Unset = UNSET


@attrs.define(kw_only=True)
class _Checked:
    count: int = attrs.field(validator=attrs.validators.ge(0))


def test_a_model_that_contains_itself_decodes_and_fails_like_the_hooks() -> None:
    conv = make_converter()
    node = conv.structure(
        {"name": "a", "child": {"name": "b", "child": None}, "children": [{"name": "c"}]}, _Node
    )
    assert node == _Node(name="a", child=_Node(name="b", child=None), children=[_Node(name="c")])
    assert node.child.children is UNSET  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="_Node is missing required field"):
        conv.structure({"name": "a", "child": {}}, _Node)
    assert conv.structure({"name": 15}, _Node).name == "15"  # numbers become text, as the hook does
    with pytest.raises(TypeError, match="expected a string"):
        conv.structure({"name": True}, _Node)
    with pytest.raises(TypeError, match="null where a value is required"):
        conv.structure({"name": "a", "children": None}, _Node)


def test_a_model_with_validators_is_built_through_init() -> None:
    conv = make_converter()
    assert conv.structure({"count": 2}, _Checked) == _Checked(count=2)
    with pytest.raises(ValueError, match="count"):
        conv.structure({"count": -1}, _Checked)

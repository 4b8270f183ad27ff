"""Models in and out: ``to_dict``/``to_json`` and ``from_dict``/``from_json`` on every model."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest

import aftership_async
from aftership_async import (
    UNSET,
    AfterShipError,
    CreateTrackingRequest,
    InvalidDataError,
    Model,
    Tag,
    Tracking,
    malformed_fields,
)
from aftership_async._generated import CONVERTER

from .specdata import APIS, sample, spec

MINIMAL = {
    "id": "t1",
    "tracking_number": "123",
    "slug": "ups",
    "created_at": "2024-05-01T10:00:00+08:00",
}


def _component_models() -> list[tuple[str, str]]:
    return [
        (api, name)
        for api in APIS
        for name, schema in spec(api)["components"]["schemas"].items()
        if schema.get("properties")
    ]


COMPONENT_MODELS = _component_models()


def test_every_component_model_is_covered() -> None:
    assert len(COMPONENT_MODELS) > 100
    for _, name in COMPONENT_MODELS:
        assert issubclass(getattr(aftership_async, name), Model), name


@pytest.mark.parametrize(("api", "name"), COMPONENT_MODELS)
def test_round_trip_of_every_model(api: str, name: str) -> None:
    cls: type[Model] = getattr(aftership_async, name)
    data = sample(api, spec(api)["components"]["schemas"][name])
    model = cls.from_dict(data)
    assert type(model) is cls
    assert not malformed_fields(model)
    out = model.to_dict()
    assert out == data  # every field, by its wire name and format
    assert out == CONVERTER.unstructure(model)
    text = model.to_json()
    assert json.loads(text) == data
    assert cls.from_json(text) == model
    assert cls.from_json(text.encode()) == model
    assert cls.from_dict(out) == model


def test_to_dict_uses_wire_formats_and_leaves_unset_out() -> None:
    tracking = Tracking.from_dict({**MINIMAL, "tag": "Delivered", "title": None})
    assert (
        tracking.created_at == dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)
        and tracking.tag is Tag.DELIVERED
    )
    out = tracking.to_dict()
    assert out == {**MINIMAL, "tag": "Delivered", "title": None}  # note etc. are UNSET: absent
    assert isinstance(out["tag"], str)  # a str (the enum member itself, a StrEnum)
    # The case the issue names: attrs.asdict keeps datetimes, which json.dumps refuses.
    with pytest.raises(TypeError):
        json.dumps(attrs.asdict(tracking))
    assert json.loads(tracking.to_json()) == out
    assert tracking.to_json(indent=2).startswith("{\n  ")


def test_utc_round_trips_byte_for_byte() -> None:
    tracking = Tracking.from_dict({**MINIMAL, "created_at": "2024-05-01T10:00:00Z"})
    assert tracking.to_dict()["created_at"] == "2024-05-01T10:00:00Z"


def test_renamed_fields_use_their_json_names() -> None:
    renamed = [
        (api, name, a)
        for api, name in COMPONENT_MODELS
        for a in attrs.fields(getattr(aftership_async, name))
        if "json" in a.metadata
    ]
    assert renamed, "the specs have fields whose JSON name is a Python keyword"
    for api, name, field in renamed:
        data = sample(api, spec(api)["components"]["schemas"][name])
        out = getattr(aftership_async, name).from_dict(data).to_dict()
        assert field.metadata["json"] in out and field.name not in out


def test_request_models_dump_what_a_request_sends() -> None:
    body = CreateTrackingRequest(tracking_number="1Z999", slug="ups")
    assert body.to_dict() == {"tracking_number": "1Z999", "slug": "ups"}
    assert body.title is UNSET


@pytest.mark.parametrize(
    "data",
    [
        {"id": "t1"},  # required fields missing
        {**MINIMAL, "tracking_number": ["not", "a", "string"]},  # a required field mistyped
        ["not", "an", "object"],
        None,
        "text",
    ],
)
def test_from_dict_rejects_data_that_does_not_fit(data: Any) -> None:
    with pytest.raises(InvalidDataError, match="does not match Tracking") as info:
        Tracking.from_dict(data)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AfterShipError)


def test_from_json_rejects_text_that_is_not_json() -> None:
    with pytest.raises(InvalidDataError, match="not JSON for Tracking"):
        Tracking.from_json("{not json")
    with pytest.raises(InvalidDataError, match="not JSON"):
        Tracking.from_json(b"\xff\xfe")
    with pytest.raises(InvalidDataError, match="does not match"):
        Tracking.from_json("[1, 2]")


def test_from_dict_is_tolerant_like_a_response() -> None:
    tracking = Tracking.from_dict(
        {**MINIMAL, "tag": "Teleported", "shipment_weight": "heavy", "unknown_key": 1}
    )
    assert tracking.tag == "Teleported" and not tracking.tag.is_known
    assert tracking.shipment_weight is UNSET
    assert malformed_fields(tracking) == {"shipment_weight": "heavy"}
    assert "unknown_key" not in tracking.to_dict()


def test_from_dict_accepts_any_mapping() -> None:
    from types import MappingProxyType

    assert Tracking.from_dict(MappingProxyType(MINIMAL)) == Tracking.from_dict(MINIMAL)

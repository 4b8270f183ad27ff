"""Hostile input, property-based: whatever arrives, a typed error or a decoded object.

* every generated model (all attrs classes in the generated ``models.py`` of the
  three APIs), structured through the runtime converter at the boundary the
  generated methods use, from random JSON, schema-shaped JSON with wrong types,
  missing fields and unknown keys: a malformed required value fails the
  object, a malformed optional one is set aside (``malformed_fields``);
* the envelope parser, from random, truncated and oversized bodies;
* path and query parameters and request bodies, from any text.

Deterministic and bounded: ``derandomize=True`` and no example database.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import inspect
import json
import types
import typing
from typing import Any, Union
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

import aftership_async._generated.returns.models as returns_models
import aftership_async._generated.shipping.models as shipping_models
import aftership_async._generated.tracking.models as tracking_models
from aftership_async import (
    UNSET,
    AfterShip,
    APIError,
    InvalidRequestError,
    InvalidResponseError,
    malformed_fields,
)
from aftership_async._api import structure_response
from aftership_async._envelope import unwrap
from aftership_async._generated._converter import CONVERTER
from aftership_async._generated.returns.api import ReturnsAPI
from aftership_async._generated.shipping.api import ShippingAPI
from aftership_async._generated.tracking.api import TrackingAPI
from aftership_async._operation import Operation
from aftership_async._types import Model, Unset

#: Each API's envelope rules, as generated from its spec.
ENVELOPES = {api.name: api.envelope for api in (TrackingAPI.API, ShippingAPI.API, ReturnsAPI.API)}

BOUNDED = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MODELS: list[type] = sorted(
    (
        cls
        for module in (tracking_models, shipping_models, returns_models)
        for _, cls in inspect.getmembers(module, attrs.has)
        if cls.__module__ == module.__name__
    ),
    key=lambda cls: f"{cls.__module__}.{cls.__name__}",
)


def test_every_generated_model_is_covered() -> None:
    names = {cls.__name__ for cls in MODELS}
    assert len(MODELS) > 100
    assert all(issubclass(cls, Model) for cls in MODELS)  # all set malformed values aside
    assert {"Tracking", "Label", "Return", "TrackingWebhookEvent", "ShippingAddress"} <= names


# -- strategies ------------------------------------------------------------

TEXT = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from(list("./\\%?#&=;:@+ \t\n\r\x00\x7f\u2028\ufeff")),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
    ),
    max_size=30,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _shaped(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    """JSON roughly of type ``tp``; one time in five any JSON at all (a wrong type)."""
    right = _right(tp, depth)
    return st.one_of(right, right, right, right, JSON)


def _right(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not Unset]
        inner = [a for a in args if a is not type(None)]
        options = [_shaped(member, depth) for member in inner]  # one, or datetime | date | time
        if type(None) in args:
            options.append(st.none())
        return st.one_of(options)
    if origin is list:
        (item,) = typing.get_args(tp)
        return st.lists(_shaped(item, depth + 1), max_size=3)
    if origin is dict:
        _, value = typing.get_args(tp)
        return st.dictionaries(st.text(max_size=8), _shaped(value, depth + 1), max_size=3)
    if tp is Any:
        return JSON
    if attrs.has(tp):
        return _object(tp, depth + 1) if depth < 4 else JSON
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.one_of(st.sampled_from([m.value for m in tp]), st.text(max_size=12))
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
    if tp is float:
        return st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
    if tp is str:
        return st.one_of(st.text(max_size=20), st.integers())
    if tp is dt.datetime:
        return st.one_of(
            st.datetimes().map(dt.datetime.isoformat),
            st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
            st.datetimes().map(lambda d: d.isoformat() + "Z"),
            st.text(max_size=25),
            st.just(""),
        )
    if tp is dt.date:
        return st.one_of(st.dates().map(dt.date.isoformat), st.text(max_size=12), st.just(""))
    if tp is dt.time:
        return st.one_of(
            st.times().map(dt.time.isoformat),
            st.times().map(lambda t: t.isoformat(timespec="minutes")),
            st.times(timezones=st.timezones()).map(dt.time.isoformat),
            st.text(max_size=12),
            st.just(""),
        )
    raise AssertionError(f"no strategy for {tp!r}")


def _json_name(field: attrs.Attribute[Any]) -> str:
    return str(field.metadata.get("json", field.name))


@functools.cache
def _object(cls: type, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    hints = _hints(cls)
    required = {
        _json_name(f): _shaped(hints[f.name], depth)
        for f in attrs.fields(cls)
        if f.default is attrs.NOTHING
    }
    optional = {
        _json_name(f): _shaped(hints[f.name], depth)
        for f in attrs.fields(cls)
        if f.default is not attrs.NOTHING
    }
    optional["x-unknown-key"] = JSON
    shaped = st.fixed_dictionaries(required, optional=optional)
    return st.tuples(shaped, st.integers(0, 3 * max(len(required), 1))).map(_maybe_drop_one)


def _maybe_drop_one(value: tuple[dict[str, Any], int]) -> dict[str, Any]:
    obj, index = value
    keys = sorted(obj)
    if index < len(keys):  # now and then a required (or optional) field goes missing
        obj = {k: v for k, v in obj.items() if k != keys[index]}
    return obj


@functools.cache
def hostile(cls: type) -> st.SearchStrategy[Any]:
    return st.one_of(_object(cls, 0), _object(cls, 0), _object(cls, 0), JSON)


# -- every model -----------------------------------------------------------

#: What the converter may raise on bad input; the boundary turns these into
#: InvalidResponseError. Anything else (KeyError, AttributeError, IndexError,
#: OverflowError, RecursionError...) is a bug in the runtime.
EXPECTED = (TypeError, ValueError)


def check_model(cls: type, value: Any) -> None:
    try:
        decoded: Any = CONVERTER.structure(value, cls)
    except EXPECTED as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        with pytest.raises(InvalidResponseError) as info:
            structure_response(CONVERTER, value, cls, context="GET /x (test)")
        assert cls.__name__ in info.value.message
        return
    assert isinstance(decoded, cls)
    check_set_aside(decoded, value)
    assert structure_response(CONVERTER, value, cls, context="GET /x (test)") == decoded
    # What decoded re-encodes to JSON and decodes to the same object, with
    # nothing set aside: a value set aside is UNSET, so it is not sent.
    again = json.loads(json.dumps(CONVERTER.unstructure(decoded)))
    redecoded: Any = CONVERTER.structure(again, cls)
    assert redecoded == decoded
    assert not malformed_fields(redecoded)


def check_set_aside(decoded: Any, raw: Any) -> None:
    """In ``decoded`` and every model inside it, only malformed optional values were set aside.

    Each one is an optional field left ``UNSET`` whose raw JSON value (kept as
    received) the field's own hook refuses: the generated decoder's fast paths
    set aside exactly what the hooks would reject, and nothing else.
    """
    if isinstance(decoded, list) and isinstance(raw, list):
        for item, raw_item in zip(decoded, raw, strict=True):
            check_set_aside(item, raw_item)
        return
    if not attrs.has(type(decoded)):
        return
    aside = malformed_fields(decoded)
    hints = _hints(type(decoded))
    fields = {_json_name(f): f for f in attrs.fields(type(decoded))}
    assert set(aside) <= set(fields)
    for name, field in fields.items():
        if name in aside:
            assert field.default is UNSET and getattr(decoded, field.name) is UNSET
            assert aside[name] is raw[name]
            with pytest.raises(EXPECTED):
                CONVERTER.structure(raw[name], hints[field.name])
        elif name in raw:
            check_set_aside(getattr(decoded, field.name), raw[name])


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
@settings(BOUNDED, max_examples=12)
@given(data=st.data())
def test_every_model_decodes_or_raises_a_typed_error(cls: type, data: st.DataObject) -> None:
    check_model(cls, data.draw(hostile(cls)))


@settings(BOUNDED, max_examples=150)
@given(data=st.data())
def test_the_big_models_under_more_examples(data: st.DataObject) -> None:
    cls = data.draw(
        st.sampled_from(
            [
                tracking_models.Tracking,
                tracking_models.TrackingWebhookEvent,
                tracking_models.GetTrackingsResponseData,
                shipping_models.Label,
                returns_models.Return,
            ]
        )
    )
    check_model(cls, data.draw(hostile(cls)))


# -- the envelope ----------------------------------------------------------

STATUSES = st.sampled_from([200, 201, 202, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500, 502])


def check_unwrap(envelope: str, status: int, body: bytes) -> None:
    try:
        unwrap(ENVELOPES[envelope], status, {"x-request-id": "r"}, body)
    except APIError as exc:
        assert exc.api == envelope and str(exc)
    except InvalidResponseError as exc:
        assert exc.message and exc.body == body[:2048]


def _envelope_bodies() -> st.SearchStrategy[bytes]:
    meta = st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "code": st.one_of(st.integers(), SCALARS),
                "message": st.one_of(st.text(max_size=20), SCALARS),
                "type": SCALARS,
                "details": JSON,
                "errors": JSON,
                "retryable": SCALARS,
            },
        ),
        JSON,
    )
    doc = st.one_of(
        st.fixed_dictionaries({}, optional={"meta": meta, "data": JSON}),
        JSON,
    )
    return doc.map(lambda d: json.dumps(d).encode())


@settings(BOUNDED, max_examples=200)
@given(
    envelope=st.sampled_from(sorted(ENVELOPES)),
    status=STATUSES,
    body=_envelope_bodies(),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_envelopes_unwrap_or_raise_typed_errors(
    envelope: str, status: int, body: bytes, cut: int | None
) -> None:
    if cut is not None:
        body = body[: cut % (len(body) + 1)]  # truncated anywhere
    check_unwrap(envelope, status, body)


@settings(BOUNDED, max_examples=100)
@given(envelope=st.sampled_from(sorted(ENVELOPES)), status=STATUSES, body=st.binary(max_size=200))
def test_random_bytes_unwrap_or_raise_typed_errors(envelope: str, status: int, body: bytes) -> None:
    check_unwrap(envelope, status, body)


OVERSIZED = {
    "deep-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-unclosed": b'{"meta": {"code": 200}, "data": ' + b"[" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "huge-int": b'{"meta": {"code": 200}, "data": ' + b"9" * 50_000 + b"}",
    "huge-code": b'{"meta": {"code": ' + b"9" * 5_000 + b"}, " + b'"data": {}}',
    "long-string": b'{"meta": {"code": 500, "message": "' + b"x" * 5_000_000 + b'"}}',
    "nan": b'{"meta": {"code": NaN}, "data": {"total": Infinity}}',
    "bom": b'\xef\xbb\xbf{"meta": {"code": 200}, "data": {}}',
    "utf16": '{"meta": {"code": 200}, "data": {}}'.encode("utf-16"),
    "lone-surrogate": b'{"meta": {"code": 200}, "data": {"id": "\\ud800"}}',
}


@pytest.mark.parametrize("body", list(OVERSIZED.values()), ids=list(OVERSIZED))
@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize("envelope", sorted(ENVELOPES))
def test_oversized_and_odd_bodies(envelope: str, status: int, body: bytes) -> None:
    check_unwrap(envelope, status, body)


def test_deeply_nested_success_bodies_are_invalid_responses() -> None:
    with pytest.raises(InvalidResponseError, match="not JSON"):
        unwrap(ENVELOPES["tracking"], 200, {}, OVERSIZED["deep-unclosed"])
    with pytest.raises(InvalidResponseError, match="not JSON"):
        unwrap(ENVELOPES["returns"], 200, {}, OVERSIZED["deep-array"])


def test_odd_but_valid_values_through_the_whole_pipeline() -> None:
    body = (
        b'{"meta": {"code": 200}, "data": {"id": "\\ud800", "tracking_number": "1",'
        b' "slug": "ups", "created_at": "2024-01-01T00:00:00Z", "transit_time": 1e300,'
        b' "custom_fields": {"n": 123456789012345678901234567890}, "tag": "Teleported"}}'
    )
    data = unwrap(ENVELOPES["tracking"], 200, {}, body)
    tracking = structure_response(CONVERTER, data, tracking_models.Tracking, context="test")
    assert tracking.id == "\ud800"
    assert tracking.transit_time == int(1e300)
    assert tracking.custom_fields == {"n": 123456789012345678901234567890}
    assert tracking.tag == "Teleported" and not tracking.tag.is_known
    assert not malformed_fields(tracking)
    # A malformed optional value is set aside; a malformed required one fails the object.
    odd = structure_response(
        CONVERTER, {**data, "transit_time": 1.5}, tracking_models.Tracking, context="test"
    )
    assert odd.transit_time is UNSET and malformed_fields(odd) == {"transit_time": 1.5}
    assert odd == attrs.evolve(tracking, transit_time=UNSET)
    with pytest.raises(InvalidResponseError, match="expected a string"):
        structure_response(
            CONVERTER, {**data, "slug": ["ups"]}, tracking_models.Tracking, context="test"
        )


# -- arguments: path, query, body --------------------------------------------

CLIENT = AfterShip(api_key="k")
TRANSPORT = CLIENT._transport
ENVELOPES = {
    group.API.name: group.API.envelope
    for group in (CLIENT.tracking, CLIENT.shipping, CLIENT.returns)
}


def _prepare(*, method: str, path: str, **kwargs: Any) -> Any:
    return TRANSPORT.prepare(
        CLIENT.returns.API, Operation("t", method, path, "idempotent"), **kwargs
    )


@settings(BOUNDED, max_examples=300)
@given(rma=TEXT, item=TEXT)
def test_path_parameters_are_rejected_or_exactly_one_segment(rma: str, item: str) -> None:
    template = "/returns/rma/{rma_number}/items/{item_id}"
    try:
        prepared = _prepare(
            method="PATCH", path=template, path_params={"rma_number": rma, "item_id": item}
        )
    except InvalidRequestError as exc:
        assert "path parameter" in str(exc)
        return
    url = URL(prepared.url, encoded=True)
    assert url.host == "api.aftership.com"
    assert not url.raw_query_string and not url.raw_fragment
    parts = url.raw_parts
    assert parts[:4] == ("/", "returns", "2026-07", "returns")
    assert len(parts) == 8 and parts[4] == "rma" and parts[6] == "items"
    for raw, value in ((parts[5], rma), (parts[7], item)):
        assert set(raw) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%"
        )
        assert unquote(raw, errors="strict") == value
        assert value.strip() and value not in (".", "..") and "/" not in value


@settings(BOUNDED, max_examples=50)
@given(
    value=st.one_of(
        st.integers(), st.none(), st.binary(), st.floats(), st.lists(st.text()), st.booleans()
    )
)
def test_non_string_path_parameters_are_rejected(value: object) -> None:
    with pytest.raises(InvalidRequestError, match="must be a string"):
        _prepare(method="GET", path="/returns/{return_id}", path_params={"return_id": value})


async def test_bad_path_parameters_never_reach_the_network() -> None:
    # Through the public method: rejected before the session is even opened.
    client = AfterShip(api_key="k")
    for bad in ("", " ", "..", "a/b", "a\x00", "\ud800"):
        with pytest.raises(InvalidRequestError):
            await client.tracking.get_tracking_by_id(bad)
    assert client._transport._session is None


@settings(BOUNDED, max_examples=150)
@given(keyword=TEXT)
def test_query_values_are_rejected_or_round_trip(keyword: str) -> None:
    try:
        prepared = TRANSPORT.prepare(
            CLIENT.tracking.API,
            Operation("t", "GET", "/trackings", "idempotent"),
            query={"keyword": keyword, "limit": 5},
        )
    except InvalidRequestError as exc:
        assert "query parameter 'keyword'" in str(exc)
        return
    query = urlsplit(prepared.url).query
    assert parse_qsl(query, keep_blank_values=True) == [("keyword", keyword), ("limit", "5")]


@settings(BOUNDED, max_examples=150)
@given(number=TEXT, ratio=st.one_of(st.floats(), st.integers()))
def test_request_bodies_are_rejected_or_valid_json(number: str, ratio: float) -> None:
    body = {"tracking_number": number, "custom_fields": {"ratio": ratio}}
    try:
        prepared = TRANSPORT.prepare(
            CLIENT.tracking.API, Operation("t", "POST", "/trackings", "idempotent"), json_body=body
        )
    except InvalidRequestError as exc:
        assert "the body" in str(exc)
        return
    assert prepared.body is not None
    decoded = json.loads(prepared.body.decode("utf-8"), parse_constant=_no_constants)
    assert decoded == body


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} sent in a request body")

"""Real data never sinks a response: bare dates, empty dates, malformed optional values.

* a ``datetime | date`` field takes a date-time or a bare date (never midnight
  invented) and encodes each back to the same string; a union with ``time`` takes
  ``HH:MM`` too, and a form the union does not name is an error;
* ``""`` in a nullable date, date-time or date-or-date-time field is ``None``;
* in a ``Model``, a malformed value in an optional field leaves the field
  ``UNSET``, keeps the raw value for ``malformed_fields`` and logs one warning
  per model and field; a malformed required value still fails the object.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import pickle
from collections.abc import Iterator
from typing import Any

import attrs
import cattrs
import pytest

import aftership_async
from aftership_async import UNSET, InvalidResponseError, Tracking, Unset, malformed_fields
from aftership_async._api import structure_response
from aftership_async._converter import _WARNED, make_converter
from aftership_async._generated import CONVERTER
from aftership_async._types import Model

PLUS8 = dt.timezone(dt.timedelta(hours=8))

# -- hand-written models (the generated ones have the same shape) -----------


@attrs.define(kw_only=True)
class Weight(Model):
    value: float
    unit: str | Unset | None = UNSET


@attrs.define(kw_only=True)
class Step(Model):
    slug: str
    at: dt.datetime | Unset | None = UNSET
    count: int | Unset = UNSET


@attrs.define(kw_only=True)
class Shipment(Model):
    id: str
    created_at: dt.datetime
    shipped_on: dt.date | None
    pickup: dt.datetime | dt.date | Unset | None = UNSET
    delivery: dt.datetime | dt.date | None
    due: dt.datetime | dt.date | Unset = UNSET
    deadline: dt.datetime | Unset = UNSET
    ship_by: dt.date | Unset | None = UNSET
    count: int | Unset | None = UNSET
    weight: Weight | Unset | None = UNSET
    steps: list[Step] | Unset = UNSET
    tags: list[str] | Unset = UNSET
    stamps: list[dt.datetime] | Unset = UNSET
    async_: bool | Unset = attrs.field(default=UNSET, metadata={"json": "async"})
    extra: Any | Unset = UNSET


@attrs.define(kw_only=True)
class Checked(Model):
    """Has a validator: built through ``__init__``, not by setting slots."""

    count: int = attrs.field(validator=attrs.validators.ge(0))
    note: str | Unset = UNSET


@attrs.define(kw_only=True, frozen=True)
class Frozen(Model):
    id: str
    count: int | Unset = UNSET


@attrs.define(kw_only=True)
class Plain:
    """An attrs class that is not a Model: decoded strictly, as before."""

    id: str
    count: int | Unset = UNSET


BASE = {
    "id": "s1",
    "created_at": "2024-05-01T10:00:00Z",
    "shipped_on": "2024-05-01",
    "delivery": None,
}


@pytest.fixture
def conv() -> cattrs.Converter:
    return make_converter()


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    """Each test sees the first warning for its model and field."""
    saved = set(_WARNED)
    _WARNED.clear()
    yield
    _WARNED.clear()
    _WARNED.update(saved)


def hint(union: object) -> Any:
    """A union as ``structure``'s type argument (typed ``type[T]``, which a union is not)."""
    return union


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "aftership_async" and r.levelno == logging.WARNING
    ]


# -- 1. date or date-time ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-20", dt.date(2022, 1, 20)),
        ("2022-01-20T10:30:00Z", dt.datetime(2022, 1, 20, 10, 30, tzinfo=dt.UTC)),
        (
            "2022-01-20T10:30:00+08:00",
            dt.datetime(2022, 1, 20, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        ),
        ("2022-01-20T10:30:00", dt.datetime(2022, 1, 20, 10, 30)),
    ],
)
def test_date_or_datetime_decodes_and_encodes_back(
    conv: cattrs.Converter, text: str, expected: dt.date
) -> None:
    for key in ("pickup", "delivery", "due"):  # optional, required, not nullable
        shipment = conv.structure({**BASE, key: text}, Shipment)
        value = getattr(shipment, key)
        assert type(value) is type(expected) and value == expected
        if isinstance(expected, dt.datetime):
            assert isinstance(value, dt.datetime)
            assert value.utcoffset() == expected.utcoffset()  # naive stays naive
        assert conv.unstructure(shipment)[key] == text
        assert not malformed_fields(shipment)
    # The hook (used outside a model's decoder) agrees with the generated decoder.
    assert type(conv.structure(text, hint(dt.datetime | dt.date | None))) is type(expected)
    assert conv.structure(text, hint(dt.datetime | dt.date | Unset)) == expected


def test_a_bare_date_never_becomes_midnight(conv: cattrs.Converter) -> None:
    for text in ("2022-01-20", "20220120", "2022-W03-4"):
        value = conv.structure({**BASE, "pickup": text}, Shipment).pickup
        assert type(value) is dt.date and value == dt.date(2022, 1, 20)
    # A time in ten characters is still a time.
    value = conv.structure({**BASE, "pickup": "2022W03T10"}, Shipment).pickup
    assert value == dt.datetime(2022, 1, 17, 10)


@pytest.mark.parametrize(
    ("union", "text", "expected"),
    [
        (dt.datetime | dt.date | dt.time, "10:30", dt.time(10, 30)),
        (dt.datetime | dt.date | dt.time, "2016-09-20", dt.date(2016, 9, 20)),
        (dt.datetime | dt.date | dt.time, "2016-09-20T08:00:00", dt.datetime(2016, 9, 20, 8)),
        (dt.date | dt.time, "08:30:15", dt.time(8, 30, 15)),
        (dt.date | dt.time, "2016-09-20", dt.date(2016, 9, 20)),
        (dt.datetime | dt.time, "23:59", dt.time(23, 59)),
        (dt.datetime | dt.time, "2016-09-20", dt.datetime(2016, 9, 20)),  # no date in the union
        (dt.time | dt.datetime | dt.date | None, "10:30+08:00", dt.time(10, 30, tzinfo=PLUS8)),
    ],
)
def test_a_union_of_date_and_time_types_takes_each_form_it_names(
    conv: cattrs.Converter, union: object, text: str, expected: object
) -> None:
    value = conv.structure(text, hint(union))
    assert type(value) is type(expected) and value == expected
    assert conv.structure(conv.unstructure(value), hint(union)) == expected


@pytest.mark.parametrize(
    ("union", "text"),
    [
        (dt.date | dt.time, "2016-09-20T08:00:00"),  # a date-time where none is named
        (dt.datetime | dt.date, "10:30"),  # a time of day where none is named
        (dt.datetime | dt.date | dt.time, "25:00"),
        (dt.datetime | dt.date | dt.time, "soon"),
    ],
)
def test_a_form_the_union_does_not_name_is_an_error(
    conv: cattrs.Converter, union: object, text: str
) -> None:
    with pytest.raises(ValueError):
        conv.structure(text, hint(union))
    with pytest.raises(TypeError, match="expected a"):
        conv.structure(1030, hint(union))


def test_a_time_encodes_as_hh_mm_when_it_has_no_seconds(conv: cattrs.Converter) -> None:
    assert conv.unstructure(dt.time(10, 30)) == "10:30"
    assert conv.unstructure(dt.time(10, 30, 5)) == "10:30:05"
    assert conv.unstructure(dt.time(10, 30, tzinfo=dt.UTC)) == "10:30Z"
    assert conv.structure("10:30Z", dt.time) == dt.time(10, 30, tzinfo=dt.UTC)


def test_other_unions_are_still_refused(conv: cattrs.Converter) -> None:
    with pytest.raises(TypeError, match="unsupported union"):
        conv.structure(1, hint(int | str))
    with pytest.raises(TypeError, match="unsupported union"):
        conv.structure("2022-01-20", hint(dt.datetime | dt.date | str))
    with pytest.raises(TypeError, match="unsupported union"):
        conv.structure("10:30", hint(dt.time | str))

    @attrs.define(kw_only=True)
    class Odd(Model):
        value: int | str | Unset = UNSET

    with pytest.raises(TypeError, match="unsupported union"):
        conv.structure({"value": 1}, Odd)


def test_tracking_pickup_and_delivery_dates() -> None:
    minimal = {
        "id": "t1",
        "tracking_number": "1",
        "slug": "ups",
        "created_at": "2024-05-01T10:00:00Z",
    }
    tracking = CONVERTER.structure(
        {
            **minimal,
            "shipment_pickup_date": "2022-01-20",
            "shipment_delivery_date": "2022-01-22T15:04:05+00:00",
        },
        Tracking,
    )
    assert type(tracking.shipment_pickup_date) is dt.date
    assert tracking.shipment_delivery_date == dt.datetime(2022, 1, 22, 15, 4, 5, tzinfo=dt.UTC)
    out = CONVERTER.unstructure(tracking)
    assert out["shipment_pickup_date"] == "2022-01-20"
    assert out["shipment_delivery_date"] == "2022-01-22T15:04:05Z"
    empty = CONVERTER.structure({**minimal, "shipment_pickup_date": ""}, Tracking)
    assert empty.shipment_pickup_date is None and not malformed_fields(empty)


# -- 2. empty strings in date fields ---------------------------------------


def test_empty_string_in_a_nullable_date_field_is_none(
    conv: cattrs.Converter, caplog: pytest.LogCaptureFixture
) -> None:
    shipment = conv.structure(
        {**BASE, "shipped_on": "", "delivery": "", "pickup": "", "ship_by": ""}, Shipment
    )
    assert shipment.shipped_on is None and shipment.delivery is None  # required
    assert shipment.pickup is None and shipment.ship_by is None  # optional
    assert not malformed_fields(shipment) and not warnings(caplog)
    assert conv.structure({"slug": "x", "at": ""}, Step).at is None  # and in the plain fast path
    assert conv.structure("", hint(dt.datetime | None)) is None  # the hook


def test_empty_string_where_a_date_is_not_nullable(
    conv: cattrs.Converter, caplog: pytest.LogCaptureFixture
) -> None:
    shipment = conv.structure({**BASE, "deadline": "", "due": "", "stamps": [""]}, Shipment)
    assert shipment.deadline is UNSET and shipment.due is UNSET and shipment.stamps is UNSET
    assert malformed_fields(shipment) == {"deadline": "", "due": "", "stamps": [""]}
    assert len(warnings(caplog)) == 3
    with pytest.raises(ValueError, match="isoformat"):
        conv.structure({**BASE, "created_at": ""}, Shipment)  # required
    with pytest.raises(InvalidResponseError, match="Shipment"):
        structure_response(conv, {**BASE, "created_at": ""}, Shipment, context="GET /x")


# -- 3. malformed optional values ----------------------------------------------


def test_a_malformed_optional_value_is_set_aside_and_logged_once(
    conv: cattrs.Converter, caplog: pytest.LogCaptureFixture
) -> None:
    data = {**BASE, "count": 1.5, "tags": ["a"], "weight": {"value": 2}}
    shipment = conv.structure(data, Shipment)
    assert shipment.count is UNSET
    assert shipment.tags == ["a"] and shipment.weight == Weight(value=2.0)  # the rest decoded
    assert shipment.created_at == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    assert malformed_fields(shipment) == {"count": 1.5}
    assert warnings(caplog) == [
        "Shipment.count: malformed value set aside, the field is UNSET (malformed_fields() "
        "has the raw value; warned once per model and field): expected an integer, got float"
    ]
    # The same model and field again: no second warning; another field: one more.
    again = conv.structure({**data, "count": "many", "deadline": "soon"}, Shipment)
    assert malformed_fields(again) == {"count": "many", "deadline": "soon"}
    assert len(warnings(caplog)) == 2 and "Shipment.deadline" in warnings(caplog)[1]
    # Set aside is not encoded: UNSET is left out, so the JSON round trip is stable.
    assert "count" not in conv.unstructure(shipment)
    assert conv.structure(conv.unstructure(shipment), Shipment) == shipment


def test_the_json_name_is_the_key(conv: cattrs.Converter) -> None:
    shipment = conv.structure({**BASE, "async": "yes"}, Shipment)
    assert shipment.async_ is UNSET
    assert malformed_fields(shipment) == {"async": "yes"}


def test_the_warning_is_short(conv: cattrs.Converter, caplog: pytest.LogCaptureFixture) -> None:
    long = "x" * 500  # the parser's error quotes the value
    shipment = conv.structure({**BASE, "deadline": long}, Shipment)
    assert malformed_fields(shipment)["deadline"] == long  # kept whole here
    (message,) = warnings(caplog)
    assert "Invalid isoformat string: 'xxx" in message and "x" * 61 not in message
    problem = message.split(": ", 2)[2]
    assert len(problem) == 63 and problem.endswith("...")


def test_a_malformed_nested_object_is_the_malformed_value(conv: cattrs.Converter) -> None:
    heavy = conv.structure({**BASE, "weight": "heavy"}, Shipment)
    assert heavy.weight is UNSET and malformed_fields(heavy) == {"weight": "heavy"}
    raw = {"unit": "kg"}  # its required ``value`` is missing
    missing = conv.structure({**BASE, "weight": raw}, Shipment)
    assert missing.weight is UNSET and malformed_fields(missing)["weight"] is raw


def test_a_malformed_optional_field_inside_a_nested_object_stays_there(
    conv: cattrs.Converter,
) -> None:
    shipment = conv.structure(
        {**BASE, "weight": {"value": 1, "unit": ["kg"]}, "steps": [{"slug": "a", "count": "x"}]},
        Shipment,
    )
    assert not malformed_fields(shipment)
    assert shipment.weight == Weight(value=1.0)
    assert malformed_fields(shipment.weight) == {"unit": ["kg"]}
    assert isinstance(shipment.steps, list)
    assert malformed_fields(shipment.steps[0]) == {"count": "x"}


def test_one_bad_item_sets_the_whole_list_aside(conv: cattrs.Converter) -> None:
    steps = [{"slug": "a"}, {"count": 1}, {"slug": "c"}]  # the second lacks its slug
    shipment = conv.structure({**BASE, "steps": steps, "tags": ["a", None]}, Shipment)
    assert shipment.steps is UNSET and shipment.tags is UNSET
    assert malformed_fields(shipment) == {"steps": steps, "tags": ["a", None]}


def test_a_malformed_required_value_still_fails(conv: cattrs.Converter) -> None:
    for bad in ({"created_at": "yesterday"}, {"id": None}, {"shipped_on": 5}):
        with pytest.raises((TypeError, ValueError)):
            conv.structure({**BASE, **bad}, Shipment)
        with pytest.raises(InvalidResponseError, match="does not match Shipment"):
            structure_response(conv, {**BASE, **bad}, Shipment, context="GET /x")
    # Even with a malformed optional value before it.
    with pytest.raises(InvalidResponseError, match="expected a number"):
        structure_response(conv, {"unit": [1], "value": "x"}, Weight, context="GET /x")
    # In a list item: the item is the list's malformed value, the list is optional.
    shipment = conv.structure({**BASE, "steps": [{"slug": None}]}, Shipment)
    assert shipment.steps is UNSET and malformed_fields(shipment) == {"steps": [{"slug": None}]}


def test_models_built_through_init_and_frozen_models(conv: cattrs.Converter) -> None:
    checked = conv.structure({"count": 2, "note": {"a": 1}}, Checked)
    assert checked == Checked(count=2) and malformed_fields(checked) == {"note": {"a": 1}}
    with pytest.raises(ValueError, match="count"):
        conv.structure({"count": -1, "note": []}, Checked)  # the validator still runs
    frozen = conv.structure({"id": "f", "count": "two"}, Frozen)
    assert frozen == Frozen(id="f") and malformed_fields(frozen) == {"count": "two"}


def test_an_attrs_class_that_is_not_a_model_is_strict(conv: cattrs.Converter) -> None:
    with pytest.raises(TypeError, match="expected an integer"):
        conv.structure({"id": "p", "count": "two"}, Plain)
    assert malformed_fields(Plain(id="p")) == {}


def test_malformed_fields_is_a_read_only_mapping(conv: cattrs.Converter) -> None:
    clean = conv.structure(BASE, Shipment)
    assert malformed_fields(clean) == {} and not malformed_fields(Shipment(**_kwargs(clean)))
    bad = conv.structure({**BASE, "count": "x"}, Shipment)
    with pytest.raises(TypeError):
        bad_fields: Any = malformed_fields(bad)
        bad_fields["count"] = 1
    with pytest.raises(TypeError, match="takes a model"):
        malformed_fields({"count": "x"})
    assert aftership_async.malformed_fields is malformed_fields
    assert "malformed_fields" in aftership_async.__all__


def _kwargs(instance: Any) -> dict[str, Any]:
    return {a.name: getattr(instance, a.name) for a in attrs.fields(type(instance))}


def test_the_slot_is_invisible_to_attrs(conv: cattrs.Converter) -> None:
    bad = conv.structure({**BASE, "count": "x", "weight": {"value": 1}}, Shipment)
    clean = conv.structure({**BASE, "weight": {"value": 1}}, Shipment)
    assert malformed_fields(bad) and bad == clean  # equality ignores it
    assert repr(bad) == repr(clean) and "malformed" not in repr(bad)
    assert "_malformed" not in {a.name for a in attrs.fields(Shipment)}
    assert conv.unstructure(bad) == conv.unstructure(clean)
    assert attrs.asdict(bad) == attrs.asdict(clean)
    # Copies describe their own values: they do not carry what the decoder set aside.
    for twin in (copy.copy(bad), copy.deepcopy(bad), pickle.loads(pickle.dumps(bad))):
        assert twin == bad and malformed_fields(twin) == {}
    assert malformed_fields(attrs.evolve(bad, id="s2")) == {}


def test_a_malformed_optional_value_in_a_generated_model(caplog: pytest.LogCaptureFixture) -> None:
    data = {
        "id": "t1",
        "tracking_number": "1",
        "slug": "ups",
        "created_at": "2024-05-01T10:00:00Z",
        "transit_time": 1.5,
        "shipment_weight": "heavy",
        "checkpoints": [{"slug": "ups", "created_at": "2024-05-01T10:00:00Z", "tag": 7}],
    }
    tracking = structure_response(CONVERTER, data, Tracking, context="GET /x")
    assert tracking.id == "t1" and tracking.slug == "ups"
    assert tracking.transit_time is UNSET and tracking.shipment_weight is UNSET
    assert malformed_fields(tracking) == {"transit_time": 1.5, "shipment_weight": "heavy"}
    assert isinstance(tracking.checkpoints, list)
    assert malformed_fields(tracking.checkpoints[0]) == {"tag": 7}
    assert {m.split(":")[0] for m in warnings(caplog)} == {
        "Tracking.transit_time",
        "Tracking.shipment_weight",
        "Checkpoint.tag",
    }


BUILT: list[str] = []


@attrs.define(kw_only=True)
class Counted(Model):
    name: str

    def __attrs_post_init__(self) -> None:
        BUILT.append(self.name)


@attrs.define(kw_only=True)
class Resumed(Model):
    first: Counted | Unset = UNSET
    bad: int | Unset = UNSET
    middle: str
    items: list[Counted] | Unset = UNSET
    worse: dt.date | Unset = UNSET
    last: Counted


def test_decoding_resumes_at_the_failing_field(conv: cattrs.Converter) -> None:
    BUILT.clear()
    data = {
        "first": {"name": "a"},
        "bad": "x",
        "middle": "m",
        "items": [{"name": "b"}],
        "worse": "never",
        "last": {"name": "c"},
    }
    resumed = conv.structure(data, Resumed)
    assert BUILT == ["a", "b", "c"]  # nothing decoded twice
    assert resumed == Resumed(
        first=Counted(name="a"), middle="m", items=[Counted(name="b")], last=Counted(name="c")
    )
    assert malformed_fields(resumed) == {"bad": "x", "worse": "never"}
    # A required field after the set-aside ones still fails the object.
    bad_required: dict[str, Any]
    for bad_required in ({"middle": None}, {"last": {"name": None}}, {"last": []}):
        with pytest.raises(TypeError):
            conv.structure({**data, **bad_required}, Resumed)


def test_without_the_failing_line_every_field_is_decoded_carefully() -> None:
    conv = make_converter()
    structure = conv.get_structure_hook(Resumed)
    structure.__globals__["_field_at"].clear()  # the line of a failure is not known
    BUILT.clear()
    data = {"first": {"name": "a"}, "bad": "x", "middle": "m", "last": {"name": "c"}}
    resumed = conv.structure(data, Resumed)
    assert BUILT == ["a", "a", "c"]  # "a" again: the careful pass starts over
    assert resumed == Resumed(first=Counted(name="a"), middle="m", last=Counted(name="c"))
    assert malformed_fields(resumed) == {"bad": "x"}


class Colour(str):
    pass


@attrs.define(kw_only=True)
class Painted(Model):
    colour: Colour | Unset = UNSET


def test_the_warning_is_one_printable_line(caplog: pytest.LogCaptureFixture) -> None:
    conv = make_converter()

    def refuse(value: Any, _: Any) -> Colour:
        raise ValueError(f"no colour {value}")

    conv.register_structure_hook(Colour, refuse)
    painted = conv.structure({"colour": "red\nFAKE LOG LINE\ud800"}, Painted)
    assert painted.colour is UNSET
    (message,) = warnings(caplog)
    assert message.endswith("no colour red?FAKE LOG LINE?") and message.isprintable()

"""Date-times we send in query strings (audit T11): AfterShip's ``YYYY-MM-DDTHH:MM:SS±HH:MM``.

The spec declares the form as a ``pattern`` on every ``format: date-time`` query
parameter; codegen turns it into the operation's ``query_formats`` and the
transport writes a datetime so: whole seconds, an explicit offset (``+00:00``,
never ``Z``). A naive datetime is refused before the network, naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aioresponses import aioresponses

from aftership_async import AfterShip, InvalidRequestError
from aftership_async._generated.returns import api as returns_api
from aftership_async._generated.shipping import api as shipping_api
from aftership_async._generated.tracking import api as tracking_api
from aftership_async.testing import FakeAfterShip

T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"
R = "https://api.aftership.com/returns/2026-07"

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
MODULES = {"tracking": tracking_api, "shipping": shipping_api, "returns": returns_api}

TOKYO = dt.timezone(dt.timedelta(hours=9))
NEW_YORK_WINTER = dt.timezone(dt.timedelta(hours=-5))


def _date_time_query_params() -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for api in MODULES:
        doc = yaml.safe_load((SPEC_DIR / f"{api}.yaml").read_text())
        for item in doc["paths"].values():
            for op in item.values():
                if not isinstance(op, dict):
                    continue
                for param in op.get("parameters", []):
                    if param.get("in") == "query" and param["schema"].get("format") == "date-time":
                        found.append((api, op["operationId"], param["name"], param["schema"]))
    return found


def test_every_date_time_query_parameter_declares_the_pattern_and_is_formatted() -> None:
    params = _date_time_query_params()
    assert len(params) == 18  # 4 Tracking, 12 Shipping, 2 Returns
    for api, operation_id, name, schema in params:
        assert schema.get("pattern") == PATTERN, (api, operation_id, name)
        operation = getattr(MODULES[api], operation_id.upper())
        assert operation.query_formats.get(name) == "date-time-seconds", (operation_id, name)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC), "2024-05-01T10:00:00+00:00"),
        (dt.datetime(2024, 5, 1, 10, 0, 0, 999_999, tzinfo=dt.UTC), "2024-05-01T10:00:00+00:00"),
        (dt.datetime(2024, 5, 1, 19, 30, 5, 120, tzinfo=TOKYO), "2024-05-01T19:30:05+09:00"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=NEW_YORK_WINTER), "2024-01-02T03:04:05-05:00"),
        # An offset with seconds (local mean time) cannot be written: sent in UTC instead.
        (
            dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(seconds=3661))),
            "2024-01-02T02:03:04+00:00",
        ),
        # A string is the caller's own wire form, sent as given.
        ("2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00+02:00"),
    ],
)
async def test_a_datetime_goes_out_in_whole_seconds_with_an_explicit_offset(
    mocked: aioresponses, client: AfterShip, value: dt.datetime | str, wire: str
) -> None:
    assert re.fullmatch(PATTERN, wire)
    mocked.get(re.compile(rf"^{re.escape(T)}/trackings\?.*"), payload={"meta": {"code": 200},
               "data": {"trackings": []}})  # fmt: skip
    await client.tracking.with_raw_response.get_trackings(
        created_at_min=value, updated_at_max=value
    )
    ((method, url),) = mocked.requests
    assert method == "GET" and str(url.with_query(None)) == f"{T}/trackings"
    assert list(url.query.items()) == [("created_at_min", wire), ("updated_at_max", wire)]


async def test_every_api_sends_the_form(mocked: aioresponses, client: AfterShip) -> None:
    when = dt.datetime(2024, 5, 1, 10, 0, 0, 5, tzinfo=dt.UTC)
    mocked.get(re.compile(rf"^{re.escape(S)}/labels\?.*"),
               payload={"meta": {"code": 200}, "data": {"labels": []}})  # fmt: skip
    mocked.get(re.compile(rf"^{re.escape(R)}/returns\?.*"),
               payload={"meta": {"code": 20000}, "data": {"returns": []}})  # fmt: skip
    await client.shipping.with_raw_response.get_labels(created_at_max=when)
    await client.returns.with_raw_response.get_returns(created_at_min=when)
    sent = [list(url.query.items()) for _, url in mocked.requests]
    assert sent == [
        [("created_at_max", "2024-05-01T10:00:00+00:00")],
        [("created_at_min", "2024-05-01T10:00:00+00:00")],
    ]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda c, v: c.tracking.get_trackings(updated_at_min=v), "updated_at_min"),
        (lambda c, v: c.shipping.get_pickups(created_at_max=v), "created_at_max"),
        (lambda c, v: c.returns.get_returns(created_at_min=v), "created_at_min"),
    ],
)
async def test_a_naive_datetime_is_refused_before_the_network(
    mocked: aioresponses, client: AfterShip, call: Any, name: str
) -> None:
    with pytest.raises(InvalidRequestError, match=rf"query parameter '{name}' is a naive datetime"):
        await call(client, dt.datetime(2024, 5, 1, 10, 0, 0))
    with pytest.raises(InvalidRequestError, match=rf"'{name}' takes a datetime with a time zone"):
        await call(client, dt.date(2024, 5, 1))
    assert not mocked.requests


async def test_iterators_format_the_filters_too(mocked: aioresponses, client: AfterShip) -> None:
    with pytest.raises(InvalidRequestError, match="naive"):
        async for _ in client.tracking.iter_trackings(created_at_max=dt.datetime(2024, 5, 1)):
            pass
    assert not mocked.requests


async def test_the_fake_accepts_the_form_and_refuses_others() -> None:
    """The fake validates the spec's pattern, so what the client sends is what AfterShip takes."""
    async with (
        FakeAfterShip() as fake,
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
    ):
        url = f"{fake.url}/tracking/2026-07/trackings"
        for value, ok in (
            ("2024-05-01T10:00:00+00:00", True),
            ("2024-05-01T10:00:00-05:00", True),
            ("2024-05-01T10:00:00Z", False),
            ("2024-05-01T10:00:00.123+00:00", False),
            ("2024-05-01T10:00:00", False),
        ):
            async with session.get(url, params={"created_at_min": value}) as resp:
                assert (resp.status == 200) is ok, (value, resp.status, await resp.text())
        async with AfterShip(api_key="k", base_url=fake.url) as client:
            since = dt.datetime.now(TOKYO) - dt.timedelta(days=1, microseconds=17)
            page = await client.tracking.get_trackings(created_at_min=since)
            assert page.trackings is not None

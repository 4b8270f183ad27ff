"""Every generated method (the 60 listed operations and those beyond the list): the exact
request it sends, and its response decoded.

One row per operation: the call, and the literal URL it must produce. Bodies
come from AfterShip's example requests where they fit the pinned version,
otherwise from a spec-driven sample with every field set; either way the JSON
on the wire must equal it exactly. Responses come from AfterShip's examples
where there are some, otherwise from a sample; the decoded model must keep
every value.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aioresponses import aioresponses
from yarl import URL

import aftership_async
from aftership_async import AfterShip
from aftership_async._generated import CONVERTER
from aftership_async._generated.returns.api import ReturnsAPI
from aftership_async._generated.shipping.api import ShippingAPI
from aftership_async._generated.tracking.api import TrackingAPI

from .conftest import API_KEY
from .specdata import (
    body_schema_name,
    data_schema_name,
    example,
    find_operation,
    sample,
    schema,
)

T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"
R = "https://api.aftership.com/returns/2026-07"

# (api, method name, positional args, keyword args, body source, expected HTTP method, expected URL)
ROWS: list[tuple[str, str, list[str], dict[str, Any], str | None, str, str]] = [
    (
        "tracking",
        "get_trackings",
        [],
        {"limit": 50, "tag": "InTransit", "cursor": "c1", "keyword": "a b"},
        None,
        "GET",
        f"{T}/trackings?cursor=c1&limit=50&keyword=a%20b&tag=InTransit",
    ),
    ("tracking", "create_tracking", [], {}, "sample", "POST", f"{T}/trackings"),
    ("tracking", "get_user_couriers", [], {}, None, "GET", f"{T}/couriers?active=true"),
    (
        "tracking",
        "get_couriers",
        [],
        {"active": False, "slug": "dhl,ups"},
        None,
        "GET",
        f"{T}/couriers?active=false&slug=dhl%2Cups",
    ),
    (
        "tracking",
        "get_tracking_by_id",
        ["5b74f4958776db0e00b6f5ed"],
        {"lang": "en", "fields": "title,tag"},
        None,
        "GET",
        f"{T}/trackings/5b74f4958776db0e00b6f5ed?fields=title%2Ctag&lang=en",
    ),
    ("tracking", "update_tracking_by_id", ["t1"], {}, "example", "PUT", f"{T}/trackings/t1"),
    ("tracking", "delete_tracking_by_id", ["t1"], {}, None, "DELETE", f"{T}/trackings/t1"),
    ("tracking", "retrack_tracking_by_id", ["t1"], {}, None, "POST", f"{T}/trackings/t1/retrack"),
    (
        "tracking",
        "mark_tracking_completed_by_id",
        ["t1"],
        {},
        "sample",
        "POST",
        f"{T}/trackings/t1/mark-as-completed",
    ),
    ("tracking", "detect_courier", [], {}, "example", "POST", f"{T}/couriers/detect"),
    ("tracking", "get_all_couriers", [], {"slug": "dhl"}, None, "GET", f"{T}/couriers?slug=dhl"),
    (
        "tracking",
        "predict_batch",
        [],
        {},
        "example",
        "POST",
        f"{T}/estimated-delivery-date/predict-batch",
    ),
    ("tracking", "predict", [], {}, "sample", "POST", f"{T}/estimated-delivery-date/predict"),
    (
        "tracking",
        "get_courier_connections",
        [],
        {"courier_slug": "dhl-api", "limit": 10, "cursor": "c2"},
        None,
        "GET",
        f"{T}/courier-connections?courier_slug=dhl-api&cursor=c2&limit=10",
    ),
    ("tracking", "create_courier_connection", [], {}, "sample", "POST", f"{T}/courier-connections"),
    (
        "tracking",
        "get_courier_connection_by_id",
        ["cc1"],
        {},
        None,
        "GET",
        f"{T}/courier-connections/cc1",
    ),
    (
        "tracking",
        "update_courier_connection_by_id",
        ["cc1"],
        {},
        "sample",
        "PATCH",
        f"{T}/courier-connections/cc1",
    ),
    (
        "tracking",
        "delete_courier_connection_by_id",
        ["cc1"],
        {},
        None,
        "DELETE",
        f"{T}/courier-connections/cc1",
    ),
    (
        "shipping",
        "get_labels",
        [],
        {"limit": 10, "status": "created", "next_token": "n1"},
        None,
        "GET",
        f"{S}/labels?status=created&limit=10&next_token=n1",
    ),
    ("shipping", "create_label", [], {}, "example", "POST", f"{S}/labels"),
    ("shipping", "get_label_by_id", ["l1"], {}, None, "GET", f"{S}/labels/l1"),
    (
        "shipping",
        "get_cancel_labels",
        [],
        {"created_at_min": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)},
        None,
        "GET",
        f"{S}/cancel-labels?created_at_min=2024-01-02T03%3A04%3A05%2B00%3A00",
    ),
    ("shipping", "cancel_label", [], {}, "example", "POST", f"{S}/cancel-labels"),
    ("shipping", "get_cancel_label_by_id", ["c1"], {}, None, "GET", f"{S}/cancel-labels/c1"),
    ("shipping", "get_rates", [], {"limit": 5}, None, "GET", f"{S}/rates?limit=5"),
    ("shipping", "calculate_rates", [], {}, "example", "POST", f"{S}/rates"),
    ("shipping", "get_rate_by_id", ["r1"], {}, None, "GET", f"{S}/rates/r1"),
    (
        "shipping",
        "get_manifests",
        [],
        {"shipper_account_id": "sa1"},
        None,
        "GET",
        f"{S}/manifests?shipper_account_id=sa1",
    ),
    ("shipping", "create_manifest", [], {}, "example", "POST", f"{S}/manifests"),
    ("shipping", "get_manifest_by_id", ["m1"], {}, None, "GET", f"{S}/manifests/m1"),
    ("shipping", "get_couriers", [], {}, None, "GET", f"{S}/couriers"),
    ("shipping", "validate_address", [], {}, "example", "POST", f"{S}/address-validations"),
    (
        "shipping",
        "get_locations",
        [],
        {"slug": "fedex", "postal_code": "10001", "count": 3},
        None,
        "GET",
        f"{S}/locations?slug=fedex&postal_code=10001&count=3",
    ),
    (
        "shipping",
        "get_pickups",
        [],
        {"status": "created"},
        None,
        "GET",
        f"{S}/pickups?status=created",
    ),
    ("shipping", "create_pickup", [], {}, "example", "POST", f"{S}/pickups"),
    ("shipping", "get_pickup_by_id", ["p1"], {}, None, "GET", f"{S}/pickups/p1"),
    (
        "shipping",
        "get_cancel_pickups",
        [],
        {"limit": 2},
        None,
        "GET",
        f"{S}/cancel-pickups?limit=2",
    ),
    ("shipping", "cancel_pickup", [], {}, "example", "POST", f"{S}/cancel-pickups"),
    ("shipping", "get_cancel_pickup_by_id", ["cp1"], {}, None, "GET", f"{S}/cancel-pickups/cp1"),
    (
        "shipping",
        "get_shipper_accounts",
        [],
        {"slug": "dhl"},
        None,
        "GET",
        f"{S}/shipper-accounts?slug=dhl",
    ),
    ("shipping", "create_shipper_account", [], {}, "example", "POST", f"{S}/shipper-accounts"),
    (
        "shipping",
        "get_shipper_account_by_id",
        ["sa1"],
        {},
        None,
        "GET",
        f"{S}/shipper-accounts/sa1",
    ),
    (
        "shipping",
        "delete_shipper_account_by_id",
        ["sa1"],
        {},
        None,
        "DELETE",
        f"{S}/shipper-accounts/sa1",
    ),
    (
        "shipping",
        "update_shipper_account_info_by_id",
        ["sa1"],
        {},
        "example",
        "PUT",
        f"{S}/shipper-accounts/sa1/info",
    ),
    (
        "shipping",
        "update_shipper_account_credentials_by_id",
        ["sa1"],
        {},
        "example",
        "PATCH",
        f"{S}/shipper-accounts/sa1/credentials",
    ),
    (
        "shipping",
        "update_shipper_account_settings_by_id",
        ["sa1"],
        {},
        "example",
        "PATCH",
        f"{S}/shipper-accounts/sa1/settings",
    ),
    (
        "shipping",
        "create_fedex_shipper_account",
        [],
        {},
        "sample",
        "POST",
        f"{S}/couriers/fedex/shipper-accounts",
    ),
    (
        "shipping",
        "update_fedex_shipper_account_by_id",
        ["sa1"],
        {},
        "sample",
        "POST",
        f"{S}/couriers/fedex/shipper-accounts/sa1/update",
    ),
    (
        "returns",
        "get_returns",
        [],
        {"page": 2, "limit": 50, "approval_status": "approved"},
        None,
        "GET",
        f"{R}/returns?page=2&limit=50&approval_status=approved",
    ),
    ("returns", "create_return", [], {}, "example", "POST", f"{R}/returns"),
    ("returns", "get_return_by_id", ["b3eedf69"], {}, None, "GET", f"{R}/returns/b3eedf69"),
    ("returns", "get_return_by_rma", ["A1B2 C3"], {}, None, "GET", f"{R}/returns/rma/A1B2%20C3"),
    ("returns", "approve_return_by_id", ["r1"], {}, "sample", "POST", f"{R}/returns/r1/approve"),
    (
        "returns",
        "approve_return_by_rma",
        ["RMA1"],
        {},
        "sample",
        "POST",
        f"{R}/returns/rma/RMA1/approve",
    ),
    ("returns", "resolve_return_by_id", ["r1"], {}, "sample", "POST", f"{R}/returns/r1/resolve"),
    (
        "returns",
        "resolve_return_by_rma",
        ["RMA1"],
        {},
        "sample",
        "POST",
        f"{R}/returns/rma/RMA1/resolve",
    ),
    ("returns", "reject_return_by_id", ["r1"], {}, "sample", "POST", f"{R}/returns/r1/reject"),
    (
        "returns",
        "reject_return_by_rma",
        ["RMA1"],
        {},
        "sample",
        "POST",
        f"{R}/returns/rma/RMA1/reject",
    ),
    (
        "returns",
        "receive_return_items_by_id",
        ["r1"],
        {},
        "example",
        "POST",
        f"{R}/returns/r1/receive-items",
    ),
    (
        "returns",
        "receive_return_items_by_rma",
        ["RMA1"],
        {},
        "example",
        "POST",
        f"{R}/returns/rma/RMA1/receive-items",
    ),
    (
        "returns",
        "update_return_item_by_id",
        ["r1", "i1"],
        {},
        "sample",
        "PATCH",
        f"{R}/returns/r1/items/i1",
    ),
    (
        "returns",
        "update_return_item_by_rma",
        ["RMA1", "i1"],
        {},
        "sample",
        "PATCH",
        f"{R}/returns/rma/RMA1/items/i1",
    ),
    (
        "returns",
        "remove_return_items_by_id",
        ["r1"],
        {},
        "example",
        "POST",
        f"{R}/returns/r1/remove-items",
    ),
    (
        "returns",
        "remove_return_items_by_rma",
        ["RMA1"],
        {},
        "example",
        "POST",
        f"{R}/returns/rma/RMA1/remove-items",
    ),
    (
        "returns",
        "attach_return_shipments_by_id",
        ["r1"],
        {},
        "example",
        "POST",
        f"{R}/returns/r1/attach-shipments",
    ),
    (
        "returns",
        "attach_return_shipments_by_rma",
        ["RMA1"],
        {},
        "example",
        "POST",
        f"{R}/returns/rma/RMA1/attach-shipments",
    ),
    (
        "returns",
        "record_dropoff_drops_by_rma",
        ["RMA1", "d1"],
        {},
        "sample",
        "POST",
        f"{R}/returns/rma/RMA1/dropoffs/d1/drops",
    ),
    ("returns", "create_returns_page_link", [], {}, "sample", "POST", f"{R}/returns/link"),
    ("returns", "get_item_tags", [], {}, None, "GET", f"{R}/item-tags"),
]


def test_the_table_covers_every_method() -> None:
    """The 60 listed operations, plus what the pinned versions add (get_couriers, predict,
    five courier-connection operations) and the two FedEx shipper-account operations
    (test_spec.NOT_LISTED): every generated method, once."""
    assert len(ROWS) == 69
    assert len({(r[0], r[1]) for r in ROWS}) == 69
    for api, group in (
        ("tracking", TrackingAPI),
        ("shipping", ShippingAPI),
        ("returns", ReturnsAPI),
    ):
        methods = {
            name
            for name, value in vars(group).items()
            if inspect.iscoroutinefunction(value) and not name.startswith("_")
        }
        assert methods == {r[1] for r in ROWS if r[0] == api}, api


def _request_body(api: str, method: str, path: str, op: dict[str, Any], source: str) -> Any:
    name = body_schema_name(op)
    assert name is not None
    if source == "example":
        ex = example(api, method, path)
        assert ex is not None and ex["request_example"] is not None, "no example request"
        return ex["request_example"]
    return sample(api, schema(api, name))


def _response_data(api: str, method: str, path: str, op: dict[str, Any]) -> Any:
    ex = example(api, method, path)
    status = next(c for c in op["responses"] if str(c).startswith("2"))
    if ex is not None and str(status) in ex["responses"]:
        return ex["responses"][str(status)]["data"]
    return sample(api, schema(api, data_schema_name(api, op)))


def assert_kept(decoded: Any, original: Any, where: str = "data") -> None:
    """Every value the model kept equals the original JSON (dates compared as dates)."""
    if isinstance(decoded, dict):
        assert isinstance(original, dict), where
        for key, value in decoded.items():
            assert key in original, f"{where}.{key} was invented"
            assert_kept(value, original[key], f"{where}.{key}")
    elif isinstance(decoded, list):
        assert isinstance(original, list) and len(decoded) == len(original), where
        for i, (a, b) in enumerate(zip(decoded, original, strict=True)):
            assert_kept(a, b, f"{where}[{i}]")
    elif isinstance(decoded, str) and isinstance(original, str) and decoded != original:
        assert dt.datetime.fromisoformat(decoded) == dt.datetime.fromisoformat(original), where
    elif isinstance(decoded, float) and isinstance(original, (int, float)):
        assert decoded == original, where
    else:
        assert decoded == original, where


@pytest.mark.parametrize(
    ("api", "name", "args", "kwargs", "body_source", "http_method", "url"),
    ROWS,
    ids=[f"{r[0]}.{r[1]}" for r in ROWS],
)
async def test_operation_request_and_response(
    mocked: aioresponses,
    client: AfterShip,
    api: str,
    name: str,
    args: list[str],
    kwargs: dict[str, Any],
    body_source: str | None,
    http_method: str,
    url: str,
) -> None:
    method, path, op = find_operation(api, name)
    assert method == http_method
    status = int(next(c for c in op["responses"] if str(c).startswith("2")))
    data = _response_data(api, method, path, op)
    meta = {
        "tracking": {"code": status},
        "shipping": {"code": 200, "message": "OK", "details": []},
        "returns": {"code": status * 100, "type": "OK", "message": "ok"},
    }[api]
    mocked.add(url, method=http_method, status=status, payload={"meta": meta, "data": data})

    call_kwargs = dict(kwargs)
    body_json = None
    if body_source is not None:
        body_json = _request_body(api, method, path, op, body_source)
        body_name = body_schema_name(op)
        body_cls = getattr(aftership_async, body_name, None) if body_name else None
        call_args: list[Any] = [
            *args,
            CONVERTER.structure(body_json, body_cls) if body_cls else body_json,
        ]
    else:
        call_args = list(args)

    result = await getattr(getattr(client, api), name)(*call_args, **call_kwargs)

    # The request: exactly one, to exactly this URL, with exactly this body and auth.
    ((key, calls),) = mocked.requests.items()
    assert key[0] == http_method
    sent = URL(str(key[1]))
    expected = urlsplit(url)
    assert (
        f"{sent.scheme}://{sent.host}{sent.raw_path}"
        == f"{expected.scheme}://{expected.netloc}{expected.path}"
    )
    # aioresponses sorts the query when it records a call; the order on the
    # wire is checked in test_client.py.
    assert sorted(parse_qsl(sent.raw_query_string)) == sorted(parse_qsl(expected.query))
    (call,) = calls
    headers = call.kwargs["headers"]
    assert headers["as-api-key"] == API_KEY
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("aftership-async/")
    if body_json is None:
        assert call.kwargs["data"] is None
        assert "content-type" not in headers
    else:
        assert headers["content-type"] == "application/json"
        assert json.loads(call.kwargs["data"]) == body_json

    # The response: the typed model, keeping every value it knows.
    data_cls = getattr(aftership_async, data_schema_name(api, op), None)
    if data_cls is not None:
        assert isinstance(result, data_cls)
    assert_kept(CONVERTER.unstructure(result), data)


def test_sample_bodies_round_trip_every_field() -> None:
    """A body with every field set survives structure -> unstructure unchanged."""
    checked = 0
    for api, name, *_rest in ROWS:
        _, _, op = find_operation(api, name)
        body_name = body_schema_name(op)
        cls = getattr(aftership_async, body_name, None) if body_name else None
        if cls is None:
            continue
        value = sample(api, schema(api, body_name))  # type: ignore[arg-type]
        assert CONVERTER.unstructure(CONVERTER.structure(value, cls)) == value, body_name
        checked += 1
    free_form = {
        "update_shipper_account_credentials_by_id",
        "update_shipper_account_settings_by_id",
    }
    assert checked == sum(1 for r in ROWS if r[4] is not None and r[1] not in free_form)

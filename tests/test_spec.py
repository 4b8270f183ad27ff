"""The specs are valid OpenAPI 3.1 and describe the 60 listed operations, plus exactly the
operations AfterShip documents beyond the list (``NOT_LISTED``)."""

from __future__ import annotations

import csv

import pytest
from openapi_spec_validator import validate

from .specdata import APIS, FIXTURES, ROOT, operations, spec

# The only places where the spec follows the real API instead of operations.tsv.
DOCUMENTED_DIVERGENCES = {
    ("shipping", "/shipper-accounts/{id}/credentials"): ("PUT", "PATCH"),
    ("shipping", "/shipper-accounts/{id}/settings"): ("PUT", "PATCH"),
    ("returns", "/returns/{return_id}/items/{item_id}"): ("PUT", "PATCH"),
    ("returns", "/returns/rma/{rma_number}/items/{item_id}"): ("PUT", "PATCH"),
}

# Listed operations that the pinned version serves from another operation (``x-listed-as``):
# (api, listed method, listed path) -> (method name, real method, real path, fixed query).
LISTED_AS = {
    ("tracking", "GET", "/couriers"): ("get_user_couriers", "GET", "/couriers", {"active": True}),
    ("tracking", "GET", "/couriers/all"): (
        "get_all_couriers",
        "GET",
        "/couriers",
        {"active": None},
    ),
}

# Operations AfterShip documents that the operation list does not have: what the pinned
# versions add, and the FedEx-specific shipper accounts (fidelity audit S2).
NOT_LISTED = {
    ("tracking", "GET", "/couriers"),  # get_couriers(active=..., slug=...)
    ("tracking", "POST", "/estimated-delivery-date/predict"),
    ("tracking", "GET", "/courier-connections"),
    ("tracking", "POST", "/courier-connections"),
    ("tracking", "GET", "/courier-connections/{id}"),
    ("tracking", "PATCH", "/courier-connections/{id}"),
    ("tracking", "DELETE", "/courier-connections/{id}"),
    ("shipping", "POST", "/couriers/fedex/shipper-accounts"),
    ("shipping", "POST", "/couriers/fedex/shipper-accounts/{id}/update"),
}

PINNED = {
    "tracking": "https://api.aftership.com/tracking/2026-07",
    "shipping": "https://api.aftership.com/postmen/v3",
    "returns": "https://api.aftership.com/returns/2026-07",
}


@pytest.mark.parametrize("api", APIS)
def test_spec_is_valid_openapi_31(api: str) -> None:
    document = spec(api)
    assert document["openapi"].startswith("3.1")
    validate(document)


@pytest.mark.parametrize("api", APIS)
def test_spec_pins_its_version(api: str) -> None:
    assert spec(api)["servers"][0]["url"] == PINNED[api]
    assert spec(api)["x-aftership"]["api"] == api


def listed_operations() -> set[tuple[str, str, str]]:
    with open(FIXTURES / "operations.tsv", encoding="utf-8") as f:
        return {(r["api"], r["method"], r["path"]) for r in csv.DictReader(f, delimiter="\t")}


def test_fixture_operation_list_matches_the_reference_when_present() -> None:
    reference = ROOT.parent / "shared" / "reference" / "operations.tsv"
    if reference.exists():  # the copy in tests/fixtures must not drift
        assert reference.read_text() == (FIXTURES / "operations.tsv").read_text()


def test_spec_operations_equal_the_operation_list() -> None:
    """Every listed operation is in the spec: as itself, with a recorded method divergence,
    or as an ``x-listed-as`` alias; exactly those mappings, and nothing else is extra."""
    in_spec: set[tuple[str, str, str]] = set()
    aliases: dict[tuple[str, str, str], tuple[str, str, str, dict[str, object]]] = {}
    for api in APIS:
        for method, path, op in operations(api):
            for alias in op.get("x-listed-as", []):
                listed_method, listed_path = alias["listed"].split(" ", 1)
                key = (api, listed_method, listed_path)
                assert key not in aliases, key
                aliases[key] = (alias["operationId"], method, path, alias.get("fixed-query", {}))
            listed = op.get("x-listed-method")
            if listed is not None:
                assert DOCUMENTED_DIVERGENCES.get((api, path)) == (listed, method), (api, path)
                method = listed
            in_spec.add((api, method, path))
    assert aliases == LISTED_AS
    listed_ops = listed_operations()
    assert len(listed_ops) == 60
    assert (in_spec - NOT_LISTED) | set(aliases) == listed_ops
    assert in_spec >= NOT_LISTED


def test_tracking_has_the_16_operations_of_2026_07() -> None:
    assert spec("tracking")["x-aftership"]["version"] == "2026-07"
    assert len(operations("tracking")) == 16


@pytest.mark.parametrize("api", APIS)
def test_spec_records_the_support_window_of_its_version(api: str) -> None:
    support = spec(api)["x-aftership"]["support"]
    assert set(support) == {"released", "until"}
    if api != "shipping":  # Postmen v3 has no announced end
        assert support["released"] < support["until"]


def test_every_divergence_is_recorded_in_the_spec() -> None:
    for (api, path), (listed, real) in DOCUMENTED_DIVERGENCES.items():
        op = spec(api)["paths"][path][real.lower()]
        assert op["x-listed-method"] == listed


def test_operation_ids_are_unique_python_names() -> None:
    seen: set[tuple[str, str]] = set()
    for api in APIS:
        for _, _, op in operations(api):
            assert op["operationId"].isidentifier()
            assert (api, op["operationId"]) not in seen
            seen.add((api, op["operationId"]))


def test_schema_names_are_unique_across_apis() -> None:
    names: dict[str, str] = {}
    for api in APIS:
        for name in spec(api)["components"]["schemas"]:
            assert name not in names, f"{name} in {api} and {names[name]}"
            names[name] = api

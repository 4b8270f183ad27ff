"""Schemathesis over all 67 operations of the three shipped specs, against a live fake.

The fake runs in a background thread with its own event loop; schemathesis
calls it over real HTTP (``requests``) on 127.0.0.1, sending the key in
``as-api-key``. Every operation gets its spec examples and a few fuzzed
cases, valid and invalid (``MAX_EXAMPLES`` each, derandomized, no example
database); the GET and DELETE operations also get schemathesis' coverage
phase (boundary values, missing parameters and headers, undeclared
methods). ``AFTERSHIP_SCHEMATHESIS_COVERAGE=all`` runs the coverage phase on
every operation (about 40 s more; it passes too).

Checks: schemathesis' own (the status code is documented, content type and
body match the response schema, no 5xx, valid requests accepted, invalid
ones rejected, a wrong key gets 401, an undeclared method 405 with
``Allow``), plus:

* a request the fake refuses as invalid gets the API's validation envelope
  naming the field: Tracking 400 with a 4xxx ``meta.code`` and
  ``meta.type`` BadRequest, Returns 422/42200 with ``meta.errors`` and
  ``data: null``, Shipping HTTP 200 with 4104/4109 and ``meta.details``;
* Shipping answers business and validation errors with HTTP 200 and
  ``meta.code`` >= 3000, which the spec cannot declare as a second 200
  schema: those bodies are validated against ``ShippingErrorEnvelope``
  instead, count as rejections for invalid requests, and a 4104/4109
  answer to a valid request fails like a 400 would.
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import Case, GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

from aftership_async.testing import FakeAfterShip

from .helpers import assert_valid, spec_document

MAX_EXAMPLES = 5
API_KEY = "schemathesis-key"
FULL_COVERAGE = os.environ.get("AFTERSHIP_SCHEMATHESIS_COVERAGE") == "all"

_SHIPPING_VALIDATION = (4104, 4109)

# Business rules that refuse some schema-valid requests, each documented in the operation's
# description but not expressible in the spec's JSON Schema subset: (api, meta.code, words of
# the message). Any other 4xx (or Shipping 4104/4109) answer to a schema-valid request fails.
BUSINESS_RULES = {
    ("tracking", 4005, "tracking_number"),  # no courier's number format fits
    ("tracking", 4012, "detect courier"),  # nor can one be detected
    ("tracking", 4010, "slug"),  # no courier has this slug
    ("tracking", 4008, "cursor"),  # an opaque cursor the fake never issued
    ("tracking", 4003, "already exists"),  # the same (tracking_number, slug) or id twice
    ("tracking", 4008, "courier connection"),  # a courier that cannot be connected
    ("tracking", 4009, "credentials."),  # a credential field the courier requires is missing
    ("shipping", 4104, "next_token"),  # the same for next_token
    ("shipping", 4104, "label_ids or pickup_parcels"),  # one of two body shapes is required
}


class ThreadedFake:
    """A FakeAfterShip serving from a background thread, for synchronous HTTP clients."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.fake: FakeAfterShip | None = None

    def _run(self, make: Callable[[], Any]) -> Any:
        async def wrapped() -> Any:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(10)

    def __enter__(self) -> FakeAfterShip:
        self.thread.start()
        self.fake = FakeAfterShip(**self.options)
        self._run(self.fake.start)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        if self.fake is not None:
            self._run(self.fake.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def live_fake() -> Iterator[FakeAfterShip]:
    with ThreadedFake(api_key=API_KEY, seed=3) as fake:
        yield fake


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _load(api: str, phases: list[str]) -> Any:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(spec_document(api)))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        deterministic=True,
    )
    schema.config.phases.update(phases=phases)
    return schema


def _prefix(api: str) -> str:
    """``/postmen/v3``: the path of the spec's server URL."""
    url = str(spec_document(api)["servers"][0]["url"])
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _business_rule(api: str, meta: Any) -> bool:
    if not isinstance(meta, dict):
        return False
    message = str(meta.get("message", ""))
    return any(
        api == rule_api and meta.get("code") == code and words in message
        for rule_api, code, words in BUSINESS_RULES
    )


def _check_rejection(api: str, text: str, payload: Any) -> None:
    """A request the fake refused as invalid got the API's validation envelope, naming a field."""
    meta = payload["meta"]
    if api == "tracking":
        assert 4000 <= meta["code"] < 5000, text
        assert meta["type"] == "BadRequest", text
        return  # Tracking names the field in meta.message only
    if api == "returns":
        assert meta["code"] == 42200, text
        assert payload["data"] is None, text
        problems = meta.get("errors")
    else:
        problems = meta["details"]
    assert problems, f"no field named: {text}"
    assert all(p["path"] and p["info"] for p in problems), text


def _conformance_test(api: str, phases: list[str], methods: list[str] | None = None) -> Any:
    schema = _load(api, phases)
    if methods is not None:
        schema = schema.include(method=methods)

    @schema.parametrize()
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def test(case: Case, live_fake: FakeAfterShip, http: requests.Session) -> None:
        if case.headers and "as-api-key" in case.headers:  # invalid cases may drop it: 401
            case.headers["as-api-key"] = API_KEY
        response = case.call(base_url=live_fake.url + _prefix(api), session=http, timeout=10)
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        meta = payload.get("meta") if isinstance(payload, dict) else None
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        excluded = []
        business_rule = _business_rule(api, meta)
        if business_rule:
            excluded.append(positive_data_acceptance)
        shipping_error = (
            api == "shipping"
            and response.status_code == 200
            and isinstance(meta, dict)
            and meta.get("code") != 200
        )
        if shipping_error:
            assert isinstance(meta, dict)
            assert_valid(api, {"$ref": "#/components/schemas/ShippingErrorEnvelope"}, payload)
            excluded += [response_schema_conformance, negative_data_rejection]
            if mode.is_positive and not business_rule:
                assert meta["code"] not in _SHIPPING_VALIDATION, (
                    f"schema-valid request rejected: {response.text}"
                )
        case.validate_response(response, excluded_checks=excluded)
        refused = response.status_code in (400, 422) or (
            shipping_error and isinstance(meta, dict) and meta["code"] in _SHIPPING_VALIDATION
        )
        if refused:
            _check_rejection(api, response.text, payload)

    return test


test_tracking_conforms = _conformance_test("tracking", ["examples", "fuzzing"])
test_shipping_conforms = _conformance_test("shipping", ["examples", "fuzzing"])
test_returns_conforms = _conformance_test("returns", ["examples", "fuzzing"])

_COVERED = None if FULL_COVERAGE else ["GET", "DELETE"]
test_tracking_coverage = _conformance_test("tracking", ["coverage"], _COVERED)
test_shipping_coverage = _conformance_test("shipping", ["coverage"], _COVERED)
test_returns_coverage = _conformance_test("returns", ["coverage"], _COVERED)


def test_every_operation_is_exercised() -> None:
    """The parametrized tests above cover all 67 operations of the three specs."""
    labels = set()
    for api in ("tracking", "shipping", "returns"):
        schema = _load(api, ["examples", "fuzzing"])
        labels |= {(api, result.ok().label) for result in schema.get_all_operations()}
    assert len(labels) == 67

"""Retry safety, per operation, against the fake: nothing is bought, booked or created twice.

Every operation's spec declares whether a repeat is safe (``x-aftership.retry``).
The conformance scenario (all 67 operations, in an order that makes each one
valid) runs once more here, and after each real call the same call is sent
again with a fault that strikes **after the server acted** (``drop``, a 500,
a stall past the timeout): the case where the client cannot know what
happened. The declared class decides what the caller sees:

- ``idempotent``: retried; the call ends with its answer (or a definite API
  error, e.g. a repeated DELETE's 404), never ``OutcomeUnknownError``;
- ``natural-key`` (with its key): retried; the retry meets the refusal, which
  is raised typed and says an earlier attempt may have done it;
- ``unsafe`` (and ``natural-key`` without its key): not sent again;
  ``OutcomeUnknownError`` names the operation and how to check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aftership_async import (
    AfterShip,
    APIConnectionError,
    APIError,
    CreateLabelRequest,
    CreateTrackingRequest,
    LabelAlreadyExistsError,
    OutcomeUnknownError,
    RetryPolicy,
    TrackingAlreadyExistsError,
)
from aftership_async._generated.returns import api as returns_api
from aftership_async._generated.shipping import api as shipping_api
from aftership_async._generated.tracking import api as tracking_api
from aftership_async._operation import Operation
from aftership_async.testing import FakeAfterShip

from . import test_conformance as scenario
from .helpers import SHIPMENT, RawCapture, all_operation_ids, body

#: Every operation's generated description, by (api, operationId).
OPERATIONS: dict[tuple[str, str], Operation] = {
    (module.__name__.split(".")[-2], value.name): value
    for module in (tracking_api, shipping_api, returns_api)
    for value in vars(module).values()
    if isinstance(value, Operation)
}

#: Quick retries and a timeout that a stalled answer (``slow_seconds``) overruns.
FAST = RetryPolicy(max_attempts=3, backoff=0.01, max_backoff=0.02, deadline=30.0)
TIMEOUT = 1.0


def test_every_operation_declares_its_retry_safety() -> None:
    for api in ("tracking", "shipping", "returns"):
        declared = {name for a, name in OPERATIONS if a == api}
        assert declared == all_operation_ids(api), api
    classes = Counter(op.retry for op in OPERATIONS.values())
    assert set(classes) == {"idempotent", "natural-key", "unsafe"}
    assert OPERATIONS["shipping", "create_label"].key_fields == ("order_number",)
    assert OPERATIONS["shipping", "create_label"].key_code == 4801
    assert OPERATIONS["tracking", "create_tracking"].key_code == 4003
    for name in ("create_pickup", "create_manifest", "create_shipper_account"):
        assert OPERATIONS["shipping", name].retry == "unsafe"
    for (_, name), op in OPERATIONS.items():
        if op.method == "GET":
            assert op.retry == "idempotent", name
        if op.retry != "idempotent":
            assert op.check, f"{name} says how to check an unknown outcome"


class _NoCapture(RawCapture):
    def pop(self) -> Any:
        return None


class FaultyRecorder(scenario.Recorder):
    """Runs each call, then probes it again under a fault after the server acted."""

    def __init__(self, fake: FakeAfterShip, kind: str) -> None:
        super().__init__(capture=_NoCapture())  # no schema checks here
        self.fake = fake
        self.kind = kind
        self.outcomes: dict[str, str] = {}

    async def __call__(
        self, api: str, operation_id: str, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        result = await call()
        op = OPERATIONS[api, operation_id]
        if self.kind == "slow" and op.retry == "idempotent":
            return result  # a timeout retry of a read is covered elsewhere; stalls cost seconds
        stats = self.fake.stats
        sent, acted = stats.requests[operation_id], stats.acted_then_faulted[operation_id]
        created = sum(stats.created.values())
        self.fake.inject(self.kind, operation=operation_id)
        probe = call()
        try:
            await probe
            outcome = "answered"
        except OutcomeUnknownError as exc:
            outcome = "unknown"
            assert exc.operation == operation_id and exc.api == api
            assert exc.attempt == 1 and exc.check == op.check
            # Not sent again: the one request was carried out, and nothing more.
            assert stats.requests[operation_id] == sent + 1, operation_id
            assert sum(stats.created.values()) - created <= 1, operation_id
        except APIError as exc:
            outcome = "refused" if exc.retried_after else "error"
            assert stats.requests[operation_id] >= sent + 2, f"{operation_id} was not retried"
            if op.retry == "natural-key":
                assert exc.code == op.key_code and "earlier attempt" in str(exc), operation_id
                assert sum(stats.created.values()) == created, f"{operation_id} created twice"
        assert stats.acted_then_faulted[operation_id] == acted + 1, operation_id
        self.outcomes[operation_id] = outcome
        return result


def _expected(op: Operation, probe_body_has_key: bool) -> set[str]:
    if op.retry == "idempotent":
        return {"answered", "error"}
    if op.retry == "natural-key" and (probe_body_has_key or not op.key_fields):
        return {"refused"}
    return {"unknown"}


#: The conformance scenario's bodies set these natural keys (create_label has no order_number).
KEYED_IN_SCENARIO = {"create_tracking", "cancel_label"}


@pytest.mark.parametrize("kind", ["drop", "500", "slow"])
async def test_a_fault_after_the_server_acted_is_retried_only_where_safe(kind: str) -> None:
    async with (
        FakeAfterShip(
            seed=7, after_action=["drop", "500", "slow"], slow_seconds=3 * TIMEOUT
        ) as fake,
        AfterShip(
            api_key="k", base_url=fake.url, retry=FAST, rate_limit=None, timeout=TIMEOUT
        ) as client,
    ):
        run = FaultyRecorder(fake, kind)
        await scenario._tracking(run, client)
        await scenario._shipping(run, client)
        await scenario._returns(run, client)

    probed = [(api, name) for (api, name) in OPERATIONS if name in run.outcomes]
    expected_probes = (
        len(OPERATIONS)
        if kind != "slow"
        else sum(op.retry != "idempotent" for op in OPERATIONS.values())
    )
    assert len(probed) == expected_probes
    for api, name in probed:
        op = OPERATIONS[api, name]
        assert run.outcomes[name] in _expected(op, name in KEYED_IN_SCENARIO), (api, name)


async def test_twenty_labels_under_forty_percent_dropped_answers_are_bought_once_each() -> None:
    """The issue's finding: no order gets two labels, and each returned label is its order's.

    Half the orders carry an ``order_number`` (natural key 4801), half do not (unsafe).
    A drop strikes after the label was bought, so every call buys exactly one label.
    """
    async with (
        FakeAfterShip(seed=3, faults=["drop"]) as fake,
        AfterShip(api_key="k", base_url=fake.url, retry=FAST, rate_limit=None) as client,
    ):
        account = (await fake_account(client)).id
        fake.fault_rate = 0.4
        returned: dict[str, str | None] = {}
        outcomes: Counter[str] = Counter()
        for n in range(20):
            order = f"order-{n}" if n % 2 else None
            try:
                label = await client.shipping.create_label(label_request(account, order))
            except OutcomeUnknownError as exc:
                assert order is None and exc.check and "order_number" in exc.check
                outcomes["unknown"] += 1  # not sent again
                continue
            except LabelAlreadyExistsError as exc:
                assert order is not None and exc.retried_after and "earlier attempt" in str(exc)
                outcomes["refused after a retry"] += 1
                continue
            except APIConnectionError:
                assert order is not None  # keyed: every attempt's answer was dropped
                outcomes["gave up"] += 1
                continue
            outcomes["returned"] += 1
            returned[label.id] = order
        labels = list(fake.state["label"].items.values())
        requests = fake.stats.requests["create_label"]
    assert sum(outcomes.values()) == 20
    assert outcomes["unknown"] > 0 and outcomes["refused after a retry"] > 0  # faults struck
    assert len(labels) == 20, "each call bought exactly one label"
    keyed = [label["order_number"] for label in labels if label["order_number"]]
    assert sorted(keyed) == sorted(f"order-{n}" for n in range(1, 20, 2))
    for label_id, order in returned.items():
        stored = fake.state["label"].get(label_id)
        assert stored is not None and stored["order_number"] == order
    # The unkeyed calls were each sent once; only keyed ones were retried.
    assert requests >= 20 + outcomes["refused after a retry"]


async def fake_account(client: AfterShip) -> Any:
    return await client.shipping.create_shipper_account(
        body(
            "CreateShipperAccountRequest",
            {
                "slug": "ups",
                "description": "UPS",
                "credentials": {"k": "v"},
                "address": SHIPMENT["ship_from"],
            },
        )
    )


def label_request(account_id: str, order_number: str | None) -> CreateLabelRequest:
    data: dict[str, Any] = {
        "shipper_account": {"id": account_id},
        "service_type": "ups_ground",
        "shipment": SHIPMENT,
    }
    if order_number:
        data["order_number"] = order_number
    request: CreateLabelRequest = body("CreateLabelRequest", data)
    return request


async def test_a_fresh_tracking_under_a_500_after_acting_is_created_once_and_the_refusal_says_so() -> (
    None
):
    async with (
        FakeAfterShip(seed=1, after_action=["500"]) as fake,
        AfterShip(api_key="k", base_url=fake.url, retry=FAST, rate_limit=None) as client,
    ):
        fake.inject("500", operation="create_tracking")
        with pytest.raises(TrackingAlreadyExistsError, match="earlier attempt") as info:
            await client.tracking.create_tracking(
                CreateTrackingRequest(tracking_number="1Z999AA10123456784")
            )
        assert info.value.retried_after == "InternalServerError"
        assert len(fake.trackings) == 1
        assert fake.stats.requests["create_tracking"] == 2


async def test_retry_unsafe_opts_in_for_a_caller_who_knows_better() -> None:
    from aftership_async import RequestOptions

    async with (
        FakeAfterShip(seed=1, after_action=["500"]) as fake,
        AfterShip(api_key="k", base_url=fake.url, retry=FAST, rate_limit=None) as client,
    ):
        account = (await fake_account(client)).id
        fake.inject("500", operation="create_label")
        label = await client.shipping.create_label(
            label_request(account, None), options=RequestOptions(retry_unsafe=True)
        )
        # Sent twice, bought twice: what the caller asked for.
        assert fake.stats.requests["create_label"] == 2
        assert len(fake.state["label"]) == 2
        assert fake.state["label"].get(label.id) is not None


async def test_an_unsafe_call_is_resent_when_the_request_provably_never_left() -> None:
    # A refused connection: nothing reached AfterShip, so a pickup may be tried again.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AfterShip(
        api_key="k", base_url=f"http://127.0.0.1:{port}", retry=FAST, rate_limit=None
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.shipping.create_pickup(body("CreatePickupRequest", PICKUP))
    assert not isinstance(info.value, OutcomeUnknownError)
    assert info.value.request_sent is False
    assert info.value.attempts == FAST.max_attempts  # retried: provably never sent
    assert client.stats.requests == FAST.max_attempts


PICKUP = {
    "pickup_start_time": "09:00:00",
    "pickup_end_time": "17:00:00",
    "pickup_from": SHIPMENT["ship_from"],
}

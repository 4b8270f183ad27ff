"""WebhookReceiver.handle without a framework: a store of one's own, store failures,
cancellation, and what is logged."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from aftership_async.webhooks import Claim, DedupeStore, ReceiverOptions, WebhookReceiver

from ._support import SECRET, Sender, body_of, tracking_event
from .conftest import Recorder


class ListStore:
    """A user's own DedupeStore: records every call; can be told to fail one of them."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail = fail
        self.done: set[str] = set()

    async def claim(self, key: str, token: str, lease: float) -> Claim:
        self.calls.append(("claim", key))
        if self.fail == "claim":
            raise ConnectionError("store down")
        return Claim.DONE if key in self.done else Claim.NEW

    async def complete(self, key: str, token: str, ttl: float) -> None:
        self.calls.append(("complete", key))
        if self.fail == "complete":
            raise ConnectionError("store down")
        self.done.add(key)

    async def release(self, key: str, token: str) -> None:
        self.calls.append(("release", key))
        if self.fail == "release":
            raise ConnectionError("store down")


def delivery() -> tuple[bytes, dict[str, str]]:
    body = body_of(tracking_event())
    return body, Sender(None, "").headers(body)  # type: ignore[arg-type]


def receiver(on_event: Any, store: Any) -> WebhookReceiver:
    return WebhookReceiver(secret=SECRET, on_event=on_event, options=ReceiverOptions(store=store))


async def test_a_store_of_one_s_own_gets_claim_then_complete() -> None:
    store = ListStore()
    assert isinstance(store, DedupeStore)
    rx = receiver(Recorder(), store)
    body, headers = delivery()
    assert (await rx.handle(body, headers)).status == 200
    assert (await rx.handle(body, headers)).outcome == "duplicate"
    key = store.calls[0][1]
    assert store.calls == [("claim", key), ("complete", key), ("claim", key)]


async def test_a_failing_on_event_releases_its_claim() -> None:
    store = ListStore()
    rx = receiver(Recorder(failures=1), store)
    body, headers = delivery()
    assert (await rx.handle(body, headers)).status == 500
    assert [name for name, _ in store.calls] == ["claim", "release"]


async def test_a_cancelled_delivery_releases_its_claim_and_stays_cancelled() -> None:
    store = ListStore()
    gate = asyncio.Event()
    recorder = Recorder(gate=gate)
    rx = receiver(recorder, store)
    body, headers = delivery()
    task = asyncio.ensure_future(rx.handle(body, headers))
    await asyncio.wait_for(recorder.entered.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [name for name, _ in store.calls] == ["claim", "release"]


@pytest.mark.parametrize(
    ("fail", "status", "calls"),
    [
        ("claim", 503, 0),  # unchecked: AfterShip delivers it again later
        ("complete", 200, 1),  # handled: a retry could be handled again, which is logged
    ],
)
async def test_store_failures(
    caplog: pytest.LogCaptureFixture, fail: str, status: int, calls: int
) -> None:
    recorder = Recorder()
    rx = receiver(recorder, ListStore(fail=fail))
    body, headers = delivery()
    with caplog.at_level(logging.WARNING, "aftership_async"):
        assert (await rx.handle(body, headers)).status == status
    assert len(recorder.calls) == calls
    assert rx.stats.store_errors == 1
    assert "ConnectionError" in caplog.text and SECRET not in caplog.text


async def test_a_failed_release_is_logged_and_still_answers_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rx = receiver(Recorder(failures=1), ListStore(fail="release"))
    body, headers = delivery()
    with caplog.at_level(logging.WARNING, "aftership_async"):
        assert (await rx.handle(body, headers)).status == 500
    assert "releasing a failed event's claim failed" in caplog.text


async def test_an_event_without_an_id_is_handled_without_the_store() -> None:
    store = ListStore()
    recorder = Recorder()
    rx = WebhookReceiver(
        secret=SECRET, on_event=recorder, api="shipping", options=ReceiverOptions(store=store)
    )
    body = body_of({"meta": {"code": 4713, "message": "partial"}})
    headers = Sender(None, "", api="shipping").headers(body)  # type: ignore[arg-type]
    assert (await rx.handle(body, headers)).status == 200
    assert store.calls == [] and len(recorder.calls) == 1

"""Hooks on the request path (issue 22, item 3): events, masking, failures that break nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from aftership_async import (
    NO_RETRY,
    AfterShip,
    APIConnectionError,
    ConfigurationError,
    CreateTrackingRequest,
    Hooks,
    InternalServerError,
    NotFoundError,
    RequestEvent,
    RetryPolicy,
)
from aftership_async.testing import FakeAfterShip

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
SECRET = "hook-test-signing-secret"
FAST = RetryPolicy(max_attempts=3, backoff=0.001, max_backoff=0.001)
TRACKING = {"id": "t1", "tracking_number": "1Z", "slug": "ups"}


class Recorder:
    """Every hook, half of them async, recording (hook name, event)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, RequestEvent]] = []

    def hooks(self, **extra: Any) -> Hooks:
        async def on_request(event: RequestEvent) -> None:
            await asyncio.sleep(0)
            self.events.append(("request", event))

        def on_response(event: RequestEvent) -> None:
            self.events.append(("response", event))

        async def on_retry(event: RequestEvent) -> None:
            self.events.append(("retry", event))

        def on_rate_limit_wait(event: RequestEvent) -> None:
            self.events.append(("wait", event))

        return Hooks(
            on_request=on_request,
            on_response=on_response,
            on_retry=on_retry,
            on_rate_limit_wait=on_rate_limit_wait,
            **extra,
        )

    def kinds(self) -> list[tuple[str, int]]:
        return [(kind, event.attempt) for kind, event in self.events]


async def test_every_attempt_is_seen_with_what_it_got(mocked: aioresponses) -> None:
    mocked.get(
        f"{T}/trackings/t1",
        status=503,
        payload={"meta": {"code": 503, "message": "busy"}},
        headers={"as-trace-id": "trace-1"},
    )
    mocked.get(
        f"{T}/trackings/t1",
        payload={"meta": {"code": 200}, "data": TRACKING},
        headers={"X-Request-Id": "req-2", "as-trace-id": "trace-2", "X-RateLimit-Remaining": "7"},
    )
    recorder = Recorder()
    async with AfterShip(
        api_key=API_KEY, api_secret=SECRET, retry=FAST, rate_limit=None, hooks=recorder.hooks()
    ) as client:
        tracking = await client.tracking.get_tracking_by_id("t1")
    assert tracking.id == "t1"
    assert recorder.kinds() == [
        ("request", 1),
        ("response", 1),
        ("retry", 1),
        ("request", 2),
        ("response", 2),
    ]
    events = [event for _, event in recorder.events]
    for event in events:
        assert event.operation == "get_tracking_by_id" and event.api == "tracking"
        assert event.method == "GET" and event.endpoint == "GET /trackings/{id}"
        assert event.url == f"{T}/trackings/t1"
        assert event.elapsed >= 0
    assert [e.elapsed for e in events] == sorted(e.elapsed for e in events)
    first_request, first_answer, retry, _, answer = events
    # Request headers as sent, secrets masked.
    assert first_request.status is None
    assert first_request.headers["as-api-key"] == "********"
    assert first_request.headers["as-signature-hmac-sha256"] == "********"
    assert first_request.headers["accept"] == "application/json"
    assert (first_answer.status, first_answer.meta_code, first_answer.trace_id) == (
        503,
        503,
        "trace-1",
    )
    assert isinstance(first_answer.error, InternalServerError)
    assert isinstance(retry.error, InternalServerError) and retry.status == 503
    assert retry.retry_delay is not None and retry.retry_delay > 0
    assert (answer.status, answer.meta_code, answer.request_id, answer.trace_id) == (
        200,
        200,
        "req-2",
        "trace-2",
    )
    assert answer.rate_limit_remaining == 7 and answer.error is None
    # No event shows a secret, in any field.
    assert API_KEY not in repr(events) and SECRET not in repr(events)


async def test_a_connection_failure_is_retried_and_seen_without_an_answer(
    mocked: aioresponses,
) -> None:
    mocked.get(f"{T}/trackings/t1", exception=aiohttp.ServerDisconnectedError())
    mocked.get(f"{T}/trackings/t1", payload={"meta": {"code": 200}, "data": TRACKING})
    recorder = Recorder()
    async with AfterShip(
        api_key=API_KEY, retry=FAST, rate_limit=None, hooks=recorder.hooks()
    ) as client:
        await client.tracking.get_tracking_by_id("t1")
    assert recorder.kinds() == [("request", 1), ("retry", 1), ("request", 2), ("response", 2)]
    retry = recorder.events[1][1]
    assert isinstance(retry.error, APIConnectionError) and retry.status is None


async def test_an_error_answer_reaches_on_response_and_the_caller(mocked: aioresponses) -> None:
    mocked.get(
        f"{T}/trackings/t9",
        status=404,
        payload={"meta": {"code": 4004, "type": "NotFound", "message": "no"}},
    )
    recorder = Recorder()
    async with AfterShip(
        api_key=API_KEY, retry=FAST, rate_limit=None, hooks=recorder.hooks()
    ) as client:
        with pytest.raises(NotFoundError):
            await client.tracking.get_tracking_by_id("t9")
    assert recorder.kinds() == [("request", 1), ("response", 1)]
    assert recorder.events[1][1].meta_code == 4004


@pytest.mark.parametrize("is_async", [False, True])
async def test_a_hook_that_raises_is_logged_and_breaks_nothing(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture, is_async: bool
) -> None:
    mocked.get(f"{T}/trackings/t1", payload={"meta": {"code": 200}, "data": TRACKING})
    calls: list[str] = []

    def broken(event: RequestEvent) -> None:
        calls.append(event.operation)
        raise RuntimeError("hook bug")

    async def broken_async(event: RequestEvent) -> None:
        broken(event)

    hook = broken_async if is_async else broken
    hooks = Hooks(on_request=hook, on_response=hook)
    with caplog.at_level(logging.WARNING, logger="aftership_async"):
        async with AfterShip(
            api_key=API_KEY, retry=NO_RETRY, rate_limit=None, hooks=hooks
        ) as client:
            tracking = await client.tracking.get_tracking_by_id("t1")
    assert tracking.id == "t1" and calls == ["get_tracking_by_id"] * 2
    warnings = [r for r in caplog.records if "hook" in r.getMessage()]
    assert len(warnings) == 2
    assert "on_request raised RuntimeError" in warnings[0].getMessage()
    assert API_KEY not in caplog.text


async def test_a_tracer_that_raises_breaks_nothing(mocked: aioresponses) -> None:
    mocked.get(f"{T}/trackings/t1", payload={"meta": {"code": 200}, "data": TRACKING})

    class Broken:
        def start(self, **_: Any) -> Any:
            raise RuntimeError("tracer bug")

    async with AfterShip(
        api_key=API_KEY, retry=NO_RETRY, rate_limit=None, hooks=Hooks(tracer=Broken())
    ) as client:
        assert (await client.tracking.get_tracking_by_id("t1")).id == "t1"


async def test_rate_limit_waits_are_reported_with_their_length() -> None:
    recorder = Recorder()
    async with FakeAfterShip(api_key=API_KEY) as fake:
        # One request a second to this endpoint: of three at once, two must wait.
        async with AfterShip(
            api_key=API_KEY,
            base_url=fake.url,
            rate_limit={"GET /couriers": 1.0},
            hooks=recorder.hooks(),
        ) as client:
            await asyncio.gather(*(client.tracking.get_couriers() for _ in range(3)))
    waits = [event for kind, event in recorder.events if kind == "wait"]
    assert len(waits) >= 2
    assert all(event.limiter_wait >= 0.001 for event in waits)
    requests = [event for kind, event in recorder.events if kind == "request"]
    assert len(requests) == 3
    # The request event after a wait carries that wait; the stats add them all up.
    assert sum(e.limiter_wait for e in requests) == pytest.approx(
        client.stats.limiter_wait, abs=0.01
    )
    assert sorted(e.limiter_wait for e in waits) == sorted(
        e.limiter_wait for e in requests if e.limiter_wait >= 0.001
    )


async def test_hooks_see_calls_of_every_kind_against_the_fake() -> None:
    recorder = Recorder()
    async with FakeAfterShip(api_key=API_KEY, api_secret=SECRET) as fake:
        async with AfterShip(
            api_key=API_KEY, api_secret=SECRET, base_url=fake.url, hooks=recorder.hooks()
        ) as client:
            created = await client.tracking.create_tracking(
                CreateTrackingRequest(tracking_number="1Z999AA10123456784", slug="ups")
            )
            await client.request("GET", f"/trackings/{created.id}", api="tracking")
            async for _ in client.tracking.iter_trackings():
                pass
    operations = [event.operation for kind, event in recorder.events if kind == "response"]
    assert operations[:2] == ["create_tracking", "request"]
    assert set(operations[2:]) == {"get_trackings"}
    assert all(e.status in (200, 201) for k, e in recorder.events if k == "response")
    assert "SECRET" not in repr(recorder.events) and API_KEY not in repr(recorder.events)


def test_hooks_are_checked_when_built() -> None:
    with pytest.raises(TypeError, match="on_retry must be callable"):
        Hooks(on_retry="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="CallTracer"):
        Hooks(tracer=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Hooks"):
        AfterShip(api_key=API_KEY, hooks={"on_request": print})  # type: ignore[arg-type]

"""The OpenTelemetry integration (``aftership-async[otel]``, issue 22 item 3)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from aioresponses import aioresponses
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from aftership_async import (
    NO_RETRY,
    AfterShip,
    CreateTrackingRequest,
    Hooks,
    NotFoundError,
    RequestEvent,
    RetryPolicy,
)
from aftership_async.otel import OpenTelemetryTracer
from aftership_async.testing import FakeAfterShip

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
FAST = RetryPolicy(max_attempts=3, backoff=0.001, max_backoff=0.001)


@pytest.fixture
def spans() -> Iterator[tuple[InMemorySpanExporter, TracerProvider]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter, provider
    provider.shutdown()


def _only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


async def test_one_span_per_operation_with_a_retry_event_against_the_fake(
    spans: tuple[InMemorySpanExporter, TracerProvider],
) -> None:
    exporter, provider = spans
    sent: list[RequestEvent] = []
    hooks = Hooks(tracer=OpenTelemetryTracer(tracer_provider=provider), on_request=sent.append)
    async with FakeAfterShip(api_key=API_KEY, seed=5, rate_limits=1000.0) as fake:
        async with AfterShip(api_key=API_KEY, base_url=fake.url, retry=FAST, hooks=hooks) as client:
            created = await client.tracking.create_tracking(
                CreateTrackingRequest(tracking_number="1Z999AA10123456784", slug="ups")
            )
            fake.inject("500", operation="get_tracking_by_id")
            await client.tracking.get_tracking_by_id(created.id)
    create = _only(exporter, "tracking.create_tracking")
    get = _only(exporter, "tracking.get_tracking_by_id")
    assert create.kind is SpanKind.CLIENT and create.status.status_code is StatusCode.UNSET
    assert create.attributes is not None and get.attributes is not None
    assert create.attributes["aftership.api"] == "tracking"
    assert create.attributes["aftership.operation"] == "create_tracking"
    assert create.attributes["http.request.method"] == "POST"
    assert create.attributes["http.response.status_code"] == 201
    assert create.attributes["aftership.meta_code"] == 201
    assert create.attributes["aftership.attempts"] == 1
    assert create.attributes["aftership.limiter_wait"] >= 0  # type: ignore[operator]
    assert get.attributes["aftership.rate_limit.remaining"] >= 0  # type: ignore[operator]
    # The failed first attempt is an event of the one span, not a span of its own.
    assert get.attributes["aftership.attempts"] == 2
    assert get.attributes["http.response.status_code"] == 200
    (retry,) = get.events
    assert retry.name == "retry" and retry.attributes is not None
    assert retry.attributes["aftership.attempt"] == 1
    assert retry.attributes["error.type"] == "InternalServerError"
    assert retry.attributes["http.response.status_code"] == 500
    # Context propagation: every attempt carried the span's traceparent.
    get_attempts = [e for e in sent if e.operation == "get_tracking_by_id"]
    assert len(get_attempts) == 2
    trace_id = format(get.context.trace_id, "032x")
    span_id = format(get.context.span_id, "016x")
    flags = format(get.context.trace_flags, "02x")
    for event in get_attempts:
        assert event.headers["traceparent"] == f"00-{trace_id}-{span_id}-{flags}"
    # Nothing secret in what was exported.
    exported = repr(
        [
            (s.name, s.attributes, [e.attributes for e in s.events])
            for s in exporter.get_finished_spans()
        ]
    )
    assert API_KEY not in exported


async def test_the_traceparent_reaches_the_wire_and_the_span_is_current(
    mocked: aioresponses, spans: tuple[InMemorySpanExporter, TracerProvider]
) -> None:
    exporter, provider = spans
    tracer = provider.get_tracer("app")
    mocked.get(f"{T}/couriers", payload={"meta": {"code": 200}, "data": {"couriers": []}})
    current: list[int] = []

    def on_request(_: RequestEvent) -> None:
        current.append(trace.get_current_span().get_span_context().span_id)

    hooks = Hooks(tracer=OpenTelemetryTracer(tracer_provider=provider), on_request=on_request)
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None, hooks=hooks) as client:
        with tracer.start_as_current_span("parent") as parent:
            await client.request("GET", "/couriers", api="tracking")
        after = trace.get_current_span()
    span = _only(exporter, "tracking.request")
    # A child of the caller's span, current while the call ran, and not after it.
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert current == [span.context.span_id]
    assert after.get_span_context().span_id != span.context.span_id
    ((_, calls),) = mocked.requests.items()
    header = calls[0].kwargs["headers"]["traceparent"]
    context = span.context
    assert header == f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


async def test_a_failed_call_ends_its_span_with_the_error(
    mocked: aioresponses, spans: tuple[InMemorySpanExporter, TracerProvider]
) -> None:
    exporter, provider = spans
    mocked.get(
        f"{T}/trackings/t9",
        status=404,
        payload={"meta": {"code": 4004, "type": "NotFound", "message": "no"}},
        headers={"as-trace-id": "as-trace-9", "X-Request-Id": "req-9"},
    )
    hooks = Hooks(tracer=OpenTelemetryTracer(tracer_provider=provider))
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None, hooks=hooks) as client:
        with pytest.raises(NotFoundError):
            await client.tracking.get_tracking_by_id("t9")
    span = _only(exporter, "tracking.get_tracking_by_id")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "NotFoundError"
    assert span.attributes["aftership.meta_code"] == 4004
    assert span.attributes["http.response.status_code"] == 404
    assert span.attributes["aftership.trace_id"] == "as-trace-9"
    assert span.attributes["aftership.request_id"] == "req-9"
    assert trace.get_current_span() is trace.INVALID_SPAN  # the context was restored


@pytest.mark.slow
def test_importing_the_sdk_imports_no_opentelemetry() -> None:
    code = (
        "import sys, aftership_async, aftership_async.testing\n"
        "from aftership_async import AfterShip, Hooks\n"
        "AfterShip(api_key='k', hooks=Hooks(on_request=print))\n"
        "found = sorted(m for m in sys.modules if m.split('.')[0] == 'opentelemetry')\n"
        "assert not found, found\n"
        "import aftership_async.otel\n"
        "assert 'opentelemetry.trace' in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

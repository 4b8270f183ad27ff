"""OpenTelemetry tracing for the client: ``pip install 'aftership-async[otel]'``.

::

    from aftership_async import AfterShip, Hooks
    from aftership_async.otel import OpenTelemetryTracer

    client = AfterShip(hooks=Hooks(tracer=OpenTelemetryTracer()))

Each call (a generated method or ``client.request``) is one ``CLIENT`` span,
``tracking.get_tracking_by_id``, retries included, with the attributes
``aftership.api``, ``aftership.operation``, ``aftership.endpoint``,
``http.request.method``, ``http.response.status_code``, ``aftership.meta_code``,
``aftership.attempts``, ``aftership.limiter_wait`` (seconds, all attempts),
``aftership.rate_limit.remaining``, ``aftership.request_id`` and
``aftership.trace_id`` (AfterShip's ``as-trace-id``) when known; one ``retry``
event per retry (attempt, error type, delay); the span's status is ERROR, with
``error.type``, when the call raises. The span is the current one while the
call runs, and its context goes out with every attempt (``traceparent``, by
the globally configured propagator), so AfterShip's side and aiohttp's own
instrumentation, if any, join the trace.

This module is the only one importing ``opentelemetry``; ``import
aftership_async`` never does.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._hooks import RequestEvent
from ._version import __version__

__all__ = ["OpenTelemetryTracer"]


class _Span:
    """One call's span (a :class:`~aftership_async.CallSpan`)."""

    __slots__ = ("_headers", "_span", "_token", "_wait")

    def __init__(self, span: trace.Span) -> None:
        self._span = span
        self._wait = 0.0
        ctx = trace.set_span_in_context(span)
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=ctx)
        self._headers = carrier
        # Current while the call runs: spans started inside (aiohttp's) are its children.
        self._token = context.attach(ctx)

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def retry(self, event: RequestEvent) -> None:
        self._wait += event.limiter_wait
        attributes: dict[str, str | int | float] = {"aftership.attempt": event.attempt}
        if event.error is not None:
            attributes["error.type"] = type(event.error).__name__
        if event.status is not None:
            attributes["http.response.status_code"] = event.status
        if event.retry_delay is not None:
            attributes["aftership.retry_delay"] = event.retry_delay
        self._span.add_event("retry", attributes)

    def end(self, event: RequestEvent, error: BaseException | None) -> None:
        span = self._span
        try:
            span.set_attribute("aftership.attempts", event.attempt)
            span.set_attribute("aftership.limiter_wait", self._wait + event.limiter_wait)
            for name, value in (
                ("http.response.status_code", event.status),
                ("aftership.meta_code", event.meta_code),
                ("aftership.rate_limit.remaining", event.rate_limit_remaining),
                ("aftership.request_id", event.request_id),
                ("aftership.trace_id", event.trace_id),
            ):
                if value is not None:
                    span.set_attribute(name, value)
            if error is not None:
                span.set_attribute("error.type", type(error).__name__)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end()
        finally:
            context.detach(self._token)


class OpenTelemetryTracer:
    """A :class:`~aftership_async.CallTracer` making one OpenTelemetry span per call.

    Args:
        tracer_provider: the provider to take the tracer from; the global one
            (``opentelemetry.trace.set_tracer_provider``) by default.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer(
            "aftership_async", __version__, tracer_provider=tracer_provider
        )

    def __repr__(self) -> str:
        return "OpenTelemetryTracer()"

    def start(self, *, operation: str, api: str, method: str, endpoint: str) -> _Span:
        span = self._tracer.start_span(
            f"{api}.{operation}",
            kind=SpanKind.CLIENT,
            attributes={
                "aftership.api": api,
                "aftership.operation": operation,
                "aftership.endpoint": endpoint,
                "http.request.method": method,
            },
        )
        return _Span(span)

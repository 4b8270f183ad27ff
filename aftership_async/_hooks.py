"""Observability on the request path: ``Hooks`` and the one event they receive.

``AfterShip(hooks=Hooks(on_request=..., on_response=..., on_retry=...,
on_rate_limit_wait=..., tracer=...))``. Each hook is a plain or an ``async``
callable taking one :class:`RequestEvent`; the transport calls it inline (an
async hook is awaited), so a slow hook slows its call. A hook that raises is
logged on the ``aftership_async`` logger and the call goes on as if it had
returned. Events carry no secret: the API key and signatures in their
headers are masked.

A ``tracer`` (:class:`CallTracer`) wraps each whole call, retries included:
:mod:`aftership_async.otel` is the OpenTelemetry one. The runtime imports
nothing of OpenTelemetry.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeAlias

import attrs

from ._envelope import REQUEST_ID_HEADERS, TRACE_ID_HEADER
from ._rate_headers import read_rate_limit

__all__ = [
    "CallObserver",
    "CallSpan",
    "CallTracer",
    "Hook",
    "Hooks",
    "RequestEvent",
    "mask_headers",
]

logger = logging.getLogger("aftership_async")

#: Headers whose values never leave the transport (events, reprs, logs).
SECRET_HEADERS = frozenset(
    {"as-api-key", "as-signature-hmac-sha256", "as-signature-rsa-sha256", "proxy-authorization"}
)

MASK = "********"


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with every secret value replaced by asterisks."""
    return {k: MASK if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


@attrs.frozen
class RequestEvent:
    """What a hook learns about one attempt of one call.

    ``on_request``: before the attempt is sent (``status`` is None, ``headers``
    are the request's). ``on_response``: an HTTP answer arrived, success or
    error (``headers`` are the response's). ``on_retry``: the attempt failed
    and another follows after ``retry_delay`` seconds (``error`` says why).
    ``on_rate_limit_wait``: the attempt waited ``limiter_wait`` seconds for a
    rate-limit permit before being sent.
    """

    #: The method name (``get_tracking_by_id``), ``"request"`` for ``client.request``.
    operation: str
    #: ``tracking``, ``shipping`` or ``returns``.
    api: str
    method: str
    #: ``"GET /trackings/{id}"``: the rate-limit and log key.
    endpoint: str
    url: str
    #: 1 for the first try.
    attempt: int
    #: Seconds since the call started (its first attempt, waits included).
    elapsed: float
    #: Seconds this attempt waited for a rate-limit permit.
    limiter_wait: float = 0.0
    #: Request headers (``on_request``) or response headers; secrets masked.
    headers: Mapping[str, str] = attrs.field(factory=dict)
    status: int | None = None
    #: The envelope's ``meta.code``, when the body had one.
    meta_code: int | None = None
    request_id: str | None = None
    #: The ``as-trace-id`` response header, when present.
    trace_id: str | None = None
    #: Requests left in the rate-limit window (``X-RateLimit-Remaining``), when sent.
    rate_limit_remaining: int | None = None
    #: Why the attempt failed (``on_retry``, and ``on_response`` of an error answer).
    error: BaseException | None = None
    #: Seconds before the next attempt (``on_retry``).
    retry_delay: float | None = None


#: A hook: ``def hook(event): ...`` or ``async def hook(event): ...``.
Hook: TypeAlias = Callable[[RequestEvent], "Awaitable[object] | object"]


class CallSpan(Protocol):
    """One call seen by a tracer, from its first attempt to its outcome."""

    def headers(self) -> Mapping[str, str]:
        """Headers to add to every attempt (trace context: ``traceparent``...)."""
        ...

    def retry(self, event: RequestEvent) -> None:
        """An attempt failed and will be retried."""
        ...

    def end(self, event: RequestEvent, error: BaseException | None) -> None:
        """The call ended, with ``error`` or without.

        ``event`` is the last attempt's: its answer (``status``, ``meta_code``,
        ``rate_limit_remaining``...) when one came, else just the attempt.
        """
        ...


class CallTracer(Protocol):
    """Starts a :class:`CallSpan` per call (``aftership_async.otel.OpenTelemetryTracer``)."""

    def start(self, *, operation: str, api: str, method: str, endpoint: str) -> CallSpan:
        """Begin a call; the span is current while the call runs."""
        ...


def _check_hook(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"Hooks.{attribute.name} must be callable, got {type(value).__name__}")


def _check_tracer(_: Any, __: Any, value: Any) -> None:
    if value is not None and not callable(getattr(value, "start", None)):
        raise TypeError("Hooks.tracer must have a start(...) method (a CallTracer)")


@attrs.frozen
class Hooks:
    """Callables run on the request path, and a tracer around each call.

    Args:
        on_request: before each attempt is sent.
        on_response: after each HTTP answer (success or error status).
        on_retry: when a failed attempt is about to be retried.
        on_rate_limit_wait: after an attempt waited for a rate-limit permit.
        tracer: a :class:`CallTracer`, e.g. ``aftership_async.otel.OpenTelemetryTracer()``.
    """

    on_request: Hook | None = attrs.field(default=None, validator=_check_hook)
    on_response: Hook | None = attrs.field(default=None, validator=_check_hook)
    on_retry: Hook | None = attrs.field(default=None, validator=_check_hook)
    on_rate_limit_wait: Hook | None = attrs.field(default=None, validator=_check_hook)
    tracer: CallTracer | None = attrs.field(default=None, validator=_check_tracer)


async def run_hook(name: str, hook: Hook, event: RequestEvent) -> None:
    """Call ``hook`` (awaiting it if it is async); log and swallow what it raises."""
    try:
        result = hook(event)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        logger.warning(
            "hook %s raised %s for %s (%s), attempt %d; the call goes on",
            name,
            type(exc).__name__,
            event.operation,
            event.api,
            event.attempt,
            exc_info=True,
        )


#: A wait shorter than this is no wait: ``on_rate_limit_wait`` is not called.
MIN_WAIT = 0.001


class CallObserver:
    """One call followed for its hooks and tracer span (created only when hooks are set)."""

    __slots__ = (
        "_attempt_wait",
        "_hooks",
        "_last",
        "_request",
        "_span",
        "_started",
        "api",
        "attempts",
        "endpoint",
        "method",
        "operation",
        "trace_headers",
    )

    def __init__(self, hooks: Hooks, operation: str, api: str, method: str, endpoint: str) -> None:
        self._hooks = hooks
        self.operation = operation
        self.api = api
        self.method = method
        self.endpoint = endpoint
        self.attempts = 0
        self._started = time.monotonic()
        self._attempt_wait = 0.0
        self._request: Any = None
        self._last: RequestEvent | None = None
        self._span: CallSpan | None = None
        #: Headers every attempt carries for the tracer (``traceparent``...).
        self.trace_headers: Mapping[str, str] | None = None
        if hooks.tracer is not None:
            try:
                self._span = hooks.tracer.start(
                    operation=operation, api=api, method=method, endpoint=endpoint
                )
                self.trace_headers = dict(self._span.headers())
            except Exception:
                logger.warning("tracer failed to start a span for %s", operation, exc_info=True)

    def _event(self, **fields: Any) -> RequestEvent:
        request = self._request
        return RequestEvent(
            operation=self.operation,
            api=self.api,
            method=self.method,
            endpoint=self.endpoint,
            url=request.url if request is not None else "",
            attempt=self.attempts,
            elapsed=time.monotonic() - self._started,
            limiter_wait=self._attempt_wait,
            **fields,
        )

    async def attempt(self, request: Any, limiter_wait: float) -> None:
        """The attempt ``request`` (a PreparedRequest) is about to be sent."""
        self.attempts += 1
        self._request = request
        self._attempt_wait = limiter_wait
        hooks = self._hooks
        if hooks.on_rate_limit_wait is not None and limiter_wait >= MIN_WAIT:
            await run_hook("on_rate_limit_wait", hooks.on_rate_limit_wait, self._event())
        if hooks.on_request is not None:
            event = self._event(headers=mask_headers(request.headers))
            await run_hook("on_request", hooks.on_request, event)

    async def response(
        self,
        status: int,
        headers: Mapping[str, str],
        meta_code: int | None,
        error: BaseException | None,
    ) -> None:
        """An HTTP answer arrived for the current attempt."""
        lowered = {k.lower(): v for k, v in headers.items()}
        remaining = read_rate_limit(headers).remaining
        event = self._event(
            headers=mask_headers(headers),
            status=status,
            meta_code=meta_code,
            request_id=next((lowered[h] for h in REQUEST_ID_HEADERS if h in lowered), None),
            trace_id=lowered.get(TRACE_ID_HEADER),
            rate_limit_remaining=None if remaining is None else int(remaining),
            error=error,
        )
        self._last = event
        if self._hooks.on_response is not None:
            await run_hook("on_response", self._hooks.on_response, event)

    async def retry(self, error: BaseException, delay: float) -> None:
        """The current attempt failed with ``error``; the next follows in ``delay`` seconds."""
        last = self._last
        answered = last is not None and last.attempt == self.attempts
        event = (
            attrs.evolve(last, error=error, retry_delay=delay)
            if answered and last is not None
            else self._event(error=error, retry_delay=delay)
        )
        if self._span is not None:
            _safely(self._span.retry, event)
        if self._hooks.on_retry is not None:
            await run_hook("on_retry", self._hooks.on_retry, event)

    def end(self, error: BaseException | None) -> None:
        """The call is over: the tracer's span ends with its outcome."""
        if self._span is not None:
            last = self._last
            if last is None or last.attempt != self.attempts:
                # The last attempt got no answer (a timeout, a dropped connection), or
                # the call failed before its first attempt was sent.
                last = self._event(error=error)
            _safely(self._span.end, last, error)


def _safely(method: Callable[..., object], *args: object) -> None:
    try:
        method(*args)
    except Exception:
        logger.warning("tracer span %s() failed", method.__name__, exc_info=True)

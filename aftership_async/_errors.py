"""The exceptions this SDK raises, and nothing else escapes a call.

``AfterShipError`` is the root. ``APIError`` means the server answered with an
error (an HTTP error status, or Shipping's HTTP-200 business error); its
subclasses follow the HTTP status, so ``except NotFoundError`` works the same
for all three APIs. ``APIConnectionError`` and ``APITimeoutError`` mean no
usable answer arrived. ``InvalidRequestError`` is raised before the network
for arguments we can tell are wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AfterShipError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "InvalidDataError",
    "InvalidRequestError",
    "InvalidResponseError",
    "LabelAlreadyExistsError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "SessionClosedError",
    "TrackingAlreadyExistsError",
    "UnprocessableEntityError",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookVerificationError",
]


class AfterShipError(Exception):
    """Base class of every exception raised by aftership-async."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (a Celery or multiprocessing worker sends errors across processes)
        # although subclasses take keyword-only arguments; headers travel as a plain dict.
        state = {
            key: dict(value) if isinstance(value, Mapping) and key == "headers" else value
            for key, value in self.__dict__.items()
        }
        return _rebuild, (type(self), self.args, state)


def _rebuild(cls: type[AfterShipError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(AfterShipError, ValueError):
    """The client was configured wrongly (no API key, bad base URL...)."""


class InvalidRequestError(AfterShipError, ValueError):
    """An argument was rejected before anything was sent."""


class ClientClosedError(AfterShipError, RuntimeError):
    """The client was closed: it sends nothing more and opens no new session.

    Raised by a call (or a bulk run, or ``async with``) on a client after its
    ``close()``, and by a bulk run that was in progress when the client closed.
    A ``RuntimeError`` too, as aiohttp's own "Session is closed" is.
    """


class SessionClosedError(ClientClosedError):
    """The ``aiohttp.ClientSession`` passed as ``session=`` is closed.

    The client does not replace a session it was given: whoever owns it closed
    it, so the client cannot send. Pass an open session, or none (the client
    then creates and closes its own).
    """


class InvalidDataError(AfterShipError, ValueError):
    """Data given to a model's ``from_dict``/``from_json`` does not fit the model.

    Your data, not a server response (that is :class:`InvalidResponseError`):
    a missing required field, a value of the wrong type, or text that is not JSON.
    """


class APIConnectionError(AfterShipError):
    """The request could not be completed: connection refused or dropped, DNS, TLS.

    ``cause_type`` and ``cause_message`` are the underlying aiohttp/OS error's
    class name and message (with any credential masked; the exception itself is
    not chained, because aiohttp errors can carry the request and its key).
    ``attempts`` and ``elapsed`` say how many tries were made over how many
    seconds before the client gave up. ``request_sent`` is ``False`` when the
    request provably never reached AfterShip (the connection was refused, or
    DNS or TLS failed before a byte of it was written), else ``None``: it may
    have been received and acted on.
    """

    def __init__(
        self,
        message: str,
        *,
        cause_type: str | None = None,
        cause_message: str | None = None,
        request_sent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.cause_type = cause_type
        self.cause_message = cause_message
        self.request_sent = request_sent
        self.attempts = 1
        self.elapsed: float | None = None

    def gave_up(self, attempts: int, elapsed: float) -> None:
        """Record the retries behind this error, in its attributes and message."""
        self.attempts, self.elapsed = attempts, elapsed
        plural = "s" if attempts != 1 else ""
        self.args = (
            f"{self.args[0]}; gave up after {attempts} attempt{plural} over {elapsed:.1f}s",
        )


class APITimeoutError(APIConnectionError):
    """No complete response arrived within the timeout."""


class OutcomeUnknownError(APIConnectionError):
    """An operation that is not safe to repeat failed in a way that hides what happened.

    The request may have reached AfterShip and been acted on (a label bought,
    a pickup booked) although no answer says so: a timeout after sending, a
    dropped connection, a 5xx, a damaged success body. AfterShip has no
    idempotency keys, so the client did **not** send it again. Find out before
    you repeat it: ``check`` says how (for a label, look it up by its
    ``order_number`` or ``references``).

    Attributes:
        operation: the method name (``"create_label"``).
        api: ``"tracking"``, ``"shipping"`` or ``"returns"``.
        attempt: the attempt whose outcome is unknown (1 for the first).
        check: how to find out whether it took effect.
        cause: the failure itself (``APITimeoutError``, ``InternalServerError``...),
            also chained as ``__cause__``.
    """

    def __init__(
        self,
        *,
        operation: str,
        api: str,
        attempt: int,
        check: str | None,
        cause: AfterShipError,
    ) -> None:
        how = f" To find out: {check}." if check else ""
        super().__init__(
            f"{api}.{operation}: the outcome of attempt {attempt} is unknown "
            f"({type(cause).__name__}: {cause}). AfterShip may have acted on it, so it was "
            f"not sent again.{how} If a repeat is safe for your data, pass "
            "options=RequestOptions(retry_unsafe=True).",
            cause_type=type(cause).__name__,
            cause_message=str(cause),
        )
        self.operation = operation
        self.api = api
        self.attempt = attempt
        self.check = check
        self.cause = cause


class InvalidResponseError(AfterShipError):
    """A response arrived but could not be understood (bad JSON, wrong shape).

    ``status_code`` and ``headers`` describe the response; ``body`` holds at
    most the first 2 KiB of it, for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.body = body[:2048]


class WebhookError(AfterShipError):
    """A webhook delivery was rejected; nothing of it should be trusted or processed."""


class WebhookVerificationError(WebhookError):
    """The delivery is not proven to come from AfterShip, or is a stale replay.

    ``reason`` says which check failed: ``"missing"`` (no ``aftership-hmac-sha256``
    header), ``"ambiguous"`` (several different ones), ``"mismatch"`` (wrong
    signature), ``"expired"`` (``ts`` older than the tolerance) or ``"future"``
    (``ts`` further ahead than the tolerance). Answer it with HTTP 401.
    The message never contains the secret or the expected signature.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class WebhookPayloadError(WebhookError):
    """A correctly signed body that is not a valid event (not JSON, wrong shape).

    Answer it with HTTP 400. ``body`` holds at most the first 2 KiB, for diagnosis.
    """

    def __init__(self, message: str, *, body: bytes = b"") -> None:
        super().__init__(message)
        self.message = message
        self.body = body[:2048]


class APIError(AfterShipError):
    """The API answered with an error.

    Attributes:
        status_code: the HTTP status (200 for Shipping's business errors).
        code: ``meta.code`` from the envelope (e.g. 4004, 4153, 40400), if any.
        type: ``meta.type`` (e.g. ``"NotFound"``), if the API sends one.
        message: ``meta.message``, or a short description when the body had none.
        details: Shipping's ``meta.details`` / Returns' ``meta.errors`` entries.
        request_id: the server's request id header, when present.
        trace_id: the ``as-trace-id`` header, when present (quote it to AfterShip).
        headers: the response headers.
        api: ``"tracking"``, ``"shipping"`` or ``"returns"``.
        retryable: Shipping's ``meta.retryable`` flag when sent (or ``True`` for a
            code the spec declares retryable), else ``None``.
        retried_after: for an answer to a retry, the failure of the attempt
            before it (``"APITimeoutError"``), else ``None``. A refusal of a
            repeat (``TrackingAlreadyExistsError``, ``LabelAlreadyExistsError``)
            with ``retried_after`` set may refuse what the earlier attempt did.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        type: str | None = None,
        details: Sequence[Any] = (),
        request_id: str | None = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        api: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.type = type
        self.details = list(details)
        self.request_id = request_id
        self.trace_id = trace_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.api = api
        self.retryable = retryable
        self.retried_after: str | None = None

    def after_retry(self, earlier: AfterShipError) -> None:
        """Note that this answers a retry sent after ``earlier`` failed ambiguously."""
        self.retried_after = type(earlier).__name__
        self.message += (
            f" (this answered a retry after {self.retried_after}: an earlier attempt "
            "of this call may have done it)"
        )
        self.args = (self.message,)

    def __str__(self) -> str:
        parts = [f"HTTP {self.status_code}"]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.type:
            parts.append(self.type)
        text = f"{', '.join(parts)}: {self.message}"
        if self.details:
            text += f" (details: {self.details!r})"
        ids = [f"request id {self.request_id}"] if self.request_id else []
        if self.trace_id:
            ids.append(f"trace id {self.trace_id}")
        if ids:
            text += f" [{', '.join(ids)}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code}, "
            f"type={self.type!r}, message={self.message!r})"
        )


class BadRequestError(APIError):
    """HTTP 400, or a Shipping business error meaning the request was invalid."""


class TrackingAlreadyExistsError(BadRequestError):
    """Tracking meta code 4003: a tracking with this number and slug already exists.

    With ``retried_after`` set, the tracking may be the one an earlier attempt
    of the same call created (the bulk helpers resolve it to that tracking).
    """


class AuthenticationError(APIError):
    """HTTP 401: the API key is missing or invalid."""


class PermissionDeniedError(APIError):
    """HTTP 403: the key is valid but may not do this."""


class NotFoundError(APIError):
    """HTTP 404 (or Shipping's record-not-found codes): no such resource."""


class ConflictError(APIError):
    """HTTP 409: the resource is not in a state that allows this (Returns transitions)."""


class LabelAlreadyExistsError(ConflictError):
    """Shipping meta code 4801 (DUPLICATE_ORDER_NUMBER): a label has this ``order_number``.

    With ``retried_after`` set, the label may be the one an earlier attempt of
    the same ``create_label`` call bought: look it up by its ``order_number``.
    """


class UnprocessableEntityError(APIError):
    """HTTP 422: the body is well-formed but invalid; see ``details``."""


class RateLimitError(APIError):
    """HTTP 429: too many requests; ``headers`` carry ``X-RateLimit-*`` or ``RateLimit-*``."""


class InternalServerError(APIError):
    """HTTP 5xx, or a Shipping internal-error code: a server-side failure."""


STATUS_ERRORS: Mapping[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for_status(status: int) -> type[APIError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status, APIError)


# Tracebacks and reprs name the public path (``aftership_async.NotFoundError``), where users
# import them from, not the private module that defines them.
for _name in __all__:
    globals()[_name].__module__ = "aftership_async"
del _name

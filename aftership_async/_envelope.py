"""The ``{"meta": ..., "data": ...}`` envelope of each API, described as data.

The three APIs agree on the outer shape and disagree on everything else:
Tracking uses HTTP statuses plus sub-codes in ``meta.code``, Shipping answers
business errors with HTTP 200 and a high meta code, and Returns uses real
statuses with 5-digit meta codes and ``meta.errors``. Each difference is one
field of an :class:`Envelope`, declared in the API's spec and generated into
its ``ApiDescription``; :func:`unwrap` is the one function that reads them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from . import _json
from ._errors import (
    APIConnectionError,
    APIError,
    BadRequestError,
    InvalidResponseError,
    error_class_for_status,
)
from ._rate_headers import header_lookup

__all__ = ["CorruptResponseError", "Envelope", "unwrap", "unwrap_with_code"]

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid")
#: AfterShip's trace id of a response (AEV conventions, 2026-08-27; seen on live answers).
TRACE_ID_HEADER = "as-trace-id"


def response_ids(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """A response's request id (the first of :data:`REQUEST_ID_HEADERS`) and trace id."""
    header = header_lookup(headers)
    request_id = next((v for v in map(header, REQUEST_ID_HEADERS) if v is not None), None)
    return request_id, header(TRACE_ID_HEADER)


class CorruptResponseError(InvalidResponseError, APIConnectionError):
    """A success status whose body is empty, cut off or not JSON.

    The answer was damaged on its way (a proxy, a dropped connection after
    the headers), so it is a transport fault: it is an
    :class:`APIConnectionError` too and is retried like a dropped connection.
    Once retries are spent it reaches the caller, who can catch it as either
    class.
    """


CorruptResponseError.__module__ = "aftership_async"  # the public path, as the other errors


@attrs.frozen
class Envelope:
    """How one API reports success and failure inside its JSON envelope.

    Each API's envelope is generated from its spec's ``x-aftership.errors``
    block (``ApiDescription.envelope``): this module names no API's codes.
    """

    name: str
    #: A meta code at or above this marks an error even under HTTP 200 (Shipping).
    business_error_min_code: int | None = None
    #: The ``meta`` key holding a list of error details, if the API has one.
    details_key: str | None = None
    #: Meta codes whose exception class is more precise than the HTTP status's.
    code_errors: Mapping[int, type[APIError]] = attrs.field(factory=dict)
    #: The class for a business error whose code is not in ``code_errors``.
    default_business_error: type[APIError] = BadRequestError
    #: Meta codes that say the request may be retried (when ``meta.retryable`` is absent).
    retryable_codes: frozenset[int] = frozenset()
    #: Business codes that are a success whose record is still pending (Shipping 3001,
    #: ``pending-codes``): the data is returned, for the caller to poll the record.
    pending_codes: frozenset[int] = frozenset()


def unwrap(envelope: Envelope, status: int, headers: Mapping[str, str], body: bytes) -> Any:
    """The ``data`` member of a successful response, or raise (:func:`unwrap_with_code`)."""
    return unwrap_with_code(envelope, status, headers, body)[0]


def unwrap_with_code(
    envelope: Envelope, status: int, headers: Mapping[str, str], body: bytes
) -> tuple[Any, int | None]:
    """Return the ``data`` member of a successful response and its meta code, or raise.

    Raises an :class:`APIError` subclass for an error answer (chosen by meta
    code first, then by HTTP status) and :class:`InvalidResponseError` for a
    success that is not a JSON envelope: :class:`CorruptResponseError`, which
    the retry policy retries, when the body is empty or not JSON at all.
    """
    payload: Any
    try:
        payload = _json.loads(body) if body else None
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError; deep nesting
        payload = _NOT_JSON
    meta = payload.get("meta") if isinstance(payload, dict) else None
    if not isinstance(meta, dict):
        meta = {}
    code = meta.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        code = None

    business_error = (
        envelope.business_error_min_code is not None
        and code is not None
        and code >= envelope.business_error_min_code
        and code not in envelope.pending_codes
    )
    if status >= 300 or status < 200 or business_error:
        raise _build_error(envelope, status, headers, body, payload, meta, code, business_error)

    if not isinstance(payload, dict) or "data" not in payload:
        if payload is _NOT_JSON or not body:
            what = "is not JSON" if body else "is empty"
            raise CorruptResponseError(
                f"{envelope.name} API answered HTTP {status} but the body {what}",
                status_code=status,
                headers=headers,
                body=body,
            )
        raise InvalidResponseError(
            f"{envelope.name} API answered HTTP {status} but the body has no 'data' member",
            status_code=status,
            headers=headers,
            body=body,
        )
    return payload["data"], code


_NOT_JSON = object()


def _build_error(
    envelope: Envelope,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    payload: Any,
    meta: Mapping[str, Any],
    code: int | None,
    business_error: bool,
) -> APIError:
    by_code = envelope.code_errors.get(code) if code is not None else None
    if business_error and 200 <= status < 300:  # under HTTP 2xx: the code says what it is
        cls = by_code or envelope.default_business_error
    else:
        # An error status is the typed error of that status; a code's class is used only
        # where it refines it (4003 TrackingAlreadyExistsError is a BadRequestError).
        cls = error_class_for_status(status)
        if by_code is not None and issubclass(by_code, cls):
            cls = by_code

    message = meta.get("message")
    if not isinstance(message, str) or not message:
        message = _describe_body(status, body, payload)
    details: Any = meta.get(envelope.details_key) if envelope.details_key else None
    if not isinstance(details, list):
        details = []
    error_type = meta.get("type")
    retryable = meta.get("retryable")
    if not isinstance(retryable, bool) and code in envelope.retryable_codes:
        retryable = True
    request_id, trace_id = response_ids(headers)
    return cls(
        message,
        status_code=status,
        code=code,
        type=error_type if isinstance(error_type, str) else None,
        details=details,
        request_id=request_id,
        trace_id=trace_id,
        headers=headers,
        api=envelope.name,
        retryable=retryable if isinstance(retryable, bool) else None,
    )


def _describe_body(status: int, body: bytes, payload: Any) -> str:
    if not body:
        return f"HTTP {status} with an empty body"
    if payload is _NOT_JSON:
        snippet = body[:120].decode("utf-8", "replace").strip().replace("\n", " ")
        return f"HTTP {status} with a non-JSON body: {snippet!r}"
    return f"HTTP {status} without a meta message"

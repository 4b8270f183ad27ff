"""Each API's ``{"meta": ..., "data": ...}`` envelope, for successes and failures.

The three APIs disagree on how errors look, and a client is only tested if
the fake disagrees the same way:

* Tracking: real HTTP statuses, ``meta.code`` is the status or a 4xxx
  sub-code (4003, 4004, ...), ``meta.type`` names the class of error.
* Shipping: business errors are **HTTP 200** with ``meta.code`` >= 3000 and
  ``meta.details``; only 401/429/5xx use real statuses. ``meta.retryable``.
* Returns: real statuses with 5-digit codes (40400, 40900, 42200, ...),
  ``meta.type`` and ``meta.errors[{path, info}]``; ``data`` is null.

Handlers raise :class:`Failure` built by the helpers below; the server turns
it into bytes with :func:`render_failure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "Failure",
    "Pending",
    "invalid_json",
    "method_not_allowed",
    "not_found",
    "rate_limited",
    "refused",
    "render_failure",
    "render_success",
    "route_not_found",
    "server_error",
    "unauthorized",
    "validation_failed",
]

_TRACKING_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "TooManyRequests",
}

_RETURNS_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
}

_RETURNS_SUCCESS = {
    200: (20000, "OK", "The request was successfully processed by AfterShip."),
    201: (20100, "Created", "The request has been fulfilled and resulted in a new resource."),
    202: (20200, "Accepted", "The request has been accepted for processing."),
}


class Failure(Exception):
    """An error answer, already in the terms of one API.

    ``status`` is the HTTP status (200 for Shipping business errors), ``code``
    the ``meta.code``; ``problems`` are ``(path, info)`` pairs sent as
    Shipping's ``details`` or Returns' ``errors``.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        type: str | None = None,
        problems: Sequence[tuple[str, str]] = (),
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type
        self.problems = list(problems)
        self.retryable = retryable


class Pending:
    """A handler's answer whose record is not finished: sent with the API's pending code.

    The code is the spec's ``x-aftership.errors.pending-codes`` (Shipping 3001): a
    success whose data is the record to poll.
    """

    def __init__(self, data: Any) -> None:
        self.data = data


def render_success(api: str, status: int, data: Any, code: int | None = None) -> dict[str, Any]:
    """The body of a successful answer (``code``: a pending code instead of OK)."""
    if api == "shipping":
        if code is not None:
            return {"meta": {"code": code, "message": "PENDING", "details": []}, "data": data}
        return {"meta": {"code": 200, "message": "OK", "details": []}, "data": data}
    if api == "returns":
        code, kind, message = _RETURNS_SUCCESS.get(status, _RETURNS_SUCCESS[200])
        return {"meta": {"code": code, "type": kind, "message": message}, "data": data}
    return {"meta": {"code": status}, "data": data}


def render_failure(api: str | None, failure: Failure) -> dict[str, Any]:
    """The body of an error answer."""
    problems = [{"path": path, "info": info} for path, info in failure.problems]
    if api == "shipping":
        meta: dict[str, Any] = {
            "code": failure.code,
            "message": failure.message,
            "details": problems,
            "retryable": failure.retryable,
        }
        return {"meta": meta, "data": {}}
    if api == "returns":
        meta = {
            "code": failure.code,
            "type": failure.type or _RETURNS_TYPES.get(failure.status, "InternalError"),
            "message": failure.message,
        }
        if problems:
            meta["errors"] = problems
        return {"meta": meta, "data": None}
    if api == "tracking":
        meta = {
            "code": failure.code,
            "message": failure.message,
            "type": failure.type or _TRACKING_TYPES.get(failure.status, "InternalError"),
        }
        return {"meta": meta, "data": {}}
    return {"meta": {"code": failure.code, "message": failure.message}, "data": None}


def _describe(problems: Sequence[tuple[str, str]]) -> str:
    return "; ".join(info for _, info in problems)


def validation_failed(api: str, problems: Sequence[tuple[str, str]]) -> Failure:
    """The request does not match the spec: each API's validation error."""
    if api == "shipping":
        return Failure(200, 4104, "The request was invalid or cannot be otherwise served.",
                       problems=problems)  # fmt: skip
    if api == "returns":
        return Failure(422, 42200, "Unprocessable entity", problems=problems)
    missing = [p for p in problems if p[1].endswith("is a required field")]
    if missing:
        code = 4007 if missing[0][0] == "tracking_number" else 4009
        return Failure(400, code, f"Required field missing: {_describe(missing)}")
    return Failure(400, 4008, f"Invalid value: {_describe(problems)}")


def invalid_json(api: str) -> Failure:
    """The body is not JSON."""
    if api == "shipping":
        return Failure(200, 4109, "Invalid JSON", problems=[("body", "body is not valid JSON")])
    if api == "returns":
        return Failure(422, 42200, "Unprocessable entity",
                       problems=[("body", "body is not valid JSON")])  # fmt: skip
    return Failure(400, 4001, "Invalid JSON data.")


#: Per API, meta.code -> (HTTP status, message template) of the business refusals the fake
#: sends. Tracking's is the reference's error table (tracking-api.md §3a); messages paraphrase.
MESSAGES: dict[str, dict[int, tuple[int, str]]] = {
    "tracking": {
        404: (404, "{what} does not exist."),
        4003: (400, "Tracking already exists ({what})."),
        4004: (404, "Tracking does not exist."),
        4005: (400, "The value of tracking_number is invalid."),
        4007: (400, "Tracking number is required."),
        4008: (400, "The value of {field} is invalid."),
        4009: (400, "The value of {field} is required."),
        4010: (400, "The value of {field} is invalid: {value!r}."),
        4012: (400, "Cannot detect courier. Activate courier or specify slug."),
        4013: (400, "Retrack is not allowed. You can only retrack an inactive tracking."),
        4016: (400, "Retrack is not allowed. You can only retrack each tracking {limit} times."),
    },
    "shipping": {
        4104: (200, "The request was invalid or cannot be otherwise served."),
        4722: (200, "The {what} has already been cancelled."),
        4724: (200, "The {what} has been manifested and cannot be cancelled."),
        4725: (200, "There are no shipments to manifest."),
        4801: (200, "{what}."),
    },
    "returns": {
        40000: (400, "Bad request"),
        40900: (409, "Approval status can only be changed from {sources} to {target}"),
        42200: (422, "Cannot remove more items than available in the return"),
        42213: (422, "Exceeds the acceptable return item quantity"),
        42225: (422, "Return item not exists"),
        42247: (422, "Grading quantity should not exceed the receive item quantity"),
    },
}


class _Details(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return key


def refused(api: str, code: int | None, **details: object) -> Failure:
    """A business rule's refusal with ``code`` (a row of :data:`MESSAGES`), in ``api``'s terms."""
    if code is None:
        code = {"shipping": 4104, "returns": 40000}.get(api, 4008)
        details.setdefault("field", "state")
    status, template = MESSAGES[api].get(code, (400, "The request was refused ({what})."))
    return Failure(status, code, template.format_map(_Details(details)))


def not_found(api: str, message: str, code: int | None = None) -> Failure:
    """An id that does not exist."""
    if api == "shipping":
        return Failure(200, code or 4153, message)
    if api == "returns":
        return Failure(404, code or 40400, message)
    return Failure(404, code or 4004, message)


def route_not_found(api: str | None) -> Failure:
    """A path that no operation serves."""
    if api == "returns":
        return Failure(404, 40400, "The requested resource does not exist.")
    return Failure(404, 404, "The URI requested is invalid or the resource does not exist.")


def method_not_allowed(api: str) -> Failure:
    """A path that exists, with a method none of its operations takes."""
    message = "The method is not allowed for the requested URL."
    if api == "returns":
        return Failure(405, 40500, message)
    return Failure(405, 405, message)


def unauthorized(api: str | None, message: str = "Invalid API key.") -> Failure:
    """Missing or wrong ``as-api-key`` (or request signature)."""
    if api == "returns":
        return Failure(401, 40100, message)
    return Failure(401, 401, message)


def rate_limited(api: str | None) -> Failure:
    """Over the per-endpoint limit."""
    message = "You have exceeded the API call rate limit. Please retry again at X-RateLimit-Reset."
    if api == "returns":
        return Failure(429, 42900, "Too many requests")
    return Failure(429, 429, message, retryable=True)


def server_error(api: str | None, status: int) -> Failure:
    """A 5xx answer."""
    message = {
        500: "Something went wrong on AfterShip's end.",
        503: "Service temporarily unavailable.",
        504: "Gateway timeout.",
    }.get(status, "Server error.")
    if api == "returns":
        return Failure(status, status * 100, message, type="InternalError")
    return Failure(status, status, message, type="InternalError", retryable=True)

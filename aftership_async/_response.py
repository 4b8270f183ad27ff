"""Response metadata on success: ``client.<api>.with_raw_response.<method>(...)``.

Every generated method returns the typed ``data`` of its response. When a
caller also wants what came with it (headers, status, request id, the
rate-limit state), the same method called through ``with_raw_response``
returns an :class:`APIResponse`, whose :meth:`~APIResponse.parse` gives the
typed model. The wrapper is generic over the method's signature, so the
generated ``…WithRawResponse`` classes are one line per method and keep every
parameter's type.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, cast

import attrs

from . import _json
from ._envelope import response_ids
from ._rate_headers import read_rate_limit

__all__ = ["APIResponse", "RateLimitState", "raw_response"]

T = TypeVar("T")
P = ParamSpec("P")


#: Set while a ``with_raw_response`` call runs: ``APIGroup._call`` then answers an APIResponse.
RAW_RESPONSE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aftership_async_raw_response", default=False
)


@attrs.frozen
class RateLimitState:
    """A response's rate-limit headers (None where one was absent or unreadable).

    Read by the one header parser (:func:`~aftership_async._rate_headers.read_rate_limit`):
    ``X-RateLimit-*`` or ``RateLimit-*``, a reset in Unix seconds, Unix
    milliseconds or seconds from now, and ``Retry-After``.
    """

    #: Requests allowed per window for this endpoint.
    limit: int | None
    #: Requests left in the current window.
    remaining: int | None
    #: When the window resets, Unix seconds (whatever unit the server sent it in).
    reset: float | None
    #: ``Retry-After`` in seconds (a number or an HTTP-date), when sent.
    retry_after: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitState:
        info = read_rate_limit(headers)
        return cls(
            limit=int(info.limit) if info.limit is not None else None,
            remaining=int(info.remaining) if info.remaining is not None else None,
            reset=info.reset,
            retry_after=info.retry_after,
        )


class APIResponse(Generic[T]):
    """A successful response: its metadata now, the typed data on :meth:`parse`.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers (case-insensitive mapping).
        request_id: the server's request id header, when there is one.
        trace_id: the ``as-trace-id`` header, when there is one (quote it to AfterShip).
        rate_limit: the endpoint's rate-limit state after this request.
        content: the raw body bytes.
        meta_code: the envelope's ``meta.code`` (a property, read from ``content``).
    """

    __slots__ = (
        "_parse",
        "_parsed",
        "content",
        "headers",
        "rate_limit",
        "request_id",
        "status_code",
        "trace_id",
    )

    def __init__(
        self,
        *,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        parse: Callable[[], T],
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request_id, self.trace_id = response_ids(headers)
        self.rate_limit = RateLimitState.from_headers(headers)
        self._parse = parse
        self._parsed: list[T] = []

    @property
    def meta_code(self) -> int | None:
        """The envelope's ``meta.code`` (Shipping: 200, or 3001 for a record still pending).

        Read from :attr:`content` when asked; None when the body has none.
        """
        try:
            payload = _json.loads(self.content)
        except (ValueError, RecursionError):
            return None
        meta = payload.get("meta") if isinstance(payload, dict) else None
        code = meta.get("code") if isinstance(meta, dict) else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    def parse(self) -> T:
        """The response's ``data`` as the method's typed model (decoded once, then cached).

        Raises :class:`InvalidResponseError` when the data does not fit the model.
        """
        if not self._parsed:
            self._parsed.append(self._parse())
        return self._parsed[0]

    def __repr__(self) -> str:
        return (
            f"<APIResponse status_code={self.status_code} request_id={self.request_id!r} "
            f"trace_id={self.trace_id!r} "
            f"rate_limit={self.rate_limit}>"
        )


def raw_response(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    """``method`` (a generated API method), answering an :class:`APIResponse` instead."""

    @functools.wraps(method)
    async def with_raw_response(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        token = RAW_RESPONSE.set(True)
        try:
            result: Any = await method(*args, **kwargs)
        finally:
            RAW_RESPONSE.reset(token)
        if not isinstance(result, APIResponse):  # an alias or wrapper that did not reach _call
            raise TypeError(f"{method.__qualname__} did not produce a raw response")
        return cast(APIResponse[T], result)

    return with_raw_response

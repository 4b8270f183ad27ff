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
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, cast

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._envelope import REQUEST_ID_HEADERS

__all__ = ["APIResponse", "RateLimitState", "raw_response"]

T = TypeVar("T")
P = ParamSpec("P")


#: Set while a ``with_raw_response`` call runs: ``APIGroup._call`` then answers an APIResponse.
RAW_RESPONSE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aftership_async_raw_response", default=False
)


@attrs.frozen
class RateLimitState:
    """The ``X-RateLimit-*`` headers of a response (None where one was absent or unreadable)."""

    #: Requests allowed per window for this endpoint.
    limit: int | None
    #: Requests left in the current window.
    remaining: int | None
    #: When the window resets, Unix seconds.
    reset: float | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitState:
        return cls._from_lookup(_lookup(headers))

    @classmethod
    def _from_lookup(cls, header: Callable[[str], str | None]) -> RateLimitState:
        def number(*names: str) -> float | None:
            for name in names:
                text = header(name)
                if text is None:
                    continue
                try:
                    value = float(text)
                except ValueError:
                    continue
                if math.isfinite(value):
                    return value
            return None

        limit = number("x-ratelimit-limit", "ratelimit-limit")
        remaining = number("x-ratelimit-remaining", "ratelimit-remaining")
        return cls(
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining) if remaining is not None else None,
            reset=number("x-ratelimit-reset", "ratelimit-reset"),
        )


def _lookup(headers: Mapping[str, str]) -> Callable[[str], str | None]:
    """A header's value by lower-case name (the last one when a name repeats).

    The transport's headers are a case-insensitive multidict, read as they are;
    any other mapping is lower-cased once.
    """
    if isinstance(headers, (CIMultiDictProxy, CIMultiDict)):

        def get(name: str) -> str | None:
            values = headers.getall(name, None)
            return values[-1] if values else None

        return get
    return {k.lower(): v for k, v in headers.items()}.get


class APIResponse(Generic[T]):
    """A successful response: its metadata now, the typed data on :meth:`parse`.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers (case-insensitive mapping).
        request_id: the server's request id header, when there is one.
        rate_limit: the endpoint's rate-limit state after this request.
        content: the raw body bytes.
    """

    __slots__ = (
        "_parse",
        "_parsed",
        "content",
        "headers",
        "rate_limit",
        "request_id",
        "status_code",
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
        header = _lookup(headers)
        self.request_id: str | None = next(
            (value for value in map(header, REQUEST_ID_HEADERS) if value is not None), None
        )
        self.rate_limit = RateLimitState._from_lookup(header)
        self._parse = parse
        self._parsed: list[T] = []

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

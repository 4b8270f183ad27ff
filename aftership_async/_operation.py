"""What the transport knows of one operation: where it lives and whether a repeat is safe.

Each generated method passes one :class:`Operation` constant, written by codegen
from the spec's ``x-aftership`` declaration of that operation; this module
holds no operation of its own. The retry rule that reads it is in
:meth:`Transport.request <aftership_async._transport.Transport.request>`:

``idempotent``
    a repeat changes nothing more: retried after any retryable failure.
``natural-key``
    a repeat is refused with a known code (``key_code``), so it is retried like
    an idempotent call, and a retry that meets the refusal says an earlier
    attempt may have done it. The key is the body fields ``key_fields``; a call
    without them is ``unsafe``. With no ``key_fields`` the key is the resource
    named by the path.
``unsafe``
    a repeat may act twice (buy a second label, book a second pickup): sent
    again only when the request provably never reached AfterShip; after an
    ambiguous failure the caller gets ``OutcomeUnknownError`` with ``check``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

import attrs

__all__ = ["Operation", "RetrySafety"]

RetrySafety: TypeAlias = Literal["idempotent", "natural-key", "unsafe"]


@attrs.frozen
class Operation:
    """One operation of an API, as its spec declares it (a generated constant)."""

    #: The method name (``create_label``).
    name: str
    method: str
    #: The path template under the API's base URL (``/labels/{id}``).
    path: str
    retry: RetrySafety
    #: Body fields that form the natural key (``natural-key`` only).
    key_fields: tuple[str, ...] = ()
    #: The meta code a repeat is refused with (``natural-key`` only).
    key_code: int | None = None
    #: How a caller finds out what happened when the outcome is unknown.
    check: str | None = None
    #: (path parameter, regular expression) pairs: a value that does not match is refused
    #: before the network (the spec's ``schema.pattern`` of the parameter).
    path_patterns: tuple[tuple[str, str], ...] = ()
    #: Query parameters the transport writes in a declared wire format, by JSON name
    #: (``"date-time-seconds"``: the spec's pattern for a date-time query parameter).
    query_formats: Mapping[str, str] = attrs.field(factory=dict)
    #: ``"POST /labels"``: the rate-limit and log key.
    endpoint: str = attrs.field(init=False)

    @endpoint.default
    def _endpoint(self) -> str:
        return f"{self.method} {self.path}"

    def safety(self, body: Any) -> RetrySafety:
        """The rule for one call: ``natural-key`` without its key fields set is ``unsafe``."""
        if self.retry != "natural-key" or not self.key_fields:
            return self.retry
        if isinstance(body, Mapping) and all(
            body.get(name) not in (None, "") for name in self.key_fields
        ):
            return "natural-key"
        return "unsafe"

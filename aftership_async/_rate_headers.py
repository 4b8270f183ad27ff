"""The one reader of rate-limit headers, for every API and every consumer.

AfterShip's APIs do not agree on how they spell their rate-limit headers:
Tracking sends ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``, while the
other APIs' rate-limit pages name ``RateLimit-Limit`` / ``-Remaining`` /
``-Reset`` (no ``X-``), and a 429 may carry ``Retry-After``. Nor is the reset's
unit settled (the legacy Postmen SDKs read Shipping's as milliseconds in
Python, as seconds in JavaScript). So :func:`read_rate_limit` accepts all of
them, whatever the API, and the retry policy's 429 delay, both limiters and
``APIResponse.rate_limit`` read the headers through it and nothing else:

* names are case-insensitive; for each of limit, remaining and reset the
  ``X-RateLimit-`` spelling is read first, then ``RateLimit-``; a repeated
  header counts by its last value; a value that is not a finite, non-negative
  number is ignored (as if absent);
* a reset is told apart by its magnitude: at least ``10**11`` is Unix
  **milliseconds** (``10**11`` seconds would be the year 5138), at least
  ``10**9`` is Unix **seconds** (``10**9`` is 2001-09-09; no window lasts 31
  years), below that it is **seconds from now** (delta-seconds, as the IETF
  ``RateLimit-Reset`` draft has it). :attr:`RateLimitHeaders.reset` is always
  Unix seconds;
* ``Retry-After`` is delta-seconds (a finite, non-negative number) or an
  HTTP-date (one in the past means now).

:meth:`RateLimitHeaders.wait` is the one rule for how long the headers ask a
client to hold off.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "MILLISECONDS_FROM",
    "UNIX_SECONDS_FROM",
    "RateLimitHeaders",
    "header_lookup",
    "read_rate_limit",
    "reset_time",
    "retry_after_seconds",
]

#: A reset at or above this is Unix milliseconds.
MILLISECONDS_FROM = 1e11
#: A reset at or above this (and below :data:`MILLISECONDS_FROM`) is Unix seconds;
#: below it, seconds from now.
UNIX_SECONDS_FROM = 1e9

#: The shortest wait taken from a reset: the window ends at the next whole second,
#: and a reset already past still means "this window is spent".
MIN_RESET_WAIT = 0.05

_PREFIXES = ("x-ratelimit-", "ratelimit-")


@attrs.frozen
class RateLimitHeaders:
    """What a response's rate-limit headers say (None where a header is absent or unreadable)."""

    #: Requests allowed per window.
    limit: float | None = None
    #: Requests left in the current window.
    remaining: float | None = None
    #: When the window resets, Unix seconds (from seconds, milliseconds or a delta).
    reset: float | None = None
    #: ``Retry-After`` in seconds from when the response was read.
    retry_after: float | None = None

    @property
    def exhausted(self) -> bool:
        """Whether the response says nothing remains in the window."""
        return self.remaining is not None and self.remaining <= 0

    def wait(self, now: float, *, refused: bool = False) -> float | None:
        """Seconds the server asks a client to hold off, or None when it asks nothing.

        Once nothing remains in the window (``remaining`` 0, or ``refused``: the
        request was answered 429) and the reset is known: until the reset, at
        least :data:`MIN_RESET_WAIT` (the window's end is exact, where
        ``Retry-After`` is rounded up to whole seconds). Otherwise
        ``Retry-After`` when sent. ``now`` is :func:`time.time`.
        """
        if (refused or self.exhausted) and self.reset is not None:
            return max(MIN_RESET_WAIT, self.reset - now)
        return self.retry_after


def read_rate_limit(headers: Mapping[str, str], now: float | None = None) -> RateLimitHeaders:
    """Read the rate-limit headers of a response (``now``: :func:`time.time` by default)."""
    header = header_lookup(headers)
    moment = time.time() if now is None else now

    def number(field: str) -> float | None:
        for prefix in _PREFIXES:
            value = _number(header(prefix + field))
            if value is not None:
                return value
        return None

    reset = number("reset")
    return RateLimitHeaders(
        limit=number("limit"),
        remaining=number("remaining"),
        reset=None if reset is None else reset_time(reset, moment),
        retry_after=retry_after_seconds(header("retry-after"), moment),
    )


def reset_time(value: float, now: float) -> float:
    """A reset header's value as Unix seconds, its unit told by its magnitude."""
    if value >= MILLISECONDS_FROM:
        return value / 1000
    if value >= UNIX_SECONDS_FROM:
        return value
    return now + value


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` value; None when absent or not a sane wait.

    A number must be finite and not negative (``nan``, ``inf`` and ``-1`` are
    ignored, not read as "at once"); an HTTP-date in the past means now.
    """
    if value is None or not value.strip():
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        float(value)
        return None  # a number, but not a sane one
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def header_lookup(headers: Mapping[str, str]) -> Callable[[str], str | None]:
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


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None

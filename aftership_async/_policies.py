"""Request policies around the wire: retries with backoff, rate limits, a concurrency cap.

They sit in :meth:`Transport.request <aftership_async._transport.Transport.request>`
and know nothing about specific operations: the retry policy looks at the
error and the response headers, the limiter at the endpoint key.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from ._errors import (
    AfterShipError,
    APIConnectionError,
    APIError,
    RateLimitError,
)

__all__ = [
    "Limiter",
    "RateLimiter",
    "RetryPolicy",
    "bulk_traffic",
    "is_bulk_traffic",
    "retryable",
]


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before resending a failed request.

    Retryable failures: 429 answers, 5xx answers and errors the server marks
    retryable (``meta.retryable``, or a code the spec declares retryable),
    timeouts, dropped connections, and success answers whose body is empty,
    cut off or not JSON (a transport fault, like a dropped connection).
    A wait honours ``Retry-After`` and ``X-RateLimit-Reset`` when the server
    sends them, else grows exponentially with jitter. ``max_attempts`` counts
    the first try; ``deadline`` bounds the whole call, waits and the attempt
    in flight included (an attempt's timeout is cut to what is left).

    Whether a retryable failure is retried also depends on the operation's
    declared retry safety (``idempotent``, ``natural-key``, ``unsafe``): an
    ``unsafe`` operation, such as buying a label without an ``order_number``,
    is sent again only when the request provably never reached AfterShip (a
    refused connection, a DNS or TLS failure, a 429). See the README's
    "Retries and safety".
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    deadline: float = 60.0

    def delay(self, error: AfterShipError, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.max_attempts or not retryable(error):
            return None
        hinted = _server_hint(error)
        if hinted is not None:
            return hinted
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + rng.random() / 2)  # "equal jitter": never a zero wait


NO_RETRY = RetryPolicy(max_attempts=1)


def retryable(error: AfterShipError) -> bool:
    """Whether ``error`` is a failure worth another attempt of an idempotent call."""
    if isinstance(error, (RateLimitError, APIConnectionError)):
        return True
    if isinstance(error, APIError):
        if error.retryable is not None:
            return error.retryable
        return error.status_code >= 500
    return False


def _server_hint(error: AfterShipError) -> float | None:
    if not isinstance(error, APIError):
        return None
    headers = error.headers
    retry_after = _retry_after(_header(headers, "retry-after"))
    if retry_after is not None:
        return retry_after
    if error.status_code == 429:
        reset = _header_float(headers, "x-ratelimit-reset")
        if reset is not None and math.isfinite(reset):
            # A Unix time in seconds; the window ends at the next whole second.
            return max(0.05, reset - time.time())
    return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` value; None when absent or not a sane wait.

    A number must be finite and not negative (``nan``, ``inf`` and ``-1`` are
    ignored, not read as "at once"); an HTTP date in the past means now.
    """
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, OverflowError):
            return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by lower-case name, from a case-insensitive or a plain mapping."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = _header(headers, name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


RateLimitSetting = Literal["documented"] | float | Mapping[str, float] | None


@runtime_checkable
class Limiter(Protocol):
    """The limiter seam: what :meth:`Transport.send` needs from a rate limiter.

    :class:`RateLimiter` (in this process) and ``RedisRateLimiter`` (one budget
    for every process and host) implement it; pass either as
    ``AfterShip(rate_limit=...)``.
    """

    @property
    def setting(self) -> RateLimitSetting:
        """The configured rates; ``None`` turns limiting off (``acquire`` is not called)."""
        ...

    async def acquire(self, key: str, endpoint: str, documented: float) -> None:
        """Wait for a permit to send one request to ``key`` (``"<api> <METHOD> <path>"``)."""
        ...

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        """Learn from a response's ``X-RateLimit-*`` headers (a 429's included)."""
        ...


#: What ``AfterShip(rate_limit=...)`` takes: a setting, or a limiter (``RedisRateLimiter``).
RateLimit: TypeAlias = RateLimitSetting | Limiter


def make_limiter(rate_limit: RateLimit) -> Limiter:
    """The limiter itself when given one, else an in-process :class:`RateLimiter`."""
    if isinstance(rate_limit, Limiter):
        return rate_limit
    return RateLimiter(rate_limit)


def configured_rate(setting: RateLimitSetting, endpoint: str, documented: float) -> float | None:
    """Requests/second for an endpoint under ``setting``; ``None`` when limiting is off."""
    if setting is None:
        return None
    if setting == "documented":
        return documented
    if isinstance(setting, Mapping):
        return float(setting.get(endpoint, documented))
    return float(setting)


_bulk: ContextVar[bool] = ContextVar("aftership_async_bulk_traffic", default=False)


@contextlib.contextmanager
def bulk_traffic(bulk: bool = True) -> Iterator[None]:
    """Mark the requests made inside the block (and in tasks it starts) as bulk traffic.

    A shared limiter (``RedisRateLimiter``) gives bulk traffic at most its
    ``share`` of each endpoint's budget, keeping the rest for single calls.
    ``client.bulk`` helpers (and so the CLI) mark their requests themselves;
    use this for your own batch loops. The in-process limiter ignores it.
    """
    token = _bulk.set(bulk)
    try:
        yield
    finally:
        _bulk.reset(token)


def is_bulk_traffic() -> bool:
    """True inside :func:`bulk_traffic` (and in ``client.bulk`` helpers)."""
    return _bulk.get()


#: No permit is issued in the last this-many seconds of a wall-clock second:
#: a request sent then could reach the server after its window has turned and
#: be counted in the next one, which may already be full.
WINDOW_MARGIN = 0.1


class _Bucket:
    """Evenly spaced permits, and never more than ``rate`` per wall-clock second.

    AfterShip counts requests in fixed one-second windows (``X-RateLimit-Reset``
    is a Unix second). Even spacing alone does not respect them: with exactly
    ``rate`` permits a second there is no slack, and a request that reaches
    the server a few milliseconds late (a busy event loop, a slow connect)
    lands in the next window on top of that window's own ``rate``. So permits
    are counted per wall-clock second and none is issued in the window's last
    :data:`WINDOW_MARGIN` seconds; the spacing is tightened by the same
    fraction so that a saturated endpoint still gets its full ``rate``.
    """

    __slots__ = ("blocked_until", "count", "rate", "stamp", "tokens", "window")

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = 1.0
        self.stamp = time.monotonic()
        self.blocked_until = 0.0
        self.window = 0
        self.count = 0

    def take_in_window(self, wall: float) -> float:
        """Count a permit in this one-second window; else how long until the next one."""
        window = int(wall)
        if self.rate >= 1 and wall - window >= 1 - WINDOW_MARGIN:
            return window + 1 - wall
        if window != self.window:
            self.window, self.count = window, 0
        if self.count < max(1, int(self.rate)):
            self.count += 1
            return 0.0
        return window + 1 - wall

    def reserve(self, now: float) -> float:
        """Take a token; return how long the caller must wait for it."""
        rate = self.rate / (1 - WINDOW_MARGIN) if self.rate >= 1 else self.rate
        self.tokens = min(1.0, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        self.tokens -= 1.0
        wait = 0.0 if self.tokens >= 0 else -self.tokens / rate
        return max(wait, self.blocked_until - now)


class RateLimiter:
    """Client-side limits per endpoint, tuned by the server's ``X-RateLimit-*`` headers.

    ``setting``: ``"documented"`` uses each endpoint's documented limit (from
    the spec), a number applies that many requests/second to every endpoint,
    a mapping sets limits by endpoint key (``"GET /trackings/{id}"``; others
    documented), ``None`` turns limiting off. When a response says
    ``X-RateLimit-Remaining: 0``, the endpoint waits until ``X-RateLimit-Reset``;
    a different ``X-RateLimit-Limit`` replaces the configured rate.
    """

    def __init__(self, setting: RateLimitSetting = "documented") -> None:
        self.setting = setting
        self._buckets: dict[str, _Bucket] = {}
        self.waited = 0.0

    async def acquire(self, key: str, endpoint: str, documented: float) -> None:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = configured_rate(self.setting, endpoint, documented)
            if rate is None or rate <= 0:
                return
            bucket = self._buckets[key] = _Bucket(rate)
        wait = bucket.reserve(time.monotonic())
        while True:
            if wait > 0:
                self.waited += wait
                await asyncio.sleep(wait)
            wait = bucket.take_in_window(time.time())
            if wait <= 0:
                return

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        bucket = self._buckets.get(key)
        if bucket is None:
            return
        limit = _header_float(headers, "x-ratelimit-limit")
        if limit and limit > 0 and limit != bucket.rate:
            bucket.rate = limit
        remaining = _header_float(headers, "x-ratelimit-remaining")
        reset = _header_float(headers, "x-ratelimit-reset")
        if remaining is not None and remaining <= 0 and reset is not None:
            until = time.monotonic() + max(0.0, min(reset - time.time(), 60.0))
            bucket.blocked_until = max(bucket.blocked_until, until)

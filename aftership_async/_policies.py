"""Request policies around the wire: retries with backoff, rate limits, a concurrency cap.

They sit in :meth:`Transport.request <aftership_async._transport.Transport.request>`
and know nothing about specific operations: the retry policy looks at the
error and the response headers, the limiter at the endpoint key.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from ._errors import (
    AfterShipError,
    APIConnectionError,
    APIError,
    ConfigurationError,
    RateLimitError,
)
from ._rate_headers import read_rate_limit

__all__ = [
    "Limiter",
    "Permit",
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
    A wait follows what the server's headers ask for when they ask
    (:meth:`~aftership_async._rate_headers.RateLimitHeaders.wait`: a 429 waits
    for the window's reset, ``X-RateLimit-Reset`` or ``RateLimit-Reset``, else
    ``Retry-After``), else grows exponentially with jitter. ``max_attempts`` counts
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
    """The wait the answer's headers ask for (:meth:`RateLimitHeaders.wait`), if any."""
    if not isinstance(error, APIError):
        return None
    return read_rate_limit(error.headers).wait(time.time(), refused=error.status_code == 429)


RateLimitSetting = Literal["documented"] | float | Mapping[str, float] | None


class Permit:
    """One request's turn under a limiter, from the moment it is granted until it is sent.

    A limiter counts the permit in its current window when it grants it. The
    caller then does exactly one of two things:

    * :meth:`commit` at the moment of sending: ``True`` while the permit's window
      is still open (send now), ``False`` once it has closed (a stalled loop, a
      long wait for a concurrency slot): the permit is released and the caller
      asks for a new one, so nothing is sent into a window that was not counted;
    * :meth:`release` when it will not send (cancelled, failed before sending):
      the limiter gets the permit back, so a cancelled waiter leaves no debt.

    Both are idempotent, and a permit neither committed nor released counts as
    used. ``valid_until`` is a :func:`time.monotonic` time; ``give_back``
    returns the permit to its limiter (called at most once).
    """

    __slots__ = ("_give_back", "_valid_until", "state")

    def __init__(
        self, valid_until: float = math.inf, give_back: Callable[[], None] | None = None
    ) -> None:
        self._valid_until = valid_until
        self._give_back = give_back
        #: ``"granted"``, then ``"committed"`` or ``"released"``.
        self.state = "granted"

    def __repr__(self) -> str:
        return f"Permit(state={self.state!r})"

    def commit(self) -> bool:
        """Use the permit now: ``True`` to send, ``False`` if its window has closed (released)."""
        if self.state == "granted":
            if time.monotonic() < self._valid_until:
                self.state = "committed"
            else:
                self.release()
        return self.state == "committed"

    def release(self) -> None:
        """Give an unsent permit back to its limiter; nothing once committed or released."""
        if self.state != "granted":
            return
        self.state = "released"
        if self._give_back is not None:
            self._give_back()


@runtime_checkable
class Limiter(Protocol):
    """The limiter seam: what :meth:`Transport.send` needs from a rate limiter.

    :class:`RateLimiter` (in this process) and ``RedisRateLimiter`` (one budget
    for every process and host) implement it; pass either as
    ``AfterShip(rate_limit=...)``. The transport waits for a :class:`Permit`
    without holding a concurrency slot, then takes a slot, then commits the
    permit (asking again when its window has closed meanwhile), and releases it
    if the call is cancelled before it is sent.
    """

    @property
    def setting(self) -> RateLimitSetting:
        """The configured rates; ``None`` turns limiting off (``acquire`` is not called)."""
        ...

    async def acquire(self, key: str, endpoint: str, documented: float) -> Permit:
        """Wait for a permit to send one request to ``key`` (``"<api> <METHOD> <path>"``).

        The permit is counted from the moment it is returned; a caller cancelled
        while waiting holds none. See :class:`Permit` for what to do with it.
        """
        ...

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        """Learn from a response's rate-limit headers (a 429's included).

        The headers are read by :func:`~aftership_async._rate_headers.read_rate_limit`
        (either spelling, any reset unit). A learned limit may lower a rate the user configured
        (see :func:`explicit_rate`) but never raise it.
        """
        ...


#: What ``AfterShip(rate_limit=...)`` takes: a setting, or a limiter (``RedisRateLimiter``).
RateLimit: TypeAlias = RateLimitSetting | Limiter


def check_name(what: str, value: object, hint: str = "") -> str:
    """A budget's name (a Redis namespace or prefix, an organisation), checked.

    1 to 100 letters, digits or ``-_.:``; ``hint`` ends the error's message.
    """
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 100
        or not all(ch.isalnum() or ch in "-_.:" for ch in value)
    ):
        raise ConfigurationError(
            f"{what} must be 1 to 100 letters, digits or -_.: characters{hint}"
        )
    return value


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


def explicit_rate(setting: RateLimitSetting, endpoint: str) -> float | None:
    """The rate the user gave for an endpoint (a number, or its entry in a mapping), else None.

    An explicit rate is a cap: a server's limit header may lower it,
    never raise it. Endpoints on their documented rate (``"documented"``, or
    left out of a mapping) follow the server up and down.
    """
    if setting is None or setting == "documented":
        return None
    if isinstance(setting, Mapping):
        rate = setting.get(endpoint)
        return None if rate is None else float(rate)
    return float(setting)


def rate_in_force(configured: float, learned: float | None, cap: float | None) -> float:
    """The rate to pace at: the server's learned limit, kept under the user's ``cap``."""
    if learned is None or not learned > 0:
        return configured
    return learned if cap is None else min(cap, learned)


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


#: Longest pause a limiter takes from a server's reset or ``Retry-After``.
MAX_PAUSE = 60.0

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

    Nothing is taken before it can be granted: a waiter computes its wait
    (:meth:`wait`), sleeps, and takes the permit (:meth:`take`) only when it is
    due, under :attr:`lock` so that waiters are served in order. A waiter
    cancelled while it sleeps has taken nothing; a granted permit given back
    unsent (:meth:`give_back`) is uncounted from its window, if still open.
    """

    __slots__ = ("blocked_until", "cap", "count", "lock", "rate", "stamp", "tokens", "window")

    def __init__(self, rate: float, cap: float | None = None) -> None:
        self.rate = rate
        #: The user's explicit rate: a learned limit never goes above it (None: no cap).
        self.cap = cap
        self.tokens = 1.0
        self.stamp = time.monotonic()
        self.blocked_until = 0.0
        self.window = 0
        self.count = 0
        self.lock = asyncio.Lock()

    def _spacing(self) -> float:
        return self.rate / (1 - WINDOW_MARGIN) if self.rate >= 1 else self.rate

    def _refill(self, now: float) -> None:
        self.tokens = min(1.0, self.tokens + max(0.0, now - self.stamp) * self._spacing())
        self.stamp = now

    def wait(self, now: float, wall: float) -> float:
        """Seconds until a permit may be taken (monotonic ``now``, wall-clock ``wall``); 0: now."""
        self._refill(now)
        wait = max(0.0, (1.0 - self.tokens) / self._spacing(), self.blocked_until - now)
        window = int(wall)
        if (self.rate >= 1 and wall - window >= 1 - WINDOW_MARGIN) or (
            window == self.window and self.count >= max(1, int(self.rate))
        ):
            wait = max(wait, window + 1 - wall)
        return wait

    def take(self, now: float, wall: float) -> Permit:
        """Count a permit in this window (call when :meth:`wait` says 0)."""
        self._refill(now)
        self.tokens -= 1.0
        window = int(wall)
        if window != self.window:
            self.window, self.count = window, 0
        self.count += 1
        end = window + 1 - (WINDOW_MARGIN if self.rate >= 1 else 0.0)
        return Permit(now + (end - wall), functools.partial(self.give_back, window))

    def give_back(self, window: int) -> None:
        """Undo one :meth:`take` of ``window`` whose request was not sent."""
        if window == self.window and self.count > 0:
            self.count -= 1
        self.tokens = min(1.0, self.tokens + 1.0)


class RateLimiter:
    """Client-side limits per endpoint, tuned by the server's rate-limit headers.

    ``setting``: ``"documented"`` uses each endpoint's documented limit (from
    the spec), a number applies that many requests/second to every endpoint,
    a mapping sets limits by endpoint key (``"GET /trackings/{id}"``; others
    documented), ``None`` turns limiting off. When a response says nothing
    remains, the endpoint waits until the reset (or for ``Retry-After``; see
    :meth:`~aftership_async._rate_headers.RateLimitHeaders.wait`).
    A different server limit replaces a documented rate, up or down;
    a rate the user gave is a cap, which a server's limit may only lower.
    Waiters are served in order; one cancelled while waiting takes nothing,
    and a permit released unsent is given back (see :class:`Permit`).
    """

    def __init__(self, setting: RateLimitSetting = "documented") -> None:
        self.setting = setting
        self._buckets: dict[str, _Bucket] = {}

        self._loop: asyncio.AbstractEventLoop | None = None
        self.waited = 0.0

    def for_organization(self, organization: str) -> RateLimiter:
        """A limiter with this one's setting and a budget of its own: AfterShip
        counts each organisation's requests apart (``with_options(api_key=...)``)."""
        return RateLimiter(self.setting)

    async def acquire(self, key: str, endpoint: str, documented: float) -> Permit:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = configured_rate(self.setting, endpoint, documented)
            if rate is None or rate <= 0:
                return Permit()
            bucket = self._buckets[key] = _Bucket(rate, explicit_rate(self.setting, endpoint))
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a lock serves one event loop: fresh ones in a new loop
            if self._loop is not None:
                for each in self._buckets.values():
                    each.lock = asyncio.Lock()
            self._loop = loop
        async with bucket.lock:
            while True:
                now = time.monotonic()
                wall = time.time()
                wait = bucket.wait(now, wall)
                if wait <= 0:
                    return bucket.take(now, wall)
                self.waited += wait
                await asyncio.sleep(wait)

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        bucket = self._buckets.get(key)
        if bucket is None:
            return
        info = read_rate_limit(headers)
        if info.limit is not None and info.limit > 0:
            bucket.rate = rate_in_force(bucket.rate, info.limit, bucket.cap)
        pause = info.wait(time.time())
        if pause is not None and pause > 0:
            until = time.monotonic() + min(pause, MAX_PAUSE)
            bucket.blocked_until = max(bucket.blocked_until, until)

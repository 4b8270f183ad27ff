"""``RedisRateLimiter``: one AfterShip rate budget for every process and host, kept in Redis.

AfterShip counts requests per organisation and endpoint in one-second
windows, whoever sends them. The in-process :class:`RateLimiter` cannot see
the other workers of a deployment; this one keeps the count in Redis:

* one Lua script per permit, run atomically by Redis on **Redis's clock**
  (``TIME``), never a host's: at most the limit per aligned window (per
  namespace, API and endpoint), and none in a window's last
  :data:`WINDOW_MARGIN` seconds, as the local limiter;
* a permit released unsent (the caller was cancelled) is uncounted from its
  window if that window is still open; one whose window closed before it was
  sent is refused at send time and asked for again (see :class:`Permit`);
* a 429 or an exhausted window (``X-RateLimit-Remaining: 0``, or
  ``RateLimit-Remaining``) seen by any worker pauses every worker on that
  endpoint until the reset (or for ``Retry-After``), the headers read by the one
  parser of :mod:`aftership_async._rate_headers`; a limit one worker learns is
  used by all, under the rate the user configured, if any;
* bulk traffic (``client.bulk``, the CLI, :func:`bulk_traffic` blocks) takes at
  most ``share`` of each window, single calls may use all of it;
* each Redis call is bounded by ``timeout``; when Redis fails the limiter paces
  locally at ``fallback`` of the budget, logs that once, and returns to Redis
  as soon as it answers. It never raises a Redis error to the caller.

redis-py is imported only when a limiter is built (the ``redis`` extra).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable, Coroutine, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import attrs

from ._errors import ConfigurationError
from ._policies import (
    MAX_PAUSE,
    WINDOW_MARGIN,
    Permit,
    RateLimiter,
    RateLimitSetting,
    check_name,
    configured_rate,
    explicit_rate,
    is_bulk_traffic,
    rate_in_force,
)
from ._rate_headers import read_rate_limit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisLimiterStats", "RedisRateLimiter"]

logger = logging.getLogger("aftership_async")

INSTALL_HINT = "pip install 'aftership-async[redis]'"

#: A limit learned from the headers lives this long in Redis after it was last published.
LIMIT_TTL = 3600
#: How often a worker re-publishes a limit it keeps seeing (so the key is refreshed).
LIMIT_REFRESH = 600.0

#: What a failed Redis call returns.
FAILED: Any = object()

# KEYS[1] window hash {w = window start (µs, Redis time), n = permits issued in it}
# KEYS[2] pause: Redis time (µs) before which no permit is issued
# KEYS[3] the limit learned from the rate-limit headers
# ARGV[1] requests/second configured, ARGV[2] share of a window this caller may fill
# ARGV[3] the end-of-window margin (µs), ARGV[4] the user's cap on the rate (0: none)
# -> {1 or 0 (granted), µs to wait before asking again (granted: µs left in the window),
#     limit in force times 1000, the window's start (µs; granted only)}
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(redis.call('GET', KEYS[3]) or ARGV[1]) or tonumber(ARGV[1])
local cap = tonumber(ARGV[4] or '0') or 0
if cap > 0 and limit > cap then limit = cap end
local milli = math.floor(limit * 1000)
local pause = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if pause > now then
  return {0, pause - now, milli}
end
local period, per = 1000000, math.floor(limit)
if limit < 1 then
  period, per = math.ceil(1 / limit) * 1000000, 1
end
local start = now - (now % period)
local left = start + period - now
if left <= tonumber(ARGV[3]) then
  return {0, left, milli}
end
local cap = math.max(1, math.floor(per * tonumber(ARGV[2]) + 1e-9))
local n = 0
if tonumber(redis.call('HGET', KEYS[1], 'w') or '0') == start then
  n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') or 0
end
if n >= cap then
  return {0, left, milli}
end
redis.call('HSET', KEYS[1], 'w', string.format('%d', start), 'n', n + 1)
redis.call('PEXPIRE', KEYS[1], math.floor(period / 1000) + 1000)
return {1, left, milli, start}
"""

# KEYS[1] window hash; ARGV[1] the start (µs) of the window a permit was counted in.
# An unsent permit is uncounted while its window is the current one, never below zero.
_RELEASE = """
if tonumber(redis.call('HGET', KEYS[1], 'w') or '0') ~= tonumber(ARGV[1]) then return 0 end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') or 0
if n <= 0 then return 0 end
redis.call('HSET', KEYS[1], 'n', n - 1)
return 1
"""

# KEYS[1] pause key. ARGV[1] Unix time (µs) the server says its window resets, 0 if none;
# ARGV[2] µs to wait from now (Retry-After), 0 if none; ARGV[3] the longest pause (µs).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local longest = now + tonumber(ARGV[3])
local till = 0
if tonumber(ARGV[1]) > 0 then till = math.min(tonumber(ARGV[1]), longest) end
if tonumber(ARGV[2]) > 0 then till = math.max(till, math.min(now + tonumber(ARGV[2]), longest)) end
if till <= now then return 0 end
local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if till > old then
  redis.call('SET', KEYS[1], string.format('%d', till), 'PX', math.ceil((till - now) / 1000) + 1)
end
return 1
"""


class _Script:
    """A Lua script run by its SHA1, sent whole when the server does not know it
    (first use, or a restarted Redis)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def __call__(self, client: Redis, keys: list[str], args: list[str]) -> Any:
        from redis.exceptions import NoScriptError

        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.text, len(keys), *keys, *args)


_ACQUIRE_SCRIPT = _Script(_ACQUIRE)
_PAUSE_SCRIPT = _Script(_PAUSE)
_RELEASE_SCRIPT = _Script(_RELEASE)


async def _set_limit(client: Redis, key: str, limit: float) -> None:
    await client.set(key, repr(float(limit)), ex=LIMIT_TTL)


def _query_password(query: str) -> str | None:
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "password" and value:
            return value
    return None


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError:
        raise ConfigurationError(f"RedisRateLimiter needs redis-py: {INSTALL_HINT}") from None
    return redis_asyncio


@attrs.define
class RedisLimiterStats:
    """What a :class:`RedisRateLimiter` did in this process."""

    redis_permits: int = 0
    """Permits Redis issued."""
    local_permits: int = 0
    """Permits issued by local pacing while Redis did not answer."""
    redis_waits: int = 0
    """Times Redis said to wait (window full, margin, or a shared pause)."""
    redis_errors: int = 0
    """Redis calls that failed or timed out."""
    fallbacks: int = 0
    """Times the limiter went over to local pacing (once per outage)."""
    recoveries: int = 0
    """Times Redis answered again after an outage."""
    pauses_published: int = 0
    """Pauses (a 429 or an exhausted window) shared with the other workers."""
    released: int = 0
    """Permits Redis issued that were given back unsent, while their window was open."""


class _Endpoint:
    """What one process knows of one endpoint key."""

    __slots__ = ("blocked_until", "bulk_lock", "learned", "limit", "lock", "published")

    def __init__(self) -> None:
        self.blocked_until = 0.0  # monotonic: a pause seen by this process
        self.learned: float | None = None  # X-RateLimit-Limit seen here
        self.published = (0.0, -math.inf)  # (limit, monotonic time) last written to Redis
        self.limit: float | None = None  # the limit Redis last said was in force
        # One waiter per class asks Redis at a time (FIFO within the process);
        # bulk and single calls queue apart so that single calls can use the
        # headroom while bulk waits for the next window.
        self.lock = asyncio.Lock()
        self.bulk_lock = asyncio.Lock()


Factory = Callable[[], "Redis"]


class RedisRateLimiter:
    """One rate budget per organisation, shared through Redis by every process and host.

    ::

        limiter = RedisRateLimiter.from_url("redis://redis:6379/0", namespace="acme")
        async with AfterShip(api_key="...", rate_limit=limiter) as client:
            ...
        await limiter.aclose()

    Every client built with a limiter of the same Redis and ``namespace``
    (one per AfterShip organisation) draws from one budget per API and
    endpoint. The limiter is safe to share among clients and tasks.

    Args:
        redis: a ``redis.asyncio.Redis`` client (left open by :meth:`aclose`),
            or a function returning one (called once per event loop; the
            clients it makes are closed by :meth:`aclose`).
        namespace: the organisation whose budget this is; letters, digits
            and ``-_.:`` only.
        rate_limit: the rates, as ``AfterShip(rate_limit=...)`` takes them:
            ``"documented"``, a number for every endpoint, or a mapping by
            endpoint key. A limit learned from ``X-RateLimit-Limit`` replaces a
            documented rate; a rate given here is a cap that it may only lower.
        share: the fraction of each endpoint's window that bulk traffic may
            fill (``client.bulk``, the CLI, :func:`bulk_traffic` blocks);
            single calls may use all of it. At least one request per window.
        fallback: while Redis does not answer, each process paces itself
            locally at this fraction of the budget (bulk at ``fallback * share``):
            about 1 / the number of processes keeps them under the limit.
        timeout: seconds for each Redis call before it counts as failed.
        retry_interval: seconds between attempts to reach Redis again.
        prefix: the first part of every key.
    """

    def __init__(
        self,
        redis: Redis | Factory,
        *,
        namespace: str,
        rate_limit: RateLimitSetting = "documented",
        share: float = 0.8,
        fallback: float = 0.25,
        timeout: float = 0.25,
        retry_interval: float = 1.0,
        prefix: str = "aftership",
    ) -> None:
        check_name("namespace", namespace)
        check_name("prefix", prefix)
        for name, value in (("share", share), ("fallback", fallback)):
            if not 0 < value <= 1:
                raise ConfigurationError(f"{name} must be in (0, 1], got {value!r}")
        if timeout <= 0 or retry_interval <= 0:
            raise ConfigurationError("timeout and retry_interval must be positive")
        _import_redis()
        self._factory: Factory | None = None
        self._redis: Redis | None = None
        if hasattr(redis, "evalsha"):
            self._redis = cast("Redis", redis)
        elif callable(redis):
            self._factory = redis
        else:
            raise ConfigurationError("redis must be a redis.asyncio.Redis client or a factory")
        self._owned: list[Redis] = []
        #: A limiter of another organisation made by :meth:`for_organization`
        #: borrows this one's connections: it neither owns nor closes them.
        self._lender: RedisRateLimiter | None = None
        #: The limiters made by :meth:`for_organization`: their writes go through
        #: this one's clients, so :meth:`aclose` finishes them first.
        self._borrowers: list[RedisRateLimiter] = []
        self.prefix = prefix
        self.namespace = namespace
        self.setting: RateLimitSetting = rate_limit
        self.share = share
        self.fallback = fallback
        self.timeout = timeout
        self.retry_interval = retry_interval
        self._prefix = f"{prefix}:{{{namespace}}}:"
        self._secret: str | None = None
        self._endpoints: dict[str, _Endpoint] = {}
        self._local = RateLimiter("documented")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down = False
        self._retry_at = 0.0
        self._probing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = RedisLimiterStats()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str,
        rate_limit: RateLimitSetting = "documented",
        share: float = 0.8,
        fallback: float = 0.25,
        timeout: float = 0.25,
        retry_interval: float = 1.0,
        prefix: str = "aftership",
    ) -> RedisRateLimiter:
        """A limiter on the Redis at ``url`` (``redis://``, ``rediss://`` or ``unix://``).

        It owns its connections: one client per event loop, so a worker
        that runs each task in a new loop (``asyncio.run`` in Celery) works;
        :meth:`aclose` closes them.
        """
        redis_asyncio = _import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        if not isinstance(url, str) or urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError("the Redis URL must start with redis://, rediss:// or unix://")

        def connect() -> Redis:
            client: Redis = redis_asyncio.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                # One immediate reconnect (a restarted server); the limiter's
                # own timeout bounds the whole call anyway.
                retry=Retry(NoBackoff(), 1),
                health_check_interval=0,
            )
            return client

        limiter = cls(
            connect,
            namespace=namespace,
            rate_limit=rate_limit,
            share=share,
            fallback=fallback,
            timeout=timeout,
            retry_interval=retry_interval,
            prefix=prefix,
        )
        parts = urlsplit(url)
        password = parts.password or _query_password(parts.query)
        limiter._secret = unquote(password) if password else None
        return limiter

    def for_organization(self, organization: str) -> RedisRateLimiter:
        """The budget of another organisation on the same Redis, through these connections.

        ``AfterShip(rate_limit=limiter).with_options(api_key=..., organization="acme")``
        calls it: the new limiter's namespace is ``organization`` (the user's name
        for it, never the key), its settings are this one's, and it closes nothing:
        :meth:`aclose` on this limiter closes the connections of both.
        """
        check_name("organization", organization)
        sibling = RedisRateLimiter(
            self._lend,
            namespace=organization,
            rate_limit=self.setting,
            share=self.share,
            fallback=self.fallback,
            timeout=self.timeout,
            retry_interval=self.retry_interval,
            prefix=self.prefix,
        )
        sibling._lender = self
        self._borrowers.append(sibling)
        sibling._secret = self._secret
        return sibling

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter(namespace={self.namespace!r}, setting={self.setting!r}, "
            f"share={self.share!r}, fallback={self.fallback!r})"
        )

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def flush(self) -> None:
        """Wait until the pauses and limits this process saw are in Redis (or given up on).

        :meth:`observe` hands them to background tasks, each bounded by ``timeout``.
        """
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def aclose(self) -> None:
        """Finish pending writes and close the Redis clients this limiter made.

        The writes of the limiters :meth:`for_organization` made go through
        these clients too: they are finished first.
        """
        for limiter in (*self._borrowers, self):
            await limiter._finish_writes()
        owned, self._owned = self._owned, []
        if self._factory is not None:
            self._redis = None
        for client in owned:
            try:
                await client.aclose()
            except Exception:  # closing a dead connection is not an error
                logger.debug("closing a Redis client of the rate limiter failed", exc_info=False)

    async def _finish_writes(self) -> None:
        """Wait (bounded by ``timeout``) for the background writes, then cancel what is left."""
        if not self._tasks:
            return
        tasks = list(self._tasks)
        await asyncio.wait(tasks, timeout=self.timeout * 2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the seam ------------------------------------------------------------

    async def acquire(self, key: str, endpoint: str, documented: float) -> Permit:
        """Wait for a permit for ``key``: from Redis, or paced locally while it is down."""
        rate = configured_rate(self.setting, endpoint, documented)
        if rate is None or rate <= 0:
            return Permit()
        cap = explicit_rate(self.setting, endpoint)
        self._bind_loop()
        state = self._endpoints.get(key)
        if state is None:
            state = self._endpoints[key] = _Endpoint()
        bulk = is_bulk_traffic()
        share = self.share if bulk else 1.0
        async with state.bulk_lock if bulk else state.lock:
            while True:
                paused = state.blocked_until - time.monotonic()
                if paused > 0:
                    await asyncio.sleep(paused)
                    continue
                if not self._redis_usable():
                    return await self._acquire_locally(key, endpoint, state, rate, cap, share)
                asked = time.monotonic()
                answer = await self._ask(key, state, rate, cap, share)
                if answer is FAILED:
                    continue  # the loop goes on locally
                granted, wait_us, milli = (int(x) for x in answer[:3])
                state.limit = milli / 1000 if milli > 0 else None
                if granted:
                    self.stats.redis_permits += 1
                    return self._permit(key, asked, wait_us, int(answer[3]))
                self.stats.redis_waits += 1
                # A little past the window's start, so as not to ask a moment too early.
                await asyncio.sleep(max(wait_us, 0) / 1e6 + 0.002)

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        """Learn from a response: share a pause or a new limit with every worker."""
        state = self._endpoints.get(key)
        if state is None:
            return
        now = time.time()
        info = read_rate_limit(headers, now)
        limit = info.limit
        if limit is not None and limit > 0:
            state.learned = limit
            last, when = state.published
            if limit != last or time.monotonic() - when > LIMIT_REFRESH:
                state.published = (limit, time.monotonic())
                self._background(self._publish_limit(key, limit))
        delay = info.wait(now)
        if delay is None or delay <= 0:
            return
        # This process waits at once; the others as soon as Redis has the pause.
        state.blocked_until = max(state.blocked_until, time.monotonic() + min(delay, MAX_PAUSE))
        self._background(self._publish_pause(key, 0, int(min(delay, MAX_PAUSE) * 1e6)))

    # -- Redis ---------------------------------------------------------------

    def _keys(self, key: str) -> list[str]:
        base = self._prefix + key
        return [base + ":window", base + ":pause", base + ":limit"]

    async def _acquire_in_redis(
        self,
        client: Redis,
        key: str,
        state: _Endpoint,
        rate: float,
        cap: float | None,
        share: float,
    ) -> Any:
        args = [
            repr(float(rate_in_force(rate, state.learned, cap))),
            repr(share),
            str(int(WINDOW_MARGIN * 1e6)),
            repr(float(cap or 0)),
        ]
        return await _ACQUIRE_SCRIPT(client, self._keys(key), args)

    async def _ask(
        self, key: str, state: _Endpoint, rate: float, cap: float | None, share: float
    ) -> Any:
        """The acquire script's answer; a caller cancelled meanwhile leaves no permit behind.

        The call runs in its own task: when the caller is cancelled, the task
        still finishes (bounded by ``timeout``), and a permit it was granted
        is given back.
        """
        task = asyncio.ensure_future(
            self._call(self._acquire_in_redis, key, state, rate, cap, share)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(functools.partial(self._abandoned, key))
            raise

    def _abandoned(self, key: str, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        answer = task.result()
        if answer is not FAILED and int(answer[0]):
            self._background(self._release(key, int(answer[3])))

    def _permit(self, key: str, asked: float, left_us: int, start_us: int) -> Permit:
        """A Redis permit, valid to send until the window's margin (by this host's clock).

        Redis's clock read the window's time left somewhere between ``asked``
        and now: counting from ``asked`` errs on the early side.
        """
        closes = asked + left_us / 1e6

        def give_back() -> None:
            if time.monotonic() < closes:  # a closed window has nothing to give back
                self._background(self._release(key, start_us))

        return Permit(closes - WINDOW_MARGIN, give_back)

    async def _release(self, key: str, start_us: int) -> None:
        if not self._redis_usable():
            return
        answer = await self._call(_RELEASE_SCRIPT, [self._keys(key)[0]], [str(start_us)])
        if answer is not FAILED and int(answer):
            self.stats.released += 1

    async def _publish_limit(self, key: str, limit: float) -> None:
        if self._redis_usable():
            await self._call(_set_limit, self._keys(key)[2], limit)

    async def _publish_pause(self, key: str, reset_us: int, retry_us: int) -> None:
        if not self._redis_usable():
            return
        args = [str(reset_us), str(retry_us), str(int(MAX_PAUSE * 1e6))]
        if await self._call(_PAUSE_SCRIPT, [self._keys(key)[1]], args) is not FAILED:
            self.stats.pauses_published += 1

    async def _call(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """``fn(client, *args)`` bounded by ``timeout``; :data:`FAILED` (and local pacing)
        when Redis fails, times out or answers with an error."""
        probing = self._down
        if probing:
            self._probing = True
        try:
            async with asyncio.timeout(self.timeout):
                result = await fn(self._client(), *args)
        except Exception as exc:  # whatever Redis does, the caller goes on
            self._failed(exc)
            return FAILED
        finally:
            if probing:
                self._probing = False
        if self._down:
            self._down = False
            self.stats.recoveries += 1
            logger.warning(
                "Redis rate limiter (namespace %r) answers again: back to the shared budget",
                self.namespace,
            )
        return result

    def _client(self) -> Redis:
        if self._redis is None:
            assert self._factory is not None
            self._redis = self._factory()
            if self._lender is None:
                self._owned.append(self._redis)
        return self._redis

    def _lend(self) -> Redis:
        self._bind_loop()
        return self._client()

    def _bind_loop(self) -> None:
        """Locks and (made) clients belong to one event loop: renew them in a new one."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._loop is not None:
            self._endpoints = {}
            self._tasks = set()
            self._local = RateLimiter("documented")
            if self._factory is not None:
                # The old loop's connections cannot be closed from this one; drop them.
                self._redis = None
                self._owned = []
        self._loop = loop

    def _redis_usable(self) -> bool:
        if not self._down:
            return True
        return not self._probing and time.monotonic() >= self._retry_at

    def _failed(self, exc: Exception) -> None:
        self.stats.redis_errors += 1
        self._retry_at = time.monotonic() + self.retry_interval
        if self._down:
            return
        self._down = True
        self.stats.fallbacks += 1
        logger.warning(
            "Redis rate limiter (namespace %r) unavailable (%s): pacing locally at %g of "
            "the budget until Redis answers",
            self.namespace,
            self._describe(exc),
            self.fallback,
        )

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, TimeoutError):
            return f"no answer within {self.timeout:g}s"
        text = f"{type(exc).__name__}: {exc}"[:200]
        if self._secret:
            text = text.replace(self._secret, "********")
        return text

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no running loop: nobody to share it with from here
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _acquire_locally(
        self,
        key: str,
        endpoint: str,
        state: _Endpoint,
        rate: float,
        cap: float | None,
        share: float,
    ) -> Permit:
        budget = rate_in_force(rate, state.learned or state.limit, cap)
        local = budget * self.fallback * share
        permit = await self._local.acquire(f"{key} @{local:g}", endpoint, local)
        self.stats.local_permits += 1
        return permit

"""``RedisDedupeStore``: the event keys every web worker and host shares, kept in Redis.

``claim`` is one ``SET key pending:<token> NX EX lease``: atomic, so of two
workers receiving the same event at once exactly one handles it. ``complete``
overwrites the key with ``done`` for the dedupe ttl (``SET ... EX``);
``release`` deletes it only while it still holds this claim's token (a Lua
script), so a late failure cannot drop a claim another worker took since.

redis-py is imported only when a store is built (the ``redis`` extra).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from .._errors import ConfigurationError
from .._policies import check_name
from .._redis_limiter import INSTALL_HINT
from ._dedupe import Claim

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisDedupeStore"]

logger = logging.getLogger("aftership_async")

# KEYS[1] the event key; ARGV[1] the claim's value. Deletes the key only if it holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_DONE = b"done"

Factory = Callable[[], "Redis"]


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError:
        raise ConfigurationError(f"RedisDedupeStore needs redis-py: {INSTALL_HINT}") from None
    return redis_asyncio


class RedisDedupeStore:
    """A :class:`~aftership_async.webhooks.DedupeStore` in Redis, shared by every worker.

    ::

        store = RedisDedupeStore.from_url("redis://redis:6379/0", namespace="acme")
        handler = aiohttp_handler(secret=..., on_event=..., options=ReceiverOptions(store=store))

    Args:
        redis: a ``redis.asyncio.Redis`` client (left open by :meth:`aclose`), or a
            function returning one (called once per event loop; closed by :meth:`aclose`).
        namespace: whose events these are (one per AfterShip organisation or
            receiver); letters, digits and ``-_.:`` only. Keys are
            ``{prefix}:{namespace}:webhook:{event key}``.
        prefix: the first part of every key.

    A Redis error or timeout propagates: the receiver answers 503, so AfterShip
    delivers the event again later (never handled without the check).
    """

    def __init__(
        self, redis: Redis | Factory, *, namespace: str, prefix: str = "aftership"
    ) -> None:
        check_name("namespace", namespace)
        check_name("prefix", prefix)
        _import_redis()
        self._factory: Factory | None = None
        self._redis: Redis | None = None
        if hasattr(redis, "set") and hasattr(redis, "eval"):
            self._redis = cast("Redis", redis)
        elif callable(redis):
            self._factory = redis
        else:
            raise ConfigurationError("redis must be a redis.asyncio.Redis client or a factory")
        self.namespace = namespace
        self._prefix = f"{prefix}:{namespace}:webhook:"
        self._owned: list[Redis] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_url(
        cls, url: str, *, namespace: str, timeout: float = 1.0, prefix: str = "aftership"
    ) -> RedisDedupeStore:
        """A store on the Redis at ``url`` (``redis://``, ``rediss://`` or ``unix://``).

        Each Redis call times out after ``timeout`` seconds. The store owns its
        connections (one client per event loop); :meth:`aclose` closes them.
        """
        redis_asyncio = _import_redis()
        if not isinstance(url, str) or urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError("the Redis URL must start with redis://, rediss:// or unix://")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError("timeout must be a positive number of seconds")

        def connect() -> Redis:
            client: Redis = redis_asyncio.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            return client

        return cls(connect, namespace=namespace, prefix=prefix)

    def __repr__(self) -> str:
        return f"RedisDedupeStore(namespace={self.namespace!r})"

    async def __aenter__(self) -> RedisDedupeStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def claim(self, key: str, token: str, lease: float) -> Claim:
        client = self._client()
        name = self._prefix + key
        if await client.set(name, b"pending:" + token.encode(), nx=True, ex=_seconds(lease)):
            return Claim.NEW
        state = await client.get(name)
        # Gone between the two calls (released or expired): held a moment ago, so let
        # AfterShip come back rather than race for it.
        return Claim.DONE if state == _DONE else Claim.PENDING

    async def complete(self, key: str, token: str, ttl: float) -> None:
        await self._client().set(self._prefix + key, _DONE, ex=_seconds(ttl))

    async def release(self, key: str, token: str) -> None:
        await self._client().eval(_RELEASE, 1, self._prefix + key, b"pending:" + token.encode())

    async def aclose(self) -> None:
        """Close the Redis clients this store made."""
        owned, self._owned = self._owned, []
        if self._factory is not None:
            self._redis = None
        for client in owned:
            try:
                await client.aclose()
            except Exception:  # closing a dead connection is not an error
                logger.debug("closing a Redis client of the webhook dedupe store failed")

    def _client(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._factory is not None and self._loop is not loop:
            # A client belongs to one event loop: make another in a new one.
            self._redis = None
            self._owned = []
        self._loop = loop
        if self._redis is None:
            assert self._factory is not None
            self._redis = self._factory()
            self._owned.append(self._redis)
        return self._redis


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))

"""``AfterShip``: the client users hold, one per service, shared by all tasks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType

import aiohttp

from aftership_async_generated.returns import ReturnsAPI
from aftership_async_generated.shipping import ShippingAPI
from aftership_async_generated.tracking import TrackingAPI

from ._bulk import Bulk
from ._errors import ConfigurationError
from ._policies import RateLimit, RetryPolicy
from ._signing import AuthScheme
from ._transport import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Transport, TransportStats

__all__ = ["API_VERSIONS", "AfterShip"]

API_KEY_ENV = "AFTERSHIP_API_KEY"

#: The API version each group is pinned to.
API_VERSIONS: Mapping[str, str] = {
    group.API.name: group.API.version for group in (TrackingAPI, ShippingAPI, ReturnsAPI)
}


class AfterShip:
    """An async client for the AfterShip Tracking, Shipping and Returns APIs.

    Use it as an async context manager, or call :meth:`close` when done::

        async with AfterShip(api_key="...") as client:
            tracking = await client.tracking.get_tracking_by_id("5b7...")

    Args:
        api_key: the ``as-api-key``; defaults to ``$AFTERSHIP_API_KEY``.
        api_secret: the secret of a signing key: every request (all three
            APIs) is then signed, see ``auth``.
        auth: the signature scheme, ``"aes"`` (the default when
            ``api_secret`` is given: ``as-signature-hmac-sha256``) or
            ``"rsa"`` (``as-signature-rsa-sha256``, RSASSA-PSS; ``api_secret``
            is then the PEM private key, PKCS#8 or PKCS#1, and the ``rsa``
            extra is needed: ``pip install 'aftership-async[rsa]'``). A bad
            key raises :class:`ConfigurationError` here, before any request.
        base_url: scheme and host serving all three APIs under their real
            path prefixes (a proxy, or the fake server: ``http://127.0.0.1:8765``).
        base_urls: per-API full base URLs, e.g.
            ``{"shipping": "https://sandbox-api.aftership.com/postmen/v3"}``.
        session: an ``aiohttp.ClientSession`` to use; it is not closed by the
            client. By default the client creates and closes its own.
        timeout: seconds for one request, connect to last byte.
        user_agent: replaces the default ``aftership-async/<version> ...``.
        allow_insecure_http: allow ``http://`` to a non-loopback host.
        retry: the default :class:`RetryPolicy` (``NO_RETRY`` to disable).
        rate_limit: ``"documented"`` (AfterShip's per-endpoint limits of the
            pinned versions), requests/second for every endpoint, a mapping by
            endpoint key (``"GET /trackings/{id}"``), or ``None`` for no limit;
            or a limiter: ``RedisRateLimiter`` shares one budget among every
            process and host using the same Redis and namespace.
        max_concurrency: requests in flight at once, across all tasks; the
            connection pool is sized to match.
        max_response_bytes: the largest response body accepted, counted after
            decompression (default 64 MiB); a larger one raises
            :class:`InvalidResponseError` without the rest being read.
    """

    tracking: TrackingAPI
    """Tracking API 2025-01: trackings, couriers, delivery-date predictions."""
    shipping: ShippingAPI
    """Shipping API (Postmen v3): labels, rates, manifests, pickups, shipper accounts."""
    returns: ReturnsAPI
    """Returns API 2026-07: returns, their items, shipments and drop-offs."""
    bulk: Bulk
    """Many tracking lookups, creations or detections at once, streamed."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        api_secret: str | None = None,
        auth: AuthScheme | None = None,
        base_url: str | None = None,
        base_urls: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str | None = None,
        allow_insecure_http: bool = False,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit = "documented",
        max_concurrency: int = 64,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key:
            raise ConfigurationError(f"no API key: pass api_key=... or set ${API_KEY_ENV}")
        unknown = set(base_urls or {}) - {"tracking", "shipping", "returns"}
        if unknown:
            raise ConfigurationError(f"base_urls has unknown API names: {sorted(unknown)}")
        self._transport = Transport(
            api_key=key,
            api_secret=api_secret,
            auth=auth,
            base_url=base_url,
            base_urls=base_urls,
            session=session,
            timeout=timeout,
            user_agent=user_agent,
            allow_insecure_http=allow_insecure_http,
            retry=retry,
            rate_limit=rate_limit,
            max_concurrency=max_concurrency,
            max_response_bytes=max_response_bytes,
        )
        self.tracking = TrackingAPI(self._transport)
        self.shipping = ShippingAPI(self._transport)
        self.returns = ReturnsAPI(self._transport)
        self.bulk = Bulk(self.tracking)

    @property
    def stats(self) -> TransportStats:
        """Requests sent, retries, 429s seen and time spent waiting for the limiter."""
        return self._transport.stats

    def __repr__(self) -> str:
        return f"<AfterShip {self._transport!r}>"

    async def __aenter__(self) -> AfterShip:
        await self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the connection pool (unless the session was passed in)."""
        await self._transport.close()

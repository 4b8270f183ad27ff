"""``BaseClient``: what every client does, whatever APIs it binds.

The client users hold, ``AfterShip``, is generated on top of this class
(``aftership_async/_generated/_client.py``): it fills :attr:`BaseClient.APIS`
with the APIs of the spec and binds their groups (``client.tracking`` ...) and
``client.bulk`` in :meth:`BaseClient._bind`. This module imports nothing
generated.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar, Self

import aiohttp

from ._errors import ConfigurationError
from ._escape_hatch import RawResponseClient
from ._escape_hatch import request as _request
from ._hooks import Hooks
from ._lifecycle import State
from ._network import Network
from ._policies import RateLimit, RetryPolicy
from ._signing import AuthScheme
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    ApiDescription,
    Credentials,
    RequestOptions,
    Transport,
    TransportStats,
)
from ._types import UNSET, Unset

__all__ = ["BaseClient"]

API_KEY_ENV = "AFTERSHIP_API_KEY"
API_SECRET_ENV = "AFTERSHIP_API_SECRET"
AUTH_ENV = "AFTERSHIP_AUTH"
BASE_URL_ENV = "AFTERSHIP_BASE_URL"
LOG_ENV = "AFTERSHIP_LOG"

#: The settings read from the environment when the argument is not given (README table).
ENVIRONMENT = {
    API_KEY_ENV: "api_key",
    API_SECRET_ENV: "api_secret",
    AUTH_ENV: "auth (aes | rsa)",
    BASE_URL_ENV: "base_url",
    LOG_ENV: "logging of the aftership_async logger (debug | info | warning)",
}

_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _auth_from_env() -> AuthScheme | None:
    value = _env(AUTH_ENV)
    if value is None or value.lower() in ("api_key", "none"):
        return None
    if value.lower() not in ("aes", "rsa"):
        raise ConfigurationError(f"${AUTH_ENV} must be 'aes' or 'rsa' (or unset)")
    return "rsa" if value.lower() == "rsa" else "aes"


def configure_logging_from_env() -> None:
    """``AFTERSHIP_LOG=debug``: log this SDK's requests and retries to stderr, no code needed.

    Adds one stderr handler to the ``aftership_async`` logger (once, and only if
    it has none). What the SDK logs never contains a key, a secret or a signature.
    """
    value = _env(LOG_ENV)
    if value is None:
        return
    level = _LOG_LEVELS.get(value.lower())
    if level is None:
        raise ConfigurationError(f"${LOG_ENV} must be debug, info or warning")
    logger = logging.getLogger("aftership_async")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


class BaseClient:
    """An async client for the AfterShip APIs its subclass binds (``AfterShip``: all three).

    Use it as an async context manager, or call :meth:`close` when done::

        async with AfterShip(api_key="...") as client:
            tracking = await client.tracking.get_tracking_by_id("5b7...")

    A client is unopened, then open (``async with`` or the first call creates
    the session), then closed for good: after :meth:`close` every call raises
    :class:`ClientClosedError` and no new session is created.
    """

    APIS: ClassVar[tuple[ApiDescription, ...]] = ()
    """What the client knows of each API it binds: name, pinned version, support window,
    rate limits (filled by the generated subclass from the specs)."""

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
        network: Network | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        """Configure the client; nothing is sent and no session is opened yet.

        Args:
            api_key: the ``as-api-key``; defaults to ``$AFTERSHIP_API_KEY``.
            api_secret: the secret of a signing key: every request (all three
                APIs) is then signed, see ``auth``. Defaults to
                ``$AFTERSHIP_API_SECRET`` (and ``auth`` to ``$AFTERSHIP_AUTH``).
            auth: the signature scheme, ``"aes"`` (the default when
                ``api_secret`` is given: ``as-signature-hmac-sha256``) or
                ``"rsa"`` (``as-signature-rsa-sha256``, RSASSA-PSS; ``api_secret``
                is then the PEM private key, PKCS#8 or PKCS#1, and the ``rsa``
                extra is needed: ``pip install 'aftership-async[rsa]'``). A bad
                key raises :class:`ConfigurationError` here, before any request.
            base_url: scheme and host serving all three APIs under their real
                path prefixes (a proxy, or the fake server: ``http://127.0.0.1:8765``);
                defaults to ``$AFTERSHIP_BASE_URL``. ``$AFTERSHIP_LOG=debug`` turns on
                logging to stderr.
            base_urls: per-API full base URLs, e.g.
                ``{"shipping": "https://sandbox-api.aftership.com/postmen/v3"}``.
            session: an ``aiohttp.ClientSession`` to use; it is not closed by the
                client. By default the client creates and closes its own. A
                closed one raises :class:`SessionClosedError` (here, or at the
                call that finds it closed).
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
            network: a :class:`Network`: ``proxy=`` (and ``proxy_auth=``),
                ``trust_env=True`` (``HTTPS_PROXY``, ``NO_PROXY``, ``.netrc``), and
                ``ssl=`` (an ``ssl.SSLContext`` for a private CA, or ``False``).
            hooks: a :class:`Hooks`: ``on_request``, ``on_response``, ``on_retry``,
                ``on_rate_limit_wait`` callables and a ``tracer`` (OpenTelemetry:
                ``aftership_async.otel``), run on the request path.
        """
        configure_logging_from_env()
        key = api_key if api_key is not None else _env(API_KEY_ENV)
        if not key:
            raise ConfigurationError(f"no API key: pass api_key=... or set ${API_KEY_ENV}")
        if api_secret is None:
            api_secret = _env(API_SECRET_ENV)
            if auth is None:
                auth = _auth_from_env()
        if base_url is None:
            base_url = _env(BASE_URL_ENV)
        unknown = set(base_urls or {}) - {api.name for api in self.APIS}
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
            network=network,
            hooks=hooks,
        )
        self._bind(self._transport)

    with_raw_response: RawResponseClient
    """``client.with_raw_response.request(...)``: :meth:`request` answering an APIResponse."""

    def _bind(self, transport: Transport) -> None:
        """Use ``transport``: the subclass also binds its API groups and helpers to it."""
        self._transport = transport
        self.with_raw_response = RawResponseClient(self.request)

    async def request(
        self,
        method: str,
        path: str,
        *,
        api: str,
        query: Mapping[str, object] | None = None,
        json: Any = None,
        options: RequestOptions | None = None,
    ) -> Any:
        """Call an endpoint the SDK has no method for; the envelope's ``data`` as plain JSON.

        ``await client.request("GET", "/trackings", api="tracking", query={"tag": "Delivered"})``.
        ``path`` is relative to the API's base URL. The call has what a generated
        method has: auth and signing, the rate limiter, retries (GET, PUT and DELETE
        are retried as idempotent; POST and PATCH only when the request never
        arrived, unless ``options=RequestOptions(retry_unsafe=True)``), the
        envelope's typed errors and the version watch. Under
        ``client.with_raw_response.request(...)`` it answers an :class:`APIResponse`
        whose ``parse()`` is the same JSON.
        """
        return await _request(
            self._transport,
            {description.name: description for description in self.APIS},
            method,
            path,
            api=api,
            query=query,
            json=json,
            options=options,
        )

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | Unset = UNSET,
        api_key: str | None = None,
        api_secret: str | None = None,
        auth: AuthScheme | None = None,
        organization: str | None = None,
    ) -> Self:
        """A client with other defaults, or for another organisation, sharing this one's pool.

        ``client.with_options(timeout=5, retry=NO_RETRY).tracking.get_tracking_by_id(...)``:
        the connection pool, credentials, concurrency cap, statistics and (unless
        ``rate_limit`` is given) the rate limiter are this client's.

        ``client.with_options(api_key=..., organization="acme")``: a client for
        another AfterShip organisation (a platform serving many merchants). It
        shares the pool and the concurrency cap, and has its own credentials
        (``api_secret``/``auth`` as for the constructor: not this client's), its
        own figures (``client.stats.organizations["acme"]``) and its own rate
        budgets, as AfterShip counts them: an in-process limiter of this client's
        setting, or, with a ``RedisRateLimiter``, the same Redis under namespace
        ``"acme"``. ``organization`` is your name for it (never derived from the
        key); every client of one organisation shares its budget.

        Closing the derived client closes it (its calls then raise
        :class:`ClientClosedError`, its bulk runs are cancelled) and leaves this
        one and its session open; closing this one closes every client derived
        from it. Raises :class:`ClientClosedError` if this client is closed.
        """
        credentials = None
        if api_key is not None or organization is not None:
            if api_key is None or organization is None:
                raise ConfigurationError(
                    "another organisation needs both api_key= and organization= "
                    "(your name for it: its rate budget and stats are kept under it)"
                )
            credentials = Credentials.of(organization, api_key, api_secret, auth)
        elif api_secret is not None or auth is not None:
            raise ConfigurationError("api_secret= and auth= go with api_key= and organization=")
        client = object.__new__(type(self))
        client._bind(
            self._transport.derive(
                timeout=timeout, retry=retry, rate_limit=rate_limit, credentials=credentials
            )
        )
        return client

    @property
    def organization(self) -> str | None:
        """The name given to ``with_options(organization=...)``; ``None`` for the first client's."""
        return self._transport.organization

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (on this client, or the one it derives from)."""
        return self._transport.state is State.CLOSED

    @property
    def stats(self) -> TransportStats:
        """Requests sent, retries, 429s seen and time spent waiting for the limiter."""
        return self._transport.stats

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._transport!r}>"

    async def __aenter__(self) -> Self:
        """Open the session; a closed client raises :class:`ClientClosedError`."""
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
        """Close for good: cancel the bulk runs in progress, wait for them, release the pool.

        The pool is released unless the session was passed in. Calls made
        afterwards raise :class:`ClientClosedError`; closing again is harmless.
        """
        await self._transport.close()

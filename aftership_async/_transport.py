"""The one request path: every generated method ends up in :meth:`Transport.request`.

    prepare (URL, query, JSON body, auth headers, signature)
      -> send   <- the seam where retries, rate limiting and the concurrency
                   cap wrap ``_send_once`` (see :meth:`Transport.send`)
      -> aiohttp
      -> unwrap the API's envelope -> data, or a typed error

Nothing here knows a specific operation: the caller passes the API
description, the method and the path template.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import enum
import functools
import ipaddress
import json
import logging
import math
import platform
import random
import re
import time
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import attrs
from multidict import CIMultiDictProxy
from yarl import URL

from ._envelope import Envelope, unwrap, unwrap_with_code
from ._errors import (
    AfterShipError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    InvalidResponseError,
    OutcomeUnknownError,
    RateLimitError,
    SessionClosedError,
)
from ._hooks import SECRET_HEADERS, CallObserver, Hooks
from ._lifecycle import Cancellable, State
from ._network import DEFAULT_NETWORK, Network
from ._operation import Operation, RetrySafety
from ._policies import Limiter, RateLimit, RetryPolicy, check_name, make_limiter, retryable
from ._signing import AuthScheme, Signer, make_signer, sign_request
from ._types import UNSET, Unset
from ._version import __version__
from ._versions import VersionWatch, requested_version

__all__ = [
    "ApiDescription",
    "Credentials",
    "PreparedRequest",
    "RawResponse",
    "RequestOptions",
    "Secret",
    "Transport",
    "TransportStats",
]

logger = logging.getLogger("aftership_async")

DEFAULT_TIMEOUT = 30.0
"""Seconds for a whole request (aiohttp's own default is 5 minutes)."""

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The largest response body read, counted after decompression (64 MiB)."""


@attrs.frozen
class ApiDescription:
    """What the transport needs to know about one API; generated from its spec."""

    name: str
    version: str
    base_url: str
    #: How the API's envelope reports errors (from the spec's ``x-aftership.errors``).
    envelope: Envelope
    default_rate_limit: float
    #: Requests per second by endpoint key (``"GET /trackings/{id}"``).
    rate_limits: Mapping[str, float] = attrs.field(factory=dict)
    #: ``"endpoint"``: one rate budget per endpoint (Tracking); ``"api"``: one for the whole
    #: API, whatever the endpoint (Shipping's 10 requests/second per organisation).
    rate_limit_scope: str = "endpoint"
    #: The pinned version's support window, ISO dates from the spec (None: not announced).
    released: str | None = None
    supported_until: str | None = None

    def rate_limit(self, endpoint: str) -> float:
        """The documented requests/second for an endpoint key."""
        return self.rate_limits.get(endpoint, self.default_rate_limit)

    def limiter_key(self, endpoint: str) -> str:
        """The budget an endpoint draws from: ``"tracking GET /trackings"``, ``"shipping *"``."""
        return f"{self.name} {endpoint if self.rate_limit_scope == 'endpoint' else '*'}"


@attrs.frozen
class RequestOptions:
    """Per-call overrides, accepted by every generated method as ``options=``."""

    #: Seconds for each attempt of this request, instead of the client's timeout.
    timeout: float | None = None
    #: Extra headers for this request (they cannot replace ``as-api-key``).
    headers: Mapping[str, str] = attrs.field(factory=dict)
    #: Retry policy for this call (``NO_RETRY`` to send once).
    retry: RetryPolicy | None = None
    #: Retry this call like an idempotent one even if its operation is not safe to
    #: repeat (``create_label`` without ``order_number``, ``create_pickup``...): only
    #: when you know a second purchase or booking cannot happen, or does not matter.
    retry_unsafe: bool = False
    #: Query parameters added to (or replacing) the method's own, for a parameter
    #: AfterShip accepts before the spec lists it. ``None`` values are left out.
    extra_query: Mapping[str, object] = attrs.field(factory=dict)
    #: Top-level JSON fields added to (or replacing) the request body's; a method
    #: without a body sends them as its body.
    extra_body: Mapping[str, Any] = attrs.field(factory=dict)
    #: Extra headers, the Stainless name of ``headers`` (both are sent; these win).
    extra_headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.define
class TransportStats:
    """Counters of one client's traffic, for summaries and tests.

    They count the traffic of the client's own organisation (its credentials).
    ``organizations`` holds, on the client they were derived from, the figures
    of each other organisation's client (``with_options(api_key=...,
    organization="acme")``): ``client.stats.organizations["acme"]``.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    limiter_wait: float = 0.0
    organizations: dict[str, TransportStats] = attrs.field(factory=dict)


def _masked_headers(headers: Mapping[str, str]) -> str:
    return repr({k: "********" if k.lower() in SECRET_HEADERS else v for k, v in headers.items()})


@attrs.frozen
class PreparedRequest:
    """A request ready for the wire; what the send seam receives."""

    api: ApiDescription
    endpoint: str
    method: str
    url: str
    #: Includes ``as-api-key`` and the signature: masked in the repr.
    headers: Mapping[str, str] = attrs.field(repr=_masked_headers)
    body: bytes | None
    timeout: float
    #: ``time.monotonic()`` by which the whole call must end (the retry policy's deadline):
    #: the attempt's timeout is cut to what is left of it.
    deadline: float = math.inf


@attrs.frozen
class RawResponse:
    """Status, headers and body bytes, read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Secret:
    """Holds a credential so that no repr, str or log line can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


_SESSION_CLOSED = (
    "the aiohttp.ClientSession passed as session= is closed: the client cannot send on it "
    "and does not replace it; pass an open session, or none"
)


def _checked_key(api_key: object) -> Secret:
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigurationError("api_key must be a non-empty string")
    if any(ord(ch) < 0x20 for ch in api_key):
        raise ConfigurationError("api_key contains control characters")
    return Secret(api_key.strip())


def _check_organization(name: object) -> str:
    return check_name(
        "organization",
        name,
        " (your own name for the AfterShip organisation, never derived from its key)",
    )


@attrs.frozen
class Credentials:
    """Another AfterShip organisation's key (and signing secret), under the user's name for it.

    The name keys the organisation's rate budget (a ``RedisRateLimiter``
    namespace) and its figures in ``client.stats.organizations``.
    """

    organization: str
    api_key: Secret = attrs.field(repr=False)
    signer: Signer | None = attrs.field(repr=False)

    @classmethod
    def of(
        cls,
        organization: object,
        api_key: object,
        api_secret: str | None = None,
        auth: AuthScheme | None = None,
    ) -> Credentials:
        return cls(
            _check_organization(organization),
            _checked_key(api_key),
            _build_signer(api_secret, auth),
        )


def _build_signer(api_secret: str | None, auth: AuthScheme | None) -> Signer | None:
    """``None`` for plain API-key auth, else the signer of ``auth`` (default ``"aes"``)."""
    if auth is not None and auth not in ("aes", "rsa"):
        # The value is not echoed: a secret passed in the wrong place must not leak.
        raise ConfigurationError("auth must be 'aes' or 'rsa'")
    if api_secret is None or api_secret == "":
        if auth is not None:
            raise ConfigurationError(f"auth={auth!r} needs api_secret=...")
        return None
    return make_signer(api_secret, auth or "aes")


_SEPARATORS = frozenset('"(),/:;<=>?@[\\]{}')


def _check_header(name: str, value: object) -> None:
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidRequestError("header names and values must be strings")
    if not name or any(ord(ch) <= 0x20 or ord(ch) >= 0x7F or ch in _SEPARATORS for ch in name):
        raise InvalidRequestError(f"header name {name!r} is not a valid HTTP token")
    if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F or ord(ch) > 0xFF for ch in value):
        raise InvalidRequestError(
            f"header {name!r} has a value with control or non-Latin-1 characters"
        )


def _check_base_url(url: str, *, allow_insecure_http: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"base URL must be an http(s) URL with a host, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError("base URL must not carry a query, fragment or credentials")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain HTTP to {parts.hostname!r}: use https, a loopback address, "
            "or pass allow_insecure_http=True"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def render_path(
    template: str,
    params: Mapping[str, object],
    patterns: tuple[tuple[str, str], ...] = (),
) -> str:
    """Fill ``{name}`` segments, rejecting values that would change the path, and values the
    spec's pattern for the parameter does not match."""
    for name, pattern in patterns:
        value = params.get(name)
        if isinstance(value, str) and _pattern(pattern).fullmatch(value) is None:
            raise InvalidRequestError(
                f"path parameter {name!r} must match {pattern}, got {value[:140]!r}"
            )
    path = template
    for name, value in params.items():
        if value.__class__ is str and value.isalnum() and value.isascii():
            # Letters and digits only (ids, slugs): nothing to refuse, nothing to quote.
            path = path.replace("{" + name + "}", value)
            continue
        if not isinstance(value, str):
            raise InvalidRequestError(
                f"path parameter {name!r} must be a string, got {type(value).__name__}"
            )
        if not value.strip():
            raise InvalidRequestError(f"path parameter {name!r} must not be empty")
        if value in (".", "..") or "/" in value or "\\" in value:
            raise InvalidRequestError(
                f"path parameter {name!r} must be a single path segment, got {value!r}"
            )
        if _CONTROL.search(value):
            raise InvalidRequestError(f"path parameter {name!r} contains control characters")
        _check_encodable(f"path parameter {name!r}", value)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


@functools.lru_cache(maxsize=64)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_encodable(what: str, text: str) -> str:
    """``text`` if it can be sent as UTF-8 (no lone surrogates), else InvalidRequestError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(
            f"{what} contains text that cannot be encoded as UTF-8 (a lone surrogate)"
        ) from None
    return text


def encode_query(
    query: Mapping[str, object], formats: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Query pairs in the order given; ``None`` and UNSET are left out.

    ``formats`` (an operation's ``query_formats``, from its spec) names the
    parameters written in a declared wire format; see :data:`QUERY_FORMATS`.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in query.items():
        if value is None or isinstance(value, Unset):
            continue
        wire = formats.get(name) if formats else None
        if wire is not None:
            pairs.append((name, QUERY_FORMATS[wire](name, value)))
        else:
            pairs.append((name, _query_value(name, value)))
    return pairs


def _date_time_seconds(name: str, value: object) -> str:
    """``YYYY-MM-DDTHH:MM:SS±HH:MM``: whole seconds (a fraction is cut), an explicit offset.

    UTC is ``+00:00``, never ``Z``; an offset that is not whole minutes is
    written in UTC. A naive datetime has no offset to send: refused, as is a
    bare date. A string is sent as given.
    """
    if isinstance(value, str):
        return _check_encodable(f"query parameter {name!r}", value)
    if not isinstance(value, dt.datetime):
        raise InvalidRequestError(
            f"query parameter {name!r} takes a datetime with a time zone, "
            f"got {type(value).__name__}"
        )
    offset = value.utcoffset()
    if offset is None:
        raise InvalidRequestError(
            f"query parameter {name!r} is a naive datetime ({value.isoformat()}): AfterShip "
            "needs an offset, so give it a time zone (e.g. tzinfo=datetime.UTC)"
        )
    if offset % dt.timedelta(minutes=1):
        value = value.astimezone(dt.UTC)
    return value.replace(microsecond=0).isoformat()


#: The wire formats an operation's ``query_formats`` may name (codegen maps the spec's
#: pattern of a parameter to one of these names).
QUERY_FORMATS = {"date-time-seconds": _date_time_seconds}


def _query_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str):
        return _check_encodable(f"query parameter {name!r}", value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ",".join(_query_value(name, v) for v in value)
    raise InvalidRequestError(f"query parameter {name!r} cannot be {type(value).__name__}")


class Transport:
    """Owns the aiohttp session, the credentials and the request path.

    And the client's lifecycle (:class:`~aftership_async._lifecycle.State`):
    unopened until :meth:`open` or the first call, open, then closed for good
    by :meth:`close`. A closed transport refuses every call with
    :class:`ClientClosedError` and creates no session. It also keeps the live
    bulk runs (:meth:`track`): ``close()`` cancels them and waits for them.

    A derived transport (:meth:`derive`, behind ``with_options()``) shares its
    root's session and registry of runs: closing the root closes it too;
    closing it cancels only the runs started through it and leaves the root open.
    """

    def __init__(
        self,
        *,
        api_key: str,
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
        if network is not None and not isinstance(network, Network):
            raise ConfigurationError("network must be a Network(...)")
        if hooks is not None and not isinstance(hooks, Hooks):
            raise ConfigurationError("hooks must be a Hooks(...)")
        if timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        if max_response_bytes < 1:
            raise ConfigurationError("max_response_bytes must be at least 1")
        if session is not None and session.closed:
            raise SessionClosedError(_SESSION_CLOSED)
        self.max_response_bytes = max_response_bytes
        self.network = network or DEFAULT_NETWORK
        #: ``session.request`` keyword arguments of the network settings (proxy, ssl).
        self._request_kwargs = self.network.request_kwargs()
        #: None when no hook or tracer is set: the request path then builds no event.
        self.hooks = hooks if hooks is not None and hooks != Hooks() else None
        #: The transport this one was derived from (``with_options``): it owns the session.
        self._parent: Transport | None = None
        self._api_key = _checked_key(api_key)
        self._signer = _build_signer(api_secret, auth)
        #: The organisation a ``with_options(api_key=..., organization=...)`` client
        #: acts for; ``None``: the credentials the root client was built with.
        self.organization: str | None = None
        #: Each organisation's rate limiter and figures, shared by every transport
        #: derived from the root: one budget per organisation, however many clients.
        self._organizations: dict[str, tuple[Limiter, TransportStats]] = {}
        self._insecure = allow_insecure_http
        self._origin = (
            _check_base_url(base_url, allow_insecure_http=allow_insecure_http) if base_url else None
        )
        self._base_urls = {
            name: _check_base_url(url, allow_insecure_http=allow_insecure_http)
            for name, url in (base_urls or {}).items()
        }
        self._session = session
        self._owns_session = session is None
        #: This transport's own state; a derived one is also closed when its root is.
        self._state = State.UNOPENED
        #: Live bulk runs, by the transport they were started on; shared with derived ones.
        self._work: dict[Cancellable, Transport] = {}
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.rate_limiter = make_limiter(rate_limit)
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._rng = random.Random()
        self.stats = TransportStats()
        #: Warns once per API and served version when ``as-api-version`` differs from the pin.
        self.versions = VersionWatch()
        self.user_agent = user_agent or (
            f"aftership-async/{__version__} aiohttp/{aiohttp.__version__} "
            f"python/{platform.python_version()}"
        )

    def __repr__(self) -> str:
        organization = "" if self.organization is None else f", organization={self.organization!r}"
        return f"Transport(origin={self._origin!r}, base_urls={self._base_urls!r}{organization})"

    def derive(
        self,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | Unset = UNSET,
        credentials: Credentials | None = None,
    ) -> Transport:
        """A transport with other per-request settings, sharing everything else.

        The session (and its connection pool), base URLs, the concurrency cap and
        the version watch are always shared. Credentials, the statistics and the
        rate limiter are shared too, unless ``credentials`` name another
        organisation: that one gets its own figures and its own budget (one per
        organisation, shared by every client of it), or ``rate_limit`` replaces
        the limiter.
        """
        if timeout is not None and timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        self.check_open()
        derived = copy.copy(self)  # shares the session, the slots, the registry of runs...
        derived._parent = self._parent or self
        derived._owns_session = False
        derived._state = State.UNOPENED  # ...but not the state: it follows the root's
        if timeout is not None:
            derived.timeout = timeout
        if retry is not None:
            derived.retry = retry
        if credentials is not None:
            derived._api_key = credentials.api_key
            derived._signer = credentials.signer
            derived.organization = credentials.organization
            derived.rate_limiter, derived.stats = self._organization(credentials.organization)
        if not isinstance(rate_limit, Unset):
            derived.rate_limiter = make_limiter(rate_limit)
        return derived

    def _requested_version(self, api: ApiDescription) -> str | None:
        """The version a configured base URL names instead of the pin (None: the pin)."""
        if api.name not in self._base_urls:
            return None
        return requested_version(_url_path(self._base_urls[api.name]), _url_path(api.base_url))

    def _organization(self, name: str) -> tuple[Limiter, TransportStats]:
        """The limiter and figures of organisation ``name``: made on first use, then shared."""
        root = self._parent or self
        known = root._organizations.get(name)
        if known is not None:
            return known
        limiter = root.rate_limiter
        for_organization = getattr(limiter, "for_organization", None)
        if for_organization is None:
            raise ConfigurationError(
                f"the rate limiter {type(limiter).__name__} keeps no budget per organisation "
                "(it has no for_organization method): pass rate_limit= to with_options"
            )
        entry = (cast(Limiter, for_organization(name)), TransportStats())
        root._organizations[name] = entry
        root.stats.organizations[name] = entry[1]
        return entry

    def base_url(self, api: ApiDescription) -> str:
        """The API's base URL: a per-API override, else the default under the origin."""
        if api.name in self._base_urls:
            return self._base_urls[api.name]
        if self._origin is not None:
            return self._origin + _url_path(api.base_url)
        return api.base_url

    @property
    def state(self) -> State:
        """Unopened, open or closed (a derived transport is closed when its root is)."""
        if self._parent is not None and self._parent._state is State.CLOSED:
            return State.CLOSED
        if self._state is State.CLOSED or self._parent is None:
            return self._state
        return self._parent._state

    def check_open(self) -> None:
        """Raise :class:`ClientClosedError` if the client is closed; cheap, once per call."""
        if self._state is State.CLOSED or (
            self._parent is not None and self._parent._state is State.CLOSED
        ):
            raise ClientClosedError(
                "the AfterShip client is closed: it sends nothing more and does not reopen; "
                "create a new client"
            )

    async def open(self) -> aiohttp.ClientSession:
        """The session, created on first use when the caller gave none.

        Raises :class:`ClientClosedError` once the client is closed (nothing is
        created then) and :class:`SessionClosedError` when the caller's
        ``session=`` has been closed. Contains no ``await`` before the session
        exists, so concurrent first calls create one session.
        """
        self.check_open()
        if self._parent is not None:  # a derived transport: the parent's session
            return await self._parent.open()
        session = self._session
        if session is None:
            # The connector holds as many connections as requests may be in flight.
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_concurrency, ssl=self.network.ssl),
                trust_env=self.network.trust_env,
            )
        elif session.closed:
            if not self._owns_session:
                raise SessionClosedError(_SESSION_CLOSED)
            # Ours, closed behind close()'s back: the client does not reopen either.
            raise ClientClosedError("the AfterShip client's session was closed")
        self._state = State.OPEN
        return session

    async def close(self) -> None:
        """Close for good: cancel the live bulk runs, wait for them, release the session.

        The session is closed only if this transport created it (a caller's is
        left open). Calls already in flight on it fail as their connections
        close; later ones raise :class:`ClientClosedError`. A derived transport
        cancels only the runs started on it and leaves the session to its root.
        Closing again does nothing more.
        """
        self._state = State.CLOSED  # first: nothing new starts while runs wind down
        root = self._parent is None
        try:
            error = ClientClosedError(
                "the AfterShip client was closed while this bulk run was in progress"
            )
            for work in [w for w, owner in self._work.items() if root or owner is self]:
                await work.cancel(error)
        finally:
            session = self._session
            if root and self._owns_session and session is not None and not session.closed:
                await session.close()

    def track(self, work: Cancellable) -> None:
        """Register a live bulk run, so that :meth:`close` can cancel it.

        Raises :class:`ClientClosedError` when the client is closed. The run
        calls :meth:`untrack` when it finishes; the registry holds only live runs.
        """
        self.check_open()
        self._work[work] = self

    def untrack(self, work: Cancellable) -> None:
        """Forget a run that finished, failed or was cancelled."""
        self._work.pop(work, None)

    def prepare(
        self,
        api: ApiDescription,
        operation: Operation,
        *,
        path_params: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        json_body: Any = None,
        options: RequestOptions | None = None,
        deadline: float = math.inf,
        trace_headers: Mapping[str, str] | None = None,
    ) -> PreparedRequest:
        """Build the exact request: URL, headers (with auth and signature) and body."""
        method = operation.method
        endpoint = operation.endpoint
        full_path = self.base_url(api) + render_path(
            operation.path, path_params or {}, operation.path_patterns
        )
        if options is not None and options.extra_query:
            query = {**(query or {}), **options.extra_query}
        if options is not None and options.extra_body:
            json_body = _with_extra_body(json_body, options.extra_body, endpoint)
        pairs = encode_query(query or {}, operation.query_formats)
        url = full_path + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")
        body = None if json_body is None else _encode_body(json_body, endpoint)
        headers: dict[str, str] = {
            "accept": "application/json",
            "user-agent": self.user_agent,
        }
        if trace_headers:
            for name, value in trace_headers.items():
                _check_header(name, value)
                headers[name.lower()] = value
        if options is not None:
            extra = (
                {**options.headers, **options.extra_headers}
                if options.extra_headers
                else options.headers
            )
            for name, value in extra.items():
                if name.lower() in ("as-api-key", "date") or name.lower().startswith(
                    "as-signature"
                ):
                    raise InvalidRequestError(f"header {name!r} is set by the client")
                _check_header(name, value)
                headers[name.lower()] = value
        headers["as-api-key"] = self._api_key.get()
        if body is not None:
            headers["content-type"] = "application/json"
        if self._signer is not None:
            headers.update(
                sign_request(
                    self._signer,
                    method=method,
                    body=body,
                    headers=headers,
                    path=urlsplit(full_path).path,
                    query=pairs,
                )
            )
        timeout = options.timeout if options and options.timeout else self.timeout
        return PreparedRequest(
            api=api,
            endpoint=endpoint,
            method=method,
            url=url,
            headers=headers,
            body=body,
            timeout=timeout,
            deadline=deadline,
        )

    async def request(
        self,
        api: ApiDescription,
        operation: Operation,
        *,
        path_params: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        json_body: Any = None,
        options: RequestOptions | None = None,
    ) -> tuple[Any, RawResponse]:
        """Send one API call; return the envelope's ``data`` and the response, or raise.

        Failed attempts are retried per the retry policy (client default, or
        ``options.retry``) and the operation's declared retry safety (see
        :mod:`aftership_async._operation`): an ``unsafe`` call is sent again
        only when the request provably never reached AfterShip, else it raises
        :class:`OutcomeUnknownError`. Each attempt is prepared afresh so a
        signature's date stays current, and its timeout is cut to what is left
        of the policy's deadline. The response (status, headers, body) is what
        ``with_raw_response`` shows. A closed client raises :class:`ClientClosedError`
        first, whoever calls: it sends nothing and opens no session.

        With ``hooks=`` set, a :class:`~aftership_async._hooks.CallObserver`
        follows the call: hooks per attempt, and the tracer's span around it all.
        """
        self.check_open()
        hooks = self.hooks
        if hooks is None:
            return await self._request(api, operation, path_params, query, json_body, options)
        call = CallObserver(hooks, operation.name, api.name, operation.method, operation.endpoint)
        try:
            result = await self._request(
                api, operation, path_params, query, json_body, options, call
            )
        except BaseException as exc:
            call.end(exc)
            raise
        call.end(None)
        return result

    async def _request(
        self,
        api: ApiDescription,
        operation: Operation,
        path_params: Mapping[str, object] | None,
        query: Mapping[str, object] | None,
        json_body: Any,
        options: RequestOptions | None,
        call: CallObserver | None = None,
    ) -> tuple[Any, RawResponse]:
        policy = options.retry if options is not None and options.retry else self.retry
        safety: RetrySafety = (
            "idempotent"
            if options is not None and options.retry_unsafe
            else operation.safety(
                _with_extra_body(json_body, options.extra_body, operation.endpoint)
                if options is not None and options.extra_body
                else json_body
            )
        )
        started = time.monotonic()
        deadline = started + policy.deadline
        key = api.limiter_key(operation.endpoint)  # what _limiter_key(prepared) answers
        envelope = api.envelope
        attempt = 0
        ambiguous: AfterShipError | None = None  # the last failure that may have acted
        while True:
            attempt += 1
            prepared = self.prepare(
                api,
                operation,
                path_params=path_params,
                query=query,
                json_body=json_body,
                options=options,
                deadline=deadline,
                trace_headers=call.trace_headers if call is not None else None,
            )
            try:
                response = await self.send(prepared, call)
                self.versions.check_headers(api, response.headers, self._requested_version(api))
                self.rate_limiter.observe(key, response.headers)
                if call is None:
                    data = unwrap(envelope, response.status, response.headers, response.body)
                else:  # the hooks' events carry the success's meta code too
                    data, code = unwrap_with_code(
                        envelope, response.status, response.headers, response.body
                    )
                    await call.response(response.status, response.headers, code, None)
                return data, response
            except (APIError, APIConnectionError) as exc:
                if isinstance(exc, APIError):
                    self.rate_limiter.observe(key, exc.headers)
                    if call is not None:
                        await call.response(exc.status_code, exc.headers, exc.code, exc)
                    refusal = operation.key_code is not None and exc.code == operation.key_code
                    if refusal and ambiguous is not None:
                        exc.after_retry(ambiguous)  # the refusal may be of our own attempt
                if isinstance(exc, RateLimitError):
                    self.stats.rate_limited += 1
                unsent = _never_reached(exc)
                if safety == "unsafe" and not unsent and retryable(exc):
                    raise OutcomeUnknownError(
                        operation=operation.name,
                        api=api.name,
                        attempt=attempt,
                        check=operation.check,
                        cause=exc,
                    ) from exc
                delay = self._retry_delay(policy, exc, attempt, deadline)
                if delay is None:
                    if isinstance(exc, APIConnectionError):
                        exc.gave_up(attempt, time.monotonic() - started)
                    raise
                if not unsent:
                    ambiguous = exc
                self.stats.retries += 1
                if call is not None:
                    await call.retry(exc, delay)
                logger.debug(
                    "retrying %s (%s) after %s, attempt %d of %d, in %.2fs",
                    prepared.endpoint,
                    api.name,
                    type(exc).__name__,
                    attempt + 1,
                    policy.max_attempts,
                    delay,
                )
                await asyncio.sleep(delay)

    def _retry_delay(
        self,
        policy: RetryPolicy,
        error: AfterShipError,
        attempt: int,
        deadline: float,
    ) -> float | None:
        delay = policy.delay(error, attempt, self._rng)
        if delay is None or time.monotonic() + delay > deadline:
            return None
        return delay

    def _mask(self, text: str) -> str:
        """``text`` with the API key (an AES secret, the proxy's password) masked."""
        for secret in (self._api_key.get(), self._signer_secret(), *self.network.secrets()):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "********")
        return text

    def _signer_secret(self) -> str | None:
        key = getattr(self._signer, "_key", None)  # AESSigner's secret (RSA keys are objects)
        return key.decode("utf-8", "replace") if isinstance(key, bytes) else None

    async def send(self, request: PreparedRequest, call: CallObserver | None = None) -> RawResponse:
        """One HTTP exchange under the rate limiter and the concurrency cap.

        The rate-limit permit comes first, and waiting for it holds no
        concurrency slot: a call whose budget has room never queues behind
        another endpoint's waiters. A permit can outlive its one-second window
        while the call waits for a slot (or the loop stalls), so it is checked
        against the window once the slot is held (:meth:`Permit.commit`) and
        taken again, with the slot given up, if that window has closed. A call
        cancelled before it is sent gives its permit back. ``call`` (with
        hooks set) hears of the wait and of the attempt, just before it is sent.
        """
        limiter = self.rate_limiter
        slots = self._slots
        wait = 0.0
        if limiter.setting is not None:
            key = _limiter_key(request)
            documented = request.api.rate_limit(request.endpoint)
            while True:
                waited = time.monotonic()
                permit = await limiter.acquire(key, request.endpoint, documented)
                waited = time.monotonic() - waited
                wait += waited
                self.stats.limiter_wait += waited
                try:
                    await slots.acquire()
                except BaseException:
                    permit.release()
                    raise
                if permit.commit():
                    break
                slots.release()  # the window closed meanwhile: a new permit, then a slot
        else:
            await slots.acquire()
        try:
            if call is not None:
                await call.attempt(request, wait)
            self.stats.requests += 1
            return await self._send_once(request)
        finally:
            slots.release()

    async def _send_once(self, request: PreparedRequest) -> RawResponse:
        session = self._session
        if session is None or session.closed or self._parent is not None:
            session = await self.open()
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        timeout = request.timeout
        if request.deadline - time.monotonic() < timeout:  # the call's deadline comes first
            timeout = max(0.001, request.deadline - time.monotonic())
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),
                headers=request.headers,
                data=request.body,
                timeout=_client_timeout(timeout),
                allow_redirects=False,
                **self._request_kwargs,
            ) as resp:
                body = await _read_body(resp, self.max_response_bytes, request)
                response = RawResponse(
                    status=resp.status, headers=CIMultiDictProxy(resp.headers.copy()), body=body
                )
        except TimeoutError as exc:
            what = (
                f"the {timeout:g}s timeout of an attempt"
                if timeout == request.timeout
                else f"the {timeout:.3g}s left of the call's deadline"
            )
            raise APITimeoutError(
                f"{request.endpoint} ({request.api.name}) got no complete response within {what}",
                cause_type=type(exc).__name__,
                # A timeout while connecting: nothing of the request was written.
                request_sent=False if isinstance(exc, _CONNECT_TIMEOUT) else None,
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            # ``from None``: aiohttp errors can carry the request, and with it the key;
            # their class and (masked) message stay reachable on the error.
            cause = self._mask(str(exc))
            raise APIConnectionError(
                f"{request.endpoint} ({request.api.name}) failed: {type(exc).__name__}: {cause}",
                cause_type=type(exc).__name__,
                cause_message=cause,
                # Refused, DNS or TLS: the connection never carried a byte of the request.
                request_sent=False if isinstance(exc, aiohttp.ClientConnectorError) else None,
            ) from None
        if debug:
            logger.debug(
                "%s %s -> %s in %.1f ms",
                request.method,
                request.url,
                response.status,
                (time.perf_counter() - started) * 1000,
            )
        return response


async def _read_body(resp: aiohttp.ClientResponse, limit: int, request: PreparedRequest) -> bytes:
    """The whole body, or InvalidResponseError as soon as it exceeds ``limit`` bytes.

    The limit counts decompressed bytes: a declared ``Content-Length`` is
    trusted only when no ``Content-Encoding`` can inflate it.
    """
    length = resp.content_length
    if length is not None and not resp.headers.get("content-encoding"):
        if length > limit:
            resp.close()  # the rest is not read: the connection is not reused
            raise _too_large(resp, limit, request)
        return await resp.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            resp.close()
            raise _too_large(resp, limit, request)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(
    resp: aiohttp.ClientResponse, limit: int, request: PreparedRequest
) -> InvalidResponseError:
    return InvalidResponseError(
        f"{request.endpoint} ({request.api.name}) answered HTTP {resp.status} with a body "
        f"larger than max_response_bytes={limit}; it was not read",
        status_code=resp.status,
        headers=CIMultiDictProxy(resp.headers.copy()),
    )


@functools.lru_cache(maxsize=64)
def _url_path(url: str) -> str:
    """The path of a base URL, without its trailing slash (parsed once per URL)."""
    return urlsplit(url).path.rstrip("/")


@functools.lru_cache(maxsize=32)
def _client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """One (immutable) ClientTimeout per distinct timeout, not one per request."""
    return aiohttp.ClientTimeout(total=seconds)


def _with_extra_body(json_body: Any, extra: Mapping[str, Any], endpoint: str) -> Any:
    """The body with ``RequestOptions.extra_body``'s fields set at its top level."""
    if json_body is None:
        return dict(extra)
    if not isinstance(json_body, dict):
        raise InvalidRequestError(f"{endpoint}: extra_body needs a JSON object body")
    return {**json_body, **extra}


def _encode_body(json_body: Any, endpoint: str) -> bytes:
    """Compact UTF-8 JSON; text or numbers that JSON cannot carry are refused."""
    try:
        text = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(
            f"{endpoint}: the body contains text that cannot be encoded as UTF-8 (a lone surrogate)"
        ) from None
    except (ValueError, TypeError) as exc:  # NaN/Infinity, or an object JSON cannot hold
        raise InvalidRequestError(f"{endpoint}: the body is not valid JSON: {exc}") from None


#: aiohttp's timeout while connecting (3.10+): raised before the request is written.
_CONNECT_TIMEOUT: tuple[type[BaseException], ...] = tuple(
    cls for cls in [getattr(aiohttp, "ConnectionTimeoutError", None)] if cls is not None
)


def _never_reached(error: AfterShipError) -> bool:
    """True when ``error`` proves AfterShip did not act: a 429, or a request never sent."""
    if isinstance(error, RateLimitError):
        return True
    return isinstance(error, APIConnectionError) and error.request_sent is False


def _limiter_key(request: PreparedRequest) -> str:
    return request.api.limiter_key(request.endpoint)

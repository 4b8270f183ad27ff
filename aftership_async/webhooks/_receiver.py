"""The framework-free core of the webhook receivers: verify, deduplicate, call, answer.

A delivery goes through, in order:

1. a body over ``max_body`` bytes -> 413;
2. the API's parser verifies the signature over the **raw body** and only then
   decodes it: a missing, wrong or stale signature -> 401, a signed body that is
   not an event -> 400; ``on_event`` is never called for either;
3. the event's key is claimed in the dedupe store: handled already -> 200
   (a duplicate; ``on_event`` is not called), being handled by another delivery
   -> 409 (AfterShip retries it later), store unreachable -> 503;
4. ``on_event(event)`` is awaited, then the answer goes: 200, or 500 when it
   raised (the claim is released so AfterShip's retry is handled again).

``on_event`` runs **before** the answer, by design: a 2xx means the event was
handled (at least once, never lost: a crash or an exception makes AfterShip
retry). Keep it fast, e.g. put the event on your queue or in your database and
return; AfterShip does not document how long it waits for the answer.
"""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from .._errors import (
    ConfigurationError,
    InvalidRequestError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from .._webhooks import _PARSERS, DEFAULT_WEBHOOK_TOLERANCE, WebhookParser, _secret_bytes
from ._dedupe import DEFAULT_DEDUPE_TTL, DEFAULT_LEASE, Claim, DedupeStore, MemoryDedupeStore
from ._events import event_key

__all__ = [
    "DEFAULT_MAX_BODY",
    "OnEvent",
    "ReceiverOptions",
    "ReceiverStats",
    "Reply",
    "WebhookReceiver",
]

logger = logging.getLogger("aftership_async")

#: The largest body accepted by default (1 MiB, aiohttp's own default limit).
DEFAULT_MAX_BODY = 1024 * 1024

#: ``on_event``: a plain or an async callable taking the decoded event.
OnEvent = Callable[[Any], Awaitable[object] | object]


def _positive(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigurationError(f"{name} must be a positive number, got {value!r}")

    return check


@attrs.frozen
class ReceiverOptions:
    """How a receiver checks and deduplicates deliveries (one value for every handler).

    Args:
        store: where handled event keys are kept: a
            :class:`~aftership_async.webhooks.RedisDedupeStore` shared by every
            worker, or ``None`` for a :class:`MemoryDedupeStore` of this receiver.
        tolerance: seconds an event's time may lie in the past (the parser's
            ``tolerance``; ``None`` skips the check). The default accepts every
            retry AfterShip makes (~68 hours).
        dedupe_ttl: seconds a handled event's key is remembered. At least
            ``tolerance``: an older delivery is refused by the time check, a
            younger one is always recognised as a duplicate.
        lease: seconds a delivery being handled holds its key (a crashed
            worker's claim expires after it, so a retry is handled again).
        max_body: the largest body accepted, in bytes (larger: 413).
    """

    store: DedupeStore | None = attrs.field(default=None)
    tolerance: float | None = DEFAULT_WEBHOOK_TOLERANCE
    dedupe_ttl: float = attrs.field(default=DEFAULT_DEDUPE_TTL, validator=_positive("dedupe_ttl"))
    lease: float = attrs.field(default=DEFAULT_LEASE, validator=_positive("lease"))
    max_body: int = attrs.field(default=DEFAULT_MAX_BODY, validator=_positive("max_body"))

    @store.validator
    def _check_store(self, _attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, DedupeStore):
            raise ConfigurationError(
                "store must be a DedupeStore (claim, complete, release), e.g. RedisDedupeStore"
            )

    def __attrs_post_init__(self) -> None:
        tolerance = self.tolerance
        if tolerance is not None and (
            isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0
        ):
            raise ConfigurationError("tolerance must be a non-negative number of seconds or None")
        if tolerance is not None and self.dedupe_ttl < tolerance:
            raise ConfigurationError(
                f"dedupe_ttl ({self.dedupe_ttl:g}s) must be at least the tolerance "
                f"({tolerance:g}s): a retry accepted after its key expired would be handled twice"
            )


@attrs.define
class ReceiverStats:
    """What a receiver answered, by outcome."""

    received: int = 0
    handled: int = 0
    """Events passed to ``on_event`` that returned (answered 200)."""
    duplicates: int = 0
    """Deliveries of an event handled already (200, ``on_event`` not called)."""
    in_progress: int = 0
    """Deliveries of an event another delivery was handling (409)."""
    unverified: int = 0
    """Bad, missing or stale signatures (401)."""
    invalid: int = 0
    """Signed bodies that are not an event (400), or too large (413)."""
    failed: int = 0
    """``on_event`` raised (500)."""
    store_errors: int = 0
    """The dedupe store failed (503)."""


@attrs.frozen
class Reply:
    """The answer to one delivery: a status and a small JSON body."""

    status: int
    outcome: str

    @property
    def body(self) -> dict[str, str]:
        return {"status": self.outcome}


class WebhookReceiver:
    """Verifies, deduplicates and hands one API's webhook deliveries to ``on_event``.

    The framework handlers wrap one: :meth:`aiohttp_handler` and
    :meth:`starlette_endpoint` (or the module's functions of the same names).

    Args:
        secret: the webhook secret from AfterShip's admin (not the API secret).
        on_event: called with each new, verified, decoded event (plain or async).
        api: ``"tracking"`` (default), ``"returns"`` or ``"shipping"``.
        options: a :class:`ReceiverOptions`.
    """

    def __init__(
        self,
        *,
        secret: str,
        on_event: OnEvent,
        api: str = "tracking",
        options: ReceiverOptions | None = None,
    ) -> None:
        _secret_bytes(secret)  # fail at start-up, not on the first delivery
        if not callable(on_event):
            raise ConfigurationError("on_event must be a callable taking the event")
        parser = _PARSERS.get(api) if isinstance(api, str) else None
        if parser is None:
            raise InvalidRequestError(f"api must be one of {sorted(_PARSERS)}, got {api!r}")
        options = options if options is not None else ReceiverOptions()
        if not isinstance(options, ReceiverOptions):
            raise ConfigurationError("options must be a ReceiverOptions")
        self.api = api
        self.parser: WebhookParser[Any] = parser
        self.options = options
        self.store: DedupeStore = (
            options.store if options.store is not None else MemoryDedupeStore()
        )
        self.stats = ReceiverStats()
        self._secret = secret
        self._on_event = on_event

    def __repr__(self) -> str:
        return f"WebhookReceiver(api={self.api!r}, store={self.store!r})"

    def __reduce__(self) -> Any:
        raise TypeError("a WebhookReceiver holds a webhook secret and cannot be pickled")

    async def handle(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Answer one delivery: ``body`` is the raw request body, ``headers`` its headers."""
        self.stats.received += 1
        if len(body) > self.options.max_body:
            self.stats.invalid += 1
            return Reply(413, "too_large")
        try:
            event = self.parser(body, headers, self._secret, tolerance=self.options.tolerance)
        except WebhookVerificationError as exc:
            self.stats.unverified += 1
            logger.warning("%s webhook refused (401, %s): %s", self.api, exc.reason, exc)
            return Reply(401, "unverified")
        except WebhookPayloadError as exc:
            self.stats.invalid += 1
            logger.warning("%s webhook refused (400): %s", self.api, exc)
            return Reply(400, "invalid")
        key = event_key(event)
        token = secrets.token_hex(8)
        if key is not None:
            try:
                claim = await self.store.claim(key, token, self.options.lease)
            except Exception as exc:  # any store: Redis errors, timeouts, user code
                self.stats.store_errors += 1
                logger.warning(
                    "%s webhook deferred (503): the dedupe store failed (%s)",
                    self.api,
                    type(exc).__name__,
                )
                return Reply(503, "store_unavailable")
            if claim is Claim.DONE:
                self.stats.duplicates += 1
                logger.debug("%s webhook: a duplicate delivery, answered 200", self.api)
                return Reply(200, "duplicate")
            if claim is Claim.PENDING:
                self.stats.in_progress += 1
                return Reply(409, "in_progress")
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except BaseException as exc:
            if key is not None:
                await self._release(key, token)
            if not isinstance(exc, Exception):
                raise  # cancelled: the claim is released, AfterShip retries
            self.stats.failed += 1
            logger.exception("%s webhook: on_event raised (answered 500)", self.api)
            return Reply(500, "failed")
        self.stats.handled += 1
        if key is not None:
            try:
                await self.store.complete(key, token, self.options.dedupe_ttl)
            except Exception as exc:
                self.stats.store_errors += 1
                logger.warning(
                    "%s webhook handled, but the dedupe store failed to record it (%s): "
                    "a retry would be handled again",
                    self.api,
                    type(exc).__name__,
                )
        return Reply(200, "handled")

    async def _release(self, key: str, token: str) -> None:
        try:
            await self.store.release(key, token)
        except Exception as exc:
            self.stats.store_errors += 1
            logger.warning(
                "%s webhook: releasing a failed event's claim failed (%s): its retries wait "
                "for the lease to expire",
                self.api,
                type(exc).__name__,
            )

    def aiohttp_handler(self) -> Callable[[Any], Awaitable[Any]]:
        """An aiohttp request handler: ``app.router.add_post(path, receiver.aiohttp_handler())``."""
        from ._aiohttp import make_handler

        return make_handler(self)

    def starlette_endpoint(self) -> Callable[[Any], Awaitable[Any]]:
        """A Starlette/FastAPI endpoint (needs the ``starlette`` extra)."""
        from . import _load_starlette

        endpoint: Callable[[Any], Awaitable[Any]] = _load_starlette().make_endpoint(self)
        return endpoint

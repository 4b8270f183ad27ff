"""Ready webhook receivers for aiohttp and Starlette/FastAPI, with deduplication.

::

    from aiohttp import web
    from aftership_async import webhooks

    async def on_event(event):  # a TrackingWebhookEvent, verified, new
        await queue.put(event)

    app = web.Application()
    app.add_routes([web.post("/webhooks/aftership",
                             webhooks.aiohttp_handler(secret=SECRET, on_event=on_event))])

Each handler reads the raw body, verifies its signature before parsing it
(401 when it fails, 400 when a signed body is not an event), drops a delivery
of an event it handled already (200, ``on_event`` not called), awaits
``on_event`` and answers 200 (500 when it raised: AfterShip retries). See
:class:`WebhookReceiver` for the whole contract and :class:`ReceiverOptions`
for the dedupe store (in memory, or :class:`RedisDedupeStore` shared by every
worker), the time tolerance and the body limit.

Importing this module imports neither Starlette nor redis-py: each is
imported when first used (the ``starlette`` and ``redis`` extras).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from .._errors import ConfigurationError

# Registers the APIs' webhook parsers the receivers look up by name; the package
# root imports it lazily now, so a direct ``import aftership_async.webhooks`` must.
from .._generated import _webhooks as _generated_parsers  # noqa: F401
from ._dedupe import (
    DEFAULT_DEDUPE_TTL,
    DEFAULT_LEASE,
    Claim,
    DedupeStore,
    MemoryDedupeStore,
)
from ._events import event_key, is_newer
from ._receiver import (
    DEFAULT_MAX_BODY,
    OnEvent,
    ReceiverOptions,
    ReceiverStats,
    Reply,
    WebhookReceiver,
)
from ._redis_dedupe import RedisDedupeStore  # redis-py is imported when one is built

__all__ = [
    "DEFAULT_DEDUPE_TTL",
    "DEFAULT_LEASE",
    "DEFAULT_MAX_BODY",
    "Claim",
    "DedupeStore",
    "MemoryDedupeStore",
    "OnEvent",
    "ReceiverOptions",
    "ReceiverStats",
    "RedisDedupeStore",
    "Reply",
    "WebhookReceiver",
    "aiohttp_handler",
    "event_key",
    "is_newer",
    "starlette_endpoint",
]

STARLETTE_HINT = "pip install 'aftership-async[starlette]' (or fastapi)"


def aiohttp_handler(
    *,
    secret: str,
    on_event: OnEvent,
    api: str = "tracking",
    options: ReceiverOptions | None = None,
) -> Callable[[Any], Awaitable[Any]]:
    """An aiohttp handler receiving ``api``'s webhooks: ``web.post(path, aiohttp_handler(...))``.

    Args:
        secret: the webhook secret (AfterShip admin), not the API secret.
        on_event: called with each new verified event before the 200 answer
            (plain or async; keep it fast: enqueue and return).
        api: ``"tracking"``, ``"returns"`` or ``"shipping"``.
        options: dedupe store, tolerance, body limit (:class:`ReceiverOptions`).
    """
    return WebhookReceiver(
        secret=secret, on_event=on_event, api=api, options=options
    ).aiohttp_handler()


def starlette_endpoint(
    *,
    secret: str,
    on_event: OnEvent,
    api: str = "tracking",
    options: ReceiverOptions | None = None,
) -> Callable[[Any], Awaitable[Any]]:
    """A Starlette/FastAPI endpoint receiving ``api``'s webhooks (the ``starlette`` extra).

    Starlette: ``Route(path, starlette_endpoint(...), methods=["POST"])``;
    FastAPI: ``app.add_api_route(path, starlette_endpoint(...), methods=["POST"])``.
    The arguments are :func:`aiohttp_handler`'s.
    """
    return WebhookReceiver(
        secret=secret, on_event=on_event, api=api, options=options
    ).starlette_endpoint()


def _load_starlette() -> ModuleType:
    try:
        from . import _starlette
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] == "starlette":
            raise ConfigurationError(
                f"the Starlette endpoint needs Starlette: {STARLETTE_HINT}"
            ) from None
        raise
    return _starlette

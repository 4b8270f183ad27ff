"""aftership-async: an asyncio SDK for the AfterShip Tracking, Shipping and Returns APIs.

Everything a user needs is importable from here: the :class:`AfterShip`
client, the exceptions, ``UNSET``, webhook verification (:func:`parse_webhook`),
and every request/response model and enum
of the three APIs (also available per API as ``aftership_async.tracking``,
``aftership_async.shipping`` and ``aftership_async.returns``).
"""

# The public face of the package: the generated layer (``_generated``: the client,
# models, enums, webhook parsers) sits on top of the runtime and imports runtime
# submodules only; the runtime imports nothing generated. This module and the
# per-API facades re-export both.
#
# Importing this module imports almost nothing: each public name is imported from
# its module when first looked up (PEP 562 ``__getattr__`` below), so a process
# pays for the models, the transport (aiohttp) or the webhook receivers only when
# it uses them. Type checkers and IDEs read the ``TYPE_CHECKING`` imports.

from typing import TYPE_CHECKING

from ._generated import returns as _returns
from ._generated import shipping as _shipping
from ._generated import tracking as _tracking
from ._lazy import lazy_loader

if TYPE_CHECKING:
    # The receivers (aiohttp, Starlette/FastAPI) and their dedupe stores.
    from . import webhooks
    from ._bulk import (
        Bulk,
        BulkFailure,
        BulkResult,
        BulkRun,
        BulkStats,
        BulkSuccess,
        TrackingRef,
    )
    from ._envelope import CorruptResponseError
    from ._errors import (
        AfterShipError,
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConfigurationError,
        ConflictError,
        InternalServerError,
        InvalidDataError,
        InvalidRequestError,
        InvalidResponseError,
        LabelAlreadyExistsError,
        NotFoundError,
        OutcomeUnknownError,
        PermissionDeniedError,
        RateLimitError,
        SessionClosedError,
        TrackingAlreadyExistsError,
        UnprocessableEntityError,
        WebhookError,
        WebhookPayloadError,
        WebhookVerificationError,
    )
    from ._generated._bulk import TrackingInput
    from ._generated._client import API_VERSIONS, AfterShip
    from ._generated._webhooks import (
        TRACKING_WEBHOOK_VERSION,
        parse_returns_webhook,
        parse_shipping_webhook,
        parse_webhook,
    )
    from ._generated.returns import *  # noqa: F403
    from ._generated.shipping import *  # noqa: F403
    from ._generated.tracking import *  # noqa: F403
    from ._hooks import CallSpan, CallTracer, Hooks, RequestEvent
    from ._network import Network
    from ._policies import (
        NO_RETRY,
        Limiter,
        Permit,
        RateLimit,
        RateLimiter,
        RateLimitSetting,
        RetryPolicy,
        bulk_traffic,
    )
    from ._redis_limiter import RedisLimiterStats, RedisRateLimiter
    from ._response import APIResponse, RateLimitState
    from ._transport import RequestOptions, TransportStats
    from ._types import UNSET, Model, OpenEnum, Unset, malformed_fields
    from ._version import __version__
    from ._versions import AfterShipVersionWarning
    from ._webhooks import (
        DEFAULT_WEBHOOK_TOLERANCE,
        WEBHOOK_SIGNATURE_HEADER,
        WebhookParser,
        verify_webhook_signature,
        webhook_headers,
        webhook_signature,
    )

__all__ = [
    "API_VERSIONS",
    "APIResponse",
    "RateLimitState",
    "AfterShipVersionWarning",
    "NO_RETRY",
    "Bulk",
    "BulkFailure",
    "BulkResult",
    "BulkSuccess",
    "BulkRun",
    "BulkStats",
    "CallSpan",
    "CallTracer",
    "Hooks",
    "Limiter",
    "Model",
    "Network",
    "RequestEvent",
    "Permit",
    "RateLimit",
    "RateLimitSetting",
    "RateLimiter",
    "RedisLimiterStats",
    "RedisRateLimiter",
    "RetryPolicy",
    "TrackingInput",
    "TrackingRef",
    "TransportStats",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AfterShip",
    "AfterShipError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "CorruptResponseError",
    "InternalServerError",
    "InvalidDataError",
    "InvalidRequestError",
    "InvalidResponseError",
    "LabelAlreadyExistsError",
    "NotFoundError",
    "OutcomeUnknownError",
    "OpenEnum",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestOptions",
    "SessionClosedError",
    "TrackingAlreadyExistsError",
    "UnprocessableEntityError",
    "Unset",
    "DEFAULT_WEBHOOK_TOLERANCE",
    "TRACKING_WEBHOOK_VERSION",
    "WEBHOOK_SIGNATURE_HEADER",
    "WebhookError",
    "WebhookParser",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "__version__",
    "bulk_traffic",
    "malformed_fields",
    "parse_returns_webhook",
    "parse_shipping_webhook",
    "parse_webhook",
    "verify_webhook_signature",
    "webhook_headers",
    "webhook_signature",
    "webhooks",
]
# One ``+=`` per API over the generated literal lists: the form type checkers follow.
__all__ += _tracking.__all__
__all__ += _shipping.__all__
__all__ += _returns.__all__

# Each public name's defining module, relative to this package.
_MODULES: dict[str, str] = {
    **dict.fromkeys(
        ("Bulk", "BulkFailure", "BulkResult", "BulkRun", "BulkStats", "BulkSuccess", "TrackingRef"),
        "._bulk",
    ),
    **dict.fromkeys(("CorruptResponseError",), "._envelope"),
    **dict.fromkeys(
        (
            "AfterShipError",
            "APIConnectionError",
            "APIError",
            "APITimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "ClientClosedError",
            "ConfigurationError",
            "ConflictError",
            "InternalServerError",
            "InvalidDataError",
            "InvalidRequestError",
            "InvalidResponseError",
            "LabelAlreadyExistsError",
            "NotFoundError",
            "OutcomeUnknownError",
            "PermissionDeniedError",
            "RateLimitError",
            "SessionClosedError",
            "TrackingAlreadyExistsError",
            "UnprocessableEntityError",
            "WebhookError",
            "WebhookPayloadError",
            "WebhookVerificationError",
        ),
        "._errors",
    ),
    **dict.fromkeys(("TrackingInput",), "._generated._bulk"),
    **dict.fromkeys(("API_VERSIONS", "AfterShip"), "._generated._client"),
    **dict.fromkeys(
        (
            "TRACKING_WEBHOOK_VERSION",
            "parse_returns_webhook",
            "parse_shipping_webhook",
            "parse_webhook",
        ),
        "._generated._webhooks",
    ),
    **dict.fromkeys(("CallSpan", "CallTracer", "Hooks", "RequestEvent"), "._hooks"),
    **dict.fromkeys(("Network",), "._network"),
    **dict.fromkeys(
        (
            "NO_RETRY",
            "Limiter",
            "Permit",
            "RateLimit",
            "RateLimiter",
            "RateLimitSetting",
            "RetryPolicy",
            "bulk_traffic",
        ),
        "._policies",
    ),
    **dict.fromkeys(("RedisLimiterStats", "RedisRateLimiter"), "._redis_limiter"),
    **dict.fromkeys(("APIResponse", "RateLimitState"), "._response"),
    **dict.fromkeys(("RequestOptions", "TransportStats"), "._transport"),
    **dict.fromkeys(("UNSET", "Model", "OpenEnum", "Unset", "malformed_fields"), "._types"),
    **dict.fromkeys(("__version__",), "._version"),
    **dict.fromkeys(("AfterShipVersionWarning",), "._versions"),
    **dict.fromkeys(
        (
            "DEFAULT_WEBHOOK_TOLERANCE",
            "WEBHOOK_SIGNATURE_HEADER",
            "WebhookParser",
            "verify_webhook_signature",
            "webhook_headers",
            "webhook_signature",
        ),
        "._webhooks",
    ),
    # The receivers, and the per-API facade modules (also reachable as attributes).
    "webhooks": ".webhooks",
    "tracking": ".tracking",
    "shipping": ".shipping",
    "returns": ".returns",
}
_MODULES.update(dict.fromkeys(_tracking.__all__, "._generated.tracking"))
_MODULES.update(dict.fromkeys(_shipping.__all__, "._generated.shipping"))
_MODULES.update(dict.fromkeys(_returns.__all__, "._generated.returns"))

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_loader(__name__, _MODULES, globals(), __all__)

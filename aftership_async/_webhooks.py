"""Verify and decode AfterShip webhooks of the three APIs.

AfterShip signs each delivery with ``base64(HMAC-SHA256(webhook secret, raw
body))``; only the header differs (../shared/reference/webhooks.md §0):

* Tracking: ``aftership-hmac-sha256`` -> ``parse_webhook``
  (:class:`~aftership_async.TrackingWebhookEvent`, ``msg`` is the Tracking);
* Returns: ``as-signature-hmac-sha256`` (older accounts ``am-webhook-signature:
  hmac-sha256=...``) -> ``parse_returns_webhook`` (``data`` is the Return);
* Shipping: ``am-webhook-signature: hmac-sha256=...`` -> ``parse_shipping_webhook``.

Each checks the signature first, in constant time, and only then reads the
body; the event's time must be within ``tolerance`` of now (by default wide
enough for every retry AfterShip makes). Those per-API facts are declared in
each spec (``x-aftership.webhooks``); the generated layer makes one
:class:`WebhookParser` per API from them, so this module names no API's
headers and imports no model.

Every failure is a typed error and never a partly decoded event:
:class:`WebhookVerificationError` (answer 401) or :class:`WebhookPayloadError`
(answer 400). A missing or empty secret is a :class:`ConfigurationError`
(fail closed: answer 500). No error message contains the secret or the
signature the body should have had.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._errors import (
    ConfigurationError,
    InvalidRequestError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from ._transport import ApiDescription
from ._versions import WEBHOOK_VERSION_HEADER, VersionWatch

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "AFTERSHIP_WEBHOOK_RETRY_WINDOW",
    "DEFAULT_WEBHOOK_TOLERANCE",
    "WEBHOOK_SIGNATURE_HEADER",
    "WebhookParser",
    "verify_webhook_signature",
    "webhook_headers",
    "webhook_signature",
]

#: The request header carrying the signature of a Tracking webhook.
WEBHOOK_SIGNATURE_HEADER = "aftership-hmac-sha256"

#: Warns once per process and served webhook version (webhook handlers have no client).
_WEBHOOK_VERSIONS = VersionWatch()

#: AfterShip's retry schedule for an undelivered event: 14 attempts, the n-th retry
#: 2**n x 30 s after the one before, so the last one comes 245,730 s (~68.3 h) after the
#: event, with the event's original body and ``ts`` (../shared/reference/webhooks.md §2.5).
AFTERSHIP_WEBHOOK_RETRY_WINDOW = sum(30 * 2**n for n in range(13))

#: Seconds an event's ``ts`` may lie in the past by default: AfterShip's whole retry window
#: plus an hour, so that no retry AfterShip makes is refused. ``ts`` is not covered by any
#: signed timestamp, so this bounds replays only loosely: drop duplicates by ``event_id``.
DEFAULT_WEBHOOK_TOLERANCE = float(AFTERSHIP_WEBHOOK_RETRY_WINDOW + 3600)

#: Seconds an event's ``ts`` may lie in the future (clock skew), whatever the tolerance.
_FUTURE_SKEW = 300.0

Body = bytes | bytearray | memoryview


def webhook_signature(body: Body, secret: str) -> str:
    """The ``aftership-hmac-sha256`` value AfterShip sends for ``body``.

    For tests of your own handler: sign a body the way AfterShip does.
    """
    key = _secret_bytes(secret)
    return base64.b64encode(hmac.new(key, _body_bytes(body), hashlib.sha256).digest()).decode()


def verify_webhook_signature(
    body: Body,
    signature: str | None,
    secret: str,
    *,
    header: str = WEBHOOK_SIGNATURE_HEADER,
    prefix: str = "",
) -> None:
    """Raise :class:`WebhookVerificationError` unless ``signature`` signs ``body``.

    ``body`` is the raw request body, byte for byte (``await request.read()``),
    never re-serialized JSON; ``signature`` is the signature header's value
    (``None`` when absent): bare base64, or for a header whose format has a
    ``prefix`` (``am-webhook-signature: hmac-sha256=...``) with or without it.
    ``header`` names the header in error messages. The comparison takes
    constant time.
    """
    expected = webhook_signature(body, secret).encode("ascii")
    if signature is None:
        raise WebhookVerificationError(f"the {header} header is missing", reason="missing")
    if not isinstance(signature, str):
        raise WebhookVerificationError(f"the {header} header must be a string", reason="mismatch")
    value = signature.strip()
    if prefix and value[: len(prefix)].lower() == prefix:
        value = value[len(prefix) :].strip()
    if not value:
        raise WebhookVerificationError(f"the {header} header is empty", reason="missing")
    if not hmac.compare_digest(value.encode("utf-8", "replace"), expected):
        raise WebhookVerificationError(
            f"the {header} signature does not match the body "
            "(wrong webhook secret, or the body was changed or re-serialized)",
            reason="mismatch",
        )


E = TypeVar("E")

#: Every API's parser, by API name, as the generated layer made them (for webhook_headers).
_PARSERS: dict[str, WebhookParser[Any]] = {}


@attrs.frozen
class WebhookParser(Generic[E]):
    """Verifies one API's webhook deliveries and decodes them.

    ``event = parse_webhook(body, headers, secret)``.

    One instance per API, made by the generated layer from the spec's
    ``x-aftership.webhooks`` (``aftership_async.parse_webhook`` for Tracking,
    ``parse_returns_webhook``, ``parse_shipping_webhook``).
    """

    api: str
    #: (signature header, prefix of its value) in the order they are looked for; the first
    #: present one counts. The prefix is "" or "hmac-sha256=".
    headers: tuple[tuple[str, str], ...]
    model: type[E]
    #: Decodes the body into ``model``.
    converter: cattrs.Converter = attrs.field(repr=False)
    #: The body field dating the event: "ts" (Unix seconds) or an ISO 8601 field.
    time_field: str
    #: Whether the time field must be there (Tracking's ``ts`` always is).
    time_required: bool = False
    #: The pinned API whose version ``as-webhook-version`` is compared with (None: unversioned).
    pinned: ApiDescription | None = None
    #: The event's field that receives the delivery's ``as-webhook-version``.
    version_field: str | None = None
    #: Attribute paths (model attributes, then keys of a JSON object) whose values make the
    #: delivery's dedupe key, the same across AfterShip's retries (``x-aftership.webhooks.id``).
    id_fields: tuple[tuple[str, ...], ...] = ()
    #: Attribute paths ordering two events of one resource; the first both carry decides
    #: (``x-aftership.webhooks.order``; see :func:`aftership_async.webhooks.is_newer`).
    order_fields: tuple[tuple[str, ...], ...] = ()

    def __attrs_post_init__(self) -> None:
        _PARSERS[self.api] = self

    def __call__(
        self,
        body: Body,
        headers: Mapping[str, str],
        secret: str,
        *,
        tolerance: float | None = DEFAULT_WEBHOOK_TOLERANCE,
    ) -> E:
        """Verify a webhook delivery and decode it.

        Args:
            body: the raw request body bytes, exactly as received.
            headers: the request headers (any mapping; names match case-insensitively).
            secret: the webhook secret (AfterShip admin: Settings > Notifications).
            tolerance: seconds the event's time (Tracking's ``ts``, Returns'
                ``created_at``, Shipping's ``date_time``) may lie in the past;
                ``None`` skips the check. The default (about 69 hours) accepts
                every retry AfterShip makes: it retries an undelivered event 14
                times over about 68 hours with the original body, so a narrower
                window loses the events sent while the receiver was down. A time
                more than ``min(tolerance, 300)`` seconds in the future is refused
                as clock trouble. Drop duplicates by the event's id (Tracking
                ``event_id``, Returns ``id``; Shipping has none: use
                ``(event_type, data["id"], data["status"])``).

        The event's ``webhook_version`` is the delivery's ``as-webhook-version``
        header. When it names another version than the one the models describe
        (``TRACKING_WEBHOOK_VERSION`` for Tracking), an
        :class:`AfterShipVersionWarning` is issued (and logged) once per version per
        process: set the webhook URL's version in AfterShip's admin to match, or
        upgrade the SDK. For Shipping, check ``event.meta.code``: a failed
        asynchronous request arrives as a webhook too.

        Raises:
            WebhookVerificationError: no, several or a wrong signature; a stale
                or future time. Checked before anything is parsed.
            WebhookPayloadError: a signed body that is not a valid event.
            ConfigurationError: an empty or non-string secret.
            InvalidRequestError: ``body`` is a ``str`` (pass the raw bytes).
        """
        return _parse(self, body, headers, secret, tolerance)


def webhook_headers(body: Body, secret: str, api: str = "tracking") -> dict[str, str]:
    """The signature header AfterShip sends with ``body`` for ``api``'s webhooks.

    For tests of your own handler: ``{"aftership-hmac-sha256": ...}`` (Tracking),
    ``{"as-signature-hmac-sha256": ...}`` (Returns), ``{"am-webhook-signature":
    "hmac-sha256=..."}`` (Shipping).
    """
    kind = _PARSERS.get(api)
    if kind is None:
        raise InvalidRequestError(f"api must be one of {sorted(_PARSERS)}")
    header, prefix = kind.headers[0]
    return {header: prefix + webhook_signature(body, secret)}


def _parse(
    kind: WebhookParser[E],
    body: Body,
    headers: Mapping[str, str],
    secret: str,
    tolerance: float | None,
) -> E:
    if tolerance is not None and (not isinstance(tolerance, (int, float)) or tolerance < 0):
        raise InvalidRequestError("tolerance must be a non-negative number of seconds or None")
    (header, prefix), signature = _signature_header(headers, kind.headers)
    verify_webhook_signature(body, signature, secret, header=header, prefix=prefix)
    raw = bytes(body)
    payload = _decode_json(raw)
    if not isinstance(payload, dict):
        raise WebhookPayloadError(
            f"the webhook body is a JSON {_kind(payload)}, not an object", body=raw
        )
    if tolerance is not None:
        moment = payload.get(kind.time_field)
        if kind.time_field == "ts":
            _check_timestamp(moment, tolerance, raw)
        elif moment is not None or kind.time_required:
            _check_timestamp(_epoch(moment, kind.time_field, raw), tolerance, raw)
    version = _header(headers, WEBHOOK_VERSION_HEADER)
    if kind.pinned is not None:
        _WEBHOOK_VERSIONS.check(kind.pinned, version, what="webhook")
    name = kind.model.__name__
    try:
        event = kind.converter.structure(payload, kind.model)
    except Exception as exc:  # the structure boundary: cattrs, enums, dates raise many kinds
        raise WebhookPayloadError(
            f"the webhook body is not a {name}: {_reason(exc)}", body=raw
        ) from exc
    if kind.version_field is not None:
        setattr(event, kind.version_field, version)
    return event


def _epoch(value: Any, field: str, raw: bytes) -> float:
    """Unix seconds of an ISO 8601 body field (naive means UTC)."""
    if not isinstance(value, str):
        raise WebhookPayloadError(
            f"the webhook body's {field!r} is not a date-time (got {_kind(value)})", body=raw
        )
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise WebhookPayloadError(
            f"the webhook body's {field!r} is not an ISO 8601 date-time", body=raw
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name from any mapping (None when absent)."""
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value.strip() or None
    return None


def _signature_header(
    headers: Mapping[str, str], formats: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], str | None]:
    """((header, prefix), value) of the first signature header present among ``formats``."""
    if not isinstance(headers, Mapping):
        raise InvalidRequestError("headers must be a mapping of the request headers")
    for name, prefix in formats:
        values = {
            value for key, value in headers.items() if isinstance(key, str) and key.lower() == name
        }
        if len(values) > 1:
            raise WebhookVerificationError(
                f"the request has several different {name} headers", reason="ambiguous"
            )
        if values:
            return (name, prefix), values.pop()
    return formats[0], None


def _check_timestamp(ts: Any, tolerance: float, raw: bytes) -> None:
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or ts != ts:
        raise WebhookPayloadError(
            f"the webhook body has no numeric 'ts' (got {_kind(ts)})", body=raw
        )
    try:
        age = time.time() - float(ts)
    except OverflowError:
        raise WebhookPayloadError("the webhook body's 'ts' is out of range", body=raw) from None
    if age > tolerance:
        raise WebhookVerificationError(
            f"the webhook event is {age:.0f}s old, more than the {tolerance:g}s tolerance "
            "(a replay, or a retried delivery: see parse_webhook's tolerance)",
            reason="expired",
        )
    if -age > min(tolerance, _FUTURE_SKEW):
        raise WebhookVerificationError(
            f"the webhook event's ts is {-age:.0f}s in the future, more than the "
            f"{min(tolerance, _FUTURE_SKEW):g}s allowed (check the clock)",
            reason="future",
        )


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise WebhookPayloadError(
            f"the webhook body is not valid JSON: {_reason(exc)}", body=raw
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _secret_bytes(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret:
        # Fail closed: an unset secret must never mean "accept everything".
        raise ConfigurationError("the webhook secret must be a non-empty string")
    return secret.encode()


def _body_bytes(body: Body) -> bytes:
    if isinstance(body, str):
        raise InvalidRequestError(
            "the webhook body must be the raw request bytes (aiohttp: await request.read()), "
            "not str: a decoded or re-serialized body does not match the signature"
        )
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise InvalidRequestError(f"the webhook body must be bytes, got {type(body).__name__}")
    return bytes(body)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."

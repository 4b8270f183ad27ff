"""Verify and decode AfterShip Tracking webhooks.

AfterShip POSTs each event to the merchant's URL with the header
``aftership-hmac-sha256: base64(HMAC-SHA256(webhook secret, raw body))``.
:func:`parse_webhook` checks that signature first, in constant time, and only
then reads the body: the JSON must decode into a
:class:`~aftership_async.TrackingWebhookEvent` (the event and the full
``Tracking`` in ``msg``), and its ``ts`` must be within ``tolerance`` seconds
of now, which bounds how long a captured delivery can be replayed.

Every failure is a typed error and never a partly decoded event:
:class:`WebhookVerificationError` (answer 401) or :class:`WebhookPayloadError`
(answer 400). A missing or empty secret is a :class:`ConfigurationError`
(fail closed: answer 500). No error message contains the secret or the
signature the body should have had.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from aftership_async_generated._converter import CONVERTER
from aftership_async_generated.tracking.models import TrackingWebhookEvent

from ._errors import (
    ConfigurationError,
    InvalidRequestError,
    WebhookPayloadError,
    WebhookVerificationError,
)

__all__ = [
    "DEFAULT_WEBHOOK_TOLERANCE",
    "WEBHOOK_SIGNATURE_HEADER",
    "parse_webhook",
    "verify_webhook_signature",
    "webhook_signature",
]

#: The request header carrying the signature of a Tracking webhook.
WEBHOOK_SIGNATURE_HEADER = "aftership-hmac-sha256"

#: Seconds an event's ``ts`` may lie in the past (or future) by default.
DEFAULT_WEBHOOK_TOLERANCE = 300.0

Body = bytes | bytearray | memoryview


def webhook_signature(body: Body, secret: str) -> str:
    """The ``aftership-hmac-sha256`` value AfterShip sends for ``body``.

    For tests of your own handler: sign a body the way AfterShip does.
    """
    key = _secret_bytes(secret)
    return base64.b64encode(hmac.new(key, _body_bytes(body), hashlib.sha256).digest()).decode()


def verify_webhook_signature(body: Body, signature: str | None, secret: str) -> None:
    """Raise :class:`WebhookVerificationError` unless ``signature`` signs ``body``.

    ``body`` is the raw request body, byte for byte (``await request.read()``),
    never re-serialized JSON; ``signature`` is the ``aftership-hmac-sha256``
    header (``None`` when absent). The comparison takes constant time.
    """
    expected = webhook_signature(body, secret).encode("ascii")
    if signature is None:
        raise WebhookVerificationError(
            f"the {WEBHOOK_SIGNATURE_HEADER} header is missing", reason="missing"
        )
    if not isinstance(signature, str):
        raise WebhookVerificationError(
            f"the {WEBHOOK_SIGNATURE_HEADER} header must be a string", reason="mismatch"
        )
    if not signature.strip():
        raise WebhookVerificationError(
            f"the {WEBHOOK_SIGNATURE_HEADER} header is empty", reason="missing"
        )
    received = signature.strip().encode("utf-8", "replace")
    if not hmac.compare_digest(received, expected):
        raise WebhookVerificationError(
            f"the {WEBHOOK_SIGNATURE_HEADER} signature does not match the body "
            "(wrong webhook secret, or the body was changed or re-serialized)",
            reason="mismatch",
        )


def parse_webhook(
    body: Body,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float | None = DEFAULT_WEBHOOK_TOLERANCE,
) -> TrackingWebhookEvent:
    """Verify a Tracking webhook delivery and decode it.

    Args:
        body: the raw request body bytes, exactly as received.
        headers: the request headers (any mapping; names match case-insensitively).
        secret: the webhook secret (AfterShip admin: Settings > Notifications).
        tolerance: seconds ``ts`` may differ from now, either way; ``None``
            skips the check. AfterShip retries a failed delivery for up to
            about three days with the event's original ``ts``, so a receiver
            that may be down for longer than ``tolerance`` should widen it (or
            pass ``None``) and drop duplicates by ``event_id`` instead.

    Raises:
        WebhookVerificationError: no, several or a wrong signature; a stale
            or future ``ts``. Checked before anything is parsed.
        WebhookPayloadError: a signed body that is not a valid event.
        ConfigurationError: an empty or non-string secret.
        InvalidRequestError: ``body`` is a ``str`` (pass the raw bytes).
    """
    if tolerance is not None and (not isinstance(tolerance, (int, float)) or tolerance < 0):
        raise InvalidRequestError("tolerance must be a non-negative number of seconds or None")
    verify_webhook_signature(body, _signature_header(headers), secret)
    raw = bytes(body)
    payload = _decode_json(raw)
    if not isinstance(payload, dict):
        raise WebhookPayloadError(
            f"the webhook body is a JSON {_kind(payload)}, not an object", body=raw
        )
    if tolerance is not None:
        _check_timestamp(payload.get("ts"), tolerance, raw)
    try:
        return CONVERTER.structure(payload, TrackingWebhookEvent)
    except Exception as exc:  # the structure boundary: cattrs, enums, dates raise many kinds
        raise WebhookPayloadError(
            f"the webhook body is not a TrackingWebhookEvent: {_reason(exc)}", body=raw
        ) from exc


def _signature_header(headers: Mapping[str, str]) -> str | None:
    if not isinstance(headers, Mapping):
        raise InvalidRequestError("headers must be a mapping of the request headers")
    values = {
        value
        for name, value in headers.items()
        if isinstance(name, str) and name.lower() == WEBHOOK_SIGNATURE_HEADER
    }
    if len(values) > 1:
        raise WebhookVerificationError(
            f"the request has several different {WEBHOOK_SIGNATURE_HEADER} headers",
            reason="ambiguous",
        )
    return values.pop() if values else None


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
    if -age > tolerance:
        raise WebhookVerificationError(
            f"the webhook event's ts is {-age:.0f}s in the future, more than the "
            f"{tolerance:g}s tolerance (check the clock)",
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

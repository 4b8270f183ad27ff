"""Returns and Shipping webhooks: verified and decoded the way Tracking's are.

Facts: ../shared/reference/webhooks.md §0, §3, §4 (each API's signature header,
prefix, event time field and version header).
"""

from __future__ import annotations

import datetime as dt
import hmac as hmac_module
import json
import warnings
from typing import Any

import pytest

from aftership_async import (
    AfterShipVersionWarning,
    Return,
    ReturnsWebhookEvent,
    ReturnsWebhookEventCode,
    ShippingWebhookEvent,
    WebhookPayloadError,
    WebhookVerificationError,
    parse_returns_webhook,
    parse_shipping_webhook,
    parse_webhook,
    webhook_headers,
    webhook_signature,
)
from aftership_async._webhooks import DEFAULT_WEBHOOK_TOLERANCE

from ..specdata import sample, schema

SECRET = "whsec-all-apis-0123"


def _iso(delta: dt.timedelta = dt.timedelta()) -> str:
    return (dt.datetime.now(dt.UTC) - delta).isoformat().replace("+00:00", "Z")


def returns_event(**overrides: Any) -> dict[str, Any]:
    event = {
        "id": "6f2b6a0c9e5a4a3cb8f4a1d2e3f40516",
        "event": "return.approved",
        "created_at": _iso(),
        "modified": {"approval_status": {"from": "submitted", "to": "approved"}},
        "data": sample("returns", schema("returns", "Return")),
    }
    event.update(overrides)
    return event


def shipping_event(**overrides: Any) -> dict[str, Any]:
    event = {
        "event_type": "create_a_label",
        "date_time": _iso(),
        "meta": {"code": 200, "message": "OK", "details": []},
        "data": {"id": "lbl-1", "status": "created", "tracking_numbers": ["1Z999"]},
    }
    event.update(overrides)
    return event


def body_of(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def test_each_api_signs_with_its_own_header() -> None:
    body = b'{"x":1}'
    digest = webhook_signature(body, SECRET)
    assert webhook_headers(body, SECRET) == {"aftership-hmac-sha256": digest}
    assert webhook_headers(body, SECRET, "returns") == {"as-signature-hmac-sha256": digest}
    assert webhook_headers(body, SECRET, "shipping") == {
        "am-webhook-signature": "hmac-sha256=" + digest
    }


def test_a_returns_event_decodes_into_the_typed_return() -> None:
    body = body_of(returns_event())
    event = parse_returns_webhook(body, webhook_headers(body, SECRET, "returns"), SECRET)
    assert isinstance(event, ReturnsWebhookEvent) and isinstance(event.data, Return)
    assert event.event is ReturnsWebhookEventCode.RETURN_APPROVED
    assert event.id == "6f2b6a0c9e5a4a3cb8f4a1d2e3f40516"
    assert event.modified == {"approval_status": {"from": "submitted", "to": "approved"}}
    assert event.webhook_version is None


def test_returns_legacy_header_with_prefix_is_accepted() -> None:
    body = body_of(returns_event())
    legacy = {"AM-Webhook-Signature": "hmac-sha256=" + webhook_signature(body, SECRET)}
    assert parse_returns_webhook(body, legacy, SECRET).event == "return.approved"


def test_unknown_returns_events_still_decode() -> None:
    body = body_of(returns_event(event="return.refund.created"))
    event = parse_returns_webhook(body, webhook_headers(body, SECRET, "returns"), SECRET)
    assert event.event == "return.refund.created" and not event.event.is_known


@pytest.mark.parametrize(
    ("parse", "api", "payload"),
    [
        (parse_returns_webhook, "returns", returns_event()),
        (parse_shipping_webhook, "shipping", shipping_event()),
    ],
)
def test_wrong_missing_or_crossed_signatures_are_refused(
    parse: Any, api: str, payload: dict[str, Any]
) -> None:
    body = body_of(payload)
    ((header, value),) = webhook_headers(body, SECRET, api).items()
    with pytest.raises(WebhookVerificationError) as info:
        parse(body, {}, SECRET)
    assert info.value.reason == "missing"
    with pytest.raises(WebhookVerificationError) as info:
        parse(body, webhook_headers(body, SECRET + "x", api), SECRET)
    assert info.value.reason == "mismatch"
    with pytest.raises(WebhookVerificationError) as info:
        parse(body.replace(b"2", b"3", 1), {header: value}, SECRET)
    assert info.value.reason == "mismatch"
    # Another API's header is not this API's signature.
    with pytest.raises(WebhookVerificationError) as info:
        parse(body, webhook_headers(body, SECRET, "tracking"), SECRET)
    assert info.value.reason == "missing"
    with pytest.raises(WebhookVerificationError) as info:
        parse(body, {header: value, header.upper(): "hmac-sha256=AAAA"}, SECRET)
    assert info.value.reason == "ambiguous"


def test_a_shipping_event_decodes_with_or_without_the_prefix() -> None:
    body = body_of(shipping_event())
    for headers in (
        webhook_headers(body, SECRET, "shipping"),
        {"am-webhook-signature": webhook_signature(body, SECRET)},
    ):
        event = parse_shipping_webhook(body, headers, SECRET)
        assert isinstance(event, ShippingWebhookEvent)
        assert (event.event_type, event.meta.code) == ("create_a_label", 200)
        assert event.data == {"id": "lbl-1", "status": "created", "tracking_numbers": ["1Z999"]}
    # The older Postmen name of the field decodes too; a failed request arrives as an event.
    body = body_of(shipping_event(event_type=None, event="calculate_rates", meta={"code": 4713}))
    event = parse_shipping_webhook(body, webhook_headers(body, SECRET, "shipping"), SECRET)
    assert (event.event, event.meta.code) == ("calculate_rates", 4713)


@pytest.mark.parametrize(
    ("parse", "api", "make", "field"),
    [
        (parse_returns_webhook, "returns", returns_event, "created_at"),
        (parse_shipping_webhook, "shipping", shipping_event, "date_time"),
    ],
)
def test_every_aftership_retry_is_accepted_and_old_replays_are_not(
    parse: Any, api: str, make: Any, field: str
) -> None:
    retry = body_of(make(**{field: _iso(dt.timedelta(hours=68, minutes=15))}))
    parse(retry, webhook_headers(retry, SECRET, api), SECRET)
    week = body_of(make(**{field: _iso(dt.timedelta(days=7))}))
    with pytest.raises(WebhookVerificationError) as info:
        parse(week, webhook_headers(week, SECRET, api), SECRET)
    assert info.value.reason == "expired"
    assert parse(week, webhook_headers(week, SECRET, api), SECRET, tolerance=None)
    future = body_of(make(**{field: _iso(-dt.timedelta(minutes=10))}))
    with pytest.raises(WebhookVerificationError) as info:
        parse(future, webhook_headers(future, SECRET, api), SECRET)
    assert info.value.reason == "future"
    bad = body_of(make(**{field: "yesterday"}))
    with pytest.raises(WebhookPayloadError, match="ISO 8601"):
        parse(bad, webhook_headers(bad, SECRET, api), SECRET)
    without = body_of({k: v for k, v in make().items() if k != field})
    assert parse(without, webhook_headers(without, SECRET, api), SECRET)  # no time: no check
    assert DEFAULT_WEBHOOK_TOLERANCE > 68.3 * 3600


def test_signed_but_invalid_returns_body_is_a_payload_error() -> None:
    payload = returns_event()
    del payload["data"]
    body = body_of(payload)
    with pytest.raises(WebhookPayloadError, match="not a ReturnsWebhookEvent"):
        parse_returns_webhook(body, webhook_headers(body, SECRET, "returns"), SECRET)


def test_returns_webhook_version_is_watched_shipping_has_none() -> None:
    body = body_of(returns_event())
    headers = {**webhook_headers(body, SECRET, "returns"), "as-webhook-version": "2025-07"}
    with pytest.warns(AfterShipVersionWarning, match="returns API: a webhook of version 2025-07"):
        event = parse_returns_webhook(body, headers, SECRET)
    assert event.webhook_version == "2025-07"
    body = body_of(shipping_event())
    headers = {**webhook_headers(body, SECRET, "shipping"), "as-webhook-version": "2020-01"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", AfterShipVersionWarning)
        parse_shipping_webhook(body, headers, SECRET)


def test_all_three_compare_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = hmac_module.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(a)
        return real(a, b)

    monkeypatch.setattr(hmac_module, "compare_digest", spy)
    for parse, api, payload in (
        (parse_returns_webhook, "returns", returns_event()),
        (parse_shipping_webhook, "shipping", shipping_event()),
    ):
        body = body_of(payload)
        parse(body, webhook_headers(body, SECRET, api), SECRET)
    assert len(calls) == 2
    tracking_body = b"{}"
    with pytest.raises(WebhookVerificationError):
        parse_webhook(tracking_body, {"aftership-hmac-sha256": "forged"}, SECRET)
    assert len(calls) == 3

"""Tracking webhooks: signature first (constant time), then a typed event or a typed error."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from multidict import CIMultiDict

from aftership_async import (
    Checkpoint,
    ConfigurationError,
    InvalidRequestError,
    Tag,
    Tracking,
    TrackingWebhookEvent,
    WebhookError,
    WebhookEventCode,
    WebhookPayloadError,
    WebhookVerificationError,
    parse_webhook,
    verify_webhook_signature,
    webhook_signature,
)
from aftership_async._webhooks import AFTERSHIP_WEBHOOK_RETRY_WINDOW

from .helpers import assert_no_secret, exception_text

SECRET = "whsec-test-0123"
HEADER = "aftership-hmac-sha256"


def event_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": "3f645f5e-530b-4062-8695-db6a64420af8",
        "event": "tracking_update",
        "is_tracking_first_tag": True,
        "msg": {
            "id": "grhrexm6t3hiwkjwq37jd003",
            "tracking_number": "9361289676091361892011",
            "slug": "usps",
            "created_at": "2024-04-10T07:34:56+00:00",
            "updated_at": "2024-04-10T09:00:00Z",
            "active": True,
            "tag": "InTransit",
            "subtag": "InTransit_001",
            "subtag_message": "In Transit",
            "title": "9361289676091361892011",
            "origin_country_iso3": "USA",  # a legacy field: ignored
            "checkpoints": [
                {
                    "checkpoint_time": "2021-01-14T00:52:00",
                    "message": "Departed Shipping Partner Facility, USPS Awaiting Item",
                    "slug": "usps",
                    "tag": "InTransit",
                    "subtag": "InTransit_001",
                }
            ],
        },
        "ts": int(time.time()),
    }
    payload.update(overrides)
    return payload


def signed(payload: Any, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", HEADER: webhook_signature(body, secret)}


def test_signature_matches_an_openssl_vector() -> None:
    # printf '%s' "$BODY" | openssl dgst -sha256 -hmac whsec-test-0123 -binary | base64
    body = (
        b'{"event":"tracking_update","event_id":"94dadd60-ed26-46d0-aa52-3ced925a50ff",'
        b'"msg":{"tag":"InTransit"},"ts":1712741696}'
    )
    assert webhook_signature(body, SECRET) == "t3Qhd5rxul72xWfEIz+g2KgBRnft8eSKZUfHOvw8+kk="
    verify_webhook_signature(body, "t3Qhd5rxul72xWfEIz+g2KgBRnft8eSKZUfHOvw8+kk=", SECRET)
    verify_webhook_signature(
        bytearray(body), " t3Qhd5rxul72xWfEIz+g2KgBRnft8eSKZUfHOvw8+kk= ", SECRET
    )


def test_a_signed_event_decodes_into_typed_models() -> None:
    body, headers = signed(event_payload())
    event = parse_webhook(body, headers, SECRET)
    assert isinstance(event, TrackingWebhookEvent)
    assert event.event is WebhookEventCode.TRACKING_UPDATE and event.event.is_known
    assert event.event_id == "3f645f5e-530b-4062-8695-db6a64420af8"
    assert event.is_tracking_first_tag is True
    assert isinstance(event.msg, Tracking)
    assert event.msg.tag is Tag.INTRANSIT
    assert event.msg.created_at.utcoffset() is not None
    assert isinstance(event.msg.checkpoints, list)
    assert isinstance(event.msg.checkpoints[0], Checkpoint)
    assert abs(event.ts - time.time()) < 60


def test_header_names_match_case_insensitively() -> None:
    body, headers = signed(event_payload())
    value = headers[HEADER]
    for hdrs in (
        {"Aftership-Hmac-Sha256": value},
        {"AFTERSHIP-HMAC-SHA256": value},
        CIMultiDict({"Aftership-Hmac-Sha256": value}),
    ):
        assert parse_webhook(body, hdrs, SECRET).event_id


def test_unknown_event_codes_and_optional_fields_still_decode() -> None:
    payload = event_payload(event="tracking_new_thing")
    del payload["is_tracking_first_tag"]
    body, headers = signed(payload)
    event = parse_webhook(body, headers, SECRET)
    assert event.event == "tracking_new_thing" and not event.event.is_known
    assert not event.is_tracking_first_tag


# -- verification failures -----------------------------------------------


def _verification_error(body: bytes, headers: Any, **kwargs: Any) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as info:
        parse_webhook(body, headers, SECRET, **kwargs)
    assert isinstance(info.value, WebhookError)
    assert_no_secret(exception_text(info.value), [SECRET, webhook_signature(body, SECRET)])
    return info.value


def test_missing_or_empty_signature() -> None:
    body, _ = signed(event_payload())
    assert _verification_error(body, {}).reason == "missing"
    assert _verification_error(body, {HEADER: "  "}).reason == "missing"
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook_signature(body, None, SECRET)


def test_wrong_signatures() -> None:
    body, headers = signed(event_payload())
    good = headers[HEADER]
    wrong = [
        webhook_signature(body, SECRET + "x"),  # another secret
        good[:-2] + ("A=" if good[-2] != "A" else "B="),  # one character off
        good.lower(),
        good + "=",
        good.encode().hex(),  # hex of the right bytes is still wrong
        "hmac-sha256=" + good,  # the Shipping header's format is not accepted here
        "\u00e9" * 44,
    ]
    for signature in wrong:
        assert _verification_error(body, {HEADER: signature}).reason == "mismatch"
    # The right signature for a changed body.
    tampered = body.replace(b"InTransit", b"Delivered", 1)
    assert tampered != body
    assert _verification_error(tampered, headers).reason == "mismatch"


def test_several_different_signature_headers_are_rejected() -> None:
    body, headers = signed(event_payload())
    both = CIMultiDict([(HEADER, headers[HEADER]), (HEADER.title(), "forged")])
    assert _verification_error(body, both).reason == "ambiguous"
    same_twice = CIMultiDict([(HEADER, headers[HEADER]), (HEADER.upper(), headers[HEADER])])
    assert parse_webhook(body, same_twice, SECRET).event_id


def test_the_signature_is_checked_before_the_body_is_read() -> None:
    # Garbage a parser would choke on is rejected as unverified, never parsed.
    for body in (b"\xff\xfe not json", b"[" * 100_000, b'{"ts": "x"}', b""):
        assert _verification_error(body, {HEADER: "forged"}).reason == "mismatch"


def test_every_retry_aftership_makes_is_accepted_by_default() -> None:
    """AfterShip retries 14 times over ~68.3 h with the original ts: none may be refused."""
    assert AFTERSHIP_WEBHOOK_RETRY_WINDOW == 245_730
    now = int(time.time())
    delays = [sum(30 * 2**n for n in range(k)) for k in range(14)]  # attempt 1 .. 14
    assert delays[-1] == AFTERSHIP_WEBHOOK_RETRY_WINDOW
    for delay in delays:
        body, headers = signed(event_payload(ts=now - delay))
        assert parse_webhook(body, headers, SECRET).ts == now - delay
    # A week-old event is still refused (replays are bounded, if loosely: dedupe by event_id).
    week_body, week_headers = signed(event_payload(ts=now - 7 * 86400))
    assert _verification_error(week_body, week_headers).reason == "expired"


def test_stale_and_future_events() -> None:
    now = int(time.time())
    old_body, old_headers = signed(event_payload(ts=now - 301))
    assert _verification_error(old_body, old_headers, tolerance=300).reason == "expired"
    future_body, future_headers = signed(event_payload(ts=now + 400))
    assert _verification_error(future_body, future_headers).reason == "future"
    # A wider window, or none, accepts them; a narrower one rejects a fresh-ish event.
    assert parse_webhook(old_body, old_headers, SECRET).ts == now - 301
    assert parse_webhook(old_body, old_headers, SECRET, tolerance=3600).ts == now - 301
    assert parse_webhook(old_body, old_headers, SECRET, tolerance=None).ts == now - 301
    recent_body, recent_headers = signed(event_payload(ts=now - 30))
    assert parse_webhook(recent_body, recent_headers, SECRET).ts == now - 30
    assert _verification_error(recent_body, recent_headers, tolerance=10).reason == "expired"
    with pytest.raises(InvalidRequestError, match="tolerance"):
        parse_webhook(recent_body, recent_headers, SECRET, tolerance=-1)


# -- payload failures (correctly signed) -----------------------------------


def _msg_without(field: str) -> dict[str, Any]:
    payload = event_payload()
    del payload["msg"][field]
    return payload


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"not json", "not valid JSON"),
        (b'{"event": "tracking_update", "ts": 17', "not valid JSON"),  # truncated
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"ts": NaN}', "not valid JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "not valid JSON"),  # nesting beyond the recursion limit
        (b"[]", "JSON array, not an object"),
        (b"null", "JSON null, not an object"),
        (json.dumps(event_payload(ts="1712741696")).encode(), "numeric 'ts'"),
        (json.dumps(event_payload(ts=True)).encode(), "numeric 'ts'"),
        (json.dumps(event_payload(ts=10**400)).encode(), "out of range"),
        (json.dumps({k: v for k, v in event_payload().items() if k != "ts"}).encode(), "'ts'"),
        (json.dumps(event_payload(msg=None)).encode(), "JSON object for Tracking, got null"),
        (json.dumps(event_payload(msg=[])).encode(), "expected a JSON object for Tracking"),
        (json.dumps(_msg_without("id")).encode(), "missing required field"),
        (json.dumps(event_payload(event_id=[1])).encode(), "not a TrackingWebhookEvent"),
        (json.dumps(event_payload(event=5)).encode(), "expected a string for WebhookEventCode"),
    ],
)
def test_signed_but_invalid_bodies_are_payload_errors(payload: bytes, match: str) -> None:
    body, headers = signed(payload)
    with pytest.raises(WebhookPayloadError, match=match) as info:
        parse_webhook(body, headers, SECRET)
    assert isinstance(info.value, WebhookError)
    assert info.value.body == body[:2048]
    assert_no_secret(exception_text(info.value), [SECRET, headers[HEADER]])


def test_a_missing_ts_is_a_payload_error_even_without_a_tolerance() -> None:
    payload = event_payload()
    del payload["ts"]
    body, headers = signed(payload)
    with pytest.raises(WebhookPayloadError, match="'ts'"):
        parse_webhook(body, headers, SECRET, tolerance=None)


# -- misuse --------------------------------------------------------------


def test_a_str_body_is_rejected_with_a_clear_error() -> None:
    body, headers = signed(event_payload())
    with pytest.raises(InvalidRequestError, match="raw request bytes"):
        parse_webhook(body.decode(), headers, SECRET)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="must be bytes"):
        parse_webhook(json.loads(body), headers, SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["", None, b"bytes-secret"])
def test_an_unset_secret_fails_closed(secret: Any) -> None:
    body, headers = signed(event_payload())
    with pytest.raises(ConfigurationError, match="webhook secret"):
        parse_webhook(body, headers, secret)
    with pytest.raises(ConfigurationError):
        verify_webhook_signature(body, headers[HEADER], secret)


def test_verification_takes_constant_time_comparison() -> None:
    # Not a timing measurement (flaky by nature): the implementation must go
    # through hmac.compare_digest, which this checks by spying on it.
    import hmac as hmac_module

    calls: list[tuple[bytes, bytes]] = []
    real = hmac_module.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    body, headers = signed(event_payload())
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(hmac_module, "compare_digest", spy)
        parse_webhook(body, headers, SECRET)
        with pytest.raises(WebhookVerificationError):
            verify_webhook_signature(body, "forged", SECRET)
    finally:
        mp.undo()
    assert len(calls) == 2
    assert calls[0] == (headers[HEADER].encode(), headers[HEADER].encode())

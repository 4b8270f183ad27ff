"""No credential (API key, AES secret, RSA private key) shows in reprs, logs or errors."""

from __future__ import annotations

import logging
import pickle

import aiohttp
import pytest
from aioresponses import aioresponses

from aftership_async import (
    AfterShip,
    AfterShipError,
    APIConnectionError,
    RetryPolicy,
)
from aftership_async._operation import Operation

from .helpers import RSA_PEM, assert_no_secret, exception_text, pem_fragments

API_KEY = "sk-live-5f0c1e7a9b2d4c6e8f10"
AES_SECRET = "aes-secret-9d8c7b6a5f4e3d2c1b0a"
COURIERS = "https://api.aftership.com/tracking/2026-07/couriers?active=true"
LABEL = "https://api.aftership.com/postmen/v3/labels/lbl-1"


def secrets_for(secret: str) -> list[str]:
    return [API_KEY, secret, *pem_fragments(secret)] if "BEGIN" in secret else [API_KEY, secret]


@pytest.fixture(params=["aes", "rsa"])
def auth(request: pytest.FixtureRequest) -> tuple[str, str]:
    return (request.param, RSA_PEM if request.param == "rsa" else AES_SECRET)


def make_client(auth: tuple[str, str], **kwargs: object) -> AfterShip:
    scheme, secret = auth
    return AfterShip(api_key=API_KEY, api_secret=secret, auth=scheme, **kwargs)  # type: ignore[arg-type]


def test_reprs_and_strs_hide_every_credential(auth: tuple[str, str]) -> None:
    client = make_client(auth)
    transport = client._transport
    signer = transport._signer
    assert signer is not None
    prepared = transport.prepare(
        client.tracking.API, Operation("t", "POST", "/trackings", "idempotent"), json_body={"a": 1}
    )
    texts = [
        repr(client),
        str(client),
        repr(transport),
        repr(transport._api_key),
        str(transport._api_key),
        repr(signer),
        str(signer),
        repr(prepared),
        str(prepared),
        repr(client.shipping),
        repr(vars(transport)),
    ]
    for text in texts:
        assert_no_secret(text, secrets_for(auth[1]))
    # The prepared request does carry them, masked only in its repr.
    assert prepared.headers["as-api-key"] == API_KEY
    assert "********" in repr(prepared)
    signature = prepared.headers[signer.header]
    assert signature not in repr(prepared)


def test_credentials_cannot_be_pickled(auth: tuple[str, str]) -> None:
    transport = make_client(auth)._transport
    for obj in (transport._api_key, transport._signer):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(obj)


async def test_debug_logs_of_success_retries_and_failures_hide_credentials(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture, auth: tuple[str, str]
) -> None:
    mocked.get(COURIERS, status=429, headers={"Retry-After": "0"}, payload={"meta": {"code": 429}})
    mocked.get(COURIERS, status=503, body="<html>oops</html>")
    mocked.get(COURIERS, payload={"meta": {"code": 200}, "data": {"couriers": [], "total": 0}})
    mocked.get(LABEL, exception=aiohttp.ClientConnectionError("connection reset"))
    retry = RetryPolicy(max_attempts=3, backoff=0.0, max_backoff=0.0)
    with caplog.at_level(logging.DEBUG):  # every logger, not only ours
        async with make_client(auth, retry=retry, rate_limit=None) as client:
            await client.tracking.get_user_couriers()
            with pytest.raises(APIConnectionError) as info:
                await client.shipping.get_label_by_id("lbl-1", options=_no_retry())
    assert "retrying GET /couriers" in caplog.text
    assert len(caplog.records) >= 4
    everything = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    assert_no_secret(everything, secrets_for(auth[1]))
    assert_no_secret(exception_text(info.value), secrets_for(auth[1]))


def _no_retry():  # type: ignore[no-untyped-def]
    from aftership_async import NO_RETRY, RequestOptions

    return RequestOptions(retry=NO_RETRY)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429, 500, 502])
async def test_api_errors_hide_credentials(
    mocked: aioresponses, auth: tuple[str, str], status: int
) -> None:
    mocked.get(COURIERS, status=status, payload={"meta": {"code": status, "message": "no"}})
    async with make_client(auth, retry=RetryPolicy(max_attempts=1), rate_limit=None) as client:
        with pytest.raises(AfterShipError) as info:
            await client.tracking.get_user_couriers()
    assert_no_secret(exception_text(info.value), secrets_for(auth[1]))


def test_configuration_errors_do_not_echo_a_misplaced_secret() -> None:
    # A secret passed where the scheme goes, or a PEM given as the AES secret's scheme.
    with pytest.raises(AfterShipError) as info:
        AfterShip(api_key=API_KEY, api_secret=AES_SECRET, auth=AES_SECRET)  # type: ignore[arg-type]
    assert_no_secret(exception_text(info.value), [API_KEY, AES_SECRET])
    with pytest.raises(AfterShipError) as info:
        AfterShip(api_key=API_KEY, api_secret=AES_SECRET, auth="rsa")
    assert_no_secret(exception_text(info.value), [API_KEY, AES_SECRET])


WEBHOOK_SECRET = "whsec-live-7e6d5c4b3a2910ff"


def test_webhook_secret_and_expected_signatures_never_leak(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import json
    import time

    from aftership_async import (
        AfterShipError,
        parse_webhook,
        verify_webhook_signature,
        webhook_signature,
    )

    good = json.dumps({"event": "tracking_update", "ts": int(time.time())}).encode()
    bodies = [good, b"not json", b"[]", good.replace(b"ts", b"tz")]
    errors: list[AfterShipError] = []
    with caplog.at_level(logging.DEBUG):
        for body in bodies:
            expected = webhook_signature(body, WEBHOOK_SECRET)
            for signature in (None, "forged", expected, expected.lower()):
                headers = {} if signature is None else {"aftership-hmac-sha256": signature}
                try:
                    parse_webhook(body, headers, WEBHOOK_SECRET)
                except AfterShipError as exc:
                    errors.append(exc)
                try:
                    verify_webhook_signature(body, signature, WEBHOOK_SECRET)
                except AfterShipError as exc:
                    errors.append(exc)
    assert len(errors) >= 3 * len(bodies)  # every one fails somewhere (none is a full event)
    leaks = [WEBHOOK_SECRET] + [webhook_signature(b, WEBHOOK_SECRET) for b in bodies]
    for exc in errors:
        assert_no_secret(exception_text(exc), leaks)
    assert_no_secret(caplog.text, leaks)

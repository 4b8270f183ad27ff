"""The client: configuration, auth, URLs, path safety, sessions, signing, secrets."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aioresponses import aioresponses

from aftership_async import (
    API_VERSIONS,
    AfterShip,
    ConfigurationError,
    InvalidRequestError,
    RequestOptions,
)
from aftership_async._operation import Operation
from aftership_async._signing import sign_string, signature_headers
from aftership_async._transport import encode_query

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
COURIERS = {"meta": {"code": 200}, "data": {"total": 0, "couriers": []}}


def test_pinned_versions() -> None:
    assert API_VERSIONS == {"tracking": "2026-07", "shipping": "v3", "returns": "2026-07"}


def test_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSHIP_API_KEY", "env-key")
    client = AfterShip()
    prepared = client._transport.prepare(
        client.tracking.API, Operation("t", "GET", "/couriers", "idempotent")
    )
    assert prepared.headers["as-api-key"] == "env-key"


def test_missing_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFTERSHIP_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="AFTERSHIP_API_KEY"):
        AfterShip()


@pytest.mark.parametrize(
    "url", ["ftp://x", "http://api.example.com", "https://u:p@api.example.com", "not a url"]
)
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        AfterShip(api_key="k", base_url=url)


def test_plain_http_needs_loopback_or_opt_in() -> None:
    AfterShip(api_key="k", base_url="http://127.0.0.1:8765")
    AfterShip(api_key="k", base_url="http://localhost:1")
    AfterShip(api_key="k", base_url="http://proxy.internal", allow_insecure_http=True)


def test_base_url_overrides() -> None:
    client = AfterShip(
        api_key="k",
        base_url="http://127.0.0.1:8765",
        base_urls={"shipping": "https://sandbox-api.aftership.com/postmen/v3"},
    )
    t = client._transport
    assert t.base_url(client.tracking.API) == "http://127.0.0.1:8765/tracking/2026-07"
    assert t.base_url(client.returns.API) == "http://127.0.0.1:8765/returns/2026-07"
    assert t.base_url(client.shipping.API) == "https://sandbox-api.aftership.com/postmen/v3"
    with pytest.raises(ConfigurationError):
        AfterShip(api_key="k", base_urls={"billing": "https://x"})


def test_the_key_never_shows_in_reprs() -> None:
    client = AfterShip(api_key=API_KEY, api_secret="very-secret")
    for text in (
        repr(client),
        str(client),
        repr(client._transport),
        repr(client.tracking),
        repr(client._transport._api_key),
    ):
        assert API_KEY not in text and "very-secret" not in text


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "..", ".", "a\\b", "a\nb", "a\x00b"])
async def test_path_parameters_are_checked_before_the_network(
    mocked: aioresponses, client: AfterShip, bad: str
) -> None:
    with pytest.raises(InvalidRequestError, match="id"):
        await client.tracking.get_tracking_by_id(bad)
    assert not mocked.requests


async def test_path_parameters_must_be_strings(client: AfterShip) -> None:
    with pytest.raises(InvalidRequestError, match="string"):
        await client.tracking.get_tracking_by_id(123)  # type: ignore[arg-type]


def test_path_parameters_are_percent_encoded() -> None:
    client = AfterShip(api_key="k")
    prepared = client._transport.prepare(
        client.returns.API,
        Operation("t", "GET", "/returns/rma/{rma_number}", "idempotent"),
        path_params={"rma_number": "A B?#%"},
    )
    assert prepared.url == "https://api.aftership.com/returns/2026-07/returns/rma/A%20B%3F%23%25"


def test_query_order_and_encoding_on_the_wire() -> None:
    client = AfterShip(api_key="k")
    prepared = client._transport.prepare(
        client.tracking.API,
        Operation("t", "GET", "/trackings", "idempotent"),
        query={"limit": 5, "tag": None, "keyword": "a&b c", "return_to_sender": False},
    )
    assert prepared.url == f"{T}/trackings?limit=5&keyword=a%26b%20c&return_to_sender=false"


def test_unsupported_query_values() -> None:
    with pytest.raises(InvalidRequestError):
        encode_query({"x": object()})


async def test_a_callers_session_is_used_and_left_open(mocked: aioresponses) -> None:
    mocked.get(f"{T}/couriers?active=true", payload=COURIERS)
    async with aiohttp.ClientSession() as session:
        async with AfterShip(api_key="k", session=session) as client:
            await client.tracking.get_user_couriers()
        assert not session.closed


async def test_an_owned_session_is_closed() -> None:
    client = AfterShip(api_key="k")
    async with client:
        session = client._transport._session
        assert session is not None and not session.closed
    assert session.closed


async def test_per_call_headers_and_timeout(mocked: aioresponses, client: AfterShip) -> None:
    mocked.get(f"{T}/couriers?active=true", payload=COURIERS)
    await client.tracking.get_user_couriers(
        options=RequestOptions(timeout=2.5, headers={"X-Trace": "t1"})
    )
    ((_, calls),) = mocked.requests.items()
    assert calls[0].kwargs["headers"]["x-trace"] == "t1"
    assert calls[0].kwargs["timeout"].total == 2.5
    with pytest.raises(InvalidRequestError):
        await client.tracking.get_user_couriers(
            options=RequestOptions(headers={"as-api-key": "other"})
        )


def test_default_timeout_is_sane() -> None:
    assert AfterShip(api_key="k")._transport.timeout == 30.0


async def test_debug_logs_never_contain_the_key(
    mocked: aioresponses, client: AfterShip, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(f"{T}/couriers?active=true", payload=COURIERS)
    with caplog.at_level(logging.DEBUG, logger="aftership_async"):
        await client.tracking.get_user_couriers()
    assert "GET" in caplog.text
    assert API_KEY not in caplog.text


# -- AES request signing --------------------------------------------------

# Computed independently with coreutils and OpenSSL:
#   printf 'POST\n<MD5>\napplication/json\n<date>\nas-api-key:key123\n/tracking/2025-01/trackings?a=1&b=x+y' \
#     | openssl dgst -sha256 -hmac secret-abc -binary | base64
BODY = b'{"tracking_number":"123"}'
DATE = "Tue, 05 Mar 2024 10:00:00 GMT"


def test_sign_string_layout() -> None:
    text = sign_string(
        method="post",
        body=BODY,
        date=DATE,
        headers={"As-Api-Key": " key123 ", "accept": "x"},
        path="/tracking/2025-01/trackings",
        query=[("b", "x y"), ("a", "1")],
    )
    assert (
        text
        == "POST\nA520F3446FCAD985F99CA3F57F6B0EBD\napplication/json\n"
        + DATE
        + "\nas-api-key:key123\n/tracking/2025-01/trackings?a=1&b=x+y"
    )


def test_signature_matches_a_known_vector() -> None:
    headers = signature_headers(
        secret="secret-abc",
        method="POST",
        body=BODY,
        headers={"as-api-key": "key123"},
        path="/tracking/2025-01/trackings",
        query=[("b", "x y"), ("a", "1")],
        date=DATE,
    )
    assert headers == {
        "date": DATE,
        "as-signature-hmac-sha256": "GMzq7FZ8a6QnEatudzCWdzAQiZAhCzTGNaR2/HGiG7U=",
    }


def test_signature_without_body_or_query() -> None:
    headers = signature_headers(
        secret="secret-abc",
        method="GET",
        body=None,
        headers={"as-api-key": "key123"},
        path="/postmen/v3/labels",
        date=DATE,
    )
    assert headers["as-signature-hmac-sha256"] == "02LX7Dfq+G5eymYDbimxkKW0Wb5SS0DZAVWSHdg3qhU="


def test_signed_client_requests_carry_the_signature() -> None:
    client = AfterShip(api_key="key123", api_secret="secret-abc")
    prepared = client._transport.prepare(
        client.shipping.API, Operation("t", "GET", "/labels", "idempotent")
    )
    assert prepared.headers["as-api-key"] == "key123"
    assert "date" in prepared.headers
    expected = signature_headers(
        secret="secret-abc",
        method="GET",
        body=None,
        headers={"as-api-key": "key123"},
        path="/postmen/v3/labels",
        date=prepared.headers["date"],
    )
    assert prepared.headers["as-signature-hmac-sha256"] == expected["as-signature-hmac-sha256"]

"""Request signing: RSA (RSASSA-PSS) against fixed SignStrings, AES and RSA on the wire."""

from __future__ import annotations

import base64
import sys

import pytest
from aioresponses import aioresponses
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from aftership_async import NO_RETRY, AfterShip, ConfigurationError, InvalidRequestError
from aftership_async._operation import Operation
from aftership_async._signing import (
    RSA_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    AESSigner,
    AuthScheme,
    RSASigner,
    make_signer,
    sign_request,
    sign_string,
)

from .helpers import (
    RSA_PEM,
    assert_no_secret,
    exception_text,
    pem_fragments,
    pkcs1_pem,
    rsa_public_key,
)

KEY = "key123"
BODY = b'{"tracking_number":"123"}'
DATE = "Tue, 05 Mar 2024 10:00:00 GMT"
# The SignString for POST /tracking/2025-01/trackings?b=x%20y&a=1 with BODY (the same
# request as the AES OpenSSL vector in tests/test_client.py).
EXPECTED_SIGN_STRING = (
    "POST\nA520F3446FCAD985F99CA3F57F6B0EBD\napplication/json\n"
    "Tue, 05 Mar 2024 10:00:00 GMT\nas-api-key:key123\n/tracking/2025-01/trackings?a=1&b=x+y"
)


def pss(salt_length: int = 32) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_length)


def verify(signature_b64: str, message: str, salt_length: int = 32) -> None:
    rsa_public_key().verify(
        base64.b64decode(signature_b64, validate=True),
        message.encode(),
        pss(salt_length),
        hashes.SHA256(),
    )


def test_rsa_signature_verifies_over_the_exact_sign_string() -> None:
    headers = sign_request(
        RSASigner(RSA_PEM),
        method="POST",
        body=BODY,
        headers={"as-api-key": KEY, "content-type": "application/json"},
        path="/tracking/2025-01/trackings",
        query=[("b", "x y"), ("a", "1")],
        date=DATE,
    )
    assert set(headers) == {"date", RSA_SIGNATURE_HEADER}
    assert headers["date"] == DATE
    signature = headers[RSA_SIGNATURE_HEADER]
    assert len(base64.b64decode(signature)) == 256  # one 2048-bit RSA block
    verify(signature, EXPECTED_SIGN_STRING)
    # Salt length is the digest length (pycryptodome PKCS1_PSS's default), not the maximum.
    with pytest.raises(InvalidSignature):
        verify(signature, EXPECTED_SIGN_STRING, salt_length=20)
    # One changed byte of the SignString and it no longer verifies.
    with pytest.raises(InvalidSignature):
        verify(signature, EXPECTED_SIGN_STRING.replace("a=1", "a=2"))


def test_rsa_signatures_are_randomised_but_all_verify() -> None:
    signer = RSASigner(RSA_PEM)
    first, second = signer.sign("GET\n\n\nd\n\n/p"), signer.sign("GET\n\n\nd\n\n/p")
    assert first != second  # PSS uses a fresh random salt
    verify(first, "GET\n\n\nd\n\n/p")
    verify(second, "GET\n\n\nd\n\n/p")


def test_rsa_signature_without_body_or_query() -> None:
    headers = sign_request(
        RSASigner(RSA_PEM),
        method="get",
        body=None,
        headers={"as-api-key": KEY},
        path="/postmen/v3/labels",
        date=DATE,
    )
    verify(headers[RSA_SIGNATURE_HEADER], f"GET\n\n\n{DATE}\nas-api-key:{KEY}\n/postmen/v3/labels")


def test_pkcs1_and_pkcs8_keys_sign_alike() -> None:
    pem = pkcs1_pem()
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert "-----BEGIN PRIVATE KEY-----" in RSA_PEM
    verify(RSASigner(pem).sign("m"), "m")
    verify(RSASigner(RSA_PEM.encode()).sign("m"), "m")


def test_aes_signer_matches_the_openssl_vector() -> None:
    # Same vector as tests/test_client.py, through the signer interface.
    signature = AESSigner("secret-abc").sign(EXPECTED_SIGN_STRING)
    assert signature == "GMzq7FZ8a6QnEatudzCWdzAQiZAhCzTGNaR2/HGiG7U="
    assert make_signer("secret-abc").header == SIGNATURE_HEADER
    assert make_signer(RSA_PEM, "rsa").header == RSA_SIGNATURE_HEADER


# -- configuration -------------------------------------------------------


def _ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _small_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _encrypted_pem() -> str:
    key = serialization.load_pem_private_key(RSA_PEM.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()


def _mangled_pem() -> str:
    lines = RSA_PEM.splitlines()
    start = lines.index("-----BEGIN PRIVATE KEY-----")
    # Keep the armour and most of the base64, drop a line in the middle.
    return "\n".join(lines[start : start + 8] + lines[start + 9 :])


@pytest.mark.parametrize(
    ("make_pem", "reason"),
    [
        (lambda: "not a key at all", "must be a PEM private key"),
        (_mangled_pem, "could not be parsed"),
        (lambda: RSA_PEM.replace("PRIVATE KEY", "PUBLIC KEY"), "could not be parsed"),
        (_encrypted_pem, "encrypted"),
        (_ec_pem, "not an RSA key"),
        (_small_rsa_pem, "at least 2048 bits"),
    ],
    ids=["garbage", "mangled", "public-armour", "encrypted", "ec-key", "1024-bit"],
)
def test_bad_rsa_keys_fail_at_construction_without_echoing_the_key(
    mocked: aioresponses, make_pem: object, reason: str
) -> None:
    assert callable(make_pem)
    pem = make_pem()
    with pytest.raises(ConfigurationError, match=reason) as info:
        AfterShip(api_key=KEY, api_secret=pem, auth="rsa")
    assert not mocked.requests
    # Nothing of the key in the message, the repr, the chain or the traceback.
    assert_no_secret(exception_text(info.value), pem_fragments(pem) + pem_fragments(RSA_PEM))
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_non_string_rsa_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="PEM private key string"):
        AfterShip(api_key=KEY, api_secret=12345, auth="rsa")  # type: ignore[arg-type]


def test_missing_cryptography_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "cryptography" or n.startswith("cryptography.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(ConfigurationError) as info:
        AfterShip(api_key=KEY, api_secret=RSA_PEM, auth="rsa")
    assert "pip install 'aftership-async[rsa]'" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    # AES needs nothing optional.
    assert AfterShip(api_key=KEY, api_secret="s")._transport._signer is not None


def test_auth_choices() -> None:
    assert AfterShip(api_key=KEY)._transport._signer is None
    assert AfterShip(api_key=KEY, api_secret="s")._transport._signer.scheme == "aes"  # type: ignore[union-attr]
    aes = AfterShip(api_key=KEY, api_secret="s", auth="aes")._transport._signer
    assert aes is not None and aes.scheme == "aes"
    rsa_signer = AfterShip(api_key=KEY, api_secret=RSA_PEM, auth="rsa")._transport._signer
    assert rsa_signer is not None and rsa_signer.scheme == "rsa"
    with pytest.raises(ConfigurationError, match="needs api_secret"):
        AfterShip(api_key=KEY, auth="rsa")
    with pytest.raises(ConfigurationError, match="needs api_secret"):
        AfterShip(api_key=KEY, api_secret="", auth="aes")
    with pytest.raises(ConfigurationError, match="'aes' or 'rsa'") as info:
        AfterShip(api_key=KEY, api_secret="s", auth="hmac")  # type: ignore[arg-type]
    assert "hmac" not in str(info.value)  # the value is not echoed
    with pytest.raises(ConfigurationError, match="must be a string"):
        AfterShip(api_key=KEY, api_secret=b"bytes", auth="aes")  # type: ignore[arg-type]


# -- on the wire: every API is signed the same way ---------------------------

CALLS = [
    (
        "tracking",
        "GET",
        "https://api.aftership.com/tracking/2026-07/couriers",
        "/tracking/2026-07/couriers",
    ),
    (
        "shipping",
        "GET",
        "https://api.aftership.com/postmen/v3/labels/lbl-1",
        "/postmen/v3/labels/lbl-1",
    ),
    (
        "returns",
        "POST",
        "https://api.aftership.com/returns/2026-07/returns/rma/RMA1/approve",
        "/returns/2026-07/returns/rma/RMA1/approve",
    ),
]
ENVELOPE = {"meta": {"code": 200}, "data": {}}


async def _call_each_api(client: AfterShip) -> None:
    from aftership_async import ApproveReturnRequest

    for api, *_ in CALLS:
        try:
            if api == "tracking":
                await client.tracking.get_all_couriers()
            elif api == "shipping":
                await client.shipping.get_label_by_id("lbl-1")
            else:
                await client.returns.approve_return_by_rma("RMA1", ApproveReturnRequest())
        except Exception as exc:  # the canned data is not a valid model; only headers matter
            assert type(exc).__name__ == "InvalidResponseError"


def _sent(mocked: aioresponses) -> dict[str, tuple[dict[str, str], bytes | None]]:
    sent: dict[str, tuple[dict[str, str], bytes | None]] = {}
    for (_, url), calls in mocked.requests.items():
        (call,) = calls
        sent[str(url)] = (call.kwargs["headers"], call.kwargs["data"])
    return sent


@pytest.mark.parametrize("scheme", ["aes", "rsa"])
async def test_every_api_sends_date_and_the_signature_header(
    mocked: aioresponses, scheme: AuthScheme
) -> None:
    secret = RSA_PEM if scheme == "rsa" else "secret-abc"
    header = RSA_SIGNATURE_HEADER if scheme == "rsa" else SIGNATURE_HEADER
    other = SIGNATURE_HEADER if scheme == "rsa" else RSA_SIGNATURE_HEADER
    for _, method, url, _ in CALLS:
        mocked.add(url, method=method, payload=ENVELOPE)
    async with AfterShip(
        api_key=KEY, api_secret=secret, auth=scheme, retry=NO_RETRY, rate_limit=None
    ) as client:
        await _call_each_api(client)
    sent = _sent(mocked)
    assert len(sent) == 3
    for _, method, url, path in CALLS:
        headers, body = sent[url]
        assert headers["as-api-key"] == KEY
        assert headers["date"].endswith(" GMT")
        assert other not in headers
        expected = sign_string(
            method=method,
            body=body,
            date=headers["date"],
            headers={"as-api-key": KEY},
            path=path,
        )
        if scheme == "rsa":
            verify(headers[header], expected)
        else:
            assert headers[header] == AESSigner(secret).sign(expected)


def test_the_signature_headers_cannot_be_overridden_per_call() -> None:
    from aftership_async import RequestOptions

    client = AfterShip(api_key=KEY, api_secret=RSA_PEM, auth="rsa")
    for name in ("as-signature-rsa-sha256", "AS-Signature-HMAC-SHA256", "Date"):
        with pytest.raises(InvalidRequestError, match="set by the client"):
            client._transport.prepare(
                client.tracking.API,
                Operation("t", "GET", "/couriers", "idempotent"),
                options=RequestOptions(headers={name: "x"}),
            )


@pytest.mark.parametrize(
    "headers",
    [{"x-a": "v\r\nInjected: 1"}, {"x-a": "v\n"}, {"bad name": "v"}, {"x-a": "\u20ac"}, {"": "v"}],
)
def test_per_call_headers_are_checked_before_the_network(headers: dict[str, str]) -> None:
    from aftership_async import RequestOptions

    client = AfterShip(api_key=KEY)
    with pytest.raises(InvalidRequestError):
        client._transport.prepare(
            client.tracking.API,
            Operation("t", "GET", "/couriers", "idempotent"),
            options=RequestOptions(headers=headers),
        )

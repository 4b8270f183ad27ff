"""A fake started with ``api_secret=`` accepts only correctly signed requests (AES keys)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import sys
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aftership_async import AfterShip, AuthenticationError, NotFoundError
from aftership_async.testing import FakeAfterShip

from .helpers import RETURN_REQUEST, SHIPMENT, body, client_for

SECRET = "fake-secret-0123456789"


async def test_signed_client_works_end_to_end_on_all_three_apis() -> None:
    async with FakeAfterShip(api_key="k", api_secret=SECRET) as fake:
        async with client_for(fake, api_key="k", api_secret=SECRET) as client:
            created = await client.tracking.create_tracking(
                body("CreateTrackingRequest", {"tracking_number": "1Z999AA10123456784"})
            )
            page = await client.tracking.get_trackings(keyword="1Z999 & co/#", limit=5)
            assert page.trackings == []  # the query was signed as sent, encoded and sorted
            assert (await client.tracking.get_tracking_by_id(created.id)).id == created.id
            label = await client.shipping.create_label(
                body(
                    "CreateLabelRequest",
                    {"shipper_account": {"id": "acc"}, "service_type": "ups_ground",
                     "shipment": SHIPMENT},
                )
            )  # fmt: skip
            assert (await client.shipping.get_labels(status="created")).labels[0].id == label.id
            ret = await client.returns.create_return(body("CreateReturnRequest", RETURN_REQUEST))
            with pytest.raises(NotFoundError):  # signed fine; the RMA (percent-encoded) is unknown
                await client.returns.get_return_by_rma("RMA 1+2")
            assert (await client.returns.get_return_by_rma(ret.rma_number)).id == ret.id
    assert fake.stats.statuses[401] == 0
    assert fake.stats.created["tracking"] == fake.stats.created["label"] == 1


@pytest.mark.parametrize("secret", ["wrong-secret", None])
async def test_wrong_or_missing_signature_is_authentication_error(secret: str | None) -> None:
    async with FakeAfterShip(api_secret=SECRET) as fake:
        async with client_for(fake, api_secret=secret) as client:
            calls = [
                client.tracking.get_couriers,
                client.shipping.get_couriers,
                client.returns.get_item_tags,
                lambda: client.tracking.create_tracking(
                    body("CreateTrackingRequest", {"tracking_number": "123456789012"})
                ),
            ]
            for call in calls:
                with pytest.raises(AuthenticationError) as excinfo:
                    await call()
                assert excinfo.value.status_code == 401
    assert fake.stats.statuses[401] == 4
    assert fake.stats.created["tracking"] == 0
    assert not fake.trackings


def _independent_signature(method: str, body: bytes, date: str, key: str, resource: str) -> str:
    """The SignString of the reference (tracking-api.md 2a), built here, not by the client."""
    parts = [
        method,
        hashlib.md5(body).hexdigest().upper() if body else "",
        "application/json" if body else "",
        date,
        f"as-api-key:{key}",
        resource,
    ]
    digest = hmac.new(SECRET.encode(), "\n".join(parts).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


async def _raw(
    fake: FakeAfterShip, *, skew: dt.timedelta = dt.timedelta(0), tamper: bool = False
) -> tuple[int, dict[str, object]]:
    path = "/tracking/2026-07/couriers/detect"
    query = [("z", "last"), ("a", "x y")]
    payload = json.dumps({"tracking_number": "123456789012"}).encode()
    date = format_datetime(dt.datetime.now(dt.UTC) + skew, usegmt=True)
    resource = f"{path}?{urlencode(sorted(query))}"
    signature = _independent_signature("POST", payload, date, "k", resource)
    headers = {
        "as-api-key": "k",
        "date": date,
        "content-type": "application/json",
        "as-signature-hmac-sha256": signature,
    }
    sent = payload.replace(b"1234", b"4321") if tamper else payload
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.url + path, params=query, data=sent, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_signature_matches_the_documented_algorithm_and_clock_window() -> None:
    async with FakeAfterShip(api_secret=SECRET) as fake:
        status, answer = await _raw(fake)
        assert status == 200, answer
        assert answer["data"]["couriers"][0]["slug"] == "fedex"  # type: ignore[index]
        assert (await _raw(fake, skew=dt.timedelta(minutes=2)))[0] == 200
        assert (await _raw(fake, skew=-dt.timedelta(minutes=2)))[0] == 200

        status, answer = await _raw(fake, tamper=True)
        assert status == 401
        assert answer["meta"] == {  # the Tracking 401 envelope
            "code": 401,
            "message": "The request signature is invalid.",
            "type": "Unauthorized",
        }
        for skew in (dt.timedelta(minutes=4), -dt.timedelta(minutes=4)):
            status, answer = await _raw(fake, skew=skew)
            assert status == 401
            assert "3 minutes" in answer["meta"]["message"]  # type: ignore[index]


async def test_returns_answers_its_own_401_envelope() -> None:
    async with FakeAfterShip(api_secret=SECRET) as fake, aiohttp.ClientSession() as session:
        async with session.get(
            fake.url + "/returns/2026-07/item-tags", headers={"as-api-key": "k"}
        ) as response:
            answer = await response.json()
    assert response.status == 401
    assert answer["data"] is None
    assert answer["meta"]["code"] == 40100
    assert "date" in answer["meta"]["message"]


@pytest.mark.slow
async def test_cli_api_secret() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aftership_async.testing",
        "--port", "0", "--api-key", "cli-key", "--api-secret", SECRET,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode().strip()
        async with AfterShip(api_key="cli-key", api_secret=SECRET, base_url=url) as client:
            assert (await client.shipping.get_couriers()).couriers
        async with AfterShip(api_key="cli-key", base_url=url, retry=None) as unsigned:
            with pytest.raises(AuthenticationError):
                await unsigned.shipping.get_couriers()
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), timeout=20)
    assert code == 0


# RSA keys: the fake holds the public key and verifies as-signature-rsa-sha256.

KEY_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "rsa_test_key.pem"


def _public_pem(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def test_rsa_signed_client_works_and_another_key_is_refused() -> None:
    private_pem = KEY_FILE.read_bytes()
    async with FakeAfterShip(api_public_key=_public_pem(private_pem)) as fake:
        async with client_for(fake, api_secret=private_pem.decode(), auth="rsa") as client:
            created = await client.tracking.create_tracking(
                body("CreateTrackingRequest", {"tracking_number": "1Z999AA10123456784"})
            )
            assert (await client.tracking.get_tracking_by_id(created.id)).id == created.id
            assert (await client.shipping.get_couriers()).couriers is not None
            assert (await client.returns.get_item_tags()) is not None
        assert fake.stats.statuses[401] == 0

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        other_pem = other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        for secret, auth in ((other_pem, "rsa"), (SECRET, "aes"), (None, None)):
            options = {"api_secret": secret, "auth": auth} if secret else {}
            async with client_for(fake, **options) as client:
                with pytest.raises(AuthenticationError, match=r"signature|date header"):
                    await client.tracking.get_couriers(active=True)


def test_rsa_fake_refuses_a_bad_public_key_and_both_kinds_of_key() -> None:
    with pytest.raises(ValueError, match="not a PEM public key"):
        FakeAfterShip(api_public_key="not a key")
    with pytest.raises(ValueError, match="not both"):
        FakeAfterShip(api_secret=SECRET, api_public_key=_public_pem(KEY_FILE.read_bytes()))


# The fake's own SignString (tracking-api.md §2a), checked against the published values, so
# the two sides of a signed test are written independently.

VECTOR_DATE = "Tue, 05 Mar 2024 10:00:00 GMT"
VECTOR_BODY = b'{"tracking_number":"123"}'
VECTOR_SIGN_STRING = (
    "POST\nA520F3446FCAD985F99CA3F57F6B0EBD\napplication/json\n"
    "Tue, 05 Mar 2024 10:00:00 GMT\nas-api-key:key123\n/tracking/2025-01/trackings?a=1&b=x+y"
)
VECTOR_HMAC = (
    "GMzq7FZ8a6QnEatudzCWdzAQiZAhCzTGNaR2/HGiG7U="  # openssl dgst -sha256 -hmac secret-abc
)


def test_fake_sign_string_and_hmac_match_the_published_vector() -> None:
    from aftership_async.testing._signature import aes_check, documented_sign_string

    headers = [("As-Api-Key", " key123 "), ("accept", "x"), ("as-signature-hmac-sha256", "z")]
    text = documented_sign_string(
        "post", VECTOR_BODY, VECTOR_DATE, headers, "/tracking/2025-01/trackings",
        [("b", "x y"), ("a", "1"), ("b", "second")],
    )  # fmt: skip
    assert text == VECTOR_SIGN_STRING
    check = aes_check("secret-abc")
    assert check.header == "as-signature-hmac-sha256"
    assert check.verify(VECTOR_SIGN_STRING, VECTOR_HMAC)
    assert not check.verify(VECTOR_SIGN_STRING.replace("a=1", "a=2"), VECTOR_HMAC)
    assert not aes_check("secret-abd").verify(VECTOR_SIGN_STRING, VECTOR_HMAC)
    # The documented example date form, no body, no query: empty md5 and content-type lines.
    bare = documented_sign_string("GET", b"", "Sun, 06 Nov 1994 08:49:37 GMT",
                                  [("as-api-key", "k")], "/tracking/2024-10/trackings", [])  # fmt: skip
    assert (
        bare == "GET\n\n\nSun, 06 Nov 1994 08:49:37 GMT\nas-api-key:k\n/tracking/2024-10/trackings"
    )


def test_fake_rsa_check_verifies_pss_sha256_with_a_32_byte_salt() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from aftership_async.testing._signature import rsa_check

    private = serialization.load_pem_private_key(KEY_FILE.read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)

    def signed(salt: int) -> str:
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        return base64.b64encode(
            private.sign(VECTOR_SIGN_STRING.encode(), pss, hashes.SHA256())
        ).decode()

    check = rsa_check(_public_pem(KEY_FILE.read_bytes()))
    assert check.header == "as-signature-rsa-sha256"
    assert check.verify(VECTOR_SIGN_STRING, signed(32))
    assert not check.verify(VECTOR_SIGN_STRING, signed(20))  # the salt length is fixed
    assert not check.verify(VECTOR_SIGN_STRING + "x", signed(32))
    assert not check.verify(VECTOR_SIGN_STRING, "not base64!")

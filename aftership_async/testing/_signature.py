"""Request-signature checking for a fake started with ``api_secret=`` or ``api_public_key=``.

AfterShip keys of the "AES" type make every request carry ``date`` and
``as-signature-hmac-sha256``; "RSA" keys carry ``as-signature-rsa-sha256``
(RSASSA-PSS over the same SignString, checked with the public key). The
gateway rebuilds the SignString and answers 401 when the signature differs
or the date is more than 3 minutes away from its clock. The SignString and
the HMAC come from the client's own :mod:`aftership_async._signing` (one
algorithm, not a second copy); what the fake adds is reading them back from
the request as it arrived, and RSA verification.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import attrs
from aiohttp import web

from .._signing import RSA_SIGNATURE_HEADER, SIGNATURE_HEADER, AESSigner, sign_string

__all__ = ["MAX_CLOCK_SKEW", "SignatureCheck", "aes_check", "rsa_check", "signature_problem"]

MAX_CLOCK_SKEW = dt.timedelta(minutes=3)


@attrs.frozen
class SignatureCheck:
    """Which header carries the signature, and how to verify it over a SignString."""

    header: str
    verify: Callable[[str, str], bool]


def aes_check(secret: str) -> SignatureCheck:
    """``as-signature-hmac-sha256`` with the key's secret, compared in constant time."""
    signer = AESSigner(secret)

    def verify(message: str, signature: str) -> bool:
        return hmac.compare_digest(signer.sign(message).encode(), signature.encode())

    return SignatureCheck(SIGNATURE_HEADER, verify)


def rsa_check(public_key_pem: str | bytes) -> SignatureCheck:
    """``as-signature-rsa-sha256``: RSASSA-PSS, SHA-256, 32-byte salt (needs ``cryptography``)."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        raise ValueError(
            "api_public_key needs the 'cryptography' package: pip install 'aftership-async[rsa]'"
        ) from None
    data = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    try:
        key = load_pem_public_key(data.strip())
    except (ValueError, TypeError):
        raise ValueError("api_public_key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("api_public_key is not an RSA public key")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    def verify(message: str, signature: str) -> bool:
        try:
            key.verify(base64.b64decode(signature, validate=True), message.encode(), pss,
                       hashes.SHA256())  # fmt: skip
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    return SignatureCheck(RSA_SIGNATURE_HEADER, verify)


async def signature_problem(
    request: web.Request, check: SignatureCheck, now: dt.datetime
) -> str | None:
    """Why the request's signature is not acceptable, or None when it is."""
    date = request.headers.get("date", "")
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "The date header is missing or invalid."
    if sent.tzinfo is None or abs(now - sent) > MAX_CLOCK_SKEW:
        return "The date header is more than 3 minutes away from the server's time."
    signature = request.headers.get(check.header, "")
    if not signature:
        return f"The {check.header} header is missing."
    body = await request.read()
    signed = {
        name.lower(): value
        for name, value in request.headers.items()
        if not name.lower().startswith("as-signature")
    }
    message = sign_string(
        method=request.method,
        body=body or None,
        headers=signed,
        path=request.rel_url.raw_path,
        query=list(request.rel_url.query.items()),
        date=date,
    )
    if not check.verify(message, signature):
        return "The request signature is invalid."
    return None

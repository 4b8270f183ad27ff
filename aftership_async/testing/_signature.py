"""Request-signature checking for a fake started with ``api_secret=`` or ``api_public_key=``.

AfterShip keys of the "AES" type make every request carry ``date`` and
``as-signature-hmac-sha256``; "RSA" keys carry ``as-signature-rsa-sha256``
(RSASSA-PSS, SHA-256, 32-byte salt, checked with the public key). The gateway
rebuilds the SignString from the request as it arrived and answers 401 when
the signature differs or the date is more than 3 minutes from its clock.

The SignString is written here from the documentation (tracking-api.md §2a),
**not** imported from the client: a bug in the string the client signs must
fail the signed tests, not be shared by both sides. Joined by ``\\n``:

1. the method, upper case;
2. the upper-case hex MD5 of the raw body, empty without a body;
3. ``application/json`` with a body, else empty;
4. the ``date`` header as sent;
5. the ``as-*`` headers (the signature headers excepted): lower-case name,
   trimmed value, ``name:value``, sorted by name, joined by ``\\n``;
6. the raw path plus, when there is a query, ``?`` and its parameters sorted
   by name, first value of each, form-encoded.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import quote_plus

import attrs
from aiohttp import web

__all__ = [
    "HMAC_HEADER",
    "MAX_CLOCK_SKEW",
    "RSA_HEADER",
    "SignatureCheck",
    "aes_check",
    "documented_sign_string",
    "rsa_check",
    "signature_problem",
]

MAX_CLOCK_SKEW = dt.timedelta(minutes=3)
HMAC_HEADER = "as-signature-hmac-sha256"
RSA_HEADER = "as-signature-rsa-sha256"


def documented_sign_string(
    method: str,
    body: bytes,
    date: str,
    headers: Iterable[tuple[str, str]],
    path: str,
    query: Iterable[tuple[str, str]],
) -> str:
    """The SignString of tracking-api.md §2a for one request as it arrived."""
    as_headers = sorted(
        (name.lower(), value.strip())
        for name, value in headers
        if name.lower().startswith("as-") and name.lower() not in (HMAC_HEADER, RSA_HEADER)
    )
    first: dict[str, str] = {}
    for name, value in query:
        first.setdefault(name, value)
    resource = path
    if first:
        resource += "?" + "&".join(
            f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(first.items())
        )
    return "\n".join(
        (
            method.upper(),
            hashlib.md5(body).hexdigest().upper() if body else "",
            "application/json" if body else "",
            date,
            "\n".join(f"{name}:{value}" for name, value in as_headers),
            resource,
        )
    )


@attrs.frozen
class SignatureCheck:
    """Which header carries the signature, and how to verify it over a SignString."""

    header: str
    verify: Callable[[str, str], bool] = attrs.field(repr=False)


def aes_check(secret: str) -> SignatureCheck:
    """``as-signature-hmac-sha256``: base64 HMAC-SHA256 keyed with the secret, constant time."""
    key = secret.encode()

    def verify(message: str, signature: str) -> bool:
        digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(digest), signature.encode())

    return SignatureCheck(HMAC_HEADER, verify)


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

    return SignatureCheck(RSA_HEADER, verify)


def _problem(
    check: SignatureCheck,
    method: str,
    body: bytes,
    headers: Mapping[str, str],
    path: str,
    query: Iterable[tuple[str, str]],
    now: dt.datetime,
) -> str | None:
    date = headers.get("date", "")
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "The date header is missing or invalid."
    if sent.tzinfo is None or abs(now - sent) > MAX_CLOCK_SKEW:
        return "The date header is more than 3 minutes away from the server's time."
    signature = headers.get(check.header, "")
    if not signature:
        return f"The {check.header} header is missing."
    message = documented_sign_string(method, body, date, headers.items(), path, query)
    return None if check.verify(message, signature) else "The request signature is invalid."


async def signature_problem(
    request: web.Request, check: SignatureCheck, now: dt.datetime
) -> str | None:
    """Why the request's signature is not acceptable, or None when it is."""
    body = await request.read()
    query = request.rel_url.query.items()
    return _problem(check, request.method, body, request.headers, request.rel_url.raw_path,
                    query, now)  # fmt: skip

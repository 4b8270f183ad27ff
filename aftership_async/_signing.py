"""AfterShip request signing: the "AES" (HMAC-SHA256) and "RSA" (RSASSA-PSS) key types.

Enterprise keys can require every request to carry a signature over a
*SignString*, which is, joined by newlines:

1. the HTTP method, upper case;
2. the upper-case hex MD5 of the body, or empty when there is no body;
3. ``application/json`` when there is a body, else empty;
4. the ``date`` header (RFC 1123, GMT), which must be within 3 minutes of
   the server's clock;
5. every ``as-*`` request header, ``name:value`` with the name lower-cased
   and the value trimmed, sorted by name, joined by newlines;
6. the path (with the API prefix) plus ``?`` and the query parameters
   sorted by name, when there are any.

* ``aes``: ``as-signature-hmac-sha256 = base64(HMAC-SHA256(api_secret, SignString))``.
* ``rsa``: ``as-signature-rsa-sha256 = base64(RSASSA-PSS(private key, SignString))``
  with SHA-256, MGF1-SHA256 and a salt as long as the digest (32 bytes): what
  the official SDK's pycryptodome ``PKCS1_PSS`` does by default. ``api_secret``
  is then the PEM private key (PKCS#8 or PKCS#1). Needs the ``rsa`` extra
  (``cryptography``), imported only when an RSA signer is built.

The same scheme applies to Tracking, Shipping and Returns. A signer's repr
never shows its key, and a signer cannot be pickled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from email.utils import formatdate
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

from ._errors import ConfigurationError

__all__ = [
    "AUTH_SCHEMES",
    "AESSigner",
    "AuthScheme",
    "RSASigner",
    "Signer",
    "http_date",
    "make_signer",
    "sign_request",
    "sign_string",
    "signature_headers",
]

SIGNATURE_HEADER = "as-signature-hmac-sha256"
RSA_SIGNATURE_HEADER = "as-signature-rsa-sha256"

AuthScheme = Literal["aes", "rsa"]
AUTH_SCHEMES: tuple[AuthScheme, ...] = ("aes", "rsa")

RSA_INSTALL_HINT = "pip install 'aftership-async[rsa]'"


def http_date(timestamp: float | None = None) -> str:
    """``Sun, 06 Nov 1994 08:49:37 GMT`` for ``timestamp`` (default: now)."""
    return formatdate(timestamp, usegmt=True)


def canonical_resource(path: str, query: Sequence[tuple[str, str]]) -> str:
    """The path plus the query sorted by parameter name (first value wins)."""
    if not query:
        return path
    first: dict[str, str] = {}
    for name, value in query:
        first.setdefault(name, value)
    return f"{path}?{urlencode(sorted(first.items()))}"


def sign_string(
    *,
    method: str,
    body: bytes | None,
    date: str,
    headers: Mapping[str, str],
    path: str,
    query: Sequence[tuple[str, str]] = (),
) -> str:
    """Build the SignString described in this module's docstring."""
    content_md5 = hashlib.md5(body).hexdigest().upper() if body else ""
    content_type = "application/json" if body else ""
    as_headers = sorted(
        (name.lower(), value.strip())
        for name, value in headers.items()
        if name.lower().startswith("as-")
    )
    canonical_headers = "\n".join(f"{name}:{value}" for name, value in as_headers)
    return "\n".join(
        [
            method.upper(),
            content_md5,
            content_type,
            date,
            canonical_headers,
            canonical_resource(path, query),
        ]
    )


class Signer(Protocol):
    """Signs a SignString; ``header`` is the request header the signature goes in."""

    scheme: AuthScheme
    header: str

    def sign(self, message: str) -> str:
        """The base64 signature of ``message`` (UTF-8)."""
        ...


class _KeyHolder:
    """Base of the signers: no repr, str or pickle ever shows the key."""

    __slots__ = ()
    scheme: AuthScheme

    def __repr__(self) -> str:
        return f"<{type(self).__name__} key=********>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError(f"a {type(self).__name__} cannot be pickled")


class AESSigner(_KeyHolder):
    """``as-signature-hmac-sha256``: HMAC-SHA256 keyed with the API secret."""

    __slots__ = ("_key",)
    scheme: AuthScheme = "aes"
    header = SIGNATURE_HEADER

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError("the AES api_secret must be a non-empty string")
        self._key = secret.encode()

    def sign(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")


class RSASigner(_KeyHolder):
    """``as-signature-rsa-sha256``: RSASSA-PSS, SHA-256, MGF1-SHA256, 32-byte salt.

    ``private_key_pem`` is a PEM RSA private key, PKCS#8 (``BEGIN PRIVATE
    KEY``) or PKCS#1 (``BEGIN RSA PRIVATE KEY``), unencrypted. A key that
    cannot be loaded raises :class:`ConfigurationError` without quoting it.
    """

    __slots__ = ("_key",)
    scheme: AuthScheme = "rsa"
    header = RSA_SIGNATURE_HEADER

    def __init__(self, private_key_pem: str | bytes) -> None:
        self._key = _load_rsa_private_key(private_key_pem)

    def sign(self, message: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = self._key.sign(
            message.encode(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
            hashes.SHA256(),
        )
        return base64.b64encode(signature).decode("ascii")


def _load_rsa_private_key(pem: str | bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        raise ConfigurationError(
            f"auth='rsa' needs the 'cryptography' package: {RSA_INSTALL_HINT}"
        ) from None
    if isinstance(pem, str):
        data = pem.strip().encode("utf-8", "replace")
    elif isinstance(pem, bytes):
        data = pem.strip()
    else:
        raise ConfigurationError(
            f"with auth='rsa', api_secret must be a PEM private key string, "
            f"got {type(pem).__name__}"
        )
    if b"-----BEGIN " not in data:
        raise ConfigurationError(
            "with auth='rsa', api_secret must be a PEM private key "
            "('-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----')"
        )
    # Every failure below is re-raised "from None": cryptography's messages
    # and tracebacks must not carry any part of the key into logs.
    problem: str | None = None
    key: Any = None
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        problem = "it is encrypted; pass an unencrypted PEM key"
    except (ValueError, IndexError, AssertionError):
        problem = "it could not be parsed as a PEM private key"
    except Exception:  # any other backend failure: report it without the key
        problem = "it could not be loaded"
    if problem is None and not isinstance(key, rsa.RSAPrivateKey):
        problem = f"it is not an RSA key ({type(key).__name__.lstrip('_')})"
    if problem is not None:
        raise ConfigurationError(f"with auth='rsa', api_secret is not usable: {problem}")
    if key.key_size < 2048:
        raise ConfigurationError(
            f"with auth='rsa', the private key must have at least 2048 bits, has {key.key_size}"
        )
    return key


def make_signer(secret: str | bytes, scheme: AuthScheme = "aes") -> Signer:
    """The signer for ``scheme``; raises :class:`ConfigurationError` on a bad secret."""
    if scheme == "aes":
        if not isinstance(secret, str):
            raise ConfigurationError(
                f"with auth='aes', api_secret must be a string, got {type(secret).__name__}"
            )
        return AESSigner(secret)
    if scheme == "rsa":
        return RSASigner(secret)
    raise ConfigurationError(f"auth must be one of {list(AUTH_SCHEMES)}, got {scheme!r}")


def sign_request(
    signer: Signer,
    *,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    path: str,
    query: Sequence[tuple[str, str]] = (),
    date: str | None = None,
) -> dict[str, str]:
    """The ``date`` and signature headers to add to a request."""
    date = date or http_date()
    message = sign_string(
        method=method, body=body, date=date, headers=headers, path=path, query=query
    )
    return {"date": date, signer.header: signer.sign(message)}


def signature_headers(
    *,
    secret: str,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    path: str,
    query: Sequence[tuple[str, str]] = (),
    date: str | None = None,
) -> dict[str, str]:
    """The ``date`` and ``as-signature-hmac-sha256`` headers (AES) to add to a request."""
    return sign_request(
        AESSigner(secret),
        method=method,
        body=body,
        headers=headers,
        path=path,
        query=query,
        date=date,
    )

"""AfterShip request signing (the "AES" authentication type).

Enterprise keys can require every request to carry a signature:
``as-signature-hmac-sha256 = base64(HMAC-SHA256(api_secret, SignString))``,
where the SignString is, joined by newlines:

1. the HTTP method, upper case;
2. the upper-case hex MD5 of the body, or empty when there is no body;
3. ``application/json`` when there is a body, else empty;
4. the ``date`` header (RFC 1123, GMT), which must be within 3 minutes of
   the server's clock;
5. every ``as-*`` request header, ``name:value`` with the name lower-cased
   and the value trimmed, sorted by name, joined by newlines;
6. the path (with the API prefix) plus ``?`` and the query parameters
   sorted by name, when there are any.

The same scheme applies to Tracking, Shipping and Returns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from email.utils import formatdate
from urllib.parse import urlencode

__all__ = ["http_date", "sign_string", "signature_headers"]

SIGNATURE_HEADER = "as-signature-hmac-sha256"


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
    """The ``date`` and ``as-signature-hmac-sha256`` headers to add to a request."""
    date = date or http_date()
    message = sign_string(
        method=method, body=body, date=date, headers=headers, path=path, query=query
    )
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return {"date": date, SIGNATURE_HEADER: base64.b64encode(digest).decode("ascii")}

"""Request-signature checking for a fake started with ``api_secret=``.

AfterShip keys of the "AES" type make every request carry ``date`` and
``as-signature-hmac-sha256``; the gateway rebuilds the SignString and answers
401 when the signature differs or the date is more than 3 minutes away from
its clock. The SignString and the HMAC come from the client's own
:mod:`aftership_async._signing` (one algorithm, not a second copy); what the
fake adds is reading them back from the request as it arrived.
"""

from __future__ import annotations

import datetime as dt
import hmac
from email.utils import parsedate_to_datetime

from aiohttp import web

from .._signing import SIGNATURE_HEADER, signature_headers

__all__ = ["MAX_CLOCK_SKEW", "signature_problem"]

MAX_CLOCK_SKEW = dt.timedelta(minutes=3)


async def signature_problem(request: web.Request, secret: str, now: dt.datetime) -> str | None:
    """Why the request's signature is not acceptable, or None when it is."""
    date = request.headers.get("date", "")
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "The date header is missing or invalid."
    if sent.tzinfo is None or abs(now - sent) > MAX_CLOCK_SKEW:
        return "The date header is more than 3 minutes away from the server's time."
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return f"The {SIGNATURE_HEADER} header is missing."
    body = await request.read()
    signed = {
        name.lower(): value
        for name, value in request.headers.items()
        if not name.lower().startswith("as-signature")
    }
    expected = signature_headers(
        secret=secret,
        method=request.method,
        body=body or None,
        headers=signed,
        path=request.rel_url.raw_path,
        query=list(request.rel_url.query.items()),
        date=date,
    )[SIGNATURE_HEADER]
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "The request signature is invalid."
    return None

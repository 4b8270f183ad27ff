"""The Starlette (and FastAPI) endpoint of a :class:`WebhookReceiver`.

Imported only when an endpoint is made: it needs the ``starlette`` extra
(``pip install 'aftership-async[starlette]'``; FastAPI brings Starlette).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["make_endpoint"]


def make_endpoint(receiver: WebhookReceiver) -> Callable[[Request], Awaitable[Response]]:
    async def aftership_webhook(request: Request) -> Response:
        limit = receiver.options.max_body
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _too_large(receiver)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():  # the raw bytes the signature covers
            size += len(chunk)
            if size > limit:
                return _too_large(receiver)
            chunks.append(chunk)
        reply = await receiver.handle(b"".join(chunks), request.headers)
        return JSONResponse(reply.body, status_code=reply.status)

    # FastAPI reads the signature: ``request: Request`` resolves in this module's globals.
    return aftership_webhook


def _too_large(receiver: WebhookReceiver) -> Response:
    receiver.stats.received += 1
    receiver.stats.invalid += 1
    return JSONResponse({"status": "too_large"}, status_code=413)

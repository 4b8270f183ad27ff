"""The aiohttp handler of a :class:`WebhookReceiver` (aiohttp is a runtime dependency)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["make_handler"]


def make_handler(receiver: WebhookReceiver) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def aftership_webhook(request: web.Request) -> web.Response:
        limit = receiver.options.max_body
        if request.content_length is not None and request.content_length > limit:
            receiver.stats.received += 1
            receiver.stats.invalid += 1
            return web.json_response({"status": "too_large"}, status=413)
        try:
            body = await request.read()  # the raw bytes the signature covers
        except web.HTTPRequestEntityTooLarge:  # over the app's client_max_size
            receiver.stats.received += 1
            receiver.stats.invalid += 1
            return web.json_response({"status": "too_large"}, status=413)
        reply = await receiver.handle(body, request.headers)
        return web.json_response(reply.body, status=reply.status)

    return aftership_webhook

"""What the receiver tests share: payloads of the three APIs, a sender that signs and
retries like AfterShip, and real servers on 127.0.0.1 (aiohttp's, and uvicorn).

The sender follows ../shared/reference/webhooks.md: a POST of compact JSON with the
API's signature header (``webhook_headers``), ``as-webhook-version`` for the dated
APIs, and on a non-2xx answer up to 14 attempts in all, the n-th retry ``2**n x 30 s``
after the one before (scaled down here so that a test takes milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from aftership_async import webhook_headers
from aftership_async._generated._webhooks import RETURNS_WEBHOOK_VERSION, TRACKING_WEBHOOK_VERSION

from ..specdata import sample, schema

SECRET = "whsec-receiver-test-5f1c2a"

#: AfterShip's attempts per event (the first delivery and 13 retries).
ATTEMPTS = 14

_VERSIONS = {"tracking": TRACKING_WEBHOOK_VERSION, "returns": RETURNS_WEBHOOK_VERSION}


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat().replace("+00:00", "Z")


def tracking_event(
    *, event_id: str | None = None, updated: float | None = None, tag: str = "InTransit"
) -> dict[str, Any]:
    now = time.time()
    return {
        "event": "tracking_update",
        "event_id": event_id or str(uuid.uuid4()),
        "is_tracking_first_tag": True,
        "msg": {
            "id": "trk-receiver-1",
            "tracking_number": "9361289676091361892011",
            "slug": "usps",
            "tag": tag,
            "updated_at": iso(updated if updated is not None else now),
        },
        "ts": int(updated if updated is not None else now),
    }


def returns_event(*, event_id: str | None = None, created: float | None = None) -> dict[str, Any]:
    return {
        "id": event_id or uuid.uuid4().hex,
        "event": "return.approved",
        "created_at": iso(created if created is not None else time.time()),
        "modified": {"approval_status": {"from": "submitted", "to": "approved"}},
        "data": sample("returns", schema("returns", "Return")),
    }


def shipping_event(
    *, label_id: str = "lbl-1", status: str = "created", updated: float | None = None
) -> dict[str, Any]:
    moment = updated if updated is not None else time.time()
    return {
        "event_type": "create_a_label",
        "date_time": iso(moment),
        "meta": {"code": 200, "message": "OK", "details": []},
        "data": {"id": label_id, "status": status, "updated_at": iso(moment)},
    }


EVENTS = {"tracking": tracking_event, "returns": returns_event, "shipping": shipping_event}


def body_of(payload: Any) -> bytes:
    return (
        payload
        if isinstance(payload, bytes)
        else json.dumps(payload, separators=(",", ":")).encode()
    )


class Sender:
    """Delivers webhooks to one URL the way AfterShip does (signed, retried until a 2xx).

    ``scale`` multiplies AfterShip's delays (30 s, 60 s, ... 122,880 s).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        api: str = "tracking",
        secret: str = SECRET,
        scale: float = 1e-3,
    ) -> None:
        self.session = session
        self.url = url
        self.api = api
        self.secret = secret
        self.scale = scale

    def headers(self, body: bytes, secret: str | None = None) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "AfterShipTrackingWebhook/4.0.0 (https://www.aftership.com)",
            **webhook_headers(body, secret or self.secret, self.api),
        }
        if self.api in _VERSIONS:
            headers["as-webhook-version"] = _VERSIONS[self.api]
        return headers

    async def post(
        self, payload: Any, *, headers: Mapping[str, str] | None = None, url: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """One attempt: (status, JSON answer)."""
        body = body_of(payload)
        async with self.session.post(
            url or self.url, data=body, headers=headers or self.headers(body)
        ) as response:
            return response.status, await response.json(content_type=None)

    async def deliver(self, payload: Any, *, url: str | None = None) -> list[tuple[int, str]]:
        """Attempts until a 2xx or AfterShip gives up: [(status, outcome), ...]."""
        body = body_of(payload)
        answers: list[tuple[int, str]] = []
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(30 * 2 ** (attempt - 1) * self.scale)
            status, answer = await self.post(body, url=url)
            answers.append((status, answer.get("status", "")))
            if 200 <= status < 300:
                break
        return answers


@contextlib.asynccontextmanager
async def aiohttp_server(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` with aiohttp on a free port of 127.0.0.1: yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def uvicorn_server(app: Any) -> AsyncIterator[str]:
    """Serve the ASGI ``app`` with uvicorn, in this event loop, on a free port of 127.0.0.1."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError("uvicorn stopped before it started")
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        await asyncio.sleep(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task

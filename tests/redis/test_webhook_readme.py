"""README "Webhook receivers": the FastAPI example on uvicorn, with its Redis store."""

from __future__ import annotations

import time

import aiohttp
import pytest

from ..webhooks._support import Sender, returns_event, uvicorn_server
from ..webhooks.readme import receiver_example
from ._server import RedisServer

SECRET = "readme-returns-secret"


async def test_the_readme_fastapi_receiver(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("AFTERSHIP_RETURNS_WEBHOOK_SECRET", SECRET)
    example = receiver_example("webhooks.starlette_endpoint(")
    now = time.time()
    older = returns_event(created=now - 100)
    newer = returns_event(created=now)
    older["data"]["id"] = newer["data"]["id"] = "ret-1"
    try:
        async with aiohttp.ClientSession() as session, uvicorn_server(example["app"]) as base:
            sender = Sender(
                session, base + "/webhooks/aftership-returns", api="returns", secret=SECRET
            )
            assert await sender.deliver(newer) == [(200, "handled")]
            assert await sender.deliver(older) == [(200, "handled")]  # late, and older
            assert await sender.deliver(newer) == [(200, "duplicate")]
    finally:
        await example["store"].aclose()
    assert example["latest"]["ret-1"].id == newer["id"]

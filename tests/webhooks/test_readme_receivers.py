"""README "Webhook receivers": the aiohttp example served for real and fed by the sender."""

from __future__ import annotations

import aiohttp
import pytest

from ._support import SECRET, Sender, aiohttp_server, body_of, tracking_event
from .readme import receiver_example


async def test_the_readme_aiohttp_receiver(
    monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession
) -> None:
    monkeypatch.setenv("AFTERSHIP_WEBHOOK_SECRET", SECRET)
    example = receiver_example("webhooks.aiohttp_handler(")
    payload = tracking_event()
    async with aiohttp_server(example["app"]) as base:
        sender = Sender(session, base + "/webhooks/aftership")
        assert await sender.deliver(payload) == [(200, "handled")]
        assert await sender.deliver(payload) == [(200, "duplicate")]
        body = body_of(tracking_event())
        assert (await sender.post(body, headers=sender.headers(body, "not-the-secret")))[0] == 401
    (event,) = example["received"]
    assert event.event_id == payload["event_id"]

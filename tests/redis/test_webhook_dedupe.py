"""RedisDedupeStore against a real redis-server: receivers on two servers (two workers)
share one store, so a retried or duplicated delivery is handled once whichever gets it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from aftership_async.webhooks import (
    Claim,
    ReceiverOptions,
    RedisDedupeStore,
    WebhookReceiver,
    event_key,
)

from ..webhooks._support import SECRET, Sender, aiohttp_server, body_of, tracking_event
from ..webhooks.conftest import Recorder
from ._server import RedisServer


@contextlib.asynccontextmanager
async def worker(
    url: str, namespace: str, recorder: Recorder, **options: float
) -> AsyncIterator[tuple[str, WebhookReceiver]]:
    """One web worker: its own Redis connection, its own aiohttp server on 127.0.0.1."""
    async with RedisDedupeStore.from_url(url, namespace=namespace) as store:
        rx = WebhookReceiver(
            secret=SECRET, on_event=recorder, options=ReceiverOptions(store=store, **options)
        )
        app = web.Application()
        app.add_routes([web.post("/hook", rx.aiohttp_handler())])
        async with aiohttp_server(app) as base:
            yield base + "/hook", rx


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_two_workers_sharing_the_store_see_a_duplicate_once(
    redis_server: RedisServer, namespace: str, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()
    payload = tracking_event()
    async with worker(redis_server.url, namespace, recorder) as (url_a, a):
        async with worker(redis_server.url, namespace, recorder) as (url_b, b):
            sender = Sender(session, url_a)
            first = await sender.deliver(payload)
            second = await sender.deliver(payload, url=url_b)
            third = await sender.deliver(payload, url=url_a)
    assert first == [(200, "handled")]
    assert second == third == [(200, "duplicate")]
    assert len(recorder.calls) == 1
    assert (a.stats.handled, b.stats.handled, b.stats.duplicates) == (1, 0, 1)


async def test_simultaneous_deliveries_to_two_workers_are_handled_once(
    redis_server: RedisServer, namespace: str, session: aiohttp.ClientSession
) -> None:
    gate = asyncio.Event()
    recorder = Recorder(gate=gate)
    payload = tracking_event()
    async with worker(redis_server.url, namespace, recorder) as (url_a, _):
        async with worker(redis_server.url, namespace, recorder) as (url_b, _):
            sender = Sender(session, url_a, scale=1e-3)
            deliveries = [
                asyncio.ensure_future(sender.deliver(payload, url=url)) for url in (url_a, url_b)
            ]
            await asyncio.wait_for(recorder.entered.wait(), 10)
            await asyncio.sleep(0.05)  # both deliveries have claimed or been told to wait
            gate.set()
            answers = await asyncio.gather(*deliveries)
    assert len(recorder.calls) == 1
    outcomes = sorted(a[-1][1] for a in answers)
    assert outcomes == ["duplicate", "handled"]
    # The one that lost the race was told to come back (409) until the winner finished.
    assert all(status == 409 for a in answers for status, _ in a[:-1])


async def test_a_failure_on_one_worker_releases_the_event_for_the_retry_on_another(
    redis_server: RedisServer, namespace: str, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder(failures=1)
    payload = tracking_event()
    async with worker(redis_server.url, namespace, recorder) as (url_a, _):
        async with worker(redis_server.url, namespace, recorder) as (url_b, _):
            sender = Sender(session, url_a)
            assert await sender.post(payload) == (500, {"status": "failed"})
            assert await sender.deliver(payload, url=url_b) == [(200, "handled")]
    assert len(recorder.calls) == 2 and len(recorder.events) == 1


async def test_a_dead_worker_s_claim_expires_after_its_lease(
    redis_server: RedisServer, namespace: str, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()
    payload = tracking_event()
    async with worker(redis_server.url, namespace, recorder, lease=1) as (url, rx):
        event = rx.parser(body_of(payload), Sender(session, url).headers(body_of(payload)), SECRET)
        key = event_key(event)
        assert key is not None
        # A worker claimed the event and died before answering.
        assert await rx.store.claim(key, "dead-worker", 1) is Claim.NEW
        sender = Sender(session, url, scale=0.02)  # retries after 0.6 s, 1.2 s, ...
        answers = await sender.deliver(payload)
    assert answers[0] == (409, "in_progress")
    assert answers[-1] == (200, "handled")
    assert len(recorder.calls) == 1


async def test_redis_down_answers_503_so_aftership_retries_later(
    own_redis_server: RedisServer,
    namespace: str,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    url = own_redis_server.url
    async with worker(url, namespace, recorder) as (hook, rx):
        own_redis_server.kill()
        status, answer = await Sender(session, hook).post(tracking_event())
    assert (status, answer) == (503, {"status": "store_unavailable"})
    assert recorder.calls == [] and rx.stats.store_errors == 1
    assert "dedupe store failed" in caplog.text


async def test_keys_live_under_the_namespace_with_the_dedupe_ttl(
    redis_server: RedisServer, namespace: str, session: aiohttp.ClientSession
) -> None:
    import redis.asyncio as redis_asyncio

    recorder = Recorder()
    async with worker(redis_server.url, namespace, recorder) as (url, rx):
        assert await Sender(session, url).deliver(tracking_event()) == [(200, "handled")]
    client = redis_asyncio.Redis.from_url(redis_server.url)
    try:
        keys = [k async for k in client.scan_iter(f"aftership:{namespace}:webhook:*")]
        assert len(keys) == 1
        assert await client.get(keys[0]) == b"done"
        ttl = await client.ttl(keys[0])
        assert rx.options.dedupe_ttl - 60 <= ttl <= rx.options.dedupe_ttl
    finally:
        await client.aclose()

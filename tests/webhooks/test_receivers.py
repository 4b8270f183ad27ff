"""The aiohttp, Starlette and FastAPI receivers end to end, each on its real server on
127.0.0.1 (aiohttp's; uvicorn for the ASGI ones), fed by a sender that signs and retries
like AfterShip: signed, bad, retried, duplicated, concurrent and out-of-order deliveries.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from aftership_async import (
    ReturnsWebhookEvent,
    ShippingWebhookEvent,
    TrackingWebhookEvent,
    webhooks,
)
from aftership_async.webhooks import ReceiverOptions, WebhookReceiver, event_key, is_newer

from ._support import EVENTS, SECRET, Sender, body_of, shipping_event, tracking_event
from .conftest import Recorder, Serve

APIS = ("tracking", "returns", "shipping")
MODELS = {
    "tracking": TrackingWebhookEvent,
    "returns": ReturnsWebhookEvent,
    "shipping": ShippingWebhookEvent,
}


def receiver(api: str = "tracking", on_event: Any = None, **options: Any) -> WebhookReceiver:
    return WebhookReceiver(
        secret=SECRET,
        on_event=on_event if on_event is not None else Recorder(),
        api=api,
        options=ReceiverOptions(**options),
    )


@pytest.mark.parametrize("api", APIS)
async def test_a_signed_delivery_reaches_on_event_typed_and_is_answered_200(
    served: Serve, session: aiohttp.ClientSession, api: str
) -> None:
    recorder = Recorder()
    payload = EVENTS[api]()
    async with served(receiver(api, recorder)) as url:
        answers = await Sender(session, url, api=api).deliver(payload)
    assert answers == [(200, "handled")]
    (event,) = recorder.events
    assert isinstance(event, MODELS[api])
    assert (
        event.to_dict()["data" if api != "tracking" else "msg"]["id"]
        == (payload["data" if api != "tracking" else "msg"]["id"])
    )


@pytest.mark.parametrize("api", APIS)
async def test_a_bad_or_missing_signature_answers_401_and_never_calls_on_event(
    served: Serve, session: aiohttp.ClientSession, api: str
) -> None:
    recorder = Recorder()
    rx = receiver(api, recorder)
    body = body_of(EVENTS[api]())
    async with served(rx) as url:
        sender = Sender(session, url, api=api)
        wrong_secret = await sender.post(body, headers=sender.headers(body, "another-secret"))
        missing = await sender.post(body, headers={"Content-Type": "application/json"})
        tampered = await sender.post(
            body.replace(b"}", b' , "x": 1}', 1), headers=sender.headers(body)
        )
    assert [wrong_secret[0], missing[0], tampered[0]] == [401, 401, 401]
    assert wrong_secret[1] == {"status": "unverified"}
    assert recorder.calls == []
    assert rx.stats.unverified == 3 and rx.stats.handled == 0


async def test_a_signed_body_that_is_not_an_event_answers_400(
    served: Serve, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()
    rx = receiver("tracking", recorder)
    not_an_event = tracking_event()
    del not_an_event["msg"]
    async with served(rx) as url:
        sender = Sender(session, url)
        statuses = [(await sender.post(p))[0] for p in (b"not json", b"[1, 2]", not_an_event)]
    assert statuses == [400, 400, 400]
    assert recorder.calls == [] and rx.stats.invalid == 3


@pytest.mark.parametrize("api", APIS)
async def test_duplicates_answer_200_and_do_not_call_on_event(
    served: Serve, session: aiohttp.ClientSession, api: str
) -> None:
    recorder = Recorder()
    rx = receiver(api, recorder)
    payload = EVENTS[api]()
    async with served(rx) as url:
        sender = Sender(session, url, api=api)
        answers = [await sender.deliver(payload) for _ in range(3)]
        other = await sender.deliver(
            EVENTS[api](**({"status": "cancelled"} if api == "shipping" else {}))
        )
    assert answers == [[(200, "handled")], [(200, "duplicate")], [(200, "duplicate")]]
    assert other == [(200, "handled")]
    assert len(recorder.calls) == 2 and rx.stats.duplicates == 2


async def test_a_failing_on_event_answers_500_and_aftership_s_retry_is_handled(
    served: Serve, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder(failures=2)
    rx = receiver("tracking", recorder)
    payload = tracking_event()
    async with served(rx) as url:
        sender = Sender(session, url)
        answers = await sender.deliver(payload)  # retried on AfterShip's (scaled) schedule
        again = await sender.deliver(payload)
    assert answers == [(500, "failed"), (500, "failed"), (200, "handled")]
    assert again == [(200, "duplicate")]
    assert len(recorder.calls) == 3 and len(recorder.events) == 1
    assert rx.stats.failed == 2 and rx.stats.handled == 1


async def test_aftership_gives_up_after_14_attempts(
    served: Serve, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder(failures=100)
    async with served(receiver("tracking", recorder)) as url:
        answers = await Sender(session, url, scale=1e-6).deliver(tracking_event())
    assert answers == [(500, "failed")] * 14
    assert len(recorder.calls) == 14


async def test_a_delivery_while_another_of_the_same_event_runs_answers_409_then_duplicate(
    served: Serve, session: aiohttp.ClientSession
) -> None:
    gate = asyncio.Event()
    recorder = Recorder(gate=gate)
    rx = receiver("tracking", recorder)
    payload = tracking_event()
    async with served(rx) as url:
        sender = Sender(session, url)
        first = asyncio.ensure_future(sender.post(payload))
        await asyncio.wait_for(recorder.entered.wait(), 10)
        second = await sender.post(payload)  # AfterShip timed out on the first and retried
        gate.set()
        assert (await first)[0] == 200
        third = await sender.post(payload)
    assert second == (409, {"status": "in_progress"})
    assert third == (200, {"status": "duplicate"})
    assert len(recorder.calls) == 1


async def test_out_of_order_deliveries_keep_the_newest_state_with_is_newer(
    served: Serve, session: aiohttp.ClientSession
) -> None:
    """An old event fails, a newer one is handled, then the old one's retry arrives."""
    latest: dict[str, TrackingWebhookEvent] = {}
    applied: list[str] = []
    failed_once: set[str] = set()

    async def on_event(event: TrackingWebhookEvent) -> None:
        if event.msg.tag == "InTransit" and event.event_id not in failed_once:
            failed_once.add(event.event_id)
            raise RuntimeError("first attempt fails")
        key = event.msg.id
        if is_newer(event, latest.get(key)):
            latest[key] = event
            applied.append(event.msg.tag)

    older = tracking_event(updated=1_700_000_000 + 10**7, tag="InTransit")
    newer = tracking_event(updated=1_700_000_100 + 10**7, tag="Delivered")
    async with served(receiver("tracking", on_event, tolerance=None)) as url:
        sender = Sender(session, url)
        assert (await sender.post(older))[0] == 500  # AfterShip will retry it
        assert (await sender.post(newer))[0] == 200
        assert (await sender.post(older))[0] == 200  # the retry: handled, but older
    assert latest["trk-receiver-1"].msg.tag == "Delivered"
    assert applied == ["Delivered"]


async def test_the_body_limit_answers_413(served: Serve, session: aiohttp.ClientSession) -> None:
    recorder = Recorder()
    rx = receiver("tracking", recorder, max_body=2048)
    payload = tracking_event()
    payload["msg"]["title"] = "x" * 4096
    async with served(rx) as url:
        status, answer = await Sender(session, url).post(payload)
    assert (status, answer) == (413, {"status": "too_large"})
    assert recorder.calls == []


async def test_a_plain_function_is_an_on_event_too(
    served: Serve, session: aiohttp.ClientSession
) -> None:
    seen: list[str] = []
    payload = shipping_event()
    rx = receiver("shipping", lambda event: seen.append(event.event_type))
    async with served(rx) as url:
        assert await Sender(session, url, api="shipping").deliver(payload) == [(200, "handled")]
    assert seen == ["create_a_label"]


async def test_the_module_functions_build_the_handlers(session: aiohttp.ClientSession) -> None:
    """The documented spelling: ``web.post(path, aftership_async.webhooks.aiohttp_handler(...))``."""
    from aiohttp import web

    from ._support import aiohttp_server

    recorder = Recorder()
    app = web.Application()
    app.add_routes(
        [
            web.post(
                "/hook", webhooks.aiohttp_handler(secret=SECRET, on_event=recorder, api="returns")
            )
        ]
    )
    async with aiohttp_server(app) as base:
        assert await Sender(session, base + "/hook", api="returns").deliver(
            EVENTS["returns"]()
        ) == [(200, "handled")]
    endpoint = webhooks.starlette_endpoint(secret=SECRET, on_event=recorder)
    assert callable(endpoint)
    assert len(recorder.events) == 1


async def test_secrets_never_reach_logs_answers_or_reprs(
    served: Serve, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(failures=1)
    rx = receiver("tracking", recorder)
    payload = tracking_event()
    body = body_of(payload)
    texts: list[str] = []
    async with served(rx) as url:
        sender = Sender(session, url)
        for headers in (sender.headers(body, "wrong"), sender.headers(body), sender.headers(body)):
            async with session.post(url, data=body, headers=headers) as response:
                texts.append(await response.text())
                texts.append(str(response.headers))
    texts += [caplog.text, repr(rx), repr(rx.options), repr(rx.stats), repr(rx.store)]
    expected_signature = sender.headers(body)["aftership-hmac-sha256"]
    for text in texts:
        assert SECRET not in text
        assert expected_signature not in text
    assert "on_event raised" in caplog.text  # the failure itself is logged
    assert event_key(rx.parser(body, sender.headers(body), SECRET)) is not None

"""Fixtures of the receiver tests: a receiver served by each framework on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aftership_async.webhooks import WebhookReceiver

from ._support import aiohttp_server, uvicorn_server

PATH = "/webhooks/aftership"
FRAMEWORKS = ("aiohttp", "starlette", "fastapi")


class Recorder:
    """An ``on_event`` that records each event; it can fail the first calls or wait for a gate."""

    def __init__(self, *, failures: int = 0, gate: asyncio.Event | None = None) -> None:
        self.calls: list[Any] = []
        self.events: list[Any] = []
        self.failures = failures
        self.gate = gate
        self.entered = asyncio.Event()

    async def __call__(self, event: Any) -> None:
        self.calls.append(event)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database is down")
        self.events.append(event)


@contextlib.asynccontextmanager
async def serve(framework: str, receiver: WebhookReceiver) -> AsyncIterator[str]:
    """The URL of ``receiver`` served by ``framework``'s real server on 127.0.0.1."""
    if framework == "aiohttp":
        app = web.Application()
        app.add_routes([web.post(PATH, receiver.aiohttp_handler())])
        async with aiohttp_server(app) as base:
            yield base + PATH
    elif framework == "starlette":
        from starlette.applications import Starlette
        from starlette.routing import Route

        asgi = Starlette(routes=[Route(PATH, receiver.starlette_endpoint(), methods=["POST"])])
        async with uvicorn_server(asgi) as base:
            yield base + PATH
    else:
        from fastapi import FastAPI

        fastapi_app = FastAPI()
        fastapi_app.add_api_route(PATH, receiver.starlette_endpoint(), methods=["POST"])
        async with uvicorn_server(fastapi_app) as base:
            yield base + PATH


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


Serve = Callable[[WebhookReceiver], contextlib.AbstractAsyncContextManager[str]]


@pytest.fixture
def served(framework: str) -> Serve:
    return lambda receiver: serve(framework, receiver)

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from aftership_async import NO_RETRY, AfterShip

API_KEY = "test-key-0123456789"


class _Response(aiohttp.ClientResponse):
    """aioresponses 0.7.9 predates aiohttp 3.14's required ``stream_writer``."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class Mocked(aioresponses):
    """aioresponses whose responses build on every supported aiohttp."""

    def add(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", _Response)
        super().add(*args, **kwargs)


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with Mocked() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[AfterShip]:
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as c:
        yield c

from __future__ import annotations

import functools
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


#: Sessions a test left open. Kept referenced so that their ``__del__`` (aiohttp's
#: "Unclosed client session" ResourceWarning, an error in this suite) does not fire
#: later, during another test: the test that leaked fails, and only that one.
_LEAKED: list[aiohttp.ClientSession] = []


@pytest.fixture(autouse=True)
def aiohttp_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[aiohttp.ClientSession]]:
    """Every ``aiohttp.ClientSession`` created during the test; the test fails if one is left open.

    aiohttp reports an unclosed session only when it is garbage collected (a
    ``ResourceWarning`` from ``__del__``, turned into an error by pyproject's
    ``filterwarnings``, and the loop's exception handler): whenever that happens,
    possibly in a later test, or never. This check is deterministic: at the end of
    each test (after its other fixtures are torn down), every session created
    since it started must be closed. A test can also read the list, e.g. to
    assert that a call created no session.
    """
    created: list[aiohttp.ClientSession] = []
    original = aiohttp.ClientSession.__init__

    @functools.wraps(original)
    def init(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        created.append(self)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", init)
    yield created
    leaked = [session for session in created if not session.closed]
    if leaked:
        _LEAKED.extend(leaked)
        pytest.fail(
            f"the test left {len(leaked)} aiohttp.ClientSession(s) open "
            "(an 'Unclosed client session' warning)",
            pytrace=False,
        )

"""pytest fixtures for testing code that uses aftership-async, registered as a pytest11 plugin.

``aftership_fake``: a started :class:`~aftership_async.testing.FakeAfterShip`
(no latency, rate limits off, no faults), fresh for each test.
``aftership_client``: an ``AfterShip(api_key="test", base_url=aftership_fake.url)``
opened for the test. Both are async fixtures (pytest-asyncio). Tests that need
latency, limits or faults build their own ``FakeAfterShip(...)``.

pytest imports this module in every run of every project that installs
aftership-async, whether or not its tests use the fixtures. So it lives
outside the ``aftership_async`` package (importing any submodule of that would
import the SDK, aiohttp and every model first) and imports the SDK only inside
the fixtures: loading the plugin costs a few hundred microseconds. Without
pytest-asyncio it must not break pytest either: the fixtures then fail only the
tests that use them, saying what to install.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from aftership_async import AfterShip
    from aftership_async.testing import FakeAfterShip

__all__ = ["aftership_client", "aftership_fake"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    pytest_asyncio = None  # type: ignore[assignment]

_MISSING = (
    "the aftership_fake/aftership_client fixtures need pytest-asyncio: pip install pytest-asyncio"
)

if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def aftership_fake() -> AsyncIterator[FakeAfterShip]:
        """A running fake AfterShip server, empty at the start of the test."""
        from aftership_async.testing import FakeAfterShip

        async with FakeAfterShip() as fake:
            yield fake

    @pytest_asyncio.fixture
    async def aftership_client(aftership_fake: FakeAfterShip) -> AsyncIterator[AfterShip]:
        """An ``AfterShip`` client talking to ``aftership_fake``."""
        from aftership_async import AfterShip

        # The fake's limits are off by default, so the client's limiter is too.
        async with AfterShip(
            api_key="test", base_url=aftership_fake.url, rate_limit=None
        ) as client:
            yield client

else:

    @pytest.fixture
    def aftership_fake() -> NoReturn:
        """Unavailable: needs pytest-asyncio."""
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture
    def aftership_client(aftership_fake: Any) -> NoReturn:
        """Unavailable: needs pytest-asyncio."""
        pytest.fail(_MISSING, pytrace=False)

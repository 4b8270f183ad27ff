"""An in-memory fake of the AfterShip Tracking, Shipping and Returns APIs, for tests.

Run your code against it instead of the real API::

    from aftership_async import AfterShip
    from aftership_async.testing import FakeAfterShip

    async with FakeAfterShip(seed=1) as fake:
        async with AfterShip(api_key="k", base_url=fake.url) as client:
            tracking = await client.tracking.create_tracking(...)
        assert fake.stats.created["tracking"] == 1

It is driven by the same OpenAPI specs as the client: every operation
answers spec-valid data in its API's envelope, requests are validated, and
trackings, labels and returns are stored and follow the real rules. Rate
limits, latency and faults (429, 5xx, HTML 502, dropped connections, stalls,
truncated or malformed bodies) can be switched on to test resilience.

Also available: ``python -m aftership_async.testing`` (a standalone server)
and the pytest fixtures ``aftership_fake`` / ``aftership_client``.
"""

from ._faults import FAULT_KINDS
from ._server import FakeAfterShip
from ._state import FakeStats

__all__ = ["FAULT_KINDS", "FakeAfterShip", "FakeStats"]

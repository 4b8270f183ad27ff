"""Many AfterShip organisations on one client: ``with_options(api_key=..., organization=...)``.

AfterShip counts rate limits per organisation, so each organisation's client
gets its own budget, figures and credentials, while the pool and the
concurrency cap stay shared (issue 22, item 1). Against the fake on 127.0.0.1,
which counts its limits per key.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest

from aftership_async import AfterShip, ConfigurationError
from aftership_async.testing import FakeAfterShip

LIMIT = 4  # requests/second per organisation, on the fake and in the client
EACH = 12  # three seconds of one organisation's budget


def _recording() -> tuple[aiohttp.TraceConfig, list[tuple[float, str]]]:
    """A trace of (wall-clock time, API key) for each request the session sends."""
    sent: list[tuple[float, str]] = []
    trace = aiohttp.TraceConfig()

    async def start(_session: Any, _ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        sent.append((time.time(), params.headers.get("as-api-key", "")))

    trace.on_request_start.append(start)
    return trace, sent


async def test_three_organisations_each_use_their_own_full_budget_on_one_pool() -> None:
    trace, sent = _recording()
    async with (
        FakeAfterShip(rate_limits=LIMIT) as fake,
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        AfterShip(api_key="key-of-a", base_url=fake.url, session=session, rate_limit=LIMIT) as a,
    ):
        b = a.with_options(api_key="key-of-b", organization="b")
        c = a.with_options(api_key="key-of-c", organization="c")
        clients = {"key-of-a": a, "key-of-b": b, "key-of-c": c}
        await asyncio.gather(
            *(
                client.tracking.get_couriers(active=True)
                for client in clients.values()
                for _ in range(EACH)
            )
        )
        # Each paced to its own organisation's limit: the fake, counting per key, refused none.
        assert fake.stats.rate_limited == 0
    # Every request went through the one session (its trace saw them all), with its own key.
    assert Counter(key for _, key in sent) == {key: EACH for key in clients}
    # Own budgets, not one shared: together they sent more in one second than one
    # organisation's budget allows (a shared limiter keeps the three under LIMIT + LIMIT).
    assert max(Counter(int(t) for t, _ in sent).values()) > 2 * LIMIT, sorted(sent)
    assert a.stats.requests == EACH and a.stats.rate_limited == 0
    assert a.stats.organizations == {"b": b.stats, "c": c.stats}
    assert b.stats.requests == c.stats.requests == EACH
    assert (a.organization, b.organization) == (None, "b")


async def test_clients_of_one_organisation_share_its_budget_and_figures() -> None:
    trace, sent = _recording()
    async with (
        FakeAfterShip() as fake,
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        AfterShip(api_key="k", base_url=fake.url, session=session) as client,
    ):
        first = client.with_options(api_key="key-of-b", organization="b")
        again = client.with_options(api_key="key-of-b", organization="b", timeout=5)
        derived = first.with_options(timeout=7)  # keeps b's credentials, budget and figures
        await first.tracking.get_couriers(active=True)
        await again.tracking.get_couriers(active=True)
        await derived.tracking.get_couriers(active=True)
    assert first.stats is again.stats is derived.stats
    assert first.stats.requests == 3 and client.stats.requests == 0
    assert derived.organization == "b"
    assert [key for _, key in sent] == ["key-of-b"] * 3


async def test_another_organisation_signs_with_its_own_secret_or_not_at_all() -> None:
    signatures: list[tuple[str, str | None]] = []
    trace = aiohttp.TraceConfig()

    async def start(_session: Any, _ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        signatures.append(
            (params.headers["as-api-key"], params.headers.get("as-signature-hmac-sha256"))
        )

    trace.on_request_start.append(start)
    async with (
        FakeAfterShip() as fake,
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        AfterShip(
            api_key="key-of-a", api_secret="secret-of-a", base_url=fake.url, session=session
        ) as a,
    ):
        b = a.with_options(api_key="key-of-b", api_secret="secret-of-b", organization="b")
        c = a.with_options(api_key="key-of-c", organization="c")  # a key without a secret
        for client in (a, b, c):
            await client.tracking.get_couriers(active=True)
    (key_a, sig_a), (key_b, sig_b), (key_c, sig_c) = signatures
    assert (key_a, key_b, key_c) == ("key-of-a", "key-of-b", "key-of-c")
    assert sig_a and sig_b and sig_a != sig_b  # each signed with its own secret
    assert sig_c is None  # never with another organisation's secret


async def test_each_organisation_passes_a_fake_that_checks_its_own_signature() -> None:
    async with FakeAfterShip(api_secret="secret-of-b") as fake:
        async with AfterShip(api_key="key-of-a", base_url=fake.url) as a:
            b = a.with_options(api_key="key-of-b", api_secret="secret-of-b", organization="b")
            couriers = await b.tracking.get_couriers(active=True)
            assert couriers is not None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"api_key": "key-of-b"}, "needs both api_key= and organization="),
        ({"organization": "b"}, "needs both api_key= and organization="),
        ({"api_secret": "s"}, "go with api_key= and organization="),
        ({"api_key": "key-of-b", "organization": "b c"}, "organization must be"),
        ({"api_key": "", "organization": "b"}, "api_key must be a non-empty string"),
    ],
)
async def test_bad_organisation_options_are_refused_before_the_network(
    options: dict[str, str], message: str
) -> None:
    async with AfterShip(api_key="k", base_url="http://127.0.0.1:9") as client:
        with pytest.raises(ConfigurationError, match=message):
            client.with_options(**options)  # type: ignore[arg-type]


async def test_a_limiter_without_per_organisation_budgets_is_a_clear_error() -> None:
    class OneBudget:
        setting = 10.0

        async def acquire(self, key: str, endpoint: str, documented: float) -> Any:
            raise AssertionError("not reached")

        def observe(self, *args: Any, **kwargs: Any) -> None:
            pass

    async with AfterShip(
        api_key="k", base_url="http://127.0.0.1:9", rate_limit=OneBudget()
    ) as client:  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="keeps no budget per organisation"):
            client.with_options(api_key="key-of-b", organization="b")


async def test_another_organisations_key_stays_out_of_reprs() -> None:
    async with AfterShip(api_key="key-of-a", base_url="http://127.0.0.1:9") as client:
        other = client.with_options(
            api_key="secret-key-of-b", api_secret="hmac-of-b", organization="b"
        )
        text = repr(other) + repr(other.stats) + repr(client.stats) + repr(other._transport)
        assert "secret-key-of-b" not in text and "hmac-of-b" not in text
        assert "'b'" in repr(other)


async def test_the_readme_example_runs_against_the_fake() -> None:
    from .test_readme import readme_block

    namespace: dict[str, Any] = {"AfterShip": AfterShip}
    exec(readme_block("Many organisations, one client"), namespace)
    async with FakeAfterShip() as fake, AfterShip(api_key="k", base_url=fake.url) as client:
        fake.add_trackings(["1Z0000000000000001"])
        counts = await namespace["sync_all"](client, {"m1": "key-1", "m2": "key-2"})
        assert set(counts) == {"m1", "m2"}
        assert set(client.stats.organizations) == {"m1", "m2"}

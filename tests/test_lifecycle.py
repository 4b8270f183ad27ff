"""A client is unopened, open, then closed for good (issue 19): it never reopens itself.

Regression tests, through the public API against the fake: a closed client used
to create a new session on the next call, which nothing closed.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import aiohttp
import pytest

from aftership_async import (
    AfterShip,
    AfterShipError,
    ClientClosedError,
    RetryPolicy,
    SessionClosedError,
)
from aftership_async._operation import Operation
from aftership_async.testing import FakeAfterShip

ROOT = Path(__file__).resolve().parent.parent


def requests(fake: FakeAfterShip) -> int:
    return sum(fake.stats.requests.values())


def test_the_errors_are_typed_and_public() -> None:
    assert issubclass(ClientClosedError, AfterShipError)
    assert issubclass(ClientClosedError, RuntimeError)  # as aiohttp's "Session is closed"
    assert issubclass(SessionClosedError, ClientClosedError)
    for cls in (ClientClosedError, SessionClosedError):
        assert cls.__module__ == "aftership_async"
        error = cls("closed")
        line = traceback.format_exception_only(cls, error)[-1]
        assert line.startswith(f"aftership_async.{cls.__name__}: ")
        assert type(pickle.loads(pickle.dumps(error))) is cls


async def test_a_call_after_close_raises_and_opens_no_session(
    aftership_fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    client = AfterShip(api_key="k", base_url=aftership_fake.url, rate_limit=None)
    assert not client.closed
    async with client:
        await client.tracking.get_user_couriers()
    assert client.closed
    sent = requests(aftership_fake)
    with pytest.raises(ClientClosedError, match="closed"):
        await client.tracking.get_user_couriers()
    with pytest.raises(ClientClosedError):
        await client.shipping.get_shipper_accounts()
    with pytest.raises(ClientClosedError):
        async for _ in client.tracking.iter_trackings():
            pass
    with pytest.raises(ClientClosedError):
        await client.tracking.with_raw_response.get_user_couriers()
    with pytest.raises(ClientClosedError):
        async with client:  # a closed client does not reopen
            pass
    with pytest.raises(ClientClosedError):
        client.with_options(timeout=5)
    with pytest.raises(ClientClosedError):
        client.bulk.lookup(["1Z0000000000000001"])
    assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed  # no new session
    assert requests(aftership_fake) == sent  # nothing reached the server
    await client.close()  # closing twice is fine
    await client.close()
    assert client.closed


async def test_the_transport_itself_refuses_a_closed_client_on_every_path(
    aftership_fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    """The check sits at the top of ``Transport.request``, not in one caller.

    A path that skips the API groups (an escape hatch calling the transport
    with its own operation) meets it too, and so does a call whose body is
    malformed: nothing is validated, prepared or sent for a closed client.
    """
    client = AfterShip(api_key="k", base_url=aftership_fake.url, rate_limit=None)
    async with client:
        await client.tracking.get_user_couriers()
    sent = requests(aftership_fake)
    transport = client._transport
    operation = Operation("escape_hatch", "GET", "/couriers", "idempotent")
    with pytest.raises(ClientClosedError):
        await transport.request(client.tracking.API, operation)
    with pytest.raises(ClientClosedError):
        await transport.request(
            client.tracking.API, operation, json_body=object(), query={"bad": object()}
        )
    assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed
    assert requests(aftership_fake) == sent


async def test_closing_an_unopened_client(aiohttp_sessions: list[aiohttp.ClientSession]) -> None:
    client = AfterShip(api_key="k", base_url="http://127.0.0.1:9", rate_limit=None)
    await client.close()
    assert client.closed
    with pytest.raises(ClientClosedError):
        await client.tracking.get_user_couriers()
    assert aiohttp_sessions == []


async def test_the_first_call_opens_and_close_closes(
    aftership_fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    client = AfterShip(api_key="k", base_url=aftership_fake.url, rate_limit=None)
    await client.tracking.get_user_couriers()  # no `async with`: opened on first use
    await asyncio.gather(*(client.tracking.get_user_couriers() for _ in range(5)))
    assert len(aiohttp_sessions) == 1 and not aiohttp_sessions[0].closed
    await client.close()
    assert aiohttp_sessions[0].closed


async def test_a_call_in_flight_when_the_client_closes_is_not_retried_on_a_new_session(
    aiohttp_sessions: list[aiohttp.ClientSession],
) -> None:
    # A request that stalls, a client retrying connection errors: close() drops the
    # connection, and the retry meets the closed client instead of reopening it.
    async with FakeAfterShip(fault_rate=1.0, faults=["slow"], slow_seconds=30) as fake:
        retry = RetryPolicy(max_attempts=5, backoff=0.01, max_backoff=0.02)
        client = AfterShip(api_key="k", base_url=fake.url, rate_limit=None, retry=retry)
        call = asyncio.create_task(client.tracking.get_user_couriers())
        for _ in range(1000):
            if requests(fake):
                break
            await asyncio.sleep(0.01)
        await client.close()
        outcome = (await asyncio.gather(call, return_exceptions=True))[0]
        # The attempt fails as its connection closes; the retry meets the closed client.
        assert isinstance(outcome, ClientClosedError)
        assert requests(fake) == 1
    assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed


async def test_a_closed_user_session_is_a_typed_error(
    aftership_fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    closed = aiohttp.ClientSession()
    await closed.close()
    with pytest.raises(SessionClosedError, match="session= is closed"):
        AfterShip(api_key="k", session=closed)

    session = aiohttp.ClientSession()
    client = AfterShip(api_key="k", base_url=aftership_fake.url, rate_limit=None, session=session)
    await client.tracking.get_user_couriers()
    await session.close()  # its owner closes it while the client is in use
    with pytest.raises(SessionClosedError):
        await client.tracking.get_user_couriers()
    with pytest.raises(SessionClosedError):
        async with client:
            pass
    assert not client.closed  # the client was not closed: its session was
    await client.close()
    with pytest.raises(ClientClosedError):
        await client.tracking.get_user_couriers()
    assert aiohttp_sessions == [closed, session]  # the client created none


async def test_a_user_session_stays_open_and_the_closed_client_refuses_it(
    aftership_fake: FakeAfterShip,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with AfterShip(
            api_key="k", base_url=aftership_fake.url, rate_limit=None, session=session
        ) as client:
            await client.tracking.get_user_couriers()
        assert not session.closed
        sent = requests(aftership_fake)
        with pytest.raises(ClientClosedError):  # the session is open; the client is not
            await client.tracking.get_user_couriers()
        assert requests(aftership_fake) == sent


async def test_derived_clients_share_the_parents_lifecycle(
    aftership_fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    async with AfterShip(api_key="k", base_url=aftership_fake.url, rate_limit=None) as client:
        fast = client.with_options(timeout=5)
        await fast.tracking.get_user_couriers()
        await fast.close()  # closes the derived client only
        assert fast.closed and not client.closed
        with pytest.raises(ClientClosedError):
            await fast.tracking.get_user_couriers()
        await client.tracking.get_user_couriers()  # the parent and its session go on
        other = client.with_options(timeout=5)
        async with other:  # entering a derived client opens the parent's session
            await other.tracking.get_user_couriers()
        await client.tracking.get_user_couriers()
        survivor = client.with_options(timeout=5)
    assert survivor.closed  # closing the parent closes every client derived from it
    with pytest.raises(ClientClosedError):
        await survivor.tracking.get_user_couriers()
    assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed


def test_the_suite_fails_a_test_that_leaves_a_session_open(tmp_path: Path) -> None:
    """The suite's own guard: a leaked session fails the test that leaked it.

    Both ways aiohttp can report one: a session still open when the test ends
    (the ``aiohttp_sessions`` fixture), and an unclosed one collected during the
    test (its ``__del__`` warns "Unclosed client session": a ResourceWarning,
    an error under pyproject's filterwarnings, which pytest reports as unraisable).
    """
    (tmp_path / "conftest.py").write_text("from tests.conftest import aiohttp_sessions  # noqa\n")
    (tmp_path / "test_leaks.py").write_text(
        textwrap.dedent(
            """
            import gc
            import aiohttp

            async def test_left_open():
                aiohttp.ClientSession()

            async def test_collected_unclosed(aiohttp_sessions):
                aiohttp.ClientSession()
                aiohttp_sessions.clear()  # out of the fixture's sight: only __del__ can tell
                gc.collect()

            async def test_closed():
                async with aiohttp.ClientSession():
                    pass
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    # test_left_open: an error at teardown; test_collected_unclosed: failed; test_closed: passed
    assert "1 failed, 2 passed, 1 error" in out, out
    assert "ERROR" in out and "test_leaks.py::test_left_open" in out, out
    assert "left 1 aiohttp.ClientSession(s) open" in out, out
    assert "FAILED" in out and "test_leaks.py::test_collected_unclosed" in out, out
    assert "ResourceWarning: Unclosed client session" in out, out

"""Bulk runs have a lifecycle: no task of the SDK outlives its run, or its client (issue 19).

Every helper, left by ``break``, an exception or cancellation, with and without
``async with``: afterwards no SDK task is alive, nothing warns, and the only
session ever created is the client's, closed at the end (the suite's
``aiohttp_sessions`` fixture fails a test that leaves one open).

The fake stalls some requests (``"slow"`` faults, 30 s) so that work is in
flight whenever the consumer leaves: with ``seed=0`` and ``fault_rate=0.5`` the
second request to arrive stalls and the first answers at once. Nothing here
waits for a duration: the only timeouts are generous upper bounds on things
that happen within a few loop iterations.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import aftership_async
from aftership_async import (
    AfterShip,
    BulkRun,
    BulkStats,
    ClientClosedError,
    CreateTrackingRequest,
)
from aftership_async.testing import FakeAfterShip

SDK_DIR = Path(aftership_async.__file__).parent
CONCURRENCY = 4


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """The live tasks running SDK code (not the fake server's, not the test's own)."""
    tasks = []
    for task in asyncio.all_tasks():
        if task.done() or task is asyncio.current_task():
            continue
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None)
        if code is None:  # an async generator being finalised by the loop: count it
            tasks.append(task)
            continue
        path = Path(code.co_filename)
        if path.is_relative_to(SDK_DIR) and not path.is_relative_to(SDK_DIR / "testing"):
            tasks.append(task)
    return tasks


async def until_no_sdk_tasks() -> list[asyncio.Task[Any]]:
    """For runs left without ``async with``: their tasks are cancelled, not awaited.

    They end within a few loop iterations; the bound is for a busy machine.
    """
    for _ in range(1000):
        if not sdk_tasks():
            break
        await asyncio.sleep(0.01)
    return sdk_tasks()


def numbers(n: int, prefix: str = "1Z") -> list[str]:
    return [f"{prefix}{i:016d}" for i in range(n)]


#: name -> (how many inputs, how to start the run on a client, what the fake needs first)
Start = Callable[[AfterShip, Callable[[BulkStats], None]], BulkRun[Any, Any]]
HELPERS: dict[str, tuple[Start, Callable[[FakeAfterShip], None]]] = {
    # Four lookup chunks of 50: one stalls, three answer (the trackings exist or not).
    "lookup": (
        lambda c, p: c.bulk.lookup(numbers(200), concurrency=CONCURRENCY, progress=p),
        lambda fake: None,
    ),
    # Existing trackings: every unit is one lookup, nothing to create.
    "get_or_create": (
        lambda c, p: c.bulk.get_or_create(numbers(200), concurrency=CONCURRENCY, progress=p),
        lambda fake: _add(fake, numbers(200)),
    ),
    "create": (
        lambda c, p: c.bulk.create(
            [CreateTrackingRequest(tracking_number=n) for n in numbers(40)],
            concurrency=CONCURRENCY,
            progress=p,
        ),
        lambda fake: None,
    ),
    "get": (
        lambda c, p: c.bulk.get(numbers(40, "id"), concurrency=CONCURRENCY, progress=p),
        lambda fake: None,
    ),
    "detect_couriers": (
        lambda c, p: c.bulk.detect_couriers(numbers(40), concurrency=CONCURRENCY, progress=p),
        lambda fake: None,
    ),
}


def _add(fake: FakeAfterShip, items: list[str]) -> None:
    fake.add_trackings(items)


class Boom(Exception):
    pass


@pytest.fixture
async def fake() -> AsyncIterator[FakeAfterShip]:
    async with FakeAfterShip(fault_rate=0.5, faults=["slow"], seed=0) as server:
        yield server


class Watch:
    """Records the loop's exception-handler calls and every warning during a test."""

    def __init__(self) -> None:
        self.loop_errors: list[dict[str, Any]] = []
        self._catch = warnings.catch_warnings(record=True)

    def __enter__(self) -> Watch:
        self.warnings = self._catch.__enter__()
        warnings.simplefilter("always")
        loop = asyncio.get_running_loop()
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.get_running_loop().set_exception_handler(self._previous)
        self._catch.__exit__(*exc)  # type: ignore[arg-type]

    def check(self) -> None:
        gc.collect()  # an unclosed session or transport warns when collected
        assert [str(w.message) for w in self.warnings] == []
        assert [c.get("message") for c in self.loop_errors] == []


async def leave(how: str, run: BulkRun[Any, Any], *, context_manager: bool) -> None:
    """Iterate ``run`` and leave after its first result, by ``break`` or ``Boom``."""
    if context_manager:
        async with run:
            async for _ in run:
                if how == "break":
                    break
                raise Boom
    else:
        async for _ in run:
            if how == "break":
                break
            raise Boom


@pytest.mark.parametrize("helper", sorted(HELPERS))
@pytest.mark.parametrize("context_manager", [True, False], ids=["async-with", "plain"])
@pytest.mark.parametrize("how", ["break", "exception", "cancel"])
async def test_leaving_a_run_leaves_no_task_and_no_warning(
    fake: FakeAfterShip,
    aiohttp_sessions: list[aiohttp.ClientSession],
    helper: str,
    context_manager: bool,
    how: str,
) -> None:
    start, prepare = HELPERS[helper]
    prepare(fake)
    seen: list[BulkStats] = []  # the run's stats, without a reference to the run
    with Watch() as watch:
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            if how == "cancel":
                first = asyncio.Event()

                async def consume() -> None:
                    if context_manager:
                        async with start(client, seen.append) as run:
                            async for _ in run:
                                first.set()
                    else:
                        async for _ in start(client, seen.append):
                            first.set()

                task = asyncio.create_task(consume())
                await asyncio.wait_for(first.wait(), timeout=60)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                assert task.cancelled()
            elif how == "break":
                await leave("break", start(client, seen.append), context_manager=context_manager)
            else:
                with pytest.raises(Boom):
                    await leave(
                        "raise", start(client, seen.append), context_manager=context_manager
                    )
            if context_manager or how == "cancel":
                # Deterministic: the tasks were cancelled and awaited before control came back.
                assert sdk_tasks() == []
            else:
                # The run was dropped: cancelled at once, done within a few iterations.
                assert await until_no_sdk_tasks() == []
            stats = seen[0]
            assert stats.cancelled > 0  # the stalled request was in flight, and was cancelled
            assert stats.cancelled == stats.submitted - stats.done
        assert sdk_tasks() == []
        assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed
        watch.check()


async def test_close_cancels_a_run_in_flight_and_waits_for_it(
    fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    seen: list[BulkStats] = []
    with Watch() as watch:
        client = AfterShip(api_key="k", base_url=fake.url, rate_limit=None)
        first = asyncio.Event()
        outcome: list[BaseException] = []

        async def consume() -> None:
            try:
                async for _ in client.bulk.detect_couriers(
                    numbers(40), concurrency=CONCURRENCY, progress=seen.append
                ):
                    first.set()
            except BaseException as exc:
                outcome.append(exc)
                raise

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), timeout=60)
        await client.close()
        assert sdk_tasks() == []  # close() waited for the run's tasks
        stats = seen[0]
        assert stats.cancelled > 0 and stats.cancelled == stats.submitted - stats.done
        requests = sum(fake.stats.requests.values())
        await asyncio.gather(task, return_exceptions=True)
        assert len(outcome) == 1 and isinstance(outcome[0], ClientClosedError)
        assert "closed while this bulk run was in progress" in str(outcome[0])
        await asyncio.sleep(0.05)
        assert sum(fake.stats.requests.values()) == requests  # nothing retried after close
        assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed
        watch.check()


async def test_close_cancels_a_run_the_caller_still_holds(
    fake: FakeAfterShip, aiohttp_sessions: list[aiohttp.ClientSession]
) -> None:
    # The finding: `break` leaves the run suspended; its tasks used to outlive the
    # client, retry on a session they reopened, and warn "Unclosed client session".
    with Watch() as watch:
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            run = client.bulk.detect_couriers(numbers(40), concurrency=CONCURRENCY)
            async for _ in run:
                break
            assert sdk_tasks() != []  # still running: the run is referenced
        assert sdk_tasks() == []
        assert run.stats.cancelled > 0
        requests = sum(fake.stats.requests.values())
        with pytest.raises(ClientClosedError):
            await run.__anext__()
        await run.aclose()  # closing it again is harmless
        await asyncio.sleep(0.05)
        assert sum(fake.stats.requests.values()) == requests
        assert len(aiohttp_sessions) == 1 and aiohttp_sessions[0].closed
        watch.check()


async def test_a_derived_clients_run_is_cancelled_by_either_close(
    fake: FakeAfterShip,
) -> None:
    async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
        derived = client.with_options(timeout=60)
        mine = client.bulk.detect_couriers(numbers(40), concurrency=CONCURRENCY)
        theirs = derived.bulk.detect_couriers(numbers(40, "1ZD"), concurrency=CONCURRENCY)
        for run in (mine, theirs):
            async for _ in run:
                break
        await derived.close()  # cancels the derived client's run only
        assert theirs.stats.cancelled > 0
        assert mine.stats.cancelled == 0 and not client.closed
        assert [r async for r in _first(mine)] != []  # the parent's run goes on
        again = client.with_options(timeout=60)
        later = again.bulk.detect_couriers(numbers(40, "1ZA"), concurrency=CONCURRENCY)
        async for _ in later:
            break
    assert later.stats.cancelled > 0 and mine.stats.cancelled > 0  # the parent's close: all
    assert sdk_tasks() == []


async def _first(run: BulkRun[Any, Any]) -> AsyncIterator[Any]:
    async for result in run:
        yield result
        return


async def test_a_run_on_a_closed_client_raises_before_any_request(fake: FakeAfterShip) -> None:
    client = AfterShip(api_key="k", base_url=fake.url, rate_limit=None)
    idle = client.bulk.lookup(numbers(3))  # created while open, never iterated
    await client.close()
    with pytest.raises(ClientClosedError):
        client.bulk.lookup(numbers(3))
    with pytest.raises(ClientClosedError):
        await idle.collect()
    assert sum(fake.stats.requests.values()) == 0


async def test_a_run_used_to_the_end_unregisters_itself(fake: FakeAfterShip) -> None:
    fake.fault_rate = 0
    async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
        async with client.bulk.lookup(numbers(120)) as run:
            results = [r async for r in run]
        assert len(results) == 120 and run.stats.cancelled == 0
        assert await client.bulk.get(numbers(3, "id")).collect() != []
        assert client._transport._work == {}


async def test_two_tasks_cannot_iterate_one_run_at_once(fake: FakeAfterShip) -> None:
    async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
        async with client.bulk.detect_couriers(numbers(8), concurrency=2) as run:
            # The second request stalls: the first task waits inside __anext__ for it.
            first = asyncio.create_task(_drain(run))
            for _ in range(1000):
                if run.stats.done:
                    break
                await asyncio.sleep(0.01)
            with pytest.raises(RuntimeError, match="one task at a time"):
                await run.__anext__()
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
    assert sdk_tasks() == []


async def _drain(run: BulkRun[Any, Any]) -> None:
    async for _ in run:
        pass

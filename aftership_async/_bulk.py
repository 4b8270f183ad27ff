"""Bulk tracking: thousands of lookups, creations or detections, streamed.

Built only on public generated methods (``client.tracking.*``), so a user
could have written it; the transport underneath supplies retries, the rate
limiter and the concurrency cap. This module names none of them: the
generated layer hands :class:`Bulk` a :class:`BulkOperations` (the methods,
request models and error classes the spec's ``x-aftership.bulk`` names), so
the runtime imports nothing generated.

Every input yields exactly one :class:`BulkResult` (a value or an error, in
completion order), so one failure never sinks the batch. Inputs are read
lazily and at most ``concurrency`` units of work are in flight, so memory is
O(concurrency), not O(N): a generator of 100,000 numbers streams through.
Lookups use the list endpoint's ``tracking_numbers`` filter, 50 numbers per
request. A lookup that fails once the transport's retries are spent is tried
once more, then split in halves down to single numbers, so a persistent
failure fails only the inputs it concerns; an input's own error (a malformed
number) is never replaced by its chunk's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import itertools
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, Self, TypeAlias, TypeVar

import attrs

from ._errors import (
    APIConnectionError,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from ._lifecycle import RunRegistry
from ._policies import bulk_traffic

__all__ = [
    "Bulk",
    "BulkFailure",
    "BulkOperations",
    "BulkResult",
    "BulkRun",
    "BulkStats",
    "BulkSuccess",
    "TrackingRef",
]

I = TypeVar("I")  # noqa: E741 - the conventional name for an input type
R = TypeVar("R")

DEFAULT_CONCURRENCY = 32


class Numbered(Protocol):
    """What bulk reads of a tracking and of a create request: its number and slug."""

    @property
    def tracking_number(self) -> str: ...

    @property
    def slug(self) -> object: ...


T = TypeVar("T", bound=Numbered)  # the resource: a tracking
C = TypeVar("C", bound=Numbered)  # the create request
D = TypeVar("D")  # what a courier detection answers


@attrs.frozen
class TrackingRef:
    """A tracking number, with its courier slug when known."""

    tracking_number: str
    slug: str | None = None


@attrs.frozen
class BulkOperations(Generic[T, C, D]):
    """What :class:`Bulk` calls, bound by the generated layer from ``x-aftership.bulk``.

    The generated ``bulk_operations(client.tracking)`` fills it with the API
    group's public methods, so bulk stays built on what a user could call.
    """

    api: str
    """The API the operations belong to (``tracking``), named in the errors bulk makes."""
    find: Callable[[Sequence[str]], AsyncIterator[T]]
    """Every resource whose number is one of these (at most ``per_request`` numbers)."""
    per_request: int
    """Numbers per lookup request (the list filter's maximum)."""
    create: Callable[[C], Awaitable[T]]
    create_request: Callable[[str, str | None], C]
    """A create request for a number and, when known, its slug."""
    create_type: type[C]
    already_exists: type[Exception]
    """What ``create`` raises for a resource that exists (its natural-key refusal)."""
    get: Callable[[str], Awaitable[T]]
    detect: Callable[[str], Awaitable[D]]
    not_found_code: int
    """The meta code of the :class:`NotFoundError` given to a number no lookup found."""


@attrs.frozen
class BulkSuccess(Generic[I, R]):
    """An input that got its answer: ``value`` (``ok`` is ``Literal[True]``)."""

    index: int
    """Position of the input in the stream (0-based)."""
    input: I
    value: R
    created: bool = False
    """For get-or-create and create: True when this call created the tracking."""

    @property
    def ok(self) -> Literal[True]:
        return True

    @property
    def error(self) -> None:
        return None


@attrs.frozen
class BulkFailure(Generic[I, R]):
    """An input that failed: ``error`` says why (``ok`` is ``Literal[False]``)."""

    index: int
    """Position of the input in the stream (0-based)."""
    input: I
    error: Exception

    @property
    def ok(self) -> Literal[False]:
        return False

    @property
    def value(self) -> None:
        return None

    @property
    def created(self) -> Literal[False]:
        return False


BulkResult: TypeAlias = BulkSuccess[I, R] | BulkFailure[I, R]
"""The outcome for one input: ``value`` or ``error``, never both.

``if result.ok:`` narrows it to :class:`BulkSuccess` (``result.value`` is the
typed value), ``else`` to :class:`BulkFailure` (``result.error`` is the exception),
under ``mypy --strict`` too.
"""


@attrs.define
class BulkStats:
    """Counts of a run so far; complete once the run is exhausted or closed."""

    submitted: int = 0
    succeeded: int = 0
    failed: int = 0
    created: int = 0
    cancelled: int = 0

    @property
    def done(self) -> int:
        return self.succeeded + self.failed


Progress = Callable[[BulkStats], None]
#: Per ref: its tracking, None when it has none, or the error that kept it unknown.
_Outcomes: TypeAlias = dict["TrackingRef", T | Exception | None]
Unit = list[tuple[int, Any]]
_Checked = tuple[int, Any, TrackingRef]


class BulkRun(Generic[I, R]):
    """An async iterator of results as they complete; ``collect()`` gathers them in input order.

    Use it as an async context manager to tie its tasks to a block::

        async with client.bulk.lookup(numbers) as run:
            async for result in run:
                ...  # break, raise or be cancelled: the work in flight is cancelled

    Leaving the block (normally, by ``break``, an exception or cancellation)
    cancels the work still in flight and waits for it before the block is
    left; so does :meth:`aclose`, or an exception or cancellation that reaches
    the run while it waits for results. Without ``async with``, a ``break``
    out of ``async for`` leaves the run open until the run object is garbage
    collected: at once for ``async for r in client.bulk.lookup(...)`` on
    CPython (its tasks are cancelled then, not awaited), later if it is kept in
    a variable or a reference cycle; the client's ``close()`` cancels every
    run it started and waits for it, so no task outlives the client. A run in
    progress when its client closes raises :class:`ClientClosedError`.
    ``stats`` then tells what finished, and ``stats.cancelled`` what did not.
    """

    def __init__(
        self,
        inputs: Iterable[I] | AsyncIterable[I],
        worker: Callable[[Unit], Awaitable[list[BulkResult[I, R]]]],
        *,
        concurrency: int,
        chunk: int,
        progress: Progress | None,
        registry: RunRegistry | None = None,
    ) -> None:
        if concurrency < 1:
            raise InvalidRequestError("concurrency must be at least 1")
        if registry is not None:
            registry.check_open()
        self.stats = BulkStats()
        self._engine: _Engine[I, R] = _Engine(
            _Inputs(inputs, chunk), worker, concurrency, progress, self.stats, registry
        )

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BulkResult[I, R]:
        return await self._engine.next()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel the work in flight and wait for it; the run then yields nothing more."""
        await self._engine.stop(None)

    async def collect(self) -> list[BulkResult[I, R]]:
        """All results, in input order (this holds all N of them in memory)."""
        results = [r async for r in self]
        results.sort(key=lambda r: r.index)
        return results

    def __del__(self) -> None:
        # Dropped without aclose() (``break`` out of a plain ``async for``): cancel now.
        engine: _Engine[I, R] | None = self.__dict__.get("_engine")
        if engine is not None:
            engine.abandon()


class _Phase(enum.Enum):
    NEW = "new"  # not iterated yet
    RUNNING = "running"
    DONE = "done"  # exhausted, closed by aclose(), or ended by an exception
    CLOSED = "closed"  # cancelled by the client's close()


class _Engine(Generic[I, R]):
    """The moving parts of one run: its inputs, its tasks, the results not yet handed out.

    Apart from :class:`BulkRun` so that nothing here (the tasks, their done
    callbacks, the client's registry) refers back to the run: dropping the last
    reference to a run frees it at once, and its ``__del__`` cancels the tasks.
    Registered with the client (``track``) from the first ``__anext__`` until
    it ends, so that the client's ``close()`` can :meth:`cancel` it.
    """

    def __init__(
        self,
        inputs: _Inputs,
        worker: Callable[[Unit], Awaitable[list[BulkResult[I, R]]]],
        concurrency: int,
        progress: Progress | None,
        stats: BulkStats,
        registry: RunRegistry | None,
    ) -> None:
        self._inputs = inputs
        self._worker = worker
        self._concurrency = concurrency
        self._progress = progress
        self._stats = stats
        self._registry = registry
        self._pending: set[asyncio.Task[list[BulkResult[I, R]]]] = set()
        # Each task reports itself here when done: O(1) per completion, where
        # asyncio.wait(pending) would subscribe to all ``concurrency`` tasks
        # again for every completion.
        self._finished: asyncio.Queue[asyncio.Task[list[BulkResult[I, R]]]] = asyncio.Queue()
        self._ready: collections.deque[BulkResult[I, R]] = collections.deque()
        self._phase = _Phase.NEW
        self._closed_by = ""
        self._busy = False

    async def next(self) -> BulkResult[I, R]:
        if self._busy:
            raise RuntimeError("a BulkRun is iterated by one task at a time")
        self._busy = True
        try:
            return await self._next()
        except StopAsyncIteration:
            raise
        except BaseException:
            # The inputs or a progress callback raised, or the iterating task was
            # cancelled: the work in flight goes too, before the error propagates.
            await self.stop(None)
            raise
        finally:
            self._busy = False

    async def _next(self) -> BulkResult[I, R]:
        if self._ready:
            return self._deliver()
        if self._phase is _Phase.NEW:
            if self._registry is not None:
                self._registry.track(self)
            self._phase = _Phase.RUNNING
        while True:
            self._check()
            while not self._inputs.exhausted and len(self._pending) < self._concurrency:
                unit = await self._inputs.next_unit()
                self._check()
                if not unit:
                    break
                self._stats.submitted += len(unit)
                task = asyncio.create_task(_guarded(self._worker, unit))
                task.add_done_callback(self._finished.put_nowait)
                self._pending.add(task)
            if not self._pending:
                self._end(_Phase.DONE)
                raise StopAsyncIteration
            done = [await self._finished.get()]
            self._check()
            while not self._finished.empty():
                done.append(self._finished.get_nowait())
            self._pending.difference_update(done)
            for task in done:
                self._ready.extend(task.result())
            if self._ready:
                return self._deliver()

    def _deliver(self) -> BulkResult[I, R]:
        result = self._ready.popleft()
        if result.ok:
            self._stats.succeeded += 1
        else:
            self._stats.failed += 1
        self._stats.created += result.created
        if self._progress is not None:
            self._progress(self._stats)
        return result

    def _check(self) -> None:
        """End the iteration if the run was stopped meanwhile (possibly by another task)."""
        if self._phase is _Phase.DONE:
            raise StopAsyncIteration
        if self._phase is _Phase.CLOSED:
            raise ClientClosedError(
                f"{self._closed_by}; stats.cancelled counts the inputs it did not finish"
            )

    def _end(self, phase: _Phase) -> None:
        if self._phase in (_Phase.NEW, _Phase.RUNNING):
            self._phase = phase
        self._ready.clear()  # results not handed out are not done: they count as cancelled
        self._stats.cancelled = self._stats.submitted - self._stats.done
        if not self._pending and self._registry is not None:
            self._registry.untrack(self)

    async def stop(self, closed_by: str | None) -> None:
        """Cancel the tasks in flight and wait for them; ``closed_by``: the client's reason."""
        if closed_by is not None and self._phase is _Phase.RUNNING:
            self._closed_by = closed_by
        self._end(_Phase.DONE if closed_by is None else _Phase.CLOSED)
        pending = list(self._pending)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            self._pending.difference_update(pending)
            self._end(self._phase)

    async def cancel(self, error: ClientClosedError) -> None:
        """The client closes: stop, and make the iterating task raise ``error``'s kind."""
        await self.stop(str(error))

    def abandon(self) -> None:
        """The run was dropped unclosed: cancel its tasks now, without waiting.

        It stays registered until they are done, so a ``close()`` meanwhile
        still waits for them.
        """
        self._end(_Phase.DONE)
        if not self._pending:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing runs anyway
            for task in list(self._pending):
                task.cancel()
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not self._pending:
            self._end(self._phase)


class _Inputs:
    """The inputs, sync or async, read lazily in units of ``size`` ``(index, item)`` pairs."""

    def __init__(self, inputs: Iterable[Any] | AsyncIterable[Any], size: int) -> None:
        self._source = inputs
        self._size = size
        self._index = 0
        self._sync: Iterator[Any] | None = None
        self._async: AsyncIterator[Any] | None = None
        self.exhausted = False

    async def next_unit(self) -> Unit:
        """The next unit; empty once the inputs are exhausted."""
        unit: Unit = []
        if self.exhausted:
            return unit
        source = self._source
        if isinstance(source, AsyncIterable):
            if self._async is None:
                self._async = source.__aiter__()
            while len(unit) < self._size:
                try:
                    item = await self._async.__anext__()
                except StopAsyncIteration:
                    self.exhausted = True
                    break
                unit.append((self._index, item))
                self._index += 1
        else:
            if self._sync is None:
                self._sync = iter(source)
            for item in itertools.islice(self._sync, self._size):
                unit.append((self._index, item))
                self._index += 1
            if len(unit) < self._size:
                self.exhausted = True
        return unit


async def _guarded(
    worker: Callable[[Unit], Awaitable[list[BulkResult[Any, Any]]]], unit: Unit
) -> list[BulkResult[Any, Any]]:
    """Run a worker; a failure of the whole unit becomes one error result per input.

    Its requests are marked as bulk traffic: a shared limiter gives them at
    most its ``share`` of each endpoint's budget (see ``bulk_traffic``).
    """
    try:
        with bulk_traffic():
            results = await worker(unit)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # one bad unit must not end the run
        return [BulkFailure(index=i, input=item, error=exc) for i, item in unit]
    return results


def _ref(item: object, create_type: type[Numbered] | None = None) -> TrackingRef:
    if isinstance(item, TrackingRef):
        ref = item
    elif create_type is not None and isinstance(item, create_type):
        slug = item.slug if isinstance(item.slug, str) else None
        ref = TrackingRef(item.tracking_number, slug)
    elif isinstance(item, str):
        ref = TrackingRef(item)
    else:
        raise InvalidRequestError(f"expected a tracking number, got {type(item).__name__}")
    number = ref.tracking_number
    if not isinstance(number, str) or not number.strip():
        raise InvalidRequestError("empty tracking number")
    if "," in number or any(ord(ch) < 0x20 for ch in number) or len(number) > 100:
        raise InvalidRequestError(f"invalid tracking number {number!r}")
    return TrackingRef(number.strip(), ref.slug or None)


#: Failures that concern every input of a request alike: splitting the request
#: would only repeat them.
_WHOLE_REQUEST_ERRORS = (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitError,
    ConfigurationError,
)

#: Failures worth one more try of the same work once the transport's retries
#: are spent: the server or the network, not the request, was at fault.
_TRANSIENT_ERRORS = (APIConnectionError, InternalServerError, RateLimitError, InvalidResponseError)


#: Failures of the server or the network rather than of particular inputs.
_OUTAGE_ERRORS = (APIConnectionError, InternalServerError, RateLimitError)


def _transient(error: Exception) -> bool:
    return isinstance(error, _TRANSIENT_ERRORS)


def _resolved(refs: Sequence[TrackingRef], found: Mapping[TrackingRef, T]) -> _Outcomes[T]:
    results: _Outcomes[T] = {}
    for ref in refs:
        results[ref] = found.get(ref)
    return results


class Bulk(Generic[T, C, D]):
    """``client.bulk``: many tracking operations at once, results streamed.

    Each method returns a :class:`BulkRun` immediately (or raises
    :class:`ClientClosedError` on a closed client); iterate it, best in
    ``async with client.bulk.lookup(numbers) as run: async for result in run:``,
    or ``await run.collect()``. ``concurrency`` bounds the units of work in
    flight (the client's ``max_concurrency`` still bounds requests on the
    wire); ``progress`` is called with the running :class:`BulkStats` after
    each result. The runs in progress are registered with the client, whose
    ``close()`` cancels them.
    """

    def __init__(self, operations: BulkOperations[T, C, D], registry: RunRegistry) -> None:
        self._ops = operations
        #: The client's transport: it refuses runs once closed and cancels live ones.
        self._registry = registry

    def _not_found(self, ref: TrackingRef) -> NotFoundError:
        what = ref.tracking_number + (f" ({ref.slug})" if ref.slug else "")
        return NotFoundError(
            f"no tracking for {what}",
            status_code=404,
            code=self._ops.not_found_code,
            type="NotFound",
            api=self._ops.api,
        )

    def lookup(
        self,
        items: Iterable[str | TrackingRef] | AsyncIterable[str | TrackingRef],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str | TrackingRef, T]:
        """Find existing trackings by number (and slug), 50 numbers per request.

        A number with no tracking gets a :class:`NotFoundError` result.
        """
        return BulkRun(
            items,
            self._lookup_unit,
            concurrency=concurrency,
            chunk=self._ops.per_request,
            progress=progress,
            registry=self._registry,
        )

    def get_or_create(
        self,
        items: Iterable[str | TrackingRef | C] | AsyncIterable[str | TrackingRef | C],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str | TrackingRef | C, T]:
        """Look each number up and create the trackings that do not exist yet.

        Pass a create request (:class:`CreateTrackingRequest`) to control what is created.
        A create refused because the tracking exists (a concurrent or retried create won)
        resolves to the existing tracking with ``created=False``.
        """
        return BulkRun(
            items,
            self._get_or_create_unit,
            concurrency=concurrency,
            chunk=self._ops.per_request,
            progress=progress,
            registry=self._registry,
        )

    def create(
        self,
        requests: Iterable[C] | AsyncIterable[C],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[C, T]:
        """Create one tracking per request; one that exists already is fetched instead.

        (The create's natural-key refusal, declared in the spec, says it exists.)
        """
        return BulkRun(
            requests,
            self._create_unit,
            concurrency=concurrency,
            chunk=1,
            progress=progress,
            registry=self._registry,
        )

    def get(
        self,
        ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str, T]:
        """Fetch trackings by AfterShip id, one request each."""
        return BulkRun(
            ids,
            self._get_unit,
            concurrency=concurrency,
            chunk=1,
            progress=progress,
            registry=self._registry,
        )

    def detect_couriers(
        self,
        numbers: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str, D]:
        """Detect the possible couriers of each tracking number."""
        return BulkRun(
            numbers,
            self._detect_unit,
            concurrency=concurrency,
            chunk=1,
            progress=progress,
            registry=self._registry,
        )

    # -- workers -----------------------------------------------------------

    async def _find(self, refs: Sequence[TrackingRef]) -> dict[TrackingRef, T]:
        """Existing trackings for ``refs``, keyed by the ref they answer."""
        numbers = sorted({r.tracking_number for r in refs})
        by_number: dict[str, list[T]] = {}
        async for tracking in self._ops.find(numbers):
            by_number.setdefault(tracking.tracking_number, []).append(tracking)
        found: dict[TrackingRef, T] = {}
        for ref in refs:
            candidates = by_number.get(ref.tracking_number, [])
            if ref.slug:
                candidates = [t for t in candidates if t.slug == ref.slug]
            if candidates:
                found[ref] = candidates[0]
        return found

    async def _find_each(self, refs: Sequence[TrackingRef]) -> _Outcomes[T]:
        """Like :meth:`_find`, but a failure is confined to the refs it concerns.

        Refs not found map to None. A chunk whose lookup
        fails (after the transport's own retries) is tried once more when the
        failure was transient, then split in halves, each looked up on its
        own, down to single numbers: a number the server cannot answer for
        fails alone. Not split: a failure that concerns every request alike
        (the key was refused, the rate limit), and one that both halves meet
        from the server or the network (an outage, not an input).
        """
        outcome = await self._try_find(refs)
        if isinstance(outcome, Exception) and _transient(outcome):
            outcome = await self._try_find(refs)
        if isinstance(outcome, Exception):
            return await self._split(refs, outcome)
        return _resolved(refs, outcome)

    async def _split(self, refs: Sequence[TrackingRef], error: Exception) -> _Outcomes[T]:
        if len(refs) == 1 or isinstance(error, _WHOLE_REQUEST_ERRORS):
            return dict.fromkeys(refs, error)
        middle = len(refs) // 2
        halves = (refs[:middle], refs[middle:])
        outcomes = await asyncio.gather(*(self._try_find(half) for half in halves))
        if all(isinstance(o, _OUTAGE_ERRORS) for o in outcomes):
            return dict.fromkeys(refs, error)
        results: _Outcomes[T] = {}
        for half, outcome in zip(halves, outcomes, strict=True):
            if isinstance(outcome, Exception):
                results.update(await self._split(half, outcome))
            else:
                results.update(_resolved(half, outcome))
        return results

    async def _try_find(self, refs: Sequence[TrackingRef]) -> dict[TrackingRef, T] | Exception:
        """:meth:`_find`'s answer, or the exception it raised."""
        try:
            return await self._find(refs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return exc

    def _refs(
        self, unit: Unit
    ) -> tuple[list[tuple[int, Any, TrackingRef]], list[BulkResult[Any, Any]]]:
        good: list[_Checked] = []
        bad: list[BulkResult[Any, Any]] = []
        for index, item in unit:
            try:
                good.append((index, item, _ref(item, self._ops.create_type)))
            except InvalidRequestError as exc:
                bad.append(BulkFailure(index=index, input=item, error=exc))
        return good, bad

    async def _lookup_unit(self, unit: Unit) -> list[BulkResult[Any, T]]:
        # An input rejected here keeps its own error whatever happens to the lookup.
        good, results = self._refs(unit)
        if good:
            found = await self._find_each([ref for _, _, ref in good])
            for index, item, ref in good:
                outcome = found[ref]
                if outcome is None:
                    outcome = self._not_found(ref)
                results.append(
                    BulkFailure(index=index, input=item, error=outcome)
                    if isinstance(outcome, Exception)
                    else BulkSuccess(index=index, input=item, value=outcome)
                )
        return results

    async def _get_or_create_unit(self, unit: Unit) -> list[BulkResult[Any, T]]:
        good, results = self._refs(unit)
        if not good:
            return results
        found = await self._find_each([ref for _, _, ref in good])
        missing: list[_Checked] = []
        for index, item, ref in good:
            outcome = found[ref]
            if outcome is None:
                missing.append((index, item, ref))
            elif isinstance(outcome, Exception):
                # Not known to be missing: creating it could only meet the refusal and
                # the same failing lookup.
                results.append(BulkFailure(index=index, input=item, error=outcome))
            else:
                results.append(BulkSuccess(index=index, input=item, value=outcome))
        created = await asyncio.gather(
            *(self._create_one(i, item, ref) for i, item, ref in missing)
        )
        results.extend(created)
        return results

    async def _create_one(self, index: int, item: Any, ref: TrackingRef) -> BulkResult[Any, T]:
        request = (
            item
            if isinstance(item, self._ops.create_type)
            else self._ops.create_request(ref.tracking_number, ref.slug)
        )
        try:
            try:
                tracking = await self._ops.create(request)
            except Exception as exc:
                if not _transient(exc):
                    raise
                # Once more when the server or the network failed: a create that
                # did happen meets the refusal and resolves below, so nothing doubles.
                tracking = await self._ops.create(request)
        except self._ops.already_exists:
            # Created meanwhile, possibly by our own retried attempt: fetch it.
            existing = (await self._find_each([ref]))[ref]
            if existing is None:
                existing = self._not_found(ref)
            if isinstance(existing, Exception):
                return BulkFailure(index=index, input=item, error=existing)
            return BulkSuccess(index=index, input=item, value=existing)
        except Exception as exc:
            return BulkFailure(index=index, input=item, error=exc)
        return BulkSuccess(index=index, input=item, value=tracking, created=True)

    async def _create_unit(self, unit: Unit) -> list[BulkResult[Any, T]]:
        good, results = self._refs(unit)
        for index, item, ref in good:
            results.append(await self._create_one(index, item, ref))
        return results

    async def _get_unit(self, unit: Unit) -> list[BulkResult[Any, T]]:
        ((index, tracking_id),) = unit
        tracking = await self._ops.get(tracking_id)
        return [BulkSuccess(index=index, input=tracking_id, value=tracking)]

    async def _detect_unit(self, unit: Unit) -> list[BulkResult[Any, D]]:
        ((index, number),) = unit
        ref = _ref(number)
        data = await self._ops.detect(ref.tracking_number)
        return [BulkSuccess(index=index, input=number, value=data)]

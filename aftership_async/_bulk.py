"""Bulk tracking: thousands of lookups, creations or detections, streamed.

Built only on public generated methods (``client.tracking.*``), so a user
could have written it; the transport underneath supplies retries, the rate
limiter and the concurrency cap.

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
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import attrs

from aftership_async_generated.tracking import (
    CreateTrackingRequest,
    DetectCourierRequest,
    DetectCourierResponseData,
    Tracking,
    TrackingAPI,
)

from ._errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TrackingAlreadyExistsError,
)
from ._policies import bulk_traffic
from ._types import UNSET

__all__ = [
    "Bulk",
    "BulkFailure",
    "BulkResult",
    "BulkRun",
    "BulkStats",
    "BulkSuccess",
    "TrackingRef",
]

I = TypeVar("I")  # noqa: E741 - the conventional name for an input type
R = TypeVar("R")

#: Tracking numbers per ``GET /trackings?tracking_numbers=...`` (the API's maximum).
LOOKUP_CHUNK = 50
DEFAULT_CONCURRENCY = 32


@attrs.frozen
class TrackingRef:
    """A tracking number, with its courier slug when known."""

    tracking_number: str
    slug: str | None = None


TrackingInput = str | TrackingRef | CreateTrackingRequest


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
_Outcomes = dict["TrackingRef", "Tracking | Exception | None"]
Unit = list[tuple[int, Any]]
_Checked = tuple[int, Any, TrackingRef]


class BulkRun(Generic[I, R]):
    """An async iterator of results as they complete; ``collect()`` gathers them in input order.

    Leaving the ``async for`` early, or cancelling the task that iterates,
    cancels the work in flight and waits for it: no task outlives the run.
    ``stats`` then tells what finished.
    """

    def __init__(
        self,
        inputs: Iterable[I] | AsyncIterable[I],
        worker: Callable[[Unit], Awaitable[list[BulkResult[I, R]]]],
        *,
        concurrency: int,
        chunk: int,
        progress: Progress | None,
    ) -> None:
        if concurrency < 1:
            raise InvalidRequestError("concurrency must be at least 1")
        self.stats = BulkStats()
        self._results = self._run(inputs, worker, concurrency, chunk, progress)

    def __aiter__(self) -> BulkRun[I, R]:
        return self

    async def __anext__(self) -> BulkResult[I, R]:
        return await self._results.__anext__()

    async def aclose(self) -> None:
        await self._results.aclose()

    async def collect(self) -> list[BulkResult[I, R]]:
        """All results, in input order (this holds all N of them in memory)."""
        results = [r async for r in self]
        results.sort(key=lambda r: r.index)
        return results

    async def _run(
        self,
        inputs: Iterable[I] | AsyncIterable[I],
        worker: Callable[[Unit], Awaitable[list[BulkResult[I, R]]]],
        concurrency: int,
        chunk: int,
        progress: Progress | None,
    ) -> AsyncGenerator[BulkResult[I, R], None]:
        units = _units(inputs, chunk)
        pending: set[asyncio.Task[list[BulkResult[I, R]]]] = set()
        # Each task reports itself here when done: O(1) per completion, where
        # asyncio.wait(pending) would subscribe to all ``concurrency`` tasks
        # again for every completion.
        finished: asyncio.Queue[asyncio.Task[list[BulkResult[I, R]]]] = asyncio.Queue()
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < concurrency:
                    try:
                        unit = await units.__anext__()
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    self.stats.submitted += len(unit)
                    task = asyncio.create_task(_guarded(worker, unit))
                    task.add_done_callback(finished.put_nowait)
                    pending.add(task)
                if not pending:
                    return
                done = [await finished.get()]
                while not finished.empty():
                    done.append(finished.get_nowait())
                pending.difference_update(done)
                for task in done:
                    for result in task.result():
                        if result.ok:
                            self.stats.succeeded += 1
                        else:
                            self.stats.failed += 1
                        self.stats.created += result.created
                        if progress is not None:
                            progress(self.stats)
                        yield result
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            self.stats.cancelled = self.stats.submitted - self.stats.done
            await units.aclose()


async def _units(
    inputs: Iterable[Any] | AsyncIterable[Any], size: int
) -> AsyncGenerator[Unit, None]:
    unit: Unit = []
    async for index, item in _enumerate(inputs):
        unit.append((index, item))
        if len(unit) == size:
            yield unit
            unit = []
    if unit:
        yield unit


async def _enumerate(
    inputs: Iterable[Any] | AsyncIterable[Any],
) -> AsyncGenerator[tuple[int, Any], None]:
    """``enumerate`` over a sync or async iterable, read lazily either way."""
    if isinstance(inputs, AsyncIterable):
        index = 0
        async for item in inputs:
            yield index, item
            index += 1
    else:
        for pair in enumerate(inputs):
            yield pair


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


def _ref(item: TrackingInput) -> TrackingRef:
    if isinstance(item, TrackingRef):
        ref = item
    elif isinstance(item, CreateTrackingRequest):
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


def _resolved(refs: Sequence[TrackingRef], found: Mapping[TrackingRef, Tracking]) -> _Outcomes:
    results: _Outcomes = {}
    for ref in refs:
        results[ref] = found.get(ref)
    return results


def _not_found(ref: TrackingRef) -> NotFoundError:
    what = ref.tracking_number + (f" ({ref.slug})" if ref.slug else "")
    return NotFoundError(
        f"no tracking for {what}", status_code=404, code=4004, type="NotFound", api="tracking"
    )


class Bulk:
    """``client.bulk``: many tracking operations at once, results streamed.

    Each method returns a :class:`BulkRun` immediately; iterate it
    (``async for result in client.bulk.lookup(numbers)``) or ``await
    run.collect()``. ``concurrency`` bounds the units of work in flight
    (the client's ``max_concurrency`` still bounds requests on the wire);
    ``progress`` is called with the running :class:`BulkStats` after each
    result.
    """

    def __init__(self, tracking: TrackingAPI) -> None:
        self._tracking = tracking

    def lookup(
        self,
        items: Iterable[str | TrackingRef] | AsyncIterable[str | TrackingRef],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str | TrackingRef, Tracking]:
        """Find existing trackings by number (and slug), 50 numbers per request.

        A number with no tracking gets a :class:`NotFoundError` result.
        """
        return BulkRun(
            items, self._lookup_unit, concurrency=concurrency, chunk=LOOKUP_CHUNK, progress=progress
        )

    def get_or_create(
        self,
        items: Iterable[TrackingInput] | AsyncIterable[TrackingInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[TrackingInput, Tracking]:
        """Look each number up and create the trackings that do not exist yet.

        Pass a :class:`CreateTrackingRequest` to control what is created.
        A create answered with 4003 (a concurrent or retried create won)
        resolves to the existing tracking with ``created=False``.
        """
        return BulkRun(
            items,
            self._get_or_create_unit,
            concurrency=concurrency,
            chunk=LOOKUP_CHUNK,
            progress=progress,
        )

    def create(
        self,
        requests: Iterable[CreateTrackingRequest] | AsyncIterable[CreateTrackingRequest],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[CreateTrackingRequest, Tracking]:
        """Create one tracking per request; an existing one (4003) is fetched instead."""
        return BulkRun(
            requests, self._create_unit, concurrency=concurrency, chunk=1, progress=progress
        )

    def get(
        self,
        ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str, Tracking]:
        """Fetch trackings by AfterShip id, one request each."""
        return BulkRun(ids, self._get_unit, concurrency=concurrency, chunk=1, progress=progress)

    def detect_couriers(
        self,
        numbers: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkRun[str, DetectCourierResponseData]:
        """Detect the possible couriers of each tracking number."""
        return BulkRun(
            numbers, self._detect_unit, concurrency=concurrency, chunk=1, progress=progress
        )

    # -- workers -----------------------------------------------------------

    async def _find(self, refs: Sequence[TrackingRef]) -> dict[TrackingRef, Tracking]:
        """Existing trackings for ``refs``, keyed by the ref they answer."""
        numbers = sorted({r.tracking_number for r in refs})
        by_number: dict[str, list[Tracking]] = {}
        async for tracking in self._tracking.iter_trackings(
            tracking_numbers=",".join(numbers), limit=200
        ):
            by_number.setdefault(tracking.tracking_number, []).append(tracking)
        found: dict[TrackingRef, Tracking] = {}
        for ref in refs:
            candidates = by_number.get(ref.tracking_number, [])
            if ref.slug:
                candidates = [t for t in candidates if t.slug == ref.slug]
            if candidates:
                found[ref] = candidates[0]
        return found

    async def _find_each(self, refs: Sequence[TrackingRef]) -> _Outcomes:
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

    async def _split(self, refs: Sequence[TrackingRef], error: Exception) -> _Outcomes:
        if len(refs) == 1 or isinstance(error, _WHOLE_REQUEST_ERRORS):
            return dict.fromkeys(refs, error)
        middle = len(refs) // 2
        halves = (refs[:middle], refs[middle:])
        outcomes = await asyncio.gather(*(self._try_find(half) for half in halves))
        if all(isinstance(o, _OUTAGE_ERRORS) for o in outcomes):
            return dict.fromkeys(refs, error)
        results: _Outcomes = {}
        for half, outcome in zip(halves, outcomes, strict=True):
            if isinstance(outcome, Exception):
                results.update(await self._split(half, outcome))
            else:
                results.update(_resolved(half, outcome))
        return results

    async def _try_find(
        self, refs: Sequence[TrackingRef]
    ) -> dict[TrackingRef, Tracking] | Exception:
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
                good.append((index, item, _ref(item)))
            except InvalidRequestError as exc:
                bad.append(BulkFailure(index=index, input=item, error=exc))
        return good, bad

    async def _lookup_unit(self, unit: Unit) -> list[BulkResult[Any, Tracking]]:
        # An input rejected here keeps its own error whatever happens to the lookup.
        good, results = self._refs(unit)
        if good:
            found = await self._find_each([ref for _, _, ref in good])
            for index, item, ref in good:
                outcome = found[ref]
                if outcome is None:
                    outcome = _not_found(ref)
                results.append(
                    BulkFailure(index=index, input=item, error=outcome)
                    if isinstance(outcome, Exception)
                    else BulkSuccess(index=index, input=item, value=outcome)
                )
        return results

    async def _get_or_create_unit(self, unit: Unit) -> list[BulkResult[Any, Tracking]]:
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
                # Not known to be missing: creating it could only meet 4003 and
                # the same failing lookup.
                results.append(BulkFailure(index=index, input=item, error=outcome))
            else:
                results.append(BulkSuccess(index=index, input=item, value=outcome))
        created = await asyncio.gather(
            *(self._create_one(i, item, ref) for i, item, ref in missing)
        )
        results.extend(created)
        return results

    async def _create_one(
        self, index: int, item: Any, ref: TrackingRef
    ) -> BulkResult[Any, Tracking]:
        request = (
            item
            if isinstance(item, CreateTrackingRequest)
            else CreateTrackingRequest(tracking_number=ref.tracking_number, slug=ref.slug or UNSET)
        )
        try:
            try:
                tracking = await self._tracking.create_tracking(request)
            except Exception as exc:
                if not _transient(exc):
                    raise
                # Once more when the server or the network failed: a create that
                # did happen meets 4003 and resolves below, so nothing doubles.
                tracking = await self._tracking.create_tracking(request)
        except TrackingAlreadyExistsError:
            # Created meanwhile, possibly by our own retried attempt: fetch it.
            existing = (await self._find_each([ref]))[ref]
            if existing is None:
                existing = _not_found(ref)
            if isinstance(existing, Exception):
                return BulkFailure(index=index, input=item, error=existing)
            return BulkSuccess(index=index, input=item, value=existing)
        except Exception as exc:
            return BulkFailure(index=index, input=item, error=exc)
        return BulkSuccess(index=index, input=item, value=tracking, created=True)

    async def _create_unit(self, unit: Unit) -> list[BulkResult[Any, Tracking]]:
        good, results = self._refs(unit)
        for index, item, ref in good:
            results.append(await self._create_one(index, item, ref))
        return results

    async def _get_unit(self, unit: Unit) -> list[BulkResult[Any, Tracking]]:
        ((index, tracking_id),) = unit
        tracking = await self._tracking.get_tracking_by_id(tracking_id)
        return [BulkSuccess(index=index, input=tracking_id, value=tracking)]

    async def _detect_unit(self, unit: Unit) -> list[BulkResult[Any, DetectCourierResponseData]]:
        ((index, number),) = unit
        ref = _ref(number)
        data = await self._tracking.detect_courier(
            DetectCourierRequest(tracking_number=ref.tracking_number)
        )
        return [BulkSuccess(index=index, input=number, value=data)]

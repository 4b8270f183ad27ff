"""Where a receiver remembers the events it handled: the store Protocol, and one in memory.

AfterShip retries a delivery that got no 2xx answer 14 times over about 68
hours, so one event may arrive many times (and, after a timeout on AfterShip's
side, while the first delivery is still being handled). A receiver claims an
event's key before it calls ``on_event``:

* ``claim`` -> :attr:`Claim.NEW`: the caller handles the event, then calls
  ``complete`` (remember it as done for ``ttl`` seconds) or, when handling
  failed, ``release`` (forget it, so that AfterShip's next retry is handled);
* :attr:`Claim.DONE`: a duplicate, answered 2xx without calling ``on_event``;
* :attr:`Claim.PENDING`: another delivery of the event is being handled right
  now: answered 409, so AfterShip retries it later (by then DONE, or released).

A claim that is neither completed nor released (the process died) expires
after its ``lease``, so a retry is handled again: at least once, never lost.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .._errors import ConfigurationError
from .._webhooks import DEFAULT_WEBHOOK_TOLERANCE

__all__ = [
    "DEFAULT_DEDUPE_TTL",
    "DEFAULT_LEASE",
    "Claim",
    "DedupeStore",
    "MemoryDedupeStore",
]

#: Seconds a handled event's key is remembered: AfterShip's whole retry window (14
#: attempts over ~68.3 h) plus an hour, the same as the parser's default tolerance, so
#: every retry AfterShip makes is seen as a duplicate and any older replay is refused.
DEFAULT_DEDUPE_TTL = DEFAULT_WEBHOOK_TOLERANCE

#: Seconds a delivery being handled holds its event's key before another may take it.
DEFAULT_LEASE = 300.0


class Claim(enum.Enum):
    """What :meth:`DedupeStore.claim` found."""

    NEW = "new"
    """Not seen: the caller now holds the key and handles the event."""
    PENDING = "pending"
    """Another delivery of the event holds the key and is being handled."""
    DONE = "done"
    """Handled already: a duplicate."""


@runtime_checkable
class DedupeStore(Protocol):
    """Remembers event keys; shared by every worker when it lives outside the process.

    ``token`` identifies one claim, so that a late ``release`` cannot drop a
    claim another delivery took after this one's lease expired.
    """

    async def claim(self, key: str, token: str, lease: float) -> Claim:
        """Take ``key`` for ``lease`` seconds unless it is held or done (atomic)."""
        ...

    async def complete(self, key: str, token: str, ttl: float) -> None:
        """Mark ``key`` done for ``ttl`` seconds."""
        ...

    async def release(self, key: str, token: str) -> None:
        """Forget ``key`` if ``token``'s claim still holds it (handling failed)."""
        ...


class MemoryDedupeStore:
    """A :class:`DedupeStore` in this process's memory: one worker, lost on restart.

    Bounded: beyond ``max_entries`` keys the oldest are forgotten first (expired
    keys go as they expire), so a retry of a forgotten event would be handled
    again. With several web workers use
    :class:`~aftership_async.webhooks.RedisDedupeStore`, which all of them share.

    Args:
        max_entries: the most keys kept (AfterShip sends each event at most 14 times in
            68 hours: size it for the events you receive in about three days).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive integer")
        self.max_entries = max_entries
        self._clock = clock
        # key -> (state, token, expiry); kept in order of the last write.
        self._entries: OrderedDict[str, tuple[Claim, str, float]] = OrderedDict()

    def __repr__(self) -> str:
        return f"MemoryDedupeStore(entries={len(self._entries)}, max_entries={self.max_entries})"

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str, token: str, lease: float) -> Claim:
        now = self._clock()
        self._expire(now)
        entry = self._entries.get(key)
        if entry is not None and entry[2] > now:
            return entry[0]
        self._put(key, Claim.PENDING, token, now + lease)
        return Claim.NEW

    async def complete(self, key: str, token: str, ttl: float) -> None:
        self._put(key, Claim.DONE, token, self._clock() + ttl)

    async def release(self, key: str, token: str) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] is Claim.PENDING and entry[1] == token:
            del self._entries[key]

    def _put(self, key: str, state: Claim, token: str, expiry: float) -> None:
        self._entries[key] = (state, token, expiry)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._evict()

    def _evict(self) -> None:
        # The oldest write first: every done key has the same ttl, so it expires first.
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def _expire(self, now: float) -> None:
        """Drop expired keys from the old end (cheap: stops at the first live one)."""
        while self._entries:
            key, (_, _, expiry) = next(iter(self._entries.items()))
            if expiry > now:
                return
            del self._entries[key]

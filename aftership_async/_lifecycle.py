"""A client's lifecycle: unopened, open, closed; and the work its ``close()`` cancels.

::

    UNOPENED --open() or first call--> OPEN --close()--> CLOSED
    UNOPENED ---------------close()--------------------> CLOSED

A closed client stays closed: a call, ``async with`` or a bulk run on it raises
:class:`ClientClosedError` and no session is created. Closing twice is fine.
The :class:`~aftership_async._transport.Transport` holds the state (it owns
the session); this module holds only the names it uses.
"""

from __future__ import annotations

import enum
from typing import Protocol

from ._errors import ClientClosedError

__all__ = ["Cancellable", "RunRegistry", "State"]


class State(enum.Enum):
    """Where a client is in its lifecycle."""

    UNOPENED = "unopened"
    """Created; the session is created by ``async with``, ``open()`` or the first call."""
    OPEN = "open"
    """The session exists (or the caller's was taken into use)."""
    CLOSED = "closed"
    """``close()`` was called: nothing more is sent, nothing reopens."""


class Cancellable(Protocol):
    """Work that a client's ``close()`` cancels and waits for (a bulk run in progress)."""

    async def cancel(self, error: ClientClosedError) -> None:
        """Cancel the work's tasks and wait for them; ``error`` says why."""


class RunRegistry(Protocol):
    """What a bulk run needs of its client: refuse when closed, know the live runs."""

    def check_open(self) -> None:
        """Raise :class:`ClientClosedError` when the client is closed."""

    def track(self, work: Cancellable) -> None:
        """Register live work (or raise :class:`ClientClosedError`): ``close()`` cancels it."""

    def untrack(self, work: Cancellable) -> None:
        """Forget work that finished or was cancelled (no error when unknown)."""

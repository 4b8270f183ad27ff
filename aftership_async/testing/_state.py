"""The fake's memory: stored resources, stable ids, counters, and who hears of changes.

One :class:`State` per fake server, one :class:`Collection` per resource kind of
the specs (``state["label"]``). Collections keep insertion order and a sequence
number per item, so cursors ("everything older than item #n") stay valid while
other tasks create or delete resources between pages.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._records import stable_uuid
from ._spec import ApiSpec, Operation

__all__ = ["Call", "Change", "Collection", "FakeStats", "Handler", "State", "parse_time"]


@attrs.define
class FakeStats:
    """What the fake saw, so tests can prove nothing was lost or duplicated.

    ``requests`` counts authenticated requests per ``operationId`` (including
    those answered by a fault or the rate limiter); ``statuses`` the HTTP
    statuses actually sent (a dropped connection sends none); ``faults`` the
    injected faults by kind; ``created`` resources created, by kind
    (``"tracking"``, ``"label"``, ``"return"``, ``"courier_connection"``...);
    ``rate_limited`` the 429s sent by the rate limiter (not the injected
    ``"429"`` faults); ``versions`` the requests per API and requested
    version, ``"tracking 2025-01 -> 2026-07"`` when another version served it;
    ``acted_then_faulted`` the requests per ``operationId`` that the server
    carried out before a fault replaced their answer (``after_action``).
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    statuses: Counter[int] = attrs.field(factory=Counter)
    faults: Counter[str] = attrs.field(factory=Counter)
    created: Counter[str] = attrs.field(factory=Counter)
    rate_limited: int = 0
    versions: Counter[str] = attrs.field(factory=Counter)
    acted_then_faulted: Counter[str] = attrs.field(factory=Counter)


def parse_time(text: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware datetime (UTC when it has no offset), else None."""
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Collection:
    """Resources of one kind by id, with a creation sequence number each."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self._seq: dict[str, int] = {}
        self._next = 0
        #: The natural key's fields, and the ids by key (kept by :meth:`owner`).
        self.key_fields: tuple[str, ...] = ()
        self._keys: dict[tuple[Any, ...], str] = {}
        #: The ids by the key's first field (``tracking_number``), for list filters on it.
        self.by_first: dict[str, set[str]] = {}

    def _key(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(repr(item.get(name)) for name in self.key_fields)

    def owner(self, item: Mapping[str, Any]) -> str | None:
        """The id of the stored record with ``item``'s natural key (``key_fields``), if any.

        The index is rebuilt when an entry went stale (a record removed or re-keyed).
        """
        key = self._key(item)
        found = self._keys.get(key)
        if found is not None and self._key(self.items.get(found, {})) != key:
            self.reindex()
            found = self._keys.get(key)
        return found

    def reindex(self) -> None:
        self._keys = {self._key(v): k for k, v in self.items.items()} if self.key_fields else {}
        self.by_first = {}
        for key, item in self.items.items() if self.key_fields else ():
            self.by_first.setdefault(str(item.get(self.key_fields[0])), set()).add(key)

    def __len__(self) -> int:
        return len(self.items)

    def add(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        self.items[key] = item
        self._seq[key] = self._next
        if self.key_fields:
            self._keys[self._key(item)] = key
            self.by_first.setdefault(str(item.get(self.key_fields[0])), set()).add(key)
        return item

    def get(self, key: str) -> dict[str, Any] | None:
        return self.items.get(key)

    def remove(self, key: str) -> dict[str, Any] | None:
        self._seq.pop(key, None)
        return self.items.pop(key, None)

    def newest_first(self, among: set[str] | None = None) -> list[tuple[int, dict[str, Any]]]:
        """``(sequence, record)`` pairs, the newest first (only ids ``among``, if given)."""
        if among is not None:
            found = [(self._seq[k], self.items[k]) for k in among if k in self.items]
            return sorted(found, key=lambda pair: -pair[0])
        return [(self._seq[k], v) for k, v in reversed(self.items.items())]


@attrs.frozen
class Change:
    """One change of a stored resource: ``kind`` (``"tracking"``), ``action``, the record."""

    api: str
    kind: str
    action: str
    record: Mapping[str, Any]
    at: dt.datetime


class State:
    """Everything the fake stores, shared by the three APIs."""

    def __init__(self, seed: int, stats: FakeStats) -> None:
        self.seed = seed
        self.stats = stats
        self.collections: dict[str, Collection] = {}
        #: Lifecycle transitions per (action, record id): retracks are limited.
        self.transitions: Counter[tuple[str, str]] = Counter()
        #: Called with every :class:`Change` (the webhooks listen here).
        self.listeners: list[Callable[[Change], None]] = []
        #: Records answered as pending (Shipping 3001), by id: what they become once read again.
        self.pending: dict[str, dict[str, Any]] = {}
        self._counters: Counter[str] = Counter()

    def __getitem__(self, kind: str) -> Collection:
        """The records of one resource kind (``state["label"].items``)."""
        return self.collections.setdefault(kind, Collection())

    @property
    def trackings(self) -> Collection:
        return self["tracking"]

    def new_id(self, kind: str) -> str:
        """A fresh, seed-stable UUID-shaped id for a resource kind."""
        return stable_uuid(self.seed, kind, self.next_number(kind))

    def next_number(self, kind: str) -> int:
        """A per-kind counter (RMA numbers and the like)."""
        self._counters[kind] += 1
        return self._counters[kind]

    def changed(self, change: Change) -> None:
        for listener in list(self.listeners):
            listener(change)


@attrs.frozen
class Call:
    """One validated request, as a handler sees it."""

    spec: ApiSpec
    op: Operation
    params: Mapping[str, Any]
    body: Any
    state: State
    now: dt.datetime

    @property
    def api(self) -> str:
        return self.spec.name

    def changed(self, kind: str, action: str, record: Mapping[str, Any]) -> None:
        """Tell the listeners that ``record`` of ``kind`` was ``action`` (created, approve...)."""
        self.state.changed(Change(self.api, kind, action, record, self.now))


Handler = Callable[[Call], Any]
"""Takes a validated call, returns the response ``data`` or raises ``Failure``."""

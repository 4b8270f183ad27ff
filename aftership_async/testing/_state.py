"""The fake's memory: stored resources, stable ids, paging cursors and counters.

One :class:`State` per fake server. Collections keep insertion order and a
sequence number per item, so cursors ("everything older than item #n") stay
valid while other tasks create or delete resources between pages: bulk code
that pages through trackings while creating more must see no duplicates and
no gaps among the items that existed when it started.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._content import stable_uuid
from ._envelopes import bad_request
from ._spec import ApiSpec, Operation

__all__ = [
    "Call",
    "Collection",
    "FakeStats",
    "Handler",
    "State",
    "decode_cursor",
    "encode_cursor",
    "parse_time",
]


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


def encode_cursor(seq: int) -> str:
    """An opaque page cursor meaning "items older than #seq"."""
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The sequence number in a cursor, or None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = text.partition(":")
    if prefix != "seq" or not number.isdigit():
        return None
    return int(number)


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

    def __len__(self) -> int:
        return len(self.items)

    def add(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        self.items[key] = item
        self._seq[key] = self._next
        return item

    def get(self, key: str) -> dict[str, Any] | None:
        return self.items.get(key)

    def remove(self, key: str) -> dict[str, Any] | None:
        self._seq.pop(key, None)
        return self.items.pop(key, None)

    def newest_first(self) -> list[dict[str, Any]]:
        return list(reversed(self.items.values()))

    def page(
        self,
        selected: Iterable[dict[str, Any]],
        *,
        key: Callable[[dict[str, Any]], str],
        after: int | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One newest-first page of ``selected`` older than cursor ``after``.

        Returns the page and the next cursor (None on the last page).
        """
        ordered = sorted(selected, key=lambda item: -self._seq.get(key(item), 0))
        if after is not None:
            ordered = [item for item in ordered if self._seq.get(key(item), 0) < after]
        page = ordered[:limit]
        if len(ordered) > limit and page:
            return page, encode_cursor(self._seq[key(page[-1])])
        return page, None


class State:
    """Everything the fake stores, shared by the three APIs."""

    def __init__(self, seed: int, stats: FakeStats) -> None:
        self.seed = seed
        self.stats = stats
        self.trackings = Collection()
        #: (tracking_number, slug) -> tracking id, for duplicate detection.
        self.tracking_keys: dict[tuple[str, str], str] = {}
        #: How many times each (tracking_number, slug) was created, for fresh ids.
        self.tracking_generations: Counter[tuple[str, str]] = Counter()
        #: Lifecycle transitions per (action, tracking id): retracks are limited.
        self.transitions: Counter[tuple[str, str]] = Counter()
        #: Tracking's courier connections (the merchant's own carrier accounts) by id.
        self.courier_connections = Collection()
        self.shipping: dict[str, Collection] = {
            kind: Collection()
            for kind in (
                "label",
                "cancel_label",
                "rate",
                "manifest",
                "pickup",
                "cancel_pickup",
                "shipper_account",
                "address_validation",
            )
        }
        #: Records answered as pending (Shipping 3001), by id: what they become once read again.
        self.pending: dict[str, dict[str, Any]] = {}
        self.returns = Collection()
        self.rma_index: dict[str, str] = {}
        self.drops = Collection()
        self._counters: Counter[str] = Counter()

    def new_id(self, kind: str) -> str:
        """A fresh, seed-stable UUID-shaped id for a resource kind."""
        self._counters[kind] += 1
        return stable_uuid(self.seed, kind, self._counters[kind])

    def next_number(self, kind: str) -> int:
        """A per-kind counter (RMA numbers and the like)."""
        self._counters[kind] += 1
        return self._counters[kind]

    def created(self, kind: str) -> None:
        self.stats.created[kind] += 1


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

    def refuse_repeat(self, collection: Collection) -> None:
        """Refuse a request whose natural key a record of ``collection`` already has.

        The key and the refusal's code are the operation's ``x-aftership.natural-key``
        in the spec (``create_label``: ``order_number``, 4801); a request without
        every key field set is not protected, as with AfterShip.
        """
        fields, code = self.op.key_fields, self.op.key_code
        if code is None or not fields or not isinstance(self.body, Mapping):
            return
        key = [self.body.get(name) for name in fields]
        if any(value in (None, "") for value in key):
            return
        if any(
            [record.get(name) for name in fields] == key for record in collection.items.values()
        ):
            named = ", ".join(f"{name} {value!r}" for name, value in zip(fields, key, strict=True))
            raise bad_request(self.api, f"Duplicate {named}.", code)


Handler = Callable[[Call], Any]
"""Takes a validated call, returns the response ``data`` or raises ``Failure``."""

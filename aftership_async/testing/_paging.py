"""One paging engine per style of the spec's ``x-pagination`` (cursor, next_token, page).

Each takes the records that passed the list's filters, newest first, and the
request's parameters, and returns the ``data`` of one page in its API's shape:

* ``cursor`` (Tracking): ``pagination {total, next_cursor, has_next_page}``;
* ``next_token`` (Shipping): ``next_token``, ``limit`` and the echoed creation window;
* ``page`` (Returns): ``pagination {total, page, limit, has_next_page}``.

Cursors and tokens are opaque and mean "older than record #n" (its creation
sequence), so pages stay right while other tasks create or delete records.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._envelopes import validation_failed

__all__ = ["PAGERS", "decode_cursor", "encode_cursor"]

Records = Sequence[tuple[int, dict[str, Any]]]
"""(creation sequence, record) pairs, newest first."""


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
    return int(number) if prefix == "seq" and number.isdigit() else None


def _after(api: str, params: Mapping[str, Any], name: str) -> int | None:
    if not params.get(name):
        return None
    after = decode_cursor(str(params[name]))
    if after is None:
        failure = validation_failed(api, [(name, f"The value of {name} is invalid.")])
        failure.message = f"The value of {name} is invalid."
        raise failure
    return after


def _older(records: Records, after: int | None, limit: int) -> tuple[list[Any], str | None]:
    older = [r for r in records if after is None or r[0] < after]
    page = older[:limit]
    more = len(older) > limit and page
    return [r for _, r in page], encode_cursor(page[-1][0]) if more else None


def _cursor(api: str, items: str, records: Records, params: Mapping[str, Any]) -> dict[str, Any]:
    page, cursor = _older(records, _after(api, params, "cursor"), int(params.get("limit", 100)))
    pagination = {"total": len(records), "next_cursor": cursor, "has_next_page": bool(cursor)}
    return {"pagination": pagination, items: page}


def _next_token(
    api: str, items: str, records: Records, params: Mapping[str, Any]
) -> dict[str, Any]:
    limit = int(params.get("limit", 30))
    page, token = _older(records, _after(api, params, "next_token"), limit)
    return {"next_token": token, "limit": limit, items: page}


def _page(api: str, items: str, records: Records, params: Mapping[str, Any]) -> dict[str, Any]:
    page, limit = int(params.get("page", 1)), int(params.get("limit", 10))
    start = (page - 1) * limit
    has_next = start + limit < len(records)
    pagination = {"total": len(records), "page": page, "limit": limit, "has_next_page": has_next}
    return {items: [r for _, r in records[start : start + limit]], "pagination": pagination}


PAGERS: Mapping[str, Callable[[str, str, Records, Mapping[str, Any]], dict[str, Any]]] = {
    "cursor": _cursor,
    "next_token": _next_token,
    "page": _page,
}

"""Async iteration over every item of a list operation, one page at a time.

The three APIs page differently: Tracking by ``cursor`` (``pagination.next_cursor``
and ``has_next_page``), Shipping by ``next_token`` (echoed in ``data``), Returns
by ``page`` number (``pagination.has_next_page``). The generated ``iter_*``
methods name the style; this module is the only place that knows what it
means. Only one page is held in memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal

from ._errors import InvalidResponseError
from ._transport import RequestOptions

__all__ = ["paginate"]

PagingStyle = Literal["cursor", "next_token", "page"]


def _value(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    return value if value else None  # UNSET and None and "" all mean "absent"


async def paginate(
    fetch: Callable[..., Awaitable[Any]],
    *,
    style: PagingStyle,
    items: str,
    params: Mapping[str, object],
    options: RequestOptions | None = None,
) -> AsyncIterator[Any]:
    """Yield the items of every page that ``fetch`` returns, following ``style``."""
    token: str | None = None
    page_number = 1
    seen_tokens: set[str] = set()
    while True:
        kwargs = dict(params)
        if style == "cursor" and token:
            kwargs["cursor"] = token
        elif style == "next_token" and token:
            kwargs["next_token"] = token
        elif style == "page":
            kwargs["page"] = page_number
        page = await fetch(**kwargs, options=options)
        batch = _value(page, items) or []
        for item in batch:
            yield item
        if not batch:
            return
        if style == "page":
            if not _value(_value(page, "pagination"), "has_next_page"):
                return
            page_number += 1
            continue
        if style == "cursor":
            pagination = _value(page, "pagination")
            if not _value(pagination, "has_next_page"):
                return
            token = _value(pagination, "next_cursor")
        else:
            token = _value(page, "next_token")
        if not token:
            return
        if token in seen_tokens:
            raise InvalidResponseError(f"the server repeated the page token {token!r}")
        seen_tokens.add(token)

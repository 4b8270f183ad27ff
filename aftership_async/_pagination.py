"""Async iteration over every item of a list operation, one page at a time.

The three APIs page differently: Tracking by ``cursor`` (``pagination.next_cursor``
and ``has_next_page``), Shipping by ``next_token`` (echoed in ``data``), Returns
by ``page`` number (``pagination.has_next_page``). The generated ``iter_*``
methods name the style; this module is the only place that knows what it
means. One page is held in memory at a time (and, for ``page``, the
previous page's items, to compare).

A server that never moves on ends the loop with :class:`InvalidResponseError`
instead of looping forever: a repeated ``cursor`` or ``next_token``, or, for
``page``, a page whose items equal the previous page's (a server that ignores
``page`` answers page 1 every time). No correct server does that: page *n + 1*
can repeat page *n* only if exactly one page of items was inserted ahead of
them between the two requests, in which case the caller would see those
items twice anyway.
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
    previous: list[Any] | None = None
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
        if style == "page":
            if batch and batch == previous:
                raise InvalidResponseError(
                    f"the server answered page {page_number} with the items of page "
                    f"{page_number - 1} (and says there are more): it ignores the page number"
                )
            previous = list(batch)
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

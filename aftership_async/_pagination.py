"""Async iteration over every item of a list operation, one page at a time.

Three paging engines, one per style; which one an operation uses and every
name it reads or sends come from the operation's ``x-pagination`` block in
the spec, generated into a :class:`PageRule` constant beside the ``iter_*``
method. This module names no parameter or field of any API:

* ``cursor``: send the position in ``request``; the next one is at ``next``;
  stop when ``has_more`` (when declared) is false or no next position comes.
* ``next_token``: the same without a "more" flag: stop when no token comes.
* ``page``: send page numbers 1, 2, ... in ``request``; stop when
  ``has_more`` is false.

One page is held in memory at a time (and, for ``page``, the previous page's
items, to compare).

A server that never moves on ends the loop with :class:`InvalidResponseError`
instead of looping forever: a repeated cursor or token, or, for ``page``, a
page whose items equal the previous page's (a server that ignores the page
number answers page 1 every time). No correct server does that: page *n + 1*
can repeat page *n* only if exactly one page of items was inserted ahead of
them between the two requests, in which case the caller would see those
items twice anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal

import attrs

from ._errors import InvalidResponseError
from ._transport import RequestOptions

__all__ = ["PageRule", "PagingStyle", "paginate"]

PagingStyle = Literal["cursor", "next_token", "page"]


@attrs.frozen
class PageRule:
    """How one list operation pages (its spec's ``x-pagination``), in Python names."""

    style: PagingStyle
    items: str
    """The field of a page holding its items."""
    request: str
    """The list method's keyword that carries the position (cursor, token or page number)."""
    next: tuple[str, ...] = ()
    """Attribute path from a page to the next position (``cursor``, ``next_token``)."""
    has_more: tuple[str, ...] = ()
    """Attribute path from a page to its "more pages follow" flag (``page``; ``cursor``)."""

    def __attrs_post_init__(self) -> None:
        if self.style == "page" and not self.has_more:
            raise ValueError("page paging needs has_more")
        if self.style in ("cursor", "next_token") and not self.next:
            raise ValueError(f"{self.style} paging needs next")


def _value(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    return value if value else None  # UNSET and None and "" all mean "absent"


def _at(page: Any, path: tuple[str, ...]) -> Any:
    value = page
    for name in path:
        value = _value(value, name)
    return value


async def paginate(
    fetch: Callable[..., Awaitable[Any]],
    *,
    rule: PageRule,
    params: Mapping[str, object],
    options: RequestOptions | None = None,
) -> AsyncIterator[Any]:
    """Yield the items of every page that ``fetch`` returns, as ``rule`` says."""
    if rule.style == "page":
        pages = _by_page_number(fetch, rule, params, options)
    else:
        pages = _by_token(fetch, rule, params, options)
    async with contextlib.aclosing(pages) as batches:  # a caller's break closes it too
        async for batch in batches:
            for item in batch:
                yield item


async def _by_page_number(
    fetch: Callable[..., Awaitable[Any]],
    rule: PageRule,
    params: Mapping[str, object],
    options: RequestOptions | None,
) -> AsyncGenerator[list[Any], None]:
    page_number = 1
    previous: list[Any] | None = None
    while True:
        page = await fetch(**{**params, rule.request: page_number}, options=options)
        batch = list(_value(page, rule.items) or [])
        if batch and batch == previous:
            raise InvalidResponseError(
                f"the server answered page {page_number} with the items of page "
                f"{page_number - 1} (and says there are more): it ignores the page number"
            )
        previous = batch
        yield batch
        if not batch or not _at(page, rule.has_more):
            return
        page_number += 1


async def _by_token(
    fetch: Callable[..., Awaitable[Any]],
    rule: PageRule,
    params: Mapping[str, object],
    options: RequestOptions | None,
) -> AsyncGenerator[list[Any], None]:
    token: str | None = None
    seen: set[str] = set()
    while True:
        kwargs = {**params, rule.request: token} if token else dict(params)
        page = await fetch(**kwargs, options=options)
        batch = list(_value(page, rule.items) or [])
        yield batch
        if not batch:
            return
        if rule.has_more and not _at(page, rule.has_more):
            return
        token = _at(page, rule.next)
        if not token:
            return
        if token in seen:
            raise InvalidResponseError(f"the server repeated the page token {token!r}")
        seen.add(token)

"""(g) Refreshing many trackings at AfterShip's documented limits.

The fake server holds the documented per-endpoint limits (``GET /trackings``
6 req/s with up to 50 ``tracking_numbers`` a request, ``GET /trackings/{id}``
5 req/s, fixed one-second windows, a 429 past them), preloaded with the
trackings. Two ways to refresh them:

* ``ours``: ``client.bulk.lookup(numbers)`` with the client's documented
  limits (the default), 50 numbers a request: the ceiling is
  6 x 50 = 300 numbers a second;
* ``official``: ``aftership-tracking-sdk`` driven the way its README shows,
  one ``get_tracking_by_id`` per tracking, pacing itself from the
  ``x-ratelimit-remaining`` / ``x-ratelimit-reset`` headers of each answer
  (it has no limiter and no bulk call): at most 5 numbers a second. It runs
  on a sample (at 5 a second, 5,000 numbers would take 1,000 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aftership_async import AfterShip

from ._server import BENCH_KEY, running_server

__all__ = ["scenario"]

#: Numbers a second the documented limit allows: 6 requests of 50 numbers.
LOOKUP_RATE = 6
LOOKUP_CHUNK = 50
CEILING = LOOKUP_RATE * LOOKUP_CHUNK


async def _ours(url: str, numbers: Sequence[str]) -> dict[str, Any]:
    found = errors = 0
    first_error = None
    async with AfterShip(api_key=BENCH_KEY, base_url=url) as client:  # documented limits
        started = time.perf_counter()
        async for result in client.bulk.lookup(numbers):
            if result.ok:
                found += 1
            else:
                errors += 1
                first_error = first_error or repr(result.error)[:200]
        wall = time.perf_counter() - started
        stats = client.stats
    return {
        "client": "ours",
        "how": "client.bulk.lookup, 50 numbers a request",
        "numbers": len(numbers),
        "found": found,
        "requests": stats.requests,
        "wall_s": round(wall, 2),
        "numbers_per_s": round(found / wall, 1),
        "ceiling_per_s": CEILING,
        "ratio_to_ceiling": round(found / wall / CEILING, 3),
        "http_429": stats.rate_limited,
        "retries": stats.retries,
        "errors": errors,
        "first_error": first_error,
    }


def _official(url: str, ids: Sequence[str]) -> dict[str, Any]:
    from tracking import Client, Configuration
    from tracking.exceptions import ApiException

    client = Client(Configuration(domain=url, api_key=BENCH_KEY))
    found = errors = rate_limited = 0
    first_error = None
    started = time.perf_counter()
    for tracking_id in ids:
        try:
            result = client.tracking.get_tracking_by_id(tracking_id)
        except ApiException as exc:
            errors += 1
            rate_limited += exc.status_code == 429
            first_error = first_error or f"{type(exc).__name__}: {exc}"[:200]
            continue
        found += 1
        # Its README's rate-limit pattern: read the headers of each answer and wait for
        # the window to reset once it is spent.
        remaining = int(result.response_header["x-ratelimit-remaining"][0])
        reset_at = int(result.response_header["x-ratelimit-reset"][0])
        if remaining <= 0:
            time.sleep(max(0.0, reset_at - time.time()))
    wall = time.perf_counter() - started
    return {
        "client": "official",
        "how": "get_tracking_by_id per number, paced by x-ratelimit-*",
        "numbers": len(ids),
        "found": found,
        "requests": len(ids),
        "wall_s": round(wall, 2),
        "numbers_per_s": round(found / wall, 1),
        "ceiling_per_s": 5,
        "ratio_to_ceiling": round(found / wall / 5, 3),
        "http_429": rate_limited,
        "retries": 0,
        "errors": errors,
        "first_error": first_error,
    }


def scenario(*, numbers: int, official_sample: int) -> dict[str, Any]:
    """Both clients against one fake server at the documented limits."""
    with running_server(trackings=numbers, rate_limit="documented") as server:
        ours = asyncio.run(_ours(server.url, server.numbers))
        time.sleep(1.0)  # a fresh window for the next client
        official = _official(server.url, server.ids[:official_sample])
    return {
        "numbers": numbers,
        "official_sample": official_sample,
        "ceiling_per_s": CEILING,
        "rows": [ours, official],
    }

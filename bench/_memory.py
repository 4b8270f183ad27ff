"""Peak RSS growth while 100,000 lookups stream through ``client.bulk.lookup``.

Runs in its own process (``python -m bench._memory URL COUNT TRACKINGS``) so
that nothing else the bench did is in its heap. The numbers come from a
generator and the results are consumed as they arrive, as a service would.
Linux only: the peak is read from ``/proc/self/status`` (``VmHWM``) after
resetting it through ``/proc/self/clear_refs``, so only the run is measured.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator

from aftership_async import AfterShip

from ._server import BENCH_KEY, tracking_numbers

__all__ = ["main"]


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


async def _run(url: str, count: int, trackings: int) -> dict[str, object]:
    known = tracking_numbers(trackings)

    def numbers(total: int) -> Iterator[str]:
        for i in range(total):
            yield known[i % trackings]

    outcomes: Counter[str] = Counter()
    async with AfterShip(api_key=BENCH_KEY, base_url=url, rate_limit=None) as client:
        # Warm up pools, caches and generated hooks before the baseline.
        await client.bulk.lookup(numbers(500), concurrency=32).collect()
        before = client.stats.requests
        baseline = _status_kib("VmRSS")
        _reset_peak()
        started = time.perf_counter()
        async for result in client.bulk.lookup(numbers(count), concurrency=32):
            outcomes["ok" if result.ok else type(result.error).__name__] += 1
        wall = time.perf_counter() - started
        peak = _status_kib("VmHWM")
        requests = client.stats.requests - before
    return {
        "lookups": count,
        "results": dict(outcomes),
        "requests": requests,
        "wall_s": round(wall, 2),
        "baseline_rss_mb": round(baseline / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "peak_rss_growth_mb": round((peak - baseline) / 1024, 1),
    }


def main() -> None:
    url, count, trackings = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(asyncio.run(_run(url, count, trackings))))


if __name__ == "__main__":
    main()

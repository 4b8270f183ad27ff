"""(f) Many processes, one budget: ``RedisRateLimiter`` against per-process limiters.

N worker processes create trackings on one endpoint (``POST /trackings``)
of a fake server that holds the limit, each with a client whose limiter is
either one shared ``RedisRateLimiter`` or its own in-process ``RateLimiter``
at the full limit (what each worker of a deployment has without Redis).

``run_workers`` starts the workers and merges what they report; a worker is
``python -m bench._shared_budget --url ... --limit ... --count ...``, which
prints one JSON line. Used by ``python -m bench`` and by tests/redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aftership_async import (
    NO_RETRY,
    AfterShip,
    AfterShipError,
    CreateTrackingRequest,
    RedisRateLimiter,
)
from aftership_async._policies import RateLimit

from ._redis import running_redis
from ._server import running_server

__all__ = ["run_workers", "scenario", "utilisation"]

#: Seconds between starting the workers and their first request (imports, connections).
START_DELAY = 2.0


def tracking_number(worker: int, index: int) -> str:
    """A UPS-shaped number unique to (worker, index): every create is a new tracking."""
    return f"1ZSB{worker:02d}{index:012d}"


async def _work(args: argparse.Namespace) -> dict[str, Any]:
    limiter: RateLimit = args.limit
    shared = None
    if args.redis:
        shared = RedisRateLimiter.from_url(
            args.redis, namespace=args.namespace, rate_limit=args.limit, timeout=args.redis_timeout
        )
        limiter = shared
    done: list[float] = []
    errors: Counter[str] = Counter()
    async with AfterShip(
        api_key="bench-key",
        base_url=args.url,
        rate_limit=limiter,
        max_concurrency=args.concurrency,
        retry=NO_RETRY if args.no_retry else None,
    ) as client:
        await asyncio.sleep(max(0.0, args.start_at - time.time()))

        async def create(index: int) -> None:
            request = CreateTrackingRequest(
                tracking_number=tracking_number(args.worker, index), slug="ups"
            )
            try:
                await client.tracking.create_tracking(request)
            except AfterShipError as exc:
                errors[type(exc).__name__] += 1
            else:
                done.append(time.time())

        await asyncio.gather(*(create(i) for i in range(args.count)))
        stats = client.stats
    report: dict[str, Any] = {
        "worker": args.worker,
        "ok": len(done),
        "done": done,
        "errors": dict(errors),
        "http_429": stats.rate_limited,
        "retries": stats.retries,
        "requests": stats.requests,
    }
    if shared is not None:
        await shared.aclose()
        report["limiter"] = {
            "redis_permits": shared.stats.redis_permits,
            "local_permits": shared.stats.local_permits,
            "fallbacks": shared.stats.fallbacks,
            "recoveries": shared.stats.recoveries,
            "redis_errors": shared.stats.redis_errors,
        }
    return report


def utilisation(times: Sequence[float], limit: float) -> tuple[float | None, int]:
    """(requests per interior second ÷ limit, interior seconds).

    Interior: the whole wall-clock seconds strictly between the run's first
    and last completion, so that a partly used first or last second does not
    count; None when the run spans fewer than three seconds.
    """
    if not times:
        return None, 0
    first, last = int(min(times)), int(max(times))
    interior = range(first + 1, last)
    if len(interior) == 0:
        return None, 0
    count = sum(1 for t in times if first + 1 <= t < last)
    return count / (len(interior) * limit), len(interior)


async def run_workers(
    url: str,
    *,
    processes: int,
    requests: int,
    limit: float,
    redis_url: str | None = None,
    namespace: str = "bench",
    retry: bool = True,
    concurrency: int = 16,
    start_at: float | None = None,
    redis_timeout: float = 0.25,
) -> dict[str, Any]:
    """Run ``processes`` workers of ``requests`` creates each; their merged figures."""
    start_at = start_at if start_at is not None else time.time() + START_DELAY
    command = [sys.executable, "-m", "bench._shared_budget", "--url", url,
               "--limit", str(limit), "--count", str(requests), "--start-at", repr(start_at),
               "--concurrency", str(concurrency), "--namespace", namespace]  # fmt: skip
    if redis_url is not None:
        command += ["--redis", redis_url, "--redis-timeout", repr(redis_timeout)]
    if not retry:
        command.append("--no-retry")
    workers = [
        await asyncio.create_subprocess_exec(
            *command, "--worker", str(n), stdout=asyncio.subprocess.PIPE
        )
        for n in range(processes)
    ]
    outputs = await asyncio.gather(*(w.communicate() for w in workers))
    reports = []
    for worker, (stdout, _) in zip(workers, outputs, strict=True):
        if worker.returncode != 0:
            raise RuntimeError(f"a worker exited with {worker.returncode}")
        reports.append(json.loads(stdout.decode().splitlines()[-1]))
    times = [t for r in reports for t in r["done"]]
    ratio, interior = utilisation(times, limit)
    errors: Counter[str] = Counter()
    for r in reports:
        errors.update(r["errors"])
    span = max(times) - min(times) if len(times) > 1 else 0.0
    result: dict[str, Any] = {
        "limiter": "shared Redis" if redis_url else "per process",
        "processes": processes,
        "requests": processes * requests,
        "ok": len(times),
        "errors": sum(errors.values()),
        "error_types": dict(errors),
        "http_429": sum(r["http_429"] for r in reports),
        "retries": sum(r["retries"] for r in reports),
        "limit_rps": limit,
        "wall_s": round(span, 2),
        "interior_seconds": interior,
        "interior_ratio_to_limit": round(ratio, 3) if ratio is not None else None,
    }
    if redis_url:
        result["workers"] = [r["limiter"] for r in reports]
    return result


def scenario(*, processes: int, requests: int, limit: float) -> dict[str, Any]:
    """(f): the same run with one shared Redis budget, then with per-process limiters.

    Each run gets a fresh fake server holding ``limit`` on every endpoint;
    the workers keep the client's default retries, as a deployment would.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        return {"skipped": "redis-server is not installed (make test installs Debian's)"}
    rows = []
    with running_redis(binary) as redis:
        for redis_url in (redis.url, None):
            with running_server(trackings=0, rate_limit=limit) as server:
                row = asyncio.run(
                    run_workers(
                        server.url,
                        processes=processes,
                        requests=requests,
                        limit=limit,
                        redis_url=redis_url,
                    )
                )
            row.pop("workers", None)
            rows.append(row)
    return {"processes": processes, "requests_each": requests, "limit_rps": limit, "rows": rows}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._shared_budget")
    parser.add_argument("--url", required=True)
    parser.add_argument("--limit", type=float, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--redis", default=None, help="a shared RedisRateLimiter at this URL")
    parser.add_argument("--redis-timeout", type=float, default=0.25)
    parser.add_argument("--namespace", default="bench")
    parser.add_argument("--no-retry", action="store_true")
    report = asyncio.run(_work(parser.parse_args(argv)))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()

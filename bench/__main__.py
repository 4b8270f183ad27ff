"""``python -m bench`` (``make bench``): every scenario, every client, one run.

Scenarios (see ``bench/README.md``):

* (a) bulk GET of N trackings at 50 ms server latency, at several concurrencies;
* (b) the same at zero latency: client CPU per request;
* (c) decoding one tracking with 50 checkpoints;
* (d) a rate-limited run: client and server both at R req/s;
* (e) peak RSS growth over 100,000 streamed lookups;
* (f) worker processes on one endpoint: one Redis budget vs per-process limiters.

Writes ``bench/results.json`` and ``bench/results.md``; ``--quick`` is a
seconds-long smoke run with tiny numbers (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aftership_async import AfterShip

from ._clients import CLIENTS, Sample, measure
from ._decode import measure_decode
from ._report import markdown, targets
from ._server import BENCH_KEY, running_server
from ._shared_budget import scenario as shared_budget

HERE = Path(__file__).parent


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("aftership-async", "aiohttp", "cattrs", "attrs", "aftership-tracking-sdk",
                    "pyaftership", "httpx", "pydantic"):  # fmt: skip
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


def _row(sample: Sample, latency_ms: float, ceiling: float | None) -> dict[str, Any]:
    ideal = sample.concurrency / (latency_ms / 1000.0) if latency_ms > 0 else None
    return {
        "client": sample.client,
        "concurrency": sample.concurrency,
        "n": sample.n,
        "throughput_rps": round(sample.throughput, 1),
        "p50_ms": _round(sample.percentile_ms(50)),
        "p99_ms": _round(sample.percentile_ms(99)),
        "cpu_s_per_1000": round(sample.cpu_per_1000, 4),
        "cpu_us_per_request": round(sample.cpu_per_1000 * 1000.0, 1),
        "ratio_to_aiohttp": round(sample.throughput / ceiling, 3) if ceiling else None,
        "ratio_to_ideal": round(sample.throughput / ideal, 3) if ideal else None,
        "errors": sample.errors,
        "first_error": sample.first_error,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _bulk_get(
    args: argparse.Namespace, latency_ms: float, concurrencies: Sequence[int], repeats: int = 1
) -> list[dict[str, Any]]:
    """Every client at every concurrency; with ``repeats``, rounds interleave the
    clients and each keeps its run with the least CPU per request (the least
    disturbed by the rest of the machine)."""
    rows: list[dict[str, Any]] = []
    with running_server(trackings=args.n, latency_ms=latency_ms) as server:
        for concurrency in concurrencies:
            samples: dict[str, Sample] = {}
            for _ in range(repeats):
                for client in args.clients:
                    print(f"  {client:<12} concurrency {concurrency:<4}", end="", flush=True)
                    sample = measure(client, server.url, server.ids, concurrency)
                    print(f" {sample.throughput:9.1f} req/s", flush=True)
                    if client not in samples or sample.cpu < samples[client].cpu:
                        samples[client] = sample
            ceiling = samples["aiohttp"].throughput if "aiohttp" in samples else None
            rows += [_row(sample, latency_ms, ceiling) for sample in samples.values()]
    return rows


async def _rate_limited_run(url: str, ids: Sequence[str], rate: float) -> dict[str, Any]:
    done: list[float] = []
    seconds: Counter[int] = Counter()  # completions per wall-clock second
    errors = 0
    async with AfterShip(
        api_key=BENCH_KEY, base_url=url, rate_limit=rate, max_concurrency=int(rate)
    ) as client:
        started = time.perf_counter()
        async for result in client.bulk.get(ids, concurrency=int(rate)):
            done.append(time.perf_counter())
            seconds[int(time.time())] += 1
            errors += not result.ok
        wall = time.perf_counter() - started
        stats = client.stats
    span = done[-1] - done[0] if len(done) > 1 else wall
    achieved = (len(done) - 1) / span if span > 0 else 0.0
    return {
        "limit_rps": rate,
        "requests": len(ids),
        "wall_s": round(wall, 2),
        "achieved_rps": round(achieved, 2),
        "ratio_to_limit": round(achieved / rate, 3),
        "busiest_second": max(seconds.values(), default=0),
        "http_429": stats.rate_limited,
        "retries": stats.retries,
        "errors": errors,
    }


def _rate_limited(args: argparse.Namespace) -> dict[str, Any]:
    with running_server(trackings=args.rate_n, rate_limit=args.rate) as server:
        return asyncio.run(_rate_limited_run(server.url, server.ids, args.rate))


def _memory(args: argparse.Namespace) -> dict[str, Any]:
    with running_server(trackings=args.n) as server:
        out = subprocess.run(
            [sys.executable, "-m", "bench._memory", server.url, str(args.memory_n), str(args.n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="trackings per run (a, b)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", default="50,100,200")
    parser.add_argument("--zero-latency-concurrency", type=int, default=50)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--repeats", type=int, default=3, help="(b) rounds, least CPU kept")
    parser.add_argument("--scenarios", default="a,b,c,d,e,f")
    parser.add_argument("--rate", type=float, default=20.0, help="(d) limit, req/s")
    parser.add_argument("--rate-n", type=int, default=300, help="(d) requests")
    parser.add_argument("--memory-n", type=int, default=100_000, help="(e) lookups")
    parser.add_argument("--shared-processes", type=int, default=4, help="(f) processes")
    parser.add_argument("--shared-n", type=int, default=150, help="(f) requests per process")
    parser.add_argument("--shared-rate", type=float, default=20.0, help="(f) limit, req/s")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "results.md")
    parser.add_argument("--quick", action="store_true", help="tiny numbers: a smoke run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.n, args.concurrency, args.zero_latency_concurrency = 60, "4,8", 4
        args.rate, args.rate_n, args.memory_n, args.repeats = 50.0, 40, 600, 1
        args.shared_processes, args.shared_n, args.shared_rate = 2, 10, 50.0
    args.clients = [c for c in args.clients.split(",") if c]
    unknown = set(args.clients) - set(CLIENTS)
    if unknown:
        print(f"unknown clients: {sorted(unknown)}; known: {', '.join(CLIENTS)}", file=sys.stderr)
        return 2
    scenarios = set(args.scenarios.split(","))
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "params": {
            "n": args.n,
            "latency_ms": args.latency_ms,
            "concurrency": concurrencies,
            "zero_latency_concurrency": args.zero_latency_concurrency,
            "rate": args.rate,
            "rate_n": args.rate_n,
            "memory_n": args.memory_n,
            "repeats": args.repeats,
            "quick": args.quick,
        },
    }
    if "a" in scenarios:
        print(f"(a) bulk GET, {args.n} trackings, {args.latency_ms:g} ms latency")
        results["bulk_get"] = _bulk_get(args, args.latency_ms, concurrencies)
    if "b" in scenarios:
        print(f"(b) zero latency, {args.n} trackings")
        results["zero_latency"] = _bulk_get(
            args, 0.0, [args.zero_latency_concurrency], repeats=args.repeats
        )
    if "c" in scenarios:
        print("(c) decoding a tracking with 50 checkpoints")
        results["decode_us"] = {k: round(v, 1) for k, v in measure_decode().items()}
    if "d" in scenarios:
        print(f"(d) rate limited at {args.rate:g} req/s, {args.rate_n} requests")
        results["rate_limited"] = _rate_limited(args)
    if "e" in scenarios:
        print(f"(e) memory, {args.memory_n} streamed lookups")
        results["memory"] = _memory(args)
    if "f" in scenarios:
        print(f"(f) {args.shared_processes} processes x {args.shared_n} requests, one endpoint "
              f"at {args.shared_rate:g} req/s: shared Redis vs per-process limiters")  # fmt: skip
        results["shared_budget"] = shared_budget(
            processes=args.shared_processes, requests=args.shared_n, limit=args.shared_rate
        )
    results["targets"] = targets(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.markdown.write_text(markdown(results))
    print(markdown(results))
    print(f"wrote {args.output} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

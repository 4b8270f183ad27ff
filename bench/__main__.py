"""``python -m bench`` (``make bench``): every scenario, every client, one run.

Scenarios (see ``bench/README.md``):

* (a) bulk GET of N trackings at 50 ms server latency, at several concurrencies;
* (b) the same at zero latency: client CPU per request;
* (c) decoding one tracking with 50 checkpoints;
* (d) a rate-limited run: client and server both at R req/s;
* (e) peak RSS growth over 100,000 streamed lookups;
* (f) worker processes on one endpoint: one Redis budget vs per-process limiters;
* (g) refreshing 5,000 trackings at the documented limits: ``bulk.lookup``
  beside the official SDK driven the way its README shows;
* (i) ``import aftership_async`` beside ``import aiohttp``, fresh processes.

(a) and (b) run against the canned loopback server (``bench._loopback``), the
rest against the fake (``bench._server``), where behaviour matters.

Writes ``bench/results.json`` and ``bench/results.md``; ``--quick`` is a
seconds-long smoke run with tiny numbers (its figures mean nothing). Each
scenario prints when it starts (its place in the run and the time elapsed) and
how long it took; the durations go into the results, and a full run is
expected to take at most 20 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aftership_async import AfterShip

from ._clients import CLIENTS, EXTRA_CLIENTS, Sample, measure
from ._cpu import INSTRUCTION_CLIENTS, instructions, payload, profile_top
from ._decode import measure_decode
from ._import import measure_import
from ._refresh import scenario as refresh
from ._report import markdown, targets
from ._server import BENCH_KEY, running_server
from ._shared_budget import scenario as shared_budget

HERE = Path(__file__).parent

#: Every scenario, in the order a run takes them.
SCENARIOS = ("a", "b", "c", "d", "e", "f", "g", "i")


class Phases:
    """Prints where a run is, and keeps how long each scenario took."""

    def __init__(self, scenarios: Sequence[str]) -> None:
        self._planned = [s for s in SCENARIOS if s in scenarios]
        self._started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def start(self, scenario: str, what: str) -> float:
        place = self._planned.index(scenario) + 1
        elapsed = time.perf_counter() - self._started
        print(f"[{place}/{len(self._planned)} at {elapsed // 60:02.0f}:{elapsed % 60:02.0f}] "
              f"({scenario}) {what}", flush=True)  # fmt: skip
        return time.perf_counter()

    def done(self, scenario: str, began: float) -> None:
        self.seconds[scenario] = round(time.perf_counter() - began, 1)
        print(f"  ({scenario}) took {self.seconds[scenario]:.0f} s", flush=True)

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self._started, 1)


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


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _spread(values: Sequence[float], digits: int) -> list[float]:
    return [round(min(values), digits), round(max(values), digits)]


def _ratios(samples: Sequence[Sample], reference: Sequence[Sample]) -> tuple[list[float], ...]:
    """Throughput and CPU per request of each round's sample ÷ the reference's same round."""
    speed = [s.throughput / r.throughput for s, r in zip(samples, reference, strict=True)]
    cost = [s.cpu / s.n / (r.cpu / r.n) for s, r in zip(samples, reference, strict=True)]
    return speed, cost


def _row(
    samples: Sequence[Sample],
    bare: Sequence[Sample] | None,
    latency_ms: float,
    ours: Sequence[Sample] | None = None,
) -> dict[str, Any]:
    """One client at one concurrency over its rounds: medians and their spread.

    Ratios to bare aiohttp are taken within each round (the two ran minutes
    apart at most, under the same load) and then their median is kept; so are
    the ratios of ours' other forms (``ours-bulk``, ``ours-raw``) to ``ours``.
    """
    first = samples[0]
    ideal = first.concurrency / (latency_ms / 1000.0) if latency_ms > 0 else None
    throughput = [s.throughput for s in samples]
    cpu = [s.cpu_per_1000 * 1000.0 for s in samples]
    p50 = [v for v in (s.percentile_ms(50) for s in samples) if v is not None]
    p99 = [v for v in (s.percentile_ms(99) for s in samples) if v is not None]
    row: dict[str, Any] = {
        "client": first.client,
        "concurrency": first.concurrency,
        "n": first.n,
        "rounds": len(samples),
        "throughput_rps": round(_median(throughput), 1),
        "throughput_range": _spread(throughput, 1),
        "ratio_to_ideal": round(_median(throughput) / ideal, 3) if ideal else None,
        "ratio_to_ideal_range": [round(v / ideal, 3) for v in _spread(throughput, 1)]
        if ideal
        else None,
        "p50_ms": round(_median(p50), 2) if p50 else None,
        "p99_ms": round(_median(p99), 2) if p99 else None,
        "cpu_us_per_request": round(_median(cpu), 1),
        "cpu_us_range": _spread(cpu, 1),
        "errors": sum(s.errors for s in samples),
        "first_error": next((s.first_error for s in samples if s.first_error), None),
    }
    if ours and first.client.startswith("ours-"):
        speed, cost = _ratios(samples, ours)
        row["ratio_to_ours"] = round(_median(speed), 3)
        row["ratio_to_ours_range"] = _spread(speed, 3)
        row["cpu_ratio_to_ours"] = round(_median(cost), 3)
        row["cpu_ratio_to_ours_range"] = _spread(cost, 3)
    if bare:
        speed, cost = _ratios(samples, bare)
        row["ratio_to_aiohttp"] = round(_median(speed), 3)
        row["ratio_to_aiohttp_range"] = _spread(speed, 3)
        row["cpu_ratio_to_aiohttp"] = round(_median(cost), 3)
        row["cpu_ratio_to_aiohttp_range"] = _spread(cost, 3)
    return row


def _bulk_get(
    args: argparse.Namespace,
    latency_ms: float,
    concurrencies: Sequence[int],
    rounds: int,
    extra: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Every client at every concurrency, ``rounds`` times, against the canned server.

    Within a round every client runs once, in an order rotated from round to
    round, so that a slow minute of the machine lands on all clients alike.
    """
    rows: list[dict[str, Any]] = []
    clients = [*args.clients, *(c for c in extra if c not in args.clients)]
    with running_server(trackings=args.n, latency_ms=latency_ms, canned=True) as server:
        for concurrency in concurrencies:
            samples: dict[str, list[Sample]] = {client: [] for client in clients}
            for round_ in range(rounds):
                order = clients[round_ % len(clients) :] + clients[: round_ % len(clients)]
                for client in order:
                    print(f"  round {round_ + 1}/{rounds} {client:<12} c={concurrency:<4}", end="",
                          flush=True)  # fmt: skip
                    sample = measure(client, server.url, server.ids, concurrency)
                    samples[client].append(sample)
                    print(f" {sample.throughput:9.1f} req/s "
                          f"{sample.cpu_per_1000 * 1000:7.1f} us CPU/req", flush=True)  # fmt: skip
            bare, ours = samples.get("aiohttp"), samples.get("ours")
            rows += [_row(samples[client], bare, latency_ms, ours) for client in clients]
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
    parser.add_argument("--rounds", type=int, default=3, help="(a) interleaved rounds")
    parser.add_argument("--zero-rounds", type=int, default=9, help="(b) interleaved rounds")
    parser.add_argument("--calls", type=int, default=1000, help="(b) calls under callgrind")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--rate", type=float, default=20.0, help="(d) limit, req/s")
    parser.add_argument("--rate-n", type=int, default=300, help="(d) requests")
    parser.add_argument("--memory-n", type=int, default=100_000, help="(e) lookups")
    parser.add_argument("--shared-processes", type=int, default=4, help="(f) processes")
    parser.add_argument("--shared-n", type=int, default=150, help="(f) requests per process")
    parser.add_argument("--shared-rate", type=float, default=20.0, help="(f) limit, req/s")
    parser.add_argument("--refresh-n", type=int, default=5000, help="(g) numbers, ours")
    parser.add_argument("--refresh-sample", type=int, default=150, help="(g) numbers, official")
    parser.add_argument("--import-runs", type=int, default=5, help="(i) fresh processes")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "results.md")
    parser.add_argument("--quick", action="store_true", help="tiny numbers: a smoke run")
    return parser


def _load() -> dict[str, Any]:
    """The machine's load averages (1, 5, 15 minutes)."""
    one, five, fifteen = os.getloadavg()
    return {"1m": round(one, 2), "5m": round(five, 2), "15m": round(fifteen, 2)}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.n, args.concurrency, args.zero_latency_concurrency = 60, "4,8", 4
        args.rate, args.rate_n, args.memory_n = 50.0, 40, 600
        args.rounds, args.zero_rounds, args.calls = 1, 2, 0
        args.shared_processes, args.shared_n, args.shared_rate = 2, 10, 50.0
        args.refresh_n, args.refresh_sample = 300, 6
        args.import_runs = 1
    args.clients = [c for c in args.clients.split(",") if c]
    unknown = set(args.clients) - set(CLIENTS) - set(EXTRA_CLIENTS)
    if unknown:
        print(f"unknown clients: {sorted(unknown)}; known: {', '.join(CLIENTS)}", file=sys.stderr)
        return 2
    scenarios = set(args.scenarios.split(","))
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "load_before": _load(),
        "params": {
            "n": args.n,
            "latency_ms": args.latency_ms,
            "concurrency": concurrencies,
            "zero_latency_concurrency": args.zero_latency_concurrency,
            "rounds": args.rounds,
            "zero_rounds": args.zero_rounds,
            "calls": args.calls,
            "rate": args.rate,
            "rate_n": args.rate_n,
            "memory_n": args.memory_n,
            "refresh_n": args.refresh_n,
            "refresh_sample": args.refresh_sample,
            "import_runs": args.import_runs,
            "quick": args.quick,
        },
    }
    unknown_scenarios = scenarios - set(SCENARIOS)
    if unknown_scenarios:
        print(f"unknown scenarios: {sorted(unknown_scenarios)}; known: {', '.join(SCENARIOS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    phases = Phases(sorted(scenarios))
    if "a" in scenarios:
        began = phases.start("a", f"bulk GET, {args.n} trackings, {args.latency_ms:g} ms latency, "
                             f"{args.rounds} rounds")  # fmt: skip
        results["bulk_get"] = _bulk_get(args, args.latency_ms, concurrencies, args.rounds)
        phases.done("a", began)
    if "b" in scenarios:
        began = phases.start("b", f"zero latency, {args.n} trackings, {args.zero_rounds} rounds")
        results["zero_latency"] = _bulk_get(
            args, 0.0, [args.zero_latency_concurrency], args.zero_rounds, extra=EXTRA_CLIENTS
        )
        results["payload"] = payload(args.n)
        if args.calls:
            print(f"  instructions per call under callgrind, {args.calls} calls", flush=True)
            results["instructions"] = instructions(
                INSTRUCTION_CLIENTS, calls=args.calls, concurrency=args.zero_latency_concurrency
            )
            print("  cProfile of ours", flush=True)
            results["profile"] = profile_top(
                "ours", calls=args.n, concurrency=args.zero_latency_concurrency
            )
        phases.done("b", began)
    if "c" in scenarios:
        began = phases.start("c", "decoding a tracking with 50 checkpoints")
        results["decode_us"] = {k: round(v, 1) for k, v in measure_decode().items()}
        phases.done("c", began)
    if "d" in scenarios:
        began = phases.start("d", f"rate limited at {args.rate:g} req/s, {args.rate_n} requests")
        results["rate_limited"] = _rate_limited(args)
        phases.done("d", began)
    if "e" in scenarios:
        began = phases.start("e", f"memory, {args.memory_n} streamed lookups")
        results["memory"] = _memory(args)
        phases.done("e", began)
    if "f" in scenarios:
        began = phases.start("f", f"{args.shared_processes} processes x {args.shared_n} requests, "
                             f"one endpoint at {args.shared_rate:g} req/s: shared Redis vs "
                             "per-process limiters")  # fmt: skip
        results["shared_budget"] = shared_budget(
            processes=args.shared_processes, requests=args.shared_n, limit=args.shared_rate
        )
        phases.done("f", began)
    if "g" in scenarios:
        began = phases.start("g", f"refreshing {args.refresh_n} trackings at the documented "
                             f"limits (official SDK: {args.refresh_sample})")  # fmt: skip
        results["refresh"] = refresh(numbers=args.refresh_n, official_sample=args.refresh_sample)
        phases.done("g", began)
    if "i" in scenarios:
        began = phases.start("i", f"import time, {args.import_runs} fresh processes each")
        results["import"] = measure_import(args.import_runs)
        phases.done("i", began)
    results["phase_seconds"] = phases.seconds
    results["wall_s"] = phases.total
    results["complete"] = not args.quick and set(SCENARIOS) <= scenarios
    results["load_after"] = _load()
    results["targets"] = targets(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.markdown.write_text(markdown(results))
    print(markdown(results))
    print(f"took {results['wall_s'] / 60:.1f} min; wrote {args.output} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU per call, measured so that a before/after comparison means something.

Wall-clock CPU time (``time.process_time``) on a shared 2-core machine moves
by 10-30% between runs; instruction counts do not. Two tools, both against
the canned loopback server (``bench._loopback``, zero latency):

* ``python -m bench._cpu instructions [--clients ours,aiohttp] [--calls 2000]``:
  each client makes ``warmup`` calls, then ``warmup + calls`` calls, each in a
  fresh process under ``valgrind --tool=callgrind``; the difference of the two
  totals over ``calls`` is the instructions per call, with start-up, imports
  and warm-up cancelled out. Repeatable to a fraction of a percent, under any
  load. Needs Debian's ``valgrind``.
* ``python -m bench._cpu profile [--client ours] [--calls 5000]``: cProfile of
  ``calls`` calls after the warm-up, top entries by own time.

The worker (``python -m bench._cpu worker CLIENT URL CALLS CONCURRENCY``) is
what runs under valgrind: the same clients as ``bench._clients``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from aftership_async import Tracking
from aftership_async._generated._converter import CONVERTER

from ._clients import ASYNC_CLIENTS, TRACKING_PREFIX, Sample, _async_client, _drive
from ._server import BENCH_KEY, running_server

__all__ = [
    "INSTRUCTION_CLIENTS",
    "bodies",
    "instructions",
    "main",
    "payload",
    "profile",
    "profile_top",
]


#: Not clients: the typed decode alone (``CONVERTER.structure`` of the parsed
#: ``data``) and the JSON parse alone, of the same answers, one per "call".
DECODERS = ("structure", "json.loads")

#: What ``make bench`` counts: the clients, and the two halves of ours' decode.
INSTRUCTION_CLIENTS = ("ours", "ours-raw", "aiohttp", *DECODERS)


async def _calls(name: str, url: str, ids: Sequence[str], concurrency: int) -> None:
    async with _async_client(name, url, concurrency) as call:
        await _drive(call, ids, concurrency, Sample(name, concurrency, len(ids), 0.0, 0.0))


async def bodies(url: str, ids: Sequence[str]) -> list[bytes]:
    """The server's answer to ``GET /trackings/{id}`` for each id."""
    found = []
    async with aiohttp.ClientSession() as session:
        for tracking_id in ids:
            address = f"{url}{TRACKING_PREFIX}/trackings/{tracking_id}"
            async with session.get(address, headers={"as-api-key": BENCH_KEY}) as response:
                found.append(await response.read())
    return found


def _decode(name: str, url: str, ids: Sequence[str], count: int) -> None:
    """``count`` decodes of the first 200 answers, round robin (always the same fetch)."""
    raw = asyncio.run(bodies(url, ids[:200]))
    parsed = [json.loads(body)["data"] for body in raw]
    structure = CONVERTER.structure
    for i in range(count):
        if name == "structure":
            structure(parsed[i % len(parsed)], Tracking)
        else:
            json.loads(raw[i % len(raw)])


def _worker(name: str, url: str, count: int, concurrency: int) -> None:
    ids = json.loads(sys.stdin.read())
    if name in DECODERS:
        _decode(name, url, ids, count)
    else:
        asyncio.run(_calls(name, url, ids[:count], concurrency))


_TOTALS = re.compile(rb"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def _callgrind(name: str, url: str, ids: Sequence[str], count: int, concurrency: int) -> int:
    """Instructions executed by a worker process making ``count`` calls."""
    with tempfile.TemporaryDirectory(prefix="bench-cg-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                   sys.executable, "-m", "bench._cpu", "worker", name, url, str(count),
                   str(concurrency)]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(command, input=json.dumps(list(ids)).encode(), env=env, check=True,
                       capture_output=True)  # fmt: skip
        found = _TOTALS.search(out.read_bytes())
        if found is None:
            raise RuntimeError("no totals in the callgrind output")
        return int(found.group(1))


def instructions(
    clients: Sequence[str], calls: int = 2000, warmup: int = 300, concurrency: int = 50
) -> dict[str, Any]:
    """Instructions per call of each client (needs ``valgrind``)."""
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed (apt-get install valgrind)"}
    result: dict[str, Any] = {"calls": calls, "warmup": warmup, "concurrency": concurrency}
    with running_server(trackings=max(200, warmup + calls), canned=True) as server:
        for name in clients:
            base = _callgrind(name, server.url, server.ids, warmup, concurrency)
            full = _callgrind(name, server.url, server.ids, warmup + calls, concurrency)
            result[name] = round((full - base) / calls)
            print(f"  {name:<12} {result[name]:>10,} instructions per call", flush=True)
    if "aiohttp" in result:
        result["ratio_to_aiohttp"] = {
            name: round(result[name] / result["aiohttp"], 3)
            for name in clients
            if name != "aiohttp"
        }
    return result


def payload(count: int) -> dict[str, Any]:
    """What the benchmarked answers hold, and what parsing and decoding them cost.

    Microseconds per answer (best of 5 passes over 200 answers) for
    ``json.loads`` alone and for the typed decode alone (``CONVERTER.structure``
    of the parsed ``data``, as ``get_tracking_by_id`` does it).
    """
    with running_server(trackings=min(count, 200), canned=True) as server:
        raw = asyncio.run(bodies(server.url, server.ids[:200]))
    parsed = [json.loads(body)["data"] for body in raw]
    structure = CONVERTER.structure

    def best(run: Callable[[], object]) -> float:
        return min(timeit.repeat(run, number=1, repeat=5)) / len(raw) * 1e6

    checkpoints = [len(data.get("checkpoints") or []) for data in parsed]
    return {
        "answers": len(raw),
        "bytes_mean": round(statistics.mean(map(len, raw))),
        "fields": len(parsed[0]),
        "checkpoints_mean": round(statistics.mean(checkpoints), 2),
        "checkpoints_range": [min(checkpoints), max(checkpoints)],
        "json_loads_us": round(best(lambda: [json.loads(body) for body in raw]), 2),
        "structure_us": round(best(lambda: [structure(data, Tracking) for data in parsed]), 2),
    }


def profile_top(
    name: str, calls: int = 5000, concurrency: int = 50, top: int = 15
) -> list[dict[str, Any]]:
    """The top entries by own time of a cProfile of ``calls`` calls."""
    stats = _profiled(name, calls, concurrency)
    entries = []
    for (filename, line, function), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        entries.append(
            {
                "function": _where(filename, line, function),
                "calls_per_call": round(ncalls / calls, 2),
                "own_us": round(tottime / calls * 1e6, 2),
                "cumulative_us": round(cumtime / calls * 1e6, 2),
            }
        )
    entries.sort(key=lambda e: -e["own_us"])
    return entries[:top]


def _where(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    for marker in ("site-packages/", "/python3.11/", "/work/main/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({function})"


def _profiled(name: str, calls: int, concurrency: int) -> pstats.Stats:
    with running_server(trackings=calls, canned=True) as server:

        async def run() -> cProfile.Profile:
            async with _async_client(name, server.url, concurrency) as call:
                sample = Sample(name, concurrency, 0, 0.0, 0.0)
                await _drive(call, server.ids[:300], concurrency, sample)
                profiler = cProfile.Profile()
                profiler.enable()
                await _drive(call, server.ids, concurrency, sample)
                profiler.disable()
                return profiler

        profiler = asyncio.run(run())
    return pstats.Stats(profiler, stream=io.StringIO())


def profile(name: str, calls: int = 5000, concurrency: int = 50, top: int = 30) -> str:
    """cProfile of ``calls`` calls (after a warm-up), the top entries by own time."""
    stats = _profiled(name, calls, concurrency)
    text = io.StringIO()
    stats.stream = text  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._cpu")
    commands = parser.add_subparsers(dest="command", required=True)
    count = commands.add_parser("instructions", help="callgrind instructions per call")
    count.add_argument("--clients", default="ours,aiohttp")
    count.add_argument("--calls", type=int, default=2000)
    count.add_argument("--warmup", type=int, default=300)
    count.add_argument("--concurrency", type=int, default=50)
    prof = commands.add_parser("profile", help="cProfile, top entries by own time")
    prof.add_argument("--client", default="ours", choices=ASYNC_CLIENTS)
    prof.add_argument("--calls", type=int, default=5000)
    prof.add_argument("--concurrency", type=int, default=50)
    prof.add_argument("--top", type=int, default=30)
    work = commands.add_parser("worker", help="(internal) the process under valgrind")
    work.add_argument("client", choices=ASYNC_CLIENTS + DECODERS)
    work.add_argument("url")
    work.add_argument("calls", type=int)
    work.add_argument("concurrency", type=int)
    args = parser.parse_args(argv)
    if args.command == "instructions":
        clients = [c for c in args.clients.split(",") if c]
        print(json.dumps(instructions(clients, args.calls, args.warmup, args.concurrency)))
    elif args.command == "profile":
        print(profile(args.client, args.calls, args.concurrency, args.top))
    else:
        _worker(args.client, args.url, args.calls, args.concurrency)


if __name__ == "__main__":
    main()

"""The bench's server: a FakeAfterShip in its own process, preloaded with trackings.

It runs in a separate process so that the client's CPU time (measured with
``time.process_time`` in the bench process) excludes the server's, and the
two share the machine's cores the way a client and a remote API would not
share one interpreter.

Run as ``python -m bench._server --trackings N --latency-ms L``; it prints
one JSON line ``{"url": ..., "ids": [...], "numbers": [...]}`` and serves
until its stdin closes or it receives SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from aftership_async.testing import FakeAfterShip

__all__ = ["BENCH_KEY", "RunningServer", "running_server", "tracking_numbers"]

BENCH_KEY = "bench-key"


def tracking_numbers(count: int) -> list[str]:
    """UPS-shaped numbers the fake detects as ``ups``; the same list in every process."""
    return [f"1Z999AA1{i:010d}" for i in range(count)]


@dataclass(frozen=True)
class RunningServer:
    url: str
    ids: list[str]
    numbers: list[str]


@contextmanager
def running_server(
    *,
    trackings: int,
    latency_ms: float = 0.0,
    rate_limit: float | str | None = None,
    canned: bool = False,
) -> Iterator[RunningServer]:
    """Start the server process, wait for its URL, stop it on exit.

    ``canned``: the fast loopback server of ``bench._loopback`` (the fake's
    answers, replayed) instead of the fake itself; it serves only
    ``GET /trackings/{id}`` and has no rate limit.
    """
    if canned and rate_limit is not None:
        raise ValueError("the canned server has no rate limit")
    command = [
        sys.executable,
        "-m",
        "bench._loopback" if canned else "bench._server",
        "--trackings",
        str(trackings),
        "--latency-ms",
        str(latency_ms),
    ]
    if rate_limit is not None:
        command += ["--rate-limit", str(rate_limit)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the bench server exited early ({process.wait()})")
        info = json.loads(line)
        yield RunningServer(url=info["url"], ids=info["ids"], numbers=info["numbers"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeAfterShip(
        api_key=BENCH_KEY,
        latency=args.latency_ms / 1000.0,
        rate_limits=args.rate_limit,
        seed=1,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(OSError, ValueError):  # stdin is a pipe from running_server()
        loop.add_reader(sys.stdin.fileno(), stop.set)  # EOF: the parent went away
    async with fake:
        numbers = tracking_numbers(args.trackings)
        ids = fake.add_trackings(numbers)
        print(json.dumps({"url": fake.url, "ids": ids, "numbers": numbers}), flush=True)
        await stop.wait()


def _rate(value: str) -> float | str:
    return value if value == "documented" else float(value)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._server")
    parser.add_argument("--trackings", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=_rate, default=None)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

"""``python -m aftership_async.testing``: run the fake AfterShip server standalone.

Prints its URL (``http://127.0.0.1:8765``) on stdout as the first line, then
serves until SIGINT or SIGTERM, so scripts and other languages' test suites
can start it as a subprocess and read where to connect.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ._faults import FAULT_KINDS
from ._ratelimit import RateLimitSetting
from ._server import FakeAfterShip


def _rate_limit(text: str) -> RateLimitSetting:
    if text == "off":
        return None
    if text == "documented":
        return "documented"
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number, 'documented' or 'off'") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError("the rate must be positive")
    return rate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aftership_async.testing",
        description="A fake AfterShip Tracking/Shipping/Returns API server for tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        help="requests/second for every endpoint, 'documented' or 'off' (default)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument(
        "--faults",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated subset of {','.join(FAULT_KINDS)}",
    )
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument(
        "--api-secret",
        default=None,
        help="require requests signed with this secret (AES: date + as-signature-hmac-sha256)",
    )
    parser.add_argument(
        "--api-public-key",
        type=Path,
        default=None,
        metavar="PEM_FILE",
        help="require requests signed with the matching RSA private key (as-signature-rsa-sha256)",
    )
    return parser  # fmt: skip


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeAfterShip(
        args.host,
        args.port,
        api_key=args.api_key,
        api_secret=args.api_secret,
        api_public_key=args.api_public_key.read_bytes() if args.api_public_key else None,
        latency=args.latency_ms / 1000.0,
        rate_limits=args.rate_limit,
        fault_rate=args.fault_rate,
        faults=[k for k in args.faults.split(",") if k],
        slow_seconds=args.slow_seconds,
        seed=args.seed,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(fake.url, flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

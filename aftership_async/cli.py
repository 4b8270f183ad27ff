"""``aftership-async``: bulk tracking from the command line.

    aftership-async track numbers.csv --output results.jsonl

reads tracking numbers (TXT: one per line; CSV: ``tracking_number`` and an
optional ``slug`` column), looks each up or creates it, streams one result
per input to JSONL or CSV, shows a progress bar on stderr and ends with a
summary. Without an API key (``--api-key`` or ``$AFTERSHIP_API_KEY``) it
starts the embedded fake server, says so, and runs against it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any, TextIO

from ._bulk import BulkResult, BulkStats, TrackingRef
from ._client import API_KEY_ENV, AfterShip
from ._errors import AfterShipError, APIError, AuthenticationError
from ._policies import RateLimitSetting
from ._redis_limiter import RedisRateLimiter
from ._types import OpenEnum

EXIT_USAGE = 2
EXIT_AUTH = 3

#: The embedded fake server's per-endpoint limit, and the client's when it uses it.
FAKE_RATE_LIMIT = 200.0


def sample_path() -> Path:
    """The bundled sample of 1,000 tracking numbers (two of them malformed)."""
    return Path(str(resources.files("aftership_async") / "data" / "sample_tracking_numbers.csv"))


def read_rows(path: Path) -> Iterator[tuple[int, TrackingRef]]:
    """(line number, reference) per data row, read lazily.

    A malformed row is not an error here: it becomes a reference the bulk
    layer rejects, so it is reported in the results like any failure.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        is_csv = path.suffix.lower() == ".csv" or "," in first
        if not is_csv:
            for number, line in enumerate([first, *f], start=1):
                text = line.strip()
                if text and not text.startswith("#"):
                    yield number, TrackingRef(text)
            return
        header = [c.strip().lower() for c in next(csv.reader([first]), [])]
        has_header = "tracking_number" in header
        number_col = header.index("tracking_number") if has_header else 0
        slug_col = header.index("slug") if has_header and "slug" in header else 1
        width = len(header) if has_header else 2
        lines: Sequence[str] = [] if has_header else [first]
        reader = csv.reader(_chain(lines, f))
        for number, row in enumerate(reader, start=2 if has_header else 1):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > width:
                bad = ",".join(row)  # a comma inside the number: rejected downstream
                yield number, TrackingRef(bad)
                continue
            tracking_number = row[number_col].strip() if number_col < len(row) else ""
            slug = row[slug_col].strip() if slug_col < len(row) else ""
            yield number, TrackingRef(tracking_number, slug or None)


def _chain(first: Sequence[str], rest: IO[str]) -> Iterator[str]:
    yield from first
    yield from rest


class Output:
    """Writes one record per result, as JSONL or CSV, as results arrive."""

    FIELDS = ("line", "tracking_number", "slug", "ok", "created", "id", "tag", "subtag", "error")

    def __init__(self, stream: TextIO, fmt: str) -> None:
        self.stream = stream
        self.fmt = fmt
        self.csv = csv.DictWriter(stream, fieldnames=self.FIELDS) if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writeheader()

    def write(self, line: int, result: BulkResult[Any, Any]) -> None:
        ref: TrackingRef = result.input
        record: dict[str, Any] = {
            "line": line,
            "tracking_number": ref.tracking_number,
            "slug": ref.slug,
            "ok": result.ok,
            "created": result.created,
        }
        if result.value is not None:
            tracking = result.value
            record["slug"] = tracking.slug
            record["id"] = tracking.id
            record["tag"] = _text(tracking.tag)
            record["subtag"] = _text(tracking.subtag)
        if result.error is not None:
            record["error"] = _describe(result.error)
        if self.csv is not None:
            if isinstance(record.get("error"), dict):
                record["error"] = f"{record['error']['type']}: {record['error']['message']}"
            self.csv.writerow(record)
        else:
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def _text(value: Any) -> str | None:
    if isinstance(value, OpenEnum):
        return value.value
    return value if isinstance(value, str) else None


def _describe(error: Exception) -> dict[str, Any]:
    info: dict[str, Any] = {
        "type": type(error).__name__,
        "message": getattr(error, "message", str(error)),
    }
    if isinstance(error, APIError):
        info["code"] = error.code
        info["status"] = error.status_code
    return info


class ProgressBar:
    """A one-line bar on a TTY; otherwise a line every 10%. Silent when quiet."""

    def __init__(self, stream: TextIO, total: int | None, quiet: bool) -> None:
        self.stream = stream
        self.total = total
        self.quiet = quiet
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last_decile = -1
        self._last_draw = 0.0

    def __call__(self, stats: BulkStats) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        rate = stats.done / max(now - self.started, 1e-9)
        if self.tty:
            if now - self._last_draw < 0.05 and stats.done != self.total:
                return
            self._last_draw = now
            if self.total:
                filled = int(30 * stats.done / self.total)
                bar = "#" * filled + "-" * (30 - filled)
                text = f"\r[{bar}] {stats.done}/{self.total} {rate:,.0f}/s errors {stats.failed}"
            else:
                text = f"\r{stats.done} done {rate:,.0f}/s errors {stats.failed}"
            self.stream.write(text)
            self.stream.flush()
        elif self.total:
            decile = 10 * stats.done // self.total
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{stats.done}/{self.total} done, {stats.failed} errors\n")

    def close(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\n")


def _count_rows(path: Path) -> int:
    return sum(1 for _ in read_rows(path))


def _rate_limit(value: str) -> RateLimitSetting:
    if value == "documented":
        return "documented"
    if value in ("off", "none", "0"):
        return None
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use a number, 'documented' or 'off'") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError("the rate must be positive")
    return rate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aftership-async", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    track = commands.add_parser("track", help="look up or create trackings listed in a file")
    track.add_argument(
        "file", type=Path, help="TXT (one number per line) or CSV (tracking_number[,slug])"
    )
    track.add_argument(
        "--output", "-o", type=Path, help="results file (.jsonl or .csv); default stdout"
    )
    track.add_argument("--format", choices=("jsonl", "csv"), help="default: from --output's suffix")
    track.add_argument(
        "--concurrency", type=int, default=32, help="units of work in flight (default 32)"
    )
    track.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="R",
        help="requests/second per endpoint, 'documented' or 'off' (default: documented; "
        f"{FAKE_RATE_LIMIT:g} against the embedded fake server)",
    )
    track.add_argument(
        "--redis",
        metavar="URL",
        help="share one rate budget with every worker on this Redis (redis://, rediss://, "
        "unix://); this run takes at most 80%% of it, see README 'Many workers, one budget'",
    )
    track.add_argument(
        "--redis-namespace",
        default="default",
        metavar="NAME",
        help="the budget's namespace in Redis: the one your services use (default 'default')",
    )
    track.add_argument(
        "--api-key", help=f"AfterShip API key (default ${API_KEY_ENV}); none: embedded fake"
    )
    track.add_argument("--lookup-only", action="store_true", help="do not create missing trackings")
    track.add_argument(
        "--fake-latency-ms",
        type=float,
        default=50.0,
        help="latency of the embedded fake server (default 50)",
    )
    track.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    track.add_argument("--strict", action="store_true", help="exit 1 when any input failed")
    return parser


async def track(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        total = _count_rows(args.file)
    except OSError as exc:
        err.write(f"aftership-async: cannot read {args.file}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    fake = None
    base_url = None
    rate_limit = args.rate_limit
    if not api_key:
        from .testing import FakeAfterShip

        refs = [ref for _, ref in read_rows(args.file)]
        fake = FakeAfterShip(
            latency=args.fake_latency_ms / 1000, rate_limits=FAKE_RATE_LIMIT, seed=7
        )
        base_url = await fake.start()
        # Most numbers already exist, as in a real account; the rest get created.
        for i, ref in enumerate(refs):
            if i % 10 < 7 and _plain(ref):
                # A number the fake cannot place with a courier is left to be created.
                with contextlib.suppress(ValueError):
                    fake.add_trackings([ref.tracking_number], slug=ref.slug)

        api_key = "fake-key"
        rate_limit = FAKE_RATE_LIMIT if rate_limit is None else rate_limit
        err.write(
            f"No API key given: running against the embedded fake AfterShip server at {base_url} "
            f"({args.fake_latency_ms:g} ms latency, {FAKE_RATE_LIMIT:g} req/s per endpoint).\n"
        )
    if rate_limit is None:
        rate_limit = "documented"
    progress = ProgressBar(err, total, args.quiet)
    started = time.monotonic()
    shared = None
    try:
        if args.redis:
            shared = RedisRateLimiter.from_url(
                args.redis, namespace=args.redis_namespace, rate_limit=rate_limit
            )
        async with AfterShip(
            api_key=api_key,
            base_url=base_url,
            rate_limit=shared if shared is not None else rate_limit,
            max_concurrency=max(8, args.concurrency),
        ) as client:
            try:
                await client.tracking.get_user_couriers()
            except AuthenticationError as exc:
                err.write(f"aftership-async: the API key was refused: {exc.message}\n")
                return EXIT_AUTH
            lines: dict[int, int] = {}

            def numbered() -> Iterator[TrackingRef]:
                for index, (line, ref) in enumerate(read_rows(args.file)):
                    lines[index] = line
                    yield ref

            run = (client.bulk.lookup if args.lookup_only else client.bulk.get_or_create)(
                numbered(), concurrency=args.concurrency, progress=progress
            )
            writer = Output(out, args.format)
            tags: Counter[str] = Counter()
            errors: Counter[str] = Counter()
            async for result in run:
                writer.write(lines.pop(result.index), result)
                if result.value is not None:
                    tags[_text(result.value.tag) or "(none)"] += 1
                elif result.error is not None:
                    errors[type(result.error).__name__] += 1
            progress.close()
            elapsed = time.monotonic() - started
            _summary(err, run.stats, tags, errors, elapsed, client)
    finally:
        if shared is not None:
            await shared.aclose()
        if fake is not None:
            await fake.close()
    return 1 if args.strict and run.stats.failed else 0


def _plain(ref: TrackingRef) -> bool:
    number = ref.tracking_number
    return bool(number.strip()) and "," not in number


def _summary(
    err: TextIO,
    stats: BulkStats,
    tags: Counter[str],
    errors: Counter[str],
    elapsed: float,
    client: AfterShip,
) -> None:
    rows: list[tuple[str, str]] = [
        ("inputs", f"{stats.submitted}"),
        ("found", f"{stats.succeeded - stats.created}"),
        ("created", f"{stats.created}"),
        ("failed", f"{stats.failed}"),
    ]
    rows += [(f"  tag {tag}", f"{n}") for tag, n in tags.most_common()]
    rows += [(f"  error {name}", f"{n}") for name, n in errors.most_common()]
    rows += [
        ("elapsed", f"{elapsed:.2f} s"),
        ("throughput", f"{stats.done / max(elapsed, 1e-9):,.0f} items/s"),
        (
            "requests",
            f"{client.stats.requests} ({client.stats.requests / max(elapsed, 1e-9):,.0f}/s)",
        ),
        ("retries", f"{client.stats.retries}"),
        ("429 responses", f"{client.stats.rate_limited}"),
    ]
    width = max(len(k) for k, _ in rows)
    buffer = io.StringIO()
    buffer.write("\nSummary\n")
    for key, value in rows:
        buffer.write(f"  {key.ljust(width)}  {value}\n")
    err.write(buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.concurrency < 1:
        print("aftership-async: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.format is None:
        args.format = "csv" if args.output and args.output.suffix.lower() == ".csv" else "jsonl"
    try:
        if args.output is not None:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                return asyncio.run(track(args, out, sys.stderr))
        return asyncio.run(track(args, sys.stdout, sys.stderr))
    except OSError as exc:
        print(
            f"aftership-async: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aftership-async: interrupted", file=sys.stderr)
        return 130
    except AfterShipError as exc:
        print(f"aftership-async: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

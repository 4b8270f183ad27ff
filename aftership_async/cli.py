"""``aftership-async``: bulk tracking from the command line.

    aftership-async track numbers.csv --output results.jsonl

reads tracking numbers (TXT: one per line; CSV: ``tracking_number`` and an
optional ``slug`` column; ``-`` reads stdin), looks each up or creates it, and
writes one result per input line, JSONL or CSV, each flushed as it completes.
``--resume`` continues an interrupted run from its output file; an existing
output is never replaced unless ``--overwrite`` says so. A progress bar and a
summary go to stderr. It needs an API key (``--api-key`` or
``$AFTERSHIP_API_KEY``); ``--fake`` runs against the embedded fake server,
whose data is invented.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import csv
import datetime as dt
import io
import json
import logging
import os
import signal
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any, TextIO

import attrs

# An application of the SDK: the client comes from the public package, like a
# user's (the cli is not imported by the rest of the runtime).
from aftership_async import AfterShip

from ._bulk import BulkFailure, BulkResult, TrackingRef
from ._client import API_KEY_ENV
from ._errors import AfterShipError, APIError, AuthenticationError, InvalidRequestError
from ._policies import RateLimitSetting
from ._redis_limiter import RedisRateLimiter
from ._types import OpenEnum
from ._version import __version__
from ._versions import support_status, versions_report

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INTERRUPTED = 130

API_SECRET_ENV = "AFTERSHIP_API_SECRET"

#: The embedded fake server's per-endpoint limit, and the client's when it uses it.
FAKE_RATE_LIMIT = 200.0

#: A longer "line" is not a list of tracking numbers (and is not read whole).
MAX_LINE_BYTES = 64 * 1024


class UsageError(Exception):
    """A problem with the command line, the input or the output file: one line, exit 2."""


def sample_path() -> Path:
    """The bundled sample of 1,000 tracking numbers (two of them malformed)."""
    return Path(str(resources.files("aftership_async") / "data" / "sample_tracking_numbers.csv"))


# -- input --------------------------------------------------------------------


@attrs.frozen
class Row:
    """One input line: a reference to look up, or the reason it cannot be."""

    line: int
    ref: TrackingRef
    #: Why the row is rejected before any request (blank, too many columns...).
    problem: str | None = None


def read_rows(path: Path, stream: IO[bytes] | None = None) -> Iterator[Row]:
    """A :class:`Row` per data line of ``path`` (or of ``stream``), read lazily.

    TXT: one number per line, ``#`` comments skipped. CSV (a ``.csv`` name or
    a comma in the first line): ``tracking_number[,slug]``, with an optional
    header naming the columns; each line is parsed on its own, so a broken
    quote spoils only its line. Blank and comma-only lines, rows with too
    many columns and CSV syntax errors become rows with a ``problem``: they
    are reported, not dropped. Raises :class:`UsageError` naming the file and
    line for input that is not UTF-8 text.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    with contextlib.ExitStack() as stack:
        source = stream if stream is not None else stack.enter_context(open(path, "rb"))
        lines = _text_lines(source, name)
        is_csv = path.suffix.lower() == ".csv"
        number_col, slug_col, width = 0, 1, 2
        for number, text in lines:
            stripped = text.strip()
            if number == 1:
                is_csv = is_csv or "," in stripped
                if is_csv:
                    header = [c.strip().lower() for c in next(csv.reader([stripped]), [])]
                    if "tracking_number" in header:
                        number_col = header.index("tracking_number")
                        slug_col = header.index("slug") if "slug" in header else len(header)
                        width = len(header)
                        continue
            if not is_csv:
                if stripped.startswith("#"):
                    continue
                problem = None if stripped else "blank line"
                yield Row(number, TrackingRef(stripped), problem)
                continue
            yield _csv_row(number, stripped, number_col, slug_col, width)


def _csv_row(number: int, text: str, number_col: int, slug_col: int, width: int) -> Row:
    if not text:
        return Row(number, TrackingRef(""), "blank line")
    try:
        cells = next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        reason = "an unterminated quote" if "end of data" in str(exc) else str(exc)
        return Row(number, TrackingRef(text), f"not valid CSV: {reason}")
    if not any(cell.strip() for cell in cells):
        return Row(number, TrackingRef(""), "no tracking number (the row has only commas)")
    if len(cells) > width:
        return Row(
            number,
            TrackingRef(text),
            f"{len(cells)} columns, expected at most {width} (tracking_number,slug)",
        )
    tracking_number = cells[number_col].strip() if number_col < len(cells) else ""
    slug = cells[slug_col].strip() if slug_col < len(cells) else ""
    ref = TrackingRef(tracking_number, slug or None)
    return Row(number, ref, None if tracking_number else "no tracking number")


def _text_lines(source: IO[bytes], name: str) -> Iterator[tuple[int, str]]:
    number = 0
    while True:
        raw = source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise UsageError(
                f"{name}: line {number} is longer than {MAX_LINE_BYTES // 1024} KiB: "
                "not a list of tracking numbers"
            )
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise UsageError(f"{name}: line 1: UTF-16 text; save the file as UTF-8")
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if b"\x00" in raw:
            raise UsageError(
                f"{name}: line {number}: binary data (a NUL byte): "
                "not a text file of tracking numbers"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{name}: line {number}: not UTF-8 text "
                f"(byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            ) from None
        yield number, text


@attrs.define
class Source:
    """The input, opened and checked once: a file is re-read, a pipe is held."""

    path: Path
    total: int
    held: list[Row] | None = None

    def rows(self) -> Iterator[Row]:
        if self.held is not None:
            yield from self.held
        else:
            yield from read_rows(self.path)


def open_input(name: str) -> Source:
    """Open and check the whole input before anything else is touched.

    A regular file is read through once here (to check it and count its
    rows) and again as the run goes; stdin (``-``), a pipe or a device can be
    read only once, so its rows are held in memory.
    """
    path = Path(name)
    if name == "-":
        return _held(path, sys.stdin.buffer)
    try:
        with open(path, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return _held(path, stream)
            total = sum(1 for _ in read_rows(path, stream))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return Source(path, total)


def _held(path: Path, stream: IO[bytes]) -> Source:
    try:
        rows = list(read_rows(path, stream))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return Source(path, len(rows), rows)


# -- output -------------------------------------------------------------------


class Sink:
    """Writes whole records, each at once and unbuffered, to a file descriptor.

    On an output file of ours (opened for appending) a record that could be
    written only in part (a full disk) is taken back, so the file never ends
    in half a record. ``stream`` replaces the descriptor when stdout has none
    (output captured in-process).
    """

    def __init__(
        self,
        fd: int | None,
        name: str,
        *,
        owned: bool,
        rollback: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self.fd = fd
        self.name = name
        self.owned = owned
        self.rollback = rollback
        self.stream = stream

    def write(self, data: bytes) -> None:
        if self.fd is None:
            assert self.stream is not None
            self.stream.write(data.decode("utf-8"))
            self.stream.flush()
            return
        start = os.lseek(self.fd, 0, os.SEEK_END) if self.rollback else 0
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                written += os.write(self.fd, view[written:])
        except BaseException:
            if self.rollback and written:
                os.ftruncate(self.fd, start)  # only the bytes of this record
            raise

    def close(self) -> None:
        if self.owned and self.fd is not None:
            os.close(self.fd)


class Output:
    """Formats one record per result, as JSONL or CSV, and hands it to a sink."""

    FIELDS = ("line", "tracking_number", "slug", "ok", "created", "id", "tag", "subtag", "error")

    def __init__(self, write: Callable[[bytes], None], fmt: str) -> None:
        self._write = write
        self.fmt = fmt

    def header(self) -> None:
        if self.fmt == "csv":
            self._write(_csv_line(self.FIELDS))

    def write(self, line: int, result: BulkResult[Any, Any]) -> None:
        record = self.record(line, result)
        if self.fmt == "csv":
            if isinstance(record.get("error"), dict):
                record["error"] = f"{record['error']['type']}: {record['error']['message']}"
            self._write(_csv_line([record.get(field) for field in self.FIELDS]))
        else:
            try:
                data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate from a server: escaped instead
                data = (json.dumps(record) + "\n").encode("ascii")
            self._write(data)

    @staticmethod
    def record(line: int, result: BulkResult[Any, Any]) -> dict[str, Any]:
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
        return record


def _csv_line(cells: Sequence[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_csv_cell(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8", "replace")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    # One record per line, whatever a server put in a message.
    return str(value).replace("\r", " ").replace("\n", " ")


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


Key = tuple[int, str]


@attrs.define
class OutputPlan:
    """Where results go, decided (and checked) before anything is written."""

    path: Path | None
    fmt: str
    overwrite: bool = False
    #: Records already in the file, by (input line, tracking number).
    answered: set[Key] = attrs.field(factory=set)
    #: The file is new or empty: a CSV needs its header.
    fresh: bool = True


def plan_output(args: argparse.Namespace, source: Source) -> OutputPlan:
    """Check the output file against --resume/--overwrite; read what a resumed run wrote."""
    path: Path | None = args.output
    if path is not None and str(path) == "-":
        path = None
    if path is None:
        if args.resume:
            raise UsageError("--resume needs --output FILE: stdout cannot be resumed")
        return OutputPlan(None, args.format)
    try:
        info = path.stat()
    except FileNotFoundError:
        return OutputPlan(path, args.format)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    if str(source.path) != "-" and _same_file(path, source.path):
        raise UsageError(f"{path} is the input file; choose another --output")
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return OutputPlan(path, args.format, overwrite=args.overwrite)
    if args.overwrite:
        return OutputPlan(path, args.format, overwrite=True)
    if not args.resume:
        raise UsageError(
            f"{path} already exists and is not empty: pass --resume to continue the run "
            "that wrote it, or --overwrite to replace it"
        )
    return OutputPlan(path, args.format, answered=read_answered(path, args.format), fresh=False)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def read_answered(path: Path, fmt: str) -> set[Key]:
    """The (line, tracking number) of every record in an earlier run's output."""
    answered: set[Key] = set()
    try:
        with open(path, "rb") as stream:
            raw_lines = stream.read().splitlines(keepends=True)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.endswith(b"\n"):
            raise UsageError(
                f"{path}: the last line ({number}) is incomplete, left by a run that was "
                "stopped while writing it; delete that line and run again with --resume"
            )
        if fmt == "csv" and number == 1:
            if _csv_cells(raw) != list(Output.FIELDS):
                raise _not_ours(path, number, fmt)
            continue
        key = _record_key(raw, fmt)
        if key is None:
            raise _not_ours(path, number, fmt)
        answered.add(key)
    return answered


def _not_ours(path: Path, number: int, fmt: str) -> UsageError:
    return UsageError(
        f"{path}: line {number} is not an aftership-async {fmt} result; refusing to add "
        "to this file (choose another --output, or --overwrite to replace it)"
    )


def _csv_cells(raw: bytes) -> list[str] | None:
    try:
        return next(csv.reader([raw.decode("utf-8").rstrip("\r\n")], strict=True), [])
    except (ValueError, csv.Error):
        return None


def _record_key(raw: bytes, fmt: str) -> Key | None:
    """(line, tracking number) of one record, or None if it is not one."""
    if fmt == "csv":
        cells = _csv_cells(raw)
        if cells is None or len(cells) != len(Output.FIELDS) or not cells[0].isdigit():
            return None
        return int(cells[0]), cells[1]
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    line, number = record.get("line"), record.get("tracking_number")
    if isinstance(line, int) and not isinstance(line, bool) and isinstance(number, str):
        return line, number
    return None


def open_sink(plan: OutputPlan) -> Sink:
    """Open the output for appending (or replace it with --overwrite); only now."""
    if plan.path is None:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stdout.flush()
        fd = _stdout_fd()
        return Sink(fd, "stdout", owned=False, stream=sys.stdout if fd is None else None)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(plan.path, flags, 0o666)
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if plan.overwrite and regular:
            os.ftruncate(fd, 0)
    except OSError as exc:
        raise UsageError(f"cannot write {plan.path}: {exc.strerror or exc}") from None
    return Sink(fd, str(plan.path), owned=True, rollback=regular)


# -- progress and summary -----------------------------------------------------


class ProgressBar:
    """A one-line bar with an ETA on a TTY; otherwise a line every 10%. Silent when quiet."""

    def __init__(self, stream: TextIO, total: int | None, quiet: bool) -> None:
        self.stream = stream
        self.total = total
        self.quiet = quiet
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last_decile = -1
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, failed: int) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        rate = done / max(now - self.started, 1e-9)
        eta = _eta(self.total - done, rate) if self.total else ""
        if self.tty:
            if now - self._last_draw < 0.05 and done != self.total:
                return
            self._last_draw = now
            self._drawn = True
            if self.total:
                filled = int(30 * done / self.total)
                bar = "#" * filled + "-" * (30 - filled)
                text = (
                    f"\r[{bar}] {done}/{self.total} {rate:,.0f}/s errors {failed} ETA {eta} \x1b[K"
                )
            else:
                text = f"\r{done} done {rate:,.0f}/s errors {failed}\x1b[K"
            self.stream.write(text)
            self.stream.flush()
        elif self.total:
            decile = 10 * done // self.total
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{done}/{self.total} done, {failed} errors, ETA {eta}\n")

    def close(self) -> None:
        if self.tty and not self.quiet and self._drawn:
            self.stream.write("\n")
            self._drawn = False


def _eta(remaining: int, rate: float) -> str:
    if remaining <= 0:
        return "0:00"
    if rate <= 0:
        return "?"
    seconds = int(remaining / rate + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@attrs.define
class Tally:
    """What this run did, for the progress bar and the summary."""

    inputs: int = 0
    resumed: int = 0
    found: int = 0
    created: int = 0
    failed: int = 0
    tags: Counter[str] = attrs.field(factory=Counter)
    errors: Counter[str] = attrs.field(factory=Counter)

    @property
    def done(self) -> int:
        return self.found + self.created + self.failed

    def add(self, result: BulkResult[Any, Any]) -> None:
        if result.value is not None:
            if result.created:
                self.created += 1
            else:
                self.found += 1
            self.tags[_text(result.value.tag) or "(none)"] += 1
        else:
            self.failed += 1
            self.errors[type(result.error).__name__] += 1


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


# -- the command line ---------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The parser; each subcommand adds itself and sets ``handler``."""
    parser = argparse.ArgumentParser(prog="aftership-async", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"aftership-async {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_track(commands)
    _add_versions(commands)
    return parser


def _add_track(commands: Any) -> None:
    track = commands.add_parser(
        "track",
        help="look up or create trackings listed in a file",
        description="Look up (or create) each tracking number of a file; one result per line.",
    )
    track.set_defaults(handler=track_command)
    track.add_argument(
        "file", help="TXT (one number per line) or CSV (tracking_number[,slug]); - for stdin"
    )
    track.add_argument(
        "--output", "-o", type=Path, help="results file (.jsonl or .csv); default stdout"
    )
    track.add_argument("--format", choices=("jsonl", "csv"), help="default: from --output's suffix")
    track.add_argument(
        "--resume",
        action="store_true",
        help="continue the run that wrote --output: skip the inputs it already answered",
    )
    track.add_argument("--overwrite", action="store_true", help="replace a non-empty --output file")
    track.add_argument(
        "--concurrency", type=int, default=32, help="units of work in flight (default 32)"
    )
    track.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="R",
        help="requests/second per endpoint, 'documented' or 'off' (default: documented; "
        f"{FAKE_RATE_LIMIT:g} with --fake)",
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
    track.add_argument("--api-key", help=f"AfterShip API key (default ${API_KEY_ENV})")
    track.add_argument(
        "--api-secret",
        help=f"secret of a signing key (default ${API_SECRET_ENV}); @FILE reads it from "
        "a file, e.g. an RSA key's PEM",
    )
    track.add_argument(
        "--auth", choices=("aes", "rsa"), help="signature scheme of --api-secret (default aes)"
    )
    track.add_argument("--base-url", help="one origin serving all three APIs (a proxy)")
    track.add_argument(
        "--fake",
        action="store_true",
        help="run against the embedded fake AfterShip server (invented data, no key needed)",
    )
    track.add_argument(
        "--fake-latency-ms",
        type=float,
        default=50.0,
        help="latency of the embedded fake server (default 50)",
    )
    track.add_argument("--lookup-only", action="store_true", help="do not create missing trackings")
    track.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    track.add_argument("--strict", action="store_true", help="exit 1 when any input failed")


def _add_versions(commands: Any) -> None:
    versions = commands.add_parser(
        "versions",
        help="each API's pinned version and support window; exit 1 once one has ended",
    )
    versions.set_defaults(handler=versions_command)
    versions.add_argument(
        "--on",
        type=_iso_day,
        metavar="YYYY-MM-DD",
        help="check as of this day instead of today (UTC), e.g. to be warned ahead",
    )


def _iso_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use a date as YYYY-MM-DD") from None


def versions_command(args: argparse.Namespace) -> int:
    """``versions``: the pinned API versions and their support windows."""
    return versions_report(support_status(AfterShip.APIS, args.on), sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        _say(f"aftership-async: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("aftership-async: interrupted")
        return EXIT_INTERRUPTED


def _say(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


@attrs.define
class Credentials:
    api_key: str
    api_secret: str | None
    base_url: str | None


def _credentials(args: argparse.Namespace) -> Credentials | None:
    """The key to use, or None with --fake; a missing or empty key is a UsageError."""
    if args.fake:
        if args.base_url:
            raise UsageError("--fake runs the embedded fake server; it takes no --base-url")
        return None
    key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV)
    if key is None or not key.strip():
        if key is None:
            what = "no API key"
        else:
            what = "--api-key is empty" if args.api_key is not None else f"${API_KEY_ENV} is empty"
        raise UsageError(
            f"{what}: pass --api-key KEY or set ${API_KEY_ENV} "
            "(or --fake to try the embedded fake server, with invented data)"
        )
    secret = args.api_secret if args.api_secret is not None else os.environ.get(API_SECRET_ENV)
    if secret is not None and secret.startswith("@"):
        try:
            secret = Path(secret[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise UsageError(f"cannot read the API secret from {secret[1:]}: {reason}") from None
    if args.auth and not secret:
        raise UsageError(f"--auth {args.auth} needs --api-secret or ${API_SECRET_ENV}")
    return Credentials(key.strip(), secret or None, args.base_url)


def track_command(args: argparse.Namespace) -> int:
    """``track``: everything is checked before the output is touched."""
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite contradict each other: choose one")
    if args.format is None:
        suffix = args.output.suffix.lower() if args.output is not None else ""
        args.format = "csv" if suffix == ".csv" else "jsonl"
    credentials = _credentials(args)
    source = open_input(args.file)
    plan = plan_output(args, source)
    return asyncio.run(Track(args, credentials, source, plan, sys.stderr).run())


class OutputFailed(Exception):
    """Writing a record failed (a closed pipe, a full disk)."""

    def __init__(self, sink: Sink, error: OSError) -> None:
        super().__init__(f"cannot write {sink.name}: {error.strerror or error}")
        self.sink = sink
        self.error = error


class Track:
    """One ``track`` run: the client (or the fake), the bulk run, output, summary."""

    def __init__(
        self,
        args: argparse.Namespace,
        credentials: Credentials | None,
        source: Source,
        plan: OutputPlan,
        err: TextIO,
    ) -> None:
        self.args = args
        self.credentials = credentials
        self.source = source
        self.plan = plan
        self.err = err
        self.tally = Tally(inputs=source.total)
        self.signal: int | None = None
        self.client: AfterShip | None = None
        self.started = time.monotonic()
        self.progress = ProgressBar(err, source.total - len(plan.answered), args.quiet)

    async def run(self) -> int:
        task = asyncio.current_task()
        assert task is not None
        self._catch_signals(task)
        try:
            return await self._run()
        except asyncio.CancelledError:
            if self.signal is None:
                raise
            task.uncancel()
            self.progress.close()
            self._summary(interrupted=True)
            return 128 + self.signal
        except OutputFailed as exc:
            self.progress.close()
            if isinstance(exc.error, BrokenPipeError) and exc.sink.fd == _stdout_fd():
                _silence_stdout()
            _say(f"aftership-async: {exc}")
            return EXIT_FAILED

    def _catch_signals(self, task: asyncio.Task[int]) -> None:
        """First Ctrl-C (or SIGTERM): stop, keep what was written, summarise.

        A second one exits at once; every record written so far is complete.
        """
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            if self.signal is not None:
                os._exit(128 + signum)
            self.signal = signum
            task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, on_signal, signum)

    async def _run(self) -> int:
        fake = None
        if self.credentials is None:
            fake, credentials = await self._start_fake()
        else:
            credentials = self.credentials
        rate_limit = self.args.rate_limit
        if rate_limit is None:
            rate_limit = FAKE_RATE_LIMIT if fake is not None else "documented"
        shared = None
        try:
            if self.args.redis:
                shared = RedisRateLimiter.from_url(
                    self.args.redis, namespace=self.args.redis_namespace, rate_limit=rate_limit
                )
            client = AfterShip(
                api_key=credentials.api_key,
                api_secret=credentials.api_secret,
                auth=self.args.auth,
                base_url=credentials.base_url,
                rate_limit=shared if shared is not None else rate_limit,
                max_concurrency=max(8, self.args.concurrency),
            )
        except AfterShipError as exc:
            if fake is not None:
                await fake.close()
            raise UsageError(str(exc)) from None
        self.client = client
        try:
            async with client:
                try:
                    await client.tracking.get_user_couriers()
                except AuthenticationError as exc:
                    _say(f"aftership-async: the API key was refused: {exc.message}")
                    return EXIT_AUTH
                except AfterShipError as exc:
                    _say(f"aftership-async: cannot reach AfterShip: {exc}")
                    return EXIT_FAILED
                sink = open_sink(self.plan)
                try:
                    await self._track(client, sink)
                finally:
                    sink.close()
        finally:
            if shared is not None:
                await shared.aclose()
            if fake is not None:
                await fake.close()
        self.progress.close()
        self._summary(interrupted=False)
        return EXIT_FAILED if self.args.strict and self.tally.failed else 0

    async def _start_fake(self) -> tuple[Any, Credentials]:
        from .testing import FakeAfterShip

        # The fake's own server logs (a client gone mid-answer on Ctrl-C) are not the user's.
        for name in ("aiohttp", "aftership_async.testing"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        latency = self.args.fake_latency_ms / 1000
        fake = FakeAfterShip(latency=latency, rate_limits=FAKE_RATE_LIMIT, seed=7)
        base_url = await fake.start()
        # Most numbers already exist, as in a real account; the rest get created.
        for i, row in enumerate(self.source.rows()):
            if i % 10 < 7 and row.problem is None and "," not in row.ref.tracking_number:
                # A number the fake cannot place with a courier is left to be created.
                with contextlib.suppress(ValueError):
                    fake.add_trackings([row.ref.tracking_number], slug=row.ref.slug)
        self.err.write(
            f"--fake: running against the embedded fake AfterShip server at {base_url} "
            f"({self.args.fake_latency_ms:g} ms latency, {FAKE_RATE_LIMIT:g} req/s per "
            "endpoint); its trackings are invented.\n"
        )
        return fake, Credentials("fake-key", None, base_url)

    async def _track(self, client: AfterShip, sink: Sink) -> None:
        output = Output(lambda data: self._write(sink, data), self.plan.fmt)
        if self.plan.fresh:
            output.header()
        answered = set(self.plan.answered)
        lines: dict[int, int] = {}

        def pending() -> Iterator[TrackingRef]:
            index = 0
            for row in self.source.rows():
                key = (row.line, row.ref.tracking_number)
                if key in answered:
                    answered.discard(key)
                    self.tally.resumed += 1
                    continue
                if row.problem is not None:
                    error = InvalidRequestError(f"line {row.line}: {row.problem}")
                    self._record(output, row.line, BulkFailure(-1, row.ref, error))
                    continue
                lines[index] = row.line
                index += 1
                yield row.ref

        bulk = client.bulk.lookup if self.args.lookup_only else client.bulk.get_or_create
        run = bulk(pending(), concurrency=self.args.concurrency)
        try:
            async for result in run:
                self._record(output, lines.pop(result.index), result)
        finally:
            await run.aclose()
        if answered:
            self.err.write(
                f"aftership-async: {len(answered)} records in {sink.name} match no line of "
                "the input (was the input changed since?)\n"
            )

    def _record(self, output: Output, line: int, result: BulkResult[Any, Any]) -> None:
        output.write(line, result)
        self.tally.add(result)
        self.progress(self.tally.done, self.tally.failed)

    @staticmethod
    def _write(sink: Sink, data: bytes) -> None:
        try:
            sink.write(data)
        except OSError as exc:
            raise OutputFailed(sink, exc) from None

    def _summary(self, *, interrupted: bool) -> None:
        tally = self.tally
        elapsed = time.monotonic() - self.started
        rows: list[tuple[str, str]] = [("inputs", f"{tally.inputs}")]
        if tally.resumed:
            rows.append(("already answered", f"{tally.resumed}"))
        rows += [
            ("found", f"{tally.found}"),
            ("created", f"{tally.created}"),
            ("failed", f"{tally.failed}"),
        ]
        rows += [(f"  tag {tag}", f"{n}") for tag, n in tally.tags.most_common()]
        rows += [(f"  error {name}", f"{n}") for name, n in tally.errors.most_common()]
        rows += [
            ("elapsed", f"{elapsed:.2f} s"),
            ("throughput", f"{tally.done / max(elapsed, 1e-9):,.0f} items/s"),
        ]
        if self.client is not None:
            stats = self.client.stats
            rows += [
                ("requests", f"{stats.requests} ({stats.requests / max(elapsed, 1e-9):,.0f}/s)"),
                ("retries", f"{stats.retries}"),
                ("429 responses", f"{stats.rate_limited}"),
            ]
        if self.credentials is None:
            rows.append(("server", "embedded fake (--fake): invented data"))
        width = max(len(k) for k, _ in rows)
        buffer = io.StringIO()
        if interrupted:
            left = tally.inputs - tally.resumed - tally.done
            buffer.write(f"\naftership-async: interrupted; {left} inputs not done")
            if self.plan.path is not None:
                buffer.write(f" (rerun with --resume -o {self.plan.path} to finish)")
            buffer.write("\n")
        buffer.write("\nSummary" + (" (partial)" if interrupted else "") + "\n")
        for key, value in rows:
            buffer.write(f"  {key.ljust(width)}  {value}\n")
        with contextlib.suppress(OSError, ValueError):
            self.err.write(buffer.getvalue())
            self.err.flush()


def _stdout_fd() -> int | None:
    try:
        return sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that exiting does not fail on the closed pipe again."""
    fd = _stdout_fd()
    if fd is None:
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())

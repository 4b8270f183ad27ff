"""The bench's fast server for (a) and (b): canned answers, so that the clients are measured.

The fake (``aftership_async.testing.FakeAfterShip``) validates every request
and builds every answer; on the 2 cores a client and its server share, that
work caps every client below the ideal and adds noise of its own. This
server does as little as an HTTP/1.1 server can: a raw asyncio ``Protocol``
with keep-alive, a dict from request target to canned answer, and a timer
per request for the latency.

The answers are the fake's own: at start-up the fake (with the same seed and
trackings the (d)/(e) scenarios use) is asked once for every benchmarked
``GET /tracking/2026-07/trackings/{id}`` and for an unknown id (its 404), and
the bodies are kept byte for byte. Each answer carries the fake's headers:
``as-api-version``, ``X-Request-Id``, ``X-RateLimit-Limit``/``-Remaining``/
``-Reset`` (counted in one-second windows, never enforced: the bench runs
with rate limiting off), ``Content-Type``, ``Content-Length`` and ``Date``.
A request without the bench's ``as-api-key`` is answered 401, as the fake
would.

Run as ``python -m bench._loopback --trackings N --latency-ms L``; it prints one
JSON line ``{"url": ..., "ids": [...], "numbers": [...]}`` (as
``bench._server`` does) and serves until its stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import json
import selectors
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from aftership_async.testing import FakeAfterShip

from ._server import BENCH_KEY, tracking_numbers

__all__ = ["Canned", "capture", "main"]

#: The one benchmarked operation's path prefix (the version aftership-async pins).
PREFIX = "/tracking/2026-07/trackings/"

#: ``X-RateLimit-Limit`` of the canned answers: what this server grants a second.
WINDOW_LIMIT = 1_000_000

_REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}


class Canned:
    """One answer: status, the fake's static headers (ordered) and its body."""

    __slots__ = ("body", "head", "status")

    def __init__(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.body = body
        static = [
            f"{name}: {value}\r\n"
            for name, value in headers
            if name.lower() not in _DYNAMIC and name.lower() != "content-length"
        ]
        self.head = "".join(static).encode("latin-1") + b"Content-Length: %d\r\n" % len(body)


#: Headers made per answer (the rest are the fake's, as it sent them).
_DYNAMIC = frozenset(
    {"x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "date",
     "server"}
)  # fmt: skip


async def capture(fake_url: str, ids: Sequence[str]) -> tuple[dict[str, Canned], Canned, Canned]:
    """The fake's answers: each id's 200, an unknown id's 404, a keyless request's 401."""
    answers: dict[str, Canned] = {}
    headers = {"as-api-key": BENCH_KEY}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as session:

        async def fetch(path: str, key: bool = True) -> Canned:
            async with session.get(fake_url + path, headers=headers if key else {}) as response:
                body = await response.read()
                return Canned(response.status, list(response.headers.items()), body)

        pending = iter(ids)

        async def worker() -> None:
            for tracking_id in pending:
                answer = await fetch(PREFIX + tracking_id)
                if answer.status != 200:
                    raise RuntimeError(f"the fake answered {answer.status} for {tracking_id}")
                answers[PREFIX + tracking_id] = answer

        await asyncio.gather(*(worker() for _ in range(16)))
        missing = await fetch(PREFIX + "0" * 32)
        unauthorized = await fetch(PREFIX + (ids[0] if ids else "0" * 32), key=False)
    assert missing.status == 404 and unauthorized.status == 401
    return answers, missing, unauthorized


class _Clock:
    """Per-second values: the ``Date`` header and the rate-limit window."""

    __slots__ = ("date", "reset", "second", "used")

    def __init__(self) -> None:
        self.second = -1
        self.used = 0
        self.reset = b""
        self.date = b""

    def tick(self) -> None:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.second, self.used = second, 0
            self.reset = b"%d" % (second + 1)
            self.date = email.utils.formatdate(second, usegmt=True).encode()
        self.used += 1


class _Server:
    def __init__(
        self, answers: dict[str, Canned], missing: Canned, unauthorized: Canned, latency: float
    ) -> None:
        self.answers = {path.encode(): answer for path, answer in answers.items()}
        self.missing = missing
        self.unauthorized = unauthorized
        self.latency = latency
        self.key = b"\r\nas-api-key: " + BENCH_KEY.encode()
        self.clock = _Clock()
        self.served = 0

    def answer(self, head: bytes) -> tuple[bytes, bool]:
        """The whole response to one request head, and whether to close after it."""
        lowered = head.lower()
        first = head[: head.find(b"\r\n")]
        parts = first.split(b" ")
        target = parts[1] if len(parts) == 3 else b""
        if self.key not in lowered:
            canned = self.unauthorized
        elif parts[0] == b"GET":
            canned = self.answers.get(target, self.missing)
        else:
            canned = self.missing
        clock = self.clock
        clock.tick()
        self.served += 1
        remaining = WINDOW_LIMIT - clock.used if clock.used < WINDOW_LIMIT else 0
        data = b"".join(
            (
                b"HTTP/1.1 %d %s\r\n" % (canned.status, _REASONS.get(canned.status, b"")),
                b"X-Request-Id: bench-%d\r\n" % self.served,
                canned.head,
                b"X-RateLimit-Limit: %d\r\nX-RateLimit-Remaining: %d\r\nX-RateLimit-Reset: %s\r\n"
                % (WINDOW_LIMIT, remaining, clock.reset),
                b"Date: ",
                clock.date,
                b"\r\n\r\n",
                canned.body,
            )
        )
        return data, b"\r\nconnection: close" in lowered


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; requests are answered in order, after the latency."""

    __slots__ = ("buffer", "loop", "server", "transport")

    def __init__(self, server: _Server, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            start = end + 4
            length = _content_length(head)
            if len(buffer) < start + length:
                break  # the body is still coming
            buffer = buffer[start + length :]
            response, close = self.server.answer(head)
            if self.server.latency > 0:
                self.loop.call_later(self.server.latency, self._send, response, close)
            else:
                self._send(response, close)
        self.buffer = buffer

    def _send(self, response: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(response)
        if close:
            transport.close()


def _content_length(head: bytes) -> int:
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    end = head.find(b"\r\n", at + 2)
    return int(head[at + 17 : end if end > 0 else len(head)].strip() or 0)


async def _serve(args: argparse.Namespace) -> None:
    numbers = tracking_numbers(args.trackings)
    async with FakeAfterShip(api_key=BENCH_KEY, rate_limits=WINDOW_LIMIT, seed=1) as fake:
        ids = fake.add_trackings(numbers)
        answers, missing, unauthorized = await capture(fake.url, ids)
    server = _Server(answers, missing, unauthorized, args.latency_ms / 1000.0)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        lambda: _Connection(server, loop), "127.0.0.1", 0, backlog=1024
    )
    port = listener.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(OSError, ValueError):  # stdin is a pipe from running_server()
        loop.add_reader(sys.stdin.fileno(), stop.set)  # EOF: the parent went away
    info: dict[str, Any] = {"url": f"http://127.0.0.1:{port}", "ids": ids, "numbers": numbers}
    print(json.dumps(info), flush=True)
    async with listener:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._loopback")
    parser.add_argument("--trackings", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    # select(2), not epoll: epoll waits whole milliseconds (rounded up), so every
    # timer fires up to 1 ms late, and the latency would be 50.5 ms on average;
    # select(2) waits microseconds. The few hundred connections fit its 1024 fds.
    with asyncio.Runner(
        loop_factory=lambda: asyncio.SelectorEventLoop(selectors.SelectSelector())
    ) as runner:
        runner.run(_serve(args))


if __name__ == "__main__":
    main()

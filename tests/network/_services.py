"""What the network tests run: a TLS fake, a real HTTP proxy (tinyproxy) and a recording hop.

``make test`` installs Debian's ``tinyproxy`` when it is missing (``make
test-services``). Without it the proxy tests skip with the reason, except
under ``CI=true``, where a missing proxy is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aftership_async.testing import FakeAfterShip

MISSING = (
    "tinyproxy is not installed: `make test` installs Debian's package (apt-get install tinyproxy)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh key and a certificate for 127.0.0.1, signed by itself: (cert, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aftership-async test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fake.crt", directory / "fake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.asynccontextmanager
async def tls_fake(cert: Path, key: Path, **kwargs: object) -> AsyncIterator[FakeAfterShip]:
    """The fake AfterShip (``aftership_async.testing``) served over TLS on 127.0.0.1."""
    fake = FakeAfterShip(**kwargs)  # type: ignore[arg-type]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(fake.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=context)
    await site.start()
    fake.port = port
    fake.url = f"https://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


class Tinyproxy:
    """A tinyproxy process on a free loopback port, with Basic auth and a log file."""

    def __init__(self, *, user: str, password: str) -> None:
        binary = shutil.which("tinyproxy")
        if binary is None:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(MISSING, pytrace=False)
            pytest.skip(MISSING)
        self.port = free_port()
        # Started as root, tinyproxy opens its log as "nobody": a directory of its own
        # that nobody can enter (pytest's tmp_path cannot be), and a log it may write.
        self.directory = Path(tempfile.mkdtemp(prefix="aftership-tinyproxy-"))
        self.directory.chmod(0o755)
        self.log = self.directory / "tinyproxy.log"
        self.log.touch()
        self.log.chmod(0o666)
        config = self.directory / "tinyproxy.conf"
        config.write_text(
            "\n".join(
                [
                    "User nobody",  # used only when started as root
                    "Group nogroup",
                    f"Port {self.port}",
                    "Listen 127.0.0.1",
                    "Allow 127.0.0.1",
                    "Timeout 30",
                    "MaxClients 20",
                    f'LogFile "{self.log}"',
                    "LogLevel Info",
                    f"BasicAuth {user} {password}",
                    "DisableViaHeader Yes",
                    "",
                ]
            )
        )
        self._process = subprocess.Popen(
            [binary, "-d", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"tinyproxy exited with {self._process.returncode}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("tinyproxy did not start listening within 15 s")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """The whole log: the proxy is stopped first (tinyproxy buffers its log file)."""
        self.stop()
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def tinyproxy(*, user: str, password: str) -> Iterator[Tinyproxy]:
    proxy = Tinyproxy(user=user, password=password)
    try:
        yield proxy
    finally:
        proxy.remove()


class RecordingHop:
    """A TCP relay on 127.0.0.1 in front of the proxy, keeping every byte both ways."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.upstream = bytearray()  # client -> proxy
        self.downstream = bytearray()  # proxy -> client
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def seen(self) -> bytes:
        return bytes(self.upstream) + bytes(self.downstream)

    async def __aenter__(self) -> RecordingHop:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pump(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, record: bytearray
        ) -> None:
            try:
                while chunk := await source.read(65536):
                    record.extend(chunk)
                    sink.write(chunk)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.close()

        tasks = [
            asyncio.create_task(pump(reader, up_writer, self.upstream)),
            asyncio.create_task(pump(up_reader, writer, self.downstream)),
        ]
        self._tasks.update(tasks)
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._tasks.difference_update(tasks)

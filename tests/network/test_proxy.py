"""Any network (issue 22, item 2): a real HTTP proxy, HTTPS CONNECT, a private CA, the environment.

Every test runs tinyproxy on 127.0.0.1 (with Basic auth and a log file)
behind a recording hop, in front of the fake AfterShip served over TLS with a
certificate made here and trusted through ``Network(ssl=...)``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aftership_async import (
    NO_RETRY,
    AfterShip,
    APIConnectionError,
    CreateTrackingRequest,
    Network,
)
from aftership_async.testing import FakeAfterShip

from ._services import RecordingHop, Tinyproxy, self_signed_certificate, tinyproxy, tls_fake

pytestmark = pytest.mark.slow  # starts a tinyproxy process

API_KEY = "proxy-test-key-5f2a9c0d7e"
NUMBER = "1Z999AA10123456784"
USER, PASSWORD = "sdk", "proxy-pass-0x71"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path)


@pytest.fixture
def trusted(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def proxy() -> Iterator[Tinyproxy]:
    with tinyproxy(user=USER, password=PASSWORD) as running:
        yield running


@pytest.fixture
async def fake(certificate: tuple[Path, Path]) -> AsyncIterator[FakeAfterShip]:
    async with tls_fake(*certificate, api_key=API_KEY, seed=7) as served:
        yield served


@pytest.fixture
async def hop(proxy: Tinyproxy) -> AsyncIterator[RecordingHop]:
    async with RecordingHop(proxy.port) as relay:
        yield relay


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent")


async def test_https_goes_through_the_proxy_in_a_connect_tunnel(
    fake: FakeAfterShip, proxy: Tinyproxy, hop: RecordingHop, trusted: ssl.SSLContext
) -> None:
    network = Network(proxy=hop.url, proxy_auth=(USER, PASSWORD), ssl=trusted)
    async with AfterShip(api_key=API_KEY, base_url=fake.url, network=network) as client:
        created = await client.tracking.create_tracking(
            CreateTrackingRequest(tracking_number=NUMBER, slug="ups")
        )
        again = await client.tracking.get_tracking_by_id(created.id)
    # The key reached the fake (it answers 401 to any other key) ...
    assert again.tracking_number == NUMBER
    assert fake.stats.requests["create_tracking"] == 1
    assert fake.stats.requests["get_tracking_by_id"] == 1
    # ... through the proxy, as a CONNECT tunnel to the fake's address ...
    host = f"127.0.0.1:{fake.port}".encode()
    assert b"CONNECT " + host + b" HTTP/1.1" in hop.upstream
    assert b"Proxy-Authorization: Basic " in hop.upstream
    log = proxy.log_text()
    assert f"CONNECT 127.0.0.1:{fake.port}" in log
    # ... and neither the proxy's log nor the hop carried it, or anything else, in plain text.
    assert API_KEY not in log
    for secret in (API_KEY.encode(), b"as-api-key", NUMBER.encode(), b"/tracking/2026-07"):
        assert secret not in hop.seen
    assert b"\x16\x03" in hop.upstream  # a TLS handshake went through the tunnel


async def test_the_proxy_refuses_a_client_without_its_credentials(
    fake: FakeAfterShip, proxy: Tinyproxy, hop: RecordingHop, trusted: ssl.SSLContext
) -> None:
    network = Network(proxy=hop.url, ssl=trusted)
    async with AfterShip(
        api_key=API_KEY, base_url=fake.url, network=network, retry=NO_RETRY
    ) as client:
        with pytest.raises(APIConnectionError, match="407") as caught:
            await client.tracking.get_couriers()
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)
    assert sum(fake.stats.requests.values()) == 0
    assert API_KEY.encode() not in hop.seen


async def test_a_private_ca_is_trusted_only_through_ssl(
    fake: FakeAfterShip, trusted: ssl.SSLContext, no_proxy_environment: None
) -> None:
    async with AfterShip(api_key=API_KEY, base_url=fake.url, retry=NO_RETRY) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.tracking.get_couriers()  # the system's CAs do not know it
    assert caught.value.request_sent is False
    assert "certificate" in str(caught.value).lower()
    async with AfterShip(
        api_key=API_KEY, base_url=fake.url, network=Network(ssl=trusted)
    ) as client:
        await client.tracking.get_couriers()
    async with AfterShip(api_key=API_KEY, base_url=fake.url, network=Network(ssl=False)) as client:
        await client.tracking.get_couriers()
    assert fake.stats.requests["get_couriers"] == 2


async def test_trust_env_reads_https_proxy_and_netrc(
    fake: FakeAfterShip,
    proxy: Tinyproxy,
    hop: RecordingHop,
    trusted: ssl.SSLContext,
    no_proxy_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTPS_PROXY", hop.url)
    # Off by default: the environment does not redirect the client.
    async with AfterShip(
        api_key=API_KEY, base_url=fake.url, network=Network(ssl=trusted)
    ) as client:
        await client.tracking.get_couriers()
    assert hop.connections == 0
    # trust_env=True: through the proxy, its credentials from .netrc.
    network = Network(trust_env=True, ssl=trusted)
    async with AfterShip(api_key=API_KEY, base_url=fake.url, network=network) as client:
        await client.tracking.get_couriers()
    assert hop.connections == 1
    assert f"CONNECT 127.0.0.1:{fake.port}".encode() in hop.upstream
    assert API_KEY.encode() not in hop.seen
    # NO_PROXY names the host: straight there.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with AfterShip(api_key=API_KEY, base_url=fake.url, network=network) as client:
        await client.tracking.get_couriers()
    assert hop.connections == 1
    assert fake.stats.requests["get_couriers"] == 3

"""``Network`` options (issue 22, item 2): checked when built, credentials never shown."""

from __future__ import annotations

import ssl

import pytest

from aftership_async import NO_RETRY, AfterShip, APIConnectionError, ConfigurationError, Network

from ._services import free_port

API_KEY = "proxy-test-key-5f2a9c0d7e"


def test_network_options_are_checked_and_never_show_credentials() -> None:
    network = Network(
        proxy="http://u:pw-in-url@proxy.internal:3128",
        proxy_auth=("u", "pw-in-auth"),
        ssl=ssl.create_default_context(),
    )
    for text in (repr(network), str(network), repr(AfterShip(api_key=API_KEY, network=network))):
        assert "pw-in-url" not in text and "pw-in-auth" not in text
    assert "proxy.internal:3128" in repr(network)
    for bad in (
        {"proxy": "socks5://127.0.0.1:1080"},
        {"proxy": "127.0.0.1:3128"},
        {"proxy": "http://127.0.0.1:3128/path"},
        {"proxy_auth": ("u", "p")},  # no proxy
        {"proxy": "http://127.0.0.1:3128", "proxy_auth": "u:p"},
        {"proxy": "http://127.0.0.1:3128", "proxy_auth": ("u:x", "p")},
        {"ssl": "yes"},
        {"ssl": None},
        {"trust_env": "true"},
    ):
        with pytest.raises((ConfigurationError, TypeError)):
            Network(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Network"):
        AfterShip(api_key=API_KEY, network={"proxy": "http://127.0.0.1:3128"})  # type: ignore[arg-type]


async def test_a_proxy_failure_names_neither_key_nor_proxy_password() -> None:
    port = free_port()  # nothing listens there
    network = Network(proxy=f"http://sdk:pw-url-0x9@127.0.0.1:{port}")
    async with AfterShip(
        api_key=API_KEY, network=network, retry=NO_RETRY, rate_limit=None
    ) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.tracking.get_couriers()
    text = str(caught.value) + repr(caught.value) + str(caught.value.cause_message)
    assert "pw-url-0x9" not in text and API_KEY not in text
    assert caught.value.request_sent is False

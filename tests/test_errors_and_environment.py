"""Errors that read well, and configuration from the environment (issue 14, items 4 and 5)."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Iterator

import aiohttp
import pytest
from aioresponses import aioresponses
from multidict import CIMultiDict, CIMultiDictProxy

import aftership_async
from aftership_async import (
    AfterShip,
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    NotFoundError,
    RetryPolicy,
)
from aftership_async._signing import AESSigner

from .conftest import API_KEY

T = "https://api.aftership.com/tracking/2026-07"
COURIERS = {"meta": {"code": 200}, "data": {"total": 0, "couriers": []}}
FAST = RetryPolicy(max_attempts=3, backoff=0.01, max_backoff=0.02)


def test_tracebacks_name_the_public_path() -> None:
    for name in ("NotFoundError", "APIError", "InvalidResponseError", "APITimeoutError"):
        cls = getattr(aftership_async, name)
        assert cls.__module__ == "aftership_async", name
    error = NotFoundError("GET /trackings/{id}: no such tracking", status_code=404, code=4004)
    line = traceback.format_exception_only(type(error), error)[-1]
    assert line.startswith("aftership_async.NotFoundError: ")
    assert "_errors" not in repr(type(error))
    error.headers = CIMultiDictProxy(CIMultiDict({"X-Request-Id": "r1"}))
    copy = pickle.loads(pickle.dumps(error))  # e.g. from a Celery or multiprocessing worker
    assert type(copy) is NotFoundError
    assert (copy.status_code, copy.code, str(copy)) == (404, 4004, str(error))
    assert copy.headers == {"X-Request-Id": "r1"}


async def test_a_connection_error_keeps_its_cause_masked_and_counts_attempts(
    mocked: aioresponses,
) -> None:
    for _ in range(3):
        mocked.get(
            f"{T}/couriers",
            exception=aiohttp.ClientConnectionError(f"reset while sending as-api-key {API_KEY}"),
        )
    async with AfterShip(api_key=API_KEY, retry=FAST, rate_limit=None) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.tracking.get_all_couriers()
    error = info.value
    assert error.cause_type == "ClientConnectionError"
    assert error.cause_message == "reset while sending as-api-key ********"
    assert error.attempts == 3 and error.elapsed is not None and error.elapsed < 5
    assert "gave up after 3 attempts over" in str(error)
    assert API_KEY not in str(error) + repr(error) + repr(error.__dict__)
    assert error.__cause__ is None and error.__suppress_context__


async def test_a_timeout_says_per_attempt_and_in_all(mocked: aioresponses) -> None:
    for _ in range(2):
        mocked.get(f"{T}/couriers", exception=TimeoutError())
    policy = RetryPolicy(max_attempts=2, backoff=0.01, max_backoff=0.02)
    async with AfterShip(api_key=API_KEY, retry=policy, rate_limit=None, timeout=0.5) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.tracking.get_all_couriers()
    text = str(info.value)
    assert "within the 0.5s timeout of an attempt" in text
    assert "gave up after 2 attempts over" in text
    assert info.value.attempts == 2 and info.value.cause_type == "TimeoutError"


async def test_a_single_attempt_says_so(mocked: aioresponses) -> None:
    mocked.get(f"{T}/couriers", exception=aiohttp.ClientConnectionError("refused"))
    async with AfterShip(api_key=API_KEY, retry=aftership_async.NO_RETRY, rate_limit=None) as c:
        with pytest.raises(APIConnectionError, match="gave up after 1 attempt over"):
            await c.tracking.get_all_couriers()


# -- the environment -----------------------------------------------------------

ENV = ("AFTERSHIP_API_KEY", "AFTERSHIP_API_SECRET", "AFTERSHIP_AUTH", "AFTERSHIP_BASE_URL")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in (*ENV, "AFTERSHIP_LOG"):
        monkeypatch.delenv(name, raising=False)
    logger = logging.getLogger("aftership_async")
    handlers, level = list(logger.handlers), logger.level
    yield monkeypatch
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_every_setting_comes_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("AFTERSHIP_API_KEY", API_KEY)
    env.setenv("AFTERSHIP_API_SECRET", "s3cret-0123")
    env.setenv("AFTERSHIP_AUTH", "AES")
    env.setenv("AFTERSHIP_BASE_URL", "http://127.0.0.1:8765")
    client = AfterShip()
    transport = client._transport
    assert isinstance(transport._signer, AESSigner)
    assert transport.base_url(client.tracking.API) == "http://127.0.0.1:8765/tracking/2026-07"
    assert "s3cret" not in repr(client) and API_KEY not in repr(client)


def test_arguments_win_over_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("AFTERSHIP_API_KEY", "from-env")
    env.setenv("AFTERSHIP_API_SECRET", "env-secret")
    env.setenv("AFTERSHIP_BASE_URL", "http://127.0.0.1:1")
    client = AfterShip(api_key=API_KEY, api_secret="", base_url="http://127.0.0.1:2")
    assert client._transport._signer is None  # an explicit "" means: no signing
    assert client._transport._api_key.get() == API_KEY
    assert client._transport.base_url(client.tracking.API).startswith("http://127.0.0.1:2/")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AFTERSHIP_AUTH", "hmac", "AFTERSHIP_AUTH must be 'aes' or 'rsa'"),
        ("AFTERSHIP_LOG", "loud", "AFTERSHIP_LOG must be debug, info or warning"),
        ("AFTERSHIP_BASE_URL", "ftp://example.test", "base URL must be an http"),
    ],
)
def test_bad_environment_values_are_clear_errors(
    env: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    env.setenv("AFTERSHIP_API_KEY", API_KEY)
    env.setenv("AFTERSHIP_API_SECRET", "s")
    env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        AfterShip()


def test_an_empty_key_in_the_environment_is_no_key(env: pytest.MonkeyPatch) -> None:
    env.setenv("AFTERSHIP_API_KEY", "  ")
    with pytest.raises(ConfigurationError, match="no API key"):
        AfterShip()


async def test_aftership_log_debug_logs_requests_without_secrets(
    env: pytest.MonkeyPatch, mocked: aioresponses, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("AFTERSHIP_LOG", "debug")
    mocked.get(f"{T}/couriers", payload=COURIERS)
    async with AfterShip(api_key=API_KEY, api_secret="s3cret-0123", rate_limit=None) as client:
        await client.tracking.get_all_couriers()
    err = capsys.readouterr().err
    assert f"GET {T}/couriers -> 200" in err
    assert API_KEY not in err and "s3cret" not in err
    handlers = logging.getLogger("aftership_async").handlers
    AfterShip(api_key=API_KEY)  # a second client adds no second handler
    assert logging.getLogger("aftership_async").handlers == handlers

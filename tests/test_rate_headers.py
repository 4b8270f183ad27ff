"""The one rate-limit header parser (issue 21 item 3), and everything it feeds.

``read_rate_limit`` reads ``X-RateLimit-*`` and ``RateLimit-*`` (any case), a
reset in Unix seconds, Unix milliseconds or seconds from now (told by
magnitude), and ``Retry-After`` (seconds or an HTTP-date). The retry policy's
429 delay, the in-process limiter, the Redis limiter (tests/redis) and
``APIResponse.rate_limit`` all read through it; the fake sends each API's
spelling as its spec declares, or another one when told to.
"""

from __future__ import annotations

import email.utils
import math
import pickle
import random
import re
import time
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses
from multidict import CIMultiDict

from aftership_async import (
    NO_RETRY,
    AfterShip,
    APIError,
    RateLimitError,
    RateLimitState,
    RetryPolicy,
)
from aftership_async._rate_headers import RateLimitHeaders, read_rate_limit
from aftership_async.testing import FakeAfterShip

from .conftest import _Response

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"

# (headers, expected limit, remaining, reset, retry_after)
TABLE: list[
    tuple[dict[str, str], tuple[float | None, float | None, float | None, float | None]]
] = [
    # Tracking's spelling, a reset in Unix seconds.
    (
        {
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": "3",
            "X-RateLimit-Reset": "1767225601",
        },
        (10, 3, 1767225601, None),
    ),
    # The other APIs' spelling, any case.
    (
        {"ratelimit-limit": "10", "RATELIMIT-REMAINING": "0", "RateLimit-Reset": "1767225602"},
        (10, 0, 1767225602, None),
    ),
    # Unix milliseconds (at least 10**11).
    ({"RateLimit-Reset": "1767225601500"}, (None, None, 1767225601.5, None)),
    ({"X-RateLimit-Reset": "100000000000"}, (None, None, 1e8, None)),
    # Seconds from now (below 10**9).
    ({"RateLimit-Reset": "2"}, (None, None, NOW + 2, None)),
    ({"RateLimit-Reset": "0"}, (None, None, NOW, None)),
    ({"RateLimit-Reset": "999999999"}, (None, None, NOW + 999999999, None)),
    # Unix seconds from 10**9 on.
    ({"RateLimit-Reset": "1000000000"}, (None, None, 1e9, None)),
    # X-RateLimit-* is read first, field by field.
    (
        {"X-RateLimit-Limit": "5", "RateLimit-Limit": "7", "RateLimit-Remaining": "1"},
        (5, 1, None, None),
    ),
    # A value that is not a finite, non-negative number is as if absent (the other spelling counts).
    (
        {"X-RateLimit-Limit": "nan", "RateLimit-Limit": "8", "X-RateLimit-Remaining": "-1"},
        (8, None, None, None),
    ),
    ({"X-RateLimit-Reset": "inf", "RateLimit-Reset": "soon"}, (None, None, None, None)),
    # Retry-After: seconds, or an HTTP-date (past: now).
    ({"Retry-After": "2.5"}, (None, None, None, 2.5)),
    ({"retry-after": "0"}, (None, None, None, 0.0)),
    ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, (None, None, None, 30.0)),
    ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, (None, None, None, 0.0)),
    ({"Retry-After": "-1"}, (None, None, None, None)),
    ({"Retry-After": "1e999"}, (None, None, None, None)),
    ({"Retry-After": "tomorrow"}, (None, None, None, None)),
    ({}, (None, None, None, None)),
]


@pytest.mark.parametrize(("headers", "expected"), TABLE)
def test_the_parser_reads_every_spelling_and_unit(
    headers: dict[str, str],
    expected: tuple[float | None, float | None, float | None, float | None],
) -> None:
    info = read_rate_limit(headers, NOW)
    assert (info.limit, info.remaining, info.reset, info.retry_after) == expected
    # A case-insensitive multidict (the transport's) reads the same.
    again = read_rate_limit(CIMultiDict(headers), NOW)
    assert again == info


def test_a_repeated_header_counts_by_its_last_value() -> None:
    headers = CIMultiDict([("RateLimit-Remaining", "5"), ("ratelimit-remaining", "0")])
    assert read_rate_limit(headers, NOW).remaining == 0


@pytest.mark.parametrize(
    ("info", "refused", "wait"),
    [
        # Nothing remains and the reset is known: until the reset (exact), not Retry-After.
        (RateLimitHeaders(remaining=0, reset=NOW + 0.4, retry_after=1), False, 0.4),
        # A 429 means nothing remains, whatever the headers say.
        (RateLimitHeaders(reset=NOW + 0.7), True, 0.7),
        # A reset already past still waits a moment (the window ends on the next second).
        (RateLimitHeaders(remaining=0, reset=NOW - 5), False, 0.05),
        # Otherwise Retry-After, when sent.
        (RateLimitHeaders(remaining=3, reset=NOW + 0.4, retry_after=2), False, 2),
        (RateLimitHeaders(retry_after=2), True, 2),
        # Room left and no Retry-After: nothing asked.
        (RateLimitHeaders(limit=10, remaining=3, reset=NOW + 0.4), False, None),
        (RateLimitHeaders(), True, None),
    ],
)
def test_one_rule_for_how_long_to_hold_off(
    info: RateLimitHeaders, refused: bool, wait: float | None
) -> None:
    got = info.wait(NOW, refused=refused)
    assert got == wait or (
        got is not None and wait is not None and math.isclose(got, wait, abs_tol=1e-6)
    )


def test_the_retry_policy_waits_for_a_reset_in_milliseconds_or_a_delta() -> None:
    policy = RetryPolicy(backoff=0.01, max_backoff=0.01)
    rng = random.Random(0)
    for headers in (
        {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int((time.time() + 3) * 1000))},
        {"ratelimit-reset": "3"},  # delta-seconds, on a 429
    ):
        error = RateLimitError("slow down", status_code=429, headers=headers)
        delay = policy.delay(error, 1, rng)
        assert delay is not None and 2.5 < delay <= 3.01, (headers, delay)


async def test_raw_responses_read_the_other_spelling(
    mocked: aioresponses, client: AfterShip
) -> None:
    reset_ms = 1_767_225_601_250
    mocked.get(
        f"{S}/labels",
        payload={"meta": {"code": 200}, "data": {"labels": []}},
        headers={
            "RateLimit-Limit": "10",
            "RateLimit-Remaining": "9",
            "RateLimit-Reset": str(reset_ms),
            "as-trace-id": "trace-abc",
            "X-Request-Id": "req-1",
        },
    )
    response = await client.shipping.with_raw_response.get_labels()
    assert response.rate_limit == RateLimitState(limit=10, remaining=9, reset=1767225601.25)
    assert response.trace_id == "trace-abc" and response.request_id == "req-1"
    assert "trace_id='trace-abc'" in repr(response)


async def test_an_error_carries_the_trace_id(mocked: aioresponses, client: AfterShip) -> None:
    mocked.get(
        f"{T}/trackings/t1",
        status=404,
        payload={"meta": {"code": 4004, "message": "Tracking does not exist."}, "data": {}},
        headers={"as-trace-id": "trace-404", "x-request-id": "req-404"},
    )
    with pytest.raises(APIError) as info:
        await client.tracking.get_tracking_by_id("t1")
    assert info.value.trace_id == "trace-404" and info.value.request_id == "req-404"
    assert str(info.value).endswith("[request id req-404, trace id trace-404]")
    assert pickle.loads(pickle.dumps(info.value)).trace_id == "trace-404"  # a worker's error


async def test_the_in_process_limiter_waits_for_a_reset_in_milliseconds(
    mocked: aioresponses,
) -> None:
    """A 429 spelt RateLimit-* with a reset in ms holds the endpoint until that reset."""
    reset = time.time() + 0.6
    sent: list[float] = []

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        sent.append(time.time())
        if len(sent) == 1:
            return CallbackResult(
                status=429,
                payload={"meta": {"code": 429, "message": "slow down"}, "data": {}},
                headers={
                    "RateLimit-Limit": "10",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(int(reset * 1000)),
                },
                response_class=_Response,
            )
        return CallbackResult(
            payload={"meta": {"code": 200}, "data": {"labels": []}}, response_class=_Response
        )

    mocked.get(
        re.compile(rf"^{re.escape(S)}/labels.*"),
        callback=answer,
        repeat=True,
        response_class=_Response,
    )
    async with AfterShip(api_key="k", retry=NO_RETRY) as client:
        with pytest.raises(RateLimitError):
            await client.shipping.with_raw_response.get_labels()
        await client.shipping.with_raw_response.get_labels()
    assert len(sent) == 2
    assert sent[1] >= reset - 0.01  # held until the reset the 429 named (a lower bound)


@pytest.mark.parametrize(
    "style",
    [
        {"prefix": "RateLimit-", "reset": "unix-milliseconds"},
        {"prefix": "RateLimit-", "reset": "delta-seconds"},
        {"prefix": "X-RateLimit-", "reset": "unix-milliseconds"},
        {"prefix": "X-RateLimit-", "reset": "unix-seconds"},
    ],
)
async def test_the_fake_sends_any_spelling_and_the_client_reads_it(style: dict[str, str]) -> None:
    async with (
        FakeAfterShip(rate_limits="documented", rate_limit_headers={"shipping": style}) as fake,
        AfterShip(api_key="k", base_url=fake.url, retry=NO_RETRY) as client,
    ):
        before = time.time()
        response = await client.shipping.with_raw_response.get_labels()
        after = time.time()
        assert {k.lower() for k in response.headers} >= {
            style["prefix"].lower() + "limit",
            style["prefix"].lower() + "reset",
        }
        state = response.rate_limit
        assert state.limit == 10 and state.remaining is not None and state.remaining < 10
        # Whatever the unit on the wire, the reset is the Unix second the window ends.
        assert state.reset is not None and math.floor(before) < state.reset <= math.ceil(after) + 1
        assert response.trace_id is not None
        assert response.trace_id == response.headers["as-trace-id"]


async def test_each_api_sends_the_spelling_its_spec_declares() -> None:
    async with (
        FakeAfterShip(rate_limits="documented") as fake,
        AfterShip(api_key="k", base_url=fake.url, retry=NO_RETRY) as client,
    ):
        tracking = await client.tracking.with_raw_response.get_trackings()
        shipping = await client.shipping.with_raw_response.get_labels()
        returns = await client.returns.with_raw_response.get_returns()
    assert "X-RateLimit-Limit" in tracking.headers
    assert "RateLimit-Limit" in shipping.headers and "X-RateLimit-Limit" not in shipping.headers
    assert "RateLimit-Limit" in returns.headers
    for response, limit in ((tracking, 6), (shipping, 10), (returns, 10)):
        assert response.rate_limit.limit == limit


def test_the_fake_refuses_an_unknown_style() -> None:
    with pytest.raises(ValueError, match="rate-limit header style"):
        FakeAfterShip(rate_limit_headers={"shipping": {"prefix": "Rate-"}})
    with pytest.raises(ValueError, match="unknown APIs"):
        FakeAfterShip(rate_limit_headers={"postmen": {}})


def test_no_other_runtime_module_reads_a_rate_limit_header() -> None:
    """The one parser is the only place a header name is spelt (docstrings aside)."""
    import ast
    from pathlib import Path

    import aftership_async

    root = Path(aftership_async.__file__).parent
    for path in sorted(root.glob("*.py")):
        if path.name == "_rate_headers.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings:
                    continue
                text = node.value.lower()
                assert "ratelimit-" not in text and "retry-after" not in text, (
                    path.name,
                    node.value,
                )

"""The versions the SDK watches: the pin, its support window, and what answers.

AfterShip serves a retired version silently with the oldest supported one and
names it in ``as-api-version`` (webhooks: ``as-webhook-version``); the client
must say so, once, rather than decode answers of another shape in silence.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import subprocess
import sys
import warnings

import pytest
from aioresponses import aioresponses

import aftership_async
from aftership_async import (
    API_VERSIONS,
    NO_RETRY,
    TRACKING_WEBHOOK_VERSION,
    AfterShip,
    AfterShipVersionWarning,
    parse_webhook,
)
from aftership_async._generated._client import API_DESCRIPTIONS
from aftership_async._versions import support_status, versions_report

from .conftest import API_KEY
from .security.test_webhooks import SECRET, event_payload, signed

T = "https://api.aftership.com/tracking/2026-07"
S = "https://api.aftership.com/postmen/v3"
COURIERS = {"meta": {"code": 200}, "data": {"total": 0, "couriers": []}}
LABEL = {
    "meta": {"code": 200, "message": "OK", "details": []},
    "data": {"id": "l1", "status": "created"},
}


def test_the_warning_is_a_public_user_warning() -> None:
    assert issubclass(AfterShipVersionWarning, UserWarning)
    assert "AfterShipVersionWarning" in aftership_async.__all__
    assert API_VERSIONS["tracking"] == "2026-07"


async def test_a_different_served_version_warns_once_per_api_and_version(
    mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        mocked.get(f"{T}/couriers", payload=COURIERS, headers={"as-api-version": "2025-07"})
    mocked.get(f"{T}/couriers", payload=COURIERS, headers={"as-api-version": "2026-01"})
    mocked.get(f"{T}/couriers", payload=COURIERS, headers={"as-api-version": "2026-07"})
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            for _ in range(3):
                assert (await client.tracking.get_all_couriers()).total == 0
            await client.tracking.get_all_couriers()  # another served version: warns again
            await client.tracking.get_all_couriers()  # the pinned one: silent
    messages = [str(w.message) for w in caught if issubclass(w.category, AfterShipVersionWarning)]
    assert len(messages) == 2
    assert "version 2025-07" in messages[0] and "pinned to 2026-07" in messages[0]
    assert "version 2026-01" in messages[1]
    assert "aftership-async versions" in messages[0]  # what to do
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == messages
    assert API_KEY not in "".join(messages) + caplog.text


async def test_each_client_watches_for_itself(mocked: aioresponses) -> None:
    for _ in range(2):
        mocked.get(f"{T}/couriers", payload=COURIERS, headers={"as-api-version": "2025-07"})
    for _ in range(2):
        async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
            with pytest.warns(AfterShipVersionWarning, match="2025-07"):
                await client.tracking.get_all_couriers()


async def test_error_answers_are_watched_too(mocked: aioresponses) -> None:
    mocked.get(
        f"{T}/couriers",
        status=404,
        payload={"meta": {"code": 404, "type": "NotFound", "message": "no"}},
        headers={"as-api-version": "2025-04"},
    )
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        with (
            pytest.warns(AfterShipVersionWarning, match="2025-04"),
            pytest.raises(aftership_async.NotFoundError),
        ):
            await client.tracking.get_all_couriers()


async def test_no_header_or_the_pinned_version_is_silent(mocked: aioresponses) -> None:
    mocked.get(f"{S}/labels/l1", payload=LABEL)  # Postmen v3: no as-api-version at all
    mocked.get(f"{S}/labels/l1", payload=LABEL, headers={"as-api-version": "v3"})
    async with AfterShip(api_key=API_KEY, retry=NO_RETRY, rate_limit=None) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error", AfterShipVersionWarning)
            await client.shipping.get_label_by_id("l1")
            await client.shipping.get_label_by_id("l1")


# -- webhooks ---------------------------------------------------------------


def test_a_webhook_exposes_its_version_and_warns_once_on_a_mismatch() -> None:
    body, headers = signed(event_payload())
    with warnings.catch_warnings():
        warnings.simplefilter("error", AfterShipVersionWarning)
        event = parse_webhook(body, {**headers, "As-Webhook-Version": "2026-07"}, SECRET)
    assert event.webhook_version == TRACKING_WEBHOOK_VERSION == "2026-07"
    assert parse_webhook(body, headers, SECRET).webhook_version is None

    old = {**headers, "as-webhook-version": "2024-10"}
    with pytest.warns(AfterShipVersionWarning, match="webhook of version 2024-10"):
        event = parse_webhook(body, old, SECRET)
    assert event.webhook_version == "2024-10"
    with warnings.catch_warnings():
        warnings.simplefilter("error", AfterShipVersionWarning)
        parse_webhook(body, old, SECRET)  # once per version


# -- support windows and the versions command --------------------------------


def test_support_status_reads_the_windows_from_the_spec() -> None:
    by_api = {s.api: s for s in support_status(API_DESCRIPTIONS, dt.date(2027, 1, 1))}
    tracking = by_api["tracking"]
    assert (tracking.version, tracking.released) == ("2026-07", dt.date(2026, 7, 9))
    assert tracking.supported_until == dt.date(2029, 7, 12)
    assert (
        not tracking.expired
        and tracking.days_left == (dt.date(2029, 7, 12) - dt.date(2027, 1, 1)).days
    )
    assert by_api["shipping"].supported_until is None and not by_api["shipping"].expired
    late = {s.api: s for s in support_status(API_DESCRIPTIONS, dt.date(2029, 7, 13))}
    assert late["tracking"].expired and late["returns"].expired
    assert not support_status(API_DESCRIPTIONS, dt.date(2029, 7, 12))[0].expired  # last day


def test_versions_report_fails_once_a_pin_has_ended() -> None:
    out = io.StringIO()
    assert versions_report(support_status(API_DESCRIPTIONS, dt.date(2027, 1, 1)), out) == 0
    assert "tracking   2026-07" in out.getvalue()
    out = io.StringIO()
    assert versions_report(support_status(API_DESCRIPTIONS, dt.date(2030, 1, 1)), out) == 1
    assert "RETIRED" in out.getvalue() and "tracking 2026-07" in out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(("day", "code"), [(None, 0), ("2029-07-12", 0), ("2029-07-13", 1)])
def test_the_versions_command(day: str | None, code: int) -> None:
    argv = [sys.executable, "-m", "aftership_async.cli", "versions"] + (
        ["--on", day] if day else []
    )
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert run.returncode == code, run.stderr
    for api, version in API_VERSIONS.items():
        assert f"{api:<10} {version}" in run.stdout
    assert ("RETIRED" in run.stdout) == bool(code)


@pytest.mark.slow
def test_the_versions_command_refuses_a_bad_date() -> None:
    argv = [sys.executable, "-m", "aftership_async.cli", "versions", "--on", "soon"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr

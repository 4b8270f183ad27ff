"""API versions: ``as-api-version`` on every answer, retired Tracking versions served by 2026-07.

AfterShip answers a request for a version out of support with a version it
still supports and names it in ``as-api-version``; the fake answers every
known, released Tracking version with the one it implements (its spec's
pin), and a version never released with a 404.
"""

from __future__ import annotations

import datetime as dt
import warnings

import aiohttp
import attrs
import pytest

from aftership_async import AfterShip, AfterShipVersionWarning, Tracking
from aftership_async._generated.tracking.api import TrackingAPI
from aftership_async.testing import FakeAfterShip
from aftership_async.testing._versions import TRACKING_VERSIONS, route_version, split_version

from .helpers import body, client_for, spec_document

SERVED = {
    api: spec_document(api)["x-aftership"]["version"] for api in ("tracking", "shipping", "returns")
}


def test_each_api_declares_the_version_it_serves() -> None:
    assert SERVED == {"tracking": "2026-07", "shipping": "v3", "returns": "2026-07"}


async def test_as_api_version_on_every_answer_of_every_api() -> None:
    """Successes, 401, 404, 405, 400 and 429, for the three APIs."""
    answers: list[tuple[str, str, int, str | None]] = []
    async with (
        FakeAfterShip(api_key="k", rate_limits={"GET /couriers": 1.0, "GET /couriers/detect": 1.0,
                                                "GET /item-tags": 1.0}) as fake,
        aiohttp.ClientSession() as session,
    ):  # fmt: skip
        good, bad = {"as-api-key": "k"}, {"as-api-key": "wrong"}
        cases = [
            ("tracking", "GET", "/tracking/2026-07/couriers", good),  # 200
            ("tracking", "GET", "/tracking/2026-07/couriers", good),  # 429 (1/s)
            ("tracking", "GET", "/tracking/2026-07/trackings", bad),  # 401
            ("tracking", "GET", "/tracking/2026-07/nothing", good),  # 404
            ("tracking", "PATCH", "/tracking/2026-07/trackings", good),  # 405
            ("tracking", "GET", "/tracking/2026-07/trackings?limit=0", good),  # 400
            ("tracking", "GET", "/tracking/2026-07/courier-connections/nope", good),  # 404
            ("shipping", "GET", "/postmen/v3/couriers", good),
            ("shipping", "GET", "/postmen/v3/labels", bad),
            ("shipping", "GET", "/postmen/v3/nothing", good),
            ("returns", "GET", "/returns/2026-07/item-tags", good),
            ("returns", "GET", "/returns/2026-07/item-tags", good),  # 429
            ("returns", "GET", "/returns/2026-07/returns", bad),
            ("returns", "GET", "/returns/2026-07/returns/nope", good),
        ]
        for api, method, path, headers in cases:
            async with session.request(method, fake.url + path, headers=headers) as resp:
                await resp.read()
                answers.append((api, path, resp.status, resp.headers.get("as-api-version")))
        async with session.get(fake.url + "/elsewhere/v1/x", headers=good) as resp:
            assert resp.status == 404
            assert "as-api-version" not in resp.headers  # no API answered
    statuses = {status for _, _, status, _ in answers}
    assert statuses >= {200, 400, 401, 404, 405, 429}
    for api, path, status, version in answers:
        assert version == SERVED[api], (path, status)


@pytest.mark.parametrize("kind", ["500", "503", "429", "truncated", "malformed", "slow"])
async def test_as_api_version_on_faults_with_an_api_body(kind: str) -> None:
    async with (
        FakeAfterShip(fault_rate=1.0, faults=[kind], slow_seconds=0.01) as fake,
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
    ):
        for api, path in (("tracking", "/tracking/2026-07/trackings"),
                          ("shipping", "/postmen/v3/labels"),
                          ("returns", "/returns/2026-07/returns")):  # fmt: skip
            async with session.get(fake.url + path) as resp:
                await resp.read()
                assert resp.status != 200 or kind in ("truncated", "malformed")
                assert resp.headers["as-api-version"] == SERVED[api], (kind, api)


async def test_a_proxys_html_502_carries_no_api_version() -> None:
    async with (
        FakeAfterShip(fault_rate=1.0, faults=["502_html"]) as fake,
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
        session.get(fake.url + "/tracking/2026-07/trackings") as resp,
    ):
        assert resp.status == 502 and resp.content_type == "text/html"
        assert "as-api-version" not in resp.headers


@pytest.mark.parametrize("retired", ["2025-01", "2025-04", "2024-10", "2023-10"])
async def test_a_retired_tracking_version_is_served_by_2026_07(retired: str) -> None:
    async with (
        FakeAfterShip(seed=5) as fake,
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
    ):
        ids = fake.add_trackings(["1Z0000000000000001", "123456789012"])
        async with session.get(f"{fake.url}/tracking/{retired}/trackings/{ids[0]}") as resp:
            assert resp.status == 200
            assert resp.headers["as-api-version"] == "2026-07"
            tracking = (await resp.json())["data"]
        points = tracking["checkpoints"]
        assert points and all("postal_code" in p and "zip" not in p for p in points)  # 2026-07
        assert all(p["hash"] for p in points)
        assert "tracking_postal_code" not in tracking
        async with session.get(f"{fake.url}/tracking/{retired}/couriers?active=true") as resp:
            assert resp.status == 200  # 2026-07's GET /couriers with its `active` filter
            assert resp.headers["as-api-version"] == "2026-07"
            couriers = (await resp.json())["data"]["couriers"]
            assert couriers and all(c["slug"] in {"ups", "fedex", "usps", "dhl", "amazon"}
                                    for c in couriers)  # fmt: skip
        # what 2026-07 no longer has is gone, whatever version was asked for
        async with session.get(f"{fake.url}/tracking/{retired}/couriers/all") as resp:
            assert resp.status == 404
            assert resp.headers["as-api-version"] == "2026-07"
    assert fake.stats.versions[f"tracking {retired} -> 2026-07"] == 3
    assert fake.stats.requests["get_couriers"] == 1


@pytest.mark.parametrize("version", ["2030-01", "1999-01", "v4", "latest"])
async def test_an_unknown_tracking_version_is_a_404(version: str) -> None:
    async with (
        FakeAfterShip() as fake,
        aiohttp.ClientSession(headers={"as-api-key": "k"}) as session,
        session.get(f"{fake.url}/tracking/{version}/trackings") as resp,
    ):
        payload = await resp.json()
        assert resp.status == 404
        assert payload["meta"] == {
            "code": 404,
            "message": "The URI requested is invalid or the resource does not exist.",
            "type": "NotFound",
        }
        assert resp.headers["as-api-version"] == "2026-07"
        assert fake.stats.requests == {}


def test_the_version_table() -> None:
    day = dt.date(2026, 11, 29)
    routes = {v.version: route_version("tracking", "2026-07", v.version, day)
              for v in TRACKING_VERSIONS}  # fmt: skip
    assert {v: (r.served, r.reason) for v, r in routes.items()} == {
        "2023-10": ("2026-07", "retired"),
        "2024-04": ("2026-07", "retired"),
        "2024-07": ("2026-07", "retired"),
        "2024-10": ("2026-07", "retired"),
        "2025-01": ("2026-07", "retired"),
        "2025-04": ("2026-07", "retired"),
        "2025-07": ("2026-07", "not implemented"),
        "2026-01": ("2026-07", "not implemented"),
        "2026-07": ("2026-07", "pinned"),
        "2027-01": (None, "unreleased"),
    }
    # the window's edges: 2025-01 is supported through 2026-07-08, 2027-01 released 2027-01-14
    assert route_version("tracking", "2026-07", "2025-01", dt.date(2026, 7, 8)).reason == (
        "not implemented"
    )
    assert route_version("tracking", "2026-07", "2025-01", dt.date(2026, 7, 9)).reason == "retired"
    assert route_version("tracking", "2026-07", "2027-01", dt.date(2027, 1, 14)).served == "2026-07"
    assert route_version("tracking", "2026-07", "2030-01", day).reason == "unknown"
    assert route_version("returns", "2026-07", "2025-07", day).served is None  # no table: 404
    versions = [v.version for v in TRACKING_VERSIONS]
    assert versions == sorted(versions)
    assert all(
        v.supported_until is None or v.released < v.supported_until for v in TRACKING_VERSIONS
    )


def test_split_version() -> None:
    assert split_version("/tracking/2026-07", "/tracking/2025-01/trackings/x") == (
        "2025-01",
        "/trackings/x",
    )
    assert split_version("/tracking/2026-07", "/tracking/2025-01") == ("2025-01", "/")
    assert split_version("/tracking/2026-07", "/returns/2025-01/returns") is None
    assert split_version("/postmen/v3", "/postmen/v2/labels") == ("v2", "/labels")


async def test_a_client_on_a_retired_base_url_is_served_and_decodes() -> None:
    """``base_urls`` aimed at /tracking/2025-01: answered by 2026-07, decoded by 2026-07 models."""
    async with FakeAfterShip(seed=2) as fake:
        ids = fake.add_trackings(["1Z0000000000000003", "123456789012"])
        async with client_for(fake) as pinned:
            expected = await pinned.tracking.get_tracking_by_id(ids[0])
        async with AfterShip(
            api_key="k", base_urls={"tracking": fake.url + "/tracking/2025-01"}, rate_limit=None
        ) as client:
            with pytest.warns(AfterShipVersionWarning, match="asks for version 2025-01") as seen:
                got = await client.tracking.get_tracking_by_id(ids[0])
                page = await client.tracking.get_trackings()
                couriers = await client.tracking.get_user_couriers()
    assert len([w for w in seen if issubclass(w.category, AfterShipVersionWarning)]) == 1
    assert isinstance(got, Tracking) and got == expected
    assert {t.id for t in page.trackings} == set(ids)
    assert couriers.couriers and all(c.slug for c in couriers.couriers)
    assert fake.stats.versions["tracking 2025-01 -> 2026-07"] == 3


async def test_a_client_pinned_to_2025_01_warns_once_end_to_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An aftership-async pinned to 2025-01 meets the fake: it is served 2026-07, and warned once.

    The pin is the generated ``TrackingAPI.API`` (what a build from the 2025-01
    spec would carry); the fake, like AfterShip, answers the retired version
    with 2026-07 and says so in ``as-api-version``.
    """
    old = attrs.evolve(
        TrackingAPI.API,
        version="2025-01",
        base_url="https://api.aftership.com/tracking/2025-01",
        released="2025-01-09",
        supported_until="2026-07-08",
    )
    monkeypatch.setattr(TrackingAPI, "API", old)
    async with FakeAfterShip(seed=4) as fake:
        ids = fake.add_trackings(["1Z0000000000000004", "123456789012"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with AfterShip(
                api_key="k", base_urls={"tracking": fake.url + "/tracking/2025-01"},
                rate_limit=None,
            ) as client:  # fmt: skip
                got = await client.tracking.get_tracking_by_id(ids[0])
                await client.tracking.get_trackings(limit=1)
                await client.tracking.get_couriers(active=True)
                created = await client.tracking.create_tracking(
                    body("CreateTrackingRequest", {"tracking_number": "1Z0000000000000005"})
                )
    assert got.id == ids[0] and created.slug == "ups"
    assert got.checkpoints is not None and all(p.postal_code for p in got.checkpoints)
    version_warnings = [w for w in caught if issubclass(w.category, AfterShipVersionWarning)]
    assert len(version_warnings) == 1, [str(w.message) for w in version_warnings]
    message = str(version_warnings[0].message)
    assert "2026-07" in message and "2025-01" in message and "tracking" in message
    assert fake.stats.versions["tracking 2025-01 -> 2026-07"] == 4


async def test_serve_versions_makes_the_fake_answer_another_version() -> None:
    """A user's test of their AfterShipVersionWarning handling, end to end."""
    with pytest.raises(ValueError, match="serve_versions"):
        FakeAfterShip(serve_versions={"trackings": "2027-01"})
    async with FakeAfterShip(serve_versions={"tracking": "2027-01"}) as fake:
        async with AfterShip(api_key="k", base_url=fake.url, rate_limit=None) as client:
            with pytest.warns(AfterShipVersionWarning, match="2027-01") as seen:
                await client.tracking.get_couriers()
                await client.tracking.get_couriers()  # warned once
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # Shipping still answers its pinned version
                await client.shipping.get_couriers()
    assert len([w for w in seen if issubclass(w.category, AfterShipVersionWarning)]) == 1

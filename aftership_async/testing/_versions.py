"""Which API versions the fake answers, and with which version.

AfterShip does not refuse a request for a version that left its support
window: it serves it with the oldest version it still supports and names
that version in the ``as-api-version`` response header (tracking-api.md
§1b). The fake implements one version per API, the one its spec pins, so a
request for any other *known, released* version is served by it, and the
header says so; that is what a client pinned to a retired version meets in
production, and what its version warning is for. A version AfterShip never
published (``/tracking/2030-01``), or one announced but not yet released, is
a 404 in the API's envelope.

The table is data: the Tracking versions with their release and end of
support (tracking-api.md §1a/§1b, and AfterShip's versioning page for the
versions from 2025-07 on, which are supported about 36 months).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import attrs

__all__ = ["KnownVersion", "VERSIONS", "VersionRoute", "route_version", "split_version"]


@attrs.frozen
class KnownVersion:
    """One published version of an API and its support window (None: not announced)."""

    version: str
    released: dt.date
    supported_until: dt.date | None

    def retired(self, today: dt.date) -> bool:
        """Out of support: AfterShip answers it with the oldest version it still supports."""
        return self.supported_until is not None and today > self.supported_until


def _v(version: str, released: str, until: str | None) -> KnownVersion:
    return KnownVersion(
        version, dt.date.fromisoformat(released), dt.date.fromisoformat(until) if until else None
    )


# Released on the 2nd Thursday of the version's month. Up to 2025-04: supported until the day
# before the seventh later quarterly release, about 18 months (tracking-api.md §1b: 2024-10 until
# 2026-04-08, 2025-01 until 2026-07-08, 2025-04 until 2026-10-08). From 2025-07 on (twice a year):
# about 36 months, per AfterShip's versioning page (2026-07 until 2029-07-12, as in the spec).
# UNCERTAIN: the 2025-01 docs' versioning page gives 2025-01/2025-04 a 36-month window too
# (until 2028-01-13 / 2028-04-13); §1b's 18-month schedule is followed here, as the brief asks.
TRACKING_VERSIONS: tuple[KnownVersion, ...] = (
    _v("2023-10", "2023-10-12", "2025-04-09"),
    _v("2024-04", "2024-04-11", "2025-10-08"),
    _v("2024-07", "2024-07-11", "2026-01-07"),
    _v("2024-10", "2024-10-10", "2026-04-08"),
    _v("2025-01", "2025-01-09", "2026-07-08"),
    _v("2025-04", "2025-04-10", "2026-10-08"),
    _v("2025-07", "2025-07-10", "2028-07-13"),
    _v("2026-01", "2026-01-08", "2029-01-11"),
    _v("2026-07", "2026-07-09", "2029-07-12"),
    _v("2027-01", "2027-01-14", None),  # announced, not released yet
)

#: The known versions of each API that has more than the one the fake pins.
VERSIONS: Mapping[str, tuple[KnownVersion, ...]] = {"tracking": TRACKING_VERSIONS}


@attrs.frozen
class VersionRoute:
    """How a request for ``requested`` is answered: by ``served``, or 404 when it is None."""

    requested: str
    served: str | None
    #: ``"pinned"``, ``"retired"`` (AfterShip too answers it with another version),
    #: ``"not implemented"`` (still supported by AfterShip, but the fake knows only its pin),
    #: ``"unreleased"`` or ``"unknown"``.
    reason: str


def route_version(api: str, pinned: str, requested: str, today: dt.date) -> VersionRoute:
    """Which version answers a request for ``requested`` of ``api`` on ``today``."""
    if requested == pinned:
        return VersionRoute(requested, pinned, "pinned")
    known = {v.version: v for v in VERSIONS.get(api, ())}
    entry = known.get(requested)
    if entry is None:
        return VersionRoute(requested, None, "unknown")
    if entry.released > today:
        return VersionRoute(requested, None, "unreleased")
    reason = "retired" if entry.retired(today) else "not implemented"
    return VersionRoute(requested, pinned, reason)


_VERSION = re.compile(r"/([^/]+)/([^/]+)(/.*)?")


def split_version(prefix: str, path: str) -> tuple[str, str] | None:
    """``(version, rest)`` of a path under the same API root as ``prefix``, else None.

    ``split_version("/tracking/2026-07", "/tracking/2025-01/trackings")`` is
    ``("2025-01", "/trackings")``.
    """
    root = _VERSION.fullmatch(prefix)
    found = _VERSION.fullmatch(path)
    if root is None or found is None or found.group(1) != root.group(1):
        return None
    return found.group(2), found.group(3) or "/"

"""The API versions the SDK is pinned to, and a watch on the versions that answer.

AfterShip does not refuse a request for a version that left its support window:
it serves it with the oldest version it still supports and names that version in
the ``as-api-version`` response header (webhooks: ``as-webhook-version``). A
client pinned to a retired version therefore gets answers of another shape
without any error. :class:`VersionWatch` compares each response's header with the
pinned version and warns once per API and served version, so the drift is seen
the first time it happens, not when a field goes missing.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Iterable, Mapping
from typing import Protocol, TextIO

import attrs

__all__ = [
    "API_VERSION_HEADER",
    "WEBHOOK_VERSION_HEADER",
    "AfterShipVersionWarning",
    "SupportStatus",
    "VersionWatch",
    "requested_version",
    "support_status",
    "versions_report",
]

logger = logging.getLogger("aftership_async")

#: The response header naming the version that served a request.
API_VERSION_HEADER = "as-api-version"
#: The webhook request header naming the version of the event's payload.
WEBHOOK_VERSION_HEADER = "as-webhook-version"


class AfterShipVersionWarning(UserWarning):
    """AfterShip answered with another API version than the one this SDK is pinned to.

    The response may not match the SDK's models: upgrade aftership-async (or
    regenerate it from an updated spec), and check ``aftership-async versions``.
    """


class _Pinned(Protocol):
    """What the watch needs of an API description (``ApiDescription`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


class VersionWatch:
    """Warns once per API and served version; one per client."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def check(self, api: _Pinned, served: str | None, *, what: str = "response") -> None:
        """Warn (and log) if ``served`` is a version other than the pinned one."""
        served = (served or "").strip()
        if not served or served == api.version or (api.name, served) in self._seen:
            return
        self._seen.add((api.name, served))
        message = version_mismatch_message(api.name, api.version, served, what)
        logger.warning("%s", message)
        warnings.warn(message, AfterShipVersionWarning, stacklevel=3)

    def check_headers(
        self, api: _Pinned, headers: Mapping[str, str], requested: str | None = None
    ) -> None:
        """:meth:`check` with the ``as-api-version`` header of a response.

        ``requested`` is the version the request's base URL named when it is not the pin
        (``base_urls={"tracking": ".../tracking/2025-01"}``): an answer of another version
        than that one warns too, even when it is the pinned one.
        """
        served = headers.get(API_VERSION_HEADER)
        self.check(api, served)
        served = (served or "").strip()
        seen = (api.name, f"{requested}->{served}")
        if not requested or not served or requested == served or seen in self._seen:
            return
        self._seen.add(seen)
        message = (
            f"AfterShip {api.name} API: the base URL asks for version {requested}, but "
            f"AfterShip answered with {served}: {requested} is retired or unknown to it. Point "
            f"the base URL at {api.version}, the version this SDK is pinned to "
            f"(`aftership-async versions` shows the support windows)."
        )
        logger.warning("%s", message)
        warnings.warn(message, AfterShipVersionWarning, stacklevel=3)


def requested_version(base_path: str, pinned_path: str) -> str | None:
    """The version a base URL's path names where it differs from the pinned one, else None.

    ``requested_version("/tracking/2025-01", "/tracking/2026-07")`` is ``"2025-01"``; a base
    URL without the API's path (a proxy's root) names none.
    """
    asked, pinned = base_path.rstrip("/").split("/"), pinned_path.rstrip("/").split("/")
    if len(pinned) < 2 or len(asked) < 2 or asked[-2] != pinned[-2] or asked[-1] == pinned[-1]:
        return None
    return asked[-1] or None


def version_mismatch_message(api: str, pinned: str, served: str, what: str = "response") -> str:
    return (
        f"AfterShip {api} API: a {what} of version {served} arrived where this SDK is pinned "
        f"to {pinned}. AfterShip serves a version that left its support window with the "
        f"oldest version it still supports, so fields may be missing or shaped differently. "
        f"Upgrade aftership-async (or regenerate it: README 'Upgrading to a new AfterShip "
        f"API version'); `aftership-async versions` shows the support windows."
    )


@attrs.frozen
class SupportStatus:
    """One API's pinned version and where today stands in its support window."""

    api: str
    version: str
    released: dt.date | None
    supported_until: dt.date | None
    today: dt.date

    @property
    def expired(self) -> bool:
        """True once the support window has ended (a retired version is served silently)."""
        return self.supported_until is not None and self.today > self.supported_until

    @property
    def days_left(self) -> int | None:
        if self.supported_until is None:
            return None
        return (self.supported_until - self.today).days


class _Described(_Pinned, Protocol):
    @property
    def released(self) -> str | None: ...

    @property
    def supported_until(self) -> str | None: ...


def support_status(apis: Iterable[_Described], today: dt.date | None = None) -> list[SupportStatus]:
    """Each API's pinned version and support window, as of ``today`` (UTC by default)."""
    day = today or dt.datetime.now(dt.UTC).date()
    return [
        SupportStatus(
            api=api.name,
            version=api.version,
            released=dt.date.fromisoformat(api.released) if api.released else None,
            supported_until=(
                dt.date.fromisoformat(api.supported_until) if api.supported_until else None
            ),
            today=day,
        )
        for api in apis
    ]


def versions_report(statuses: Iterable[SupportStatus], out: TextIO) -> int:
    """Print each API's pin and support window; 1 once a pinned version is past its end.

    What ``aftership-async versions`` runs, so a user's CI can fail on a retired pin.
    """
    rows = list(statuses)
    expired = [s for s in rows if s.expired]
    print(f"{'api':<10} {'pinned':<9} {'released':<11} {'supported until':<16} status", file=out)
    for s in rows:
        if s.supported_until is None:
            status = "no end announced"
        elif s.expired:
            status = f"RETIRED {-(s.days_left or 0)} days ago"
        else:
            status = f"supported, {s.days_left} days left"
        print(
            f"{s.api:<10} {s.version:<9} {_day(s.released):<11} {_day(s.supported_until):<16} "
            f"{status}",
            file=out,
        )
    if expired:
        names = ", ".join(f"{s.api} {s.version}" for s in expired)
        print(
            f"\n{names}: past the end of AfterShip's support window as of {rows[0].today}. "
            "Upgrade aftership-async, or move the spec to a supported version "
            "(README 'Upgrading to a new AfterShip API version').",
            file=out,
        )
        return 1
    return 0


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day else "-"

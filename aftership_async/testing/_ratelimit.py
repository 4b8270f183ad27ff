"""Per-key, fixed one-second windows: AfterShip's rate limiting.

The Tracking API (2024-07 and later) limits each endpoint separately
(``GET /trackings/{id}`` 5/s, ``POST /trackings`` 20/s, ...); Shipping and
Returns document a flat 10/s for the whole API (``rate-limit-scope: api`` in
their specs), so every endpoint of theirs counts against one window. Every
answer carries the limit, what remains and when the window resets, so a client
can pace itself from the headers alone, spelt as the API's spec declares
(``x-aftership.rate-limit-headers``: ``X-RateLimit-*`` or ``RateLimit-*``, the
reset in Unix seconds, Unix milliseconds or seconds from now; see
:class:`HeaderStyle`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import attrs

from ._spec import Operation

__all__ = ["HeaderStyle", "RateDecision", "RateLimiter", "RateLimitSetting"]

RateLimitSetting = None | str | float | Mapping[str, float]
"""``None`` (off), ``"documented"``, one rate for all endpoints, or rates by endpoint key."""


@attrs.frozen
class HeaderStyle:
    """How an API spells its rate-limit headers (the spec's ``x-aftership.rate-limit-headers``)."""

    #: ``"X-RateLimit-"`` or ``"RateLimit-"``.
    prefix: str = "X-RateLimit-"
    #: ``"unix-seconds"``, ``"unix-milliseconds"`` or ``"delta-seconds"``.
    reset: str = "unix-seconds"

    @classmethod
    def from_block(cls, block: Mapping[str, str] | None) -> HeaderStyle:
        """The style a spec block (or an override of the same shape) declares."""
        style = cls(**{k: str(v) for k, v in (block or {}).items()})
        if style.prefix not in ("X-RateLimit-", "RateLimit-") or style.reset not in (
            "unix-seconds", "unix-milliseconds", "delta-seconds"
        ):  # fmt: skip
            raise ValueError(f"not a rate-limit header style: {dict(block or {})}")
        return style

    def reset_value(self, reset: int, now: float) -> str:
        """The reset header's value for a window ending at Unix second ``reset``."""
        if self.reset == "unix-milliseconds":
            return str(reset * 1000)
        if self.reset == "delta-seconds":
            return str(max(0, math.ceil(reset - now)))
        return str(reset)


@attrs.frozen
class RateDecision:
    """The outcome of counting one request against its window."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self, now: float, style: HeaderStyle = HeaderStyle()) -> dict[str, str]:
        """The rate-limit headers in ``style``; ``Retry-After`` as well when refused."""
        headers = {
            style.prefix + "Limit": str(self.limit),
            style.prefix + "Remaining": str(self.remaining),
            style.prefix + "Reset": style.reset_value(self.reset, now),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.reset - now)))
        return headers


class RateLimiter:
    """Counts requests per (API key, API, endpoint) in fixed windows."""

    def __init__(self, setting: RateLimitSetting, clock: Callable[[], float] = time.time) -> None:
        if isinstance(setting, str) and setting != "documented":
            raise ValueError(f"rate_limits must be None, 'documented', a number or a mapping, "
                             f"got {setting!r}")  # fmt: skip
        if isinstance(setting, (int, float)) and not isinstance(setting, bool) and setting <= 0:
            raise ValueError("rate_limits must be positive")
        self._setting = setting
        self._clock = clock
        self._windows: dict[tuple[str, str, str], tuple[int, int]] = {}

    def rate(self, op: Operation) -> float:
        """Requests per second allowed for one operation."""
        setting = self._setting
        if isinstance(setting, (int, float)) and not isinstance(setting, bool):
            return float(setting)
        if isinstance(setting, Mapping):
            for key in (f"{op.api} {op.endpoint}", op.endpoint, op.operation_id):
                if key in setting:
                    return float(setting[key])
        return op.rate_limit

    def _shape(self, op: Operation) -> tuple[int, int]:
        """(requests per window, window seconds): rates below 1/s get longer windows."""
        rate = self.rate(op)
        if rate >= 1:
            return int(rate), 1
        return 1, math.ceil(1 / rate)

    def _state(self, key: str, op: Operation, now: float) -> tuple[tuple[str, str, str], int, int]:
        _, seconds = self._shape(op)
        window = int(now // seconds) * seconds
        slot = (key, op.api, op.budget or op.endpoint)
        start, count = self._windows.get(slot, (window, 0))
        if start != window:
            count = 0
        return slot, window + seconds, count

    def hit(self, key: str, op: Operation) -> RateDecision:
        """Count one request; refused when the window is already full."""
        now = self._clock()
        limit, seconds = self._shape(op)
        slot, reset, count = self._state(key, op, now)
        allowed = count < limit
        if allowed:
            count += 1
        self._windows[slot] = (reset - seconds, count)
        return RateDecision(allowed=allowed, limit=limit, remaining=limit - count, reset=reset)

    def exhausted(self, key: str, op: Operation) -> RateDecision:
        """Headers for an injected 429 fault: the window as if it were full."""
        limit, _ = self._shape(op)
        _, reset, _ = self._state(key, op, self._clock())
        return RateDecision(allowed=False, limit=limit, remaining=0, reset=reset)

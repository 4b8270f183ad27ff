"""Per-key, fixed one-second windows: AfterShip's rate limiting.

The Tracking API (2024-07 and later) limits each endpoint separately
(``GET /trackings/{id}`` 5/s, ``POST /trackings`` 20/s, ...); Shipping and
Returns document a flat 10/s for the whole API (``rate-limit-scope: api`` in
their specs), so every endpoint of theirs counts against one window. Every
answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (unix seconds at which the window ends), so a client can
pace itself from the headers alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import attrs

from ._spec import Operation

__all__ = ["RateDecision", "RateLimiter", "RateLimitSetting"]

RateLimitSetting = None | str | float | Mapping[str, float]
"""``None`` (off), ``"documented"``, one rate for all endpoints, or rates by endpoint key."""


@attrs.frozen
class RateDecision:
    """The outcome of counting one request against its window."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self, now: float) -> dict[str, str]:
        """The rate-limit headers; ``Retry-After`` as well when refused."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
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

"""Fault injection: what a flaky network and an overloaded API do to a client.

With probability ``fault_rate`` a request is answered by one fault instead of
its handler. The kinds mirror what AfterShip's clients meet in production:

``429``        a rate-limit envelope with rate-limit headers and ``Retry-After``
``500``        the API's 500 envelope
``503``        the API's 503 envelope
``502_html``   an HTML 502 page, as a proxy or CDN in front of the API sends
``drop``       the connection is closed without an answer
``slow``       the answer stalls ``slow_seconds`` (longer than a client timeout),
               then comes as a 504 envelope
``truncated``  a 200 whose JSON body is cut off half-way
``malformed``  a 200 whose body is not valid JSON

The choice is made **before** the handler runs. A kind in the server's
``after_action`` (by default ``drop``) strikes after the handler ran: the
operation took effect (a tracking created, a label bought) and its answer is
lost or replaced. The client cannot tell whether it happened; a retried create
then meets its natural key's refusal (Tracking 4003, Shipping 4801), and an
operation that has none must not be retried at all: exactly the ambiguous
failure the client's retry rules are for. Any other kind changes nothing.

Draws come from one ``random.Random(seed)`` consumed twice per request in
arrival order, so the same seed and the same request sequence give the same
faults.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

__all__ = ["FAULT_KINDS", "FaultPlan"]

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "502_html",
    "503",
    "drop",
    "slow",
    "truncated",
    "malformed",
)

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class FaultPlan:
    """Decides, request by request, whether and how to fail."""

    def __init__(self, rate: float, kinds: Iterable[str], seed: int) -> None:
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        self.rate = 0.0
        self.set_rate(rate)
        self._random = random.Random(seed)

    def set_rate(self, rate: float) -> None:
        """Change the fault probability; the random stream carries on unchanged."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if rate > 0 and not self.kinds:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        self.rate = rate

    def draw(self) -> str | None:
        """The fault for the next request, or None. Always consumes two draws."""
        roll = self._random.random()
        pick = self._random.random()
        if self.rate <= 0 or roll >= self.rate:
            return None
        return self.kinds[min(int(pick * len(self.kinds)), len(self.kinds) - 1)]

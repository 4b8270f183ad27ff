"""Decoding one realistic tracking (50 checkpoints) from response bytes.

The payload is AfterShip's own ``GET /trackings/{id}`` example with its
checkpoint repeated into a 50-step journey (``bench/data``). Each decoder
starts from the raw bytes, as a client does:

* ``json.loads``: the standard library's parsing alone, the floor;
* ``our parse``: our ``_json.loads`` alone (msgspec, with the standard
  library's results);
* ``ours``: our ``_json.loads``
  + our cattrs converter into the generated ``Tracking`` (the same calls
  ``client.tracking.get_tracking_by_id`` makes);
* ``official``: ``json.loads`` + the official SDK's (10.0.x) pydantic
  ``GetTrackingByIdResponse.model_validate`` of ``{response_header, data}``,
  as its ``get_tracking_by_id`` does, and its ``.data`` (the ``Tracking``).
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aftership_async import Tracking, _json
from aftership_async._generated._converter import CONVERTER

__all__ = ["PAYLOAD", "decoders", "measure_decode"]

PAYLOAD = Path(__file__).parent / "data" / "tracking_50_checkpoints.json"


def decoders() -> dict[str, Callable[[bytes], Any]]:
    from tracking.models import GetTrackingByIdResponse

    def ours(raw: bytes) -> Any:
        return CONVERTER.structure(_json.loads(raw)["data"], Tracking)

    def official(raw: bytes) -> Any:
        result = {"response_header": {}, "data": json.loads(raw)["data"]}
        return GetTrackingByIdResponse.model_validate(result).data

    return {
        "json.loads": json.loads,
        "our parse": _json.loads,
        "ours": ours,
        "official": official,
    }


def measure_decode(repeat: int = 5, number: int = 200) -> dict[str, float]:
    """Microseconds per object for each decoder (best of ``repeat`` runs)."""
    raw = PAYLOAD.read_bytes()
    found = decoders()
    # Every decoder must see all 50 checkpoints, or the comparison is void.
    assert len(found["ours"](raw).checkpoints) == 50
    assert len(found["official"](raw).checkpoints) == 50
    return {
        name: min(timeit.repeat(lambda f=decode: f(raw), repeat=repeat, number=number))  # type: ignore[misc]
        / number
        * 1e6
        for name, decode in found.items()
    }

"""What the Tracking API computes: courier detection, the tracking's story, estimates.

Everything else (storing, finding, listing, paging, updating, deleting, the
lifecycle rules and their refusals) is the spec's ``x-aftership.resources``,
run by :mod:`._resources`. Here: the checks AfterShip makes on a number (4005,
4007, 4010, 4012), the courier's story a new tracking starts with, what a
lifecycle transition does to the story (a retrack reactivates, mark-as-completed
adds the merchant's checkpoint, expiry ends it), ``fields=``, the courier list
and detection, delivery-date prediction and a connection's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _content as content
from ._envelopes import refused
from ._records import iso
from ._resources import Behaviour
from ._state import Call, parse_time

__all__ = ["BEHAVIOUR", "STATES", "lifecycle"]

#: The states of a tracking, read from its JSON (so a test may also set ``active`` by hand).
STATES = ("active", "expired", "completed", "inactive")


def lifecycle(tracking: Mapping[str, Any]) -> str:
    """``active`` (AfterShip updates it), ``expired`` (no news for 30 days), ``completed``
    (marked by the merchant) or ``inactive`` (delivered, or stopped otherwise)."""
    if tracking.get("active"):
        return "active"
    if tracking.get("tag") == "Expired":
        return "expired"
    points = tracking.get("checkpoints") or []
    return "completed" if points and points[-1].get("source") == "user" else "inactive"


def _error(code: int, **details: object) -> Exception:
    return refused("tracking", code, **details)


def _slug(slug: str, field: str = "slug") -> str:
    if content.courier(slug) is None:
        raise _error(4010, field=field, value=slug)
    return slug


def _create(call: Call, record: dict[str, Any]) -> None:
    number = str(record.get("tracking_number") or "").strip()
    if not number:
        raise _error(4007)
    if not 4 <= len(number) <= 100:
        raise _error(4005)
    slug = call.body.get("slug")
    if slug:
        _slug(slug)
    else:
        detected = content.detect_slugs(number)
        if not detected:
            raise _error(4012)
        slug = detected[0]
    generation = call.state.next_number(f"tracking {slug} {number}")
    tracking_id = call.body.get("id") or content.stable_hex(
        call.state.seed, "tracking", slug, number, generation
    )
    if tracking_id in call.state.trackings.items:
        raise _error(4003, what=f"tracking_number {number}, slug {slug}")
    story = content.story(call.state.seed, tracking_id, slug, number)
    given = {k: v for k, v in record.items() if k in call.body and v is not None}
    record.update({**story, **given, "id": tracking_id, "slug": slug})
    record["tracking_number"] = number
    record["title"] = call.body.get("title") or number


def _fields(call: Call, tracking: dict[str, Any]) -> dict[str, Any] | None:
    """Honour ``fields=``: keep the identity fields plus the ones asked for."""
    wanted = {f.strip() for f in str(call.params.get("fields") or "").split(",") if f.strip()}
    if not wanted:
        return None
    keep = {"id", "tracking_number", "slug", "created_at", "updated_at"} | wanted
    return {k: v for k, v in tracking.items() if k in keep}


def _list(call: Call, page: dict[str, Any]) -> None:
    page["trackings"] = [_fields(call, t) or t for t in page["trackings"]]


def _update(call: Call, tracking: dict[str, Any]) -> None:
    new_slug = call.body.get("slug")
    if new_slug:
        _slug(new_slug)
        for point in tracking.get("checkpoints") or []:
            point["slug"] = new_slug
    if "title" in call.body and call.body["title"] is None:
        tracking["title"] = tracking["tracking_number"]


def _set_subtag(tracking: dict[str, Any], subtag: str) -> None:
    tracking["tag"] = subtag.split("_")[0]
    tracking["subtag"] = subtag
    tracking["subtag_message"] = content.SUBTAG_MESSAGES.get(subtag, tracking["tag"])


def _reactivate(call: Call, tracking: dict[str, Any]) -> None:
    tracking["active"] = True
    tracking["tracked_count"] = (tracking.get("tracked_count") or 0) + 1
    if tracking.get("tag") == "Expired":
        _set_subtag(tracking, "Pending_001")


_COMPLETION = {
    "DELIVERED": ("Delivered_001", "Delivered (marked as delivered by the merchant)"),
    "LOST": ("Exception_013", "Shipment lost (marked by the merchant)"),
    "RETURNED_TO_SENDER": ("Exception_011", "Returned to sender (marked by the merchant)"),
}


def _complete(call: Call, tracking: dict[str, Any]) -> None:
    subtag, message = _COMPLETION[call.body["reason"]]
    text = call.body.get("event_datetime")
    given = parse_time(text)
    when = given or call.now
    point = content.checkpoint(tracking["slug"], subtag, message, None, when, source="user",
                               ident=tracking["tracking_number"])  # fmt: skip
    point["created_at"] = iso(call.now)
    if given and len(text) > 10:  # a date-time: its offset, or none, as given
        point["checkpoint_time"] = text
    tracking["checkpoints"] = [*(tracking.get("checkpoints") or []), point]
    _set_subtag(tracking, subtag)
    tracking["active"] = False
    if subtag == "Delivered_001":  # as given: a bare date stays a date, no offset is invented
        tracking["shipment_delivery_date"] = text if given else iso(when)
    tracking["return_to_sender"] = subtag == "Exception_011"


def _expire(call: Call, tracking: dict[str, Any]) -> None:
    tracking["active"] = False
    _set_subtag(tracking, "Expired_001")


def _couriers(call: Call) -> Any:
    wanted = {s for s in str(call.params.get("slug") or "").split(",") if s}
    unknown = sorted(wanted - {c.slug for c in content.COURIERS})
    if unknown:
        raise _error(4010, field="slug", value=",".join(unknown))
    couriers = [
        content.courier_json(c)
        for c in content.COURIERS
        if (c.user or not call.params.get("active")) and (not wanted or c.slug in wanted)
    ]
    return {"total": len(couriers), "couriers": couriers}


def _detect(call: Call) -> Any:
    slugs = content.detect_slugs(str(call.body["tracking_number"]))
    allowed = call.body.get("slug")
    if allowed:
        slugs = [s for s in slugs if s in set(allowed)]
    couriers = [content.courier_json(c) for s in slugs if (c := content.courier(s))]
    return {"total": len(couriers), "couriers": couriers}


def _predict_batch(call: Call) -> Any:
    items = call.body["estimated_delivery_dates"]
    return {"estimated_delivery_dates": [content.predict(call.state.seed, i) for i in items]}


def _credentials(call: Call, record: dict[str, Any]) -> None:
    """The credentials of a connection, checked against its courier's fields."""
    slug = record["courier_slug"]
    info = content.courier(_slug(slug, "courier_slug"))
    given = call.body.get("credentials") or {}
    if info is None or not info.credentials:
        raise _error(4008, field="courier_slug (the courier takes no courier connection)")
    for name, kind, required in info.credentials:
        if name not in given:
            if required:
                raise _error(4009, field=f"credentials.{name}")
        elif kind == "string" and not isinstance(given[name], str):
            raise _error(4008, field=f"credentials.{name}")


def _new_connection(call: Call, record: dict[str, Any]) -> None:
    record["id"] = content.stable_hex(call.state.seed, "courier_connection", record["id"])
    _credentials(call, record)


BEHAVIOUR = Behaviour(
    hooks={
        "create_tracking": _create,
        "get_tracking_by_id": _fields,
        "get_trackings": _list,
        "update_tracking_by_id": _update,
        "create_courier_connection": _new_connection,
        "update_courier_connection_by_id": _credentials,
    },
    handlers={
        "get_couriers": _couriers,
        "detect_courier": _detect,
        "predict": lambda call: content.predict(call.state.seed, call.body),
        "predict_batch": _predict_batch,
    },
    effects={
        "tracking.retrack": _reactivate,
        "tracking.mark_completed": _complete,
        "tracking.expire": _expire,
    },
    states={"tracking": lifecycle},
)

"""Tracking API 2025-01 behaviour: the store of trackings and its rules.

This is the part bulk tracking code leans on, so it follows the real API
closely: 201 on create, 4003 for a duplicate (tracking_number, slug), 4004
for an unknown id, courier detection when no slug is given (4012 when
nothing matches, 4010 for an unknown slug), newest-first cursor paging with
filters, retrack only for inactive trackings (4013), and mark-as-completed
adding a ``user`` checkpoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from . import _content as content
from ._envelopes import Failure, bad_request, not_found
from ._state import Call, Handler, State, decode_cursor

__all__ = ["HANDLERS", "create_tracking_record"]

_MAX_RETRACKS = 3


def _tracking(call: Call) -> dict[str, Any]:
    tracking = call.state.trackings.get(call.params["id"])
    if tracking is None:
        raise not_found("tracking", "Tracking does not exist.")
    return tracking


def _with_fields(tracking: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Honour ``fields=``: keep the identity fields plus the ones asked for."""
    if not fields:
        return tracking
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    keep = {"id", "tracking_number", "slug", "created_at", "updated_at"} | wanted
    return {k: v for k, v in tracking.items() if k in keep}


def create_tracking_record(
    state: State, request: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """Create and store a tracking (shared by the handler and ``add_trackings``)."""
    number = str(request.get("tracking_number", "")).strip()
    if not number:
        raise Failure(400, 4007, "Tracking number is required.")
    if len(number) < 4 or len(number) > 100:
        raise Failure(400, 4005, "The value of tracking_number is invalid.")
    slug = request.get("slug")
    if slug:
        if content.courier(slug) is None:
            raise Failure(400, 4010, f"The value of slug is invalid: {slug!r}.")
    else:
        detected = content.detect_slugs(number)
        if not detected:
            raise Failure(400, 4012, "Cannot detect courier. Activate courier or specify slug.")
        slug = detected[0]
    key = (number, slug)
    if key in state.tracking_keys:
        raise Failure(
            400,
            4003,
            f"Tracking already exists (tracking_number {number}, slug {slug}).",
        )
    state.tracking_generations[key] += 1
    tracking_id = content.stable_hex(state.seed, "tracking", slug, number,
                                     state.tracking_generations[key])  # fmt: skip
    tracking = content.build_tracking(
        seed=state.seed,
        tracking_id=tracking_id,
        slug=slug,
        request={**request, "tracking_number": number},
        now=now,
    )
    state.trackings.add(tracking_id, tracking)
    state.tracking_keys[key] = tracking_id
    state.created("tracking")
    return tracking


def _create(call: Call) -> Any:
    return create_tracking_record(call.state, dict(call.body), call.now)


def _csv(value: Any) -> set[str]:
    return {v.strip() for v in str(value).split(",") if v.strip()}


_SET_FILTERS = {
    "slug": "slug",
    "tag": "tag",
    "tracking_numbers": "tracking_number",
    "order_id": "order_id",
    "origin": "origin_country_region",
    "destination": "destination_country_region",
    "courier_destination_country_region": "courier_destination_country_region",
}


def _matcher(params: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """The list filters of one request, parsed once, as a predicate on trackings."""
    wanted = {
        field: _csv(params[param]) for param, field in _SET_FILTERS.items() if param in params
    }
    shipment_tags = _csv(params["shipment_tags"]) if "shipment_tags" in params else None
    return_to_sender = (
        {v == "true" for v in _csv(params["return_to_sender"])}
        if "return_to_sender" in params
        else None
    )
    bounds = [
        (field, bound, older)
        for param, field, older in (
            ("created_at_min", "created_at", False),
            ("created_at_max", "created_at", True),
            ("updated_at_min", "updated_at", False),
            ("updated_at_max", "updated_at", True),
        )
        if param in params and (bound := _moment(params[param])) is not None
    ]
    keyword = str(params["keyword"]).lower() if "keyword" in params else None

    def matches(tracking: dict[str, Any]) -> bool:
        for field, values in wanted.items():
            if tracking.get(field) not in values:
                return False
        if shipment_tags is not None and not shipment_tags & set(
            tracking.get("shipment_tags") or []
        ):
            return False
        if return_to_sender is not None and bool(tracking.get("return_to_sender")) not in (
            return_to_sender
        ):
            return False
        if "transit_time" in params and tracking.get("transit_time") != params["transit_time"]:
            return False
        for field, bound, older in bounds:
            value = _moment(tracking.get(field))
            if value and ((value > bound) if older else (value < bound)):
                return False
        return keyword is None or _keyword_hit(tracking, keyword)

    return matches


def _moment(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _keyword_hit(tracking: dict[str, Any], keyword: str) -> bool:
    haystack = [tracking.get("tracking_number"), tracking.get("title"), tracking.get("order_id")]
    for customer in tracking.get("customers") or []:
        haystack += [customer.get("name"), customer.get("email"), customer.get("phone_number")]
    haystack += [str(v) for v in (tracking.get("custom_fields") or {}).values()]
    return any(keyword in str(h).lower() for h in haystack if h)


def _list(call: Call) -> Any:
    params = dict(call.params)
    limit = int(params.get("limit", 100))
    after = None
    if "cursor" in params:
        after = decode_cursor(str(params["cursor"]))
        if after is None:
            raise bad_request("tracking", "The value of cursor is invalid.", 4008)
    store = call.state.trackings
    matches = _matcher(params)
    if "tracking_numbers" in params:  # the bulk lookup's query: use the number index
        numbers = _csv(params["tracking_numbers"])
        ids = [i for (number, _), i in call.state.tracking_keys.items() if number in numbers]
        candidates = [t for t in map(store.get, ids) if t is not None]
    else:
        candidates = store.newest_first()
    selected = [t for t in candidates if matches(t)]
    page, next_cursor = store.page(selected, key=lambda t: t["id"], after=after, limit=limit)
    remaining_total = len(selected)
    return {
        "pagination": {
            "total": remaining_total,
            "next_cursor": next_cursor,
            "has_next_page": next_cursor is not None,
        },
        "trackings": [_with_fields(t, params.get("fields")) for t in page],
    }


def _get(call: Call) -> Any:
    return _with_fields(_tracking(call), call.params.get("fields"))


def _touch(tracking: dict[str, Any], now: dt.datetime) -> None:
    tracking["updated_at"] = content.iso(now)


def _update(call: Call) -> Any:
    tracking = _tracking(call)
    body = dict(call.body)
    new_slug = body.get("slug")
    if new_slug and new_slug != tracking["slug"]:
        if content.courier(new_slug) is None:
            raise Failure(400, 4010, f"The value of slug is invalid: {new_slug!r}.")
        state = call.state
        new_key = (tracking["tracking_number"], new_slug)
        if new_key in state.tracking_keys:
            raise Failure(400, 4003, "Tracking already exists.")
        del state.tracking_keys[(tracking["tracking_number"], tracking["slug"])]
        state.tracking_keys[new_key] = tracking["id"]
        tracking["slug"] = new_slug
        for point in tracking.get("checkpoints") or []:
            point["slug"] = new_slug
    content.apply_request_fields(tracking, body)
    _touch(tracking, call.now)
    return tracking


def _delete(call: Call) -> Any:
    tracking = _tracking(call)
    state = call.state
    state.trackings.remove(tracking["id"])
    state.tracking_keys.pop((tracking["tracking_number"], tracking["slug"]), None)
    return tracking


def _retrack(call: Call) -> Any:
    tracking = _tracking(call)
    if tracking.get("active"):
        raise Failure(
            400, 4013, "Retrack is not allowed. You can only retrack an inactive tracking."
        )
    if call.state.retracks[tracking["id"]] >= _MAX_RETRACKS:
        raise Failure(
            400, 4016, "Retrack is not allowed. You can only retrack each tracking 3 times."
        )
    call.state.retracks[tracking["id"]] += 1
    tracking["active"] = True
    tracking["tracked_count"] = (tracking.get("tracked_count") or 0) + 1
    if tracking.get("tag") == "Expired":
        tracking["tag"], tracking["subtag"] = "Pending", "Pending_001"
        tracking["subtag_message"] = content.SUBTAG_MESSAGES["Pending_001"]
    _touch(tracking, call.now)
    return tracking


_COMPLETION = {
    "DELIVERED": ("Delivered_001", "Delivered (marked as delivered by the merchant)"),
    "LOST": ("Exception_013", "Shipment lost (marked by the merchant)"),
    "RETURNED_TO_SENDER": ("Exception_011", "Returned to sender (marked by the merchant)"),
}


def _mark_completed(call: Call) -> Any:
    tracking = _tracking(call)
    subtag, message = _COMPLETION[call.body["reason"]]
    when = _moment(call.body.get("event_datetime")) or call.now
    point = content.checkpoint(tracking["slug"], subtag, message, None, when, source="user")
    point["created_at"] = content.iso(call.now)
    tracking.setdefault("checkpoints", [])
    tracking["checkpoints"] = [*(tracking["checkpoints"] or []), point]
    tracking["tag"] = subtag.split("_")[0]
    tracking["subtag"] = subtag
    tracking["subtag_message"] = content.SUBTAG_MESSAGES[subtag]
    tracking["active"] = False
    if subtag == "Delivered_001":
        tracking["shipment_delivery_date"] = content.iso(when)
    tracking["return_to_sender"] = subtag == "Exception_011"
    _touch(tracking, call.now)
    return tracking


def _couriers(user_only: bool) -> Handler:
    def handler(call: Call) -> Any:
        couriers = [content.courier_json(c) for c in content.COURIERS if c.user or not user_only]
        return {"total": len(couriers), "couriers": couriers}

    return handler


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


HANDLERS: dict[str, Handler] = {
    "get_trackings": _list,
    "create_tracking": _create,
    "get_user_couriers": _couriers(user_only=True),
    "get_all_couriers": _couriers(user_only=False),
    "detect_courier": _detect,
    "get_tracking_by_id": _get,
    "update_tracking_by_id": _update,
    "delete_tracking_by_id": _delete,
    "retrack_tracking_by_id": _retrack,
    "mark_tracking_completed_by_id": _mark_completed,
    "predict_batch": _predict_batch,
}

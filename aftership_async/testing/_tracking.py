"""Tracking API 2026-07 behaviour: trackings and their lifecycle, couriers, connections.

This is the part bulk tracking code leans on, so it follows the real API
closely: 201 on create, 4003 for a duplicate (tracking_number, slug), 4004
for an unknown id, courier detection when no slug is given (4012 when
nothing matches, 4010 for an unknown slug), newest-first cursor paging with
filters, and the courier connections (the merchant's own carrier accounts)
stored, paged and updated like trackings.

The rules are data the handlers consult, not ``if``s spread through them:

* :data:`ERRORS`, the reference's error table (tracking-api.md §3a): a
  ``meta.code`` with its HTTP status and message;
* :data:`TRANSITIONS`, the tracking lifecycle: which states each action may
  start from, where it leads, how often it may happen and which error
  refuses it (retrack of an active tracking: 4013; a fourth retrack: 4016);
* :data:`COURIER_FILTERS` and :data:`TRACKING_SET_FILTERS`, the list filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import _content as content
from ._envelopes import Failure
from ._state import Call, Collection, Handler, State, decode_cursor

__all__ = [
    "COURIER_FILTERS",
    "ERRORS",
    "HANDLERS",
    "TRACKING_SET_FILTERS",
    "TRANSITIONS",
    "Transition",
    "apply_transition",
    "create_tracking_record",
    "error",
    "lifecycle",
]

# --------------------------------------------------------------------------- errors

#: meta.code -> (HTTP status, message template). tracking-api.md §3a; the messages paraphrase
#: AfterShip's. ``meta.type`` follows from the status (BadRequest, NotFound, ...).
ERRORS: Mapping[int, tuple[int, str]] = {
    404: (404, "{what} does not exist."),
    4003: (400, "Tracking already exists (tracking_number {number}, slug {slug})."),
    4004: (404, "Tracking does not exist."),
    4005: (400, "The value of tracking_number is invalid."),
    4007: (400, "Tracking number is required."),
    4008: (400, "The value of {field} is invalid."),
    4009: (400, "The value of {field} is required."),
    4010: (400, "The value of {field} is invalid: {value!r}."),
    4012: (400, "Cannot detect courier. Activate courier or specify slug."),
    4013: (400, "Retrack is not allowed. You can only retrack an inactive tracking."),
    4016: (400, "Retrack is not allowed. You can only retrack each tracking {limit} times."),
}


def error(code: int, **details: object) -> Failure:
    """The Tracking API's answer for ``code``, its message filled with ``details``."""
    status, template = ERRORS[code]
    return Failure(status, code, template.format(**details))


# --------------------------------------------------------------------------- lifecycle

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
    if points and points[-1].get("source") == "user":
        return "completed"
    return "inactive"


@attrs.frozen
class Transition:
    """One action on a tracking: allowed ``sources`` states, the ``target`` state.

    From another state the action is refused with ``refused`` (a code of
    :data:`ERRORS`); ``limit`` caps how often it may happen to one tracking,
    refused beyond with ``over_limit``.
    """

    sources: frozenset[str]
    target: str
    refused: int | None = None
    limit: int | None = None
    over_limit: int | None = None


TRANSITIONS: Mapping[str, Transition] = {
    # POST /trackings/{id}/retrack: "retrack an expired tracking, max 3 times per tracking"
    # (SDK 10.0.1's docstring; UNCERTAIN: its README says "only once" for 4016).
    "retrack": Transition(
        sources=frozenset({"expired", "completed", "inactive"}),
        target="active",
        refused=4013,
        limit=3,
        over_limit=4016,
    ),
    # POST /trackings/{id}/mark-as-completed: stops updates until retracked.
    "mark_completed": Transition(sources=frozenset(STATES), target="completed"),
    # AfterShip's own: 30 days without news (``FakeAfterShip.expire_tracking``).
    "expire": Transition(sources=frozenset({"active"}), target="expired", refused=4008),
}

_COMPLETION = {
    "DELIVERED": ("Delivered_001", "Delivered (marked as delivered by the merchant)"),
    "LOST": ("Exception_013", "Shipment lost (marked by the merchant)"),
    "RETURNED_TO_SENDER": ("Exception_011", "Returned to sender (marked by the merchant)"),
}


def _set_subtag(tracking: dict[str, Any], subtag: str) -> None:
    tracking["tag"] = subtag.split("_")[0]
    tracking["subtag"] = subtag
    tracking["subtag_message"] = content.SUBTAG_MESSAGES.get(subtag, tracking["tag"])


def _reactivate(tracking: dict[str, Any], body: Mapping[str, Any], now: dt.datetime) -> None:
    tracking["active"] = True
    tracking["tracked_count"] = (tracking.get("tracked_count") or 0) + 1
    if tracking.get("tag") == "Expired":
        _set_subtag(tracking, "Pending_001")


def _complete(tracking: dict[str, Any], body: Mapping[str, Any], now: dt.datetime) -> None:
    subtag, message = _COMPLETION[body["reason"]]
    given = _moment(body.get("event_datetime"))
    when = given or now
    point = content.checkpoint(tracking["slug"], subtag, message, None, when, source="user",
                               ident=tracking["tracking_number"])  # fmt: skip
    point["created_at"] = content.iso(now)
    if given and len(body["event_datetime"]) > 10:  # a date-time: its offset, or none, as given
        point["checkpoint_time"] = body["event_datetime"]
    tracking["checkpoints"] = [*(tracking.get("checkpoints") or []), point]
    _set_subtag(tracking, subtag)
    tracking["active"] = False
    if subtag == "Delivered_001":  # as given: a bare date stays a date, no offset is invented
        tracking["shipment_delivery_date"] = body["event_datetime"] if given else content.iso(when)
    tracking["return_to_sender"] = subtag == "Exception_011"


def _expire(tracking: dict[str, Any], body: Mapping[str, Any], now: dt.datetime) -> None:
    tracking["active"] = False
    _set_subtag(tracking, "Expired_001")


_EFFECTS: Mapping[str, Callable[[dict[str, Any], Mapping[str, Any], dt.datetime], None]] = {
    "retrack": _reactivate,
    "mark_completed": _complete,
    "expire": _expire,
}


def apply_transition(
    state: State,
    tracking: dict[str, Any],
    action: str,
    now: dt.datetime,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Move ``tracking`` along :data:`TRANSITIONS`, or raise the action's refusal."""
    rule = TRANSITIONS[action]
    if lifecycle(tracking) not in rule.sources:
        raise error(rule.refused or 4008, field="state")
    count = (action, tracking["id"])
    if rule.limit is not None and state.transitions[count] >= rule.limit:
        raise error(rule.over_limit or 4008, limit=rule.limit, field="state")
    state.transitions[count] += 1
    _EFFECTS[action](tracking, body or {}, now)
    _touch(tracking, now)
    return tracking


def _transition(action: str) -> Handler:
    def handler(call: Call) -> Any:
        return apply_transition(call.state, _tracking(call), action, call.now, call.body)

    return handler


# --------------------------------------------------------------------------- trackings


def _tracking(call: Call) -> dict[str, Any]:
    tracking = call.state.trackings.get(call.params["id"])
    if tracking is None:
        raise error(4004)
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
        raise error(4007)
    if len(number) < 4 or len(number) > 100:
        raise error(4005)
    slug = request.get("slug")
    if slug:
        if content.courier(slug) is None:
            raise error(4010, field="slug", value=slug)
    else:
        detected = content.detect_slugs(number)
        if not detected:
            raise error(4012)
        slug = detected[0]
    key = (number, slug)
    if key in state.tracking_keys:
        raise error(4003, number=number, slug=slug)
    state.tracking_generations[key] += 1
    tracking_id = request.get("id") or content.stable_hex(
        state.seed, "tracking", slug, number, state.tracking_generations[key]
    )
    if tracking_id in state.trackings.items:
        raise error(4003, number=number, slug=slug)
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


#: GET /trackings filters that take a comma list of values of one field.
TRACKING_SET_FILTERS: Mapping[str, str] = {
    "slug": "slug",
    "tag": "tag",
    "tracking_numbers": "tracking_number",
    "order_id": "order_id",
    "origin": "origin_country_region",
    "destination": "destination_country_region",
    "courier_destination_country_region": "courier_destination_country_region",
}


def _matcher(params: Mapping[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """The list filters of one request, parsed once, as a predicate on trackings."""
    wanted = {
        field: _csv(params[param])
        for param, field in TRACKING_SET_FILTERS.items()
        if param in params
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


def _cursor(params: Mapping[str, Any]) -> int | None:
    if "cursor" not in params:
        return None
    after = decode_cursor(str(params["cursor"]))
    if after is None:
        raise error(4008, field="cursor")
    return after


def _cursor_page(
    store: Collection, selected: list[dict[str, Any]], params: Mapping[str, Any], items_key: str
) -> dict[str, Any]:
    """One newest-first page with Tracking's cursor ``pagination`` object."""
    limit = int(params.get("limit", 100))
    page, next_cursor = store.page(
        selected, key=lambda item: item["id"], after=_cursor(params), limit=limit
    )
    return {
        "pagination": {
            "total": len(selected),
            "next_cursor": next_cursor,
            "has_next_page": next_cursor is not None,
        },
        items_key: page,
    }


def _list(call: Call) -> Any:
    params = call.params
    store = call.state.trackings
    matches = _matcher(params)
    if "tracking_numbers" in params:  # the bulk lookup's query: use the number index
        numbers = _csv(params["tracking_numbers"])
        ids = [i for (number, _), i in call.state.tracking_keys.items() if number in numbers]
        candidates = [t for t in map(store.get, ids) if t is not None]
    else:
        candidates = store.newest_first()
    data = _cursor_page(store, [t for t in candidates if matches(t)], params, "trackings")
    data["trackings"] = [_with_fields(t, params.get("fields")) for t in data["trackings"]]
    return data


def _get(call: Call) -> Any:
    return _with_fields(_tracking(call), call.params.get("fields"))


def _touch(record: dict[str, Any], now: dt.datetime) -> None:
    record["updated_at"] = content.iso(now)


def _update(call: Call) -> Any:
    tracking = _tracking(call)
    body = dict(call.body)
    new_slug = body.get("slug")
    if new_slug and new_slug != tracking["slug"]:
        if content.courier(new_slug) is None:
            raise error(4010, field="slug", value=new_slug)
        state = call.state
        new_key = (tracking["tracking_number"], new_slug)
        if new_key in state.tracking_keys:
            raise error(4003, number=tracking["tracking_number"], slug=new_slug)
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


# --------------------------------------------------------------------------- couriers

#: GET /couriers filters: parameter -> does a courier pass for the (typed) value.
COURIER_FILTERS: Mapping[str, Callable[[content.CourierInfo, Any], bool]] = {
    "active": lambda courier, active: courier.user or not active,  # false/omitted: all
    "slug": lambda courier, slugs: courier.slug in _csv(slugs),
}


def _couriers(call: Call) -> Any:
    unknown = sorted(_csv(call.params.get("slug", "")) - {c.slug for c in content.COURIERS})
    if unknown:
        raise error(4010, field="slug", value=",".join(unknown))
    couriers = [
        content.courier_json(c)
        for c in content.COURIERS
        if all(keep(c, call.params[p]) for p, keep in COURIER_FILTERS.items() if p in call.params)
    ]
    return {"total": len(couriers), "couriers": couriers}


def _detect(call: Call) -> Any:
    slugs = content.detect_slugs(str(call.body["tracking_number"]))
    allowed = call.body.get("slug")
    if allowed:
        slugs = [s for s in slugs if s in set(allowed)]
    couriers = [content.courier_json(c) for s in slugs if (c := content.courier(s))]
    return {"total": len(couriers), "couriers": couriers}


def _predict(call: Call) -> Any:
    return content.predict(call.state.seed, call.body)


def _predict_batch(call: Call) -> Any:
    items = call.body["estimated_delivery_dates"]
    return {"estimated_delivery_dates": [content.predict(call.state.seed, i) for i in items]}


# --------------------------------------------------------------------------- courier connections


def _credentials(slug: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The credentials for a connection to ``slug``, checked against the courier's fields."""
    info = content.courier(slug)
    if info is None:
        raise error(4010, field="courier_slug", value=slug)
    if not info.credentials:
        raise error(4008, field="courier_slug (the courier takes no courier connection)")
    for name, kind, required in info.credentials:
        if name not in given:
            if required:
                raise error(4009, field=f"credentials.{name}")
        elif kind == "string" and not isinstance(given[name], str):
            raise error(4008, field=f"credentials.{name}")
    return dict(given)


def _connection(call: Call) -> dict[str, Any]:
    found = call.state.courier_connections.get(call.params["id"])
    if found is None:
        raise error(404, what="Courier connection")
    return found


def _create_connection(call: Call) -> Any:
    state = call.state
    slug = call.body["courier_slug"]
    credentials = _credentials(slug, call.body["credentials"])
    connection_id = content.stable_hex(state.seed, "courier_connection",
                                       state.next_number("courier_connection"))  # fmt: skip
    stamp = content.iso(call.now)
    record = {
        "id": connection_id,
        "courier_slug": slug,
        "credentials": credentials,
        "created_at": stamp,
        "updated_at": stamp,
    }
    state.courier_connections.add(connection_id, record)
    state.created("courier_connection")
    return record


def _list_connections(call: Call) -> Any:
    store = call.state.courier_connections
    slug = call.params.get("courier_slug")
    selected = [c for c in store.newest_first() if slug is None or c["courier_slug"] == slug]
    return _cursor_page(store, selected, call.params, "courier_connections")


def _update_connection(call: Call) -> Any:
    record = _connection(call)
    record["credentials"] = _credentials(record["courier_slug"], call.body["credentials"])
    _touch(record, call.now)
    return record


def _delete_connection(call: Call) -> Any:
    record = _connection(call)
    call.state.courier_connections.remove(record["id"])
    return record


HANDLERS: dict[str, Handler] = {
    "get_trackings": _list,
    "create_tracking": _create,
    "get_couriers": _couriers,
    "detect_courier": _detect,
    "get_tracking_by_id": _get,
    "update_tracking_by_id": _update,
    "delete_tracking_by_id": _delete,
    "retrack_tracking_by_id": _transition("retrack"),
    "mark_tracking_completed_by_id": _transition("mark_completed"),
    "predict": _predict,
    "predict_batch": _predict_batch,
    "get_courier_connections": _list_connections,
    "create_courier_connection": _create_connection,
    "get_courier_connection_by_id": _connection,
    "update_courier_connection_by_id": _update_connection,
    "delete_courier_connection_by_id": _delete_connection,
}

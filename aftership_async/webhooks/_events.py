"""What the receivers need to know of an event: its dedupe key and its order.

Both come from the spec (``x-aftership.webhooks.id`` and ``.order``, carried by
each API's :class:`~aftership_async.WebhookParser`), so this module names no
API's fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .._errors import InvalidRequestError
from .._types import Unset
from .._webhooks import _PARSERS, WebhookParser

__all__ = ["event_key", "is_newer", "parser_for"]


def parser_for(event: object) -> WebhookParser[Any]:
    """The parser of the API whose event model ``event`` is."""
    for parser in _PARSERS.values():
        if isinstance(event, parser.model):
            return parser
    raise InvalidRequestError(
        f"{type(event).__name__} is not a webhook event "
        f"(one of {sorted(p.model.__name__ for p in _PARSERS.values())})"
    )


def event_key(event: object) -> str | None:
    """The dedupe key of a webhook event: the same for every retried delivery of it.

    A hash of the API's name and the values of its id fields: Tracking's
    ``event_id``, Returns' ``id``, Shipping's ``(event_type, event, data["id"],
    data["status"])`` (Shipping events carry no id). ``None`` when the event
    carries none of them (it cannot be told apart from another: not deduplicated).
    """
    parser = parser_for(event)
    values = [_value(event, path) for path in parser.id_fields]
    if all(value is None for value in values):
        return None
    text = json.dumps([parser.api, *values], default=str, separators=(",", ":"))
    return parser.api + ":" + hashlib.sha256(text.encode()).hexdigest()


def is_newer(event: object, stored: object | None) -> bool:
    """Whether ``event`` describes a later state of its resource than ``stored``.

    AfterShip's retries make deliveries arrive out of order: a retried old
    event can come after a newer one. Keep the newest with::

        if is_newer(event, stored_event):
            save(event)

    The comparison uses what each payload provides, in this order, the first
    that both events carry deciding (a tie goes on to the next):

    * Tracking: the Tracking's ``msg.updated_at``, then the event's ``ts``;
    * Returns: the event's ``created_at`` (the Return has no ``updated_at``);
    * Shipping: ``data["updated_at"]`` of the resource, then ``date_time``.

    ``stored=None`` (nothing stored yet) is True. When every time both carry
    is equal it is False (the same moment: keep what is stored); when they
    share none, it is True (nothing says it is older). Raises
    :class:`InvalidRequestError` for events of two different APIs.
    """
    if stored is None:
        return True
    parser = parser_for(event)
    if not isinstance(stored, parser.model):
        raise InvalidRequestError(
            f"cannot order a {type(event).__name__} after a {type(stored).__name__}"
        )
    compared = False
    for path in parser.order_fields:
        mine, theirs = _moment(_value(event, path)), _moment(_value(stored, path))
        if mine is None or theirs is None:
            continue
        if mine != theirs:
            return mine > theirs
        compared = True
    return not compared


def _value(event: object, path: tuple[str, ...]) -> Any:
    """The value at an attribute path (model attributes, then JSON keys); None if absent."""
    current: Any = event
    for step in path:
        if isinstance(current, Mapping):
            current = current.get(step)
        else:
            current = getattr(current, step, None)
        if current is None or isinstance(current, Unset):
            return None
    return current


def _moment(value: Any) -> float | None:
    """Unix seconds of a time value: Unix seconds, a datetime, or ISO 8601 text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    moment: dt.datetime
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()

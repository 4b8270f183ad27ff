"""The cattrs converter every model goes through, in both directions.

Policy, in one place:

* a field left at :data:`UNSET` is omitted from the JSON; ``None`` is sent
  as ``null``; keys the server adds are ignored;
* attribute names that are Python keywords map back to their JSON name
  through the field's ``metadata["json"]`` (``async_`` <-> ``"async"``);
* scalars are checked, not coerced: a string where a number belongs is an
  error, never a silent ``int("abc")`` crash or ``bool("false") is True``;
* ``date-time`` strings become ``datetime`` (an offset is kept when sent),
  ``date`` strings become ``date``; enums are open (see ``OpenEnum``).

Structuring errors are left to the caller, which wraps them in
:class:`~aftership_async.InvalidResponseError`.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, Union

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._types import OpenEnum, Unset

__all__ = ["JSON_NAME", "make_converter"]

#: The attrs field metadata key holding the JSON name when it differs.
JSON_NAME = "json"


def make_converter() -> cattrs.Converter:
    """A converter configured for the generated models (and any attrs class)."""
    conv = cattrs.Converter(detailed_validation=False)

    # Class hooks dispatch on the MRO, so OpenEnum (ahead of ``str`` in every
    # generated enum's MRO) needs its own hook or enums would decode as str.
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_structure_hook(OpenEnum, _structure_enum)
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_unstructure_hook(dt.datetime, _unstructure_datetime)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_structure_hook(Any, _structure_any)

    conv.register_structure_hook_factory(_is_union, lambda t: _structure_union(conv, t))
    conv.register_structure_hook_factory(_is_list, lambda t: _structure_list(conv, t))
    conv.register_structure_hook_factory(_is_dict, lambda t: _structure_dict(conv, t))
    conv.register_structure_hook_factory(attrs.has, lambda cl: _structure_attrs(conv, cl))
    conv.register_unstructure_hook_factory(attrs.has, lambda cl: _unstructure_attrs(conv, cl))
    return conv


def _renames(cl: type) -> dict[str, Any]:
    return {
        a.name: override(rename=a.metadata[JSON_NAME])
        for a in attrs.fields(cl)
        if JSON_NAME in a.metadata
    }


def _structure_attrs(conv: cattrs.Converter, cl: type) -> Callable[[Any, Any], Any]:
    inner: Callable[[Any, Any], Any] = make_dict_structure_fn(cl, conv, **_renames(cl))
    # Checked up front: cattrs would raise a bare ``KeyError('id')`` instead.
    required = tuple(
        a.metadata.get(JSON_NAME, a.name) for a in attrs.fields(cl) if a.default is attrs.NOTHING
    )

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected a JSON object for {cl.__name__}, got {_kind(value)}")
        missing = [name for name in required if name not in value]
        if missing:
            raise ValueError(
                f"{cl.__name__} is missing required field(s) {', '.join(map(repr, missing))}"
            )
        return inner(value, cl)

    return structure


def _unstructure_attrs(conv: cattrs.Converter, cl: type) -> Callable[[Any], Any]:
    # Every optional field defaults to UNSET, so "omit if default" is exactly
    # "omit what the caller did not set"; an explicit None still goes out.
    return make_dict_unstructure_fn(cl, conv, _cattrs_omit_if_default=True, **_renames(cl))


def _is_union(t: Any) -> bool:
    return typing.get_origin(t) in (Union, types.UnionType)


def _structure_union(conv: cattrs.Converter, t: Any) -> Callable[[Any, Any], Any]:
    # Only ``X | None`` and ``X | Unset`` (and both) appear in generated code.
    # Unset never comes from JSON, so it is dropped; None passes through.
    args = [a for a in typing.get_args(t) if a is not Unset and a is not type(None)]
    if len(args) != 1:
        raise TypeError(f"unsupported union {t!r}: only X | None | Unset is generated")
    inner_type: Any = args[0]
    nullable = type(None) in typing.get_args(t)
    inner: Callable[[Any, Any], Any] | None = None

    def structure(value: Any, _: Any) -> Any:
        nonlocal inner
        if value is None:
            if nullable:
                return None
            raise TypeError("null where a value is required")
        if inner is None:
            inner = conv.get_structure_hook(inner_type)
        return inner(value, inner_type)

    return structure


def _is_list(t: Any) -> bool:
    return typing.get_origin(t) is list


def _structure_list(conv: cattrs.Converter, t: Any) -> Callable[[Any, Any], Any]:
    (item_type,) = typing.get_args(t)
    item_hook: Callable[[Any, Any], Any] | None = None

    def structure(value: Any, _: Any) -> list[Any]:
        nonlocal item_hook
        if not isinstance(value, list):
            raise TypeError(f"expected a JSON array, got {_kind(value)}")
        if item_hook is None:
            item_hook = conv.get_structure_hook(item_type)
        hook = item_hook
        return [hook(v, item_type) for v in value]

    return structure


def _is_dict(t: Any) -> bool:
    return typing.get_origin(t) is dict


def _structure_dict(conv: cattrs.Converter, t: Any) -> Callable[[Any, Any], Any]:
    _, value_type = typing.get_args(t)

    def structure(value: Any, _: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise TypeError(f"expected a JSON object, got {_kind(value)}")
        if value_type is Any:
            return dict(value)
        hook = conv.get_structure_hook(value_type)
        return {str(k): hook(v, value_type) for k, v in value.items()}

    return structure


def _structure_enum(value: Any, cl: type[enum.Enum]) -> Any:
    if not isinstance(value, str):
        raise TypeError(f"expected a string for {cl.__name__}, got {_kind(value)}")
    return cl(value)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _structure_any(value: Any, _: Any) -> Any:
    return value


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # lossless, and some carriers send numeric ids as numbers
    raise TypeError(f"expected a string, got {_kind(value)}")


def _structure_int(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected an integer, got {_kind(value)}")


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {_kind(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a boolean, got {_kind(value)}")


def _structure_datetime(value: Any, _: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected a date-time string, got {_kind(value)}")
    return dt.datetime.fromisoformat(value)


def _structure_date(value: Any, _: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"expected a date string, got {_kind(value)}")
    return dt.date.fromisoformat(value)


def _unstructure_datetime(value: dt.datetime) -> str:
    text = value.isoformat()
    # AfterShip writes UTC as "Z"; keep the round trip byte-identical.
    return text[:-6] + "Z" if text.endswith("+00:00") else text

"""The cattrs converter every model goes through, in both directions.

Policy, in one place:

* a field left at :data:`UNSET` is omitted from the JSON; ``None`` is sent
  as ``null``; keys the server adds that a :class:`Model` does not know are
  kept aside, as received, for ``model.unknown_fields()`` (and
  ``to_dict(include_unknown=True)``);
* attribute names that are Python keywords map back to their JSON name
  through the field's ``metadata["json"]`` (``async_`` <-> ``"async"``);
* scalars are checked, not coerced: a string where a number belongs is an
  error, never a silent ``int("abc")`` crash or ``bool("false") is True``;
* date and time strings become what they are: a ``datetime`` (aware when an
  offset is sent, naive when none is: no zone is invented), a ``date``, a
  ``time``. A field typed as a union of two or three of these takes each
  form it names (a bare ``YYYY-MM-DD`` stays a ``date``: no midnight is
  invented; ``HH:MM`` is a ``time``: no day is invented). Each encodes back to
  its ISO form (``Z`` for UTC; a time without seconds as ``HH:MM``). ``""`` in
  a nullable date or time field is ``None``; enums are open (see ``OpenEnum``);
* in a :class:`~aftership_async._types.Model`, a malformed value in an
  optional field (one defaulting to ``UNSET``) does not fail the object: the
  field is ``UNSET``, the raw value is kept for
  :func:`~aftership_async.malformed_fields` and a warning is logged once per
  model and field. The value is the field's whole JSON value: a nested object
  that does not decode, or a list with one item that does not, is set aside
  as a whole (a malformed optional field *inside* a nested object is set
  aside by that object's own decoder). Required fields, and every field of
  an attrs class that is not a ``Model``, fail the object as before.

Structuring errors are left to the caller, which wraps them in
:class:`~aftership_async.InvalidResponseError`.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import types
import typing
from collections.abc import Callable
from typing import Any, Union

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ._types import UNSET, Model, OpenEnum, Unset

__all__ = ["JSON_NAME", "make_converter", "skip_on_decode"]

#: The attrs field metadata key holding the JSON name when it differs.
JSON_NAME = "json"

logger = logging.getLogger("aftership_async")

#: What a field's decoding raises on a value of the wrong shape (the hooks'
#: errors); anything else is a bug and is not set aside.
_MALFORMED = (TypeError, ValueError)

#: (model, JSON field name) pairs already warned about: one warning each per process.
_WARNED: set[tuple[type, str]] = set()

#: How much of a decoding error a warning quotes (it may repeat the value).
_PROBLEM_CHARS = 60


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
    conv.register_structure_hook(dt.time, _structure_time)
    conv.register_structure_hook(OpenEnum, _structure_enum)
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_unstructure_hook(dt.datetime, _unstructure_datetime)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_unstructure_hook(dt.time, _unstructure_time)
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


#: attrs classes whose decoder is being generated (a model may contain itself).
_GENERATING: set[type] = set()


def _structure_attrs(conv: cattrs.Converter, cl: type) -> Callable[[Any, Any], Any]:
    """A decoder for one attrs class, generated as Python source on first use.

    cattrs' own generated function calls a hook for every field; for a field
    holding a plain string or number, two Python calls (the ``X | Unset | None``
    union hook, then the scalar's) are most of the cost of decoding a tracking.
    This one decodes the common case of each field inline (a ``str`` where a
    ``str`` belongs, a known enum value, a date-time string, a nested object
    or list) and calls the field's hook for everything else, so results and
    errors are the hooks' own.

    A :class:`Model` with optional fields gets a second decoder, ``tolerant``,
    in which each optional field's decoding sits in its own ``try`` whose
    handler sets the raw value aside and leaves the field ``UNSET``. The
    first decoder runs all its fields in one ``try`` (a ``try`` per field
    costs two instructions a field, measurably; one costs nothing) and hands
    over to ``tolerant`` at the field that failed, with the fields already
    decoded: a malformed value costs its own field, not a second pass.
    """
    hints = typing.get_type_hints(cl)
    fields = attrs.fields(cl)
    tolerant = issubclass(cl, Model) and any(a.default is UNSET for a in fields)
    env: dict[str, Any] = {"_cl": cl, "_kind": _kind, "UNSET": UNSET}
    required = [a.metadata.get(JSON_NAME, a.name) for a in fields if a.default is attrs.NOTHING]
    checks = [
        "    if o.__class__ is not dict and not isinstance(o, dict):",
        f"        raise TypeError('expected a JSON object for {cl.__name__}, got ' + _kind(o))",
    ]
    if required:
        # One test per required field (a list comprehension would cost a call each time).
        checks += [
            "    if " + " or ".join(f"{name!r} not in o" for name in required) + ":",
            f"        missing = [n for n in {tuple(required)!r} if n not in o]",
            f"        raise ValueError('{cl.__name__} is missing required field(s) '"
            " + ', '.join(map(repr, missing)))",
        ]
    keep_unknown = issubclass(cl, Model)
    if keep_unknown:
        checks.append("    absent = 0")
    _GENERATING.add(cl)
    try:
        decode = [
            _field_lines(conv, env, i, a, hints[a.name], count_absent=keep_unknown)
            for i, a in enumerate(fields)
        ]
    finally:
        _GENERATING.discard(cl)
    if _plain(cl):
        # No validators, converters or __setattr__ hooks: setting the slots
        # directly builds the same object as __init__, at a fraction of the
        # cost of a call with dozens of keyword arguments.
        env["_new"] = object.__new__
        build = ["    i = _new(_cl)", *(f"    i.{a.name} = v{n}" for n, a in enumerate(fields))]
    else:
        arguments = ", ".join(f"{a.alias}=v{n}" for n, a in enumerate(fields))
        build = [f"    i = _cl({arguments})"]
    # Keys the model does not know. Each optional field's decoding counts the
    # known keys the object lacks (``absent``, on the branch an absent field
    # takes anyway), so the object has other keys exactly when ``len(o)``
    # exceeds the fields it has: one comparison per object. Only then is each
    # key looked at (testing every key, ``keys() <= known``, costs ~20 ns a key).
    unknown: list[str] = []
    if keep_unknown:
        env.update(
            _known=frozenset(a.metadata.get(JSON_NAME, a.name) for a in fields),
            _ro=types.MappingProxyType,
            _setattr=object.__setattr__,  # works on frozen classes too
        )
        unknown = [
            f"    if len(o) + absent > {len(fields)}:",
            "        u = {k: v for k, v in o.items() if k not in _known}",
            "        if u:",
            "            _setattr(i, '_unknown', _ro(u))",
        ]
    if not tolerant:
        body = [*checks, *(line for lines in decode for line in lines), *build, *unknown]
    else:
        # One ``try`` around all fields; on a failure, ``tolerant`` takes over
        # at the failing field (known from the traceback's line number) with
        # the fields decoded so far, so nothing is decoded twice.
        body = [*checks, "    try:"]
        field_at: dict[int, int] = {}
        for n, lines in enumerate(decode):
            for line in lines:
                body.append("    " + line)
                field_at[len(body) + 1] = n  # line 1 is the ``def``
        body += [
            "    except _E as e:",
            # (-1, a line not found, cannot happen: it would mean one more careful pass.)
            "        return tolerant(o, _field_at.get(e.__traceback__.tb_lineno, -1), e, locals())",
            *build,
            *unknown,
        ]
        env.update(
            _E=_MALFORMED,
            _field_at=field_at,
            _aside=_set_aside,
            _ro=types.MappingProxyType,
            _setattr=object.__setattr__,  # works on frozen classes too
        )
        source = "\n".join(
            _tolerant_source(fields, decode, [*build, *unknown], count_absent=keep_unknown)
        )
        name = f"<aftership_async structure {cl.__qualname__} (tolerant)>"
        exec(compile(source, name, "exec"), env)
    body.append("    return i")
    source = "\n".join(["def structure(o, _=None):", *body])
    exec(compile(source, f"<aftership_async structure {cl.__qualname__}>", "exec"), env)
    structure: Callable[[Any, Any], Any] = env["structure"]
    return structure


def _tolerant_source(
    fields: tuple[attrs.Attribute[Any], ...],
    decode: list[list[str]],
    build: list[str],
    *,
    count_absent: bool = False,
) -> list[str]:
    """``tolerant(o, k, e, done)``: decoding resumed where field ``k`` raised ``e``.

    Fields before ``k`` are taken from ``done`` (the first decoder's locals);
    field ``k`` is set aside if optional (its local still holds the raw value:
    the assignment that raised did not happen) and re-raises ``e`` if required;
    each optional field after it is decoded in its own ``try``. ``k == -1``
    decodes every field that way. ``absent`` (the count of known keys the
    object lacks) goes on from the first decoder's count of the fields before ``k``.
    """
    source = ["def tolerant(o, k, e, done):", "    m = None"]
    if count_absent:
        source.append("    absent = done['absent'] if k >= 0 else 0")
    for n, (field, lines) in enumerate(zip(fields, decode, strict=True)):
        key = field.metadata.get(JSON_NAME, field.name)
        optional = field.default is UNSET
        source += [f"    if k > {n}:", f"        v{n} = done['v{n}']"]
        if len(lines) > 1:  # a field decoded as is (``Any``) cannot raise
            source.append(f"    elif k == {n}:")
            if optional:
                source += [
                    f"        m = _aside(_cl, m, {key!r}, done['v{n}'], e)",
                    f"        v{n} = UNSET",
                ]
            else:
                source.append("        raise e")
        source.append("    else:")
        if optional and len(lines) > 1:
            source += [
                "    " + lines[0],
                "        try:",
                *("        " + line for line in lines[1:]),
                "        except _E as err:",
                f"            m = _aside(_cl, m, {key!r}, v{n}, err)",  # v{n} is still raw
                f"            v{n} = UNSET",
            ]
        else:
            source += ["    " + line for line in lines]
    return [
        *source,
        *build,
        "    if m is not None:",
        "        _setattr(i, '_malformed', _ro(m))",
        "    return i",
    ]


def _set_aside(
    cl: type, malformed: dict[str, Any] | None, key: str, raw: Any, exc: Exception
) -> dict[str, Any]:
    """Record ``raw`` as field ``key``'s malformed value; warn once per model and field."""
    if (cl, key) not in _WARNED:
        _WARNED.add((cl, key))
        problem = str(exc) or type(exc).__name__
        if len(problem) > _PROBLEM_CHARS:
            problem = problem[:_PROBLEM_CHARS] + "..."
        # The message may quote the value: no line breaks or lone surrogates in the log.
        problem = "".join(c if c.isprintable() else "?" for c in problem)
        logger.warning(
            "%s.%s: malformed value set aside, the field is UNSET "
            "(malformed_fields() has the raw value; warned once per model and field): %s",
            cl.__name__,
            key,
            problem,
        )
    if malformed is None:
        malformed = {}
    malformed[key] = raw
    return malformed


#: attrs converters the decoder need not call (see :func:`skip_on_decode`).
_SKIPPED_ON_DECODE: set[Callable[[Any], Any]] = set()


def skip_on_decode(*converters: Callable[[Any], Any]) -> None:
    """Declare attrs converters whose work the decoder already does.

    The generated models convert an enum field's plain string to the member
    (``ShippingWeight(unit="kg")``); the decoder builds the member itself, so a
    model whose only converters are these still decodes without ``__init__``.
    """
    _SKIPPED_ON_DECODE.update(converters)


def _plain(cl: type) -> bool:
    """Whether ``__init__`` only stores its arguments (so slots can be set directly).

    Converters declared with :func:`skip_on_decode` do not count: they only turn
    strings into enum members, which the decoder produces already.
    """
    return (
        getattr(cl, "__setattr__", None) is object.__setattr__
        and not hasattr(cl, "__attrs_post_init__")
        and not hasattr(cl, "__attrs_pre_init__")
        and all(
            a.validator is None
            and (a.converter is None or a.converter in _SKIPPED_ON_DECODE)
            and a.init
            for a in attrs.fields(cl)
        )
    )


def _field_lines(
    conv: cattrs.Converter,
    env: dict[str, Any],
    i: int,
    field: Any,
    field_type: Any,
    *,
    count_absent: bool = False,
) -> list[str]:
    """Decode field ``i`` into local ``v{i}``: the common case inline, the rest by hook.

    ``count_absent``: an optional field missing from the object adds one to the
    local ``absent`` (on the branch it takes anyway: no cost for a present field).
    """
    v = f"v{i}"
    key = field.metadata.get(JSON_NAME, field.name)
    optional = field.default is not attrs.NOTHING
    lines = [f"    {v} = o.get({key!r}, UNSET)" if optional else f"    {v} = o[{key!r}]"]
    args = typing.get_args(field_type) if _is_union(field_type) else (field_type,)
    nullable = type(None) in args
    inner = [a for a in args if a is not Unset and a is not type(None)]
    fast: tuple[str, str] | None = None
    if len(inner) == 1:
        fast = _fast(conv, env, f"{i}", v, inner[0])
    elif _is_date_or_datetime(inner):
        # A string longer than a date has a time part; a bare date (and "",
        # and anything wrong) goes to the hook.
        env[f"_p{i}"] = dt.datetime.fromisoformat
        fast = f"{v}.__class__ is str and len({v}) > 10", f"_p{i}({v})"
    count = count_absent and optional
    if fast is not None and fast[0] == "True":  # ``Any``: the value as it is
        return [*lines, f"    if {v} is UNSET:", "        absent += 1"] if count else lines
    env[f"_t{i}"] = field_type
    env[f"_h{i}"] = _hook(conv, field_type)
    slow = f"        {v} = _h{i}({v}, _t{i})"
    if count:
        # The UNSET test first, counting; then the null test, then the hook.
        first = "if" if fast is None else "elif"
        rest = f"    elif {v} is not None:" if nullable else "    else:"
        tail = [f"    {first} {v} is UNSET:", "        absent += 1", rest, slow]
        if fast is None:
            return [*lines, *tail]
        check, value = fast
        lines += [f"    if {check}:", f"        {v} = {value}" if value != v else "        pass"]
        return [*lines, *tail]
    skip = [f"{v} is not UNSET"] * optional + [f"{v} is not None"] * nullable
    if fast is None:
        if skip:
            return [*lines, f"    if {' and '.join(skip)}:", slow]
        return [*lines, slow[4:]]  # a required, non-null field: not under an ``if``
    check, value = fast
    lines += [f"    if {check}:", f"        {v} = {value}" if value != v else "        pass"]
    lines += [f"    elif {' and '.join(skip)}:" if skip else "    else:", slow]
    return lines


def _fast(
    conv: cattrs.Converter, env: dict[str, Any], tag: str, v: str, t: Any
) -> tuple[str, str] | None:
    """(condition, expression) decoding value ``v`` of type ``t`` without a hook call."""
    if t is Any:
        return "True", v
    if t in (str, int, bool, float):
        env[f"_c{tag}"] = t
        return f"{v}.__class__ is _c{tag}", v
    if t in _TEMPORAL:
        env[f"_p{tag}"] = t.fromisoformat
        # "" goes to the hook, which makes it None where the field is nullable.
        return f"{v}.__class__ is str and {v}", f"_p{tag}({v})"
    if isinstance(t, type) and issubclass(t, enum.Enum):
        env[f"_m{tag}"] = t._value2member_map_
        return f"{v}.__class__ is str and {v} in _m{tag}", f"_m{tag}[{v}]"
    if attrs.has(t) and t not in _GENERATING:
        env[f"_s{tag}"] = conv.get_structure_hook(t)
        return f"{v}.__class__ is dict", f"_s{tag}({v}, None)"
    if _is_dict(t) and typing.get_args(t)[1] is Any:
        return f"{v}.__class__ is dict", f"dict({v})"
    if _is_list(t):
        (item_type,) = typing.get_args(t)
        item = _fast(conv, env, f"{tag}_", "x", item_type)
        env[f"_t{tag}_"] = item_type
        env[f"_h{tag}_"] = _hook(conv, item_type)
        slow = f"_h{tag}_(x, _t{tag}_)"
        if attrs.has(item_type) and item_type not in _GENERATING:
            # The item decoder checks each item itself: map it, no per-item test.
            return f"{v}.__class__ is list", f"list(map(_s{tag}_, {v}))"
        if item is None:
            each = slow
        elif item[0] == "True":
            each = "x"
        else:
            each = f"({item[1]} if {item[0]} else {slow})"
        return f"{v}.__class__ is list", f"[{each} for x in {v}]"
    return None


def _hook(conv: cattrs.Converter, t: Any) -> Callable[[Any, Any], Any]:
    """The converter's hook for ``t``; looked up at first use while ``t`` is being generated."""
    if attrs.has(t) and t in _GENERATING:
        return lambda value, _: conv.get_structure_hook(t)(value, t)
    hook: Callable[[Any, Any], Any] = conv.get_structure_hook(t)
    return hook


def _unstructure_attrs(conv: cattrs.Converter, cl: type) -> Callable[[Any], Any]:
    # Every optional field defaults to UNSET, so "omit if default" is exactly
    # "omit what the caller did not set"; an explicit None still goes out.
    return make_dict_unstructure_fn(cl, conv, _cattrs_omit_if_default=True, **_renames(cl))


def _is_union(t: Any) -> bool:
    return typing.get_origin(t) in (Union, types.UnionType)


#: The date and time types, each decoded from its ISO string.
_TEMPORAL = (dt.datetime, dt.date, dt.time)


def _is_date_or_datetime(members: list[Any]) -> bool:
    return len(members) == 2 and set(members) == {dt.datetime, dt.date}


def _is_temporal_union(members: list[Any]) -> bool:
    """Two or three of ``datetime``, ``date`` and ``time``, each once."""
    return (
        len(members) >= 2
        and len(set(members)) == len(members) <= 3
        and set(members) <= set(_TEMPORAL)
    )


def _structure_union(conv: cattrs.Converter, t: Any) -> Callable[[Any, Any], Any]:
    # Only ``X | None`` and ``X | Unset`` (and both) appear in generated code,
    # X being one type or a union of date and time types (``datetime | date``,
    # ``datetime | date | time``, ...). Unset never comes from JSON, so it is
    # dropped; None passes through.
    args = [a for a in typing.get_args(t) if a is not Unset and a is not type(None)]
    inner_type: Any = args[0] if len(args) == 1 else None
    inner: Callable[[Any, Any], Any] | None = None
    if _is_temporal_union(args):
        inner = _temporal_union(frozenset(args))
    elif len(args) != 1:
        raise TypeError(
            f"unsupported union {t!r}: only X | None | Unset "
            "and unions of datetime, date and time (| None | Unset) are generated"
        )
    nullable = type(None) in typing.get_args(t)
    # AfterShip sends "" for "no date"; in a nullable date field that is null.
    empty_is_none = nullable and (inner is not None or inner_type in _TEMPORAL)

    def structure(value: Any, _: Any) -> Any:
        nonlocal inner
        if value is None or (empty_is_none and value == ""):
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


def _structure_time(value: Any, _: Any) -> dt.time:
    if not isinstance(value, str):
        raise TypeError(f"expected a time string, got {_kind(value)}")
    return dt.time.fromisoformat(value)


_TEMPORAL_NAMES = {dt.datetime: "date-time", dt.date: "date", dt.time: "time"}


def _temporal_union(members: frozenset[type]) -> Callable[[Any, Any], Any]:
    """A decoder for a union of date and time types: each string as what it is.

    A string of at most ten characters that is a date is a ``date`` (never
    midnight); one that starts ``HH:`` is a ``time`` (no day invented); the
    rest is a ``datetime``, aware or naive as sent. A form the union does not
    name is a ``ValueError``.
    """
    date, time, moment = dt.date in members, dt.time in members, dt.datetime in members
    wanted = " or ".join(_TEMPORAL_NAMES[t] for t in _TEMPORAL if t in members)

    def structure(value: Any, _: Any) -> dt.date | dt.time:
        if not isinstance(value, str):
            raise TypeError(f"expected a {wanted} string, got {_kind(value)}")
        if date and len(value) <= 10:  # the longest date alone, "YYYY-MM-DD"
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass  # "2022W03T10" is a date-time in 10 characters
        if time and value[2:3] == ":":  # "10:30", "10:30:00", "10:30:00+08:00"
            return dt.time.fromisoformat(value)
        if moment:
            return dt.datetime.fromisoformat(value)
        raise ValueError(f"expected a {wanted} string, got {value[:40]!r}")

    return structure


def _utc_as_z(text: str) -> str:
    # AfterShip writes UTC as "Z"; keep the round trip byte-identical.
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _unstructure_datetime(value: dt.datetime) -> str:
    return _utc_as_z(value.isoformat())


def _unstructure_time(value: dt.time) -> str:
    """``HH:MM`` when there are no seconds (AfterShip's form), else ``HH:MM:SS[.ffffff]``."""
    whole_minutes = value.second == 0 and value.microsecond == 0
    return _utc_as_z(value.isoformat(timespec="minutes" if whole_minutes else "auto"))

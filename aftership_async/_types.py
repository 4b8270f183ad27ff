"""Small value types shared by the runtime and the generated code.

``UNSET`` marks a field the caller did not set, so that a request sends only
what was set and can still send an explicit ``null`` (``None``). ``OpenEnum``
is the base of every generated enum: a value the server adds later is kept,
not turned into an exception. ``Model`` is the base of every generated model:
it holds what :func:`malformed_fields` returns.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, final

import attrs

__all__ = ["UNSET", "Model", "OpenEnum", "Unset", "malformed_fields"]


@final
class Unset:
    """The type of :data:`UNSET`: "no value given", distinct from ``None``.

    It is falsy, so ``if tracking.title:`` reads naturally, and it is a
    singleton that survives copy and pickle.
    """

    _instance: Unset | None = None
    __slots__ = ()

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False

    def __copy__(self) -> Unset:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Unset:
        return self

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


class OpenEnum(enum.StrEnum):
    """A string enum that accepts values it does not list.

    ``Tag("NewTag")`` returns a pseudo-member whose ``value`` is ``"NewTag"``
    and whose ``is_known`` is ``False``; it compares equal to the string, so
    code written against today's values keeps working when AfterShip adds one.
    Pseudo-members are not cached, so hostile input cannot grow the enum.
    """

    @classmethod
    def _missing_(cls, value: object) -> OpenEnum | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """``True`` for a value listed in the spec, ``False`` for one kept as-is."""
        return type(self).__members__.get(self._name_) is self


_NOTHING_MALFORMED: Final[Mapping[str, Any]] = MappingProxyType({})


class Model:
    """The base of every generated model; it adds no field.

    Its one slot, ``_malformed``, is not an attrs field (so ``attrs.fields``,
    equality, ``repr`` and encoding ignore it) and is set only by the decoder,
    only when an optional field held a value it could not decode: see
    :func:`malformed_fields`. Copies (``copy``, ``pickle``, ``attrs.evolve``)
    do not carry it.
    """

    __slots__ = ("_malformed",)
    _malformed: Mapping[str, Any]


def malformed_fields(model: object) -> Mapping[str, Any]:
    """The raw JSON values the decoder set aside in ``model``, by JSON field name.

    A malformed value in an optional field (a date that is no date, a string
    where an object belongs, a list with one bad item...) does not fail the
    response: the field decodes as :data:`UNSET`, a warning names the model and
    the field (once per model and field), and the value as received is kept
    here. Empty when every field decoded. Only ``model`` itself is described:
    a nested model has its own entries (``malformed_fields(tracking.courier)``).
    """
    if isinstance(model, Model):
        return getattr(model, "_malformed", _NOTHING_MALFORMED)
    if attrs.has(type(model)):
        return _NOTHING_MALFORMED  # not a Model: decoded strictly, nothing set aside
    raise TypeError(f"malformed_fields() takes a model, not {type(model).__name__}")

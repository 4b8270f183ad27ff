"""Small value types shared by the runtime and the generated code.

``UNSET`` marks a field the caller did not set, so that a request sends only
what was set and can still send an explicit ``null`` (``None``). ``OpenEnum``
is the base of every generated enum: a value the server adds later is kept,
not turned into an exception.
"""

from __future__ import annotations

import enum
from typing import Any, Final, final

__all__ = ["UNSET", "OpenEnum", "Unset"]


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

"""Small value types shared by the runtime and the generated code.

``UNSET`` marks a field the caller did not set, so that a request sends only
what was set and can still send an explicit ``null`` (``None``). ``OpenEnum``
is the base of every generated enum: a value the server adds later is kept,
not turned into an exception. ``Model`` is the base of every generated model:
it holds what :func:`malformed_fields` returns, and converts a model to and
from the API's JSON (``to_dict``/``to_json``, ``from_dict``/``from_json``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Self, final

import attrs

from . import _json
from ._errors import InvalidDataError

if TYPE_CHECKING:
    import cattrs

__all__ = ["UNSET", "Model", "OpenEnum", "Unset", "malformed_fields", "use_converter"]


@final
class Unset:
    """The type of :data:`UNSET`: "no value given", distinct from ``None``.

    It is falsy, so ``if tracking.title:`` reads naturally (and type checkers
    narrow ``str | Unset`` to ``str`` there: ``__bool__`` returns
    ``Literal[False]``), and it is a singleton that survives copy and pickle.
    """

    _instance: Unset | None = None
    __slots__ = ()

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False

    def __copy__(self) -> Unset:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Unset:
        return self

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Final[Unset] = Unset()


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

    __slots__ = ("_malformed", "_unknown")
    _malformed: Mapping[str, Any]
    _unknown: Mapping[str, Any]

    def unknown_fields(self) -> Mapping[str, Any]:
        """The fields the decoded JSON had that this model does not know, as received.

        By JSON name; empty when there were none, or when the model was built in
        code. A field AfterShip added before the spec did is here instead of lost.
        Only this model's own: a nested model has its own
        (``tracking.checkpoints[0].unknown_fields()``); ``to_dict(include_unknown=True)``
        puts them all back.
        """
        return getattr(self, "_unknown", _NOTHING_MALFORMED)

    def to_dict(self, *, include_unknown: bool = False) -> dict[str, Any]:
        """The model as the API's JSON value: wire names, ISO dates, ``UNSET`` left out.

        Exactly what a request body sends (``None`` stays as ``null``); nested
        models and enums become plain dicts and strings. The inverse of
        :meth:`from_dict`. ``include_unknown=True`` adds back the fields the
        decoded JSON had that the models do not know (:meth:`unknown_fields`),
        at every level, so a response round-trips whole.
        """
        out: dict[str, Any] = _converter().unstructure(self)
        if include_unknown:
            merged: dict[str, Any] = _with_unknown(self, out)
            return merged
        return out

    def to_json(self, *, indent: int | None = None, include_unknown: bool = False) -> str:
        """``json.dumps(self.to_dict())``: a string to store, log or cache."""
        return json.dumps(self.to_dict(include_unknown=include_unknown), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the model from its JSON value (what :meth:`to_dict` or the API gives).

        Decoded exactly as a response is: unknown keys are kept aside
        (:meth:`unknown_fields`), unknown enum
        values kept, and a malformed optional field is set aside
        (:func:`malformed_fields`). Data that does not fit (a missing required
        field, a wrong type in one) raises :class:`~aftership_async.InvalidDataError`,
        a ``ValueError``.
        """
        if isinstance(data, Mapping) and not isinstance(data, dict):
            data = dict(data)
        try:
            model: Self = _converter().structure(data, cls)
        except Exception as exc:  # cattrs, enum and date parsing raise many kinds
            text = str(exc) or type(exc).__name__
            if len(text) > 300:
                text = text[:300] + "..."
            raise InvalidDataError(f"the data does not match {cls.__name__}: {text}") from exc
        return model

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """:meth:`from_dict` of ``json.loads(text)``; invalid JSON raises ``InvalidDataError``."""
        try:
            data = _json.loads(text)
        except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes
            raise InvalidDataError(f"not JSON for {cls.__name__}: {exc}") from None
        return cls.from_dict(data)


def _with_unknown(value: Any, out: Any) -> Any:
    """``out`` (the JSON of ``value``) with every nested model's unknown fields put back."""
    if isinstance(value, Model) and isinstance(out, dict):
        for field in attrs.fields(type(value)):  # type: ignore[arg-type]
            key = field.metadata.get("json", field.name)  # _converter.JSON_NAME
            if key in out:
                out[key] = _with_unknown(getattr(value, field.name), out[key])
        for key, raw in value.unknown_fields().items():
            out.setdefault(key, raw)
        return out
    if isinstance(value, list) and isinstance(out, list):
        return [_with_unknown(v, o) for v, o in zip(value, out, strict=False)]
    if isinstance(value, dict) and isinstance(out, dict):
        return {k: _with_unknown(value.get(k), o) for k, o in out.items()}
    return out


_CONVERTER: cattrs.Converter | None = None


def use_converter(converter: cattrs.Converter) -> None:
    """Make ``converter`` the one :meth:`Model.from_dict` and friends use.

    The generated layer calls it once with its converter (the runtime imports
    nothing generated: the models sit on top of this module).
    """
    global _CONVERTER
    _CONVERTER = converter


def _converter() -> cattrs.Converter:
    """The converter the generated layer registered (:func:`use_converter`)."""
    if _CONVERTER is None:  # only when a model class is used without its package
        raise RuntimeError("no converter registered: import aftership_async first")
    return _CONVERTER


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

"""The intermediate model between a spec and the templates: plain typed classes.

Templates only read these; every decision about names and types is made in
:mod:`codegen.build`, so the templates stay free of logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TypeKind = Literal[
    "str", "int", "float", "bool", "any", "datetime", "date", "model", "enum", "list", "dict"
]

_SCALARS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "any": "Any",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
}


@dataclass(frozen=True)
class TypeRef:
    """A Python type for a schema: a scalar, a named model or enum, or a container."""

    kind: TypeKind
    name: str | None = None
    item: TypeRef | None = None

    @property
    def annotation(self) -> str:
        if self.kind in _SCALARS:
            return _SCALARS[self.kind]
        if self.kind in ("model", "enum"):
            assert self.name
            return self.name
        assert self.item is not None
        if self.kind == "list":
            return f"list[{self.item.annotation}]"
        return f"dict[str, {self.item.annotation}]"

    def names(self) -> set[str]:
        """Model and enum names this type mentions."""
        if self.kind in ("model", "enum"):
            assert self.name
            return {self.name}
        return self.item.names() if self.item else set()

    def mentions(self, kind: TypeKind) -> bool:
        return self.kind == kind or (self.item is not None and self.item.mentions(kind))


@dataclass(frozen=True)
class Field:
    json_name: str
    py_name: str
    type: TypeRef
    required: bool
    nullable: bool
    description: str

    @property
    def annotation(self) -> str:
        text = self.type.annotation
        if not self.required:
            text += " | Unset"
        if self.nullable:
            text += " | None"
        return text

    @property
    def renamed(self) -> bool:
        return self.json_name != self.py_name


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class EnumMember:
    name: str
    value: str


@dataclass(frozen=True)
class EnumDef:
    name: str
    description: str
    members: tuple[EnumMember, ...]


@dataclass(frozen=True)
class Param:
    json_name: str
    py_name: str
    location: Literal["path", "query"]
    type: TypeRef
    required: bool
    description: str

    @property
    def annotation(self) -> str:
        text = self.type.annotation
        if self.type.kind in ("enum", "datetime", "date"):
            text += " | str"
        return text


@dataclass(frozen=True)
class Pagination:
    style: Literal["cursor", "next_token", "page"]
    items: str
    #: The annotation of one item (``Tracking``).
    item_type: str
    #: ``get_trackings`` -> ``iter_trackings``.
    method: str

    @property
    def token_param(self) -> str:
        return {"cursor": "cursor", "next_token": "next_token", "page": "page"}[self.style]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    listed_method: str | None
    tag: str
    summary: str
    description: str
    path_params: tuple[Param, ...]
    query_params: tuple[Param, ...]
    body: TypeRef | None
    response: TypeRef
    success_status: int
    rate_limit: float | None
    pagination: Pagination | None

    @property
    def body_check(self) -> str | None:
        """The runtime class a body must be an instance of."""
        if self.body is None:
            return None
        return "dict" if self.body.kind == "dict" else self.body.annotation

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Api:
    name: str
    title: str
    version: str
    base_url: str
    envelope: str
    default_rate_limit: float
    spec_file: str
    spec_sha256: str
    description: str
    operations: tuple[Operation, ...]
    models: tuple[Model, ...]
    enums: tuple[EnumDef, ...]

    @property
    def class_name(self) -> str:
        return self.name.capitalize() + "API"

"""The intermediate model between a spec and the templates: plain typed classes.

Templates only read these; every decision about names and types is made in
:mod:`codegen.build`, so the templates stay free of logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TypeKind = Literal[
    "str",
    "int",
    "float",
    "bool",
    "any",
    "datetime",
    "date",
    "time",
    # A union of two or three of datetime, date and time (``TypeRef.forms``).
    "temporal",
    "model",
    "enum",
    "list",
    "dict",
]

_SCALARS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "any": "Any",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "time": "datetime.time",
}

#: The Python types of date and time values, in the order a union of them is written.
TEMPORAL_KINDS: tuple[TypeKind, ...] = ("datetime", "date", "time")


@dataclass(frozen=True)
class TypeRef:
    """A Python type for a schema: a scalar, a named model or enum, or a container."""

    kind: TypeKind
    name: str | None = None
    item: TypeRef | None = None
    #: ``temporal`` only: the kinds of the union, in ``TEMPORAL_KINDS`` order. A value
    #: is decoded as what it is (a carrier's bare date never becomes midnight, a time of
    #: day never gets a date).
    forms: tuple[TypeKind, ...] = ()

    @property
    def annotation(self) -> str:
        if self.kind in _SCALARS:
            return _SCALARS[self.kind]
        if self.kind == "temporal":
            return " | ".join(_SCALARS[form] for form in self.forms)
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

    @property
    def uses_datetime_module(self) -> bool:
        return any(self.mentions(k) for k in (*TEMPORAL_KINDS, "temporal"))


@dataclass(frozen=True)
class Field:
    json_name: str
    py_name: str
    type: TypeRef
    required: bool
    nullable: bool
    description: str
    #: ``x-sensitive: true``: a credential, left out of the model's repr.
    sensitive: bool = False

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

    @property
    def _enum(self) -> TypeRef | None:
        """The enum of an enum field or a list-of-enum field."""
        if self.type.kind == "enum":
            return self.type
        if self.type.kind == "list" and self.type.item and self.type.item.kind == "enum":
            return self.type.item
        return None

    @property
    def input_converter(self) -> InputConverter | None:
        """How an enum field takes a plain string at construction (``unit="kg"``)."""
        enum = self._enum
        if enum is None:
            return None
        assert enum.name
        many = self.type.kind == "list"
        name = "_" + enum.name + "_list" * many + "_or_unset" * (not self.required)
        name += "_or_none" * self.nullable
        item = f"{enum.name} | str"
        text = f"list[{item}]" if many else item
        guards = ["value is None"] * self.nullable
        guards += ["isinstance(value, Unset)"] * (not self.required)
        convert = f"[{enum.name}(v) for v in value]" if many else f"{enum.name}(value)"
        if guards:
            convert = f"value if {' or '.join(guards)} else {convert}"
        tail = " | Unset" * (not self.required) + " | None" * self.nullable
        return InputConverter(
            name=name, takes=text + tail, returns=self.annotation, expression=convert
        )


@dataclass(frozen=True)
class InputConverter:
    """A generated attrs converter: an enum field's value from an enum member or a string."""

    name: str
    #: The annotation of what ``__init__`` takes (``Tag | str | Unset``).
    takes: str
    #: The field's own annotation (``Tag | Unset``).
    returns: str
    #: The Python expression converting ``value``.
    expression: str


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
    #: ``x-comma-list: true``: a string of comma-separated values; a list or
    #: tuple of strings is accepted too and joined with commas by the transport.
    comma_list: bool = False
    #: A path parameter's ``schema.pattern``: the client refuses other values before sending.
    pattern: str | None = None
    #: How the transport writes a value of this query parameter (``Operation.query_formats``):
    #: ``"date-time-seconds"`` for a ``format: date-time`` with AfterShip's pattern.
    wire_format: str | None = None

    @property
    def annotation(self) -> str:
        text = self.type.annotation
        if self.type.kind in ("enum", "datetime", "date"):
            text += " | str"
        if self.comma_list:
            text += " | list[str] | tuple[str, ...]"
        return text


@dataclass(frozen=True)
class Pagination:
    style: Literal["cursor", "next_token", "page"]
    #: The Python name of the ``data`` field holding a page's items.
    items: str
    #: The annotation of one item (``Tracking``).
    item_type: str
    #: ``get_trackings`` -> ``iter_trackings``.
    method: str
    #: The query parameter carrying the position (``cursor``, ``next_token``, ``page``): its
    #: wire name (left out of the ``iter_*`` method) and its keyword in the list method.
    token_param: str
    request: str
    #: Python attribute path from ``data`` to the next position (cursor, next_token styles).
    next: tuple[str, ...] = ()
    #: Python attribute path from ``data`` to "there are more pages" (cursor, page styles).
    has_more: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alias:
    """A listed method served by another operation (``x-listed-as``).

    ``get_user_couriers()`` is ``get_couriers(active=True)``; ``get_all_couriers()``
    is ``get_couriers()`` without ``active`` (a fixed value of None is never sent).
    """

    operation_id: str
    #: ``"GET /couriers/all"``: the method and path in the operation list.
    listed: str
    summary: str
    #: Query parameters the alias always sends, by Python name.
    fixed_query: tuple[tuple[str, object], ...]

    @property
    def fixed_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.fixed_query)


RetryClass = Literal["idempotent", "natural-key", "unsafe"]


@dataclass(frozen=True)
class RetrySafety:
    """What a repeat of an operation does (``x-aftership.retry``): the transport's retry rule.

    ``idempotent``: a repeat changes nothing more (reads, PUT/PATCH/DELETE, POSTs that only
    compute). ``natural-key``: a repeat is refused with ``key_code`` (when every body field of
    ``key_fields`` is set; a key of no fields is the resource in the path). ``unsafe``: a repeat
    may act twice, so it is sent again only when the request provably never reached AfterShip.
    """

    retry: RetryClass
    reason: str
    key_fields: tuple[str, ...] = ()
    key_code: int | None = None
    #: How a caller finds out what happened after an ambiguous failure.
    outcome_check: str | None = None


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
    safety: RetrySafety
    aliases: tuple[Alias, ...] = ()

    @property
    def query_formats(self) -> tuple[tuple[str, str], ...]:
        """``(json name, wire format)`` of the query parameters the transport must format."""
        return tuple((p.json_name, p.wire_format) for p in self.query_params if p.wire_format)

    @property
    def constant(self) -> str:
        """The module constant holding the operation's description: ``CREATE_LABEL``."""
        return self.operation_id.upper()

    @property
    def body_check(self) -> str | None:
        """The runtime class a body must be an instance of."""
        if self.body is None:
            return None
        return "dict" if self.body.kind == "dict" else self.body.annotation

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_patterns(self) -> tuple[tuple[str, str], ...]:
        """(JSON name, pattern) of each path parameter the spec constrains."""
        return tuple((p.json_name, p.pattern) for p in self.path_params if p.pattern is not None)


@dataclass(frozen=True)
class ErrorRules:
    """How an API's envelope reports errors (``x-aftership.errors``)."""

    #: A meta code at or above this marks an error even under HTTP 200 (Shipping).
    business_min_code: int | None
    #: The ``meta`` key holding a list of error details.
    details_key: str | None
    #: Meta codes that say the request may be retried.
    retryable_codes: tuple[int, ...]
    #: Meta code -> the name of the runtime's exception class, in code order.
    classes: tuple[tuple[int, str], ...]
    #: Meta codes at or above ``business_min_code`` that are a success whose record is
    #: still pending (Shipping 3001): the data is returned for the caller to poll.
    pending_codes: tuple[int, ...] = ()

    @property
    def class_names(self) -> list[str]:
        return sorted({name for _, name in self.classes})


@dataclass(frozen=True)
class Webhooks:
    """How AfterShip signs, dates and versions an API's webhooks (``x-aftership.webhooks``)."""

    #: The public parser's name (``parse_webhook``).
    parser: str
    #: The model of a delivery's body.
    event: str
    #: (header, value prefix), in the order they are looked for.
    signature_headers: tuple[tuple[str, str], ...]
    time_field: str
    time_required: bool
    #: The event field receiving ``as-webhook-version`` (None: unversioned webhooks).
    version_field: str | None
    #: Attribute paths whose values make a delivery's dedupe key (``x-aftership.webhooks.id``).
    id_fields: tuple[tuple[str, ...], ...] = ()
    #: Attribute paths ordering two events of one resource, first decides (``order``).
    order_fields: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class BulkBinding:
    """What the bulk helpers call (``x-aftership.bulk``), bound by the generated layer.

    The runtime's ``Bulk`` is generic: the generated ``_bulk.py`` hands it these
    methods of the API group, the request models and the error classes.
    """

    #: The ``iter_*`` method that finds trackings by number, and its parameters.
    lookup: str
    numbers_param: str
    per_request: int
    page_size_param: str
    page_size: int
    create: str
    create_request: str
    get: str
    detect: str
    detect_request: str
    detect_result: str
    #: The one resource all of them answer (``Tracking``).
    item: str
    #: The error class of the create's natural-key refusal (a repeat of a create).
    already_exists: str
    #: The meta code of a lookup that found nothing.
    not_found_code: int


@dataclass(frozen=True)
class Api:
    name: str
    title: str
    version: str
    base_url: str
    envelope: str
    errors: ErrorRules
    webhooks: Webhooks | None
    #: The top-level ``x-aftership.bulk`` block (None: this API has no bulk helpers).
    bulk: BulkBinding | None
    default_rate_limit: float
    #: ``"endpoint"``: each endpoint has its own rate budget; ``"api"``: one for the whole API.
    rate_limit_scope: str
    #: The support window of the pinned version (ISO dates; None where AfterShip gives none).
    released: str | None
    supported_until: str | None
    spec_file: str
    spec_sha256: str
    description: str
    operations: tuple[Operation, ...]
    models: tuple[Model, ...]
    enums: tuple[EnumDef, ...]

    @property
    def class_name(self) -> str:
        return self.name.capitalize() + "API"

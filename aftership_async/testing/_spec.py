"""The three shipped OpenAPI documents, turned into routable operations.

The fake reads the same resolved JSON specs the client was generated from
(``aftership_async/_generated/specs/<api>.json``), so a new operation or
field in the spec is routed, validated and sampled without touching the
fake. PyYAML is not a runtime dependency, hence the JSON copies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import attrs

__all__ = ["APIS", "ApiSpec", "Operation", "Param", "load_specs"]

APIS = ("tracking", "shipping", "returns")
#: Where the resolved JSON specs live: the one place that names the generated package.
SPEC_PACKAGE, SPEC_DIR = "aftership_async._generated", "specs"
_METHODS = ("get", "post", "put", "patch", "delete")


@attrs.frozen
class Param:
    """One path or query parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    #: ``x-comma-list``: the value is a comma-separated list (``slug=dhl,ups``).
    comma: bool = False


@attrs.frozen
class Operation:
    """One operation: where it lives, what it takes and what it answers."""

    api: str
    operation_id: str
    method: str
    path: str
    params: tuple[Param, ...]
    body_schema: Mapping[str, Any] | None
    data_schema: Mapping[str, Any]
    status: int
    rate_limit: float
    regex: re.Pattern[str] = attrs.field(eq=False, repr=False)
    #: What the rate limit counts against: the endpoint key, or ``"*"`` for a whole-API budget.
    budget: str = ""
    literal_segments: int = 0
    #: The spec's retry declaration (``x-aftership.retry``): idempotent, natural-key or unsafe.
    retry: str = "idempotent"
    #: Body fields whose repeat AfterShip refuses with ``key_code`` (``x-aftership.natural-key``).
    key_fields: tuple[str, ...] = ()
    key_code: int | None = None
    #: ``(style, items property)`` of the spec's ``x-pagination``, for list operations.
    paging: tuple[str, str] | None = None
    #: The property names of the answer's ``data`` (resolved), for list echoes.
    data_properties: frozenset[str] = frozenset()

    @property
    def endpoint(self) -> str:
        """The endpoint key used by rate limits: ``"GET /trackings/{id}"``."""
        return f"{self.method} {self.path}"


@attrs.frozen
class ApiSpec:
    """One API: its URL prefix, envelope and operations."""

    name: str
    version: str
    prefix: str
    default_rate_limit: float
    document: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    operations: tuple[Operation, ...] = attrs.field(eq=False, repr=False)
    #: The spec's ``x-aftership.errors.pending-codes``: success codes of an unfinished record.
    pending_codes: tuple[int, ...] = ()
    #: The spec's ``x-aftership.rate-limit-headers``: how the API spells its rate-limit headers.
    rate_limit_headers: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    def schema(self, name: str) -> Mapping[str, Any]:
        """A component schema by name."""
        result: Mapping[str, Any] = self.document["components"]["schemas"][name]
        return result

    def resolve(self, node: Any) -> Any:
        """Follow ``$ref`` until a concrete node is reached."""
        while isinstance(node, Mapping) and "$ref" in node:
            target: Any = self.document
            for part in str(node["$ref"])[2:].split("/"):
                target = target[part]
            node = target
        return node

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a method and a path relative to :attr:`prefix`."""
        for op in self.operations:
            if op.method != method:
                continue
            found = op.regex.fullmatch(path)
            if found is not None:
                return op, found.groupdict()
        return None

    def methods_at(self, path: str) -> list[str]:
        """The methods some operation serves at ``path`` (for 405's ``Allow``)."""
        matching = [op for op in self.operations if op.regex.fullmatch(path)]
        if not matching:
            return []
        # ``/returns/link`` is the link path only, not also ``/returns/{return_id}``.
        best = max(op.literal_segments for op in matching)
        return sorted({op.method for op in matching if op.literal_segments == best})

    def operation(self, operation_id: str) -> Operation:
        """An operation by its ``operationId``."""
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)


def _template_regex(path: str) -> tuple[re.Pattern[str], int]:
    parts = []
    literals = 0
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            literals += 1
    return re.compile("/" + "/".join(parts)), literals


def _build(name: str, document: Mapping[str, Any]) -> ApiSpec:
    info = document["x-aftership"]
    default_limit = float(info.get("default-rate-limit", 10))
    spec = ApiSpec(
        name=name,
        version=str(info["version"]),
        prefix=urlsplit(document["servers"][0]["url"]).path.rstrip("/"),
        default_rate_limit=default_limit,
        document=document,
        operations=(),
        rate_limit_headers=dict(info.get("rate-limit-headers") or {}),
        pending_codes=tuple((info.get("errors") or {}).get("pending-codes") or ()),
    )
    operations: list[Operation] = []
    for path, item in document["paths"].items():
        shared = [spec.resolve(p) for p in item.get("parameters", [])]
        for method in _METHODS:
            if method not in item:
                continue
            op = item[method]
            own = [spec.resolve(p) for p in op.get("parameters", [])]
            merged = {(p["in"], p["name"]): p for p in [*shared, *own]}
            params = tuple(
                Param(
                    name=p["name"],
                    location=p["in"],
                    required=bool(p.get("required", False)),
                    schema=p.get("schema", {}),
                    comma=bool(p.get("x-comma-list")),
                )
                for p in merged.values()
            )
            body = None
            if "requestBody" in op:
                body = spec.resolve(op["requestBody"])["content"]["application/json"]["schema"]
            (status,) = [code for code in op["responses"] if str(code).startswith("2")]
            envelope = spec.resolve(op["responses"][status])["content"]["application/json"]
            regex, literals = _template_regex(path)
            declared = op.get("x-aftership", {})
            key = declared.get("natural-key") or {}
            data = envelope["schema"]["properties"]["data"]
            paging = op.get("x-pagination")
            operations.append(
                Operation(
                    api=name,
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    params=params,
                    body_schema=body,
                    data_schema=data,
                    status=int(status),
                    rate_limit=float(op.get("x-rate-limit", default_limit)),
                    budget="*" if info.get("rate-limit-scope") == "api" else "",
                    regex=regex,
                    literal_segments=literals,
                    retry=declared.get("retry", "idempotent"),
                    key_fields=tuple(key.get("fields") or ()),
                    key_code=key.get("code"),
                    paging=(paging["style"], paging["items"]) if paging else None,
                    data_properties=frozenset(spec.resolve(data).get("properties", {})),
                )
            )
    # Literal segments win over parameters (``/couriers/all`` before ``/couriers/{x}``).
    operations.sort(key=lambda o: -o.literal_segments)
    return attrs.evolve(spec, operations=tuple(operations))


@cache
def load_specs() -> Mapping[str, ApiSpec]:
    """The three API specs, read once from the generated package's data files."""
    root = resources.files(SPEC_PACKAGE).joinpath(SPEC_DIR)
    specs: dict[str, ApiSpec] = {}
    for name in APIS:
        document = json.loads(root.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        specs[name] = _build(name, document)
    return specs

"""Values built from the spec's schemas: samples, fresh records, request overlays, paths.

* :func:`sample` is a complete, deterministic value for any schema (the answer of a
  fault's body, and what schemathesis-style tests compare with);
* :func:`fresh` is a new resource as AfterShip would first show it: required fields
  sampled, nullable ones null, lists empty;
* :func:`overlay` lays a request's fields over a record wherever the response schema
  has the field and the value fits it, so a schema change reaches the fake unedited;
* :func:`values` reads a declared path (``a.b``, ``a[]``, ``a.*``) of a record.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Mapping
from functools import cache
from typing import Any

from ._spec import ApiSpec
from ._validate import check_value

__all__ = ["EPOCH", "fresh", "iso", "overlay", "sample", "stable_hex", "stable_uuid", "values"]

EPOCH = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
"""The "present" of generated content (tracking stories count back from it)."""


def stable_hex(*parts: object, length: int = 32) -> str:
    """A hex digest of the parts: stable ids that do not depend on dict order or PYTHONHASHSEED."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:length]


def stable_uuid(*parts: object) -> str:
    """A UUID-shaped stable id (Shipping and Returns ids look like UUIDs)."""
    h = stable_hex(*parts)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with offset, seconds precision, as AfterShip sends it."""
    return moment.replace(microsecond=0).isoformat()


def _kinds(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", "object" if "properties" in schema else None)
    return [] if kind is None else [kind] if isinstance(kind, str) else list(kind)


def _branch(spec: ApiSpec, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, bool]:
    """The first non-null branch of a oneOf/anyOf, and whether null is allowed."""
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            branches = [spec.resolve(b) for b in schema[combinator]]
            real = [b for b in branches if _kinds(b) != ["null"]]
            return (real[0] if real else None), len(real) < len(branches)
    return schema, "null" in _kinds(schema)


def sample(spec: ApiSpec, schema: Any, key: str, depth: int = 0, *, new: bool = False) -> Any:
    """A value valid for ``schema``, deterministic in ``key``.

    ``new``: a fresh record's value (nullable -> None, arrays empty, optional objects only
    where required); otherwise optional parts are filled down to a small depth.
    """
    node, nullable = _branch(spec, spec.resolve(schema))
    if new and node is not None and "array" in _kinds(node):
        return []
    if node is None or (nullable and (new or depth >= 4)):
        return None
    if "enum" in node:
        options = [v for v in node["enum"] if v is not None]
        return options[int(stable_hex(key, length=6), 16) % len(options)]
    kinds = [k for k in _kinds(node) if k != "null"]
    kind = kinds[0] if kinds else None
    if kind == "string":
        fmt = node.get("format")
        if fmt in ("date-time", "date"):
            return iso(EPOCH) if fmt == "date-time" else EPOCH.date().isoformat()
        if isinstance(node.get("example"), str):
            return node["example"]
        return f"{key.rsplit('.', 1)[-1]}-{stable_hex(key, length=6)}"
    if kind == "integer":
        low = int(node.get("minimum", 1))
        return max(low, min(int(node.get("maximum", low + 9)), low + 1))
    if kind == "number":
        return float(node.get("minimum", 1.5))
    if kind == "boolean":
        return False
    if kind == "array":
        if new or depth >= 4:
            return []
        return [sample(spec, node.get("items", {}), f"{key}[0]", depth + 1)]
    if kind == "object":
        required = set(node.get("required", []))
        return {
            name: sample(spec, sub, f"{key}.{name}", depth + 1, new=new)
            for name, sub in node.get("properties", {}).items()
            if name in required or depth < (5 if new else 3)
        }
    return None if kind is None and nullable else {}


def fresh(spec: ApiSpec, schema_name: str, key: str) -> dict[str, Any]:
    """A new record of a component schema: every property present, nothing happened yet."""
    return copy.deepcopy(_fresh(id(spec.document), spec, schema_name, key))


@cache
def _fresh(document_id: int, spec: ApiSpec, schema_name: str, key: str) -> dict[str, Any]:
    node = spec.schema(schema_name)
    return {
        name: sample(spec, sub, f"{key}.{name}", 1, new=True)
        for name, sub in node.get("properties", {}).items()
    }


def overlay(spec: ApiSpec, schema: Any, record: Any, request: Any, key: str = "") -> Any:
    """``record`` with ``request``'s fields laid over it where ``schema`` takes them."""
    node, _ = _branch(spec, spec.resolve(schema))
    if node is None or request is None:
        return request if node is not None and not check_value(spec, schema, request) else record
    if isinstance(request, Mapping) and "object" in _kinds(node) and "properties" in node:
        base = dict(record) if isinstance(record, Mapping) else sample(spec, node, key, 1, new=True)
        for name, sub in node["properties"].items():
            if name in request:
                base[name] = overlay(spec, sub, base.get(name), request[name], f"{key}.{name}")
        return base
    if isinstance(request, list) and "array" in _kinds(node):
        items = node.get("items", {})
        return [overlay(spec, items, None, r, f"{key}[{i}]") for i, r in enumerate(request)]
    return request if not check_value(spec, schema, request) else record


def values(record: Any, path: str) -> list[Any]:
    """Every value at ``path``: ``a.b`` nests, ``a[]`` spreads a list, ``a.*`` a mapping."""
    found = [record]
    for part in path.split("."):
        spread = part.endswith("[]")
        name = part.removesuffix("[]")
        step: list[Any] = []
        for value in found:
            if name == "*":
                step += list(value.values()) if isinstance(value, Mapping) else []
            elif isinstance(value, Mapping) and value.get(name) is not None:
                got = value[name]
                step += list(got) if spread and isinstance(got, list) else [got]
        found = step
    return found


def put(record: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` (``a.b`` or ``items[].field``) of ``record``; ``=name`` copies a sibling."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        for item in record.get(head[:-2]) or []:
            put(item, rest, value)
    elif rest:
        put(record.setdefault(head, {}), rest, value)
    else:
        copied = isinstance(value, str) and value.startswith("=")
        record[head] = record.get(value[1:]) if copied else value

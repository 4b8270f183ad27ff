"""Spec-driven test data: the specs, the example payloads, and sample values.

``sample`` builds a JSON value for a schema with *every* property present, so
a decode/encode round trip exercises every generated field.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
APIS = ("tracking", "shipping", "returns")


@cache
def spec(api: str) -> dict[str, Any]:
    with open(ROOT / "spec" / f"{api}.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)  # type: ignore[no-any-return]


def operations(api: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of one spec."""
    out = []
    for path, item in spec(api)["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                out.append((method.upper(), path, item[method]))
    return out


def find_operation(api: str, operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """(method, path, operation) serving a method name, ``x-listed-as`` aliases included."""
    for method, path, op in operations(api):
        names = [op["operationId"], *(a["operationId"] for a in op.get("x-listed-as", []))]
        if operation_id in names:
            return method, path, op
    raise KeyError(operation_id)


def resolve(api: str, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec(api)
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def data_schema_name(api: str, op: dict[str, Any]) -> str:
    (status,) = [c for c in op["responses"] if str(c).startswith("2")]
    envelope = op["responses"][status]["content"]["application/json"]["schema"]
    return str(envelope["properties"]["data"]["$ref"].rsplit("/", 1)[-1])


def body_schema_name(op: dict[str, Any]) -> str | None:
    if "requestBody" not in op:
        return None
    return str(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    )


@cache
def example_index() -> dict[tuple[str, str, str], dict[str, Any]]:
    """Example payloads keyed by (api, real method, path)."""
    index = {}
    with open(FIXTURES / "examples" / "INDEX.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["file"]:
                with open(FIXTURES / "examples" / row["file"], encoding="utf-8") as g:
                    index[(row["api"], row["method_in_source"], row["path"])] = json.load(g)
    return index


def example(api: str, method: str, path: str) -> dict[str, Any] | None:
    return example_index().get((api, method, path))


def sample(api: str, schema: Any, depth: int = 0) -> Any:
    """A JSON value valid for ``schema``, with every property filled in."""
    schema = resolve(api, schema)
    if "oneOf" in schema:
        (non_null,) = [s for s in schema["oneOf"] if s.get("type") != "null"]
        return sample(api, non_null, depth)
    if "anyOf" in schema:  # date-time or date: the first form
        return sample(api, next(s for s in schema["anyOf"] if s.get("type") != "null"), depth)
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(t for t in kind if t != "null")
    if kind == "string":
        return {"date-time": "2024-05-01T10:00:00Z", "date": "2024-05-01"}.get(
            schema.get("format", ""), "text"
        )
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(api, schema["items"], depth + 1)] if depth < 6 else []
    if kind == "object" or "properties" in schema:
        if schema.get("properties"):
            if depth >= 6:
                return {
                    k: sample(api, schema["properties"][k], depth + 1)
                    for k in schema.get("required", [])
                }
            return {k: sample(api, v, depth + 1) for k, v in schema["properties"].items()}
        extra = schema.get("additionalProperties", True)
        if isinstance(extra, dict) and extra:
            return {"key": sample(api, extra, depth + 1)}
        return {"key": "value"}
    return "any"


def schema(api: str, name: str) -> dict[str, Any]:
    return spec(api)["components"]["schemas"][name]  # type: ignore[no-any-return]

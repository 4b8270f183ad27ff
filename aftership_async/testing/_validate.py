"""A small request validator for the subset of JSON Schema the specs use.

The real APIs reject a bad request before doing anything, naming the
offending field; the fake does the same from the operation's schemas so a
client bug shows up as the API's validation error, not as silently stored
junk. It is deliberately small (types, required, enums, bounds, lengths,
array sizes, dates) and owned here: ``jsonschema`` is not a runtime
dependency. Checking a body also turns integral floats (``2.0``) into ints
where the schema says integer, as JSON Schema counts them as integers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from ._spec import ApiSpec, Operation

__all__ = ["Problem", "check_body", "check_value", "parse_params"]

Problem = tuple[str, str]
"""``(path, info)``: where the request is wrong and how, e.g. ``("items[0].quantity", ...)``."""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _label(path: str) -> str:
    return path or "body"


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return [kind] if isinstance(kind, str) else list(kind)


def _is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":  # JSON Schema: 2.0 is an integer too
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


def check_value(spec: ApiSpec, schema: Any, value: Any, path: str = "") -> list[Problem]:
    """Every way ``value`` breaks ``schema`` (empty when it is valid)."""
    schema = spec.resolve(schema)
    if not isinstance(schema, Mapping):
        return []
    combinator = "oneOf" if "oneOf" in schema else "anyOf" if "anyOf" in schema else None
    if combinator is not None:  # one passing branch is enough (the specs' branches never overlap)
        branches = [spec.resolve(b) for b in schema[combinator]]
        if value is None and any("null" in _types(b) for b in branches):
            return []
        best: list[Problem] | None = None
        for branch in branches:
            if _types(branch) == ["null"]:
                continue
            problems = check_value(spec, branch, value, path)
            if not problems:
                return []
            best = problems if best is None else best
        return best or [(_label(path), f"{_label(path)} has an invalid value")]
    kinds = _types(schema)
    if kinds and not any(_is_type(value, k) for k in kinds):
        wanted = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
        return [(_label(path), f"{_label(path)} must be {wanted}")]
    if value is None:
        return []
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"] if v is not None)
        return [(_label(path), f"{_label(path)} must be one of [{allowed}]")]
    if isinstance(value, str):
        return _check_string(schema, value, path)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _check_number(schema, value, path)
    if isinstance(value, list):
        return _check_array(spec, schema, value, path)
    if isinstance(value, dict):
        return _check_object(spec, schema, value, path)
    return []


def _check_string(schema: Mapping[str, Any], value: str, path: str) -> list[Problem]:
    name = _label(path)
    if "minLength" in schema and len(value) < schema["minLength"]:
        if schema["minLength"] == 1:
            return [(name, f"{name} must not be empty")]
        return [(name, f"{name} must be at least {schema['minLength']} characters in length")]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [(name, f"{name} must be a maximum of {schema['maxLength']} characters in length")]
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and re.search(pattern, value) is None:
        return [(name, f"{name} must match the pattern {pattern}")]
    fmt = schema.get("format")
    try:
        if fmt == "date-time":
            dt.datetime.fromisoformat(value)
        elif fmt == "date":
            dt.date.fromisoformat(value)
    except ValueError:
        return [(name, f"{name} must be a valid {fmt}")]
    return []


def _check_number(schema: Mapping[str, Any], value: float, path: str) -> list[Problem]:
    name = _label(path)
    if "minimum" in schema and value < schema["minimum"]:
        return [(name, f"{name} must be {schema['minimum']} or greater")]
    if "maximum" in schema and value > schema["maximum"]:
        return [(name, f"{name} must be {schema['maximum']} or less")]
    return []


def _check_array(
    spec: ApiSpec, schema: Mapping[str, Any], value: list[Any], path: str
) -> list[Problem]:
    name = _label(path)
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return [(name, f"{name} must contain at maximum {schema['maxItems']} item(s)")]
    if "minItems" in schema and len(value) < schema["minItems"]:
        return [(name, f"{name} must contain at least {schema['minItems']} item(s)")]
    problems: list[Problem] = []
    if "items" in schema:
        for index, item in enumerate(value):
            problems += check_value(spec, schema["items"], item, f"{path}[{index}]")
            value[index] = _as_declared(spec, schema["items"], item)
    return problems


def _as_declared(spec: ApiSpec, schema: Any, value: Any) -> Any:
    """``2.0`` as ``2`` where the schema says integer, so handlers store what the API would."""
    if isinstance(value, float) and value.is_integer():
        resolved = spec.resolve(schema)
        if isinstance(resolved, Mapping) and "integer" in _types(resolved):
            return int(value)
    return value


def _check_object(
    spec: ApiSpec, schema: Mapping[str, Any], value: dict[str, Any], path: str
) -> list[Problem]:
    problems: list[Problem] = []
    properties: Mapping[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            where = _join(path, key)
            problems.append((where, f"{key} is a required field"))
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            problems += check_value(spec, properties[key], item, _join(path, key))
            value[key] = _as_declared(spec, properties[key], item)
        elif isinstance(extra, Mapping):
            problems += check_value(spec, extra, item, _join(path, key))
        elif extra is False:
            problems.append((_join(path, key), f"{key} is not an allowed field"))
    return problems


def check_body(spec: ApiSpec, op: Operation, body: Any) -> list[Problem]:
    """Problems with a request body (``body`` already parsed from JSON)."""
    if op.body_schema is None:
        return []
    if body is None:
        return [("body", "a JSON request body is required")]
    return check_value(spec, op.body_schema, body)


def _coerce(schema: Mapping[str, Any], raw: str) -> Any:
    """A query string value as the type its schema declares; ValueError if it is not."""
    kinds = _types(schema) or ["string"]
    if "integer" in kinds:
        return int(raw)
    if "number" in kinds:
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError(raw)
        return number
    if "boolean" in kinds:
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    return raw


def parse_params(
    spec: ApiSpec, op: Operation, path_params: Mapping[str, str], query: Mapping[str, str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Path and query parameters, typed per the spec, and their problems.

    Unknown query parameters are ignored, as the real APIs do, and so is an
    empty optional one whose schema allows "" (``?cursor=`` is the first page).
    """
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for param in op.params:
        source = path_params if param.location == "path" else query
        if param.name not in source:
            if param.required:
                problems.append((param.name, f"{param.name} is a required field"))
            continue
        raw = source[param.name]
        if param.location == "path" and not raw.strip():
            problems.append((param.name, f"{param.name} must not be empty"))
            continue
        if raw == "" and not param.required and not check_value(spec, param.schema, raw):
            continue  # ``?cursor=``: an empty optional value the schema allows means "not sent"
        try:
            value = _coerce(param.schema, raw)
        except ValueError:
            kind = (_types(param.schema) or ["string"])[0]
            problems.append((param.name, f"{param.name} must be {_TYPE_WORDS.get(kind, kind)}"))
            continue
        found = check_value(spec, param.schema, value, param.name)
        if found:
            problems += found
            continue
        values[param.name] = value
    return values, problems

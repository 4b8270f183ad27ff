"""Read a spec file, validate it as OpenAPI 3.1 and resolve non-schema ``$ref``s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate


class SpecError(Exception):
    """The spec breaks OpenAPI or our conventions (spec/CONVENTIONS.md)."""


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    sha256: str
    document: dict[str, Any]

    def resolve(self, node: Any) -> Any:
        """Follow a local ``$ref`` (any depth) to the node it names."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SpecError(f"{self.path.name}: only local $refs are supported, got {ref!r}")
            if ref in seen:
                raise SpecError(f"{self.path.name}: circular $ref {ref}")
            seen.add(ref)
            target: Any = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise SpecError(f"{self.path.name}: unresolvable $ref {ref}")
                target = target[part]
            node = target
        return node


def load(path: Path) -> LoadedSpec:
    raw = path.read_bytes()
    document = yaml.safe_load(raw)
    if not isinstance(document, dict):
        raise SpecError(f"{path}: not a YAML mapping")
    try:
        validate(document)
    except Exception as exc:  # the validator raises several unrelated types
        raise SpecError(f"{path}: invalid OpenAPI: {exc}") from exc
    return LoadedSpec(path=path, sha256=hashlib.sha256(raw).hexdigest(), document=document)

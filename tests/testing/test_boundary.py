"""The fake server shares no code with the client it tests (DESIGN.md, "The fake server").

A module under ``aftership_async/testing/`` may import the standard library, its third-party
dependencies and its sibling modules. Of this project it may read only the spec data (the
``aftership_async_generated`` package's JSON specs, located in one place: ``_spec.py``), and the
pytest-plugin shim may re-export ``aftership_async_pytest``'s fixtures. Never the client's
runtime (``aftership_async._signing``, ``._transport``, ``._webhooks``...): a bug there must fail
the fake's tests instead of being shared by both sides.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTING = Path(__file__).resolve().parents[2] / "aftership_async" / "testing"
PROJECT = ("aftership_async", "aftership_async_generated", "aftership_async_pytest", "codegen")
ALLOWED: dict[str, set[str]] = {
    "pytest_plugin.py": {"aftership_async_pytest"},  # fixtures, re-exported by their old path
}


def _imports(path: Path) -> list[str]:
    """The absolute names a module imports (relative ones resolved from aftership_async.testing)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
            else:
                base = ["aftership_async", "testing"][: 3 - node.level]
                names.append(".".join([*base, *([node.module] if node.module else [])]))
    return names


def test_the_fake_imports_nothing_of_the_client() -> None:
    modules = sorted(TESTING.glob("*.py"))
    assert len(modules) > 5
    bad = []
    for path in modules:
        for name in _imports(path):
            if name.split(".")[0] not in PROJECT or name.startswith("aftership_async.testing"):
                continue
            if name.split(".")[0] not in ALLOWED.get(path.name, set()):
                bad.append(f"{path.name}: {name}")
    assert bad == []


def test_the_boundary_check_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from .._signing import sign_string\nfrom . import _spec\nimport aftership_async.x\n"
        "from ._state import State\n"
    )
    assert _imports(module) == [
        "aftership_async._signing",
        "aftership_async.testing",
        "aftership_async.x",
        "aftership_async.testing._state",
    ]

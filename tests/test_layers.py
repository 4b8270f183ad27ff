"""One package, one direction: the generated layer sits on top of the runtime.

Read from the source (``ast``), not from what happens to be imported: every
runtime module of ``aftership_async`` imports nothing of the generated layer
(``aftership_async._generated``, or its deprecated name ``aftership_async_generated``),
and the generated layer reaches the runtime only through the names each runtime
module declares in its ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from .specdata import ROOT

PACKAGE = ROOT / "aftership_async"
GENERATED = PACKAGE / "_generated"

#: The public face: they re-export the generated layer with the runtime.
FACADES = {"__init__.py", "tracking.py", "shipping.py", "returns.py"}
#: Applications of the SDK (the console script, ``make demo``): they take the client
#: from the public package like a user does, and no runtime module imports them.
APPLICATIONS = {"cli.py", "demo.py"}

GENERATED_NAMES = ("aftership_async._generated", "aftership_async_generated")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, names) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = [alias.name for alias in node.names]
            if node.module is None:  # from . import x: each x is a module or a name
                for name in names:
                    yield node.lineno, f"{module}.{name}", []
            else:
                yield node.lineno, module, names
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield node.lineno, str(node.args[0].value), []


def _is_generated(module: str) -> bool:
    return any(module == g or module.startswith(g + ".") for g in GENERATED_NAMES)


def _runtime_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*.py") if p.name not in FACADES)


def test_the_layers_are_where_they_should_be() -> None:
    runtime = {p.name for p in _runtime_modules()}
    assert {"_client.py", "_bulk.py", "_transport.py", "_pagination.py", "cli.py"} <= runtime
    assert (GENERATED / "_client.py").is_file() and (GENERATED / "tracking" / "api.py").is_file()
    assert not (ROOT / "generated").exists()


@pytest.mark.parametrize("path", _runtime_modules(), ids=lambda p: p.name)
def test_no_runtime_module_imports_the_generated_layer(path: Path) -> None:
    bad = [(line, m) for line, m, _ in _imports(path) if _is_generated(m)]
    assert not bad, f"{path.name} imports the generated layer: {bad}"
    if path.name in APPLICATIONS:
        return
    # Nor through the public package, which re-exports it (nor a facade).
    facades = {"aftership_async"} | {f"aftership_async.{n[:-3]}" for n in FACADES - {"__init__.py"}}
    indirect = [(line, m) for line, m, _ in _imports(path) if m in facades]
    assert not indirect, f"{path.name} imports the public package: {indirect}"


def test_the_fake_server_imports_no_generated_module() -> None:
    """No import in the fake names generated code; it reads the specs' JSON, which ships in
    the generated package, as data (``importlib.resources``)."""
    for path in sorted((PACKAGE / "testing").rglob("*.py")):
        bad = [(line, m) for line, m, _ in _imports(path) if _is_generated(m)]
        assert not bad, f"{path.relative_to(ROOT)}: {bad}"


def test_the_checker_sees_every_form_of_import(tmp_path: Path) -> None:
    """The test above could only pass vacuously if this parser missed an import form."""
    module = tmp_path / "aftership_async" / "_probe.py"
    module.parent.mkdir()
    module.write_text(
        "import aftership_async._generated.tracking\n"
        "from ._generated import tracking\n"
        "from . import _generated\n"
        "from .._generated_elsewhere import x\n"
        "import importlib\n"
        "importlib.import_module('aftership_async_generated.shipping')\n",
        encoding="utf-8",
    )
    found = [m for _, m, _ in _imports(module, tmp_path)]
    assert [m for m in found if _is_generated(m)] == [
        "aftership_async._generated.tracking",
        "aftership_async._generated",
        "aftership_async._generated",
        "aftership_async_generated.shipping",
    ]


def _generated_files() -> list[Path]:
    return sorted(GENERATED.rglob("*.py"))


@pytest.mark.parametrize("path", _generated_files(), ids=lambda p: str(p.relative_to(GENERATED)))
def test_the_generated_layer_uses_only_declared_runtime_names(path: Path) -> None:
    for line, module, names in _imports(path):
        if _is_generated(module) or not module.startswith("aftership_async"):
            continue  # its own modules, the standard library, attrs
        where = f"{path.relative_to(ROOT)}:{line}"
        runtime = PACKAGE / (module.removeprefix("aftership_async.") + ".py")
        assert module != "aftership_async" and runtime.is_file(), (
            f"{where}: imports {module}, not a runtime module"
        )
        assert runtime.name not in FACADES | APPLICATIONS, f"{where}: imports {module}"
        assert names and "*" not in names, f"{where}: import names from {module} explicitly"
        declared = set(importlib.import_module(module).__all__)
        undeclared = set(names) - declared
        assert not undeclared, f"{where}: {sorted(undeclared)} not in {module}.__all__"


def test_the_client_is_generated_on_the_runtime_base() -> None:
    import aftership_async
    from aftership_async._client import BaseClient
    from aftership_async._generated._client import AfterShip

    assert aftership_async.AfterShip is AfterShip and issubclass(AfterShip, BaseClient)
    assert BaseClient.APIS == ()  # the table is the generated subclass's
    assert [api.name for api in AfterShip.APIS] == ["tracking", "shipping", "returns"]
    assert dict(aftership_async.API_VERSIONS) == {a.name: a.version for a in AfterShip.APIS}

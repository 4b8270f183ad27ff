"""Names a package resolves on first use (PEP 562), so importing it stays cheap.

Every lazy package (the root, the generated package, each API's) keeps a table
of its public names to the module defining each, relative to the package
(``".models"``); a name whose module is ``"." + name`` is that submodule itself.
:func:`lazy_loader` makes the package's module ``__getattr__`` and ``__dir__``
from the table: a name is imported when first looked up and kept in the
package's globals, so the next lookup is an ordinary one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_loader"]


def lazy_loader(
    package: str, modules: Mapping[str, str], namespace: dict[str, Any], public: Collection[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose globals are ``namespace``."""

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module == f".{name}":  # a submodule itself
            value = import_module(module, package)
        else:
            value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*public, *namespace})

    return __getattr__, __dir__

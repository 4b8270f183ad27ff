"""Deprecated alias of ``aftership_async._generated``; kept for one release.

The generated code moved inside the package (``aftership_async/_generated/``).
Import models, enums and the client from ``aftership_async`` (or the per-API
``aftership_async.tracking``, ``.shipping``, ``.returns``). Importing this
package warns with a :class:`DeprecationWarning`, then makes it and each of its
submodules (``aftership_async_generated.tracking.api`` ...) the very module
objects of ``aftership_async._generated``: classes stay identical, so
``isinstance`` checks and the converter keep working across both names.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

warnings.warn(
    "aftership_async_generated is deprecated and will be removed in the next release: "
    "the generated code moved to aftership_async._generated; import models, enums and "
    "the client from aftership_async (or aftership_async.tracking/.shipping/.returns)",
    DeprecationWarning,
    stacklevel=2,
)

_TARGET = "aftership_async._generated"
_target = importlib.import_module(_TARGET)
for _info in pkgutil.walk_packages(_target.__path__, prefix=_TARGET + "."):
    _module = importlib.import_module(_info.name)
    sys.modules[__name__ + _info.name.removeprefix(_TARGET)] = _module
sys.modules[__name__] = _target

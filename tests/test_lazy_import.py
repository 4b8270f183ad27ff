"""``import aftership_async`` is cheap: each public name loads its module when first used."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import importlib, sys
import aftership_async as a
heavy = sorted(m for m in sys.modules if m.endswith(".models") and m.startswith("aftership_async"))
assert heavy == [], heavy
assert "aiohttp" not in sys.modules
for name in a.__all__:
    value = getattr(a, name)
    assert name in dir(a), name
for name in a.__all__:
    module = a._MODULES[name]
    if module == "." + name:
        assert getattr(a, name) is importlib.import_module(module, "aftership_async")
    else:
        assert getattr(a, name) is getattr(importlib.import_module(module, "aftership_async"), name), name
from aftership_async import Tracking, AfterShip, webhooks  # noqa: F401
import aftership_async.tracking, aftership_async.shipping, aftership_async.returns
assert a.Tracking is a.tracking.Tracking is a._generated.tracking.models.Tracking
try:
    a.no_such_name
except AttributeError as exc:
    assert str(exc) == "module 'aftership_async' has no attribute 'no_such_name'", exc
else:
    raise AssertionError("no AttributeError")
print("ok")
"""


@pytest.mark.slow
def test_import_is_lazy_and_every_public_name_resolves() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

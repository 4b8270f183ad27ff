"""Importing the SDK, its receivers included, imports no optional framework or client."""

from __future__ import annotations

import subprocess
import sys

import pytest

OPTIONAL = ("starlette", "fastapi", "uvicorn", "redis", "pydantic")


@pytest.mark.slow
def test_importing_aftership_async_imports_no_starlette_fastapi_or_redis() -> None:
    code = (
        "import sys, aftership_async, aftership_async.webhooks as w\n"
        "w.aiohttp_handler(secret='s', on_event=print)\n"
        "w.MemoryDedupeStore()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.slow
def test_without_starlette_the_endpoint_names_the_extra() -> None:
    # A meta path hook hides starlette, as in an install without the extra.
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'starlette': raise ImportError(name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from aftership_async import ConfigurationError, webhooks\n"
        "try:\n"
        "    webhooks.starlette_endpoint(secret='s', on_event=print)\n"
        "except ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "aftership-async[starlette]" in out.stdout, out.stdout + out.stderr

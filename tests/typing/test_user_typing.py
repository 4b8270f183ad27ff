"""User code type-checks under ``mypy --strict``: the README's examples and common patterns.

The programs beside this file are checked in a subprocess, as a user's project
would be (no repository config); ``wrong.py`` must fail exactly where marked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..specdata import ROOT
from ..test_readme import readme_block

pytestmark = pytest.mark.slow  # starts processes

HERE = Path(__file__).parent


def _mypy(*files: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "", "--python-version", "3.11",
         "--cache-dir", str(ROOT / ".mypy_cache" / "user-programs"), "--no-error-summary",
         "--show-error-codes", *map(str, files)],
        capture_output=True, text=True, env=env, cwd=HERE, timeout=600,
    )  # fmt: skip


def test_user_programs_pass_mypy_strict(tmp_path: Path) -> None:
    quickstart = tmp_path / "readme_quickstart.py"
    quickstart.write_text(readme_block("Quickstart"), encoding="utf-8")
    network = tmp_path / "readme_network.py"
    network.write_text(readme_block("Proxies, the environment and private CAs"), encoding="utf-8")
    hooks = tmp_path / "readme_hooks.py"
    hooks.write_text(readme_block("Hooks and OpenTelemetry"), encoding="utf-8")
    result = _mypy(quickstart, network, hooks, HERE / "bulk_example.py", HERE / "narrowing.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mistakes_fail_mypy_strict_where_marked() -> None:
    source = (HERE / "wrong.py").read_text(encoding="utf-8").splitlines()
    expected = {n for n, line in enumerate(source, 1) if "# E:" in line}
    result = _mypy(HERE / "wrong.py")
    assert result.returncode == 1, result.stdout + result.stderr
    flagged = {int(m) for m in re.findall(r"^wrong\.py:(\d+): error", result.stdout, re.M)}
    assert flagged == expected, result.stdout

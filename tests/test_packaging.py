"""Packaging: the sdist carries what its tests need; the pytest plugin costs nothing to load."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .specdata import ROOT

pytestmark = pytest.mark.slow  # starts processes

#: What ``make test`` needs besides the packages, as directories or files of the repo.
NEEDED = (
    "tests",
    "spec",
    "codegen",
    "bench",
    "aftership_async",
    "aftership_async_generated",
    "aftership_async_pytest",
)
NEEDED_FILES = ("LICENSE", "README.md", "CHANGELOG.md", "Makefile", "pyproject.toml", "api.md")


def _source_files(top: str) -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".pyo")
        and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
    }


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist built from this checkout (offline: setuptools from the environment), unpacked."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (archive,) = out.glob("aftership_async-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    (root,) = (p for p in out.iterdir() if p.is_dir())
    return root


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names in the wheel built from this checkout (offline)."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (wheel,) = out.glob("aftership_async-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_ships_the_generated_layer_inside_the_package(wheel_names: set[str]) -> None:
    generated = {n for n in wheel_names if n.startswith("aftership_async/_generated/")}
    for name in ("__init__.py", "py.typed", "_converter.py", "_client.py", "_bulk.py",
                 "tracking/api.py", "shipping/models.py", "returns/enums.py",
                 "specs/tracking.json", "specs/shipping.json", "specs/returns.json"):  # fmt: skip
        assert f"aftership_async/_generated/{name}" in generated, name
    on_disk = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "aftership_async" / "_generated").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert on_disk == generated
    # The deprecated alias package ships for one release; no top-level generated/ any more.
    assert "aftership_async_generated/__init__.py" in wheel_names
    tops = {n.split("/", 1)[0] for n in wheel_names if "/" in n}
    assert {t for t in tops if not t.endswith(".dist-info")} == {
        "aftership_async", "aftership_async_generated", "aftership_async_pytest",
    }  # fmt: skip


def test_sdist_has_every_file_the_tests_need(sdist: Path) -> None:
    for name in NEEDED_FILES:
        assert (sdist / name).is_file(), name
    for top in NEEDED:
        missing = {f for f in _source_files(top) if not (sdist / f).is_file()}
        assert not missing, f"{top}: {sorted(missing)[:10]}"
    assert not list(sdist.rglob("__pycache__"))
    assert (sdist / "aftership_async" / "_generated" / "specs" / "tracking.json").is_file()
    assert not (sdist / "generated").exists()


def test_sdist_metadata(sdist: Path) -> None:
    meta = email.message_from_string((sdist / "PKG-INFO").read_text(encoding="utf-8"))
    assert meta["Name"] == "aftership-async"
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "Copyright (c) 2026 aftership-async contributors" in (sdist / "LICENSE").read_text()
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Framework :: AsyncIO" in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Changelog"} <= set(urls)
    assert meta["Keywords"] and "aftership" in meta["Keywords"]


@pytest.mark.timeout(900)  # a build and a pytest run in subprocesses: slow on a busy machine
def test_sdist_tests_run_from_the_sdist(sdist: Path) -> None:
    """A slice of the suite, run with the sdist's own code on the path (not this checkout's)."""
    env = {**os.environ, "PYTHONPATH": str(sdist)}
    probe = subprocess.run(
        [sys.executable, "-c", "import aftership_async, aftership_async._generated, codegen;"
         "print(aftership_async.__file__, aftership_async._generated.__file__, codegen.__file__)"],
        cwd=sdist, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert all(path.startswith(str(sdist)) for path in probe.stdout.split()), probe.stdout
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_model_io.py", "tests/codegen/test_codegen.py", "tests/test_readme.py",
         # (make check-generated needs the checkout's .venv: tested from the checkout)
         "-k", "not check_generated_fails"],
        cwd=sdist, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_plugin_import_does_not_import_the_sdk() -> None:
    """pytest imports the plugin in every run of every project that installs the SDK.

    Loading it must not import the SDK (``aftership_async`` with aiohttp and every
    model): only the fixtures do, when a test uses them.
    """
    code = (
        "import sys, pytest, pytest_asyncio\n"
        "before = set(sys.modules)\n"
        "import aftership_async_pytest\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(result.stdout.split())
    assert "aftership_async_pytest" in loaded
    heavy = {"aiohttp", "aftership_async", "aftership_async._generated", "attrs", "cattrs"}
    assert not loaded & heavy, loaded & heavy


def test_plugin_is_the_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "aftership_async"]
    assert plugin.value == "aftership_async_pytest"

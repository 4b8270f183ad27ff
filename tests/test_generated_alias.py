"""``aftership_async_generated``: the deprecated name of the generated layer, kept one release."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

import aftership_async
import aftership_async._generated as generated
from aftership_async._generated.tracking import api as tracking_api

OLD = "aftership_async_generated"


@pytest.fixture
def fresh_alias() -> Iterator[None]:
    """Forget the alias before and after, so each test sees the first import."""

    def forget() -> None:
        for name in [n for n in sys.modules if n == OLD or n.startswith(OLD + ".")]:
            del sys.modules[name]

    forget()
    yield
    forget()


def test_importing_the_old_name_warns_and_is_the_new_package(fresh_alias: None) -> None:
    with pytest.warns(DeprecationWarning, match=r"aftership_async_generated is deprecated.*"
                      r"aftership_async\._generated"):  # fmt: skip
        old = importlib.import_module(OLD)
    assert old is generated
    assert old.CONVERTER is generated.CONVERTER
    assert old.Tracking is aftership_async.Tracking


def test_old_submodule_paths_are_the_same_module_objects(fresh_alias: None) -> None:
    with pytest.warns(DeprecationWarning):
        from aftership_async_generated.tracking.api import TrackingAPI  # type: ignore[import-not-found]
    assert TrackingAPI is tracking_api.TrackingAPI is aftership_async.TrackingAPI
    for suffix in ("tracking", "tracking.api", "tracking.models", "shipping.enums", "_converter"):
        assert sys.modules[f"{OLD}.{suffix}"] is sys.modules[f"aftership_async._generated.{suffix}"]


@pytest.mark.slow
def test_a_fresh_interpreter_importing_only_the_old_name_gets_the_warning() -> None:
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import aftership_async_generated.shipping as s\n"
        "import aftership_async\n"
        "assert s.CreateLabelRequest is aftership_async.CreateLabelRequest\n"
        "print(sorted({w.category.__name__ for w in caught}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['DeprecationWarning']"
    failing = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import aftership_async_generated"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert failing.returncode != 0 and "DeprecationWarning" in failing.stderr

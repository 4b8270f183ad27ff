"""The standalone server (``python -m aftership_async.testing``) and the pytest plugin."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from aftership_async import AfterShip
from aftership_async.testing import FakeAfterShip

from .helpers import body


@pytest.mark.slow
async def test_cli_prints_its_url_and_serves() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aftership_async.testing",
        "--host", "127.0.0.1", "--port", "0", "--seed", "5", "--latency-ms", "1",
        "--rate-limit", "documented", "--api-key", "cli-key",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        url = line.decode().strip()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        async with AfterShip(api_key="cli-key", base_url=url) as client:
            tracking = await client.tracking.create_tracking(
                body("CreateTrackingRequest", {"tracking_number": "1Z999AA10123456784"})
            )
        assert tracking.slug == "ups"
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), timeout=20)
    assert code == 0


def test_cli_rejects_bad_arguments() -> None:
    from aftership_async.testing.__main__ import main

    with pytest.raises(SystemExit):
        main(["--rate-limit", "fast"])


async def test_plugin_fixtures(aftership_fake: FakeAfterShip, aftership_client: AfterShip) -> None:
    """The fixtures come from the pytest11 entry point, not from a conftest."""
    ids = aftership_fake.add_trackings(["123456789012"])
    got = await aftership_client.tracking.get_tracking_by_id(ids[0])
    assert got.slug == "fedex"
    assert aftership_fake.stats.requests["get_tracking_by_id"] == 1


def test_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("aftership_async")
    assert plugin is not None and plugin.__name__ == "aftership_async_pytest"


@pytest.mark.slow
def test_plugin_without_pytest_asyncio_fails_only_its_users(tmp_path: Path) -> None:
    """A project with aftership-async but no pytest-asyncio still runs pytest."""
    (tmp_path / "test_user.py").write_text(
        "def test_plain():\n    assert True\n\ndef test_uses_fake(aftership_fake):\n    pass\n",
        encoding="utf-8",
    )
    # A pytest_asyncio that fails to import shadows the installed one (the script's directory
    # comes first on sys.path); -p no:asyncio keeps pytest from loading it as a plugin.
    (tmp_path / "pytest_asyncio.py").write_text('raise ImportError("not installed")\n')
    (tmp_path / "run.py").write_text(
        "import sys\nimport pytest\n"
        "args = ['-q', '-p', 'no:cacheprovider', '-p', 'no:asyncio', 'test_user.py']\n"
        "sys.exit(pytest.main(args))\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert "1 passed" in result.stdout and "1 error" in result.stdout, result.stdout + result.stderr
    assert "need pytest-asyncio: pip install pytest-asyncio" in result.stdout

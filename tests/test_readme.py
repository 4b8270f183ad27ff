"""The README's quickstart runs as written (against the fake server)."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import pytest

from aftership_async.testing import FakeAfterShip

from .specdata import ROOT


def readme_block(heading: str, index: int = 0) -> str:
    """The ``index``-th Python code block of the README section ``heading``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, flags=re.S | re.M)
    return str(blocks[index])


def test_quickstart_is_a_complete_program() -> None:
    code = readme_block("Quickstart")
    assert code.startswith("import asyncio\n")
    assert code.rstrip().endswith("asyncio.run(main())")
    assert code.count("AfterShip()") == 1  # the one place the test points at the fake
    compile(code, "README.md", "exec")


@pytest.mark.slow
async def test_quickstart_runs_against_the_fake_server(aftership_fake: FakeAfterShip) -> None:
    aftership_fake.add_trackings(["9400111899223100000000"])  # one more, in transit or not
    code = readme_block("Quickstart").replace(
        "AfterShip()", f"AfterShip(base_url={aftership_fake.url!r}, rate_limit=None)"
    )
    env = {**os.environ, "AFTERSHIP_API_KEY": "readme-key"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("1Z999AA10123456784 "), lines
    assert aftership_fake.stats.requests["create_tracking"] == 1
    assert aftership_fake.stats.requests["get_tracking_by_id"] == 1
    assert aftership_fake.stats.requests["get_trackings"] >= 1

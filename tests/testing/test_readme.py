"""The README's "Testing your code" example, run as a user's test file would be.

The code block is taken from README.md as it stands, so the README cannot
drift from the code: it is written to a fresh directory (no conftest, no
pytest configuration, so pytest-asyncio's default strict mode) next to a
``my_sync_job`` and run by pytest in a subprocess, where the fixtures come
from the installed ``pytest11`` plugin.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

# The user's code under test: pages through all trackings (one request when they fit one page).
SYNC_JOB = """

async def my_sync_job(client):
    numbers = []
    async for tracking in client.tracking.iter_trackings(limit=100):
        numbers.append(tracking.tracking_number)
    return numbers
"""


def _testing_section_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Testing your code", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "expected one python example in the testing section"
    return blocks[0]


@pytest.mark.slow
def test_readme_testing_example_runs_as_a_users_test(tmp_path: Path) -> None:
    code = _testing_section_code()
    assert "aftership_fake" in code and "FakeAfterShip(" in code
    (tmp_path / "test_users_code.py").write_text(code + SYNC_JOB, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_users_code.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b3 passed\b", result.stdout), result.stdout

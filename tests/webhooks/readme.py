"""The README's "Webhook receivers" examples, as code to run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


def receiver_example(marker: str) -> dict[str, Any]:
    """Run the README block of the receivers section containing ``marker``: its globals."""
    text = README.read_text()
    section = text[text.index("## Webhook receivers") :]
    section = section[: section.index("\n## ", 3)]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, flags=re.S | re.M)
    (code,) = [block for block in blocks if marker in block]
    namespace: dict[str, Any] = {"__name__": "readme_receiver_example"}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace

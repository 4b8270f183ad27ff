"""What ``import aftership_async`` costs beside ``import aiohttp``.

Each import runs in a fresh interpreter under ``python -X importtime``; the
figure is the cumulative microseconds of the top-level package's own line
(everything it imported, aiohttp included for ours), the median of ``runs``
processes. A fresh process each time: a second import in one process is free.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

__all__ = ["import_us", "measure_import"]


def import_us(module: str) -> int:
    """Cumulative µs of ``import module`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        # "import time:      self [us] | cumulative | imported package"
        if not line.startswith("import time:"):
            continue
        fields = [part.strip() for part in line[len("import time:") :].split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1])
    raise RuntimeError(f"python -X importtime printed no line for {module}")


def measure_import(runs: int = 5) -> dict[str, Any]:
    """Median cumulative µs of each import over ``runs`` interleaved fresh processes."""
    modules = ("aftership_async", "aiohttp")
    found: dict[str, list[int]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            found[module].append(import_us(module))
    median = {module: statistics.median(values) for module, values in found.items()}
    return {
        "runs": runs,
        "aftership_async_us": round(median["aftership_async"]),
        "aiohttp_us": round(median["aiohttp"]),
        "ratio": round(median["aftership_async"] / median["aiohttp"], 3),
        "aftership_async_range": [min(found["aftership_async"]), max(found["aftership_async"])],
        "aiohttp_range": [min(found["aiohttp"]), max(found["aiohttp"])],
    }


if __name__ == "__main__":
    print(measure_import())

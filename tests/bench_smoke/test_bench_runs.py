"""``make bench`` works: a quick run of every scenario and client, tiny numbers.

Only that it runs and loses nothing is checked here; its timings are never
asserted (the figures of a quick run mean nothing, and timed assertions
belong in bench/, not in the suite).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # starts processes; a hang guard

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_runs_every_scenario_and_client(tmp_path: Path) -> None:
    output, table = tmp_path / "results.json", tmp_path / "results.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--output",
            str(output),
            "--markdown",
            str(table),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(output.read_text())

    clients = {"ours", "ours-bulk", "official", "pyaftership", "aiohttp"}
    for scenario, expected in (("bulk_get", clients), ("zero_latency", clients | {"ours-raw"})):
        rows = results[scenario]
        assert {row["client"] for row in rows} == expected
        for row in rows:
            assert row["errors"] == 0, row
            assert row["throughput_rps"] > 0
    assert {row["concurrency"] for row in results["bulk_get"]} == {4, 8}
    assert set(results["decode_us"]) == {"json.loads", "our parse", "ours", "official"}
    assert results["rate_limited"]["errors"] == 0
    memory = results["memory"]
    assert memory["results"] == {"ok": memory["lookups"]}
    assert memory["requests"] == memory["lookups"] // 50
    refresh = {row["client"]: row for row in results["refresh"]["rows"]}
    assert refresh["ours"]["found"] == refresh["ours"]["numbers"]
    assert refresh["official"]["found"] == refresh["official"]["numbers"]
    assert all(row["errors"] == 0 for row in refresh.values())
    assert results["payload"]["checkpoints_mean"] > 0
    prefixes = {t["target"][:3] for t in results["targets"]}
    assert prefixes == {"(a)", "(b)", "(c)", "(d)", "(e)", "(g)", "(i)"}
    imported = results["import"]
    assert imported["aftership_async_us"] > 0 and imported["aiohttp_us"] > 0
    # Every scenario reports how long it took; a quick run is never taken for a whole one.
    assert set(results["phase_seconds"]) == {"a", "b", "c", "d", "e", "f", "g", "i"}
    assert results["complete"] is False
    bulk = next(row for row in results["zero_latency"] if row["client"] == "ours-bulk")
    assert bulk["ratio_to_ours"] > 0 and bulk["cpu_ratio_to_ours"] > 0
    text = table.read_text()
    assert "**Targets**" in text and "How long each scenario took" in text
    assert "(i) import time" in text

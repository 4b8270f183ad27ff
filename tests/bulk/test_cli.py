"""The command line against the embedded fake server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftership_async.cli import main, read_rows, sample_path


def test_bundled_sample_has_1000_rows_two_of_them_bad() -> None:
    rows = list(read_rows(sample_path()))
    assert len(rows) == 1000
    assert sum(1 for _, r in rows if not r.tracking_number or "," in r.tracking_number) == 2


def test_track_against_the_embedded_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AFTERSHIP_API_KEY", raising=False)
    source = tmp_path / "numbers.txt"
    source.write_text("# comment\n1Z0000000000000001\n\n123456789012\nbad,number\n")
    out = tmp_path / "out.jsonl"
    assert (
        main(["track", str(source), "--output", str(out), "--fake-latency-ms", "0", "--quiet"]) == 0
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["line"] for r in records) == [2, 4, 5]
    assert [r["ok"] for r in sorted(records, key=lambda r: r["line"])] == [True, True, False]
    err = capsys.readouterr().err
    assert "embedded fake AfterShip server" in err and "Summary" in err
    assert (
        main(
            [
                "track",
                str(source),
                "--output",
                str(out),
                "--fake-latency-ms",
                "0",
                "--quiet",
                "--strict",
            ]
        )
        == 1
    )


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["track", "/nonexistent/numbers.txt"]) == 2
    assert "cannot read /nonexistent/numbers.txt" in capsys.readouterr().err

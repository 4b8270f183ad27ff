"""The installed console script, run as a user would: files, pipes, keys, signals."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from aftership_async import __version__
from aftership_async.cli import read_answered
from aftership_async.testing import FakeAfterShip

pytestmark = pytest.mark.slow  # starts processes

SCRIPT = str(Path(sys.executable).parent / "aftership-async")
FAST = ["--fake", "--fake-latency-ms", "0", "--quiet"]


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSHIP_")}
    return {**base, **extra}


def run(
    args: Sequence[str],
    cwd: Path,
    *,
    input: bytes | None = None,
    environ: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [SCRIPT, *args],
        cwd=cwd,
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ if environ is not None else env(),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def numbers(n: int) -> str:
    return "".join(f"1Z{i:016d}\n" for i in range(1, n + 1))


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_version(tmp_path: Path) -> None:
    result = run(["--version"], tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"aftership-async {__version__}"


@pytest.mark.parametrize("key", [None, "", "   "])
def test_no_key_or_an_empty_key_is_an_error_not_a_silent_fake(
    tmp_path: Path, key: str | None
) -> None:
    (tmp_path / "n.txt").write_text(numbers(2))
    environ = env() if key is None else env(AFTERSHIP_API_KEY=key)
    result = run(["track", "n.txt", "-o", "out.jsonl"], tmp_path, environ=environ)
    assert result.returncode == 2
    for needed in ("--api-key", "AFTERSHIP_API_KEY", "--fake"):
        assert needed in result.stderr
    assert ("is empty" in result.stderr) == (key is not None)
    assert not (tmp_path / "out.jsonl").exists() and "fake" not in result.stdout


def test_a_missing_input_leaves_an_existing_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text('{"line": 1, "tracking_number": "x"}\n')
    for flags in ([], ["--overwrite"], ["--resume"]):
        result = run(["track", "missing.csv", "-o", "results.jsonl", *FAST, *flags], tmp_path)
        assert result.returncode == 2
        assert "cannot read missing.csv" in result.stderr
        assert out.read_text() == '{"line": 1, "tracking_number": "x"}\n'


def test_an_existing_output_needs_resume_or_overwrite(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(numbers(3))
    out = tmp_path / "out.jsonl"
    out.write_text("my notes\n")
    result = run(["track", "n.txt", "-o", "out.jsonl", *FAST], tmp_path)
    assert result.returncode == 2 and "--resume" in result.stderr and "--overwrite" in result.stderr
    result = run(["track", "n.txt", "-o", "out.jsonl", "--resume", *FAST], tmp_path)
    assert (
        result.returncode == 2 and "line 1 is not an aftership-async jsonl result" in result.stderr
    )
    assert out.read_text() == "my notes\n"
    result = run(["track", "n.txt", "-o", "out.jsonl", "--overwrite", *FAST], tmp_path)
    assert result.returncode == 0
    assert sorted(r["line"] for r in records(out)) == [1, 2, 3]  # type: ignore[type-var]
    same = run(["track", "n.txt", "-o", "n.txt", "--overwrite", *FAST], tmp_path)
    assert same.returncode == 2 and "is the input file" in same.stderr
    assert (tmp_path / "n.txt").read_text() == numbers(3)


def test_stdin_and_pipes_are_read_once(tmp_path: Path) -> None:
    result = run(["track", "-", *FAST], tmp_path, input=numbers(120).encode())
    assert result.returncode == 0
    assert sorted(json.loads(line)["line"] for line in result.stdout.splitlines()) == list(
        range(1, 121)
    )
    result = run(["track", "/dev/stdin", *FAST], tmp_path, input=numbers(7).encode())
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 7
    assert re.search(r"inputs +7\n", result.stderr), result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"1Z0000000000000001\n\xff\xfebad\n", "data.txt: line 2: not UTF-8 text (byte 0xff"),
        (b"1Z0000000000000001\n" + bytes(range(256)), "data.txt: line 2: binary data"),
        ("tracking_number\n1Z1\n".encode("utf-16"), "data.txt: line 1: UTF-16 text"),
    ],
)
def test_undecodable_input_names_the_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "data.txt").write_bytes(content)
    result = run(["track", "data.txt", "-o", "out.jsonl", *FAST], tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_csv_errors_blank_and_comma_only_rows_are_reported_on_their_lines(tmp_path: Path) -> None:
    (tmp_path / "n.csv").write_text(
        "tracking_number,slug\n"
        "1Z0000000000000001,ups\n"
        '"1Z0000000000000002,ups\n'  # an unterminated quote spoils only its line
        ",,\n"
        "\n"
        "123456789012,fedex\n"
        "a,b,c\n"
    )
    result = run(["track", "n.csv", "-o", "out.jsonl", *FAST], tmp_path)
    assert result.returncode == 0
    by_line = {r["line"]: r for r in records(tmp_path / "out.jsonl")}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7]  # type: ignore[type-var]
    assert by_line[2]["ok"] is True and by_line[6]["ok"] is True
    errors = {n: by_line[n]["error"]["message"] for n in (3, 4, 5, 7)}  # type: ignore[index]
    assert errors == {
        3: "line 3: not valid CSV: an unterminated quote",
        4: "line 4: no tracking number (the row has only commas)",
        5: "line 5: blank line",
        7: "line 7: 3 columns, expected at most 2 (tracking_number,slug)",
    }


def test_a_closed_pipe_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(numbers(3000))
    # `with`: the pipes are closed at the end (an unclosed one is a ResourceWarning).
    with subprocess.Popen(
        [SCRIPT, "track", "n.txt", *FAST],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert json.loads(process.stdout.readline())["ok"] in (True, False)
        process.stdout.close()  # `| head -1`
        err = process.stderr.read().decode()
        assert process.wait(timeout=60) != 0
    lines = [line for line in err.splitlines() if not line.startswith("--fake:")]
    assert lines == ["aftership-async: cannot write stdout: Broken pipe"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(numbers(10))
    result = run(["track", "n.txt", "-o", "/dev/full", *FAST], tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("--fake:")]
    assert lines == ["aftership-async: cannot write /dev/full: No space left on device"]


def _interrupt_when(path: Path, process: subprocess.Popen[str], lines: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= lines:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)


def test_ctrl_c_then_resume_any_number_of_times_gives_one_line_per_input(tmp_path: Path) -> None:
    total = 2000
    (tmp_path / "n.txt").write_text(numbers(total) + "\n")  # and one blank line, reported
    out = tmp_path / "out.jsonl"
    slow = ["track", "n.txt", "-o", "out.jsonl", "--fake", "--fake-latency-ms", "20", "-q"]
    seen = 0
    for round_ in range(2):
        args = [*slow, "--rate-limit", "40"] + (["--resume"] if round_ else [])
        process = subprocess.Popen(
            [SCRIPT, *args], cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=env()
        )
        _interrupt_when(out, process, seen + 150)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "Traceback" not in err and "Summary (partial)" in err
        assert "--resume -o out.jsonl" in err
        now = len(records(out))
        assert seen + 150 <= now < total + 1
        seen = now
    result = run(["track", "n.txt", "-o", "out.jsonl", "--resume", *FAST], tmp_path)
    assert result.returncode == 0
    assert re.search(rf"already answered +{seen}\n", result.stderr), result.stderr
    lines = [r["line"] for r in records(out)]
    assert sorted(lines) == list(range(1, total + 2))  # type: ignore[type-var]
    assert read_answered(out, "jsonl") == {(r["line"], r["tracking_number"]) for r in records(out)}
    # Resuming a finished run does nothing and adds nothing.
    again = run(["track", "n.txt", "-o", "out.jsonl", "--resume", *FAST], tmp_path)
    assert again.returncode == 0 and len(records(out)) == total + 1


def test_resume_refuses_a_half_written_last_line(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(numbers(3))
    out = tmp_path / "out.jsonl"
    out.write_text(
        '{"line": 1, "tracking_number": "1Z0000000000000001", "ok": true}\n{"line": 2, "tr'
    )
    result = run(["track", "n.txt", "-o", "out.jsonl", "--resume", *FAST], tmp_path)
    assert result.returncode == 2 and "the last line (2) is incomplete" in result.stderr
    assert out.read_text().endswith('{"line": 2, "tr')


def test_csv_output_resumes_without_a_second_header(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(numbers(4))
    out = tmp_path / "out.csv"
    out.write_text(
        "line,tracking_number,slug,ok,created,id,tag,subtag,error\r\n"
        "2,1Z0000000000000002,ups,True,False,abc,Delivered,Delivered_001,\r\n"
    )
    result = run(["track", "n.txt", "-o", "out.csv", "--resume", *FAST], tmp_path)
    assert result.returncode == 0
    rows = out.read_text().splitlines()
    assert rows[0].startswith("line,") and sum(r.startswith("line,") for r in rows) == 1
    assert sorted(int(r.split(",")[0]) for r in rows[1:]) == [1, 2, 3, 4]


async def test_signed_keys_and_base_url_against_a_fake_that_checks_them(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    (tmp_path / "n.txt").write_text(numbers(5))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(pem)

    async def track(*args: str, **extra: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            SCRIPT, "track", "n.txt", "-q", "--base-url", fake.url, *args,
            cwd=tmp_path, env=env(**extra),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert b"Traceback" not in err
        assert process.returncode is not None
        return process.returncode, out.decode() + err.decode()

    async with FakeAfterShip(api_key="k", api_secret="s3cret") as fake:
        code, text = await track("--api-secret", "s3cret", AFTERSHIP_API_KEY="k")
        assert code == 0  # none exist yet: all created
        assert text.count('"created": true') == 5
        code, text = await track("--api-key", "k", AFTERSHIP_API_SECRET="wrong")
        assert code == 3 and "the API key was refused" in text
        assert "s3cret" not in text and "wrong" not in text
    async with FakeAfterShip(api_key="k", api_public_key=public) as fake:
        code, text = await track(
            "--api-key", "k", "--auth", "rsa", "--api-secret", f"@{tmp_path / 'key.pem'}"
        )
        assert code == 0 and text.count('"created": true') == 5
        assert "PRIVATE KEY" not in text

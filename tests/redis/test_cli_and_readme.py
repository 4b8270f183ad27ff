"""``aftership-async track --redis``, and the README's "Many workers, one budget" code."""

from __future__ import annotations

import argparse
import ast
import json
import re
from pathlib import Path

import pytest

from aftership_async.cli import build_parser, main

from ._server import RedisServer

README = Path(__file__).resolve().parents[2] / "README.md"


def _fake_flag() -> list[str]:
    """The embedded fake: ``--fake`` where the CLI has it, else implied by no API key."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    track = commands.choices["track"]
    return ["--fake"] if "--fake" in track._option_string_actions else []


def test_track_draws_from_the_shared_budget(
    redis_server: RedisServer,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import redis

    monkeypatch.delenv("AFTERSHIP_API_KEY", raising=False)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("".join(f"1ZCLI{i:013d}\n" for i in range(30)))
    out = tmp_path / "out.jsonl"
    argv = ["track", str(numbers), "-o", str(out), "--quiet", "--redis", redis_server.url,
            "--redis-namespace", namespace, *_fake_flag()]  # fmt: skip
    assert main(argv) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 30 and all(r["ok"] for r in records)
    client = redis.Redis.from_url(redis_server.url)
    try:
        keys = {k.decode() for k in client.scan_iter(match=f"aftership:{{{namespace}}}:*")}
    finally:
        client.close()
    # The lookups and the creates took their permits from Redis, under the CLI's namespace.
    assert f"aftership:{{{namespace}}}:tracking GET /trackings:window" in keys, keys
    assert f"aftership:{{{namespace}}}:tracking POST /trackings:window" in keys, keys


def test_track_refuses_a_url_that_is_not_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AFTERSHIP_API_KEY", raising=False)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("1ZCLI0000000000001\n")
    argv = ["track", str(numbers), "-o", str(tmp_path / "out.jsonl"), "--quiet",
            "--redis", "http://127.0.0.1:6379", *_fake_flag()]  # fmt: skip
    assert main(argv) != 0
    assert "redis://" in capsys.readouterr().err


def test_the_readme_section_code_compiles() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Many workers, one budget", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        compile(block, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    assert "--redis" in section and "bulk_traffic" in section

"""The aiohttp webhook handler shown in README.md's Security section, run for real."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from aftership_async import webhook_signature

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = "readme-example-secret"


def readme_handler_code() -> str:
    text = README.read_text()
    section = text[text.index("## Security") :]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (code,) = [block for block in blocks if "parse_webhook" in block]
    # The block is indented under a list item in the README.
    lines = code.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


def payload(event_id: str, ts: int | None = None) -> bytes:
    return json.dumps(
        {
            "event": "tracking_update",
            "event_id": event_id,
            "is_tracking_first_tag": False,
            "msg": {
                "id": "t1",
                "tracking_number": "1Z999AA10123456784",
                "slug": "ups",
                "created_at": "2025-01-02T03:04:05Z",
                "tag": "Delivered",
                "subtag": "Delivered_001",
            },
            "ts": int(time.time()) if ts is None else ts,
        }
    ).encode()


async def test_the_readme_handler_verifies_and_dedupes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AFTERSHIP_WEBHOOK_SECRET", SECRET)
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(readme_handler_code(), str(README), "exec"), namespace)

    async def post(body: bytes, headers: dict[str, str]) -> int:
        async with client.post("/webhooks/aftership", data=body, headers=headers) as resp:
            return resp.status

    async with TestClient(TestServer(namespace["app"])) as client:
        good = payload("e-1")
        signature = {"aftership-hmac-sha256": webhook_signature(good, SECRET)}
        assert await post(good, signature) == 200
        assert await post(good, signature) == 200  # a retried delivery
        assert await post(good, {}) == 401
        assert await post(good, {"aftership-hmac-sha256": webhook_signature(good, "x")}) == 401
        assert await post(good.replace(b"Delivered", b"Exception", 1), signature) == 401
        # A retry AfterShip sends 68 hours on is accepted; a week-old replay is not.
        retried = payload("e-3", ts=int(time.time()) - 68 * 3600)
        assert (
            await post(retried, {"aftership-hmac-sha256": webhook_signature(retried, SECRET)})
            == 200
        )
        stale = payload("e-2", ts=int(time.time()) - 7 * 86400)
        assert await post(stale, {"Aftership-Hmac-Sha256": webhook_signature(stale, SECRET)}) == 401
        junk = b'{"event": "tracking_update"}'
        assert await post(junk, {"aftership-hmac-sha256": webhook_signature(junk, SECRET)}) == 400

    assert namespace["seen_event_ids"] == {"e-1", "e-3"}
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["tracking_update 1Z999AA10123456784 Delivered Delivered_001"] * 2  # e-1, e-3

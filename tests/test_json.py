"""aftership_async._json.loads: msgspec's speed, the standard library's results and errors."""

from __future__ import annotations

import json
import math

import pytest

from aftership_async import _json

DOCUMENTS = [
    b'{"a": 1, "b": [true, false, null], "c": "\\u00e9t\\u00e9", "d": 1.5e3}',
    '{"tracking": {"id": "x", "checkpoints": []}}',
    b'{"big": 123456789012345678901234567890}',  # beyond 64 bits: msgspec refuses
    b'{"big": [1, -98765432109876543210987]}',
    b"123456789012345678901",
    '{"s": "12345678901234567890", "t": "AB-12345678901234567890 x"}',
    b'{"a": 1, "a": 2}',  # the last duplicate wins in both
    b'"\\ud800"',  # a lone surrogate: msgspec refuses
    '{"caf\u00e9": "\u2603"}',
    b"[" * 10 + b"]" * 10,
]


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_same_value_as_json_loads(doc: bytes | str) -> None:
    assert _json.loads(doc) == json.loads(doc)


def test_nan_and_infinity_parse_as_before() -> None:
    value = _json.loads(b"[NaN, Infinity, -Infinity]")
    assert math.isnan(value[0]) and value[1:] == [math.inf, -math.inf]


def test_utf16_bytes_parse_as_before() -> None:
    doc = '{"a": "b"}'.encode("utf-16")
    assert _json.loads(doc) == json.loads(doc) == {"a": "b"}


@pytest.mark.parametrize("doc", [b"{bad", b"", "[1,", b"\xff\xfe\xfd"])
def test_same_error_as_json_loads(doc: bytes | str) -> None:
    with pytest.raises(ValueError) as ours:
        _json.loads(doc)
    with pytest.raises(ValueError) as theirs:
        json.loads(doc)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_deep_nesting_raises_recursion_error_as_before() -> None:
    doc = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(doc)
    with pytest.raises(RecursionError):
        _json.loads(doc)


def test_an_ordinary_body_never_reaches_the_standard_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(_: object) -> None:
        raise AssertionError("json.loads was called")

    monkeypatch.setattr(_json.json, "loads", refuse)
    doc = b'{"data": {"tracking_number": "1Z999", "big": 12345678901234567890123, "x": [1.5]}}'
    assert _json.loads(doc) == {
        "data": {"tracking_number": "1Z999", "big": 12345678901234567890123, "x": [1.5]}
    }

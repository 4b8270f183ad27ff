"""Shared helpers of the security tests: the test-only RSA key, secret scanning."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: A 2048-bit RSA key generated once for these tests and committed (PKCS#8).
#: It is public, so it protects nothing: test use only.
RSA_PEM = (FIXTURES / "rsa_test_key.pem").read_text()


def rsa_private_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(RSA_PEM.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def rsa_public_key() -> rsa.RSAPublicKey:
    return rsa_private_key().public_key()


def pkcs1_pem() -> str:
    """The same key as PKCS#1 (``BEGIN RSA PRIVATE KEY``)."""
    return (
        rsa_private_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )


def pem_fragments(pem: str) -> list[str]:
    """Pieces of a PEM body long enough that finding one means the key leaked."""
    lines = [
        line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----")
    ]
    body = [line for line in lines if " " not in line]  # drop the comment lines
    return [piece for line in body for piece in (line[:16], line[-16:]) if len(piece) == 16]


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything in its ``__cause__`` / ``__context__`` chains."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def exception_text(exc: BaseException) -> str:
    """Everything an exception could show: str, repr, args and the formatted chain."""
    parts: list[str] = []
    for e in exception_chain(exc):
        parts += [str(e), repr(e), repr(e.args)]
    parts.append("".join(traceback.format_exception(exc)))
    return "\n".join(parts)


def assert_no_secret(text: str, secrets: Iterable[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret leaked: ...{secret[:4]}..."

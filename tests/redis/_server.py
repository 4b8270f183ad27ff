"""A real ``redis-server`` for the tests: started on a Unix socket, stopped afterwards.

``make test`` installs Debian's ``redis-server`` when it is missing. Without
it these tests are skipped with the reason, except under ``CI=true``, where
a missing server is a failure: a green CI must not hide untested code.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bench._redis import RedisServer

__all__ = ["MISSING", "RedisServer", "redis_server_binary"]

MISSING = (
    "redis-server is not installed: `make test` installs Debian's package "
    "(apt-get install redis-server)"
)


def redis_server_binary() -> str:
    """The path of ``redis-server``; skip (fail under CI=true) when there is none."""
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)
    return path

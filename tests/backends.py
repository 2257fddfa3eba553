"""Finding the real backends the tests run against.

The embedded store needs nothing. HBase must be running (``deploy/hbase/hbase.sh start``, which
``.ci/run`` does): locally a missing server skips the HBase tests with a clear message; under
``CI=true`` it is a failure, so CI can never pass without having exercised HBase.
"""
from __future__ import annotations

import os
import socket
import uuid

import pytest

HBASE_HOST = os.environ.get("HBASE_HOST", "127.0.0.1")
HBASE_PORT = int(os.environ.get("HBASE_PORT", "9090"))


def hbase_reachable() -> bool:
    try:
        with socket.create_connection((HBASE_HOST, HBASE_PORT), timeout=1):
            return True
    except OSError:
        return False


def require_hbase() -> None:
    if hbase_reachable():
        return
    message = (
        f"HBase Thrift server not reachable at {HBASE_HOST}:{HBASE_PORT}; "
        "start it with deploy/hbase/hbase.sh start"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def unique_prefix(tag: str) -> str:
    """A table prefix no other test run uses (HBase tables outlive a test session)."""
    return f"t{tag}{uuid.uuid4().hex[:8]}"


def store_settings(backend: str, tmp_path, prefix: str | None = None, port: int | None = None) -> dict:
    if backend == "embedded":
        return {"BACKEND": "embedded", "PATH": str(tmp_path / "store")}
    return {
        "BACKEND": "hbase",
        "HBASE_HOST": HBASE_HOST,
        "HBASE_PORT": port or HBASE_PORT,
        "HBASE_TABLE_PREFIX": prefix or unique_prefix("s"),
        "HBASE_TIMEOUT_MS": 30000,
        "HBASE_RETRIES": 1,
    }

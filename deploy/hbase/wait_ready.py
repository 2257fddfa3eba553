#!/usr/bin/env python3
"""Wait until an HBase Thrift1 server really serves: create table / put / get / delete table.

The Thrift port opens long before HBase can serve requests, so a port probe is not enough.

usage: wait_ready.py [--host H] [--port P] [--timeout S] [--pid PID ...]

Exits 0 once a full round trip succeeded, 1 on timeout, 2 if a watched pid died, 3 if happybase
is not importable.  Progress goes to stderr.
"""
import argparse
import os
import sys
import time


def log(msg):
    print(f"[wait_ready] {msg}", file=sys.stderr, flush=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0): look at /proc where there is one
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def round_trip(happybase, host, port, attempt_timeout_ms):
    table = f"portal_ready_probe_{os.getpid()}"
    conn = happybase.Connection(
        host, port, timeout=attempt_timeout_ms, transport="buffered", protocol="binary",
        autoconnect=False,
    )
    conn.open()
    try:
        names = {n.decode() if isinstance(n, bytes) else n for n in conn.tables()}
        if table in names:  # left over from an earlier, failed attempt
            conn.delete_table(table, disable=True)
        conn.create_table(table, {"f": dict(max_versions=1)})
        try:
            t = conn.table(table)
            t.put(b"row1", {b"f:q": b"v1"})
            got = t.row(b"row1")
            if got.get(b"f:q") != b"v1":
                raise RuntimeError(f"read back {got!r}, expected {{b'f:q': b'v1'}}")
        finally:
            conn.delete_table(table, disable=True)
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("HBASE_PORT", "9090")))
    ap.add_argument("--timeout", type=float, default=240.0, help="overall limit, seconds")
    ap.add_argument("--attempt-timeout", type=float, default=30.0,
                    help="socket timeout of one attempt, seconds")
    ap.add_argument("--pid", type=int, action="append", default=[],
                    help="give up at once if this process dies (repeatable)")
    args = ap.parse_args()

    try:
        import happybase
    except ImportError as e:
        log(f"cannot import happybase with {sys.executable}: {e} "
            "(set PYTHON to an interpreter that has it, e.g. the project's .venv/bin/python)")
        return 3

    deadline = time.monotonic() + args.timeout
    attempt, last_err = 0, None
    while True:
        for pid in args.pid:
            if not alive(pid):
                log(f"process {pid} died; last error: {last_err}")
                return 2
        attempt += 1
        left = deadline - time.monotonic()
        if left <= 0:
            log(f"timed out after {args.timeout:.0f}s ({attempt - 1} attempts); last error: {last_err}")
            return 1
        try:
            ms = int(1000 * max(1.0, min(args.attempt_timeout, left)))
            round_trip(happybase, args.host, args.port, ms)
            log(f"round trip OK on {args.host}:{args.port} after {attempt} attempt(s)")
            return 0
        except Exception as e:  # noqa: BLE001 - anything means "not ready yet"
            err = f"{type(e).__name__}: {e}".strip()
            if err != last_err:
                log(f"attempt {attempt}: not ready: {err[:300]}")
            last_err = err
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


if __name__ == "__main__":
    sys.exit(main())

"""The whole API fuzzed from its OpenAPI document (schemathesis) against a real server.

A gunicorn serves the portal on a free local port, over a store holding real ingested alerts and
a fresh SQLite database (with one user and API token, so the routes that need an account are
reached too). Schemathesis reads ``/api/v1/openapi`` and sends each operation its examples,
boundary values and random (valid and invalid) inputs, and checks that no answer is a server error
(5xx) and that each answer matches the schema documented for its status and media type. A failure
names each failing operation with a curl command that reproduces it.

Bounded: ``MAX_EXAMPLES`` inputs per operation and phase, a fixed seed (the same requests every
run), a per-request timeout, and a time limit on the whole run (see ``RUN_TIMEOUT_S``).

Run it by hand against a running server with the same options, e.g.::

    st run http://127.0.0.1:8000/api/v1/openapi --checks not_a_server_error,response_schema_conformance \
        --max-examples 50 --seed 20261126 --phases examples,coverage,fuzzing --workers 1
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import store
from alerts.ingest import expand_paths, ingest_paths
from alerts.tables import ALL_TABLES

BASE_DIR = Path(__file__).resolve().parents[2]

#: Folders of the data folder served: alerts with cutouts, a tracklet, an asteroid with cutouts,
#: Fink-FAT candidates, the 2025 schema (anomaly scores).
FUZZED_FOLDERS = (
    "fink-parquet/sample-124-20211122",
    "fink-parquet/tracklet-20210604",
    "fink-parquet/sso-8467-2025",
    "fink-parquet/full-schema-2025",
    "sso/fink-fat-candidates",
)
MAX_EXAMPLES = 50
SEED = 20261126
CHECKS = "not_a_server_error,response_schema_conformance"
REQUEST_TIMEOUT_S = 20  # a request slower than this fails the run ("no request may hang")
# The whole schemathesis run takes about a minute on two idle cores, four when they are shared
# with other test processes; past this it is stopped and the test fails.
RUN_TIMEOUT_S = 420

_MAKE_TOKEN = """
import django
django.setup()
from accounts.services import api_token_create, user_create
user = user_create(username="fuzz", email="fuzz@example.org", password="a fuzzing password 42")
print(api_token_create(user=user, name="fuzz")[1])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(folder: Path) -> dict[str, str]:
    """The portal's settings for the server: everything under ``folder``, nothing shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "HBASE_", "STORE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY="fuzz-only-secret-key-of-the-schemathesis-test-0123456789",
        PORTAL_VAR_DIR=str(folder / "var"),  # Celery's file broker: fit jobs queue up here
        DATABASE_URL=f"sqlite:///{folder / 'portal.sqlite3'}",
        STORE_BACKEND="embedded",
        STORE_PATH=str(folder / "store"),
        API_THROTTLE_ANON="none",
        API_THROTTLE_USER="none",
        PYTHONUNBUFFERED="1",
    )
    return env


def _ingest(data_dir: Path, path: Path) -> None:
    built = store.Store.from_settings({"BACKEND": "embedded", "PATH": str(path)})
    try:
        built.create(*ALL_TABLES)
        files, missing = expand_paths([str(data_dir / f) for f in FUZZED_FOLDERS])
        assert not missing, f"data folders missing: {missing}"
        report = ingest_paths(files, store=built)
        assert not report.errors, [(f.path, f.error) for f in report.errors]
    finally:
        built.close()


def _get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _wait_for_ping(base: str, server: subprocess.Popen, log: Path, limit_s: float = 90) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server stopped (exit {server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if json.loads(_get(f"{base}/api/v1/ping", timeout=2)) == {"status": "ok"}:
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"no answer from {base}/api/v1/ping after {limit_s:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def live_portal(data_dir, tmp_path_factory):
    """A gunicorn serving the portal over ingested alerts: (base URL, API token key, folder)."""
    folder = tmp_path_factory.mktemp("fuzz")
    _ingest(data_dir, folder / "store")
    env = _server_env(folder)

    def manage(*args: str, script: str | None = None) -> str:
        command = [sys.executable, "-c", script] if script else [sys.executable, "manage.py", *args]
        done = subprocess.run(
            command, check=False, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    token = manage(script=_MAKE_TOKEN).strip().splitlines()[-1]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "portal.wsgi",
                "--bind", f"127.0.0.1:{port}",
                "--workers", "2",
                "--timeout", "60",
                "--graceful-timeout", "5",
                "--no-control-socket",
            ],
            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_for_ping(base, server, log)
        yield base, token, folder
    finally:
        server.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the session it was started in: its workers
            server.wait(timeout=10)


def _failures(junit: Path) -> dict[str, str]:
    """Failing operations of a JUnit report, each with schemathesis's text (curl included)."""
    failed = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        texts = [
            (node.text or node.get("message") or "").strip()
            for node in case
            if node.tag in ("failure", "error")
        ]
        if texts:
            failed[case.get("name")] = "\n".join(texts)
    return failed


@pytest.mark.slow
def test_openapi_fuzzing_finds_no_server_error(live_portal):
    base, token, folder = live_portal
    # Fetched once here rather than by schemathesis: the document takes seconds to build, and
    # it must itself be served without error.
    schema = json.loads(_get(f"{base}/api/v1/openapi?format=json", timeout=120))
    schema_file = folder / "openapi.json"
    schema_file.write_text(json.dumps(schema))
    junit, report = folder / "junit.xml", folder / "report.json"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(schema_file),
        "--url", base,
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        # Not "stateful": the document declares no links between operations to follow.
        "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none",  # no examples carried over from an earlier run
        "--request-timeout", str(REQUEST_TIMEOUT_S),
        # One worker: the server has the other core, and two worker threads made hypothesis
        # fail now and then on Python 3.11 ("AST constructor recursion depth mismatch").
        "--workers", "1",
        "--header", f"Authorization: Token {token}",
        "--no-color",
        "--report", "junit,json",
        "--report-junit-path", str(junit),
        "--report-json-path", str(report),
    ]
    started = time.monotonic()
    try:
        run = subprocess.run(
            command, check=False, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT_S} s:\n{out[-3000:]}")
    took = time.monotonic() - started

    server_log = (folder / "server.log").read_text(errors="replace")
    errors_logged = [line for line in server_log.splitlines() if line.startswith("Internal Server Error")]
    assert junit.exists() and report.exists(), (
        f"schemathesis wrote no report:\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    )
    failed = _failures(junit)
    summary = json.loads(report.read_text())
    if failed or run.returncode != 0:
        details = "\n\n".join(f"=== {operation}\n{text}" for operation, text in sorted(failed.items()))
        pytest.fail(
            f"schemathesis found {len(failed)} failing operation(s) in {took:.0f} s "
            f"(exit {run.returncode}; seed {SEED}; routes needing an account also need "
            f"'Authorization: Token <key>'):\n"
            f"{', '.join(sorted(failed)) or run.stdout[-3000:]}\n\n{details}\n\n"
            "server errors logged:\n" + "\n".join(errors_logged[:50])
        )
    operations = summary["operations"]
    assert operations["tested"] == operations["total"] == len(_operations(schema)), operations
    assert not errors_logged, errors_logged  # a 5xx the checks missed would be a bug here


def _operations(schema: dict) -> list[str]:
    methods = {"get", "post", "put", "patch", "delete"}
    return [f"{m.upper()} {p}" for p, item in schema["paths"].items() for m in item if m in methods]

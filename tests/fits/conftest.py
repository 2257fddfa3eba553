"""Fixtures of the fit job tests: real data in a temp store, a file database, a real Celery worker.

The worker is another process, so everything it reads must be shared through files or servers:

- the alert store: a few folders of ``../shared/data`` ingested into an embedded store in a temp
  folder, passed to the worker as ``STORE_PATH``;
- the Django database: pytest-django's SQLite test database lives in memory, which no other
  process sees, so these tests swap in a migrated SQLite file (``DATABASE_URL`` of the worker)
  for the package and put the in-memory one back after; with PostgreSQL the worker is simply
  pointed at the test database;
- the broker: Redis database 15 on 127.0.0.1:6379 (``FITS_TEST_REDIS_URL``); absent Redis skips
  the worker tests with a clear message, and fails them under ``CI=true``.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("FITS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Folders ingested for the tests: the long variable-star light curves (period, microlensing) and
# Fink's aggregated asteroid light curves with ephemerides (phase curves).
DATA_FOLDERS = ("fink-parquet/sso-varstars-20240115", "sso/aggregated-lightcurves")
# Short limits for the test worker: a redelivered message comes back after VISIBILITY seconds.
VISIBILITY_TIMEOUT = 3
SOFT_TIME_LIMIT = 120
HARD_TIME_LIMIT = 150


def redis_reachable(url: str = REDIS_URL) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> None:
    if redis_reachable():
        return
    message = (
        f"Redis not reachable at {REDIS_URL}: the fit job tests need a real Celery broker "
        "(start one with: redis-server --port 6379 --daemonize yes --save '')"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


# -- the alert store --------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def fit_store(ingest_folders, tmp_path_factory):
    """An embedded store holding the ingested folders; the default store of this process too."""
    from django.conf import settings

    from store import configure

    store_settings = ingest_folders(tmp_path_factory.mktemp("fits-store") / "store", DATA_FOLDERS)
    configure(store_settings)
    yield Path(store_settings["PATH"])
    configure(settings.STORE)


# -- the database ------------------------------------------------------------------------------------
def file_database(django_db_blocker, folder: Path) -> Iterator[dict]:
    """Swap the test database for a migrated SQLite file in ``folder`` that a worker process can
    open; yield its settings, and put the in-memory one back after. Not SQLite: the test database
    as it is.

    The file is also what new threads connect to (``connections.settings``): a live server's
    request threads then open their own connections rather than share the test's.
    """
    from django.core.management import call_command
    from django.db import connections

    old = connections["default"]
    if old.vendor != "sqlite":
        yield old.settings_dict
        return
    # The worker and the tests write the same file: wait for the other's lock rather than fail.
    options = {**old.settings_dict.get("OPTIONS", {}), "timeout": 30}
    settings_dict = {**old.settings_dict, "NAME": str(folder / "portal.sqlite3"), "OPTIONS": options}
    swapped = old.__class__(settings_dict, alias="default")
    connections["default"] = swapped
    old_settings = connections.settings["default"]
    connections.settings["default"] = settings_dict
    try:
        with django_db_blocker.unblock():
            call_command("migrate", verbosity=0, interactive=False)
        yield settings_dict
    finally:
        swapped.close()
        connections["default"] = old
        connections.settings["default"] = old_settings


@pytest.fixture(scope="package")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    """The test database, on a file the worker can open (SQLite), for this package's tests.

    Overrides pytest-django's fixture of the same name for ``tests/fits`` only: the session's
    in-memory database is kept open aside and restored after, so other packages are untouched.
    """
    yield from file_database(django_db_blocker, tmp_path_factory.mktemp("fits-db"))


def database_url(settings_dict: dict) -> str:
    """A ``DATABASE_URL`` (django-environ) naming the database of ``settings_dict``."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        timeout = (settings_dict.get("OPTIONS") or {}).get("timeout", 30)
        return f"sqlite:///{settings_dict['NAME']}?timeout={timeout}"
    scheme = "postgres" if "postgresql" in engine else engine.rsplit(".", 1)[-1]
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if user else ""
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{scheme}://{auth}{host}{port}/{settings_dict['NAME']}"


# -- the Celery worker -------------------------------------------------------------------------------
@dataclass
class WorkerProcess:
    """A ``celery -A portal worker`` subprocess in its own process group (so a kill takes its
    pool children too, as a lost machine would)."""

    env: dict
    log_dir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    starts: int = 0

    def start(self, timeout: float = 60) -> None:
        self.starts += 1
        self.log_path = self.log_dir / f"worker-{self.starts}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "portal", "worker",
                    "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    f"--hostname=fits-test-{self.starts}@%h",
                ],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                # The test process starts no threads before this: preexec_fn is safe here.
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited at start:\n{self.tail()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker was not ready after {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def pool_children(self) -> list[int]:
        """Pids of the prefork pool processes (children of the main worker process)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no worker log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _use_broker(url: str | None, transport_options: dict, queue: str) -> None:
    """Point this process's Celery app (the producer) at another broker and queue."""
    from portal.celery import app

    app.close()  # drop pooled connections to the previous broker
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options
    app.conf.task_default_queue = queue


def _die_with_parent() -> None:
    """In the worker, before exec: get SIGKILLed if the test process dies (an interrupted run must
    not leave a worker consuming the next run's messages)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextlib.contextmanager
def running_worker(
    *, store_path: Path, database: dict, var_dir: Path, name: str, env: dict | None = None,
    transport_options: dict | None = None,
) -> Iterator[WorkerProcess]:
    """A real Celery worker on Redis, reading the embedded store at ``store_path`` and the
    ``database`` (Django settings of it), with this process's Celery app sending to it; stopped,
    and the app put back, on exit.

    Its queue belongs to this run only (``<name>-<random>``): other runs (other checkouts, an
    interrupted run) may share Redis. ``env`` adds to or overrides the worker's environment and
    ``transport_options`` are the producer's broker options.
    """
    require_redis()
    import redis
    from django.conf import settings

    queue = f"{name}-{uuid.uuid4().hex[:8]}"
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_VAR_DIR": str(var_dir),
        "STORE_BACKEND": "embedded",
        "STORE_PATH": str(store_path),
        "DATABASE_URL": database_url(database),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_RESULT_BACKEND": f"file://{var_dir / 'results'}",
        "FITS_SOFT_TIME_LIMIT": str(SOFT_TIME_LIMIT),
        "FITS_TIME_LIMIT": str(HARD_TIME_LIMIT),
        **(env or {}),
    }
    previous = (
        settings.CELERY_BROKER_URL,
        dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS),
        settings.CELERY_TASK_DEFAULT_QUEUE,
    )
    _use_broker(REDIS_URL, transport_options or {}, queue)
    worker = WorkerProcess(env=worker_env, log_dir=var_dir)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        _use_broker(*previous)
        redis.Redis.from_url(REDIS_URL).delete(queue)


@pytest.fixture(scope="package")
def fit_worker(fit_store, django_db_setup, tmp_path_factory):
    """A real Celery worker on Redis, sharing the test store and database; ``.kill()`` /
    ``.start()`` to lose and replace it."""
    with running_worker(
        store_path=fit_store, database=django_db_setup, var_dir=tmp_path_factory.mktemp("fits-var"),
        name="fits-test",
        env={
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "FITS_MAX_ATTEMPTS": "2",
            "LOG_LEVEL": "INFO",
        },
        transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    ) as worker:
        yield worker

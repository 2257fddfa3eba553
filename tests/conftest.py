"""Fixtures shared by every test package."""
import os

import pytest


@pytest.fixture(scope="session")
def data_dir():
    """The folder of real alert files (``PORTAL_DATA`` or ``../shared/data``).

    Absent: the test is skipped with a clear message, except under CI where it fails.
    """
    from alerts.datadir import find_data_dir

    found = find_data_dir()
    if found is None:
        message = "alert data folder not found: set PORTAL_DATA or put it at ../shared/data"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (throttle counters live there)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session")
def ingest_folders(data_dir):
    """``ingest_folders(path, folders)``: a new embedded store at ``path`` holding the alert files
    of ``folders`` (relative to :func:`data_dir`), ingested as ``manage.py ingest`` does; returns
    its store settings. The store is closed after: LMDB allows one open environment per path and
    process, and the caller (or the server it starts) opens it again."""
    from alerts.ingest import expand_paths, ingest_paths
    from alerts.tables import ALL_TABLES
    from store import Store

    def ingest(path, folders) -> dict:
        settings = {"BACKEND": "embedded", "PATH": str(path)}
        store = Store.from_settings(settings)
        try:
            store.create(*ALL_TABLES)
            files, missing = expand_paths([str(data_dir / folder) for folder in folders])
            assert not missing, f"data folders missing: {missing}"
            report = ingest_paths(files, store=store)
            assert report.errors == [], report.errors
        finally:
            store.close()
        return settings

    return ingest

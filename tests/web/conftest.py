"""Fixtures of the web page tests: a store holding real alerts, made the portal's default store.

The alerts are ingested once per session into a temporary embedded store; each test that asks
for ``portal_store`` gets it as the default store (what the views read), and the default store
configured in settings comes back after the test.
"""

from __future__ import annotations

import pytest

#: Folders of ../shared/data ingested for the page tests: an SLSN with ten alerts and cutouts,
#: the classic Fink sample (SN Ia candidates, QSOs, an asteroid), asteroids with cutouts.
WEB_FOLDERS = (
    "fink-parquet/slsn-2025",
    "fink-parquet/sample-124-20211122",
    "fink-parquet/sso-cutouts-20220804",
)
#: An object of WEB_FOLDERS with alerts in g and r, upper limits and cutouts.
OBJECT_ID = "ZTF25abixhdc"


@pytest.fixture(scope="session")
def web_store_settings(data_dir, tmp_path_factory):
    """Settings of an embedded store holding the alerts of :data:`WEB_FOLDERS`."""
    from alerts.ingest import expand_paths, ingest_paths
    from alerts.tables import ALL_TABLES
    from store import Store

    settings = {"BACKEND": "embedded", "PATH": str(tmp_path_factory.mktemp("web") / "store")}
    store = Store.from_settings(settings)
    try:
        store.create(*ALL_TABLES)
        files, missing = expand_paths([str(data_dir / folder) for folder in WEB_FOLDERS])
        assert not missing, missing
        report = ingest_paths(files, store=store)
        assert report.errors == []
    finally:
        store.close()  # LMDB: one open environment per path and process
    return settings


@pytest.fixture
def portal_store(web_store_settings):
    """The ingested store as the default store for the test; API throttle counts reset."""
    from django.conf import settings
    from django.core.cache import cache

    from store import configure, get_store

    configure(web_store_settings)
    cache.clear()  # the anonymous API quota is per process: earlier tests may have used it
    yield get_store()
    configure(settings.STORE)

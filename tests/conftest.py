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

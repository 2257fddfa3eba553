"""Fixtures of the web page tests: a store holding real alerts, made the portal's default store,
and headless Chromium.

The alerts are ingested once per session into a temporary embedded store; each test that asks
for ``portal_store`` gets it as the default store (what the views read), and the default store
configured in settings comes back after the test.

The browser tests drive the system's /usr/bin/chromium with Playwright (``browser``, one per
module; ``page``, a tab on the live server). Without Chromium or Playwright they are skipped with
a message, except under CI where they fail. ``shoot`` saves a screenshot under
``test-artifacts/screenshots/`` (git-ignored; CI prints the folder).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

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
def web_store_settings(ingest_folders, tmp_path_factory):
    """Settings of an embedded store holding the alerts of :data:`WEB_FOLDERS`."""
    return ingest_folders(tmp_path_factory.mktemp("web") / "store", WEB_FOLDERS)


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


# -- headless Chromium -------------------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def unavailable(message: str):
    """Skip the test for want of a browser; under CI, fail it."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} not found: apt-get install -y chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install playwright (no browser download needed)")
    # Playwright's sync API runs an event loop in this thread: let Django's checks allow the
    # test's own (DB-free) calls around it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def browser_tab(browser, base_url: str) -> Iterator:
    """A tab of a new 1280×900 window on ``base_url``; its script errors collect in ``tab.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.errors = errors
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser, live_server, portal_store):
    """A browser tab on the live server, which reads :func:`portal_store`."""
    with browser_tab(browser, live_server.url) as tab:
        yield tab


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

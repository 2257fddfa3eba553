"""The object page's Fits card in headless Chromium, with a real Celery worker running the fit.

The worker is another process, so the page's server, the test and the worker share what the
fit job tests share (``tests/fits/conftest.py``, whose helpers are reused here): an embedded
store in a temp folder holding a long variable-star light curve, a migrated SQLite file as the
database, and Redis as the broker (absent Redis skips, and fails under ``CI=true``). The page
is served by a live server thread of this module that uses that file database:
pytest-django's session ``live_server`` keeps the in-memory one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fits.conftest import file_database, running_worker

from .conftest import browser_tab, shoot

#: A periodic variable star with a long light curve in g and r, and the folder holding it.
VARIABLE_STAR = "ZTF18adbaezj"
DATA_FOLDER = "fink-parquet/sso-varstars-20240115"
PASSWORD = "fits-panel-password"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def varstar_store(ingest_folders, tmp_path_factory):
    """An embedded store holding :data:`DATA_FOLDER`, the default store of this process."""
    from django.conf import settings

    from alerts.tables import ALL_TABLES
    from store import configure, get_store

    store_settings = ingest_folders(tmp_path_factory.mktemp("fits-panel-store") / "store", [DATA_FOLDER])
    configure(store_settings)
    # Open every table once here, before the server's threads do: the page's three cutout
    # requests opening the same LMDB table at once hung the live server in a first run.
    for table in ALL_TABLES:
        with get_store()[table].scan(limit=1) as rows:
            next(rows, None)
    yield Path(store_settings["PATH"])
    configure(settings.STORE)


@pytest.fixture(scope="module")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    """The test database on a SQLite file the worker can open, for this module only (as in
    ``tests/fits/conftest.py``); the session's in-memory database comes back after."""
    yield from file_database(django_db_blocker, tmp_path_factory.mktemp("fits-panel-db"))


@pytest.fixture(scope="module")
def fit_worker(varstar_store, django_db_setup, tmp_path_factory):
    """A ``celery -A portal worker`` on Redis, on this module's store and database."""
    with running_worker(store_path=varstar_store, database=django_db_setup,
                        var_dir=tmp_path_factory.mktemp("fits-panel-var"), name="fits-panel") as worker:
        yield worker


@pytest.fixture(scope="module")
def fits_server(django_db_setup, varstar_store):
    """A live server thread on this module's database file (static files served)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from django.test.utils import modify_settings

    thread = LiveServerThread("localhost", StaticFilesHandler, port=0)
    thread.daemon = True
    allowed = modify_settings(ALLOWED_HOSTS={"append": "localhost"})
    allowed.enable()
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://localhost:{thread.port}"
    thread.terminate()
    allowed.disable()


@pytest.fixture
def page(browser, fits_server, fit_worker):
    with browser_tab(browser, fits_server) as tab:
        yield tab


def open_card(page):
    """The Fits card, once its panel is in the page and its script has drawn the kept fits."""
    page.wait_for_selector("#fits-slot[data-loaded=true] #fits", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#fits .fit-none').hidden"
                           " || !document.querySelector('#fits table.fit-jobs tbody tr')")
    return page.locator("#fits")


def log_in(page, username: str) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username, password=PASSWORD)
    page.goto(f"/accounts/login/?next=/{VARIABLE_STAR}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*=login] [type=submit]")
    page.wait_for_url(f"**/{VARIABLE_STAR}")


def test_anonymous_users_are_asked_to_log_in(page):
    page.goto(f"/{VARIABLE_STAR}")
    card = open_card(page)
    assert "Log in to run fits" in card.inner_text()
    assert card.locator("form.fit-form").count() == 0


def test_a_period_fit_runs_in_the_background_and_is_drawn(page):
    log_in(page, "fitter")
    card = open_card(page)
    assert card.locator("form.fit-form[data-kind=period]").is_visible()
    assert card.locator("form.fit-form[data-kind=phase_curve]").count() == 0  # not an asteroid

    # A parameter out of range: the API's 400 names it, shown on the card; nothing is queued.
    period_form = card.locator("form.fit-form[data-kind=period]")
    period_form.locator("input[name=period_min]").fill("0.0001")
    period_form.locator("button[type=submit]").click()
    page.wait_for_selector("#fits .fit-status.error", timeout=10_000)
    assert "parameters.period_min" in card.locator(".fit-status").inner_text()
    assert card.locator("table.fit-jobs tbody tr").count() == 0

    # An empty range passes the API but fails in the worker: the job's error is shown.
    period_form.locator("input[name=period_min]").fill("5")
    period_form.locator("input[name=period_max]").fill("2")
    period_form.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelector('#fits .fit-status.error')?.innerText.includes('failed')", timeout=60_000
    )
    assert "period_max" in card.locator(".fit-status").inner_text()
    assert card.locator("table.fit-jobs tbody tr").first.get_attribute("data-status") == "failed"

    # The search, on the worker: the card polls until the result comes.
    period_form.locator("input[name=period_min]").fill("0.05")
    period_form.locator("input[name=period_max]").fill("")
    period_form.locator("button[type=submit]").click()
    page.wait_for_function("() => document.querySelectorAll('#fits table.fit-jobs tbody tr').length === 2", timeout=10_000)
    page.wait_for_selector("#fits .fit-result[data-drawn=true]", timeout=120_000)
    assert card.locator(".fit-status.error").count() == 0

    numbers = card.locator("dl.fit-numbers").inner_text()
    assert "Best period" in numbers and "±" in numbers and " d" in numbers
    row = card.locator("table.fit-jobs tbody tr").first
    assert row.get_attribute("data-status") == "done"
    assert "fitter" in row.inner_text() and "Period" in row.inner_text()

    # The folded plot: points per band and the model, from the result JSON.
    page.wait_for_selector("#fits .fit-plot[data-plot=main] .scatterlayer .point", timeout=30_000)
    plotted = page.evaluate(
        "() => document.querySelector('#fits .fit-plot[data-plot=main]').data"
        ".filter(t => t.mode === 'markers').reduce((n, t) => n + t.x.length, 0)"
    )
    assert plotted > 50
    assert page.evaluate("() => document.querySelector('#fits .fit-plot[data-plot=aux]').data.length") >= 1
    card.scroll_into_view_if_needed()
    shoot(page, "object-fit")

    # A typed-in period only folds: a second job, done quickly, drawn at that period.
    best = float(page.evaluate("() => document.querySelector('#fits .fit-plot[data-plot=main]').layout.title.text.split('= ')[1].split(' ')[0]"))
    period_form.locator("input[name=period]").fill(f"{2 * best:.6f}")
    period_form.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelector('#fits .fit-result').dataset.jobId !== undefined"
        " && document.querySelectorAll('#fits table.fit-jobs tbody tr').length === 3"
        " && document.querySelector('#fits table.fit-jobs tbody tr').dataset.status === 'done'"
        " && document.querySelector('#fits dl.fit-numbers').innerText.includes('typed in')",
        timeout=60_000,
    )
    assert page.errors == []

    # The kept fits come back with the page (its fits panel), with who asked.
    page.reload()
    card = open_card(page)
    rows = card.locator("table.fit-jobs tbody tr")
    assert rows.count() == 3
    assert all("fitter" in text for text in rows.all_inner_texts())


def test_asteroids_offer_a_phase_curve_fit_under_their_name(client, portal_store):
    """The card keys phase-curve fits by the asteroid's name (ssnamenr), not the ZTF id."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("astro"))
    body = client.get("/objects/ZTF22aayqebm/panels/fits").content.decode()
    assert 'data-kind="phase_curve" data-object-id="19205"' in body
    assert 'data-kind="period" data-object-id="ZTF22aayqebm"' in body


def test_the_card_is_a_panel_of_its_own(client, portal_store, django_assert_num_queries):
    """The object page asks the user database nothing (its first byte waits for no fit query);
    the card comes from its own URL, with the kept fits and its script."""
    from django.contrib.auth import get_user_model

    from fits.models import FitJob

    user = get_user_model().objects.create_user("kept")
    FitJob.objects.create(object_id="ZTF22aayqebm", kind="period", parameters={"period_min": 0.1},
                          params_hash="x" * 64, requested_by=user)
    with django_assert_num_queries(0):
        page = client.get("/ZTF22aayqebm").content.decode()
    assert 'id="fits"' not in page and 'data-panel-src="/objects/ZTF22aayqebm/panels/fits"' in page
    assert 'data-panel-src="/objects/ZTF22aayqebm/panels/annotations"' in page
    card = client.get("/objects/ZTF22aayqebm/panels/fits")
    assert card.status_code == 200
    body = card.content.decode()
    assert "<html" not in body and '<section class="card" id="fits"' in body
    assert "/static/js/fits.js" in body and "Log in to run fits" in body
    assert '"requestedBy": "kept"' in body and '"kind": "period"' in body
    assert client.get("/objects/ZTF25abixhdd/panels/fits").status_code == 404

"""The statistics, gravitational-wave and cross-match pages in headless Chromium.

Chromium, the live server and the screenshots are those of ``conftest.py``; the expected answers
come from the alert files (``test_tool_pages.py``).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from urllib.parse import urlencode

import pytest

from . import test_tool_pages
from .conftest import shoot
from .test_tool_pages import (
    ASTEROIDS_OF_20220804,
    asteroid_sky_map,
    catalogue_csv,
    night_of,
)

# A fixture of that module, used here too (pytest finds fixtures among a module's attributes).
file_alerts = test_tool_pages.file_alerts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLOTTED_POINTS = "id => document.getElementById(id).data.reduce((n, t) => n + t.x.filter(v => v !== null).length, 0)"


def test_statistics_page_plots_the_nights(page, file_alerts):
    nights = Counter(night_of(a.jd) for a in file_alerts)
    page.goto("/statistics")
    page.wait_for_selector("#plot-nights[data-drawn=true]", timeout=20_000)
    page.wait_for_selector("#plot-classes[data-drawn=true]")
    # One bar per night, as many as the files have nights, each as high as its alerts.
    bars = page.evaluate("() => document.getElementById('plot-nights').data[0]")
    assert dict(zip(bars["x"], bars["y"])) == dict(nights)
    assert page.locator("#plot-nights .bars .point").count() == len(nights)
    assert page.evaluate(PLOTTED_POINTS, "plot-classes") > 0
    assert page.locator("#plot-classes .bars .point").count() > len(nights)
    shoot(page, "statistics")

    # Pick two classes, as lines, by month.
    page.locator("#class-table input[type=checkbox]:checked").evaluate_all("boxes => boxes.forEach(b => b.click())")
    page.locator("#class-table tr[data-class='SN candidate'] input").check()
    page.locator("#class-table tr[data-class='Supernova'] input").check()
    page.select_option("select[name=group]", "month")
    page.select_option("select[name=mode]", "lines")
    page.locator("#statistics-form button.run").click()
    page.wait_for_url("**group=month**")
    page.wait_for_selector("#plot-classes[data-drawn=true]", timeout=20_000)
    names = page.evaluate("() => document.getElementById('plot-classes').data.map(t => t.name)")
    assert names == ["SN candidate", "Supernova"]
    months = page.evaluate("() => document.getElementById('plot-nights').data[0].x")
    assert months == sorted({night[:7] for night in nights})
    shoot(page, "statistics-lines")
    assert page.errors == []


def test_gw_page_uploads_a_sky_map(page, file_alerts, data_dir, tmp_path):
    page.goto("/gw")
    # The real BAYESTAR map: its region is drawn; no alert held is near its date (2020-02-19).
    page.set_input_files("input[name=bayestar]", str(data_dir / "gw" / "bayestar.fits.gz"))
    page.locator("#gw-form button.run").click()
    page.wait_for_selector("#tool-output[data-state=done]", timeout=30_000)
    page.wait_for_selector("#sky-plot[data-drawn=true]", timeout=20_000)
    assert page.locator("#gw-nothing").is_visible()
    assert "2020-02-19" in page.locator("#gw-summary h2").inner_text()
    assert page.evaluate("() => document.getElementById('sky-plot').data[2].x.length") > 1000
    shoot(page, "gw-bayestar")

    # A map around five asteroids first seen on 2022-08-04, the event just before.
    fits_bytes, _ = asteroid_sky_map(file_alerts, sigma_deg=4.0)
    path = tmp_path / "asteroids.fits.gz"
    path.write_bytes(fits_bytes)
    page.set_input_files("input[name=bayestar]", str(path))
    page.fill("input[name=credible_level]", "0.95")
    page.locator("#gw-form button.run").click()
    page.wait_for_selector("#gw-results tbody tr", timeout=30_000)
    page.wait_for_selector("#sky-plot[data-drawn=true]")
    listed = page.eval_on_selector_all("#gw-results td.object a", "links => links.map(a => a.textContent.trim())")
    assert set(listed) >= ASTEROIDS_OF_20220804
    assert page.evaluate("() => document.getElementById('sky-plot').data[3].text") == listed
    shoot(page, "gw")

    # The file stayed in the form: the download posts it again and saves the API's rows.
    with page.expect_download() as download:
        page.locator("#downloads button[value=json]").click()
    rows = json.loads(download.value.path().read_bytes())
    assert [r["i:objectId"] for r in rows] == listed
    assert page.errors == []


def test_xmatch_page_uploads_a_catalogue(page, file_alerts, tmp_path):
    picked = random.Random(11).sample(file_alerts, 12)
    path = tmp_path / "sources.csv"
    path.write_text(catalogue_csv(picked))
    page.goto("/xmatch")

    # Nothing chosen: the problem is said, the form stays.
    page.locator("#xmatch-form button.run").click()
    page.wait_for_selector("#tool-output[data-state=error] #problems")
    assert "Catalogue: choose a file to upload" in page.locator("#problems").inner_text()

    # The columns of the CSV file are offered, and guessed (name, ra, dec).
    page.set_input_files("input[name=catalog]", str(path))
    page.wait_for_function("() => document.querySelectorAll('#catalog-columns option').length === 5")
    assert page.input_value("input[name=id_column]") == "name"
    assert page.input_value("input[name=ra_column]") == "ra"
    assert page.input_value("input[name=dec_column]") == "dec"
    page.fill("input[name=time_column]", "date")
    page.fill("input[name=window]", "2")
    page.locator("#xmatch-form button.run").click()
    page.wait_for_selector("#xmatch-results tbody tr", timeout=30_000)
    assert page.locator("#problems").count() == 0
    pairs = page.eval_on_selector_all(
        "#xmatch-results tbody tr", "rows => rows.map(r => [r.dataset.source, r.dataset.object])"
    )
    assert {(f"src{i}", a.object_id) for i, a in enumerate(picked)} <= {tuple(p) for p in pairs}
    shoot(page, "xmatch")

    with page.expect_download() as download:
        page.locator("#downloads button[value=csv]").click()
    assert download.value.suggested_filename == "xmatch.csv"
    lines = download.value.path().read_text().splitlines()
    assert len(lines) == len(pairs) + 1 and lines[0].startswith('"name","ra","dec","date","note"')

    # A column that is not in the file: the message names it and lists the file's columns.
    page.fill("input[name=ra_column]", "RAJ2000")
    page.locator("#xmatch-form button.run").click()
    page.wait_for_selector("#tool-output[data-state=error] #problems")
    assert "RAJ2000 not in the catalogue" in page.locator("#problems").inner_text()
    shoot(page, "xmatch-error")
    assert page.errors == []


def test_search_results_as_cards_with_a_sky_plot(page):
    page.goto("/search?" + urlencode({"q": "class=SN candidate last=20", "view": "cards"}))
    cards = page.locator(".result-card")
    assert cards.count() > 1
    # The cutouts are lazy: scroll each into view, then every image has loaded.
    for i in range(cards.count()):
        cards.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.result-card img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=20_000,
    )
    assert page.locator(".result-card svg.sparkline circle").count() >= cards.count()
    page.wait_for_selector("#sky-plot[data-drawn=true]", timeout=20_000)
    rows = page.evaluate("() => JSON.parse(document.getElementById('results-sky-data').textContent).ra.length")
    assert page.evaluate("() => document.getElementById('sky-plot').data[2].x.length") == rows > 0
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, "search-cards")
    assert page.errors == []

"""The pages in headless Chromium (Playwright driving the system's /usr/bin/chromium).

The browser, its tab on the live server and the screenshots (``test-artifacts/screenshots/``)
are those of ``conftest.py``. Without Chromium the tests are skipped with a message, except
under CI where it fails.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .conftest import OBJECT_ID, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def cutout_widths(page) -> list[int]:
    return page.eval_on_selector_all("img.cutout", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def wait_for_cutouts_of(page, candid: str) -> None:
    page.wait_for_function(
        "c => [...document.querySelectorAll('img.cutout')]"
        ".every(i => i.src.includes('candid=' + c) && i.complete && i.naturalWidth > 0)",
        arg=candid,
        timeout=20_000,
    )


def test_home_page(page):
    page.goto("/")
    assert page.locator("form.searchbar input[name=q]").is_visible()
    assert page.locator(".counts [data-table=ztf]").count() == 1
    shoot(page, "home")


def test_search_by_id_opens_the_object_page(page):
    page.goto("/")
    page.fill("form.searchbar input[name=q]", OBJECT_ID)
    page.press("form.searchbar input[name=q]", "Enter")
    page.wait_for_url(f"**/{OBJECT_ID}")
    assert page.locator("h1 .oid").inner_text() == OBJECT_ID

    # The light curve: a Dash app in an iframe, drawn with points.
    frame = page.wait_for_selector("#lightcurve-frame").content_frame()
    frame.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)
    plotted = frame.evaluate(
        "() => document.querySelector('.js-plotly-plot').data"
        ".filter(t => t.visible !== false).reduce((n, t) => n + t.x.length, 0)"
    )
    assert plotted > 10  # 10 alerts and the upper limits (the bad-quality points are hidden)
    assert frame.locator(".js-plotly-plot .scatterlayer .point").count() == plotted

    # The three cutouts of the latest alert, as images from the cutouts API route.
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.cutout')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=20_000,
    )
    assert len(cutout_widths(page)) == 3 and all(w > 0 for w in cutout_widths(page))

    # The lazily loaded panels; the fits and annotation cards run their own scripts once in.
    page.wait_for_selector("#alerts[data-loaded=true] tr[data-candid]", timeout=20_000)
    page.wait_for_selector("#details[data-loaded=true] [data-count=valid]")
    assert page.locator("#details [data-count=valid]").inner_text() == "10"
    assert page.locator("#alerts tr[data-candid]").count() == 10
    page.wait_for_selector("#fits-slot[data-loaded=true] #fits .fit-none:not([hidden])", timeout=20_000)
    page.wait_for_selector("#annotations-slot[data-loaded=true] #annotations", timeout=20_000)
    assert page.evaluate("() => [...document.scripts].filter(s => s.src.endsWith('/js/fits.js')).length") == 1
    # Dates go to the plot as ms numbers on a date axis; only alerts carry a candid.
    layout_x = frame.evaluate(
        "() => { const gd = document.querySelector('.js-plotly-plot');"
        " return [gd._fullLayout.xaxis.type, typeof gd.data[0].x[0],"
        " gd.data.filter(t => t.customdata).map(t => t.name)]; }"
    )
    assert layout_x[:2] == ["date", "number"]
    assert layout_x[2] and all(name.endswith("alerts") for name in layout_x[2])
    # Dash's polyfill replaced String.prototype.trim and parseInt; the app put the browser's back.
    assert frame.evaluate("() => window._portalNatives.every(([owner, name, fn]) => owner[name] === fn)")
    assert frame.evaluate("() => typeof Plotly.react === 'function' && !!document.querySelector("
                          "'script[src*=\"plotly-basic\"]')")
    shoot(page, "object")

    # The stamps of an older alert, from the alert table.
    oldest = page.locator("#alerts tr[data-candid]").last
    candid = oldest.get_attribute("data-candid")
    oldest.locator("button.show-cutouts").click()
    wait_for_cutouts_of(page, candid)
    assert candid in page.locator("#cutout-caption").inner_text()

    # A click on an alert of the light curve shows its stamps too (the app posts a message).
    first_alert = frame.locator(".scatterlayer .trace").first.locator(".point").first
    first_alert.scroll_into_view_if_needed()
    box = first_alert.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "c => !document.getElementById('cutout-caption').textContent.includes(c)", arg=candid
    )
    clicked = page.locator("#cutout-caption").inner_text().split()[1]
    assert clicked.isdigit()
    wait_for_cutouts_of(page, clicked)

    # The bad-quality points: shown by the browser alone (no request to the server).
    callbacks = []
    page.on("request", lambda r: callbacks.append(r.url) if "_dash-update-component" in r.url else None)
    frame.locator("label", has_text="bad-quality points").click()
    frame.wait_for_function(
        "() => document.querySelector('.js-plotly-plot').data"
        ".some(t => t.name.includes('bad quality') && t.visible !== false)"
    )
    drawn = frame.evaluate(
        "() => document.querySelector('.js-plotly-plot').data"
        ".filter(t => t.visible !== false).reduce((n, t) => n + t.x.length, 0)"
    )
    assert drawn > plotted and frame.locator(".js-plotly-plot .scatterlayer .point").count() == drawn
    assert callbacks == []
    # Flux: from the server (a new figure), the bad-quality points still shown.
    frame.locator("label", has_text="flux").click()
    frame.wait_for_function(
        "() => document.querySelector('.js-plotly-plot').layout.yaxis.title.text.includes('flux')"
    )
    frame.wait_for_function(
        "() => document.querySelector('.js-plotly-plot').data"
        ".some(t => t.name.includes('bad quality') && t.visible !== false)"
    )
    assert frame.locator(".js-plotly-plot .scatterlayer .point").count() > 10
    assert len(callbacks) == 1
    page.wait_for_timeout(500)  # let the redrawn plot settle for the screenshot
    shoot(page, "object-flux")
    assert page.errors == []


def test_a_failing_panel_never_blanks_the_page(page):
    """The fits panel answers 500: its slot offers a retry, everything else is drawn."""
    failures = {"left": 1}

    def fits_panel(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=500, body="boom")
        else:
            route.continue_()

    page.route("**/panels/fits", fits_panel)
    page.goto(f"/{OBJECT_ID}")
    page.wait_for_selector("#fits-slot .error button", timeout=20_000)
    assert "HTTP 500" in page.locator("#fits-slot .error").inner_text()
    frame = page.wait_for_selector("#lightcurve-frame").content_frame()
    frame.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)
    page.wait_for_selector("#alerts[data-loaded=true] tr[data-candid]", timeout=20_000)
    page.locator("#fits-slot .error button").click()
    page.wait_for_selector("#fits-slot[data-loaded=true] #fits", timeout=20_000)
    assert page.errors == []


def test_cone_search_url_lists_the_right_objects(page, portal_store):
    import numpy as np
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    from alerts.tables import ObjectSummary

    # The right answer, from every object's position (a full scan: the test store is small).
    with portal_store[ObjectSummary].scan(start=b"\x00", columns=["i:ra", "i:dec"]) as scan:
        objects = [(row.key, row["i:ra"], row["i:dec"]) for row in scan]
    positions = SkyCoord([o[1] for o in objects] * u.deg, [o[2] for o in objects] * u.deg)
    centre = positions[[o[0] for o in objects].index(OBJECT_ID)]
    inside = np.flatnonzero(positions.separation(centre).deg < 4.0)
    expected = {objects[i][0] for i in inside}
    assert OBJECT_ID in expected and len(expected) > 1  # other 2025 SLSNe lie within 4 degrees
    page.goto("/search?" + urlencode({"q": f"{centre.ra.deg:.6f} {centre.dec.deg:+.6f} r=4d"}))
    listed = page.eval_on_selector_all(
        "table.results td.object a", "links => links.map(a => a.textContent.trim())"
    )
    assert set(listed) == expected
    assert listed[0] == OBJECT_ID  # nearest first
    downloads = page.eval_on_selector_all(".downloads a", "links => links.map(a => a.getAttribute('href'))")
    assert any("output-format=votable" in href for href in downloads)
    shoot(page, "search-cone")
    page.locator("table.results th a", has_text="mag").click()
    page.wait_for_url("**sort=magpsf**")


def test_nothing_found_and_unknown_object_pages(page):
    page.goto("/search?" + urlencode({"q": "class=Supernva"}))
    assert page.locator("ul.hints a", has_text="class=Supernova").count() == 1
    shoot(page, "search-nothing")
    response = page.goto("/ZTF25abixhdd")
    assert response.status == 404
    assert page.locator("ul.hints a", has_text=OBJECT_ID).count() == 1
    shoot(page, "object-not-found")


@pytest.mark.parametrize(
    ("name", "text", "row_link"),
    [
        ("search-class", "class=SN candidate last=20", None),
        ("search-prefix", "ZTF21", "ZTF21acqdcyb"),
        ("search-asteroid", "sso=19205", None),
    ],
)
def test_other_searches_list_rows(page, name, text, row_link):
    page.goto("/search?" + urlencode({"q": text}))
    rows = page.locator("table.results tbody tr")
    assert rows.count() > 0
    if row_link:
        assert page.locator("table.results td.object a", has_text=row_link).count() == 1
    shoot(page, name)


def test_the_page_benchmark_runs_in_the_browser(browser, live_server, portal_store):
    """bench/pages.py's browser part, once each on the test object (times are not checked)."""
    from bench.pages import BrowserBench

    bench = BrowserBench(browser, live_server.url, OBJECT_ID)
    bench.prepare()
    assert sum(points for _, _, points in bench.traces) > 10 and bench.width > 500
    loads = bench.loads(1)
    assert all(len(v) == 1 and 0 < v[0] < 60_000 for v in loads.values())
    acts = bench.interactions(1)
    assert set(acts) == {f"{who} {op}" for who in ("page", "floor") for op in ("hide", "show", "zoom")}
    assert all(0 < t < 60_000 for v in acts.values() for t in v)
    clicks = bench.clicks(1)
    assert len(clicks["page"]) == 1 and len(clicks["floor"]) == 1
    toggles = bench.toggles(1)
    assert len(toggles["page"]) == 2 and all(t < 15_000 for t in toggles["page"])  # redrawn, not timed out


def test_a_chosen_alert_shows_its_full_content(page):
    """A row's "stamps" button and a click on the light curve load that alert's columns."""
    page.goto(f"/{OBJECT_ID}")
    page.wait_for_selector("#alert-content[data-loaded=true] tr[data-column='i:candid']", timeout=20_000)
    latest = page.locator("#alerts tr[data-candid]").first
    page.wait_for_selector("#alerts[data-loaded=true] tr[data-candid]", timeout=20_000)
    assert page.locator("#alert-content-candid").inner_text() == latest.get_attribute("data-candid")

    row = page.locator("#alerts tr[data-candid]").nth(3)
    candid = row.get_attribute("data-candid")
    row.locator("button.show-cutouts").click()
    page.wait_for_selector(f"#alert-content[data-loaded=true] .alert-content[data-candid='{candid}']", timeout=20_000)
    assert page.locator("#alert-content tr[data-column='i:candid'] td").inner_text() == candid
    assert page.locator("#alert-content tr[data-column='d:classification'] td").inner_text() == (
        row.locator("td").nth(9).inner_text()
    )

    # A point of the light curve: the panel follows the caption's candid.
    frame = page.wait_for_selector("#lightcurve-frame").content_frame()
    point = frame.locator(".scatterlayer .trace").first.locator(".point").first
    frame.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=30_000)
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("c => !document.getElementById('cutout-caption').textContent.includes(c)", arg=candid)
    clicked = page.locator("#cutout-caption").inner_text().split()[1]
    page.wait_for_selector(f"#alert-content[data-loaded=true] .alert-content[data-candid='{clicked}']", timeout=20_000)
    page.locator("#alert-content .alert-filter").fill("mag")
    assert page.locator("#alert-content tr[data-column='i:magpsf']").is_visible()
    assert not page.locator("#alert-content tr[data-column='i:ra']").is_visible()
    page.locator("#alert-content .alert-filter").fill("")
    page.locator("#alert-panel").scroll_into_view_if_needed()
    shoot(page, "object-alert")
    assert page.errors == []


def test_the_light_curve_folds_at_a_typed_period_without_a_login(page):
    from objects.lightcurve import lightcurve_of_object

    detections = lightcurve_of_object(object_id=OBJECT_ID)["counts"]["valid"]
    page.goto(f"/{OBJECT_ID}")
    page.wait_for_selector("#lightcurve-frame").content_frame().wait_for_selector(".js-plotly-plot .scatterlayer")
    page.fill("#fold-period", "0.35")
    page.click("#fold-button")
    page.wait_for_selector("#lightcurve-folded .scatterlayer .point", timeout=20_000)
    assert page.locator("#lightcurve-frame").is_hidden() and page.locator("#unfold-button").is_visible()
    traces = page.eval_on_selector(
        "#lightcurve-folded", "el => el.data.map(t => ({meta: t.meta, x: t.x, y: t.y}))"
    )
    xs = [x for trace in traces for x in trace["x"]]
    assert xs and all(0 <= x <= 2 for x in xs)
    # Each detection once in the first cycle (the second repeats it, faintly, for reading).
    folded = [trace for trace in traces if trace["meta"] == "folded"]
    assert sum(len(trace["x"]) for trace in folded) == detections
    assert all(0 <= x < 1 for trace in folded for x in trace["x"])
    low, high = page.eval_on_selector("#lightcurve-folded", "el => el._fullLayout.yaxis.range")
    assert low > high  # magnitudes: brighter up
    assert "folded" in page.locator(".fold-status").inner_text()
    shoot(page, "object-folded")

    page.click("#unfold-button")
    assert page.locator("#lightcurve-folded").is_hidden() and page.locator("#lightcurve-frame").is_visible()
    frame = page.wait_for_selector("#lightcurve-frame").content_frame()
    dates = frame.eval_on_selector(".js-plotly-plot", "el => el.data.flatMap(t => t.x || [])")
    assert dates and all(x > 1.7e12 for x in dates)  # ms since 1970 on a date axis, again
    assert not page.errors

    # A kept period fit: its row offers to fold on its period, which fills the input and folds.
    from fits.models import FitJob

    FitJob.objects.create(object_id=OBJECT_ID, kind="period", parameters={"period_min": 0.1}, params_hash="c" * 64,
                          status="done", result={"params": {"period": 0.2468}})
    page.reload()
    page.wait_for_selector("#fits .fold-on", timeout=20_000).click()
    assert page.input_value("#fold-period") == "0.2468"
    page.wait_for_selector("#lightcurve-folded .scatterlayer .point", timeout=20_000)
    assert "0.2468" in page.eval_on_selector("#lightcurve-folded", "el => el.layout.title.text")
    assert not page.errors

"""The search and object pages through Django's test client, on real ingested alerts."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .conftest import OBJECT_ID

pytestmark = pytest.mark.django_db


def search(client, text: str, **extra):
    return client.get("/search?" + urlencode({"q": text, **extra}))


def test_home_has_the_search_bar_and_the_table_counts(client, portal_store):
    page = client.get("/").content.decode()
    assert 'action="/search"' in page and 'name="q"' in page
    assert 'data-table="ztf"' in page


def test_an_exact_id_redirects_to_the_object_page(client, portal_store):
    response = search(client, OBJECT_ID.lower())
    assert response.status_code == 302
    assert response["Location"] == f"/{OBJECT_ID}"


def test_a_prefix_matching_one_object_redirects_and_several_are_listed(client, portal_store):
    assert search(client, OBJECT_ID[:-1])["Location"] == f"/{OBJECT_ID}"
    response = search(client, "ZTF21")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/ZTF21acqdcyb"' in page  # an object of the 2021 sample
    assert "/api/v1/objects?objectId=ZTF21" in page


def test_cone_search_lists_the_object_with_downloads(client, portal_store):
    from alerts.selectors.objects import object_summary

    row = object_summary(object_id=OBJECT_ID)
    response = search(client, f"{row['i:ra']} {row['i:dec']} r=5s")
    page = response.content.decode()
    assert response.status_code == 200, page
    assert f'href="/{OBJECT_ID}"' in page
    for fmt in ("json", "csv", "parquet", "votable"):
        assert f"output-format={fmt}" in page
    assert "/api/v1/conesearch?ra=" in page


def test_class_search_is_sortable_and_paginated(client, portal_store):
    response = search(client, "class=SN candidate last=60", sort="magpsf", dir="desc")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/v1/latests?class=SN+candidate&amp;n=60" in page
    cells = response.context["cells"]
    mags = [cell["value"] for row in cells for cell in row if cell["column"].key == "magpsf"]
    assert mags == sorted(mags, reverse=True)


def test_asteroid_search(client, portal_store):
    response = search(client, "sso=19205")
    assert response.status_code == 200
    assert response.context["count"] > 0


@pytest.mark.parametrize(
    ("text", "status", "words"),
    [
        ("class=Supernva", 400, "class=Supernova"),
        ("foo=1", 400, "Unknown keyword"),
        ("400 2", 400, "RA must be"),
        ("ZTF25abixhdd", 200, OBJECT_ID),  # did you mean: a close id
        ("1.0 -89.0 r=2s", 200, "No object within"),
        ("sso=Benoitcarry", 200, "SsODNet"),
        ("2001-01-01", 200, "No alert on 2001-01-01"),
    ],
)
def test_bad_input_and_empty_results_get_a_friendly_page(client, portal_store, text, status, words):
    response = search(client, text)
    assert response.status_code == status
    page = response.content.decode()
    assert "Nothing to show for" in page
    assert words in page


def test_empty_search_goes_home(client, portal_store):
    assert search(client, "  ")["Location"] == "/"


def test_object_page_and_its_panels(client, portal_store):
    for url in (f"/{OBJECT_ID}", f"/objects/{OBJECT_ID}"):
        page = client.get(url).content.decode()
        assert OBJECT_ID in page
        assert "Galactic l, b" in page
        assert page.count(f'src="/objects/{OBJECT_ID}/cutout.png?kind=') == 3
        assert "/api/v1/cutouts" not in page  # the API's throttle is not spent by the page
        assert (
            f"/api/v1/objects?objectId={OBJECT_ID}&amp;withupperlim=true&amp;output-format=votable" in page
        )
        assert "https://alerce.online/object/" + OBJECT_ID in page
        assert f'src="/django_plotly_dash/app/LightCurve/?objectId={OBJECT_ID}"' in page
    alerts = client.get(f"/objects/{OBJECT_ID}/panels/alerts").content.decode()
    assert alerts.count('class="button small ghost show-cutouts"') == 10
    details = client.get(f"/objects/{OBJECT_ID}/panels/details").content.decode()
    assert 'data-count="valid">10<' in details


def test_object_page_fetches_its_panels_after_it_loads(client, portal_store, django_assert_num_queries):
    """The page renders from one summary row and no query of the user database; the detections,
    alerts, fits and annotations are panels of their own, each a fragment (not a page)."""
    with django_assert_num_queries(0):
        page = client.get(f"/{OBJECT_ID}").content.decode()
    panels = ("details", "alerts", "fits", "annotations")
    for name in panels:
        assert f'data-panel-src="/objects/{OBJECT_ID}/panels/{name}"' in page
    assert 'id="annotations"' not in page and 'id="fits"' not in page
    assert "/static/objects/object.js" in page
    # The light curve comes before the panels (above the fold at 1280×900).
    assert page.index('id="lightcurve-frame"') < min(page.index(f"/panels/{name}") for name in panels)
    for name, marker in (("fits", 'id="fits"'), ("annotations", 'id="annotations"')):
        response = client.get(f"/objects/{OBJECT_ID}/panels/{name}")
        body = response.content.decode()
        assert response.status_code == 200 and marker in body and "<html" not in body
    annotations = client.get(f"/objects/{OBJECT_ID}/panels/annotations").content.decode()
    assert "accounts/annotations.js" in annotations and "to annotate this object" in annotations


def test_sexagesimal_coordinates_match_astropy():
    import numpy as np
    from astropy import units as u
    from astropy.coordinates import Latitude, Longitude

    from objects.views import coordinates

    rng = np.random.default_rng(5)
    ra = np.concatenate([rng.uniform(0, 360, 3000), [0.0, 360.0, 359.99999999999, 1e-12, 29.99999999]])
    dec = np.concatenate([rng.uniform(-90, 90, 3000), [-0.0, -1e-9, 90.0, -90.0, -89.99999999]])
    # seconds a hair either side of a rounding step: the carry into minutes and hours
    steps = rng.integers(0, 86400 * 100, 2000) / 100 / 240
    ra = np.concatenate([ra, steps + 2e-8, steps - 2e-8])
    dec = np.concatenate([dec, np.clip((steps - 180) / 2 + 1.3888e-5, -90, 90), np.clip((steps - 180) / 2 - 1.3888e-5, -90, 90)])
    hms = Longitude(ra * u.deg).to_string(unit=u.hourangle, sep=":", precision=2, pad=True)
    dms = Latitude(dec * u.deg).to_string(unit=u.deg, sep=":", precision=1, alwayssign=True, pad=True)
    for r, d, want_ra, want_dec in zip(ra, dec, hms, dms):
        shown = coordinates(float(r), float(d))
        assert (shown["ra_hms"], shown["dec_dms"]) == (want_ra, want_dec), (r, d)


def test_unknown_object_is_a_friendly_404(client, portal_store):
    response = client.get("/ZTF25abixhdd")
    assert response.status_code == 404
    page = response.content.decode()
    assert "No object" in page and f"/{OBJECT_ID}" in page
    assert client.get("/objects/not-an-id").status_code == 404
    assert client.get("/objects/ZTF25abixhdd/lightcurve.json").status_code == 404


def test_light_curve_data_and_figure(portal_store):
    import json

    import numpy as np

    from objects.dash_apps import lightcurve_figure
    from objects.lightcurve import lightcurve_of_object

    data = lightcurve_of_object(object_id=OBJECT_ID)
    points = data["points"]
    assert data["counts"]["valid"] == 10 and data["counts"]["upperlim"] > 0
    assert {"g", "r"} <= set(points["band"])
    assert all(len(values) == len(points["jd"]) for values in points.values())
    assert np.all(np.diff(points["jd"]) >= 0)  # oldest first
    # ms since 1970 (what plotly's date axes take): 2025 for these alerts
    assert np.all((points["time"] > 1.735e12) & (points["time"] < 1.7675e12))
    valid = np.flatnonzero(points["tag"] == "valid")
    assert all(np.isfinite(points["mag"][i]) and points["candid"][i] for i in valid)
    assert np.all(points["flux"][valid] > 0)

    def plotted(figure):  # the traces shown; the others are in the figure, hidden
        return {trace["name"]: len(trace["x"]) for trace in figure["data"] if trace["visible"]}

    figure = lightcurve_figure(data)
    magnitudes = plotted(figure)
    assert magnitudes["g alerts"] + magnitudes["r alerts"] == 10
    assert any(name.endswith("upper limits") for name in magnitudes)
    assert not any(name.endswith("bad quality") for name in magnitudes)
    # Every layer is in the figure, told apart by meta: the checkboxes flip visible in the browser.
    layers = {trace["meta"]: trace["visible"] for trace in figure["data"]}
    assert layers == {"valid": True, "upperlim": True, "badquality": False}
    # Small JSON for the browser: ms numbers on a date axis, rounded values, no NaN, candids
    # only where a click can show cutouts (alerts).
    assert figure["layout"]["xaxis"]["type"] == "date"
    text = json.dumps(figure, allow_nan=False)
    for trace in figure["data"]:
        assert all(isinstance(x, int) for x in trace["x"])
        assert all(y is None or round(y, 4) == y for y in trace["y"])
        assert ("customdata" in trace) == trace["name"].endswith("alerts")
    alerts = [t for t in figure["data"] if t["name"].endswith("alerts")]
    assert sorted(c for t in alerts for c in t["customdata"]) == sorted(points["candid"][i] for i in valid)
    assert len(text) < 200 * sum(magnitudes.values())  # about 100 bytes a point
    fluxes = lightcurve_figure(data, mode="flux", upper_limits=True, bad_quality=True)
    assert fluxes["layout"]["yaxis"]["title"]["text"].startswith("difference flux")
    assert not any(name.endswith("upper limits") for name in plotted(fluxes))  # no flux for a limit
    assert any(name.endswith("bad quality") for name in plotted(fluxes))


def test_light_curve_app_builds_its_dash_instance_once(client, portal_store):
    """django-plotly-dash builds a Dash app per request; ours is built once, and plotly.js
    is a plain script of the app's page (loaded beside Dash's, not after it has started)."""
    import re
    from urllib.parse import unquote

    from dash import dcc
    from django.contrib.staticfiles import finders

    from objects.dash_apps import PLOTLY_JS, app

    base = "/django_plotly_dash/app/LightCurve/"
    page = client.get(base + "?objectId=" + OBJECT_ID).content.decode()
    assert f'src="/static/{PLOTLY_JS}"' in page
    # Dash's scripts named as static files (no redirect from _dash-component-suites first)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert len(scripts) >= 8 and not any("_dash-component-suites" in src for src in scripts)
    for src in scripts:
        assert src.startswith("/static/") and finders.find(unquote(src.removeprefix("/static/"))), src
    before = len(dcc._js_dist)
    for _ in range(3):
        client.get(base + "_dash-layout")
        client.get(base + "?objectId=" + OBJECT_ID)
    assert len(dcc._js_dist) == before
    assert app.as_dash_instance() is app.as_dash_instance()


def test_the_vendored_plotly_bundle_matches_the_plotly_package():
    """The light curve's plotly.js bundle is the plotly package's version (update both)."""
    from django.contrib.staticfiles import finders
    from plotly.offline import get_plotlyjs_version

    from objects.dash_apps import PLOTLY_JS

    path = finders.find(PLOTLY_JS)
    assert path, PLOTLY_JS
    with open(path, encoding="utf-8") as bundle:
        head = bundle.read(200)
    assert f"plotly.js (basic - minified) v{get_plotlyjs_version()}" in head


def test_light_curve_dash_app_answers(client, portal_store):
    base = "/django_plotly_dash/app/LightCurve/"
    assert client.get(base + "?objectId=" + OBJECT_ID).status_code == 200
    assert client.get(base + "_dash-layout").json()["props"]["children"]
    update = client.post(
        base + "_dash-update-component",
        {
            "output": "..lc-figure.data...lc-counts.children..",
            "outputs": [
                {"id": "lc-figure", "property": "data"},
                {"id": "lc-counts", "property": "children"},
            ],
            "inputs": [
                {"id": "url", "property": "search", "value": f"?objectId={OBJECT_ID}"},
                {"id": "lc-mode", "property": "value", "value": "dcmag"},
            ],
            "changedPropIds": ["url.search"],
            "state": [{"id": "lc-options", "property": "value", "value": ["upperlim"]}],
        },
        content_type="application/json",
    )
    assert update.status_code == 200, update.content[:500]
    response = update.json()["response"]
    figure = response["lc-figure"]["data"]
    assert sum(len(trace["x"]) for trace in figure["data"] if trace["visible"]) > 10
    assert figure["layout"]["yaxis"]["title"]["text"].startswith("apparent (DC)")
    assert "10 alerts" in response["lc-counts"]["children"]


# -- results as cards, and their sky plot ---------------------------------------------------------
def _detections(object_id: str) -> int:
    """The object's detections with a magnitude, read through the selector."""
    import math

    from alerts.selectors.objects import alerts_of_object

    rows = alerts_of_object(object_ids=[object_id], columns=["i:jd", "i:magpsf", "i:fid"])
    return sum(1 for row in rows if row["i:magpsf"] is not None and math.isfinite(row["i:magpsf"]))


def test_cards_view_shows_a_card_per_object_with_cutout_and_light_curve(client, portal_store):
    import re

    response = search(client, "class=SN candidate last=20", view="cards")
    assert response.status_code == 200
    page = response.content.decode()
    objects = list(dict.fromkeys(r["objectId"] for r in response.context["page"].object_list))
    assert len(objects) > 1
    cards = re.findall(r'<article class="result-card" data-object="([^"]+)">(.*?)</article>', page, re.DOTALL)
    assert [object_id for object_id, _ in cards] == objects
    for object_id, card in cards:
        cutout = f"/objects/{object_id}/cutout.png?kind=Science"
        assert f'<img src="{cutout}" loading="lazy"' in card
        svg = re.search(r"<svg class=\"sparkline\".*?</svg>", card, re.DOTALL).group(0)
        assert svg.count("<circle") == _detections(object_id) > 0
    assert 'id="results"' not in page  # no table in the cards view


def test_cards_cutout_urls_answer_a_png(client, portal_store):
    from alerts.selectors.objects import object_summary

    row = object_summary(object_id=OBJECT_ID)
    response = search(client, f"{row['i:ra']} {row['i:dec']} r=5s", view="cards")
    (card,) = response.context["cards"]
    assert card["row"]["objectId"] == OBJECT_ID
    image = client.get(card["cutout_url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def test_sky_plot_data_holds_the_rows_positions(client, portal_store):
    import json
    import re

    response = search(client, "class=SN candidate last=20")
    rows = response.context["results"].rows
    page = response.content.decode()
    data = json.loads(
        re.search(r'<script id="results-sky-data" type="application/json">(.*?)</script>', page, re.DOTALL).group(1)
    )
    assert list(zip(data["id"], data["ra"], data["dec"])) == [(r["objectId"], r["ra"], r["dec"]) for r in rows]
    assert "search/sky.js" in page and "plotly.min.js" in page


def test_view_switch_keeps_the_query_sort_and_page(client, portal_store):
    from urllib.parse import parse_qs, urlparse

    response = search(client, "class=SN candidate last=60", sort="magpsf", dir="desc", view="cards")
    links = dict(response.context["view_links"])
    assert parse_qs(urlparse(links["table"]).query) == {
        "q": ["class=SN candidate last=60"], "sort": ["magpsf"], "dir": ["desc"]
    }
    assert parse_qs(urlparse(links["cards"]).query)["view"] == ["cards"]
    page = response.content.decode()
    assert 'data-view="table"' in page and 'aria-current="page"' in page
    # The table's sort links keep the cards view; an unknown view is the table.
    cards = search(client, "ZTF21", view="cards")
    assert cards.context["view"] == "cards"
    assert search(client, "ZTF21", view="nonsense").context["view"] == "table"


def test_band_header_is_not_styled_as_a_band_badge(client, portal_store):
    page = search(client, "class=SN candidate last=20").content.decode()
    assert '<th class="col-band">' in page
    assert '<th class="band' not in page


# -- the pages' cutout URL ------------------------------------------------------------------------
def _candids(object_id: str) -> list[int]:
    from alerts.selectors.objects import alerts_of_object

    return [row["i:candid"] for row in alerts_of_object(object_ids=[object_id], columns=["i:candid"])]


@pytest.mark.parametrize(
    "options",
    [
        {"kind": "Science"},
        {"kind": "Difference", "stretch": "linear", "colormap": "viridis"},
        {"kind": "Template", "stretch": "log", "pmin": "1", "pmax": "99", "convolution_kernel": "gauss"},
    ],
)
def test_page_cutout_is_the_api_png(client, portal_store, options):
    candid = _candids(OBJECT_ID)[-1]  # an older alert than the latest
    for named in ({}, {"candid": candid}):
        page = client.get(f"/objects/{OBJECT_ID}/cutout.png?" + urlencode({**options, **named}))
        api = client.get("/api/v1/cutouts?" + urlencode({"objectId": OBJECT_ID, **options, **named}))
        assert page.status_code == api.status_code == 200
        assert page["Content-Type"] == "image/png"
        assert page.content == api.content and page.content.startswith(b"\x89PNG")
        assert page["X-Candid"] == api["X-Candid"]
    # A named alert's stamp never changes: the browser may keep it; the latest may change.
    assert page["Cache-Control"].startswith("public, max-age=")
    latest = client.get(f"/objects/{OBJECT_ID}/cutout.png?kind=Science")
    assert "public" not in latest["Cache-Control"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/objects/ZTF99zzzzzzz/cutout.png?kind=Science", 404),
        (f"/objects/{OBJECT_ID}/cutout.png?kind=Science&candid=1", 404),
        (f"/objects/{OBJECT_ID}/cutout.png?kind=Nope", 400),
        (f"/objects/{OBJECT_ID}/cutout.png", 400),
        (f"/objects/{OBJECT_ID}/cutout.png?kind=All", 400),
        (f"/objects/{OBJECT_ID}/cutout.png?kind=Science&stretch=wavy", 400),
        (f"/objects/{OBJECT_ID}/cutout.png?kind=Science&pmin=90&pmax=10", 400),
        (f"/objects/{OBJECT_ID}/cutout.png?kind=Science&candid=abc", 400),
    ],
)
def test_page_cutout_errors_carry_no_image(client, portal_store, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"] != "image/png" and not response.content.startswith(b"\x89PNG")


def test_page_cutouts_are_not_throttled(client, portal_store, settings):
    candids = _candids(OBJECT_ID)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "5/min"},
    }
    api = [
        client.get("/api/v1/cutouts?" + urlencode({"objectId": OBJECT_ID, "kind": "Science"})).status_code
        for _ in range(8)
    ]
    assert 429 in api  # the API route is throttled at this rate...
    statuses = {
        client.get(f"/objects/{OBJECT_ID}/cutout.png?kind={kind}&candid={candids[i % len(candids)]}").status_code
        for i in range(66)
        for kind in ("Science",)
    }
    assert statuses == {200}  # ...the page URL is not, for 66 requests

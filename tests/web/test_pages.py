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
        assert page.count(f"/api/v1/cutouts?objectId={OBJECT_ID}&amp;kind=") == 3
        assert (
            f"/api/v1/objects?objectId={OBJECT_ID}&amp;withupperlim=true&amp;output-format=votable" in page
        )
        assert "https://alerce.online/object/" + OBJECT_ID in page
        assert f'src="/django_plotly_dash/app/LightCurve/?objectId={OBJECT_ID}"' in page
    alerts = client.get(f"/objects/{OBJECT_ID}/panels/alerts").content.decode()
    assert alerts.count('class="button small ghost show-cutouts"') == 10
    details = client.get(f"/objects/{OBJECT_ID}/panels/details").content.decode()
    assert 'data-count="valid">10<' in details


def test_unknown_object_is_a_friendly_404(client, portal_store):
    response = client.get("/ZTF25abixhdd")
    assert response.status_code == 404
    page = response.content.decode()
    assert "No object" in page and f"/{OBJECT_ID}" in page
    assert client.get("/objects/not-an-id").status_code == 404
    assert client.get("/objects/ZTF25abixhdd/lightcurve.json").status_code == 404


def test_light_curve_data_and_figure(portal_store):
    from objects.dash_apps import lightcurve_figure
    from objects.lightcurve import lightcurve_of_object

    data = lightcurve_of_object(object_id=OBJECT_ID)
    points = data["points"]
    assert data["counts"]["valid"] == 10 and data["counts"]["upperlim"] > 0
    assert {"g", "r"} <= set(points["band"])
    assert all(len(values) == len(points["jd"]) for values in points.values())
    assert points["jd"] == sorted(points["jd"])
    valid = [i for i, tag in enumerate(points["tag"]) if tag == "valid"]
    assert all(points["mag"][i] is not None and points["candid"][i] for i in valid)
    assert all(points["flux"][i] > 0 for i in valid)

    def plotted(figure):
        return {trace.name: len(trace.x) for trace in figure.data}

    magnitudes = plotted(lightcurve_figure(data))
    assert magnitudes["g alerts"] + magnitudes["r alerts"] == 10
    assert any(name.endswith("upper limits") for name in magnitudes)
    assert not any(name.endswith("bad quality") for name in magnitudes)
    fluxes = lightcurve_figure(data, mode="flux", upper_limits=True, bad_quality=True)
    assert fluxes.layout.yaxis.title.text.startswith("difference flux")
    assert not any(name.endswith("upper limits") for name in plotted(fluxes))  # no flux for a limit
    assert any(name.endswith("bad quality") for name in plotted(fluxes))


def test_light_curve_dash_app_answers(client, portal_store):
    base = "/django_plotly_dash/app/LightCurve/"
    assert client.get(base + "?objectId=" + OBJECT_ID).status_code == 200
    assert client.get(base + "_dash-layout").json()["props"]["children"]
    update = client.post(
        base + "_dash-update-component",
        {
            "output": "..lc-graph.figure...lc-counts.children..",
            "outputs": [
                {"id": "lc-graph", "property": "figure"},
                {"id": "lc-counts", "property": "children"},
            ],
            "inputs": [
                {"id": "url", "property": "search", "value": f"?objectId={OBJECT_ID}"},
                {"id": "lc-options", "property": "value", "value": ["upperlim"]},
                {"id": "lc-mode", "property": "value", "value": "dcmag"},
            ],
            "changedPropIds": ["url.search"],
            "state": [],
        },
        content_type="application/json",
    )
    assert update.status_code == 200, update.content[:500]
    response = update.json()["response"]
    figure = response["lc-graph"]["figure"]
    assert sum(len(trace["x"]) for trace in figure["data"]) > 10
    assert "10 alerts" in response["lc-counts"]["children"]

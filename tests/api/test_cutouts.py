"""The ``cutouts`` route end to end (Django test client, real URLconf), against a store built from
real alert files; the stamps are checked against the ones read from the files with pyarrow."""
from __future__ import annotations

import gzip
import io
import warnings

import numpy as np
import orjson
import pytest
from astropy.io import fits
from django.test import Client
from PIL import Image

URL = "/api/v1/cutouts"
MULTI = "ZTF25abixhdc"  # ten alerts with cutouts
SAMPLE = "ZTF18aaqfhlj"  # three alerts with cutouts, sample-124 (2021)
NO_STAMPS = "ZTF17aaaihfb"  # from a file without cutouts


@pytest.fixture(autouse=True)
def unthrottled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "staff": None},
    }


@pytest.fixture
def client(ingested_store):
    return Client(raise_request_exception=False)


def file_image(stamp: bytes) -> np.ndarray:
    """A stamp from the file, decoded by astropy alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(gzip.decompress(stamp))) as hdus:
            return np.array(hdus[0].data, dtype=float)


def assert_400(response, param):
    assert response.status_code == 400, response.content
    body = orjson.loads(response.content)
    assert body["status"] == "error" and body["text"].startswith(f"{param}:"), body
    return body["text"]


# -- PNG --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("object_id", [MULTI, SAMPLE])
def test_png_of_the_latest_alert(client, alert_facts, object_id):
    facts = alert_facts[object_id]
    response = client.get(URL, {"objectId": object_id, "kind": "Science"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="{object_id}_Science.png"'
    assert int(response["X-Candid"]) == facts.latest_candid
    image = Image.open(io.BytesIO(response.content))
    expected = file_image(facts.stamps[facts.latest_candid]["Science"])
    assert image.format == "PNG" and image.mode == "L"
    assert image.size == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize("stretch", ["sigmoid", "linear", "sqrt", "power", "log"])
@pytest.mark.parametrize("kernel", ["none", "gauss", "box"])
def test_every_stretch_and_kernel_makes_a_png(client, stretch, kernel):
    response = client.get(
        URL,
        {"objectId": SAMPLE, "kind": "Difference", "stretch": stretch, "convolution_kernel": kernel,
         "pmin": 1, "pmax": 99},
    )
    assert response.status_code == 200, response.content
    image = np.asarray(Image.open(io.BytesIO(response.content)))
    assert image.ndim == 2 and image.max() > image.min()  # not a blank picture


def test_colormap_gives_rgba(client):
    response = client.get(URL, {"objectId": MULTI, "kind": "Template", "colormap": "viridis"})
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "RGBA"
    grey = Image.open(io.BytesIO(client.get(URL, {"objectId": MULTI, "kind": "Template"}).content))
    assert image.size == grey.size


def test_percentiles_change_a_linear_stretch(client):
    base = {"objectId": MULTI, "kind": "Science", "stretch": "linear"}
    wide = client.get(URL, {**base, "pmin": 0, "pmax": 100}).content
    narrow = client.get(URL, {**base, "pmin": 10, "pmax": 90}).content
    assert wide != narrow


def test_png_get_and_post_answer_the_same(client):
    params = {"objectId": SAMPLE, "kind": "Science", "stretch": "log", "colormap": "Blues"}
    by_get = client.get(URL, params)
    by_post = client.post(URL, params, content_type="application/json")
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.content == by_post.content


# -- FITS and arrays --------------------------------------------------------------------------------
def test_fits_is_the_stamp_of_the_file_ungzipped(client, alert_facts):
    facts = alert_facts[MULTI]
    response = client.get(URL, {"objectId": MULTI, "kind": "Difference", "output-format": "FITS"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fits"
    assert response["Content-Disposition"] == f'attachment; filename="{MULTI}_Difference.fits"'
    stamp = facts.stamps[facts.latest_candid]["Difference"]
    assert response.content == gzip.decompress(stamp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(response.content)) as hdus:
            np.testing.assert_array_equal(hdus[0].data, file_image(stamp))


def test_candid_picks_the_alert(client, alert_facts):
    facts = alert_facts[MULTI]
    oldest = facts.alerts[min(facts.alerts)]
    assert oldest != facts.latest_candid
    response = client.post(
        URL,
        {"objectId": MULTI, "kind": "Science", "output-format": "FITS", "candid": str(oldest)},
        content_type="application/json",
    )
    assert int(response["X-Candid"]) == oldest
    assert response.content == gzip.decompress(facts.stamps[oldest]["Science"])


def test_array_of_one_stamp(client, alert_facts):
    facts = alert_facts[SAMPLE]
    response = client.get(URL, {"objectId": SAMPLE, "kind": "Science", "output-format": "array"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = orjson.loads(response.content)
    assert list(body) == ["b:cutoutScience_stampData"]
    expected = file_image(facts.stamps[facts.latest_candid]["Science"])
    got = np.array(body["b:cutoutScience_stampData"], dtype=float)  # None -> NaN
    np.testing.assert_array_equal(got, expected)


def test_array_of_all_stamps(client, alert_facts):
    facts = alert_facts[MULTI]
    body = orjson.loads(client.get(URL, {"objectId": MULTI, "kind": "All", "output-format": "array"}).content)
    assert list(body) == [
        "b:cutoutScience_stampData",
        "b:cutoutTemplate_stampData",
        "b:cutoutDifference_stampData",
    ]
    for kind in ("Science", "Template", "Difference"):
        expected = file_image(facts.stamps[facts.latest_candid][kind])
        np.testing.assert_array_equal(np.array(body[f"b:cutout{kind}_stampData"], dtype=float), expected)


# -- nothing to give --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"objectId": "ZTF99zzzzzzz", "kind": "Science"},
        {"objectId": "ZTF99zzzzzzz", "kind": "All", "output-format": "array"},
        {"objectId": NO_STAMPS, "kind": "Science", "output-format": "FITS"},
        {"objectId": MULTI, "kind": "Science", "candid": 1},
        {"objectId": "bad_id", "kind": "Science"},
    ],
)
def test_no_stamp_is_an_empty_list(client, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert orjson.loads(response.content) == []


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"kind": "Science"}, "objectId"),
        ({"objectId": MULTI}, "kind"),
        ({"objectId": MULTI, "kind": "Sciences"}, "kind"),
        ({"objectId": MULTI, "kind": "All"}, "kind"),
        ({"objectId": MULTI, "kind": "All", "output-format": "FITS"}, "kind"),
        ({"objectId": MULTI, "kind": "Science", "output-format": "JPEG2000"}, "output-format"),
        ({"objectId": MULTI, "kind": "Science", "stretch": "asinhh"}, "stretch"),
        ({"objectId": MULTI, "kind": "Science", "colormap": "notacolormap"}, "colormap"),
        ({"objectId": MULTI, "kind": "Science", "pmin": 99, "pmax": 1}, "pmin"),
        ({"objectId": MULTI, "kind": "Science", "pmin": 50, "pmax": 50}, "pmin"),
        ({"objectId": MULTI, "kind": "Science", "pmax": 101}, "pmax"),
        ({"objectId": MULTI, "kind": "Science", "pmin": "low"}, "pmin"),
        ({"objectId": MULTI, "kind": "Science", "pmin": "nan"}, "pmin"),
        ({"objectId": MULTI, "kind": "Science", "convolution_kernel": "median"}, "convolution_kernel"),
        ({"objectId": MULTI, "kind": "Science", "candid": "latest"}, "candid"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, params, param):
    assert_400(client.get(URL, params), param)
    assert_400(client.post(URL, params, content_type="application/json"), param)


def test_names_are_matched_without_case(client):
    response = client.get(URL, {"objectId": MULTI, "kind": "science", "output-format": "png", "stretch": "Linear"})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].endswith('_Science.png"')

"""The ``objects`` route end to end (Django test client, real URLconf), against a store built from
real alert files, checked with facts read from those files (``alert_facts``)."""
from __future__ import annotations

import io
from collections import Counter

import orjson
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from astropy.io.votable import parse_single_table
from django.test import Client

from alerts.derived import VALUE_COLUMNS

URL = "/api/v1/objects"
LONG = "ZTF17aaaihfb"  # one alert, a long history of upper limits and bad-quality points
MULTI = "ZTF25abixhdc"  # ten alerts with cutouts (2025 schema)
SAMPLE = "ZTF18aaqfhlj"  # three alerts of the classic sample-124 file


@pytest.fixture(autouse=True)
def unthrottled(settings):
    """These tests make many requests from one client: lift the anonymous rate limit."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "staff": None},
    }


@pytest.fixture
def client(ingested_store):
    return Client(raise_request_exception=False)


def get_json(client, params, method="get"):
    if method == "get":
        response = client.get(URL, params)
    else:
        response = client.post(URL, params, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return orjson.loads(response.content)


def assert_400(response, param):
    assert response.status_code == 400, response.content
    body = orjson.loads(response.content)
    assert body["status"] == "error"
    assert body["text"].startswith(f"{param}:"), body["text"]
    return body["text"]


# -- alerts -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("object_id", [LONG, MULTI, SAMPLE])
def test_every_alert_of_the_object_newest_first(client, alert_facts, object_id):
    facts = alert_facts[object_id]
    rows = get_json(client, {"objectId": object_id})
    assert len(rows) == len(facts.alerts)
    jds = [row["i:jd"] for row in rows]
    assert jds == sorted(facts.alerts, reverse=True)
    assert [row["i:candid"] for row in rows] == [facts.alerts[jd] for jd in jds]
    assert [row["i:magpsf"] for row in rows] == pytest.approx([facts.magpsf[jd] for jd in jds])
    assert {row["i:objectId"] for row in rows} == {object_id}
    assert "d:tag" not in rows[0]


def test_value_columns_only_when_columns_is_not_given(client, alert_facts):
    rows = get_json(client, {"objectId": MULTI})
    for name in VALUE_COLUMNS:
        assert name in rows[0]
    for row in rows:
        # The stored classification and the one computed at query time use the same rules.
        assert row["v:classification"] == row["d:classification"]
        assert row["v:lapse"] == pytest.approx(row["i:jd"] - row["i:jdstarthist"])
    # The newest alert's rate is computed from the previous one in its band.
    assert any(row["v:rate"] is not None for row in rows)
    restricted = get_json(client, {"objectId": MULTI, "columns": "i:jd,i:magpsf"})
    assert all(set(row) == {"i:jd", "i:magpsf"} for row in restricted)
    assert [row["i:jd"] for row in restricted] == [row["i:jd"] for row in rows]


def test_a_value_column_named_in_columns_is_computed(client):
    full = get_json(client, {"objectId": MULTI})
    rows = get_json(client, {"objectId": MULTI, "columns": "i:jd,v:g-r,v:classification"})
    assert list(rows[0]) == ["i:jd", "v:g-r", "v:classification"]
    assert [r["v:g-r"] for r in rows] == [r["v:g-r"] for r in full]


def test_every_row_has_the_same_columns(client):
    rows = get_json(client, {"objectId": f"{MULTI},{SAMPLE}", "withupperlim": True})
    keys = [tuple(row) for row in rows]
    assert len(set(keys)) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"objectId": f"{LONG},{MULTI}", "withupperlim": True},
        {"objectId": MULTI, "withcutouts": True, "cutout-kind": "Science"},
        {"objectId": LONG, "withupperlim": True, "columns": "i:jd,d:tag,i:candid,v:lapse"},
    ],
)
def test_the_route_gives_the_selectors_padded_rows(client, params):
    """The route hands the renderer rows as read (``padded=False``), which fills the gaps itself:
    the answer is, byte for byte, the padded rows' JSON."""
    from alerts.selectors.objects import alerts_of_object

    padded = alerts_of_object(
        object_ids=params["objectId"].split(","),
        columns=params["columns"].split(",") if "columns" in params else None,
        with_upper_limits=params.get("withupperlim", False),
        with_cutouts=params.get("withcutouts", False),
        cutout_kind=params.get("cutout-kind", "All"),
    )
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response.content == orjson.dumps(list(padded), option=orjson.OPT_SERIALIZE_NUMPY)


def test_several_objects_sorted_together(client, alert_facts):
    rows = get_json(client, {"objectId": f"{SAMPLE}, {MULTI},{SAMPLE}", "columns": "i:objectId,i:jd"})
    expected = sorted(
        [(jd, oid) for oid in (SAMPLE, MULTI) for jd in alert_facts[oid].alerts], reverse=True
    )
    assert [(r["i:jd"], r["i:objectId"]) for r in rows] == expected


def test_unknown_object_is_an_empty_list(client):
    assert get_json(client, {"objectId": "ZTF99zzzzzzz"}) == []
    assert get_json(client, {"objectId": "not_an_id"}) == []  # holds the key separator
    assert get_json(client, {"objectId": f"ZTF99zzzzzzz,{SAMPLE}", "columns": "i:jd"}) != []


# -- upper limits -----------------------------------------------------------------------------------
@pytest.mark.parametrize("object_id", [LONG, SAMPLE])
def test_withupperlim_tags_rows_as_in_the_files(client, alert_facts, object_id):
    facts = alert_facts[object_id]
    rows = get_json(client, {"objectId": object_id, "withupperlim": "True"})
    tags = Counter(row["d:tag"] for row in rows)
    assert tags == Counter(
        {k: v for k, v in {
            "valid": len(facts.alerts),
            "upperlim": len(facts.upper_limits),
            "badquality": len(facts.bad_quality),
        }.items() if v}
    )
    by_tag = {tag: {row["i:jd"] for row in rows if row["d:tag"] == tag} for tag in tags}
    assert by_tag["valid"] == set(facts.alerts)
    assert by_tag.get("upperlim", set()) == facts.upper_limits
    assert by_tag.get("badquality", set()) == facts.bad_quality
    jds = [row["i:jd"] for row in rows]
    assert jds == sorted(jds, reverse=True)
    for row in rows:
        if row["d:tag"] == "valid":
            assert row["i:candid"] == facts.alerts[row["i:jd"]]
        else:
            assert row["i:candid"] == -1
        if row["d:tag"] == "upperlim":
            assert row["i:magpsf"] is None and row["i:diffmaglim"] is not None
        if row["d:tag"] == "badquality":
            assert row["i:magpsf"] is not None


def test_long_history_first_and_last_points(client, alert_facts):
    facts = alert_facts[LONG]
    rows = get_json(client, {"objectId": LONG, "withupperlim": True, "columns": "i:jd,i:candid"})
    every = set(facts.alerts) | facts.upper_limits | facts.bad_quality
    assert len(facts.upper_limits) > 100 and len(facts.bad_quality) > 100
    assert rows[0]["i:jd"] == max(every) and rows[-1]["i:jd"] == min(every)
    assert set(rows[0]) == {"i:jd", "i:candid", "d:tag"}


def test_withupperlim_columns_may_name_d_tag(client):
    rows = get_json(client, {"objectId": LONG, "withupperlim": True, "columns": "d:tag,i:jd"})
    assert list(rows[0]) == ["d:tag", "i:jd"]
    assert_400(client.get(URL, {"objectId": LONG, "columns": "d:tag,i:jd"}), "columns")


# -- cutouts ----------------------------------------------------------------------------------------
def test_withcutouts_gives_2d_arrays_of_each_alert(client, alert_facts):
    facts = alert_facts[MULTI]
    rows = get_json(client, {"objectId": MULTI, "withcutouts": True, "columns": "i:candid"})
    assert len(rows) == len(facts.alerts)
    for row in rows:
        assert set(row) == {
            "i:candid",
            "b:cutoutScience_stampData",
            "b:cutoutTemplate_stampData",
            "b:cutoutDifference_stampData",
        }
        for name in ("b:cutoutScience_stampData", "b:cutoutTemplate_stampData", "b:cutoutDifference_stampData"):
            image = row[name]
            assert 50 <= len(image) <= 70 and all(len(line) == len(image[0]) for line in image)
            assert 50 <= len(image[0]) <= 70


def test_cutout_kind_selects_one_stamp(client):
    rows = get_json(
        client, {"objectId": SAMPLE, "withcutouts": "true", "cutout-kind": "Difference", "columns": "i:jd"}
    )
    assert all(set(row) == {"i:jd", "b:cutoutDifference_stampData"} for row in rows)
    assert all(isinstance(row["b:cutoutDifference_stampData"][0], list) for row in rows)


def test_withcutouts_of_alerts_without_stamps_is_null(client):
    # The sso-varstars files carry no cutouts.
    rows = get_json(client, {"objectId": LONG, "withcutouts": True, "cutout-kind": "Science"})
    assert rows[0]["b:cutoutScience_stampData"] is None


# -- formats, GET and POST --------------------------------------------------------------------------
def test_the_four_formats_agree(client):
    params = {"objectId": f"{MULTI},{SAMPLE}", "withupperlim": True}
    rows = get_json(client, params)
    responses = {
        fmt: client.get(URL, {**params, "output-format": fmt}) for fmt in ("csv", "parquet", "votable")
    }
    for fmt, response in responses.items():
        assert response.status_code == 200, (fmt, response.content[:300])
    assert responses["csv"]["Content-Type"].startswith("text/csv")
    csv = pa_csv.read_csv(io.BytesIO(responses["csv"].content))
    parquet = pq.read_table(io.BytesIO(responses["parquet"].content))
    votable = parse_single_table(io.BytesIO(responses["votable"].content)).to_table(use_names_over_ids=True)
    names = list(rows[0])
    assert csv.column_names == names
    assert parquet.column_names == names
    assert list(votable.colnames) == [n.replace(":", "_") for n in names]
    jds = [row["i:jd"] for row in rows]
    assert csv.column("i:jd").to_pylist() == jds
    assert parquet.column("i:jd").to_pylist() == jds
    assert list(votable["i_jd"]) == jds
    tags = [row["d:tag"] for row in rows]
    assert csv.column("d:tag").to_pylist() == tags
    assert [str(t) for t in votable["d_tag"]] == tags
    mags = [row["i:magpsf"] for row in rows]
    assert parquet.column("i:magpsf").to_pylist() == mags
    assert csv.column("i:magpsf").to_pylist() == mags
    assert parquet.column("i:candid").to_pylist() == [row["i:candid"] for row in rows]


def test_get_and_post_answer_the_same(client):
    params = {"objectId": MULTI, "withupperlim": "True", "columns": "i:jd,i:magpsf,i:fid"}
    by_get = client.get(URL, params).content
    by_json = client.post(URL, {**params, "withupperlim": True}, content_type="application/json").content
    by_form = client.post(URL, params).content
    assert by_get == by_json == by_form
    assert len(orjson.loads(by_get)) > 10


def test_trailing_slash_is_served(client):
    assert client.post(URL + "/", {"objectId": SAMPLE}, content_type="application/json").status_code == 200


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "objectId"),
        ({"objectId": ""}, "objectId"),
        ({"objectId": " , "}, "objectId"),
        ({"objectId": SAMPLE, "output-format": "xml"}, "output-format"),
        ({"objectId": SAMPLE, "columns": "i:jd,i:nosuchcolumn"}, "columns"),
        ({"objectId": SAMPLE, "columns": "jd"}, "columns"),
        ({"objectId": SAMPLE, "cutout-kind": "Sciences", "withcutouts": True}, "cutout-kind"),
        ({"objectId": SAMPLE, "withupperlim": "maybe"}, "withupperlim"),
        ({"objectId": SAMPLE, "withcutouts": "yes please"}, "withcutouts"),
        ({"objectId": SAMPLE, "columns": "b:cutoutScience_stampData"}, "columns"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, params, param):
    assert_400(client.get(URL, params), param)
    assert_400(client.post(URL, params, content_type="application/json"), param)


def test_object_id_with_a_lone_surrogate_is_400(client):
    # JSON can escape a lone surrogate, which no store key can encode: once a 500 (fuzzing).
    response = client.post(URL, '{"objectId": "ZTF\\ud800"}', content_type="application/json")
    assert "surrogate" in assert_400(response, "objectId")


def test_too_many_object_ids_is_400(client):
    ids = ",".join(f"ZTF99{i:07d}" for i in range(1001))
    assert "at most 1000" in assert_400(client.post(URL, {"objectId": ids}, content_type="application/json"), "objectId")


def test_result_is_not_marked_truncated(client):
    response = client.get(URL, {"objectId": LONG, "withupperlim": True})
    assert "X-Result-Truncated" not in response

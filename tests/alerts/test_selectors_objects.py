"""The object selectors (``alerts.selectors.objects``) against a store built from real alert files,
checked with facts read from the files; on both backends (``ingested_store``)."""
from __future__ import annotations

import gzip
import io
import warnings

import numpy as np
import pytest
from astropy.io import fits

from alerts.derived import VALUE_COLUMNS
from alerts.selectors import objects as selectors
from alerts.selectors.objects import (
    CUTOUT_COLUMNS,
    alerts_of_object,
    cutout_array,
    cutout_of_alert,
    cutout_pixels,
    cutouts_of_alert,
    fits_bytes,
    object_columns,
    object_summary,
)
from alerts.tables import Alert
from tests.api import conftest as api_fixtures

# The API tests' fixtures: the same ingested store (built once per backend and session).
ingested_store_settings = api_fixtures.ingested_store_settings
ingested_store = api_fixtures.ingested_store
alert_facts = api_fixtures.alert_facts

LONG = "ZTF17aaaihfb"
MULTI = "ZTF25abixhdc"
SAMPLE = "ZTF18aaqfhlj"


def astropy_image(stamp: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(gzip.decompress(stamp))) as hdus:
            return np.array(hdus[0].data, dtype=float)


# -- alerts_of_object -------------------------------------------------------------------------------
def test_alerts_newest_first_with_every_column(ingested_store, alert_facts):
    facts = alert_facts[MULTI]
    rows = alerts_of_object(object_ids=[MULTI])
    assert [r["i:jd"] for r in rows] == sorted(facts.alerts, reverse=True)
    assert [r["i:candid"] for r in rows] == [facts.alerts[r["i:jd"]] for r in rows]
    assert rows.truncated is False
    assert all(name in rows[0] for name in VALUE_COLUMNS)
    assert all(list(r) == list(rows[0]) for r in rows)  # one key set, one order
    assert all(type(r) is dict for r in rows)
    assert "i:ra" in rows[0] and "d:cdsxmatch" in rows[0]


def test_only_the_columns_asked_for(ingested_store):
    rows = alerts_of_object(object_ids=[MULTI, SAMPLE], columns=["i:magpsf", "i:objectId"])
    assert all(list(r) == ["i:magpsf", "i:objectId"] for r in rows)
    assert {r["i:objectId"] for r in rows} == {MULTI, SAMPLE}


def test_a_projection_reads_only_those_columns(ingested_store, monkeypatch):
    read = []
    original = type(ingested_store[Alert]).scan

    def spy(self, *args, **kwargs):
        read.append((self.table.name, kwargs.get("columns")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(ingested_store[Alert]), "scan", spy)
    alerts_of_object(object_ids=[LONG], columns=["i:magpsf"], with_upper_limits=True)
    assert read == [
        ("ztf", ["i:jd", "i:magpsf"]),
        ("upper_limits", ["i:jd", "i:magpsf"]),
        ("bad_quality", ["i:jd", "i:magpsf"]),
    ]


def test_value_columns_named_in_columns(ingested_store):
    full = alerts_of_object(object_ids=[MULTI])
    rows = alerts_of_object(object_ids=[MULTI], columns=["v:classification", "v:rate"])
    assert [list(r) for r in rows] == [["v:classification", "v:rate"]] * len(full)
    assert [r["v:rate"] for r in rows] == [r["v:rate"] for r in full]
    assert [r["v:classification"] for r in rows] == [r["v:classification"] for r in full]


def test_repeated_and_unknown_ids(ingested_store, alert_facts):
    rows = alerts_of_object(object_ids=[SAMPLE, SAMPLE, "ZTF99zzzzzzz", "", "a_b"], columns=["i:jd"])
    assert len(rows) == len(alert_facts[SAMPLE].alerts)
    assert alerts_of_object(object_ids=["ZTF99zzzzzzz"]) == []


def test_upper_limits_and_bad_quality_merged(ingested_store, alert_facts):
    facts = alert_facts[LONG]
    rows = alerts_of_object(object_ids=[LONG], with_upper_limits=True)
    assert len(rows) == len(facts.alerts) + len(facts.upper_limits) + len(facts.bad_quality)
    by_tag: dict[str, set] = {}
    for row in rows:
        by_tag.setdefault(row["d:tag"], set()).add(row["i:jd"])
    assert by_tag == {"valid": set(facts.alerts), "upperlim": facts.upper_limits, "badquality": facts.bad_quality}
    assert {row["i:candid"] for row in rows if row["d:tag"] != "valid"} == {-1}
    # v: columns are computed on the alerts only (as Fink does).
    assert all(row["v:classification"] is None for row in rows if row["d:tag"] != "valid")
    assert all(row["v:classification"] is not None for row in rows if row["d:tag"] == "valid")
    jds = [row["i:jd"] for row in rows]
    assert jds == sorted(jds, reverse=True)


def test_candid_is_left_out_when_not_asked(ingested_store):
    rows = alerts_of_object(object_ids=[LONG], columns=["i:jd"], with_upper_limits=True)
    assert all(list(r) == ["i:jd", "d:tag"] for r in rows)


def test_stamps_as_lists(ingested_store, alert_facts):
    facts = alert_facts[SAMPLE]
    rows = alerts_of_object(object_ids=[SAMPLE], columns=["i:candid"], with_cutouts=True, cutout_kind="Template")
    for row in rows:
        expected = astropy_image(facts.stamps[row["i:candid"]]["Template"])
        got = np.array(row["b:cutoutTemplate_stampData"], dtype=float)
        np.testing.assert_array_equal(got, expected)
        assert isinstance(row["b:cutoutTemplate_stampData"], list)


def test_unknown_column_or_kind_is_a_value_error(ingested_store):
    with pytest.raises(ValueError, match="i:nope"):
        alerts_of_object(object_ids=[SAMPLE], columns=["i:jd", "i:nope"])
    with pytest.raises(ValueError, match="cutout kind"):
        alerts_of_object(object_ids=[SAMPLE], with_cutouts=True, cutout_kind="Sci")


def test_a_capped_scan_says_so(ingested_store, alert_facts, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_ROWS_PER_TABLE", 5)
    rows = alerts_of_object(object_ids=[LONG], columns=["i:jd"], with_upper_limits=True)
    assert rows.truncated is True
    assert len(rows) == len(alert_facts[LONG].alerts) + 5 + 5
    # The newest points are kept.
    facts = alert_facts[LONG]
    newest = sorted(facts.upper_limits, reverse=True)[:5]
    assert set(newest) <= {r["i:jd"] for r in rows}


def test_object_columns():
    plain = object_columns()
    assert "i:jd" in plain and "v:g-r" in plain and "d:tag" not in plain
    assert "d:tag" in object_columns(with_upper_limits=True)
    assert set(CUTOUT_COLUMNS.values()) <= set(object_columns(with_cutouts=True))


# -- cutouts ----------------------------------------------------------------------------------------
def test_cutout_of_the_latest_alert(ingested_store, alert_facts):
    facts = alert_facts[MULTI]
    stamp, candid = cutout_of_alert(object_id=MULTI, kind="Science")
    assert candid == facts.latest_candid
    assert stamp == facts.stamps[candid]["Science"]


def test_cutout_of_a_given_candid(ingested_store, alert_facts):
    facts = alert_facts[SAMPLE]
    for candid in facts.alerts.values():
        stamp, found = cutout_of_alert(object_id=SAMPLE, kind="Difference", candid=candid)
        assert found == candid and stamp == facts.stamps[candid]["Difference"]
    found = cutouts_of_alert(object_id=SAMPLE, candid=facts.latest_candid)
    assert found.jd == max(facts.alerts)
    assert set(found.stamps) == {"Science", "Template", "Difference"}


def test_no_cutout(ingested_store):
    assert cutout_of_alert(object_id="ZTF99zzzzzzz", kind="Science") is None
    assert cutout_of_alert(object_id=LONG, kind="Science") is None  # file without stamps
    assert cutout_of_alert(object_id=SAMPLE, kind="Science", candid=42) is None
    with pytest.raises(ValueError):
        cutout_of_alert(object_id=SAMPLE, kind="All")


def test_stamp_decoding_matches_astropy(alert_facts):
    stamps = [s for f in alert_facts.values() for by_kind in f.stamps.values() for s in by_kind.values()]
    assert len(stamps) > 100
    for stamp in stamps:
        expected = astropy_image(stamp)
        np.testing.assert_array_equal(cutout_pixels(stamp), expected)
        assert fits_bytes(stamp) == gzip.decompress(stamp)


def test_cutout_array_writes_nan_as_none():
    image = np.arange(12, dtype=">f4").reshape(3, 4)
    image[1, 2] = np.nan
    buffer = io.BytesIO()
    fits.PrimaryHDU(image).writeto(buffer)
    out = cutout_array(gzip.compress(buffer.getvalue()))
    assert out[1][2] is None and out[2][3] == 11.0 and len(out) == 3 and len(out[0]) == 4


def test_unreadable_stamp():
    with pytest.raises(selectors.UnreadableCutout):
        cutout_pixels(b"not a fits file at all")
    with pytest.raises(selectors.UnreadableCutout):
        cutout_pixels(b"\x1f\x8b\x08\x00broken gzip")


# -- summary ----------------------------------------------------------------------------------------
def test_object_summary(ingested_store, alert_facts):
    facts = alert_facts[MULTI]
    summary = object_summary(object_id=MULTI)
    assert summary["d:nalerts"] == len(facts.alerts)
    assert summary["i:firstjd"] == min(facts.alerts)
    assert summary["i:lastjd"] == max(facts.alerts)
    assert summary["i:lastcandid"] == facts.latest_candid
    assert object_summary(object_id="ZTF99zzzzzzz") is None
    assert object_summary(object_id="a_b") is None

"""The search selectors (``alerts.selectors.search``) on real alert files ingested into a temporary
store, on both backends, checked against brute force over the same rows."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from alerts.selectors import search as s
from alerts.tables import (
    ANOMALY_OFFSET,
    SKY_ORDER,
    AnomalyIndex,
    SkyIndex,
    TimeIndex,
)
from store import Store
from tests.api.conftest import INGESTED_FOLDERS, ingested_store_settings  # noqa: F401 -- shared fixture

# Enough files for every search: SN candidates and SIMBAD classes (2021 sample), tracklets, RR
# Lyrae and 186 asteroid alerts (2024-01-15), asteroid 9016, asteroid 8467, anomaly scores (2025
# schema), TNS types (SLSN 2025), Fink-FAT candidates.
FILES = [
    "fink-parquet/sample-124-20211122",
    "fink-parquet/sso-varstars-20240115",
    "sso/asteroid-9016-202106",
    "fink-parquet/sso-8467-2025",
    "fink-parquet/full-schema-2025",
    "fink-parquet/slsn-2025",
    "sso/fink-fat-candidates",
]


# Every file these tests read is in the shared ingested store (tests/api/conftest.py), built
# once per backend and session.
assert set(FILES) <= set(INGESTED_FOLDERS), "add the files to INGESTED_FOLDERS in tests/api/conftest.py"


@pytest.fixture(scope="session")
def search_store_settings(ingested_store_settings):  # noqa: F811 -- the shared fixture, under this name
    return ingested_store_settings


@pytest.fixture(scope="module")
def store(search_store_settings):
    """The ingested store, passed to the selectors explicitly."""
    opened = Store.from_settings(search_store_settings)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def sky_rows(store):
    """Every sky-index row: the brute-force reference of the position searches."""
    with store[SkyIndex].scan(start=b"\x00") as scan:
        return [dict(row) for row in scan]


def brute_force_cone(rows, ra, dec, radius_arcsec):
    """{objectId: (latest jd inside the cone, its separation)} by checking every row."""
    separation = s.angular_separation_deg(ra, dec, [r["i:ra"] for r in rows], [r["i:dec"] for r in rows])
    found = {}
    for row, sep in zip(rows, separation):
        if sep <= radius_arcsec / 3600:
            oid = row["i:objectId"]
            if oid not in found or row["i:jd"] > found[oid][0]:
                found[oid] = (row["i:jd"], float(sep))
    return found


# -- pure functions ------------------------------------------------------------------------------
def test_pixel_ranges_of_a_coarse_pixel_cover_its_children():
    ranges = s.pixel_ranges(np.array([5]), 14)
    assert ranges.tolist() == [[5 * 16, 6 * 16]]
    # Adjacent pixels merge into one range; others stay apart.
    assert s.pixel_ranges(np.array([7, 3, 4, 5]), SKY_ORDER).tolist() == [[3, 6], [7, 8]]
    assert s.pixel_ranges(np.array([], dtype=np.int64), 3).shape == (0, 2)


def test_angular_separation():
    assert s.angular_separation_deg(10.0, 20.0, [10.0], [21.0])[0] == pytest.approx(1.0)
    assert s.angular_separation_deg(0.0, 89.0, [180.0], [89.0])[0] == pytest.approx(2.0)
    assert s.angular_separation_deg(359.9, 0.0, [0.1], [0.0])[0] == pytest.approx(0.2)


def test_credible_region_ranks_pixels_by_density():
    # Order-1 map (48 pixels): three pixels hold 50 %, 30 % and 20 % of the probability.
    uniq = 4 * 4**1 + np.arange(48)
    area = 4 * math.pi / 48
    density = np.zeros(48)
    density[[7, 20, 33]] = np.array([0.5, 0.3, 0.2]) / area
    one = s.credible_region(uniq=uniq, probability_density=density, credible_level=0.4)
    assert one.ranges.tolist() == [[7 * 4**15, 8 * 4**15]]  # the most probable pixel is always in
    two = s.credible_region(uniq=uniq, probability_density=density, credible_level=0.7)
    assert two.ranges.tolist() == [[7 * 4**15, 8 * 4**15], [20 * 4**15, 21 * 4**15]]
    assert two.area_deg2 == pytest.approx(2 * 41252.96 / 48, rel=1e-4)
    assert two.contains(np.array([7 * 4**15, 8 * 4**15 - 1, 8 * 4**15, 0])).tolist() == [True, True, False, False]


def test_credible_region_orders_from_uniq_exactly():
    # The last pixel of order 29 (where a floating log2 would round to order 30), and order 0.
    last = 16 * 4**29 - 1
    region = s.credible_region(uniq=np.array([last, 4]), probability_density=np.array([1.0, 0.0]), credible_level=0.5)
    npix16 = 12 * 4**16
    assert region.ranges.tolist() == [[npix16 - 1, npix16]]
    with pytest.raises(s.SearchError):
        s.credible_region(uniq=np.array([3]), probability_density=np.array([1.0]), credible_level=0.5)


def test_tracklet_prefix():
    assert s.tracklet_prefix(tracklet_id="TRCK_20240115_110005_00") == "TRCK_20240115_110005_00"
    assert s.tracklet_prefix(date="2024-01-15") == "TRCK_20240115"
    assert s.tracklet_prefix(date="2024-01-15 11:00:05") == "TRCK_20240115_110005"
    for bad in ({"tracklet_id": "ZTF24aaciatp"}, {"date": "15/01/2024"}, {}):
        with pytest.raises(s.SearchError):
            s.tracklet_prefix(**bad)


def test_class_names_are_grouped_and_prefixed():
    groups = s.class_names()
    fink, tns, simbad = groups.values()
    assert "Early SN Ia candidate" in fink
    assert "(TNS) SN Ia" in tns
    assert "(SIMBAD) RRLyrae" in simbad and "(SIMBAD) RRLyr" in simbad  # new and old labels


# -- cone search -----------------------------------------------------------------------------------
def test_cone_search_equals_brute_force(store, sky_rows):
    rng = random.Random(7)
    for radius in (1.5, 30.0, 60.0, 600.0, 3600.0, 18000.0):
        for row in rng.sample(sky_rows, 5):
            ra = (row["i:ra"] + rng.uniform(-1, 1) * radius / 3600 / 2) % 360
            dec = max(-90.0, min(90.0, row["i:dec"] + rng.uniform(-1, 1) * radius / 3600 / 2))
            expected = brute_force_cone(sky_rows, ra, dec, radius)
            found = s.alerts_in_cone(ra=ra, dec=dec, radius_arcsec=radius, n=10_000, store=store)
            assert not found.truncated
            got = {r["i:objectId"]: (r["i:jd"], r["v:separation_degree"]) for r in found.rows}
            assert got.keys() == expected.keys(), (ra, dec, radius)
            for oid, (jd, sep) in got.items():
                assert jd == expected[oid][0]
                assert sep == pytest.approx(expected[oid][1], abs=1e-9)
            separations = [r["v:separation_degree"] for r in found.rows]
            assert separations == sorted(separations)
            assert found.scanned >= len(found.rows)


def test_cone_search_rows_and_columns(store, sky_rows):
    row = next(r for r in sky_rows if r["i:objectId"] == "ZTF24aaciatp")
    found = s.alerts_in_cone(ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=2, store=store)
    (alert,) = found.rows
    assert alert["i:objectId"] == "ZTF24aaciatp"
    assert alert["v:separation_degree"] == pytest.approx(0, abs=1e-9)
    assert alert["v:classification"] == alert["d:classification"] == "Tracklet"
    assert alert["v:lastdate"].startswith("2024-01-15")
    assert "i:magpsf" in alert and "d:tracklet" in alert
    narrow = s.alerts_in_cone(ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=2, columns=["i:jd"], store=store)
    assert list(narrow.rows[0]) == ["i:ra", "i:dec", "i:jd", "v:separation_degree"]


def test_cone_search_caps_and_dates(store, sky_rows):
    row = sky_rows[0]
    wide = s.alerts_in_cone(ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=18000, n=2, store=store)
    assert len(wide.rows) <= 2
    everything = s.alerts_in_cone(ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=18000, n=10_000, store=store)
    if len(everything.rows) > 2:
        assert wide.truncated and wide.limit == 2
        assert [r["i:objectId"] for r in wide.rows] == [r["i:objectId"] for r in everything.rows[:2]]
    capped = s.alerts_in_cone(ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=18000, store=store, scan_cap=1)
    assert capped.scanned == 1 and capped.truncated
    # First-detection window: only objects first seen in it.
    start = row["i:jdstarthist"]
    inside = s.alerts_in_cone(
        ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=5, first_jd_min=start - 0.5, first_jd_max=start + 0.5, store=store
    )
    assert row["i:objectId"] in {r["i:objectId"] for r in inside.rows}
    outside = s.alerts_in_cone(ra=row["i:ra"], dec=row["i:dec"], radius_arcsec=5, first_jd_min=start + 1, store=store)
    assert row["i:objectId"] not in {r["i:objectId"] for r in outside.rows}
    with pytest.raises(s.SearchError):
        s.alerts_in_cone(ra=0, dec=0, radius_arcsec=18001, store=store)


# -- class, asteroid, tracklet, anomaly ------------------------------------------------------------
def test_latests_are_newest_first_of_that_class(store):
    found = s.latest_alerts_of_class(class_name="SN candidate", n=5, store=store)
    assert 0 < len(found.rows) <= 5
    jds = [r["i:jd"] for r in found.rows]
    assert jds == sorted(jds, reverse=True)
    assert {r["d:classification"] for r in found.rows} == {"SN candidate"}
    window = s.latest_alerts_of_class(class_name="SN candidate", n=100, jd_max=jds[-1], store=store)
    assert all(r["i:jd"] < jds[-1] for r in window.rows)


def test_latests_simbad_old_and_new_labels(store):
    new = s.latest_alerts_of_class(class_name="(SIMBAD) RRLyrae", n=3, columns=["i:objectId", "d:cdsxmatch"], store=store)
    old = s.latest_alerts_of_class(class_name="(SIMBAD) RRLyr", n=3, columns=["i:objectId", "d:cdsxmatch"], store=store)
    assert new.rows and new.rows == old.rows
    assert {r["d:cdsxmatch"] for r in new.rows} == {"RRLyrae"}
    tns = s.latest_alerts_of_class(class_name="(TNS) SLSN-I", n=3, columns=["d:tns"], store=store)
    assert tns.rows and {r["d:tns"] for r in tns.rows} == {"SLSN-I"}
    with pytest.raises(s.SearchError) as error:
        s.latest_alerts_of_class(class_name="Not a class", store=store)
    assert error.value.param == "class" and "/api/v1/classes" in str(error.value)


def test_latests_trend_keeps_rising_alerts(store):
    found = s.latest_alerts_of_class(class_name="Unknown", n=5, trend="rising", columns=["d:mag_rate"], store=store)
    assert all(r["d:mag_rate"] < 0 for r in found.rows)


def test_asteroids(store):
    found = s.alerts_of_asteroids(names=["9016"], store=store)
    assert len(found.rows) == 58  # the data README: 58 alerts of 9016 over June 2021
    assert {r["i:ssnamenr"] for r in found.rows} == {"9016"}
    assert {(r["sso_name"], r["sso_number"]) for r in found.rows} == {(None, 9016)}
    jds = [r["i:jd"] for r in found.rows]
    assert jds == sorted(jds, reverse=True)
    both = s.alerts_of_asteroids(names=["9016", " 8467 "], columns=["i:ssnamenr"], store=store)
    assert len(both.rows) == 61
    assert s.alerts_of_asteroids(names=["Benoitcarry"], store=store).rows == []


def test_sso_candidates(store):
    orbits = s.sso_candidates(kind="orbParams", max_rows=3, store=store)
    assert len(orbits.rows) == 3 and orbits.truncated
    assert {"d:a", "d:e", "d:ssoCandId"} <= set(orbits.rows[0])
    cand = orbits.rows[0]["d:ssoCandId"]
    points = s.sso_candidates(kind="lightcurves", candidate_id=cand, store=store)
    assert points.rows and {r["d:ssoCandId"] for r in points.rows} == {cand}
    jd = sorted(r["d:jd"] for r in points.rows)[len(points.rows) // 2]
    later = s.sso_candidates(kind="lightcurves", candidate_id=cand, jd_min=jd, store=store)
    assert later.rows and all(r["d:jd"] >= jd for r in later.rows)


def test_tracklets(store):
    found = s.alerts_of_tracklets(prefix=s.tracklet_prefix(date="2024-01-15"), store=store)
    assert {r["i:objectId"] for r in found.rows} == {"ZTF24aaciatp", "ZTF24aacbkwf"}
    one = s.alerts_of_tracklets(prefix="TRCK_20240115_110005_00", columns=["i:objectId"], store=store)
    assert one.rows == [{"i:objectId": "ZTF24aaciatp"}]


def test_anomalies_most_negative_first(store):
    with store[AnomalyIndex].scan(start=b"\x00") as scan:
        everything = [dict(r) for r in scan]
    found = s.anomalous_alerts(n=5, columns=["i:objectId", "d:anomaly_score"], store=store)
    scores = [r["d:anomaly_score"] for r in found.rows]
    assert scores == sorted(r["d:anomaly_score"] for r in everything)[:5]
    # A window of the 2025 files only.
    in_2025 = [r for r in everything if r["i:jd"] >= 2460676.5]
    assert in_2025
    found = s.anomalous_alerts(n=3, jd_min=2460676.5, columns=["i:jd", "d:anomaly_score"], store=store)
    assert [r["d:anomaly_score"] for r in found.rows] == sorted(r["d:anomaly_score"] for r in in_2025)[:3]
    assert all(r["d:anomaly_key"] == pytest.approx(r["d:anomaly_score"] + ANOMALY_OFFSET) for r in everything)


def test_night_statistics(store):
    night = s.night_statistics(date="20240115", store=store)
    (row,) = night.rows
    assert row["key:key"] == "ztf_20240115" and row["basic:sci"] == 849
    assert sum(v for k, v in row.items() if k.startswith("class:")) == 849
    months = s.night_statistics(date="202106", columns=["key:key", "basic:sci"], store=store)
    assert [r["key:key"][:10] for r in months.rows] == ["ztf_202106"] * len(months.rows)
    # 2021-06-01 00:00 to 2021-07-01 00:00 UTC, counted on the time index.
    with store[TimeIndex].scan(start="2459366.5", stop="2459396.5", columns=["i:jd"]) as scan:
        in_june = sum(1 for _ in scan)
    assert in_june >= 58  # 9016's alerts, at least
    assert sum(r["basic:sci"] for r in months.rows) == in_june
    with pytest.raises(s.SearchError):
        s.night_statistics(date="2024-01", store=store)


# -- resolver, random --------------------------------------------------------------------------
def test_resolver_offline(store):
    (sso,) = s.resolve_name(resolver="ssodnet", name="9016", store=store).rows
    assert sso == {"i:ssnamenr": "9016", "name": None, "number": 9016, "type": "Asteroid"}
    prefixed = s.resolve_name(resolver="ssodnet", name="901", store=store).rows
    assert "9016" in {r["i:ssnamenr"] for r in prefixed}
    tns = s.resolve_name(resolver="tns", name="SLSN-I", nmax=2, store=store).rows
    assert len(tns) == 2 and {r["d:type"] for r in tns} == {"SLSN-I"}
    oid = tns[0]["d:internalname"]
    (back,) = s.resolve_name(resolver="tns", name=oid, reverse=True, store=store).rows
    assert back["d:type"] == "SLSN-I"
    simbad = s.resolve_name(resolver="simbad", name="RRLyr", nmax=3, store=store).rows  # old label
    assert len(simbad) == 3 and {r["otype"] for r in simbad} == {"RRLyrae"}
    with pytest.raises(s.SearchError):
        s.resolve_name(resolver="simbad", name="not an id", reverse=True, store=store)


def test_random_is_repeatable_with_a_seed(store):
    first = s.random_objects(n=8, seed=42, store=store)
    assert len(first) == len(set(first)) == 8
    assert s.random_objects(n=8, seed=42, store=store) == first
    assert s.random_objects(n=8, seed=43, store=store) != first
    sn = s.random_objects(n=3, class_name="SN candidate", seed=1, store=store)
    assert sn and all(oid.startswith("ZTF") for oid in sn)
    with pytest.raises(s.SearchError):
        s.random_objects(n=17, store=store)


# -- sky maps, catalogues -----------------------------------------------------------------------
def test_sky_region_around_an_alert(store, sky_rows):
    import astropy.units as u
    from astropy_healpix import HEALPix

    row = next(r for r in sky_rows if r["i:objectId"] == "ZTF24aaciatp")
    # A multi-order map: all the probability in the order-8 pixel of the alert, a little elsewhere.
    pixel = int(HEALPix(nside=2**8, order="nested").lonlat_to_healpix(row["i:ra"] * u.deg, row["i:dec"] * u.deg))
    uniq = np.array([4 * 4**8 + pixel, 4 * 4**0 + 0])
    density = np.array([1.0, 1e-9])
    event = row["i:jdstarthist"] + 0.5
    found = s.alerts_in_sky_map(
        uniq=uniq, probability_density=density, credible_level=0.9, event_jd=event, store=store
    )
    assert "ZTF24aaciatp" in {r["i:objectId"] for r in found.rows}
    assert all(r["v:jdstartgw"] == event for r in found.rows)
    # First detected more than a day before the event: outside the window.
    late = s.alerts_in_sky_map(
        uniq=uniq, probability_density=density, credible_level=0.9, event_jd=row["i:jdstarthist"] + 1.5, store=store
    )
    assert "ZTF24aaciatp" not in {r["i:objectId"] for r in late.rows}


def test_catalog_cross_match(store, sky_rows):
    rng = random.Random(3)
    picked = rng.sample(sky_rows, 20)
    rows = [{"ID": f"row{i}", "mag": i} for i in range(len(picked))] + [{"ID": "nowhere", "mag": -1}]
    ra = [r["i:ra"] + 0.5 / 3600 for r in picked] + [10.0]
    dec = [r["i:dec"] for r in picked] + [-89.0]
    found = s.alerts_matching_catalog(rows=rows, ra=ra, dec=dec, radius_arcsec=1.5, store=store)
    matched = {(r["ID"], r["i:objectId"]) for r in found.rows}
    for i, row in enumerate(picked):
        assert (f"row{i}", row["i:objectId"]) in matched
        expected = brute_force_cone(sky_rows, ra[i], dec[i], 1.5)
        assert {oid for rid, oid in matched if rid == f"row{i}"} == set(expected)
    assert all(r["v:separation_degree"] <= 1.5 / 3600 for r in found.rows)
    assert "nowhere" not in {r["ID"] for r in found.rows}
    # A time window around a moment far from every alert matches nothing.
    far = s.alerts_matching_catalog(
        rows=rows[:1], ra=ra[:1], dec=dec[:1], jd=[2400000.5], window_days=2, store=store
    )
    assert far.rows == []
    near = s.alerts_matching_catalog(
        rows=rows[:1], ra=ra[:1], dec=dec[:1], jd=[picked[0]["i:jd"] + 0.2], window_days=1, store=store
    )
    assert picked[0]["i:objectId"] in {r["i:objectId"] for r in near.rows}


def test_index_only_answers_equal_alert_row_answers(store):
    """Columns the index rows hold are answered from them: the values must be the alert rows'."""
    narrow = ["i:objectId", "i:jd", "i:candid", "i:ra", "i:dec", "v:classification", "v:lastdate", "v:lapse"]
    full = s.latest_alerts_of_class(class_name="SN candidate", n=20, store=store)
    fast = s.latest_alerts_of_class(class_name="SN candidate", n=20, columns=narrow, store=store)
    assert fast.rows == [{c: row[c] for c in narrow} for row in full.rows]
    tracklets = s.alerts_of_tracklets(prefix="TRCK_2024", columns=["i:objectId", "d:tracklet"], store=store)
    every = s.alerts_of_tracklets(prefix="TRCK_2024", store=store)
    assert tracklets.rows == [{"i:objectId": r["i:objectId"], "d:tracklet": r["d:tracklet"]} for r in every.rows]

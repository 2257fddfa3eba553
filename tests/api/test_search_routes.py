"""The search routes under /api/v1/ (conesearch, latests, sso, tracklet, skymap, xmatch, ...) on
real alert files ingested into a temporary store, on both backends, through the Django test
client and the portal's own URLconf."""
from __future__ import annotations

import gzip
import io
import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

import store as store_module
from tests.api.conftest import INGESTED_FOLDERS

FILES = [
    "fink-parquet/sample-124-20211122",
    "fink-parquet/sso-varstars-20240115",
    "sso/asteroid-9016-202106",
    "fink-parquet/sso-8467-2025",
    "fink-parquet/full-schema-2025",
    "fink-parquet/slsn-2025",
    "sso/fink-fat-candidates",
]
ALERT_FILES = [f for f in FILES if "fink-fat" not in f]

pytestmark = pytest.mark.django_db


# Every file these tests read is in the shared ingested store (tests/api/conftest.py), built
# once per backend and session.
assert set(FILES) <= set(INGESTED_FOLDERS), "add the files to INGESTED_FOLDERS in tests/api/conftest.py"


@pytest.fixture(scope="session")
def search_store_settings(ingested_store_settings):
    return ingested_store_settings


@pytest.fixture
def api(search_store_settings, settings):
    """A test client on the portal's URLs, the default store being the ingested one, no throttle."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "staff": None},
    }
    store_module.configure(search_store_settings)
    yield Client()
    store_module.configure(django_settings.STORE)


@pytest.fixture(scope="module")
def alerts_in_files(data_dir):
    """(objectId, ra, dec, jd, jdstarthist, tracklet) of every alert, read from the Parquet files."""
    out = []
    for folder in ALERT_FILES:
        for path in sorted((data_dir / folder).glob("*.parquet")):
            table = pq.read_table(path)
            names = set(table.column_names)
            tracklets = table.column("tracklet").to_pylist() if "tracklet" in names else [None] * table.num_rows
            for oid, cand, trck in zip(table.column("objectId").to_pylist(), table.column("candidate").to_pylist(), tracklets):
                out.append((oid, cand["ra"], cand["dec"], cand["jd"], cand["jdstarthist"], trck))
    return out


def get(api, route, **params):
    return api.get(f"/api/v1/{route}", params)


def rows_of(response):
    assert response.status_code == 200, response.content[:500]
    return response.json()


def error_of(response, param):
    assert response.status_code == 400, response.content[:500]
    body = response.json()
    assert body["status"] == "error" and param in body["text"], body
    return body["text"]


# -- conesearch ------------------------------------------------------------------------------------
def test_conesearch_finds_each_ingested_alert(api, alerts_in_files):
    rng = random.Random(11)
    sample = alerts_in_files if len(alerts_in_files) <= 400 else rng.sample(alerts_in_files, 400)
    for oid, ra, dec, *_ in sample:
        rows = rows_of(get(api, "conesearch", ra=ra, dec=dec, radius=1.5, columns="i:objectId"))
        assert oid in {r["i:objectId"] for r in rows}, (oid, ra, dec)
        assert all(r["v:separation_degree"] <= 1.5 / 3600 for r in rows)


def test_conesearch_sexagesimal_equals_degrees(api, alerts_in_files):
    from astropy.coordinates import SkyCoord

    oid, ra, dec, *_ = next(a for a in alerts_in_files if a[0] == "ZTF24aaciatp")
    coord = SkyCoord(ra, dec, unit="deg")
    in_degrees = rows_of(get(api, "conesearch", ra=ra, dec=dec, radius=600))
    assert in_degrees and in_degrees[0]["i:objectId"] == oid
    spellings = [
        (coord.ra.to_string(unit="hourangle", sep=":", precision=4), coord.dec.to_string(sep=":", precision=3, alwayssign=True)),
        (coord.ra.to_string(unit="hourangle", sep=" ", precision=4), coord.dec.to_string(sep=" ", precision=3, alwayssign=True)),
        (coord.ra.to_string(unit="hourangle", sep="hms", precision=4), coord.dec.to_string(sep="dms", precision=3)),
        (coord.ra.to_string(unit="deg", sep="dms", precision=3), coord.dec.to_string(sep="dms", precision=3)),
    ]
    for ra_text, dec_text in spellings:
        rows = rows_of(get(api, "conesearch", ra=ra_text, dec=dec_text, radius=600))
        assert [r["i:objectId"] for r in rows] == [r["i:objectId"] for r in in_degrees], (ra_text, dec_text)
        for a, b in zip(rows, in_degrees):
            assert a["v:separation_degree"] == pytest.approx(b["v:separation_degree"], abs=2e-6)


def test_conesearch_post_equals_get(api, alerts_in_files):
    _, ra, dec, *_ = alerts_in_files[0]
    params = {"ra": str(ra), "dec": str(dec), "radius": "60", "columns": "i:objectId,i:jd"}
    posted = api.post("/api/v1/conesearch", json.dumps(params), content_type="application/json")
    assert rows_of(posted) == rows_of(get(api, "conesearch", **params))


def test_conesearch_limits_and_errors(api, alerts_in_files):
    _, ra, dec, _, first, _ = alerts_in_files[0]
    text = error_of(get(api, "conesearch", ra=ra, dec=dec, radius=18001), "radius")
    assert "18000" in text
    error_of(get(api, "conesearch", ra=ra, dec=dec), "radius")
    error_of(get(api, "conesearch", ra="25h", dec=dec, radius=5), "ra")
    error_of(get(api, "conesearch", ra=ra, dec=91, radius=5), "dec")
    error_of(get(api, "conesearch", ra=ra, dec=dec, radius=5, window=2), "window")
    error_of(get(api, "conesearch", ra=ra, dec=dec, radius=5, columns="i:nope"), "columns")
    error_of(get(api, "conesearch", ra=ra, dec=dec, radius=5, **{"output-format": "xls"}), "output-format")
    # n caps the objects, nearest first, and says so.
    response = get(api, "conesearch", ra=ra, dec=dec, radius=18000, n=1)
    rows = rows_of(response)
    assert len(rows) == 1
    everything = rows_of(get(api, "conesearch", ra=ra, dec=dec, radius=18000))
    if len(everything) > 1:
        assert response["X-Result-Truncated"] == "true" and response["X-Result-Limit"] == "1"
    assert int(response["X-Rows-Scanned"]) >= len(everything)
    assert response["X-Rows-Returned"] == "1"
    # Dates apply to the first detection.
    from astropy.time import Time

    day = Time(first, format="jd").iso[:10]
    window = rows_of(get(api, "conesearch", ra=ra, dec=dec, radius=5, startdate=day, window=2))
    assert window
    later = Time(first + 3, format="jd").iso
    assert rows_of(get(api, "conesearch", ra=ra, dec=dec, radius=5, startdate=later)) == []


@pytest.mark.parametrize("fmt", ["csv", "votable", "parquet"])
def test_conesearch_output_formats(api, alerts_in_files, fmt):
    oid, ra, dec, *_ = alerts_in_files[0]
    response = get(api, "conesearch", ra=ra, dec=dec, radius=5, **{"output-format": fmt})
    assert response.status_code == 200
    if fmt == "parquet":
        table = pq.read_table(pa.BufferReader(response.content))
        assert oid in table.column("i:objectId").to_pylist()
    else:
        assert oid.encode() in response.content
        assert (b"v_separation_degree" if fmt == "votable" else b"v:separation_degree") in response.content


# -- latests, classes ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Early SN Ia candidate", "SN candidate", "(SIMBAD) RRLyrae", "(TNS) SLSN-I"])
def test_latests_newest_first_of_that_class(api, name):
    rows = rows_of(get(api, "latests", **{"class": name, "n": 5}))
    assert rows and len(rows) <= 5
    jds = [r["i:jd"] for r in rows]
    assert jds == sorted(jds, reverse=True)
    if name.startswith("(SIMBAD) "):
        assert {r["d:cdsxmatch"] for r in rows} == {name[9:]}
    elif name.startswith("(TNS) "):
        assert {r["d:tns"] for r in rows} == {name[6:]}
    else:
        assert {r["v:classification"] for r in rows} == {name}
    assert "v:lastdate" in rows[0] and "v:constellation" in rows[0]


def test_latests_parameters(api):
    rows = rows_of(get(api, "latests", **{"class": "SN candidate", "n": 3, "columns": "i:objectId,i:jd"}))
    assert [list(r) for r in rows] == [["i:objectId", "i:jd"]] * len(rows)
    from astropy.time import Time

    stop = Time(rows[-1]["i:jd"], format="jd").isot
    older = rows_of(get(api, "latests", **{"class": "SN candidate", "n": 3, "stopdate": stop}))
    assert all(r["i:jd"] < rows[-1]["i:jd"] for r in older)
    # A JD far in the future (more digits than the keys') still bounds numerically.
    far = rows_of(get(api, "latests", **{"class": "SN candidate", "n": 3, "stopdate": "100000000", "columns": "i:objectId,i:jd"}))
    assert far == rows
    text = error_of(get(api, "latests", **{"class": "Supernovae please"}), "class")
    assert "/api/v1/classes" in text
    error_of(get(api, "latests", n=3), "class")
    error_of(get(api, "latests", **{"class": "SN candidate", "trend": "sideways"}), "trend")


def test_classes_and_schema(api):
    classes = get(api, "classes").json()
    assert "Early SN Ia candidate" in classes["Fink classifiers"]
    assert "(TNS) SN Ia" in classes["Cross-match with TNS"]
    schema = get(api, "schema").json()
    families = {name.split("(")[-1].rstrip(")") for name in schema}
    assert families == {"i:", "b:", "d:", "v:"}
    ztf = schema["ZTF original fields (i:)"]
    assert ztf["i:magpsf"]["type"] == "float" and "PSF" in ztf["i:magpsf"]["doc"]
    assert "v:separation_degree" in schema["Fink added values (v:)"]


# -- Solar System, tracklets ----------------------------------------------------------------------
def test_sso_finds_its_alerts(api):
    rows = rows_of(get(api, "sso", n_or_d="9016"))
    assert len(rows) == 58
    assert {r["i:ssnamenr"] for r in rows} == {"9016"}
    assert {r["sso_number"] for r in rows} == {9016}
    both = rows_of(get(api, "sso", n_or_d="8467, 9016", columns="i:objectId,i:ssnamenr"))
    assert len(both) == 61
    assert {r["sso_number"] for r in both} == {8467, 9016}
    with_stamps = rows_of(get(api, "sso", n_or_d="8467", withcutouts="True", **{"cutout-kind": "Difference"}))
    assert len(with_stamps) == 3
    stamp = with_stamps[0]["b:cutoutDifference_stampData"]
    assert len(stamp) > 10 and len(stamp[0]) > 10
    error_of(get(api, "sso", n_or_d="9016", withEphem="True"), "withEphem")
    error_of(get(api, "sso"), "n_or_d")
    assert rows_of(get(api, "sso", n_or_d="Benoitcarry")) == []


def test_ssocand(api):
    orbits = rows_of(get(api, "ssocand", kind="orbParams", maxnumber=2))
    assert len(orbits) == 2 and "d:a" in orbits[0]
    cand = orbits[0]["d:ssoCandId"]
    points = rows_of(get(api, "ssocand", kind="lightcurves", ssoCandId=cand))
    assert points and {p["d:ssoCandId"] for p in points} == {cand}
    error_of(get(api, "ssocand", kind="orbits"), "kind")


def test_tracklet_by_id_and_date(api, alerts_in_files):
    (tracklet,) = {a[5] for a in alerts_in_files if a[0] == "ZTF24aaciatp"}
    assert tracklet.startswith("TRCK_")
    rows = rows_of(get(api, "tracklet", id=tracklet))
    assert {r["i:objectId"] for r in rows} == {"ZTF24aaciatp"}
    assert {r["d:tracklet"] for r in rows} == {tracklet}
    day = f"{tracklet[5:9]}-{tracklet[9:11]}-{tracklet[11:13]}"
    clock = f"{tracklet[14:16]}:{tracklet[16:18]}:{tracklet[18:20]}"
    assert "ZTF24aaciatp" in {r["i:objectId"] for r in rows_of(get(api, "tracklet", date=f"{day} {clock}"))}
    assert {r["i:objectId"] for r in rows_of(get(api, "tracklet", date=day))} >= {"ZTF24aaciatp", "ZTF24aacbkwf"}
    error_of(get(api, "tracklet"), "id")
    error_of(get(api, "tracklet", id="ZTF24aaciatp"), "id")
    error_of(get(api, "tracklet", date="yesterday"), "date")


# -- statistics, anomaly -------------------------------------------------------------------------
def test_statistics_of_a_night(api, alerts_in_files):
    rows = rows_of(get(api, "statistics", date="20240115"))
    assert len(rows) == 1 and rows[0]["key:key"] == "ztf_20240115"
    on_night = sum(1 for a in alerts_in_files if 2460324.5 <= a[3] < 2460325.5)
    assert rows[0]["basic:sci"] == on_night == 849
    year = rows_of(get(api, "statistics", date="2024", columns="key:key,basic:sci"))
    assert [list(r) for r in year] == [["key:key", "basic:sci"]] * len(year)
    assert "ztf_20240115" in {r["key:key"] for r in year}
    assert len(rows_of(get(api, "statistics", date=""))) >= len(year)
    error_of(get(api, "statistics", date="2024-01-15"), "date")


def test_anomaly_on_the_2025_files(api, alerts_in_files):
    rows = rows_of(get(api, "anomaly", n=5, start_date="2025-01-01", columns="i:objectId,i:jd,d:anomaly_score"))
    assert rows
    assert all(r["i:jd"] >= 2460676.5 for r in rows)
    scores = [r["d:anomaly_score"] for r in rows]
    assert scores == sorted(scores)
    oids_2025 = {a[0] for a in alerts_in_files if a[3] >= 2460676.5}
    assert {r["i:objectId"] for r in rows} <= oids_2025
    one_day = rows_of(get(api, "anomaly", start_date="2021-11-22", stop_date="2021-11-22", n=100))
    assert all(2459540.5 <= r["i:jd"] < 2459541.5 for r in one_day)


# -- resolver, random ----------------------------------------------------------------------------
def test_resolver_is_offline_and_says_so(api):
    response = get(api, "resolver", resolver="ssodnet", name="9016")
    assert rows_of(response) == [{"i:ssnamenr": "9016", "name": None, "number": 9016, "type": "Asteroid"}]
    assert response["X-Resolver-Source"].startswith("offline")
    tns = rows_of(get(api, "resolver", resolver="tns", name="SLSN-I", nmax=3))
    assert len(tns) == 3
    back = rows_of(get(api, "resolver", resolver="tns", name=tns[0]["d:internalname"], reverse="True"))
    assert back[0]["d:type"] == "SLSN-I"
    error_of(get(api, "resolver", resolver="google", name="x"), "resolver")


def test_random_is_repeatable_with_a_seed(api):
    first = rows_of(get(api, "random", n=4, seed=5, columns="i:objectId,i:jd"))
    again = rows_of(get(api, "random", n=4, seed=5, columns="i:objectId,i:jd"))
    assert first == again
    assert 1 <= len({r["i:objectId"] for r in first}) <= 4
    sn = rows_of(get(api, "random", n=2, seed=1, **{"class": "SN candidate"}))
    assert sn
    error_of(get(api, "random", n=17), "n")


# -- skymap ---------------------------------------------------------------------------------------
def multi_order_map(ra: float, dec: float, event_jd: float, order: int = 8) -> bytes:
    """A small multi-order (NUNIQ) sky map putting its probability around (ra, dec)."""
    import astropy.units as u
    from astropy.io import fits
    from astropy.time import Time
    from astropy_healpix import HEALPix

    pixel = int(HEALPix(nside=2**order, order="nested").lonlat_to_healpix(ra * u.deg, dec * u.deg))
    uniq = np.array([4 * 4**order + pixel] + [4 * 4**0 + p for p in range(12)], dtype=np.int64)
    density = np.array([1e3] + [1e-6] * 12)
    hdu = fits.BinTableHDU.from_columns(
        [fits.Column("UNIQ", "K", array=uniq), fits.Column("PROBDENSITY", "D", array=density)]
    )
    hdu.header["ORDERING"] = "NUNIQ"
    hdu.header["DATE-OBS"] = Time(event_jd, format="jd").isot
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    return buffer.getvalue()


def test_skymap_of_the_real_bayestar_map(api, data_dir):
    with open(data_dir / "gw" / "bayestar.fits.gz", "rb") as f:
        response = api.post("/api/v1/skymap", {"bayestar": f, "credible_level": "0.9"})
    # The event of 2020-02-19: none of the ingested alerts was first seen within [-1, +6] days.
    assert rows_of(response) == []
    with open(data_dir / "gw" / "bayestar.fits.gz", "rb") as f:
        error_of(api.post("/api/v1/skymap", {"bayestar": f, "credible_level": "1.5"}), "credible_level")
    error_of(api.post("/api/v1/skymap", {"credible_level": "0.5"}), "bayestar")
    error_of(api.post("/api/v1/skymap", {"bayestar": io.BytesIO(b"not fits"), "credible_level": "0.5"}), "bayestar")


def test_skymap_around_an_ingested_alert(api, alerts_in_files):
    oid, ra, dec, _, first, _ = next(a for a in alerts_in_files if a[0] == "ZTF24aaciatp")
    event = first + 0.25
    fits_bytes = multi_order_map(ra, dec, event)
    for payload in (io.BytesIO(fits_bytes), io.BytesIO(gzip.compress(fits_bytes))):
        payload.name = "map.fits"
        rows = rows_of(api.post("/api/v1/skymap", {"bayestar": payload, "credible_level": "0.5"}))
        assert oid in {r["i:objectId"] for r in rows}
        assert all(r["v:jdstartgw"] == pytest.approx(event) for r in rows)
    # Fink's clients send the gzipped bytes as str(bytes) in a JSON body.
    body = {"bayestar": str(gzip.compress(fits_bytes)), "credible_level": 0.5, "columns": "i:objectId"}
    rows = rows_of(api.post("/api/v1/skymap", json.dumps(body), content_type="application/json"))
    assert oid in {r["i:objectId"] for r in rows}
    # The event three days after the first detection: before the window of one day.
    late = multi_order_map(ra, dec, first + 3)
    rows = rows_of(api.post("/api/v1/skymap", {"bayestar": io.BytesIO(late), "credible_level": "0.5", "n_day_before": 1}))
    assert oid not in {r["i:objectId"] for r in rows}
    rows = rows_of(api.post("/api/v1/skymap", {"bayestar": io.BytesIO(late), "credible_level": "0.5", "n_day_before": 4}))
    assert oid in {r["i:objectId"] for r in rows}
    error_of(api.post("/api/v1/skymap", {"bayestar": io.BytesIO(late), "credible_level": "0.5", "n_day_before": 8}), "n_day_before")
    # Unreadable content inside a FITS file: 400 naming the parameter, not 500.
    from astropy.io import fits

    bad = fits.BinTableHDU.from_columns(
        [fits.Column("UNIQ", "K", array=np.array([1])), fits.Column("PROBDENSITY", "D", array=np.array([1.0]))]
    )
    bad.header["DATE-OBS"] = "2024-01-15T10:00:00"
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), bad]).writeto(buffer)
    error_of(api.post("/api/v1/skymap", {"bayestar": io.BytesIO(buffer.getvalue()), "credible_level": "0.5"}), "bayestar")
    bad.header["DATE-OBS"] = "not a date"
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), bad]).writeto(buffer)
    error_of(api.post("/api/v1/skymap", {"bayestar": io.BytesIO(buffer.getvalue()), "credible_level": "0.5"}), "bayestar")


# -- xmatch ---------------------------------------------------------------------------------------
def catalog_of(alerts) -> str:
    from astropy.time import Time

    lines = ["ID,RA,Dec,Time,note"]
    for i, (oid, ra, dec, jd, *_) in enumerate(alerts):
        lines.append(f"src{i},{ra + 0.3 / 3600},{dec},{Time(jd, format='jd').iso},{oid}")
    return "\n".join(lines) + "\n"


def test_xmatch_with_a_catalogue_of_ingested_positions(api, alerts_in_files):
    picked = random.Random(5).sample(alerts_in_files, 25)
    text = catalog_of(picked)
    upload = io.BytesIO(text.encode())
    upload.name = "catalog.csv"
    rows = rows_of(api.post("/api/v1/xmatch", {"catalog": upload, "header": "ID,RA,Dec,Time", "radius": "1.5"}))
    pairs = {(r["ID"], r["i:objectId"]) for r in rows}
    for i, (oid, *_) in enumerate(picked):
        assert (f"src{i}", oid) in pairs
    assert all(r["note"] == r["i:objectId"] or r["v:separation_degree"] <= 1.5 / 3600 for r in rows)
    assert {"ID", "RA", "Dec", "Time", "note", "i:objectId", "i:magpsf", "v:separation_degree"} <= set(rows[0])
    # The same as CSV text in a JSON body, with a time window of one day.
    body = {"catalog": text, "header": "ID,RA,Dec,Time", "window": 1, "columns": "i:objectId,i:jd"}
    windowed = rows_of(api.post("/api/v1/xmatch", json.dumps(body), content_type="application/json"))
    assert {(r["ID"], r["i:objectId"]) for r in windowed} >= {(f"src{i}", a[0]) for i, a in enumerate(picked)}
    assert all(abs(r["i:jd"] - _jd(r["Time"])) <= 0.5 for r in windowed)


def _jd(iso: str) -> float:
    from astropy.time import Time

    return Time(iso).jd


def test_xmatch_parquet_and_votable_uploads(api, alerts_in_files):
    from astropy.io.votable import from_table
    from astropy.table import Table

    picked = alerts_in_files[:5]
    table = Table(
        {"name": [f"s{i}" for i in range(5)], "ra": [a[1] for a in picked], "dec": [a[2] for a in picked]}
    )
    parquet = io.BytesIO()
    pq.write_table(pa.table({c: list(table[c]) for c in table.colnames}), parquet)
    votable = io.BytesIO()
    from_table(table).to_xml(votable)
    for payload in (parquet.getvalue(), votable.getvalue()):
        rows = rows_of(api.post("/api/v1/xmatch", {"catalog": io.BytesIO(payload), "header": "name,ra,dec"}))
        assert {(r["name"], r["i:objectId"]) for r in rows} >= {(f"s{i}", a[0]) for i, a in enumerate(picked)}


def test_xmatch_real_catalogue_matches_nothing(api, data_dir):
    with open(data_dir / "xmatch" / "mycatalog.csv", "rb") as f:
        response = api.post("/api/v1/xmatch", {"catalog": f, "header": "ID,RA,Dec,Time", "radius": "5"})
    assert rows_of(response) == []


def test_xmatch_errors(api):
    error_of(api.post("/api/v1/xmatch", {"catalog": "ID,RA,Dec\n", "header": "ID,ra,dec"}), "header")
    error_of(api.post("/api/v1/xmatch", {"catalog": "ID,RA,Dec\na,1,2\n", "radius": "0"}), "radius")
    error_of(api.post("/api/v1/xmatch", {"catalog": "ID,RA,Dec\na,1,2\n", "header": "ID,RA,Dec", "window": 2}), "window")
    error_of(api.post("/api/v1/xmatch", {"catalog": "ID,RA,Dec\na,x,2\n", "header": "ID,RA,Dec"}), "header")
    big = "ID,RA,Dec\n" + "".join(f"{i},1.0,2.0\n" for i in range(100_001))
    upload = io.BytesIO(big.encode())
    error_of(api.post("/api/v1/xmatch", {"catalog": upload, "header": "ID,RA,Dec"}), "catalog")
    parquet = io.BytesIO()
    pq.write_table(pa.table({"ID": list(range(100_001)), "RA": [1.0] * 100_001, "Dec": [2.0] * 100_001}), parquet)
    error_of(api.post("/api/v1/xmatch", {"catalog": io.BytesIO(parquet.getvalue()), "header": "ID,RA,Dec"}), "catalog")
    # A body above Django's DATA_UPLOAD_MAX_MEMORY_SIZE: 413 saying to upload a file, not a 500.
    huge = big * 3  # about 3.6 MB of text
    too_big = api.post("/api/v1/xmatch", json.dumps({"catalog": huge}), content_type="application/json")
    assert too_big.status_code == 413 and "file" in too_big.json()["text"]


# -- metadata -------------------------------------------------------------------------------------
def test_metadata_needs_an_account_to_write(api):
    body = {"objectId": "ZTF24aaciatp", "internal_name": "my tracklet", "comments": "a satellite"}
    anonymous = api.post("/api/v1/metadata", json.dumps(body), content_type="application/json")
    assert anonymous.status_code in (401, 403)
    assert rows_of(get(api, "metadata", objectId="ZTF24aaciatp")) == []

    user = get_user_model().objects.create_user("astro", password="pw")
    api.force_login(user)
    stored = api.post("/api/v1/metadata", json.dumps(body), content_type="application/json")
    assert stored.status_code == 200 and stored.json()["status"] == "ok"
    (row,) = rows_of(get(api, "metadata", objectId="ZTF24aaciatp"))
    assert row["key:key"] == "ZTF24aaciatp" and row["d:internal_name"] == "my tracklet"
    assert row["d:comments"] == "a satellite" and row["d:username"] == "astro"
    assert rows_of(get(api, "metadata", internal_name="mytracklet"))[0]["key:key"] == "ZTF24aaciatp"
    # A second post by the same user replaces the first.
    body["comments"] = "a satellite, sure"
    api.post("/api/v1/metadata", json.dumps(body), content_type="application/json")
    (row,) = rows_of(get(api, "metadata", objectId="ZTF24aaciatp"))
    assert row["d:comments"] == "a satellite, sure"
    bad = api.post("/api/v1/metadata", json.dumps({**body, "objectId": "nope"}), content_type="application/json")
    error_of(bad, "objectId")
    error_of(get(api, "metadata"), "objectId")


# -- no 500s ---------------------------------------------------------------------------------------
GARBAGE = ["", " ", "-1", "0", "nan", "inf", "1e400", "1e-310", "abc", "[1]", "{}", "ZTF", "|", "()", "\u00e9\u00e8", "\u00b2", "9" * 40]


@pytest.mark.parametrize(
    "route, names",
    [
        ("conesearch", ["ra", "dec", "radius", "n", "startdate", "stopdate", "window", "columns"]),
        ("latests", ["class", "n", "startdate", "stopdate", "trend", "color", "columns"]),
        ("sso", ["n_or_d", "withcutouts", "cutout-kind", "columns"]),
        ("ssocand", ["kind", "ssoCandId", "start_date", "stop_date", "maxnumber"]),
        ("tracklet", ["id", "date", "columns"]),
        ("statistics", ["date", "columns"]),
        ("anomaly", ["n", "start_date", "stop_date", "columns"]),
        ("resolver", ["resolver", "name", "reverse", "nmax"]),
        ("random", ["n", "class", "seed", "columns"]),
        ("skymap", ["bayestar", "credible_level", "n_day_before", "n_day_after"]),
        ("xmatch", ["catalog", "header", "radius", "window"]),
        ("metadata", ["objectId", "internal_name"]),
    ],
)
def test_bad_input_is_400_never_500(api, route, names):
    valid = {
        "conesearch": {"ra": "10", "dec": "10", "radius": "10"},
        "latests": {"class": "SN candidate"},
        "sso": {"n_or_d": "9016"},
        "ssocand": {"kind": "lightcurves"},
        "tracklet": {"date": "2024-01-15"},
        "statistics": {"date": "2024"},
        "anomaly": {},
        "resolver": {"resolver": "ssodnet", "name": "9016"},
        "random": {"n": "2"},
        "skymap": {"credible_level": "0.5"},
        "xmatch": {"catalog": "ID,RA,Dec,Time\na,1,2,2024-01-15\n"},
        "metadata": {"objectId": "ZTF24aaciatp"},
    }[route]
    for name in names:
        for value in GARBAGE:
            response = get(api, route, **{**valid, name: value})
            assert response.status_code in (200, 400), (route, name, value, response.content[:300])
            if response.status_code == 400:
                assert response.json()["status"] == "error"

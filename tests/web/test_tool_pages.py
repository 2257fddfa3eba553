"""The statistics, gravitational-wave and cross-match pages through Django's test client, on the
real alerts of ``tests/web/conftest.py`` (``portal_store``). Expected answers come from the alert
files themselves (pyarrow) or from the API route the page stands beside."""

from __future__ import annotations

import gzip
import html as html_text
import io
import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import WEB_FOLDERS

pytestmark = pytest.mark.django_db

#: Five asteroid alerts of 2022-08-04 near (299, -19.5), each the first detection of its object:
#: what a sky map centred there, with the event just before that night, must find.
ASTEROIDS_OF_20220804 = {"ZTF22aayqeuc", "ZTF22aayqeez", "ZTF22aayqebm", "ZTF22aayqeiq", "ZTF22aayqegg"}


@dataclass(frozen=True)
class FileAlert:
    object_id: str
    ra: float
    dec: float
    jd: float
    first_jd: float


@pytest.fixture(scope="session")
def file_alerts(data_dir) -> list[FileAlert]:
    """Every alert of :data:`WEB_FOLDERS`, read from the Parquet files with pyarrow alone."""
    out = []
    for folder in WEB_FOLDERS:
        for path in sorted((data_dir / folder).glob("*.parquet")):
            for row in pq.read_table(path, columns=["objectId", "candidate"]).to_pylist():
                c = row["candidate"]
                out.append(FileAlert(row["objectId"], c["ra"], c["dec"], c["jd"], c["jdstarthist"] or c["jd"]))
    assert len(out) > 150
    return out


def night_of(jd: float) -> str:
    """The UTC date of a Julian date, as the statistics count nights."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=jd - 2440587.5)).strftime("%Y-%m-%d")


# -- helpers shared with the browser tests -----------------------------------------------------
def gaussian_sky_map(ra: float, dec: float, event_jd: float, *, sigma_deg: float = 3.0, ordering: str = "NESTED",
                     nside: int = 64, multi_order: bool = False) -> bytes:
    """A gzipped HEALPix FITS sky map: a Gaussian blob of probability around (ra, dec).

    Flat (``ordering`` NESTED or RING, a PROB column) or multi-order (NUNIQ, PROBDENSITY), as
    BAYESTAR writes them; the event time in DATE-OBS.
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy.time import Time
    from astropy_healpix import HEALPix

    healpix = HEALPix(nside=nside, order="ring" if ordering == "RING" else "nested")
    lon, lat = healpix.healpix_to_lonlat(np.arange(healpix.npix))
    distance = SkyCoord(lon, lat).separation(SkyCoord(ra * u.deg, dec * u.deg)).deg
    prob = np.exp(-0.5 * (distance / sigma_deg) ** 2)
    prob /= prob.sum()
    if multi_order:
        order = int(np.log2(nside))
        columns = [
            fits.Column("UNIQ", "K", array=4 * 4**order + np.arange(healpix.npix, dtype=np.int64)),
            fits.Column("PROBDENSITY", "D", array=prob / healpix.pixel_area.to_value(u.sr)),
        ]
        ordering = "NUNIQ"
    else:
        columns = [fits.Column("PROB", "D", array=prob)]
    table = fits.BinTableHDU.from_columns(columns)
    table.header["ORDERING"] = ordering
    table.header["DATE-OBS"] = Time(event_jd, format="jd").isot
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buffer)
    return gzip.compress(buffer.getvalue())


def asteroid_sky_map(file_alerts, **kwargs) -> tuple[bytes, float]:
    """A sky map around the asteroids of 2022-08-04, the event 6 hours before their alerts."""
    picked = [a for a in file_alerts if a.object_id in ASTEROIDS_OF_20220804]
    assert {a.object_id for a in picked} == ASTEROIDS_OF_20220804
    event = min(a.jd for a in picked) - 0.25
    ra, dec = float(np.mean([a.ra for a in picked])), float(np.mean([a.dec for a in picked]))
    return gaussian_sky_map(ra, dec, event, **kwargs), event


def catalogue_csv(alerts, *, offset_arcsec: float = 0.3) -> str:
    """A CSV catalogue (name, ra, dec, date, note) with a row next to each alert."""
    from astropy.time import Time

    lines = ["name,ra,dec,date,note"]
    for i, a in enumerate(alerts):
        lines.append(f"src{i},{a.ra + offset_arcsec / 3600:.7f},{a.dec:.7f},{Time(a.jd, format='jd').iso},{a.object_id}")
    return "\n".join(lines) + "\n"


def upload(content: bytes | str, name: str) -> io.BytesIO:
    data = io.BytesIO(content.encode() if isinstance(content, str) else content)
    data.name = name
    return data


def shown_objects(html: str, table_id: str) -> list[tuple[str, str]]:
    """(data-source or '', data-object) of each row of a result table."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL)
    if table is None:
        return []
    return re.findall(r'<tr data-object="([^"]+)"(?: data-jd="[^"]*")?(?: data-source="([^"]*)")?', table.group(0))


def problems_of(response) -> str:
    assert response.status_code == 400, response.status_code
    html = response.content.decode()
    box = re.search(r'<div class="error problems"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert box, "the page shows no error box"
    return html_text.unescape(re.sub(r"\s+", " ", box.group(1)))


# -- statistics ----------------------------------------------------------------------------------
def test_statistics_page_shows_the_nights_and_classes_held(client, portal_store, file_alerts):
    from alerts.selectors.search import night_statistics

    alerts_per_night = Counter(night_of(a.jd) for a in file_alerts)
    objects_per_night = defaultdict(set)
    for a in file_alerts:
        objects_per_night[night_of(a.jd)].add(a.object_id)

    response = client.get("/statistics")
    assert response.status_code == 200
    html = response.content.decode()
    table = re.findall(r'<tr data-period="([\d-]+)" data-alerts="(\d+)">', html)
    assert {night: int(n) for night, n in table} == dict(alerts_per_night)
    assert {p.label: p.objects for p in response.context["periods"]} == {
        night: len(ids) for night, ids in objects_per_night.items()
    }
    # The plot's data: every night, oldest first, with its count.
    plot = json.loads(re.search(r'<script id="statistics-data" type="application/json">(.*?)</script>', html).group(1))
    assert plot["periods"] == sorted(alerts_per_night)
    assert plot["alerts"] == [alerts_per_night[n] for n in sorted(alerts_per_night)]
    # The classes: those the statistics table holds, most frequent first; the top ones plotted.
    held = Counter()
    for row in night_statistics().rows:
        held.update({k[6:]: v for k, v in row.items() if k.startswith("class:") and v})
    listed = re.findall(r'<tr data-class="([^"]+)">', html)
    assert set(listed) == set(held) and "SN candidate" in listed and "Solar System MPC" in listed
    assert [held[name] for name in listed] == sorted(held.values(), reverse=True)
    assert list(plot["classes"]) == listed[:6]
    for name, counts in plot["classes"].items():
        assert sum(counts) == held[name]
    # Stacked, the classes and "other" add up to each night's alerts.
    stacked = np.sum([*plot["classes"].values(), plot["other"]], axis=0)
    assert stacked.tolist() == plot["alerts"]
    assert 'href="/api/v1/statistics?output-format=csv"' in html
    assert 'href="/statistics"' in html and 'href="/gw"' in html and 'href="/xmatch"' in html  # the nav


def test_statistics_period_grouping_and_classes(client, portal_store, file_alerts):
    september = Counter(night_of(a.jd) for a in file_alerts if night_of(a.jd).startswith("2025-09"))
    response = client.get("/statistics", {"date": "2025-09", "classes": ["SN candidate", "Supernova", "Nope"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert {p.label: p.alerts for p in response.context["periods"]} == dict(september)
    assert response.context["picked"] == ["SN candidate", "Supernova"]
    assert "No alert of Nope in this period" in html
    assert 'href="/api/v1/statistics?date=202509&amp;output-format=json"' in html

    by_year = client.get("/statistics", {"group": "year", "mode": "lines"})
    years = Counter(night_of(a.jd)[:4] for a in file_alerts)
    assert {p.label: p.alerts for p in by_year.context["periods"]} == dict(years)
    assert {p.label: p.nights for p in by_year.context["periods"]}["2025"] == len(september)

    empty = client.get("/statistics", {"date": "1999"})
    assert empty.status_code == 200 and "No alert is held for 1999" in empty.content.decode()


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"date": "2025-13"}, "Period: '2025-13' is not a real month or night"),
        ({"date": "last week"}, "Period: give a year"),
        ({"group": "decade"}, "Per: Select a valid choice"),
    ],
)
def test_statistics_bad_input(client, portal_store, query, words):
    assert words in problems_of(client.get("/statistics", query))


# -- gravitational waves -------------------------------------------------------------------------
def api_rows(client, route: str, data: dict) -> list[dict]:
    response = client.post(f"/api/v1/{route}", data)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_gw_page_with_the_real_bayestar_map_matches_the_api(client, portal_store, data_dir):
    from alerts.selectors.search import credible_region
    from search.serializers import read_sky_map

    path = data_dir / "gw" / "bayestar.fits.gz"
    params = {"credible_level": "0.9", "n_day_before": "7", "n_day_after": "14"}
    with open(path, "rb") as f:
        response = client.post("/gw", {"bayestar": f, **params})
    with open(path, "rb") as f:
        expected = api_rows(client, "skymap", {"bayestar": f, **params})
    assert response.status_code == 200
    html = response.content.decode()
    assert [oid for oid, _ in shown_objects(html, "gw-results")] == [r["i:objectId"] for r in expected]
    # The event of 2020-02-19: no alert held was first seen within [-7, +14] days of it.
    assert expected == [] and 'id="gw-nothing"' in html
    assert "Event of 2020-02-19 09:44:15 UTC" in html
    sky_map = read_sky_map(path.read_bytes())
    area = credible_region(uniq=sky_map.uniq, probability_density=sky_map.probability_density, credible_level=0.9).area_deg2
    assert f'<span data-value="area">{area:,.0f}</span>' in html
    sky = json.loads(re.search(r'<script id="sky-data" type="application/json">(.*?)</script>', html).group(1))
    assert 1000 < len(sky["region"]["ra"]) <= 6000  # the region drawn on the sky plot


@pytest.mark.parametrize(
    "kind", [{"ordering": "NESTED"}, {"ordering": "RING"}, {"multi_order": True}], ids=["nested", "ring", "multi-order"]
)
def test_gw_page_finds_what_the_api_finds(client, portal_store, file_alerts, kind):
    fits_bytes, event = asteroid_sky_map(file_alerts, **kind)
    params = {"credible_level": "0.9", "n_day_before": "1", "n_day_after": "6"}
    response = client.post("/gw", {"bayestar": upload(fits_bytes, "map.fits.gz"), **params})
    expected = api_rows(client, "skymap", {"bayestar": upload(fits_bytes, "map.fits.gz"), **params})
    assert response.status_code == 200
    shown = [oid for oid, _ in shown_objects(response.content.decode(), "gw-results")]
    assert shown == [r["i:objectId"] for r in expected]
    assert set(shown) >= ASTEROIDS_OF_20220804
    assert f'href="/{shown[0]}"' in response.content.decode()
    # The download is the API's answer, in the API's formats.
    download = client.post("/gw", {"bayestar": upload(fits_bytes, "map.fits.gz"), **params, "output-format": "json"})
    assert download["Content-Disposition"] == 'attachment; filename="skymap.json"'
    assert json.loads(download.content) == expected
    csv = client.post("/gw", {"bayestar": upload(fits_bytes, "map.fits.gz"), **params, "output-format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and csv.content.count(b"\n") == len(expected) + 1
    # An event a week later: the asteroids were first seen before its window.
    later = client.post("/gw", {"bayestar": upload(gaussian_sky_map(299, -19.5, event + 7), "late.fits.gz"), **params})
    assert not {o for o, _ in shown_objects(later.content.decode(), "gw-results")} & ASTEROIDS_OF_20220804


def test_gw_page_bad_input(client, portal_store, data_dir, file_alerts):
    fits_bytes, _ = asteroid_sky_map(file_alerts)
    cases = [
        ({"credible_level": "0.9"}, "Sky map: choose a FITS file to upload"),
        ({"bayestar": upload(b"this is no FITS file", "map.fits"), "credible_level": "0.9"}, "Sky map: not a FITS sky map"),
        ({"bayestar": upload(b"\x1f\x8b\x08 truncated", "map.fits.gz"), "credible_level": "0.9"}, "Sky map: not a readable gzip file"),
        ({"bayestar": upload(fits_bytes, "m.fits.gz"), "credible_level": "1.5"}, "Credible level: Ensure this value is less than or equal to 1"),
        ({"bayestar": upload(fits_bytes, "m.fits.gz"), "credible_level": "0"}, "Credible level: must be in (0, 1]"),
        ({"bayestar": upload(fits_bytes, "m.fits.gz"), "credible_level": "high"}, "Credible level: A valid number is required"),
        ({"bayestar": upload(fits_bytes, "m.fits.gz")}, "Credible level: this parameter is required"),
        ({"bayestar": upload(fits_bytes, "m.fits.gz"), "credible_level": "0.5", "n_day_before": "8"}, "Days before: Ensure this value is less than or equal to 7"),
    ]
    for data, words in cases:
        response = client.post("/gw", data)
        assert words in problems_of(response), (data, words)
        assert 'id="gw-form"' in response.content.decode()  # the form is shown again


# -- cross-match -----------------------------------------------------------------------------------
def xmatch_fields(**extra) -> dict:
    return {"id_column": "name", "ra_column": "ra", "dec_column": "dec", "radius": "1.5", **extra}


def test_xmatch_page_finds_the_objects_of_a_catalogue_of_alert_positions(client, portal_store, file_alerts):
    picked = random.Random(7).sample(file_alerts, 20)
    text = catalogue_csv(picked)
    response = client.post("/xmatch", {"catalog": upload(text, "mine.csv"), **xmatch_fields()})
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    pairs = {(source, oid) for oid, source in shown_objects(html, "xmatch-results")}
    assert {(f"src{i}", a.object_id) for i, a in enumerate(picked)} <= pairs
    assert f'href="/{picked[0].object_id}"' in html
    expected = api_rows(client, "xmatch", {"catalog": upload(text, "mine.csv"), "header": "name,ra,dec", "radius": "1.5"})
    assert pairs == {(r["name"], r["i:objectId"]) for r in expected}
    assert all(row["separation"] <= 1.5 for row in response.context["rows"])
    # With the date column and a one-day window: every row still finds its own object.
    windowed = client.post(
        "/xmatch", {"catalog": upload(text, "mine.csv"), **xmatch_fields(time_column="date", window="1")}
    )
    pairs = {(source, oid) for oid, source in shown_objects(windowed.content.decode(), "xmatch-results")}
    assert {(f"src{i}", a.object_id) for i, a in enumerate(picked)} <= pairs
    # The download: the API's rows, in the format asked.
    download = client.post("/xmatch", {"catalog": upload(text, "mine.csv"), **xmatch_fields(), "output-format": "json"})
    assert download["Content-Disposition"] == 'attachment; filename="xmatch.json"'
    assert json.loads(download.content) == expected
    votable = client.post("/xmatch", {"catalog": upload(text, "mine.csv"), **xmatch_fields(), "output-format": "votable"})
    assert votable["Content-Type"].startswith("application/x-votable+xml") and b"<VOTABLE" in votable.content


def test_xmatch_page_reads_parquet_and_votable(client, portal_store, file_alerts):
    from astropy.io.votable import from_table
    from astropy.table import Table

    picked = file_alerts[:5]
    table = Table({"name": [f"s{i}" for i in range(5)], "ra": [a.ra for a in picked], "dec": [a.dec for a in picked]})
    parquet = io.BytesIO()
    pq.write_table(pa.table({c: list(table[c]) for c in table.colnames}), parquet)
    votable = io.BytesIO()
    from_table(table).to_xml(votable)
    for payload, name in ((parquet.getvalue(), "c.parquet"), (votable.getvalue(), "c.xml")):
        response = client.post("/xmatch", {"catalog": upload(payload, name), **xmatch_fields()})
        pairs = {(source, oid) for oid, source in shown_objects(response.content.decode(), "xmatch-results")}
        assert {(f"s{i}", a.object_id) for i, a in enumerate(picked)} <= pairs, name


def test_xmatch_page_far_away_catalogue_finds_nothing(client, portal_store, file_alerts, data_dir):
    # Far south of anything ZTF sees (it observes north of Dec -31), so nothing can match.
    far = [FileAlert(a.object_id, a.ra, -60.0 - i * 0.5, a.jd, a.first_jd) for i, a in enumerate(file_alerts[:30])]
    response = client.post("/xmatch", {"catalog": upload(catalogue_csv(far), "far.csv"), **xmatch_fields(radius="60")})
    assert response.status_code == 200
    html = response.content.decode()
    assert shown_objects(html, "xmatch-results") == [] and 'id="xmatch-nothing"' in html
    assert response.context["count"] == 0 and response.context["catalog_rows"] == 30
    # The real user catalogue of the data folder: none of its positions holds an alert here.
    with open(data_dir / "xmatch" / "mycatalog.csv", "rb") as f:
        mine = client.post("/xmatch", {"catalog": f, "id_column": "ID", "ra_column": "RA", "dec_column": "Dec", "radius": "5"})
    assert mine.status_code == 200 and mine.context["count"] == 0 and mine.context["catalog_rows"] == 7


def test_xmatch_page_bad_input(client, portal_store, file_alerts):
    text = catalogue_csv(file_alerts[:3])
    cases = [
        (xmatch_fields(), "Catalogue: choose a file to upload"),
        ({"catalog": upload(b"", "empty.csv"), **xmatch_fields()}, "Catalogue: the file is empty"),
        ({"catalog": upload(b"PAR1 not really parquet", "c.parquet"), **xmatch_fields()}, "cannot read the catalogue"),
        ({"catalog": upload(text, "c.csv"), **xmatch_fields(ra_column="RAJ2000")}, "Columns: column(s) RAJ2000 not in the catalogue (its columns: name, ra, dec, date, note)"),
        ({"catalog": upload(text, "c.csv"), **xmatch_fields(ra_column="note")}, "Columns: column note must hold degrees"),
        ({"catalog": upload(text, "c.csv"), **xmatch_fields(ra_column="")}, "RA [deg]: This field is required"),
        ({"catalog": upload(text, "c.csv"), **xmatch_fields(radius="0")}, "Radius [arcsec]: must be a positive number of arcseconds"),
        ({"catalog": upload(text, "c.csv"), **xmatch_fields(window="2")}, "Time: name the catalogue's time column to use a time window"),
        ({"catalog": upload(text, "c.csv"), **xmatch_fields(time_column="note", window="2")}, "Columns: column note must hold ISO dates"),
        (
            {"catalog": upload("name,ra,dec\n" + "".join(f"{i},1.0,2.0\n" for i in range(100_001)), "big.csv"), **xmatch_fields()},
            "Catalogue: holds more than 100000 rows",
        ),
    ]
    for data, words in cases:
        response = client.post("/xmatch", data)
        assert words in problems_of(response), (words, problems_of(response))
        assert 'id="xmatch-form"' in response.content.decode()

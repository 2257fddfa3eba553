"""Tests of alerts.derived on real alerts from ../shared/data (see its README and MANIFEST)."""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alerts import derived
from alerts.derived import (
    FINK_CLASSES,
    SIMBAD_CLASSES,
    SIMBAD_OLD_TO_NEW,
    TNS_CLASSES,
    VALUE_COLUMNS,
    constellations,
    dc_mag,
    fink_classification,
    fink_classification_many,
    jd_to_iso,
    mag_to_flux,
    value_columns,
    value_columns_of_object,
)

_BIG_COLUMNS = ("prv_candidates", "cutoutScience", "cutoutTemplate", "cutoutDifference")


@pytest.fixture(scope="module")
def data_dir() -> Path:
    env = os.environ.get("PORTAL_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if not path.is_dir():
        message = f"real alert data not found at {path} (set PORTAL_DATA to its folder)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def read_parquet_folder(folder: Path, with_history: bool = False) -> list[dict]:
    """Alerts of every Parquet file in `folder`, as dicts (Fink columns at the top level)."""
    import pyarrow.parquet as pq

    rows = []
    for path in sorted(folder.glob("*.parquet")):
        names = pq.read_schema(path).names
        wanted = set(_BIG_COLUMNS) - ({"prv_candidates"} if with_history else set())
        keep = [n for n in names if n not in wanted]
        rows.extend(pq.read_table(path, columns=keep).to_pylist())
    return rows


def classify(rows: list[dict]) -> list[str]:
    return fink_classification_many([r["candidate"] for r in rows], rows)


def by_id(rows: list[dict], labels: list[str], object_id: str) -> list[tuple[dict, str]]:
    return [(r, label) for r, label in zip(rows, labels) if r["objectId"] == object_id]


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------


def test_agrees_with_finkclass_written_by_fink(data_dir):
    """Files whose `finkclass` column Fink wrote, with all the classification inputs present."""
    import fastavro

    rows = read_parquet_folder(data_dir / "fink-parquet" / "cv-symbiotic-2024")
    rows += read_parquet_folder(data_dir / "fink-parquet" / "slsn-2025")
    with open(data_dir / "fink-avro" / "data-transfer-2026" / "part-3-305711.avro", "rb") as f:
        rows += list(fastavro.reader(f))
    assert len(rows) == 20 + 55 + 31

    labels = classify(rows)
    disagreements = [
        (r["objectId"], label, r["finkclass"])
        for r, label in zip(rows, labels)
        if label != r["finkclass"]
    ]
    assert disagreements == []
    # The sample covers SIMBAD labels, a failed cross-match, SN candidates and ambiguity.
    assert {"SN candidate", "Ambiguous", "Unknown", "CataclyV*", "Supernova"} <= set(labels)


def test_superluminous_file_lacks_mulens_which_finkclass_used(data_dir):
    """superluminous-2025 has `finkclass` but no `mulens` column: 16 of its 17 rows agree.

    ZTF25abuovxv passes the SN-candidate rule; Fink called it Ambiguous, which needs a second
    counting flag, and with roid=0 only a positive microlensing score can be that flag.
    """
    rows = read_parquet_folder(data_dir / "fink-parquet" / "superluminous-2025")
    assert "mulens" not in rows[0]
    rows = [r for r in rows if r["finkclass"] is not None]
    labels = classify(rows)
    disagreements = [(r["objectId"], lab) for r, lab in zip(rows, labels) if lab != r["finkclass"]]
    assert len(rows) == 17
    assert disagreements == [("ZTF25abuovxv", "SN candidate")]

    (row,) = [r for r in rows if r["objectId"] == "ZTF25abuovxv" and r["finkclass"] == "Ambiguous"]
    assert row["roid"] == 0
    assert fink_classification(row["candidate"], {**row, "mulens": 0.4}) == "Ambiguous"


def test_sample_2021_sn_scores_and_early_sn_ia(data_dir):
    rows = read_parquet_folder(data_dir / "fink-parquet" / "sample-124-20211122")
    labels = classify(rows)
    assert len(rows) == 124

    def score(r, name):
        return r[name] if r[name] is not None else 0.0

    # README: 66 alerts with an SN Ia score > 0.5 (SuperNNova or random forest).
    sn_ia = [
        (r, lab)
        for r, lab in zip(rows, labels)
        if max(score(r, "snn_snia_vs_nonia"), score(r, "rf_snia_vs_nonia")) > 0.5
    ]
    assert len(sn_ia) == 66
    # Most have a SIMBAD counterpart, and then the SIMBAD label is the classification.
    for r, lab in sn_ia:
        if r["cdsxmatch"] not in ("Unknown", "Transient") and not r["cdsxmatch"].startswith(
            ("Fail", "Galaxy")
        ):
            assert lab == r["cdsxmatch"]

    # ZTF21acobels, alert with ndethist=17: cdsxmatch Unknown, snn_snia 0.58 and snn_sn 0.77
    # (> 0.5), rf_snia 0.785 (> 0.5), ndethist <= 20, drb 1.0 (> 0.5), classtar 0.98 (> 0.4)
    # -> Early SN Ia candidate (which wins over SN candidate, also true).
    (early,) = [
        (r, lab)
        for r, lab in by_id(rows, labels, "ZTF21acobels")
        if r["candidate"]["ndethist"] == 17
    ]
    assert early[1] == "Early SN Ia candidate"
    # Its alert with ndethist=14 has both SuperNNova scores below 0.5 -> nothing fires.
    (late,) = [
        (r, lab)
        for r, lab in by_id(rows, labels, "ZTF21acobels")
        if r["candidate"]["ndethist"] == 14
    ]
    assert late[0]["snn_snia_vs_nonia"] < 0.5 and late[0]["snn_sn_vs_all"] < 0.5
    assert late[1] == "Unknown"
    assert [lab for _, lab in by_id(rows, labels, "ZTF21acoshvy")] == ["Early SN Ia candidate"]


def test_known_asteroids_are_solar_system_mpc(data_dir):
    rows = read_parquet_folder(data_dir / "fink-parquet" / "sample-124-20211122")
    labels = classify(rows)
    # ZTF21acqdcyb = asteroid 4371: roid=3; its snn_snia 0.59 does not make it a SN (not_mpc).
    ((row, label),) = by_id(rows, labels, "ZTF21acqdcyb")
    assert row["roid"] == 3 and row["snn_snia_vs_nonia"] > 0.5
    assert label == "Solar System MPC"

    rows = read_parquet_folder(data_dir / "fink-parquet" / "sso-varstars-20240115")
    labels = classify(rows)
    mpc = [lab for r, lab in zip(rows, labels) if r["roid"] == 3]
    assert len(mpc) == 186
    # One of them has a failed SIMBAD query ("Fail 500"), which is no counterpart.
    assert set(mpc) == {"Solar System MPC"}


def test_tracklets(data_dir):
    rows = read_parquet_folder(data_dir / "fink-parquet" / "sso-varstars-20240115")
    labels = classify(rows)
    ((row, label),) = by_id(rows, labels, "ZTF24aaciatp")
    # roid=2 (Solar System candidate) too, but the tracklet label is set after it.
    assert row["tracklet"].startswith("TRCK_") and row["roid"] == 2
    assert label == "Tracklet"
    assert [lab for _, lab in by_id(rows, labels, "ZTF24aacbkwf")] == ["Tracklet"]
    # The string 'None' and null are no tracklet.
    assert fink_classification({}, {"tracklet": "None"}) == "Unknown"


def test_kilonova_candidates(data_dir):
    """fink-filters' own doctest: the KN filter keeps ZTF25aaugqpe and ZTF25aauurnj."""
    rows = read_parquet_folder(data_dir / "fink-parquet" / "full-schema-2025")
    labels = classify(rows)
    kilonovae = sorted(
        {r["objectId"] for r, lab in zip(rows, labels) if lab == "Kilonova candidate"}
    )
    assert kilonovae == ["ZTF25aaugqpe", "ZTF25aauurnj"]
    # ZTF25aaugqpe with rf_kn 0.47 (< 0.5) at 5.0 days: not a KN, but a SN candidate.
    for r, lab in by_id(rows, labels, "ZTF25aaugqpe"):
        lapse = r["candidate"]["jd"] - r["candidate"]["jdstarthist"]
        if r["rf_kn_vs_nonkn"] > 0.5 and lapse < 5:
            assert lab == "Kilonova candidate"
        else:
            assert lab == "SN candidate"
    assert {lab for r, lab in zip(rows, labels) if r["roid"] == 2} == {"Solar System candidate"}


def test_old_schema_with_mulens_struct_and_old_score_names(data_dir):
    rows = read_parquet_folder(data_dir / "fink-parquet" / "tracklet-20210604")
    assert isinstance(rows[0]["mulens"], dict) and "rfscore" in rows[0]
    labels = classify(rows)
    assert len(labels) == 16
    assert set(labels) <= set(FINK_CLASSES) | set(SIMBAD_OLD_TO_NEW)
    assert (
        fink_classification(
            {}, {"mulens": {"class_1": "ML", "ml_score_1": 0.8, "class_2": "ML", "ml_score_2": 0.6}}
        )
        == "Microlensing candidate"
    )
    assert (
        fink_classification(
            {},
            {"mulens": {"class_1": "ML", "ml_score_1": 0.8, "class_2": "VAR", "ml_score_2": 0.6}},
        )
        == "Unknown"
    )


def _sn_alert() -> tuple[dict, dict]:
    candidate = {
        "ndethist": 5,
        "drb": 0.99,
        "classtar": 0.9,
        "jd": 2460000.5,
        "jdstarthist": 2459990.5,
    }
    fink = {
        "cdsxmatch": "Unknown",
        "roid": 0,
        "mulens": 0.0,
        "snn_snia_vs_nonia": 0.8,
        "snn_sn_vs_all": 0.9,
        "rf_snia_vs_nonia": 0.1,
        "rf_kn_vs_nonkn": 0.0,
        "tracklet": None,
    }
    return candidate, fink


def test_rules_on_edited_alerts():
    candidate, fink = _sn_alert()
    assert fink_classification(candidate, fink) == "SN candidate"
    early = fink_classification(candidate, {**fink, "rf_snia_vs_nonia": 0.9})
    assert early == "Early SN Ia candidate"
    # Microlensing and SN flags together are ambiguous; so are roid=2 and SN.
    assert fink_classification(candidate, {**fink, "mulens": 0.3}) == "Ambiguous"
    assert fink_classification(candidate, {**fink, "roid": 2}) == "Ambiguous"
    # A galaxy host keeps the SN label; a star overrides it with the SIMBAD label.
    assert fink_classification(candidate, {**fink, "cdsxmatch": "Galaxy"}) == "SN candidate"
    assert fink_classification(candidate, {**fink, "cdsxmatch": "RRLyrae"}) == "RRLyrae"
    # Older than 90 days is no SN candidate; a first detection neither.
    assert fink_classification({**candidate, "jdstarthist": 2459900.0}, fink) == "Unknown"
    assert fink_classification({**candidate, "ndethist": 1}, fink) == "Unknown"


def test_missing_and_nan_inputs():
    candidate, fink = _sn_alert()
    assert fink_classification({}, {}) == "Unknown"
    assert fink_classification({k: None for k in candidate}, {k: None for k in fink}) == "Unknown"
    # Old files lack scores: no rule fires on a missing or NaN score.
    for name in ("snn_snia_vs_nonia", "snn_sn_vs_all"):
        fink = {**fink, name: None}
    assert fink_classification(candidate, fink) == "Unknown"
    assert fink_classification(candidate, {**fink, "snn_sn_vs_all": float("nan")}) == "Unknown"
    assert fink_classification({**candidate, "drb": float("nan")}, _sn_alert()[1]) == "Unknown"
    # roid alone, the rest missing.
    assert fink_classification({}, {"roid": 3}) == "Solar System MPC"
    assert fink_classification({}, {"roid": 2, "cdsxmatch": None}) == "Solar System candidate"


def test_prefixed_flat_rows_and_scalar_equals_many():
    candidate, fink = _sn_alert()
    flat = {f"i:{k}": v for k, v in candidate.items()} | {f"d:{k}": v for k, v in fink.items()}
    assert fink_classification(flat, flat) == "SN candidate"
    assert fink_classification_many([candidate, flat], [fink, flat]) == ["SN candidate"] * 2
    with pytest.raises(ValueError):
        fink_classification_many([candidate], [])


def test_class_lists():
    assert len(SIMBAD_CLASSES) == len(set(SIMBAD_CLASSES)) == 198
    assert SIMBAD_OLD_TO_NEW["RRLyr"] == "RRLyrae" and SIMBAD_OLD_TO_NEW["EB*"] == "EclBin"
    assert {"RRLyrae", "EclBin", "YSO_Candidate", "QSO"} <= set(SIMBAD_CLASSES)
    assert {"SN Ia", "SN II", "TDE", "SLSN-I"} <= set(TNS_CLASSES)
    assert "Early SN Ia candidate" in FINK_CLASSES and "Tracklet" in FINK_CLASSES


# --------------------------------------------------------------------------------------------
# Photometry
# --------------------------------------------------------------------------------------------


def test_dc_mag_by_hand():
    # magpsf 18.0 ± 0.1 on a reference source magnr 17.0 ± 0.05, positive subtraction:
    #   f_ref = 10**-6.8, f_diff = 10**-7.2 = 0.398107 f_ref, f = 1.398107 f_ref
    #   mag = 17.0 - 2.5 log10(1.398107) = 17.0 - 0.363852 = 16.636148
    #   err = sqrt((0.1 * 0.398107)**2 + 0.05**2) / 1.398107 = 0.063913 / 1.398107 = 0.045714
    mag, err = dc_mag(1, 18.0, 0.1, 17.0, 0.05, 26.3, "t")
    assert mag == pytest.approx(16.636148, abs=1e-6)
    assert err == pytest.approx(0.045714, abs=1e-6)
    # Negative subtraction: f = (1 - 0.398107) f_ref = 0.601893 f_ref
    #   mag = 17.0 - 2.5 log10(0.601893) = 17.0 + 0.551202 = 17.551202
    mag, _ = dc_mag(2, 18.0, 0.1, 17.0, 0.05, 26.3, "f")
    assert mag == pytest.approx(17.551202, abs=1e-6)
    assert dc_mag(1, 18.0, 0.1, 17.0, 0.05, None, "1")[0] == pytest.approx(16.636148, abs=1e-6)
    # No reference source (magnr < 0), missing magnitude, flux that goes negative: NaN.
    assert math.isnan(dc_mag(1, 18.0, 0.1, -999.0, 0.05, 26.3, "t")[0])
    assert math.isnan(dc_mag(1, None, 0.1, 17.0, 0.05, 26.3, "t")[0])
    assert math.isnan(dc_mag(1, 16.0, 0.1, 17.0, 0.05, 26.3, "f")[0])


def _detections(data_dir) -> pd.DataFrame:
    rows = read_parquet_folder(data_dir / "fink-parquet" / "sample-124-20211122", with_history=True)
    points = [p for r in rows for p in (r["prv_candidates"] or []) + [r["candidate"]]]
    return pd.DataFrame([p for p in points if p["magpsf"] is not None])


def test_dc_mag_vectorised_on_real_detections(data_dir):
    df = _detections(data_dir)
    cols = ["fid", "magpsf", "sigmapsf", "magnr", "sigmagnr", "magzpsci", "isdiffpos"]
    mags, errs = dc_mag(*(df[c].to_numpy() for c in cols))
    assert mags.shape == (len(df),) and len(df) > 1000
    for i in random.Random(0).sample(range(len(df)), 50):
        mag, err = dc_mag(*(df[c].iloc[i] for c in cols))
        np.testing.assert_allclose([mag, err], [mags[i], errs[i]], equal_nan=True)
    # Where the reference source exists and the subtraction is positive, DC <= reference mag.
    positive = (df["magnr"] > 0) & (df["isdiffpos"] == "t")
    assert (mags[positive] <= df["magnr"][positive] + 1e-9).all()


def test_dc_mag_matches_fink_utils_when_installed(data_dir):
    fink_utils = pytest.importorskip("fink_utils.photometry.vect_conversion")
    df = _detections(data_dir)
    with np.errstate(invalid="ignore"):  # log10 of a negative flux
        theirs = fink_utils.vect_dc_mag(
            df["magpsf"].to_numpy(),
            df["sigmapsf"].to_numpy(),
            df["magnr"].to_numpy(),
            df["sigmagnr"].to_numpy(),
            df["isdiffpos"].to_numpy(),
        )
    ours = dc_mag(
        df["fid"],
        df["magpsf"],
        df["sigmapsf"],
        df["magnr"],
        df["sigmagnr"],
        df["magzpsci"],
        df["isdiffpos"],
    )
    finite = np.isfinite(theirs[0])  # fink-utils gives NaN for a negative flux too
    np.testing.assert_allclose(ours[0][finite], theirs[0][finite], rtol=1e-12)
    np.testing.assert_allclose(ours[1][finite], theirs[1][finite], rtol=1e-12)
    assert np.isnan(ours[0][~finite]).all()


def test_mag_to_flux_in_microjansky():
    # AB: 23.9 mag is 1 uJy; 16.4 mag is 10**3 uJy; err = flux * sigma * ln(10) / 2.5.
    flux, err = mag_to_flux(23.9, 0.1)
    assert flux == pytest.approx(1.0) and err == pytest.approx(0.1 * math.log(10) / 2.5, rel=1e-4)
    flux, err = mag_to_flux([16.4, 16.4], [0.05, 0.05], ["t", "f"])
    np.testing.assert_allclose(flux, [1000.0, -1000.0])
    np.testing.assert_allclose(err, [46.05, 46.05], rtol=1e-3)
    assert math.isnan(mag_to_flux(None, 0.1)[0])


# --------------------------------------------------------------------------------------------
# v: columns
# --------------------------------------------------------------------------------------------


def fink_rates_and_colours(points: pd.DataFrame) -> pd.DataFrame:
    """Oracle: the rates and colours of Fink's object API, computed the way it does, with pandas.

    Per band, a rate is the magnitude change since the previous point over the time between;
    each g point is paired with the nearest r point at most 0.3 day away (merge_asof,
    "nearest"); every point then takes the colour of the nearest paired g point within 0.3 day.
    """
    sub = points.sort_values("jd").reset_index(drop=True)
    for band in (1, 2):
        idx = sub["fid"] == band
        djd = sub["jd"][idx].diff()
        sub.loc[idx, "v:rate"] = sub["magpsf"][idx].diff() / djd
        sub.loc[idx, "v:sigma(rate)"] = (
            np.hypot(sub["sigmapsf"][idx], sub["sigmapsf"][idx].shift()) / djd
        )
    cols = ["jd", "magpsf", "sigmapsf"]
    gr = pd.merge_asof(
        sub[sub["fid"] == 1][cols],
        sub[sub["fid"] == 2][cols],
        on="jd",
        suffixes=("_g", "_r"),
        direction="nearest",
        tolerance=0.3,
    )
    gr = gr[gr["magpsf_r"].notna()].copy()
    gr["v:g-r"] = gr["magpsf_g"] - gr["magpsf_r"]
    gr["v:sigma(g-r)"] = np.hypot(gr["sigmapsf_g"], gr["sigmapsf_r"])
    djd = gr["jd"].diff()
    gr["v:rate(g-r)"] = gr["v:g-r"].diff() / djd
    gr["v:sigma(rate(g-r))"] = np.hypot(gr["v:sigma(g-r)"], gr["v:sigma(g-r)"].shift()) / djd
    colour_cols = ["v:g-r", "v:sigma(g-r)", "v:rate(g-r)", "v:sigma(rate(g-r))"]
    return pd.merge_asof(sub, gr[["jd", *colour_cols]], on="jd", direction="nearest", tolerance=0.3)


def _object_points(data_dir, folder: str, object_id: str) -> list[dict]:
    rows = read_parquet_folder(data_dir / "fink-parquet" / folder, with_history=True)
    alert = max((r for r in rows if r["objectId"] == object_id), key=lambda r: r["candidate"]["jd"])
    history = [p for p in alert["prv_candidates"] or [] if p["magpsf"] is not None]
    return history + [alert["candidate"]]


@pytest.mark.parametrize(
    ("folder", "object_id"),
    [
        ("yso-2025", "ZTF19aapqqxh"),
        ("slsn-2025", "ZTF25abcydiy"),
        ("sso-varstars-20240115", "ZTF17aaaihfb"),
    ],
)
def test_rates_and_colours_match_fink(data_dir, folder, object_id):
    points = _object_points(data_dir, folder, object_id)
    random.Random(1).shuffle(points)  # input order must not matter, and is kept
    ours = pd.DataFrame(value_columns_of_object(points))
    ours["jd"] = [p["jd"] for p in points]
    expected = fink_rates_and_colours(pd.DataFrame(points)[["jd", "fid", "magpsf", "sigmapsf"]])
    ours = ours.sort_values("jd").reset_index(drop=True)
    names = [
        "v:rate",
        "v:sigma(rate)",
        "v:g-r",
        "v:sigma(g-r)",
        "v:rate(g-r)",
        "v:sigma(rate(g-r))",
    ]
    for name in names:
        np.testing.assert_allclose(
            ours[name].astype(float),
            expected[name].astype(float),
            equal_nan=True,
            err_msg=name,
        )
    if folder != "sso-varstars-20240115":
        assert ours["v:g-r"].notna().sum() >= 5  # the case is really exercised


def test_value_columns_of_one_alert(data_dir):
    rows = read_parquet_folder(data_dir / "fink-parquet" / "slsn-2025")
    alerts = [
        {"candidate": r["candidate"], "fink": r} for r in rows if r["objectId"] == "ZTF25abixhdc"
    ]
    assert len(alerts) == 10
    newest = max(alerts, key=lambda a: a["candidate"]["jd"])
    values = value_columns(newest, alerts)
    assert tuple(values) == VALUE_COLUMNS

    cand = newest["candidate"]
    assert values["v:classification"] == newest["fink"]["finkclass"]
    assert values["v:lapse"] == pytest.approx(cand["jd"] - cand["jdstarthist"])
    # Fink's format: astropy's ISO, UTC, milliseconds.
    from astropy.coordinates import SkyCoord, get_constellation
    from astropy.time import Time

    assert values["v:lastdate"] == Time(cand["jd"], format="jd").iso
    assert values["v:firstdate"] == Time(cand["jdstarthist"], format="jd").iso
    assert len(values["v:lastdate"]) == len("2025-08-01 05:21:53.999")
    assert values["v:constellation"] == str(
        get_constellation(SkyCoord(cand["ra"], cand["dec"], unit="deg"))
    )
    # Same as the whole-object computation, and not changed by the alert being in the list.
    everything = value_columns_of_object(alerts)
    assert everything[alerts.index(newest)] == values
    assert value_columns(newest, [a for a in alerts if a is not newest]) == values


def test_value_columns_with_missing_inputs():
    rows = [{"jd": 2460000.5, "fid": 1}, {"i:jd": 2460001.5, "i:fid": 1, "i:magpsf": 18.0}, {}]
    out = value_columns_of_object(rows)
    assert [o["v:classification"] for o in out] == ["Unknown"] * 3
    assert out[0]["v:lastdate"] == "2023-02-25 00:00:00.000"
    assert out[2]["v:lastdate"] is None and out[0]["v:firstdate"] is None
    assert all(o["v:rate"] is None and o["v:g-r"] is None for o in out)
    assert all(o["v:constellation"] is None for o in out)
    assert value_columns_of_object([]) == []
    assert value_columns_of_object(rows, with_constellation=False)[1]["v:constellation"] is None


def test_same_time_points_give_no_infinite_rate():
    rows = [
        {"jd": 2460000.5, "fid": 1, "magpsf": 18.0, "sigmapsf": 0.1},
        {"jd": 2460000.5, "fid": 1, "magpsf": 18.2, "sigmapsf": 0.1},
    ]
    assert [o["v:rate"] for o in value_columns_of_object(rows)] == [None, None]


def test_constellations_vectorised_and_cached():
    ra, dec = [10.68458, 83.82208, 10.68458, None], [41.26917, -5.39111, 41.26917, 0.0]
    assert constellations(ra, dec) == ["Andromeda", "Orion", "Andromeda", None]
    assert (10.68458, 41.26917) in derived._CONSTELLATION_CACHE
    assert constellations([], []) == []


def test_jd_to_iso():
    assert jd_to_iso([2451545.0, None]) == ["2000-01-01 12:00:00.000", None]


# -- classification_reason --------------------------------------------------------------------
_REASON_ROWS = {
    "Early SN Ia candidate": (
        {"d:snn_snia_vs_nonia": 0.9, "d:snn_sn_vs_all": 0.95, "d:rf_snia_vs_nonia": 0.8},
        "SuperNNova + random forest",
    ),
    "SN candidate": ({"d:snn_snia_vs_nonia": 0.91, "d:snn_sn_vs_all": 0.97}, "SuperNNova"),
    "Kilonova candidate": ({"d:rf_kn_vs_nonkn": 0.7}, "kilonova classifier"),
    "Microlensing candidate": ({"d:mulens": 0.6}, "LIA microlensing"),
    "Solar System MPC": ({"d:roid": 3}, "asteroid module, known MPC object"),
    "Solar System candidate": ({"d:roid": 2}, "asteroid module, new candidate"),
    "Tracklet": ({"d:tracklet": "TRCK_20200101_000000_00"}, "satellite-glint tracklet"),
    "Ambiguous": ({}, "several modules"),
    "Unknown": ({}, "no module or cross-match"),
    "RRLyr": ({"d:cdsxmatch": "RRLyr"}, "SIMBAD cross-match"),
}


@pytest.mark.parametrize("label", sorted(_REASON_ROWS))
def test_the_reason_names_the_module_that_decided(label):
    row, module = _REASON_ROWS[label]
    reason = derived.classification_reason(label, row)
    assert reason.startswith(module), reason
    for name, value in row.items():
        if name != "d:cdsxmatch":
            assert name[2:] in reason and (f"{value:.2f}" if isinstance(value, float) else str(value)) in reason


def test_every_fink_class_has_a_reason():
    for label in FINK_CLASSES:
        assert derived.classification_reason(label, {}), label

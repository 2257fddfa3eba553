"""Column-wise ingestion writes what straightforward row-by-row ingestion writes.

The reference below builds every row of every alert table the plain way, one dict per alert and
per history point from `read_alerts`, and writes them with ``Manager.batch`` one file at a time
(what ingestion did before it went column-wise; the rules are in alerts/alert_rows.py). The
store that `ingest_paths` fills must hold exactly the same rows, on files of every age and
format, several of them sharing objects and alerts.
"""
from __future__ import annotations

import math
from collections import defaultdict

import msgpack
import pytest

from alerts.alert_rows import night_of
from alerts.derived import fink_classification_many
from alerts.ingest import expand_paths, ingest_paths, refresh_statistics
from alerts.readers import read_alerts
from alerts.schema import CANDIDATE_FIELDS, FINK_FIELDS, PRV_CANDIDATE_FIELDS
from alerts.tables import (
    ALL_TABLES,
    ANOMALY_OFFSET,
    SKY_ORDER,
    Alert,
    AnomalyIndex,
    AsteroidIndex,
    BadQuality,
    ClassIndex,
    Cutout,
    ObjectSummary,
    SkyIndex,
    TimeIndex,
    TrackletIndex,
    UpperLimit,
)
from store import Store

FOLDERS = [
    "fink-parquet/sample-124-20211122",
    "fink-parquet/sso-varstars-20240115",  # long histories
    "fink-parquet/slsn-2025",  # several alerts per object
    "fink-parquet/tracklet-20210604",
    "fink-parquet/mm-20190903",  # 2019 schema
    "fink-parquet/full-schema-2025",
    "fink-avro/kafka-2019-2021",
    "fink-avro/data-transfer-2026",
    "ztf-avro/night-20181129",
    "ztf-avro/all-topics-20231018",  # alerts in two files
    "sso/asteroid-9016-202106",
]
_NOT_A_CLASS = {None, "", "Unknown", "Fail", "nan"}


def _present(row: dict) -> dict:
    return {k: v for k, v in row.items() if v is not None}


def reference_rows(alerts: list[dict]) -> tuple[dict, dict]:
    """(rows by table, history detections by object) of one file, one dict at a time."""
    from astropy import units as u
    from astropy_healpix import HEALPix

    rows, detections = defaultdict(list), defaultdict(list)
    classes = fink_classification_many([a["candidate"] for a in alerts], [a["fink"] for a in alerts])
    hp = HEALPix(nside=2**SKY_ORDER, order="nested")
    alert_keys = {(a["objectId"], a["candidate"]["jd"]) for a in alerts}
    seen = set()
    for alert, cls in zip(alerts, classes):
        oid, cand, fink = alert["objectId"], alert["candidate"], alert["fink"]
        jd = cand["jd"]
        main = _present({f"i:{k}": cand[k] for k in CANDIDATE_FIELDS})
        main.update(_present({f"d:{k}": fink[k] for k in FINK_FIELDS}))
        main.update(_present({"i:objectId": oid, "i:schemavsn": alert["schemavsn"],
                              "i:publisher": alert["publisher"], "d:classification": cls}))
        rows[Alert].append(main)
        stamps = alert["cutouts"]
        if any(stamps.values()):
            row = _present({f"b:cutout{k}_stampData": stamps[k] for k in ("Science", "Template", "Difference")})
            row.update({"i:objectId": oid, "i:jd": jd, "i:candid": alert["candid"]})
            rows[Cutout].append(row)
        for point in alert["prv_candidates"]:
            key = (oid, point["jd"])
            if point["jd"] is None or key in seen or key in alert_keys:
                continue
            seen.add(key)
            row = _present({f"i:{k}": point[k] for k in PRV_CANDIDATE_FIELDS})
            row["i:objectId"] = oid
            (rows[UpperLimit] if point["magpsf"] is None else detections[oid]).append(row)
        index = _present({"i:objectId": oid, "i:jd": jd, "i:candid": alert["candid"], "i:ra": cand["ra"],
                          "i:dec": cand["dec"], "i:jdstarthist": cand["jdstarthist"], "d:classification": cls})
        rows[TimeIndex].append(index)
        pixel = int(hp.lonlat_to_healpix(cand["ra"] * u.deg, cand["dec"] * u.deg))
        rows[SkyIndex].append({**index, "d:pixel": pixel})
        labels = [cls]
        if fink["cdsxmatch"] not in _NOT_A_CLASS and not str(fink["cdsxmatch"]).startswith("Fail"):
            labels.append(f"(SIMBAD) {fink['cdsxmatch']}")
        if fink["tns"] not in _NOT_A_CLASS:
            labels.append(f"(TNS) {fink['tns']}")
        rows[ClassIndex] += [{**index, "d:class": label} for label in labels]
        if cand["ssnamenr"]:
            rows[AsteroidIndex].append({**index, "i:ssnamenr": cand["ssnamenr"]})
        if fink["tracklet"]:
            rows[TrackletIndex].append({**index, "d:tracklet": fink["tracklet"]})
        score = fink["anomaly_score"]
        if score is not None and math.isfinite(score):
            rows[AnomalyIndex].append({**index, "d:anomaly_key": score + ANOMALY_OFFSET, "d:anomaly_score": score})
    return rows, detections


def reference_ingest(store: Store, paths) -> None:
    nights = set()
    for path in paths:
        alerts = [a for batch in read_alerts(path) for a in batch]
        if not alerts:
            continue
        rows, detections = reference_rows(alerts)
        for table, table_rows in rows.items():
            with store[table].batch() as batch:
                for row in table_rows:
                    batch.put(row)
        nights |= {night_of(a["candidate"]["jd"]) for a in alerts}
        # Object summaries and bad-quality points, from the object's alerts in the store.
        for oid in sorted({a["objectId"] for a in alerts}):
            stored = list(store[Alert].scan((oid,)))
            last, jds = stored[-1], {r["i:jd"] for r in stored}
            store[ObjectSummary].put({
                "i:objectId": oid, "i:ra": last.get("i:ra"), "i:dec": last.get("i:dec"),
                "i:firstjd": stored[0]["i:jd"], "i:lastjd": last["i:jd"],
                "i:jdstarthist": last.get("i:jdstarthist"), "i:lastcandid": last.get("i:candid"),
                "d:nalerts": len(stored), "d:classification": last.get("d:classification"),
                "i:ssnamenr": last.get("i:ssnamenr") or None,
            })
            with store[BadQuality].batch() as batch:
                for row in detections.get(oid, ()):
                    if row["i:jd"] not in jds:
                        batch.put(row)
                for jd in jds:
                    batch.delete((oid, jd))
    refresh_statistics(store, nights)


def dump(store: Store) -> dict:
    return {
        table.name: {
            row.key: msgpack.packb(sorted(row.items()), use_bin_type=True)
            for row in store[table].scan(start=b"\x00")
        }
        for table in ALL_TABLES
    }


@pytest.fixture(scope="module")
def files(data_dir):
    found, missing = expand_paths([str(data_dir / folder) for folder in FOLDERS])
    assert not missing
    return found


def test_column_wise_ingest_writes_the_reference_rows(files, tmp_path):
    reference = Store.from_settings({"BACKEND": "embedded", "PATH": str(tmp_path / "reference")})
    reference.create(*ALL_TABLES)
    reference_ingest(reference, files)
    ingested = Store.from_settings({"BACKEND": "embedded", "PATH": str(tmp_path / "ingested")})
    ingested.create(*ALL_TABLES)
    report = ingest_paths(files, store=ingested)
    assert not report.errors
    expected, got = dump(reference), dump(ingested)
    for table in ALL_TABLES:
        assert got[table.name].keys() == expected[table.name].keys(), table.name
        different = [k for k in expected[table.name] if got[table.name][k] != expected[table.name][k]]
        assert not different, (table.name, different[:3])
    assert 1400 < len(got[Alert.name]) < report.total("alerts")  # some alerts are in two files
    assert len(got[UpperLimit.name]) > 1000 and len(got[BadQuality.name]) > 1000

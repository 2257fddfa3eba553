"""Ingestion, checked against facts read from the files themselves, on both backends."""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from alerts.ingest import expand_paths, ingest_paths
from alerts.tables import (
    ALL_TABLES,
    Alert,
    AsteroidIndex,
    BadQuality,
    ClassIndex,
    Cutout,
    NightStatistics,
    ObjectSummary,
    SkyIndex,
    SsoCandidate,
    SsoLightcurve,
    UpperLimit,
)
from store import SchemaRow, Store
from tests.backends import require_hbase, store_settings, unique_prefix

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["embedded", pytest.param("hbase", marks=pytest.mark.hbase)])
def full_store(request, data_dir, tmp_path_factory):
    """Every folder of the data directory ingested once per backend."""
    if request.param == "hbase":
        require_hbase()
        settings = store_settings("hbase", None, prefix=unique_prefix("i"))
    else:
        settings = store_settings("embedded", tmp_path_factory.mktemp("ingest"))
    store = Store.from_settings(settings)
    store.create(*ALL_TABLES)
    files, missing = expand_paths([str(data_dir)])
    report = ingest_paths(files, store=store)
    store.report = report
    yield store
    if request.param == "hbase":
        store.drop(*ALL_TABLES, SchemaRow)
    store.close()


def _parquet_alerts(path: Path):
    """(objectId, jd, prv_candidates) straight from a Fink Parquet file."""
    table = pq.read_table(path, columns=["objectId", "candidate", "prv_candidates"])
    oids = table.column("objectId").to_pylist()
    cands = table.column("candidate").to_pylist()
    prvs = table.column("prv_candidates").to_pylist()
    return list(zip(oids, cands, prvs))


def _facts(data_dir: Path, folder: str):
    """Per object: alert jds, upper-limit jds, from the files."""
    alerts, limits = defaultdict(set), defaultdict(set)
    for path in sorted((data_dir / folder).glob("*.parquet")):
        for oid, cand, prv in _parquet_alerts(path):
            alerts[oid].add(cand["jd"])
            for p in prv or []:
                if p["magpsf"] is None:
                    limits[oid].add(p["jd"])
    return alerts, limits


def test_every_alert_file_ingested_without_error(full_store):
    report = full_store.report
    assert report.errors == []
    kinds = {f.kind for f in report.files}
    assert {"alerts-parquet", "alerts-avro", "sso-aggregated", "fink-fat-orbits", "fink-fat-trajectories"} <= kinds
    assert report.total("alerts") > 1500


@pytest.mark.parametrize("folder", ["fink-parquet/sample-124-20211122", "fink-parquet/sso-varstars-20240115", "fink-parquet/yso-2025"])
def test_alert_and_upper_limit_counts_match_the_files(full_store, data_dir, folder):
    alerts, limits = _facts(data_dir, folder)
    for oid in sorted(alerts, key=lambda o: -len(alerts[o]))[:5]:
        rows = list(full_store[Alert].scan((oid,), columns=["i:jd"]))
        stored = {r["i:jd"] for r in rows}
        assert alerts[oid] <= stored, oid  # other folders may hold more alerts of the object
        summary = full_store[ObjectSummary].get((oid,))
        assert summary["d:nalerts"] == len(rows)
        assert summary["i:firstjd"] == min(stored) and summary["i:lastjd"] == max(stored)
        ul = {r["i:jd"] for r in full_store[UpperLimit].scan((oid,), columns=["i:jd"])}
        assert limits[oid] <= ul, oid


def test_long_light_curve_object(full_store, data_dir):
    """ZTF17aaaihfb (W UMa binary): its alert and its ~500 history detections are all stored."""
    alerts, _ = _facts(data_dir, "fink-parquet/sso-varstars-20240115")
    oid = "ZTF17aaaihfb"
    assert oid in alerts
    detections = set()
    for path in sorted((data_dir / "fink-parquet/sso-varstars-20240115").glob("*.parquet")):
        for o, cand, prv in _parquet_alerts(path):
            if o == oid:
                detections |= {p["jd"] for p in prv or [] if p["magpsf"] is not None}
    bad = {r["i:jd"] for r in full_store[BadQuality].scan((oid,), columns=["i:jd"])}
    valid = {r["i:jd"] for r in full_store[Alert].scan((oid,), columns=["i:jd"])}
    assert len(detections) > 400
    assert detections <= bad | valid
    assert not (bad & valid)  # a point is an alert or a bad-quality point, never both


def test_classification_is_stored(full_store, data_dir):
    """Alerts carrying Fink's own `finkclass` agree with the stored classification."""
    table = pq.read_table(data_dir / "fink-parquet/slsn-2025/few_SLSN_alerts.parquet", columns=["objectId", "candidate", "finkclass"])
    for oid, cand, finkclass in zip(*(table.column(c).to_pylist() for c in ("objectId", "candidate", "finkclass"))):
        row = full_store[Alert].get((oid, cand["jd"]), columns=["d:classification"])
        assert row["d:classification"] == finkclass, oid


def test_solar_system_alerts_by_ssnamenr(full_store, data_dir):
    table = pq.read_table(data_dir / "sso/asteroid-9016-202106", columns=["candidate"])
    expected = {c["jd"] for c in table.column("candidate").to_pylist() if c["ssnamenr"] == "9016"}
    assert len(expected) == 58
    rows = list(full_store[AsteroidIndex].scan(("9016",)))
    assert {r["i:jd"] for r in rows} == expected
    assert {r["i:ssnamenr"] for r in rows} == {"9016"}


def test_sky_index_finds_every_alert_at_its_position(full_store, data_dir):
    from astropy import units as u
    from astropy_healpix import HEALPix

    hp = HEALPix(nside=2**16, order="nested")
    table = pq.read_table(data_dir / "fink-parquet/sample-124-20211122", columns=["objectId", "candidate"])
    for oid, cand in zip(table.column("objectId").to_pylist(), table.column("candidate").to_pylist()):
        pixel = int(hp.lonlat_to_healpix(cand["ra"] * u.deg, cand["dec"] * u.deg))
        found = {r["i:objectId"] for r in full_store[SkyIndex].scan((pixel,))}
        assert oid in found


def test_class_index_and_statistics(full_store):
    early = list(full_store[ClassIndex].scan(("Early SN Ia candidate",), reverse=True, limit=5))
    assert early and all(r["d:class"] == "Early SN Ia candidate" for r in early)
    assert [r["i:jd"] for r in early] == sorted((r["i:jd"] for r in early), reverse=True)
    nights = list(full_store[NightStatistics].scan(("ztf",)))
    assert sum(n["s:alerts"] for n in nights) == sum(1 for _ in full_store[Alert].scan(start=b"\x00", columns=["i:jd"]))
    night = next(n for n in nights if n["s:night"] == "20240115")
    assert night["s:alerts"] >= 849 - 10 and sum(night["s:classes"].values()) == night["s:alerts"]


def test_cutouts_and_sso_tables(full_store):
    cut = full_store[Cutout].get(("ZTF21acqdcyb", next(iter(full_store[Alert].scan(("ZTF21acqdcyb",), columns=["i:jd"])))["i:jd"]))
    assert cut["b:cutoutScience_stampData"][:2] == b"\x1f\x8b"  # gzipped FITS as in the file
    assert list(full_store[SsoLightcurve].scan(start=b"\x00", limit=1))
    orbits = list(full_store[SsoCandidate].scan(("orbParams",), limit=3))
    assert orbits and "a" in orbits[0]["d:data"]


# -- idempotence, crashes, parallel runs, bad files --------------------------------------------------
def _comparable(value):
    """NaN made equal to itself, recursively (NaN != NaN would make equal stores differ)."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def dump(store: Store) -> dict:
    """Every row of every alert table, for comparing two stores."""
    return {
        table.name: {r.key: _comparable(dict(r)) for r in store[table].scan(start=b"\x00")}
        for table in ALL_TABLES
    }


SUBSET = ["fink-parquet/sample-124-20211122", "fink-parquet/slsn-2025", "ztf-avro/night-20181129", "fink-avro/kafka-2019-2021"]


def _fresh(tmp_path, name):
    store = Store.from_settings(store_settings("embedded", tmp_path / name))
    store.create(*ALL_TABLES)
    return store


def test_reingest_changes_nothing(tmp_path, data_dir):
    store = _fresh(tmp_path, "a")
    files, _ = expand_paths([str(data_dir / f) for f in SUBSET])
    ingest_paths(files, store=store)
    first = dump(store)
    ingest_paths(files, store=store)
    assert dump(store) == first
    ingest_paths(list(reversed(files)), store=store)  # another order: same store
    assert dump(store) == first


@pytest.mark.hbase
def test_reingest_changes_nothing_on_hbase(data_dir):
    require_hbase()
    store = Store.from_settings(store_settings("hbase", None, prefix=unique_prefix("r")))
    store.create(*ALL_TABLES)
    try:
        files, _ = expand_paths([str(data_dir / "fink-parquet/sample-124-20211122")])
        ingest_paths(files, store=store)
        first = dump(store)
        ingest_paths(files, store=store)
        assert dump(store) == first
        assert len(first["ztf"]) == 124
    finally:
        store.drop(*ALL_TABLES, SchemaRow)


def _ingest_cmd(env, *paths):
    return [sys.executable, str(REPO / "manage.py"), "ingest", "--no-progress", *paths]


def _env(**extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def test_crash_mid_run_then_restart_gives_a_complete_store(tmp_path, data_dir):
    reference = _fresh(tmp_path, "ref")
    paths = [str(data_dir / "fink-parquet")]
    ingest_paths(expand_paths(paths)[0], store=reference)
    expected = dump(reference)
    reference.close()

    target = tmp_path / "crash"
    env = _env(STORE_BACKEND="embedded", STORE_PATH=str(target))
    proc = subprocess.Popen(_ingest_cmd(env, *paths), env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once it has written some alerts but before it ends.
    probe = Store.from_settings({"BACKEND": "embedded", "PATH": str(target)})
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if sum(1 for _ in probe[Alert].scan(start=b"\x00", columns=["i:jd"], limit=200)) >= 100:
                break
        except Exception:
            pass
        time.sleep(0.05)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed, "the ingest ended before it could be killed"
    assert dump(probe) != expected  # it really stopped half-way
    subprocess.run(_ingest_cmd(env, *paths), env=env, cwd=REPO, check=True, capture_output=True)
    assert dump(probe) == expected


def test_two_ingest_processes_at_once(tmp_path, data_dir):
    """Two writers on the embedded store: the second waits for the first's batches; all lands."""
    target = tmp_path / "par"
    env = _env(STORE_BACKEND="embedded", STORE_PATH=str(target))
    a = [str(data_dir / "fink-parquet/sso-varstars-20240115")]
    b = [str(data_dir / "fink-parquet/sample-124-20211122"), str(data_dir / "ztf-avro")]
    procs = [subprocess.Popen(_ingest_cmd(env, *p), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in (a, b)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    together = Store.from_settings({"BACKEND": "embedded", "PATH": str(target)})
    reference = _fresh(tmp_path, "seq")
    ingest_paths(expand_paths(a + b)[0], store=reference)
    assert dump(together)["ztf"] == dump(reference)["ztf"]
    assert dump(together)["upper_limits"] == dump(reference)["upper_limits"]


@pytest.mark.hbase
def test_two_ingest_processes_at_once_on_hbase(data_dir):
    require_hbase()
    prefix = unique_prefix("p")
    settings = store_settings("hbase", None, prefix=prefix)
    store = Store.from_settings(settings)
    store.create(*ALL_TABLES)
    env = _env(STORE_BACKEND="hbase", HBASE_TABLE_PREFIX=prefix, HBASE_PORT=str(settings["HBASE_PORT"]))
    try:
        a = [str(data_dir / "fink-parquet/sample-124-20211122")]
        b = [str(data_dir / "fink-parquet/slsn-2025"), str(data_dir / "ztf-avro/night-20181129")]
        procs = [subprocess.Popen(_ingest_cmd(env, *p), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in (a, b)]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err.decode()
        assert sum(1 for _ in store[Alert].scan(start=b"\x00", columns=["i:jd"])) == 124 + 55 + 31
    finally:
        store.drop(*ALL_TABLES, SchemaRow)


def _bad_files(tmp_path: Path, data_dir: Path) -> dict[str, Path]:
    real_parquet = next((data_dir / "fink-parquet/sample-124-20211122").glob("*.parquet"))
    real_avro = next((data_dir / "ztf-avro/night-20181129").glob("*.avro"))
    files = {}
    data = real_parquet.read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(data[: len(data) // 2])
    files["truncated parquet"] = tmp_path / "truncated.parquet"
    data = real_avro.read_bytes()
    (tmp_path / "truncated.avro").write_bytes(data[: len(data) // 2])
    files["truncated avro"] = tmp_path / "truncated.avro"
    (tmp_path / "empty.parquet").write_bytes(b"")
    files["empty"] = tmp_path / "empty.parquet"
    (tmp_path / "garbage.avro").write_bytes(os.urandom(5000))
    files["corrupt"] = tmp_path / "garbage.avro"
    (tmp_path / "notes.parquet").write_text("this is not an alert file\n" * 20)
    files["unknown format"] = tmp_path / "notes.parquet"
    return files


@pytest.mark.parametrize("case", ["truncated parquet", "truncated avro", "empty", "corrupt", "unknown format"])
def test_bad_file_is_reported_and_the_others_still_ingested(tmp_path, data_dir, case):
    bad = _bad_files(tmp_path, data_dir)[case]
    good = data_dir / "fink-parquet/slsn-2025"
    target = tmp_path / "store"
    env = _env(STORE_BACKEND="embedded", STORE_PATH=str(target))
    result = subprocess.run(_ingest_cmd(env, str(bad), str(good)), env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith(str(bad) + ":"), result.stderr
    store = Store.from_settings({"BACKEND": "embedded", "PATH": str(target)})
    keys = [r.key for r in store[Alert].scan(start=b"\x00", columns=["i:jd"])]
    good_ids = set(pq.read_table(good, columns=["objectId"]).column("objectId").to_pylist())
    assert len(keys) == 55  # the good file's alerts, nothing from the bad one
    assert {k.split("_")[0] for k in keys} == good_ids


def test_missing_path_is_an_error(tmp_path):
    env = _env(STORE_BACKEND="embedded", STORE_PATH=str(tmp_path / "s"))
    result = subprocess.run(_ingest_cmd(env, str(tmp_path / "nope")), env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert "no such file" in result.stderr

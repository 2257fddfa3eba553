"""Ingestion: alert files into the alert tables and their indexes.

A file is read whole and turned into rows before anything is written, so a corrupt or truncated
file writes nothing. Row keys are deterministic (``objectId_jd``...), so ingesting a file again,
or again after a crash, rewrites the same rows: no duplicates, same counts. Derived rows that
depend on more than one file (object summaries, bad-quality points, per-night statistics) are
recomputed from the store for the objects and nights a run touched, never incremented.
"""
from __future__ import annotations

import glob
import math
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from store import Store, get_store

from .derived import fink_classification_many
from .readers import (
    ALERT_KINDS,
    UnreadableFile,
    read_alerts,
    read_fink_fat,
    read_sso_aggregated,
    sniff,
)
from .schema import CANDIDATE_FIELDS, FINK_FIELDS, PRV_CANDIDATE_FIELDS
from .tables import (
    ANOMALY_OFFSET,
    SKY_ORDER,
    Alert,
    AnomalyIndex,
    AsteroidIndex,
    BadQuality,
    ClassIndex,
    Cutout,
    NightStatistics,
    ObjectSummary,
    SkyIndex,
    SsoCandidate,
    SsoLightcurve,
    TimeIndex,
    TrackletIndex,
    UpperLimit,
)

INGESTABLE_SUFFIXES = (".parquet", ".avro", ".parq")
WRITE_BATCH = 2000

_CANDIDATE_COLUMNS = [(name, f"i:{name}") for name in CANDIDATE_FIELDS]
_FINK_COLUMNS = [(name, f"d:{name}") for name in FINK_FIELDS]
_PRV_COLUMNS = [(name, f"i:{name}") for name in PRV_CANDIDATE_FIELDS]
_NOT_A_CLASS = {None, "", "Unknown", "Fail", "nan"}


@dataclass
class FileOutcome:
    path: str
    kind: str
    alerts: int = 0
    objects: int = 0
    upper_limits: int = 0
    bad_quality: int = 0
    other_rows: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    """What a run did: per-file outcomes and totals."""

    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[FileOutcome]:
        return [f for f in self.files if f.error]

    @property
    def skipped(self) -> list[FileOutcome]:
        return [f for f in self.files if not f.error and f.kind.startswith("other:")]

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def rate(self) -> float:
        return self.total("alerts") / self.seconds if self.seconds else 0.0


# -- finding files -------------------------------------------------------------------------------
def expand_paths(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Files to ingest from files, folders (walked recursively) and glob patterns.

    Returns the files (sorted, each once) and the arguments that matched nothing. Inside folders
    only Parquet and Avro files are taken; a file named explicitly is always taken (and sniffed).
    """
    files: dict[Path, None] = {}
    missing = []
    for arg in paths:
        matches = [Path(p) for p in sorted(glob.glob(arg, recursive=True))] if glob.has_magic(arg) else [Path(arg)]
        found = False
        for match in matches:
            if match.is_dir():
                for root, _dirs, names in os.walk(match):
                    for name in sorted(names):
                        if name.lower().endswith(INGESTABLE_SUFFIXES) and not name.startswith("."):
                            files[Path(root) / name] = None
                            found = True
            elif match.is_file():
                files[match] = None
                found = True
        if not found:
            missing.append(arg)
    return sorted(files), missing


# -- rows from alerts ------------------------------------------------------------------------------
def _night(jd: float) -> str:
    """UTC date (YYYYMMDD) of a Julian date."""
    days = math.floor(jd - 2440587.5)  # days since 1970-01-01
    return time.strftime("%Y%m%d", time.gmtime(days * 86400))


def _finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _sky_pixels(ra: list[float], dec: list[float]) -> np.ndarray:
    from astropy import units as u
    from astropy_healpix import HEALPix

    hp = HEALPix(nside=2**SKY_ORDER, order="nested")
    return hp.lonlat_to_healpix(np.asarray(ra, float) * u.deg, np.asarray(dec, float) * u.deg)


@dataclass
class AlertRows:
    """The rows one file's alerts become, by table."""

    rows: dict[type, list[dict]] = field(default_factory=lambda: defaultdict(list))
    objects: set[str] = field(default_factory=set)
    nights: set[str] = field(default_factory=set)
    detections: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))


def build_rows(alerts: list[dict]) -> AlertRows:
    """Turn normalized alerts (``readers.read_alerts``) into rows of every alert table."""
    out = AlertRows()
    if not alerts:
        return out
    candidates = [a["candidate"] for a in alerts]
    finks = [a["fink"] for a in alerts]
    classes = fink_classification_many(candidates, finks)
    pixels = _sky_pixels([c["ra"] for c in candidates], [c["dec"] for c in candidates])
    rows = out.rows
    seen_history: set[tuple[str, float]] = set()
    alert_keys = {(a["objectId"], a["candidate"]["jd"]) for a in alerts}
    for alert, cls, pixel in zip(alerts, classes, pixels):
        oid = alert["objectId"]
        cand, fink = alert["candidate"], alert["fink"]
        jd = cand["jd"]
        main = {column: cand[name] for name, column in _CANDIDATE_COLUMNS}
        main.update({column: fink[name] for name, column in _FINK_COLUMNS})
        main["i:objectId"] = oid
        main["i:schemavsn"] = alert["schemavsn"]
        main["i:publisher"] = alert["publisher"]
        main["d:classification"] = cls
        rows[Alert].append(main)
        out.objects.add(oid)
        out.nights.add(_night(jd))

        cutouts = alert["cutouts"]
        if any(cutouts.values()):
            rows[Cutout].append(
                {
                    "i:objectId": oid,
                    "i:jd": jd,
                    "i:candid": alert["candid"],
                    "b:cutoutScience_stampData": cutouts["Science"],
                    "b:cutoutTemplate_stampData": cutouts["Template"],
                    "b:cutoutDifference_stampData": cutouts["Difference"],
                }
            )

        for point in alert["prv_candidates"]:
            pjd = point["jd"]
            if pjd is None or (oid, pjd) in seen_history or (oid, pjd) in alert_keys:
                continue
            seen_history.add((oid, pjd))
            row = {column: point[name] for name, column in _PRV_COLUMNS}
            row["i:objectId"] = oid
            if point["magpsf"] is None:
                rows[UpperLimit].append(row)
            else:
                out.detections[oid].append(row)

        index = {
            "i:objectId": oid,
            "i:jd": jd,
            "i:candid": alert["candid"],
            "i:ra": cand["ra"],
            "i:dec": cand["dec"],
            "i:jdstarthist": cand["jdstarthist"],
            "d:classification": cls,
        }
        rows[TimeIndex].append(index)
        rows[SkyIndex].append({**index, "d:pixel": int(pixel)})
        for label in _class_labels(cls, fink):
            rows[ClassIndex].append({**index, "d:class": label})
        if cand["ssnamenr"]:
            rows[AsteroidIndex].append({**index, "i:ssnamenr": str(cand["ssnamenr"])})
        if fink["tracklet"]:
            rows[TrackletIndex].append({**index, "d:tracklet": fink["tracklet"]})
        score = fink.get("anomaly_score")
        if _finite(score):
            rows[AnomalyIndex].append(
                {**index, "d:anomaly_key": score + ANOMALY_OFFSET, "d:anomaly_score": score}
            )
    return out


def _class_labels(classification: str, fink: dict) -> list[str]:
    """The class names an alert is listed under (Fink's, SIMBAD's and TNS's)."""
    labels = [classification]
    simbad = fink.get("cdsxmatch")
    if simbad not in _NOT_A_CLASS and not str(simbad).startswith("Fail"):
        labels.append(f"(SIMBAD) {simbad}")
    tns = fink.get("tns")
    if tns not in _NOT_A_CLASS:
        labels.append(f"(TNS) {tns}")
    return labels


# -- writing ---------------------------------------------------------------------------------------
_WRITE_ORDER = [Alert, Cutout, UpperLimit, TimeIndex, SkyIndex, ClassIndex, AsteroidIndex, TrackletIndex, AnomalyIndex]


def _write(store: Store, table, rows: list[dict]) -> None:
    with store[table].batch(size=WRITE_BATCH) as batch:
        for row in rows:
            batch.put(row)


def write_alert_rows(store: Store, built: AlertRows, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write the rows of one file, then recompute what depends on other files.

    Returns (number of objects touched, number of bad-quality points written).
    """
    for table in _WRITE_ORDER:
        rows = built.rows.get(table)
        if rows:
            _write(store, table, rows)
        if table is Alert and progress:
            progress(len(rows or ()))
    bad = refresh_objects(store, built.objects, built.detections)
    return len(built.objects), bad


def refresh_objects(store: Store, object_ids: Iterable[str], detections: dict[str, list[dict]] | None = None) -> int:
    """Recompute the summary row of each object from its alerts, and its bad-quality points.

    A history detection is a bad-quality point only if the object has no alert at that jd; when an
    alert arrives for a jd that was stored as bad-quality earlier, that point is removed.
    """
    detections = detections or {}
    summaries, bad_rows, stale = [], [], []
    columns = ["i:jd", "i:ra", "i:dec", "i:candid", "i:jdstarthist", "i:ssnamenr", "d:classification"]
    for oid in sorted(object_ids):
        with store[Alert].scan((oid,), columns=columns) as scan:
            alerts = list(scan)
        if not alerts:
            continue
        last = alerts[-1]
        alert_jds = {a["i:jd"] for a in alerts}
        summaries.append(
            {
                "i:objectId": oid,
                "i:ra": last.get("i:ra"),
                "i:dec": last.get("i:dec"),
                "i:firstjd": alerts[0]["i:jd"],
                "i:lastjd": last["i:jd"],
                "i:jdstarthist": last.get("i:jdstarthist"),
                "i:lastcandid": last.get("i:candid"),
                "d:nalerts": len(alerts),
                "d:classification": last.get("d:classification"),
                "i:ssnamenr": last.get("i:ssnamenr") or None,
            }
        )
        bad_rows.extend(r for r in detections.get(oid, ()) if r["i:jd"] not in alert_jds)
        stale.extend((oid, jd) for jd in alert_jds)
    _write(store, ObjectSummary, summaries)
    _write(store, BadQuality, bad_rows)
    with store[BadQuality].batch(size=WRITE_BATCH) as batch:
        for key in stale:
            batch.delete(key)
    return len(bad_rows)


def _jd_of_night(night: str) -> float:
    t = time.strptime(night, "%Y%m%d")
    return 2440587.5 + (time.mktime(t) - time.mktime(time.strptime("19700101", "%Y%m%d"))) / 86400


def refresh_statistics(store: Store, nights: Iterable[str]) -> None:
    """Recount each night from the time index (idempotent, whatever was ingested before)."""
    rows = []
    for night in sorted(set(nights)):
        start = _jd_of_night(night)
        alerts, objects, classes = 0, set(), Counter()
        with store[TimeIndex].scan(
            start=f"{start:.7f}", stop=f"{start + 1:.7f}", columns=["i:objectId", "d:classification"]
        ) as scan:
            for row in scan:
                alerts += 1
                objects.add(row["i:objectId"])
                classes[row.get("d:classification") or "Unknown"] += 1
        rows.append(
            {
                "s:survey": "ztf",
                "s:night": night,
                "s:alerts": alerts,
                "s:objects": len(objects),
                "s:classes": dict(classes),
            }
        )
    _write(store, NightStatistics, rows)


# -- other files --------------------------------------------------------------------------------
def _sso_aggregated_rows(path) -> list[dict]:
    return [{"d:ssnamenr": str(row["ssnamenr"]), "d:data": row} for row in read_sso_aggregated(path)]


def _fink_fat_rows(path, kind: str) -> list[dict]:
    label = "orbParams" if kind == "fink-fat-orbits" else "lightcurves"
    rows, rank = [], Counter()
    for row in read_fink_fat(path):
        cand = str(row["ssoCandId"])
        rows.append(
            {
                "d:kind": label,
                "d:ssoCandId": cand,
                "d:rank": rank[cand],
                "d:jd": row.get("jd") if row.get("jd") is not None else row.get("ref_epoch"),
                "d:data": row,
            }
        )
        rank[cand] += 1
    return rows


# -- the service ---------------------------------------------------------------------------------
def ingest_file(store: Store, path: Path, progress: Callable[[int], None] | None = None) -> tuple[FileOutcome, set[str]]:
    """Ingest one file. Returns its outcome and the nights it touched.

    Any reading error is reported in the outcome (nothing of that file is written); store errors
    propagate (the run cannot go on without its store).
    """
    try:
        kind = sniff(path)
        if kind in ALERT_KINDS:
            alerts = [a for batch in read_alerts(path) for a in batch]
            built = build_rows(alerts)
        elif kind == "sso-aggregated":
            other = (SsoLightcurve, _sso_aggregated_rows(path))
        elif kind in ("fink-fat-orbits", "fink-fat-trajectories"):
            other = (SsoCandidate, _fink_fat_rows(path, kind))
    except UnreadableFile as exc:
        return FileOutcome(str(path), "unreadable", error=exc.reason), set()
    except (ValueError, KeyError, TypeError) as exc:  # a file that reads but does not make sense
        return FileOutcome(str(path), "unreadable", error=f"invalid content: {exc}"), set()
    outcome = FileOutcome(str(path), kind)
    if kind in ALERT_KINDS:
        outcome.objects, outcome.bad_quality = write_alert_rows(store, built, progress)
        outcome.alerts = len(built.rows[Alert])
        outcome.upper_limits = len(built.rows[UpperLimit])
        return outcome, built.nights
    if kind.startswith("other:"):
        return outcome, set()
    table, rows = other
    _write(store, table, rows)
    outcome.other_rows = len(rows)
    return outcome, set()


def ingest_paths(paths: Iterable[Path], *, store: Store | None = None, progress=None) -> IngestReport:
    """Ingest files one after the other, then refresh the statistics of the nights touched."""
    store = store or get_store()
    report = IngestReport()
    started = time.perf_counter()
    nights: set[str] = set()
    for path in paths:
        outcome, touched = ingest_file(store, Path(path), progress)
        report.files.append(outcome)
        nights |= touched
    refresh_statistics(store, nights)
    report.seconds = time.perf_counter() - started
    return report

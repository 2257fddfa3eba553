"""Ingestion: alert files into the alert tables and their indexes.

A file is read whole and turned into rows before anything is written, so a corrupt or truncated
file writes nothing. Row keys are deterministic (``objectId_jd``...), so ingesting a file again,
or again after a crash, rewrites the same rows: no duplicates, same counts. Derived rows that
depend on more than one file (object summaries, bad-quality points, per-night statistics) are
recomputed from the store for the objects and nights a run touched, never incremented.

Speed: a run reads small files whole, one after the other, and writes their rows together once
about ``CHUNK_ALERTS`` alerts are pending (one write transaction per table and batch instead of
one per file and table; object summaries refreshed once per chunk). Rows are built with C-level
``dict(zip(...))`` from the readers' canonical dicts, whose values already have their column's
type, which the store's write plans check cheaply. ``workers`` > 1 spreads files over processes.
"""
from __future__ import annotations

import glob
import math
import multiprocessing
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_not, itemgetter
from pathlib import Path

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
WRITE_BATCH = 10000  # rows per store batch: one LMDB transaction (a sync) / HBase round trips of 1,000
CHUNK_ALERTS = 2000  # alerts of small files read before they are written together

# Readers give every key of these field sets: rows are made by zipping the values, in order,
# with the column names (C-level, no per-cell Python).
_CANDIDATE_VALUES = itemgetter(*CANDIDATE_FIELDS)
_CANDIDATE_COLUMNS = tuple(f"i:{name}" for name in CANDIDATE_FIELDS)
_FINK_VALUES = itemgetter(*FINK_FIELDS)
_FINK_COLUMNS = tuple(f"d:{name}" for name in FINK_FIELDS)
_PRV_VALUES = itemgetter(*PRV_CANDIDATE_FIELDS)
_PRV_COLUMNS = tuple(f"i:{name}" for name in PRV_CANDIDATE_FIELDS)
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
    return _night_of_day(math.floor(jd - 2440587.5))  # days since 1970-01-01


def _night_of_day(days: int, cache: dict[int, str] = {}) -> str:  # noqa: B006 (a cache)
    night = cache.get(days)
    if night is None:
        night = cache[days] = time.strftime("%Y%m%d", time.gmtime(days * 86400))
    return night


def _finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _sky_pixels(ra: list[float], dec: list[float]) -> np.ndarray:
    from astropy import units as u

    hp = _healpix()
    return hp.lonlat_to_healpix(np.asarray(ra, float) * u.deg, np.asarray(dec, float) * u.deg)


def _healpix(cache: list = []):  # noqa: B006 (a cache: astropy is imported on first use only)
    if not cache:
        from astropy_healpix import HEALPix

        cache.append(HEALPix(nside=2**SKY_ORDER, order="nested"))
    return cache[0]


_CUTOUT_COLUMNS = ("b:cutoutScience_stampData", "b:cutoutTemplate_stampData", "b:cutoutDifference_stampData")


def _present(columns: tuple[str, ...], values: tuple) -> dict:
    """``{column: value}`` for the values that are not None (C-level: no per-cell bytecode).

    Rows built from a file leave out its null fields rather than write them as "remove this
    cell": ingestion adds what a file says and never erases what another file said. The same
    alert comes raw from ZTF and enriched from Fink, the same history point with the history of
    many alerts, some of an older schema lacking fields a newer one gave. On HBase it also
    spares a column delete per empty field, which costs the server as much as about 7 puts.
    """
    return dict(compress(zip(columns, values), map(is_not, values, repeat(None))))


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
    pixels = _sky_pixels([c["ra"] for c in candidates], [c["dec"] for c in candidates]).tolist()
    rows = out.rows
    main_rows, cutout_rows, upper_limits = rows[Alert], rows[Cutout], rows[UpperLimit]
    time_rows, sky_rows, class_rows = rows[TimeIndex], rows[SkyIndex], rows[ClassIndex]
    detections, objects, nights = out.detections, out.objects, out.nights
    seen_history: set[tuple[str, float]] = set()
    alert_keys = {(a["objectId"], a["candidate"]["jd"]) for a in alerts}
    for alert, cls, pixel in zip(alerts, classes, pixels):
        oid = alert["objectId"]
        cand, fink = alert["candidate"], alert["fink"]
        jd = cand["jd"]
        main = _present(_CANDIDATE_COLUMNS, _CANDIDATE_VALUES(cand))
        main.update(_present(_FINK_COLUMNS, _FINK_VALUES(fink)))
        main["i:objectId"] = oid
        if alert["schemavsn"] is not None:
            main["i:schemavsn"] = alert["schemavsn"]
        if alert["publisher"] is not None:
            main["i:publisher"] = alert["publisher"]
        main["d:classification"] = cls
        main_rows.append(main)
        objects.add(oid)
        nights.add(_night(jd))

        cutouts = alert["cutouts"]
        if any(cutouts.values()):
            stamps = (cutouts["Science"], cutouts["Template"], cutouts["Difference"])
            row = _present(_CUTOUT_COLUMNS, stamps)
            row.update({"i:objectId": oid, "i:jd": jd, "i:candid": alert["candid"]})
            cutout_rows.append(row)

        for point in alert["prv_candidates"]:
            pjd = point["jd"]
            if pjd is None:
                continue
            key = (oid, pjd)
            if key in seen_history or key in alert_keys:
                continue
            seen_history.add(key)
            row = _present(_PRV_COLUMNS, _PRV_VALUES(point))
            row["i:objectId"] = oid
            if point["magpsf"] is None:
                upper_limits.append(row)
            else:
                detections[oid].append(row)

        index = {
            "i:objectId": oid,
            "i:jd": jd,
            "i:candid": alert["candid"],
            "i:ra": cand["ra"],
            "i:dec": cand["dec"],
            "i:jdstarthist": cand["jdstarthist"],
            "d:classification": cls,
        }
        if index["i:jdstarthist"] is None:
            del index["i:jdstarthist"]
        time_rows.append(index)
        sky_rows.append({**index, "d:pixel": pixel})
        for label in _class_labels(cls, fink):
            class_rows.append({**index, "d:class": label})
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
    bad = _refresh_objects(store, built.objects, built.detections)
    return len(built.objects), len(bad)


def refresh_objects(store: Store, object_ids: Iterable[str], detections: dict[str, list[dict]] | None = None) -> int:
    """Recompute the summary row of each object from its alerts, and its bad-quality points.

    A history detection is a bad-quality point only if the object has no alert at that jd; when an
    alert arrives for a jd that was stored as bad-quality earlier, that point is removed.
    Returns the number of bad-quality points written.
    """
    return len(_refresh_objects(store, object_ids, detections))


def _refresh_objects(store: Store, object_ids: Iterable[str], detections: dict[str, list[dict]] | None = None) -> list[tuple[str, float]]:
    """`refresh_objects`, returning the (objectId, jd) of each bad-quality point written."""
    detections = detections or {}
    summaries, bad_rows, stale = [], [], []
    for oid, alerts in _alerts_of_objects(store, sorted(object_ids)):
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
    return [(row["i:objectId"], row["i:jd"]) for row in bad_rows]


_SUMMARY_INPUTS = ["i:jd", "i:ra", "i:dec", "i:candid", "i:jdstarthist", "i:ssnamenr", "d:classification"]
# An HBase scan is four round trips to the Thrift server: overlap them (the backend's pool holds
# 4 connections by default). A local LMDB scan is a few microseconds: threads would only add
# GIL hand-offs.
_SCAN_THREADS = {"hbase": 4}


def _alerts_of_objects(store: Store, object_ids: list[str]) -> Iterable[tuple[str, list]]:
    """(objectId, its alerts' summary columns) for each object, in the order given."""

    def alerts_of(oid: str) -> list:
        with store[Alert].scan((oid,), columns=_SUMMARY_INPUTS) as scan:
            return list(scan)

    threads = _SCAN_THREADS.get(store.name, 1)
    if threads < 2 or len(object_ids) < 2:
        for oid in object_ids:
            yield oid, alerts_of(oid)
        return
    with ThreadPoolExecutor(threads) as pool:
        for start in range(0, len(object_ids), 1000):  # bounded: results wait in memory
            some = object_ids[start:start + 1000]
            yield from zip(some, pool.map(alerts_of, some))


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
def _read_file(path: Path) -> tuple[FileOutcome, AlertRows | None, tuple | None]:
    """Read and build one file without writing anything.

    Returns its outcome (with an error for an unreadable file), its alert rows (alert files) and
    its other rows as (table, rows) (Fink's SSO files); None where it has none.
    """
    try:
        kind = sniff(path)
        if kind in ALERT_KINDS:
            alerts = [a for batch in read_alerts(path, batch_size=5000) for a in batch]
            built = build_rows(alerts)
            del alerts
        elif kind == "sso-aggregated":
            other = (SsoLightcurve, _sso_aggregated_rows(path))
        elif kind in ("fink-fat-orbits", "fink-fat-trajectories"):
            other = (SsoCandidate, _fink_fat_rows(path, kind))
    except UnreadableFile as exc:
        return FileOutcome(str(path), "unreadable", error=exc.reason), None, None
    except (ValueError, KeyError, TypeError) as exc:  # a file that reads but does not make sense
        return FileOutcome(str(path), "unreadable", error=f"invalid content: {exc}"), None, None
    outcome = FileOutcome(str(path), kind)
    if kind in ALERT_KINDS:
        outcome.alerts = len(built.rows[Alert])
        outcome.upper_limits = len(built.rows[UpperLimit])
        outcome.objects = len(built.objects)
        return outcome, built, None
    if kind.startswith("other:"):
        return outcome, None, None
    outcome.other_rows = len(other[1])
    return outcome, None, other


def ingest_file(store: Store, path: Path, progress: Callable[[int], None] | None = None) -> tuple[FileOutcome, set[str]]:
    """Ingest one file. Returns its outcome and the nights it touched.

    Any reading error is reported in the outcome (nothing of that file is written); store errors
    propagate (the run cannot go on without its store).
    """
    outcome, built, other = _read_file(Path(path))
    if built is not None:
        outcome.objects, outcome.bad_quality = write_alert_rows(store, built, progress)
        return outcome, built.nights
    if other is not None:
        _write(store, *other)
    return outcome, set()


class _Chunk:
    """Alert rows of several small files, written together (each file was read whole first)."""

    def __init__(self) -> None:
        self.built = AlertRows()
        self.files: list[tuple[FileOutcome, set[tuple[str, float]]]] = []
        self.alerts = 0

    def add(self, outcome: FileOutcome, built: AlertRows) -> None:
        if not self.files:
            self.built = AlertRows(built.rows, set(built.objects), set(built.nights), built.detections)
        else:
            self._merge(built)
        detected = {(oid, row["i:jd"]) for oid, rows in built.detections.items() for row in rows}
        self.files.append((outcome, detected))
        self.alerts += outcome.alerts

    def _merge(self, built: AlertRows) -> None:
        for table, rows in built.rows.items():
            self.built.rows[table].extend(rows)
        for oid, rows in built.detections.items():
            self.built.detections[oid].extend(rows)
        self.built.objects |= built.objects
        self.built.nights |= built.nights

    def write(self, store: Store, progress) -> list[FileOutcome]:
        """Write every row, refresh the objects; each file's outcome gets its bad-quality count."""
        for table in _WRITE_ORDER:
            rows = self.built.rows.get(table)
            if rows:
                _write(store, table, rows)
        if progress:
            progress(self.alerts)
        bad = set(_refresh_objects(store, self.built.objects, self.built.detections))
        for outcome, detected in self.files:
            outcome.bad_quality = len(detected & bad)
        return [outcome for outcome, _ in self.files]


def _ingest_files(store: Store, paths: Iterable[Path], report: IngestReport, progress=None, on_file=None) -> tuple[set[str], set[str]]:
    """Ingest files in order, small ones by chunks. Returns the nights and objects touched."""
    nights: set[str] = set()
    objects: set[str] = set()
    chunk = _Chunk()

    def done(outcome: FileOutcome) -> None:
        report.files.append(outcome)
        if on_file:
            on_file(outcome)

    def flush() -> None:
        nonlocal chunk
        if chunk.files:
            for outcome in chunk.write(store, progress):
                done(outcome)
        chunk = _Chunk()

    seen = []
    for path in paths:
        seen.append(path)
        outcome, built, other = _read_file(Path(path))
        if built is not None:
            chunk.add(outcome, built)
            nights |= built.nights
            objects |= built.objects
            del built
            if chunk.alerts >= CHUNK_ALERTS:
                flush()
            continue
        if other is not None:
            _write(store, *other)
        done(outcome)
    flush()
    # Outcomes in the order of the paths, whatever was pending when.
    order = {str(Path(p)): i for i, p in enumerate(seen)}
    report.files.sort(key=lambda o: order.get(o.path, len(order)))
    return nights, objects


def ingest_paths(
    paths: Iterable[Path],
    *,
    store: Store | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> IngestReport:
    """Ingest files, then refresh the statistics of the nights touched.

    Parameters
    ----------
    paths : iterable of Path
        Files to ingest, in order.
    store : Store, optional
        The store (default: the process's default store).
    progress : callable, optional
        Called with the number of alerts each time alerts have been written.
    workers : int
        Processes to spread the files over (forked; each writes its own files). Objects whose
        alerts several processes wrote are refreshed again at the end.
    on_file : callable, optional
        Called with each file's outcome once the file is written (or failed).
    """
    store = store or get_store()
    report = IngestReport()
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    if workers > 1 and len(paths) > 1:
        nights = _ingest_parallel(store, paths, report, workers, progress, on_file)
    else:
        nights, _ = _ingest_files(store, paths, report, progress, on_file)
    refresh_statistics(store, nights)
    report.seconds = time.perf_counter() - started
    return report


# -- several processes -------------------------------------------------------------------------
_WORKER_STORE: Store | None = None  # the parent's store, inherited by forked workers


def _worker_start() -> None:
    # Connections and table handles inherited from the parent are not this process's: drop
    # them, the backend opens its own on first use.
    _WORKER_STORE.close()


def _ingest_task(paths: list[Path]) -> tuple[list[FileOutcome], set[str], set[str]]:
    report = IngestReport()
    nights, objects = _ingest_files(_WORKER_STORE, paths, report)
    return report.files, nights, objects


def _split(paths: list[Path], workers: int) -> list[list[Path]]:
    """Consecutive runs of files of about equal size, several per worker so that none idles."""
    sizes = [p.stat().st_size if p.is_file() else 0 for p in paths]
    target = max(sum(sizes) / (workers * 4), 1)
    tasks, current, current_size = [], [], 0
    for path, size in zip(paths, sizes):
        current.append(path)
        current_size += size
        if current_size >= target:
            tasks.append(current)
            current, current_size = [], 0
    if current:
        tasks.append(current)
    # Largest first: a big task started last would leave the other workers idle at the end.
    return sorted(tasks, key=lambda t: -sum(p.stat().st_size if p.is_file() else 0 for p in t))


def _ingest_parallel(store: Store, paths: list[Path], report: IngestReport, workers: int, progress, on_file) -> set[str]:
    global _WORKER_STORE
    nights: set[str] = set()
    seen_by = Counter()
    _WORKER_STORE = store
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
            for outcomes, task_nights, objects in pool.imap_unordered(_ingest_task, _split(paths, workers)):
                for outcome in outcomes:
                    report.files.append(outcome)
                    if on_file:
                        on_file(outcome)
                if progress:
                    progress(sum(o.alerts for o in outcomes))
                nights |= task_nights
                seen_by.update(objects)
    finally:
        _WORKER_STORE = None
    # An object written by two processes at once may have a summary that missed the other's
    # alerts, or a bad-quality point at the jd of the other's alert: recompute it now.
    shared = [oid for oid, count in seen_by.items() if count > 1]
    if shared:
        refresh_objects(store, shared)
    order = {str(p): i for i, p in enumerate(paths)}
    report.files.sort(key=lambda o: order.get(o.path, len(order)))
    return nights

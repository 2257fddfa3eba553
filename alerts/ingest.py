"""Ingestion: alert files into the alert tables and their indexes.

A file is read whole and turned into rows before anything is written, so a corrupt or truncated
file writes nothing. Row keys are deterministic (``objectId_jd``...), so ingesting a file again,
or again after a crash, rewrites the same rows: no duplicates, same counts. Derived rows that
depend on more than one file (object summaries, bad-quality points, per-night statistics) are
recomputed from the store for the objects and nights a run touched, never incremented.

Speed: files are read column by column (``readers.read_alert_columns``) and their rows built
column by column (``alert_rows.build_rows``: no Python dict per row or history point), then
written with ``store.bulk`` (embedded: rows assembled with numpy, a few LMDB transactions;
HBase: large Thrift batches over several connections at once). A run reads small files whole,
one after the other, and writes their rows together once about ``CHUNK_ALERTS`` alerts are
pending (object summaries refreshed once per chunk). ``workers`` > 1 spreads files over
processes (HBase: all write at once; embedded: they read and build in parallel and take turns
at LMDB's single write lock).
"""
from __future__ import annotations

import gc
import glob
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from store import Store, get_store
from store.bulk import RowBlock, write_blocks

from .alert_rows import AlertRows, build_rows
from .readers import (
    ALERT_KINDS,
    AlertColumns,
    UnreadableFile,
    concat_alert_columns,
    read_alert_columns,
    read_fink_fat,
    read_sso_aggregated,
    sniff,
)
from .tables import (
    Alert,
    BadQuality,
    NightStatistics,
    ObjectSummary,
    SsoCandidate,
    SsoLightcurve,
    TimeIndex,
)

INGESTABLE_SUFFIXES = (".parquet", ".avro", ".parq")
WRITE_BATCH = 10000  # rows per store batch (summaries, statistics, Fink's SSO tables)
CHUNK_ALERTS = 1000  # alerts of small files read before they are written together


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


# -- writing -----------------------------------------------------------------------------------
def _write(store: Store, table, rows: list[dict]) -> None:
    with store[table].batch(size=WRITE_BATCH) as batch:
        for row in rows:
            batch.put(row)


def write_alert_rows(store: Store, built: AlertRows, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write the rows of some alerts, then recompute what depends on other files.

    Returns (number of objects touched, number of bad-quality points written).
    """
    write_blocks(store, built.blocks)
    if progress:
        progress(built.alerts)
    bad = _refresh_objects(store, built.objects, built.detections)
    return len(built.objects), len(bad)


def refresh_objects(store: Store, object_ids: Iterable[str], detections: list[RowBlock] | None = None) -> int:
    """Recompute the summary row of each object from its alerts, and its bad-quality points.

    ``detections`` are history detections of these objects (``BadQuality`` rows, see
    `alert_rows.build_rows`): a detection is a bad-quality point only if the object has no
    alert at that jd; when an alert arrives for a jd that was stored as bad-quality earlier,
    that point is removed. Returns the number of bad-quality points written.
    """
    return len(_refresh_objects(store, object_ids, detections))


def _refresh_objects(store: Store, object_ids: Iterable[str], detections: list[RowBlock] | None = None) -> set[bytes]:
    """`refresh_objects`, returning the keys of the bad-quality points written."""
    summaries, alert_keys = [], []
    for oid, alerts in _alerts_of_objects(store, sorted(object_ids)):
        if not alerts:
            continue
        last = alerts[-1]
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
        alert_keys.extend(row.key.encode("utf-8") for row in alerts)
    # Summaries go through the manager: a None there removes the cell (the latest alert has
    # no such value), which a bulk write (absent = left as is) would not do.
    _write(store, ObjectSummary, summaries)
    is_alert = set(alert_keys)
    bad_blocks, written = [], set()
    for block in detections or ():
        keys = block.row_keys()
        keep = [i for i, key in enumerate(keys) if key not in is_alert]
        if len(keep) < len(keys):
            block = block.take(keep)
        bad_blocks.append(block)
        written.update(block.row_keys())
    # An alert's (objectId, jd) is never a bad-quality point, whatever an earlier file said.
    write_blocks(store, {BadQuality: bad_blocks}, deletes={BadQuality: alert_keys})
    return written


_SUMMARY_INPUTS = ["i:jd", "i:ra", "i:dec", "i:candid", "i:jdstarthist", "i:ssnamenr", "d:classification"]
_OBJECTS_PER_READ = 4000  # bounded: the alerts of these objects wait in memory


def _alerts_of_objects(store: Store, object_ids: list[str]) -> Iterable[tuple[str, list]]:
    """(objectId, its alerts' summary columns) for each object, in the order given."""
    manager = store[Alert]
    for start in range(0, len(object_ids), _OBJECTS_PER_READ):
        some = object_ids[start:start + _OBJECTS_PER_READ]
        yield from zip(some, manager.scan_prefixes([(oid,) for oid in some], columns=_SUMMARY_INPUTS))


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
@contextmanager
def _without_gc():
    """Python's cycle collector paused: reading an Avro file makes millions of dicts, none in a
    cycle, and each collection walks all of them (decoding a 6k-alert file took 1.7x as long
    with it). Memory is still freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_file(path: Path) -> tuple[FileOutcome, list[AlertColumns] | None, tuple | None]:
    """Read one file whole (so a damaged file is found before anything of it is written).

    Returns its outcome (with an error for an unreadable file), its alerts (alert files) and
    its other rows as (table, rows) (Fink's SSO files); None where it has none.
    """
    with _without_gc():
        return _read_file_now(path)


def _read_file_now(path: Path) -> tuple[FileOutcome, list[AlertColumns] | None, tuple | None]:
    try:
        kind = sniff(path)
        if kind in ALERT_KINDS:
            batches = list(read_alert_columns(path, kind=kind))
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
        outcome.alerts = sum(b.n for b in batches)
        return outcome, batches, None
    if kind.startswith("other:"):
        return outcome, None, None
    outcome.other_rows = len(other[1])
    return outcome, None, other


def ingest_file(store: Store, path: Path, progress: Callable[[int], None] | None = None) -> tuple[FileOutcome, set[str]]:
    """Ingest one file. Returns its outcome and the nights it touched.

    Any reading error is reported in the outcome (nothing of that file is written); store errors
    propagate (the run cannot go on without its store).
    """
    outcome, batches, other = _read_file(Path(path))
    if batches is not None:
        chunk = _Chunk()
        chunk.add(outcome, batches)
        chunk.build()
        chunk.write(store, progress)
        return outcome, chunk.built.nights
    if other is not None:
        _write(store, *other)
    return outcome, set()


class _Chunk:
    """The alerts of several small files, built and written together (each file was read whole
    first); history points still count once per file, as if each file were built alone."""

    def __init__(self) -> None:
        self.batches: list[AlertColumns] = []
        self.file_of_batch: list[int] = []
        self.outcomes: list[FileOutcome] = []
        self.alerts = 0
        self.built = AlertRows()

    def add(self, outcome: FileOutcome, batches: list[AlertColumns]) -> None:
        self.batches += batches
        self.file_of_batch += [len(self.outcomes)] * len(batches)
        self.outcomes.append(outcome)
        self.alerts += outcome.alerts

    def build(self) -> AlertRows:
        """The rows of all the chunk's alerts; each file's outcome gets its counts."""
        alerts = concat_alert_columns(self.batches) if self.batches else None
        if alerts is not None and alerts.n:
            files = np.repeat(self.file_of_batch, [b.n for b in self.batches])
            self.built = build_rows(alerts, files)
        self.batches = []
        for i, outcome in enumerate(self.outcomes):
            counts = self.built.files.get(i)
            if counts is not None:
                outcome.upper_limits = counts.upper_limits
                outcome.objects = len(counts.objects)
        return self.built

    def write(self, store: Store, progress) -> list[FileOutcome]:
        """Write every row, refresh the objects; each file's outcome gets its bad-quality count."""
        built = self.built
        write_blocks(store, built.blocks)
        if progress:
            progress(self.alerts)
        bad = _refresh_objects(store, built.objects, built.detections)
        for i, outcome in enumerate(self.outcomes):
            counts = built.files.get(i)
            if counts is not None:
                outcome.bad_quality = len(counts.detections & bad)
        return self.outcomes


def _ingest_files(store: Store, paths: Iterable[Path], report: IngestReport, progress=None, on_file=None) -> tuple[set[str], set[str]]:
    """Ingest files in order, small ones by chunks. Returns the nights and objects touched.

    A chunk is written (and its objects refreshed) by a writer thread while the next files are
    read and built: the writes wait mostly on the disk (LMDB commits) or on the HBase server,
    with the GIL released. One chunk is written at a time, in order, so a crash leaves what
    a run without the thread would.
    """
    nights: set[str] = set()
    objects: set[str] = set()
    chunk = _Chunk()
    lock = threading.Lock()  # outcomes come from both threads

    def done(outcome: FileOutcome) -> None:
        with lock:
            report.files.append(outcome)
            if on_file:
                on_file(outcome)

    def write(chunk: _Chunk) -> None:
        for outcome in chunk.write(store, progress):
            done(outcome)

    with ThreadPoolExecutor(1, thread_name_prefix="ingest-writer") as writer:
        writing = None

        def flush() -> None:
            nonlocal chunk, writing
            if chunk.outcomes:
                built = chunk.build()
                nights.update(built.nights)
                objects.update(built.objects)
                if writing is not None:
                    writing.result()  # the previous chunk is written (its error raised here)
                writing = writer.submit(write, chunk)
            chunk = _Chunk()

        seen = []
        for path in paths:
            seen.append(path)
            outcome, batches, other = _read_file(Path(path))
            if batches is not None:
                chunk.add(outcome, batches)
                del batches
                if chunk.alerts >= CHUNK_ALERTS:
                    flush()
                continue
            if other is not None:
                _write(store, *other)
            done(outcome)
        flush()
        if writing is not None:
            writing.result()
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


def _work_of(path: Path) -> int:
    """About how much work a file is: its alerts for Parquet (cutouts make bytes, not work),
    else its size in bytes / 20 kB (about what an Avro alert with cutouts takes)."""
    try:
        if path.suffix in (".parquet", ".parq"):
            return pq.ParquetFile(path).metadata.num_rows
        return path.stat().st_size // 20_000 + 1
    except (OSError, ValueError):  # unreadable: reported by the worker that reads it
        return 1


def _split(paths: list[Path], workers: int) -> list[list[Path]]:
    """Consecutive runs of files of about equal work, several per worker so that none idles."""
    works = [_work_of(p) for p in paths]
    target = max(sum(works) / (workers * 4), 1)
    tasks, current, current_work = [], [], 0
    for path, work in zip(paths, works):
        current.append((path, work))
        current_work += work
        if current_work >= target:
            tasks.append(current)
            current, current_work = [], 0
    if current:
        tasks.append(current)
    # Largest first: a big task started last would leave the other workers idle at the end.
    tasks.sort(key=lambda task: -sum(work for _, work in task))
    return [[path for path, _ in task] for task in tasks]


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

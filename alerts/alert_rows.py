"""The rows a batch of alerts becomes in every alert table, built column by column.

In: `readers.AlertColumns` (one file's alerts, normalized, in Arrow arrays). Out: `AlertRows`, a
`store.bulk.RowBlock` per table, so that no Python dict is made per row or per history point
(a generated night of 10k alerts holds about 240k history points).

What goes where (DESIGN.md "Tables"):

- ``Alert``: the candidate fields (``i:``), the Fink fields (``d:``), ``i:objectId``,
  ``i:schemavsn``, ``i:publisher`` and the derived ``d:classification``;
- ``Cutout``: the stamps of the alerts that have any;
- the index tables (time, sky pixel, class, asteroid, tracklet, anomaly): the alert's position,
  dates and classification beside the key;
- history points (``prv_candidates``): one row per (objectId, jd), the first time a batch has
  it, and none where an alert of the batch has that (objectId, jd). Without magpsf they are
  ``UpperLimit`` rows; with it they are detections, kept aside (``detections``) until the
  objects' alerts are known: a detection that is not an alert is a ``BadQuality`` row
  (`ingest.refresh_objects`).

Null fields are left out of rows: ingestion adds what a file says and never erases what
another file said (the same alert comes raw from ZTF and enriched by Fink; old schemas lack
fields that newer ones give).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from store.bulk import RowBlock

from .derived import fink_classification_columns
from .readers import AlertColumns
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
    SkyIndex,
    TimeIndex,
    TrackletIndex,
    UpperLimit,
)

_NOT_A_CLASS = {None, "", "Unknown", "Fail", "nan"}
_CLASSIFICATION_CANDIDATE = ("ndethist", "drb", "classtar", "jd", "jdstarthist")


@dataclass
class FileCounts:
    """What one file's alerts became (for its outcome)."""

    alerts: int = 0
    upper_limits: int = 0
    objects: set[str] = field(default_factory=set)
    detections: set[bytes] = field(default_factory=set)  # keys of its BadQuality candidates


@dataclass
class AlertRows:
    """The rows of some alerts, by table, what they touched, and counts by file."""

    blocks: dict[type, list[RowBlock]] = field(default_factory=dict)
    detections: list[RowBlock] = field(default_factory=list)  # BadQuality candidates
    objects: set[str] = field(default_factory=set)
    nights: set[str] = field(default_factory=set)
    files: dict[int, FileCounts] = field(default_factory=dict)

    @property
    def alerts(self) -> int:
        return sum(f.alerts for f in self.files.values())

    @property
    def upper_limits(self) -> int:
        return sum(f.upper_limits for f in self.files.values())

    def add(self, table: type, block: RowBlock) -> None:
        if len(block):
            self.blocks.setdefault(table, []).append(block)


def build_rows(alerts: AlertColumns, files: np.ndarray | None = None) -> AlertRows:
    """The rows of every alert table for a batch of alerts (see the module's docstring).

    Parameters
    ----------
    alerts : AlertColumns
        The alerts (of one file, or of several small files put together).
    files : numpy.ndarray, optional
        The file (an int) of each alert, when they come from several: history points are
        counted once per file, as if each file were built on its own. Default: one file, 0.

    Raises
    ------
    ValueError
        An alert without a time (``candidate.jd``): it could not be keyed.
    """
    out = AlertRows()
    n = alerts.n
    if not n:
        return out
    files = np.zeros(n, np.int64) if files is None else np.asarray(files, np.int64)
    cand, fink = alerts.candidate, alerts.fink
    jd = cand["jd"]
    if jd.null_count:
        i = pc.index(jd.is_null(), True).as_py()
        raise ValueError(f"alert {alerts.object_id[i].as_py()} has no jd")
    oid = alerts.object_id
    classes = pa.array(
        fink_classification_columns({**{k: cand[k] for k in _CLASSIFICATION_CANDIDATE}, **fink}, n),
        pa.string(),
    )

    # Alerts, in the cell order rows always had: candidate, Fink, then identity and class.
    columns = {f"i:{name}": cand[name] for name in CANDIDATE_FIELDS}
    columns.update((f"d:{name}", fink[name]) for name in FINK_FIELDS if name in fink)
    columns.update({
        "i:objectId": oid,
        "i:schemavsn": alerts.schemavsn,
        "i:publisher": alerts.publisher,
        "d:classification": classes,
    })
    main = RowBlock(Alert, columns, n)
    out.add(Alert, main)
    object_ids = oid.to_pylist()
    out.objects = set(object_ids)
    for f, count in zip(*np.unique(files, return_counts=True)):
        out.files[int(f)] = FileCounts(alerts=int(count))
    if len(out.files) == 1:
        next(iter(out.files.values())).objects = set(out.objects)
    else:
        for f, object_id in zip(files.tolist(), object_ids):
            out.files[f].objects.add(object_id)
    days = np.floor(jd.to_numpy(zero_copy_only=False) - 2440587.5).astype(np.int64)
    out.nights = {_night_of_day(int(d)) for d in np.unique(days)}

    _cutout_rows(out, alerts)
    _index_rows(out, alerts, classes)
    _history_rows(out, alerts, main.row_keys(), files)
    return out


def _cutout_rows(out: AlertRows, alerts: AlertColumns) -> None:
    stamps = [alerts.cutouts[k] for k in ("Science", "Template", "Difference")]
    has_any = np.zeros(alerts.n, bool)
    for stamp in stamps:  # an empty stamp counts as none
        has_any |= pc.fill_null(pc.greater(pc.binary_length(stamp), 0), False).to_numpy(zero_copy_only=False)
    rows = pa.array(np.flatnonzero(has_any))
    if not len(rows):
        return
    out.add(Cutout, RowBlock(Cutout, {
        "b:cutoutScience_stampData": stamps[0].take(rows),
        "b:cutoutTemplate_stampData": stamps[1].take(rows),
        "b:cutoutDifference_stampData": stamps[2].take(rows),
        "i:objectId": alerts.object_id.take(rows),
        "i:jd": alerts.candidate["jd"].take(rows),
        "i:candid": alerts.candid.take(rows),
    }, len(rows)))


def _index_rows(out: AlertRows, alerts: AlertColumns, classes: pa.Array) -> None:
    cand, fink = alerts.candidate, alerts.fink
    n = alerts.n
    base = {
        "i:objectId": alerts.object_id,
        "i:jd": cand["jd"],
        "i:candid": alerts.candid,
        "i:ra": cand["ra"],
        "i:dec": cand["dec"],
        "i:jdstarthist": cand["jdstarthist"],
        "d:classification": classes,
    }

    def subset(rows: np.ndarray | None) -> dict:
        if rows is None:
            return dict(base)
        taken = pa.array(rows)
        return {name: values.take(taken) for name, values in base.items()}

    out.add(TimeIndex, RowBlock(TimeIndex, subset(None), n))
    pixels = _sky_pixels(cand["ra"], cand["dec"])
    out.add(SkyIndex, RowBlock(SkyIndex, {**subset(None), "d:pixel": pixels}, n))

    # Class index: the Fink class of every alert, and its SIMBAD and TNS labels if it has them.
    rows, labels = list(range(n)), classes.to_pylist()
    simbad = fink.get("cdsxmatch")
    for i, label in enumerate(simbad.to_pylist() if simbad is not None else ()):
        if label not in _NOT_A_CLASS and not str(label).startswith("Fail"):
            rows.append(i)
            labels.append(f"(SIMBAD) {label}")
    tns = fink.get("tns")
    for i, label in enumerate(tns.to_pylist() if tns is not None else ()):
        if label not in _NOT_A_CLASS:
            rows.append(i)
            labels.append(f"(TNS) {label}")
    rows = np.array(rows, np.int64)
    out.add(ClassIndex, RowBlock(ClassIndex, {**subset(rows), "d:class": pa.array(labels, pa.string())}, len(rows)))

    names = cand["ssnamenr"]
    rows = np.flatnonzero(_truthy(names))
    if len(rows):
        out.add(AsteroidIndex, RowBlock(AsteroidIndex, {**subset(rows), "i:ssnamenr": names.take(pa.array(rows))}, len(rows)))
    tracklet = fink.get("tracklet")
    if tracklet is not None:
        rows = np.flatnonzero(_truthy(tracklet))
        if len(rows):
            out.add(TrackletIndex, RowBlock(
                TrackletIndex, {**subset(rows), "d:tracklet": tracklet.take(pa.array(rows))}, len(rows)
            ))
    score = fink.get("anomaly_score")
    if score is not None:
        values = score.cast(pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(np.isfinite(values))
        if len(rows):
            out.add(AnomalyIndex, RowBlock(AnomalyIndex, {
                **subset(rows),
                "d:anomaly_key": values[rows] + ANOMALY_OFFSET,
                "d:anomaly_score": values[rows],
            }, len(rows)))


def _truthy(strings: pa.Array) -> np.ndarray:
    """Rows holding a non-empty string."""
    return pc.fill_null(pc.greater(pc.utf8_length(strings), 0), False).to_numpy(zero_copy_only=False)


def _history_rows(out: AlertRows, alerts: AlertColumns, alert_keys: list[bytes], files: np.ndarray) -> None:
    history = alerts.history
    parent = np.repeat(np.arange(alerts.n), alerts.history_length)
    if not len(parent):
        return
    jd = history["jd"]
    timed = jd.is_valid().to_numpy(zero_copy_only=False)
    points = np.flatnonzero(timed)
    parent = parent[points]
    keys = RowBlock(UpperLimit, {
        "i:objectId": alerts.object_id.take(pa.array(parent)),
        "i:jd": jd.take(pa.array(points)),
    }).row_keys()
    # Each (objectId, jd) once per file, the first time; none where an alert of the file is.
    point_files = files[parent]
    several = len(out.files) > 1
    if several:
        suffixes = [b"|%d" % f for f in range(int(files.max()) + 1)]
        seen = {k + suffixes[f] for k, f in zip(alert_keys, files.tolist())}
        tagged = [k + suffixes[f] for k, f in zip(keys, point_files.tolist())]
    else:
        seen, tagged = set(alert_keys), keys
    first: dict[bytes, int] = {}
    for i, key in enumerate(tagged):
        if key not in first and key not in seen:
            first[key] = i
    keep = np.fromiter(first.values(), np.int64, len(first))
    detected = history["magpsf"].is_valid().to_numpy(zero_copy_only=False)[points[keep]]
    taken_parent = pa.array(parent)

    def block(table, chosen: np.ndarray) -> RowBlock:
        taken = pa.array(points[chosen])
        columns = {f"i:{name}": history[name].take(taken) for name in PRV_CANDIDATE_FIELDS}
        columns["i:objectId"] = alerts.object_id.take(taken_parent.take(pa.array(chosen)))
        return RowBlock(table, columns, len(chosen), keys=[keys[i] for i in chosen.tolist()])

    limits = keep[~detected]
    out.add(UpperLimit, block(UpperLimit, limits))
    for f, count in zip(*np.unique(point_files[limits], return_counts=True)):
        out.files[int(f)].upper_limits = int(count)
    found = keep[detected]
    if len(found):
        out.detections.append(block(BadQuality, found))
        for f, i in zip(point_files[found].tolist(), found.tolist()):
            out.files[f].detections.add(keys[i])


# -- values derived at ingest -----------------------------------------------------------------------
def _night_of_day(days: int, cache: dict[int, str] = {}) -> str:  # noqa: B006 (a cache)
    """UTC date (YYYYMMDD) of a day counted from 1970-01-01."""
    night = cache.get(days)
    if night is None:
        night = cache[days] = time.strftime("%Y%m%d", time.gmtime(days * 86400))
    return night


def night_of(jd: float) -> str:
    """UTC date (YYYYMMDD) of a Julian date."""
    return _night_of_day(math.floor(jd - 2440587.5))


def _sky_pixels(ra: pa.Array, dec: pa.Array) -> np.ndarray:
    from astropy import units as u

    hp = _healpix()
    ra = ra.cast(pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)
    dec = dec.cast(pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)
    return np.asarray(hp.lonlat_to_healpix(ra * u.deg, dec * u.deg), np.int64)


def _healpix(cache: list = []):  # noqa: B006 (a cache: astropy is imported on first use only)
    if not cache:
        from astropy_healpix import HEALPix

        cache.append(HEALPix(nside=2**SKY_ORDER, order="nested"))
    return cache[0]

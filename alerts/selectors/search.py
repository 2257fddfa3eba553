"""Reads behind the search routes: cone, class, asteroid, tracklet, anomaly, time, sky map and
catalogue searches, plus the small look-ups (classes, schema, statistics, resolver, random).

Every search is a range scan of one index table (``alerts.tables``: sky, class, asteroid,
tracklet, time, anomaly), a cut on the few columns the index row carries (position, dates), then
point reads of the alert rows it kept. Each search reads at most :data:`INDEX_SCAN_CAP` index
rows and returns at most :data:`MAX_ROWS` rows; a result cut at either cap says so
(:attr:`SearchRows.truncated`), never silently.

Times are Julian dates (floats) at this interface; angles are degrees; radii arcseconds.
Rows come out with Fink's column names (``i:``, ``d:``, ``v:``).
"""
from __future__ import annotations

import itertools
import math
import random as _random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from store import BadKey, Row, Store, TableMissing, get_store

from ..derived import (
    FINK_CLASSES,
    SIMBAD_CLASSES,
    SIMBAD_OLD_TO_NEW,
    TNS_CLASSES,
    VALUE_COLUMNS,
    constellations,
    jd_to_iso,
    value_columns_of_object,
)
from ..tables import (
    SKY_ORDER,
    SKY_PIXEL_WIDTH,
    Alert,
    AnomalyIndex,
    AsteroidIndex,
    ClassIndex,
    Cutout,
    NightStatistics,
    SkyIndex,
    SsoCandidate,
    TimeIndex,
    TrackletIndex,
)

#: Rows a search returns at most (Fink's 10,000-row scan limit).
MAX_ROWS = 10_000
#: Index rows one search reads at most: bounds the cost of any request.
INDEX_SCAN_CAP = 200_000
#: Largest cone radius [arcsec] (5 degrees, as Fink).
MAX_CONE_RADIUS_ARCSEC = 18_000.0
#: Most rows of an uploaded catalogue (``xmatch``).
MAX_CATALOG_ROWS = 100_000
#: Most objects ``random`` draws.
MAX_RANDOM = 16

# Angular size of a HEALPix pixel of order 0 (sqrt of its area) [deg]; a pixel of order k is
# 2**k times smaller.
_ORDER0_RESOLUTION_DEG = math.degrees(math.sqrt(4 * math.pi / 12))
_NPIX_SKY = 12 * 4**SKY_ORDER

# The alert columns every index row holds (alerts.tables): a search whose output needs no other
# column is answered from the index rows, without reading the alert rows.
_INDEX_READ = ["i:objectId", "i:jd", "i:candid", "i:ra", "i:dec", "i:jdstarthist", "d:classification"]
_INDEX_HELD = frozenset(_INDEX_READ)

# Stored columns the v: columns are computed from (rates and colours need the photometry too).
_VALUE_INPUTS = ("i:jdstarthist", "i:ra", "i:dec", "d:classification")
_COLOR_INPUTS = ("i:fid", "i:magpsf", "i:sigmapsf")

#: What each computed (``v:``) column holds (the ``schema`` route shows these).
VALUE_COLUMN_DOCS = {
    "v:classification": "Fink classification of the alert (derived from its scores and cross-matches)",
    "v:lastdate": "time of the alert, UTC ISO (from i:jd)",
    "v:firstdate": "first detection of the object by ZTF, UTC ISO (from i:jdstarthist)",
    "v:lapse": "days between the first detection and this alert (i:jd - i:jdstarthist)",
    "v:constellation": "constellation the alert lies in",
    "v:rate": "magnitude rate from the previous point of the same band [mag/day]",
    "v:sigma(rate)": "1-sigma uncertainty of v:rate [mag/day]",
    "v:g-r": "g - r colour with the nearest r point within 0.3 day [mag]",
    "v:sigma(g-r)": "1-sigma uncertainty of v:g-r [mag]",
    "v:rate(g-r)": "rate of the g - r colour [mag/day]",
    "v:sigma(rate(g-r))": "1-sigma uncertainty of v:rate(g-r) [mag/day]",
    "v:separation_degree": "angular distance to the searched position [deg] (conesearch, xmatch)",
    "v:jdstartgw": "time of the gravitational-wave event [JD] (skymap)",
}


class SearchError(ValueError):
    """A search asked for something that cannot be answered; ``param`` names the parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


@dataclass
class SearchRows:
    """Rows a search found, and what it cost.

    ``truncated`` is True when a cap cut the result (``limit`` is that cap); ``scanned`` counts
    the index rows read, to compare with ``len(rows)``.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    limit: int | None = None
    scanned: int = 0

    def cut(self, limit: int) -> None:
        self.truncated, self.limit = True, limit


# -- columns --------------------------------------------------------------------------------------
def alert_columns(*extra: str) -> list[str]:
    """Column names a search route can return: every alert column, the ``v:`` columns, ``extra``."""
    return list(Alert.fields_by_column) + list(VALUE_COLUMNS) + list(extra)


def _read_columns(columns: Sequence[str] | None, always: Iterable[str] = ()) -> list[str] | None:
    """Projection of the alert reads for a ``columns`` request (None: every column)."""
    if columns is None:
        return None
    wanted = ["i:objectId", "i:jd"] + [c for c in columns if c in Alert.fields_by_column] + list(always)
    values = [c for c in columns if c in VALUE_COLUMNS]
    if values:
        wanted += _VALUE_INPUTS
    if any(c in COLOR_VALUES for c in values):
        wanted += _COLOR_INPUTS
    return list(dict.fromkeys(wanted))


#: ``v:`` columns cheap to compute for any number of rows (no sky-coordinate transform).
BASIC_VALUES = ("v:classification", "v:lastdate", "v:firstdate", "v:lapse")
#: ... and with the constellation (astropy's, tens of milliseconds per call for new positions).
PLACED_VALUES = (*BASIC_VALUES, "v:constellation")
#: Rates and colours, computed per object among the rows returned.
COLOR_VALUES = tuple(c for c in VALUE_COLUMNS if c not in PLACED_VALUES)


def _shape_rows(
    rows: list[dict[str, Any]],
    columns: Sequence[str] | None,
    *,
    values: Sequence[str] = PLACED_VALUES,
    extra: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Add ``v:`` columns and keep the columns asked for.

    ``columns`` None: every stored column, then the ``values`` (the route's default ``v:``
    columns), then ``extra`` (computed by the route, e.g. ``v:separation_degree``, already in the
    rows). Otherwise the columns named, in that order (``v:`` ones computed), then ``extra``.
    """
    wanted = values if columns is None else [c for c in columns if c in VALUE_COLUMNS]
    add_value_columns(rows, names=wanted)
    if columns is None:
        for row in rows:  # route-computed columns last, as Fink puts them
            for name in extra:
                row[name] = row.pop(name, None)
        return rows
    names = list(dict.fromkeys([*columns, *extra]))
    return [{name: row.get(name) for name in names} for row in rows]


def add_value_columns(rows: list[dict[str, Any]], *, names: Sequence[str] = VALUE_COLUMNS) -> None:
    """Add Fink's ``v:`` columns ``names`` to alert rows of any objects, in place.

    Classification, dates, lapse and constellation are computed for all rows at once; rates and
    colours per object among the rows given (as Fink computes them on the rows it returns), None
    for an object with a single row. The classification is the one stored at ingestion.
    """
    names = [name for name in VALUE_COLUMNS if name in names]
    if not rows or not names:
        return
    jd = [row.get("i:jd") for row in rows]
    start = [row.get("i:jdstarthist") for row in rows]
    computed: dict[str, list] = {}
    if "v:classification" in names:
        computed["v:classification"] = [row.get("d:classification") for row in rows]
    if "v:lastdate" in names:
        computed["v:lastdate"] = jd_to_iso(jd)
    if "v:firstdate" in names:
        computed["v:firstdate"] = jd_to_iso(start)
    if "v:lapse" in names:
        lapses = [None if a is None or b is None else a - b for a, b in zip(jd, start)]
        computed["v:lapse"] = [x if x is None or math.isfinite(x) else None for x in lapses]
    if "v:constellation" in names:
        computed["v:constellation"] = constellations(
            [row.get("i:ra") for row in rows], [row.get("i:dec") for row in rows]
        )
    for name, column in computed.items():
        for row, value in zip(rows, column):
            row[name] = value
    colors = [name for name in names if name in COLOR_VALUES]
    if not colors:
        return
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        for name in colors:
            row[name] = None
        groups[row.get("i:objectId")].append(row)
    for group in groups.values():
        if len(group) > 1:
            for row, values in zip(group, value_columns_of_object(group, with_constellation=False)):
                for name in colors:
                    row[name] = values[name]


# -- reading alerts from index rows -------------------------------------------------------------
def _alerts_at(
    store: Store,
    index_rows: Sequence[dict],
    columns: list[str] | None,
    held: frozenset = _INDEX_HELD,
    uniform: bool = True,
) -> list[dict]:
    """The alert rows of index rows, in their order (missing ones skipped).

    When every column of the projection ``columns`` is ``held`` by the index rows, they are the
    answer and no alert row is read. With all columns (``columns`` None) and ``uniform``, every
    row has the columns any of them holds (None where absent): give ``uniform=False`` when rows
    are then dropped, so that a column only they hold does not appear.
    """
    if not index_rows:
        return []
    if columns is not None and held.issuperset(columns):
        return [{c: row.get(c) for c in columns} for row in index_rows]
    refs = [(row["i:objectId"], row["i:jd"]) for row in index_rows]
    # Fresh dicts (store Rows): no copy needed. All columns: rows with the same keys in the same
    # order (None where absent), which the renderers pass through instead of padding each row.
    return store[Alert].rows(refs, columns=columns, uniform=uniform and columns is None)


class _NoRows:
    """The scan of a table that is not created yet: no rows, not truncated."""

    truncated = False

    def __iter__(self):
        return iter(())

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def _scan_index(manager, prefix=None, *, start=None, stop=None, reverse=False, limit=None, columns=None):
    """``manager.scan(...)``, or no rows when the table is not created yet (an empty store)."""
    try:
        return manager.scan(prefix, start=start, stop=stop, reverse=reverse, limit=limit, columns=columns)
    except TableMissing:
        return _NoRows()


def _index_rows(manager, scans: Iterable[dict[str, Any]], result: SearchRows, cap: int) -> Iterator[Row]:
    """The rows of several index scans in turn, stopping at ``cap`` rows read in all.

    Each item of ``scans`` holds the keyword arguments of one :func:`_scan_index` (``prefix``, or
    ``start``/``stop``, ``columns``); each scan is limited to what is left of ``cap``. The rows
    read are counted in ``result.scanned``, and a result that reaches ``cap`` with rows left is
    marked cut at ``cap``.
    """
    for kwargs in scans:
        remaining = cap - result.scanned
        if remaining <= 0:
            result.cut(cap)
            return
        with _scan_index(manager, limit=remaining, **kwargs) as scan:
            for row in scan:
                result.scanned += 1
                yield row
        if scan.truncated:
            result.cut(cap)
            return


def _jd_key(jd: float) -> str:
    """A Julian date as index keys hold it (7 decimals), clamped to the 7-digit JDs keys sort by
    (years -1975 to 22,666): a date outside would otherwise sort as text, not as a number."""
    return f"{min(max(jd, 1_000_000.0), 9_999_999.0):.7f}"


# -- cone search --------------------------------------------------------------------------------
@cache
def _healpix(order: int):
    from astropy_healpix import HEALPix

    return HEALPix(nside=2**order, order="nested")


def _order_for_pixel_size(size_deg: float) -> int:
    """The finest HEALPix order (at most the sky index's) whose pixels are about ``size_deg`` across."""
    if size_deg <= _ORDER0_RESOLUTION_DEG / 2**SKY_ORDER:
        # The finest pixels. Tested first: a size of 1e-310 degrees would make the ratio below
        # infinite (an OverflowError in floor, once a 500 found by fuzzing).
        return SKY_ORDER
    return max(0, min(SKY_ORDER, math.floor(math.log2(_ORDER0_RESOLUTION_DEG / size_deg))))


def _order_for(radius_deg: float) -> int:
    """The HEALPix order whose pixels are about half the radius (a few dozen pixels per cone)."""
    return _order_for_pixel_size(radius_deg / 2)


def angular_separation_deg(ra0: float, dec0: float, ra, dec) -> np.ndarray:
    """Angular distance [deg] from (ra0, dec0) to each (ra, dec) in degrees (haversine)."""
    ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    ra0, dec0 = math.radians(ra0), math.radians(dec0)
    a = np.sin((dec - dec0) / 2) ** 2 + np.cos(dec) * math.cos(dec0) * np.sin((ra - ra0) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def pixel_ranges(pixels: np.ndarray, order: int) -> np.ndarray:
    """Nested pixels of ``order`` as merged ``[start, stop)`` ranges of sky-index pixels.

    A nested pixel p of order k covers the order-16 pixels [p·4^(16-k), (p+1)·4^(16-k)); adjacent
    ranges are merged. Returns an (N, 2) int64 array sorted by start.
    """
    pixels = np.unique(np.asarray(pixels, dtype=np.int64))
    if len(pixels) == 0:
        return np.empty((0, 2), dtype=np.int64)
    if order > SKY_ORDER:
        pixels = np.unique(pixels >> (2 * (order - SKY_ORDER)))
        order = SKY_ORDER
    width = np.int64(4 ** (SKY_ORDER - order))
    starts = np.flatnonzero(np.diff(pixels, prepend=pixels[0] - 2) != 1)
    ends = np.append(starts[1:], len(pixels)) - 1
    return np.stack([pixels[starts] * width, (pixels[ends] + 1) * width], axis=1)


def _cone_ranges(ra: float, dec: float, radius_deg: float) -> list[tuple[int, int]]:
    """Sky-index pixel ranges covering the cone, those nearest the centre first."""
    import astropy.units as u

    order = _order_for(radius_deg)
    hp = _healpix(order)
    # A margin of a tenth of a pixel against rounding at the cone's edge.
    margin = 0.1 * _ORDER0_RESOLUTION_DEG / 2**order
    pixels = np.asarray(hp.cone_search_lonlat(ra * u.deg, dec * u.deg, (radius_deg + margin) * u.deg))
    pixels = np.unique(pixels)
    lon, lat = hp.healpix_to_lonlat(pixels)
    distance = angular_separation_deg(ra, dec, lon.to_value(u.deg), lat.to_value(u.deg))
    ranges = pixel_ranges(pixels, order)
    # Distance of a range: that of its nearest pixel (pixels are sorted like the ranges).
    width = 4 ** (SKY_ORDER - order)
    run_of_pixel = np.searchsorted(ranges[:, 0], pixels * width, side="right") - 1
    nearest = np.full(len(ranges), np.inf)
    np.minimum.at(nearest, run_of_pixel, distance)
    return [(int(lo), int(hi)) for lo, hi in ranges[np.argsort(nearest, kind="stable")]]


def _pixel_key(pixel: int) -> str:
    return f"{pixel:0{SKY_PIXEL_WIDTH}d}"


def _scan_sky(store: Store, ranges: Iterable[tuple[int, int]], result: SearchRows, cap: int) -> Iterator[Row]:
    """Index rows of the sky ranges, in range order, stopping at ``cap`` rows read."""
    scans = ({"start": _pixel_key(lo), "stop": _pixel_key(hi), "columns": _INDEX_READ} for lo, hi in ranges)
    return _index_rows(store[SkyIndex], scans, result, cap)


def alerts_in_cone(
    *,
    ra: float,
    dec: float,
    radius_arcsec: float,
    n: int = 1000,
    first_jd_min: float | None = None,
    first_jd_max: float | None = None,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
    scan_cap: int = INDEX_SCAN_CAP,
) -> SearchRows:
    """The latest alert of each object inside a cone, nearest first.

    Parameters
    ----------
    ra, dec : float
        Centre [deg].
    radius_arcsec : float
        Radius [arcsec], 0 < radius <= :data:`MAX_CONE_RADIUS_ARCSEC`.
    n : int
        Most objects returned (at most :data:`MAX_ROWS`); the nearest are kept.
    first_jd_min, first_jd_max : float, optional
        Keep objects first detected (``i:jdstarthist``) in [min, max] [JD].
    columns : sequence of str, optional
        Columns to return (``i:ra``, ``i:dec`` and ``v:separation_degree`` are always returned);
        None: every column and the ``v:`` columns.
    scan_cap : int
        Most index rows read; pixels nearest the centre are read first, so a capped result holds
        the nearest objects found.

    Returns
    -------
    SearchRows
        Rows with ``v:separation_degree``, sorted by it; ``scanned`` = index rows read.
    """
    if not 0 < radius_arcsec <= MAX_CONE_RADIUS_ARCSEC:
        raise SearchError("radius", f"must be in (0, {MAX_CONE_RADIUS_ARCSEC:g}] arcseconds")
    store = store or get_store()
    radius_deg = radius_arcsec / 3600.0
    result = SearchRows()
    found: dict[str, tuple[float, float, dict]] = {}  # objectId -> (jd, separation, index row)

    def keep_latest(chunk: list[dict]) -> None:
        # Rows are judged in chunks (numpy) and dropped unless the latest of their object so far.
        separation = angular_separation_deg(
            ra, dec, [r.get("i:ra", math.nan) for r in chunk], [r.get("i:dec", math.nan) for r in chunk]
        )
        for row, sep in zip(chunk, separation):
            if not sep <= radius_deg:
                continue
            first = row.get("i:jdstarthist") or row["i:jd"]
            if (first_jd_min is not None and first < first_jd_min) or (first_jd_max is not None and first > first_jd_max):
                continue
            oid = row["i:objectId"]
            if oid not in found or row["i:jd"] > found[oid][0]:
                found[oid] = (row["i:jd"], float(sep), row)
        chunk.clear()

    chunk: list[dict] = []
    for row in _scan_sky(store, _cone_ranges(ra, dec, radius_deg), result, scan_cap):
        chunk.append(row)
        if len(chunk) >= 4096:
            keep_latest(chunk)
    keep_latest(chunk)
    ordered = sorted(found.items(), key=lambda item: (item[1][1], item[0]))
    n = min(n, MAX_ROWS)
    if len(ordered) > n:
        result.cut(n)
        ordered = ordered[:n]
    rows = _alerts_at(store, [row for _, (_, _, row) in ordered], _read_columns(columns, ["i:ra", "i:dec"]))
    separations = {oid: sep for oid, (_, sep, _) in ordered}
    for row in rows:
        row["v:separation_degree"] = separations[row["i:objectId"]]
    if columns is not None:
        columns = list(dict.fromkeys(["i:ra", "i:dec", *columns]))
    result.rows = _shape_rows(rows, columns, values=BASIC_VALUES, extra=["v:separation_degree"])
    return result


# -- classes ------------------------------------------------------------------------------------
SIMBAD_PREFIX, TNS_PREFIX = "(SIMBAD) ", "(TNS) "


def class_names() -> dict[str, list[str]]:
    """The class names ``latests`` takes, grouped by origin (as Fink's ``classes`` route)."""

    def ordered(names: Iterable[str]) -> list[str]:
        return sorted(set(names), key=str.lower)

    return {
        "Fink classifiers": ordered(FINK_CLASSES),
        "Cross-match with TNS": [TNS_PREFIX + x for x in ordered(TNS_CLASSES)],
        "Cross-match with SIMBAD (see http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)": [
            SIMBAD_PREFIX + x for x in ordered([*SIMBAD_OLD_TO_NEW, *SIMBAD_CLASSES])
        ],
    }


def _canonical_class(name: str) -> tuple[str, bool]:
    """The class name as the class index holds it, and whether the portal knows the name.

    SIMBAD renamed its labels in 2023 and the index holds the new labels: an old label (with or
    without ``(SIMBAD)``) is read as its new one.
    """
    name = " ".join(name.split())
    if name.startswith(SIMBAD_PREFIX):
        label = name[len(SIMBAD_PREFIX):]
        new = SIMBAD_OLD_TO_NEW.get(label, label)
        return SIMBAD_PREFIX + new, new in SIMBAD_CLASSES
    if name.startswith(TNS_PREFIX):
        return name, name[len(TNS_PREFIX):] in TNS_CLASSES
    if name in FINK_CLASSES:
        return name, True
    new = SIMBAD_OLD_TO_NEW.get(name, name)
    return new, new in SIMBAD_CLASSES


def _class_held(store: Store, name: str) -> bool:
    with _scan_index(store[ClassIndex], prefix=(name,), limit=1, columns=["i:jd"]) as scan:
        return next(iter(scan), None) is not None


def resolve_class(name: str, *, store: Store | None = None) -> str:
    """The class index name of a class the user typed.

    Raises
    ------
    SearchError
        A class neither the portal's lists nor the class index know.
    """
    store = store or get_store()
    if not name or "|" in name:
        raise SearchError("class", f"unknown class {name!r}: GET /api/v1/classes lists the class names")
    canonical, known = _canonical_class(name)
    try:
        if known or _class_held(store, canonical):
            return canonical
    except BadKey:
        pass
    raise SearchError("class", f"unknown class {name!r}: GET /api/v1/classes lists the class names")


def latest_alerts_of_class(
    *,
    class_name: str,
    n: int = 10,
    jd_min: float | None = None,
    jd_max: float | None = None,
    trend: str | None = None,
    color: bool = False,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
    scan_cap: int = INDEX_SCAN_CAP,
) -> SearchRows:
    """The ``n`` newest alerts of a class, newest first.

    Parameters
    ----------
    class_name : str
        A Fink class, ``(SIMBAD) label`` or ``(TNS) type`` (see :func:`resolve_class`).
    n : int
        Alerts wanted (at most :data:`MAX_ROWS`).
    jd_min, jd_max : float, optional
        Alert times [JD] kept: jd_min <= i:jd < jd_max.
    trend : {'rising', 'fading'}, optional
        Keep alerts whose magnitude rate (``d:mag_rate``) is negative (rising) or positive.
    color : bool
        Compute the colour and rate ``v:`` columns even when ``columns`` is given.
    """
    store = store or get_store()
    name = resolve_class(class_name, store=store)
    if trend not in (None, "rising", "fading"):
        raise SearchError("trend", f"must be rising or fading (got {trend!r})")
    prefix = f"{name}|"
    start = (prefix + _jd_key(jd_min)) if jd_min is not None else prefix
    stop = (prefix + _jd_key(jd_max)).encode() if jd_max is not None else prefix[:-1].encode() + b"}"
    result = SearchRows()
    wanted = min(n, MAX_ROWS)
    read = _read_columns(columns, ["d:mag_rate"] if trend else ())
    rows: list[dict] = []
    # The scan is told how far it may go, so that HBase fetches what the loop needs (its scanner
    # otherwise brings 1,000 index rows per round trip, for n=10 too): n rows and a few spare
    # (alert rows a concurrent ingest has not written yet) without a trend; the cap with one.
    reach = scan_cap if trend is not None else min(scan_cap, wanted + _LATESTS_SPARE)
    index = _scan_index(
        store[ClassIndex], start=start, stop=stop, reverse=True, limit=reach, columns=_INDEX_READ
    )
    with index as scan:
        while len(rows) < wanted:
            # Without a trend every index row gives a row; with one, read ahead in chunks.
            chunk = wanted - len(rows) if trend is None else max(64, wanted)
            chunk = min(chunk, scan_cap - result.scanned)
            if chunk <= 0:
                result.cut(scan_cap)
                break
            batch = list(itertools.islice(scan, chunk))
            result.scanned += len(batch)
            rows += _keep_trend(_alerts_at(store, batch, read, uniform=trend is None), trend)
            if len(batch) < chunk:
                break
    if len(rows) > wanted:
        rows = rows[:wanted]
    if n > MAX_ROWS and len(rows) == MAX_ROWS:
        result.cut(MAX_ROWS)
    if columns is not None and color:
        columns = [*columns, *COLOR_VALUES]
    result.rows = _shape_rows(rows, columns, values=PLACED_VALUES + (COLOR_VALUES if color else ()))
    return result


#: Index rows ``latests`` may read beyond n (without a trend) when some alert rows are missing.
_LATESTS_SPARE = 64


def _keep_trend(rows: list[dict], trend: str | None) -> list[dict]:
    if trend is None:
        return rows
    sign = -1.0 if trend == "rising" else 1.0
    out = []
    for row in rows:
        rate = row.get("d:mag_rate")
        if rate is not None and math.isfinite(rate) and rate * sign > 0:
            out.append(row)
    return out


# -- Solar System -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SsoName:
    """A Solar System object as the portal can name it offline."""

    ssnamenr: str  # as ZTF writes it: a number, or a packed designation ("2005XM12")
    name: str | None  # a designation or comet name; None for a numbered asteroid (not held)
    number: int | None


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²", which ``int`` refuses (once a 500)."""
    return text.isascii() and text.isdigit()


def sso_name_of(ssnamenr: str) -> SsoName:
    number = int(ssnamenr) if _is_number(ssnamenr) else None
    return SsoName(ssnamenr, None if number is not None else ssnamenr, number)


def _ssnamenr_of(text: str) -> str:
    """ZTF's ``ssnamenr`` form of a number or designation: no spaces, no leading zeros."""
    compact = "".join(str(text).split())
    return str(int(compact)) if _is_number(compact) else compact


def alerts_of_asteroids(
    *,
    names: Sequence[str],
    columns: Sequence[str] | None = None,
    cutout_kind: str | None = None,
    store: Store | None = None,
) -> SearchRows:
    """Every alert of the Solar System objects, newest first, with ``sso_name``/``sso_number``.

    Parameters
    ----------
    names : sequence of str
        Asteroid numbers or designations (``8467``, ``2005 XM12``) or comet names (``10P``) as
        ZTF's ``ssnamenr`` holds them. Names (``Benoitcarry``) need the SsODNet service, which the
        portal does not call: they match nothing.
    cutout_kind : {'Science', 'Template', 'Difference'}, optional
        Add that stamp of each alert as a 2-D list (``b:cutout<kind>_stampData``; None if absent).
    """
    store = store or get_store()
    result = SearchRows()
    ssnamenrs = (_ssnamenr_of(raw) for raw in dict.fromkeys(names))
    scans = ({"prefix": (ssnamenr,)} for ssnamenr in ssnamenrs if ssnamenr and "|" not in ssnamenr)
    refs = list(_index_rows(store[AsteroidIndex], scans, result, MAX_ROWS))
    rows = _alerts_at(store, refs, _read_columns(columns, ["i:ssnamenr"]), held=_INDEX_HELD | {"i:ssnamenr"})
    rows.sort(key=lambda row: row["i:jd"], reverse=True)
    for row in rows:
        sso = sso_name_of(str(row.get("i:ssnamenr") or ""))
        row["sso_name"], row["sso_number"] = sso.name, sso.number
    extra = ["sso_name", "sso_number"]
    if cutout_kind:
        extra.append(_add_stamps(store, rows, cutout_kind))
    result.rows = _shape_rows(rows, columns, extra=extra)
    return result


def _add_stamps(store: Store, rows: list[dict], kind: str) -> str:
    """Add one stamp kind to alert rows as 2-D lists (the cutouts table shares the alert keys)."""
    from .objects import CUTOUT_COLUMNS, UnreadableCutout, cutout_array

    column = CUTOUT_COLUMNS[kind]
    refs = [(row["i:objectId"], row["i:jd"]) for row in rows]
    try:
        stamps = {r.key: r.get(column) for r in store[Cutout].rows(refs, columns=[column])}
    except TableMissing:
        stamps = {}
    for row in rows:
        data = stamps.get(Alert.key.of_values(row["i:objectId"], row["i:jd"]).decode())
        try:
            row[column] = cutout_array(data) if data else None
        except UnreadableCutout:
            row[column] = None
    return column


def sso_candidates(
    *,
    kind: str,
    candidate_id: str | None = None,
    jd_min: float | None = None,
    jd_max: float | None = None,
    max_rows: int = MAX_ROWS,
    store: Store | None = None,
) -> SearchRows:
    """Fink-FAT candidates: their orbits (``orbParams``) or trajectory points (``lightcurves``).

    Rows are the stored rows with ``d:`` before each name, plus ``d:ssoCandId``. The date range
    applies to trajectory points (``d:jd``); orbits have no date to cut on.
    """
    if kind not in ("orbParams", "lightcurves"):
        raise SearchError("kind", f"must be orbParams or lightcurves (got {kind!r})")
    store = store or get_store()
    prefix = (kind, candidate_id) if candidate_id else (kind,)
    max_rows = max(1, min(max_rows, MAX_ROWS))
    result = SearchRows()
    dated = kind == "lightcurves" and (jd_min is not None or jd_max is not None)
    try:
        scan = _scan_index(store[SsoCandidate], prefix, limit=INDEX_SCAN_CAP if dated else max_rows)
    except BadKey:  # an id holding the key separator: no such candidate
        return result
    with scan:
        for row in scan:
            result.scanned += 1
            jd = row.get("d:jd")
            if dated and (jd is None or (jd_min is not None and jd < jd_min) or (jd_max is not None and jd > jd_max)):
                continue
            if len(result.rows) >= max_rows:
                result.cut(max_rows)
                break
            data = row.get("d:data") or {}
            out = {f"d:{key}": value for key, value in data.items()}
            out["d:ssoCandId"] = row.get("d:ssoCandId")
            result.rows.append(out)
    if scan.truncated:
        result.cut(INDEX_SCAN_CAP if dated else max_rows)
    return result


# -- tracklets ------------------------------------------------------------------------------------
_TRACKLET_ID = re.compile(r"^TRCK_\d{1,8}(_\d{0,6}(_\d{0,3})?)?$")


def tracklet_prefix(*, tracklet_id: str | None = None, date: str | None = None) -> str:
    """The tracklet-id prefix of an ``id`` (full or partial) or a ``date``.

    ``date`` is ``YYYY-MM-DD`` optionally followed by `` hh``, `` hh:mm`` or `` hh:mm:ss``, as
    tracklet ids are ``TRCK_YYYYMMDD_HHMMSS_NN``.
    """
    if tracklet_id:
        text = tracklet_id.strip()
        if not _TRACKLET_ID.match(text):
            raise SearchError("id", f"a tracklet id is TRCK_YYYYMMDD_HHMMSS_NN or a prefix of it (got {tracklet_id!r})")
        return text
    if date:
        match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$", date.strip())
        if not match:
            raise SearchError("date", f"must be YYYY-MM-DD or YYYY-MM-DD hh:mm:ss (got {date!r})")
        day = "".join(match.group(1, 2, 3))
        clock = "".join(part for part in match.group(4, 5, 6) if part)
        return f"TRCK_{day}_{clock}" if clock else f"TRCK_{day}"
    raise SearchError("id", "give a tracklet id (TRCK_YYYYMMDD_HHMMSS_NN or a prefix) or a date")


def alerts_of_tracklets(
    *, prefix: str, columns: Sequence[str] | None = None, store: Store | None = None
) -> SearchRows:
    """Alerts of every tracklet whose id starts with ``prefix``, newest first."""
    store = store or get_store()
    result = SearchRows()
    refs = list(_index_rows(store[TrackletIndex], [{"prefix": prefix}], result, MAX_ROWS))
    rows = _alerts_at(store, refs, _read_columns(columns), held=_INDEX_HELD | {"d:tracklet"})
    rows.sort(key=lambda row: row["i:jd"], reverse=True)
    result.rows = _shape_rows(rows, columns)
    return result


# -- anomalies ----------------------------------------------------------------------------------
def anomalous_alerts(
    *,
    n: int = 10,
    jd_min: float | None = None,
    jd_max: float | None = None,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
    scan_cap: int = INDEX_SCAN_CAP,
) -> SearchRows:
    """The ``n`` alerts with the lowest (most anomalous) ``d:anomaly_score`` in [jd_min, jd_max)."""
    store = store or get_store()
    result = SearchRows()
    wanted = min(n, MAX_ROWS)
    refs = []
    with _scan_index(store[AnomalyIndex], start=b"\x00") as scan:
        for row in scan:
            result.scanned += 1
            jd = row["i:jd"]
            if (jd_min is None or jd >= jd_min) and (jd_max is None or jd < jd_max):
                refs.append(row)
                if len(refs) >= wanted:
                    break
            if result.scanned >= scan_cap:
                result.cut(scan_cap)
                break
    if n > MAX_ROWS and len(refs) == MAX_ROWS:
        result.cut(MAX_ROWS)
    rows = _alerts_at(store, refs, _read_columns(columns), held=_INDEX_HELD | {"d:anomaly_score"})
    result.rows = _shape_rows(rows, columns)
    return result


# -- statistics ---------------------------------------------------------------------------------
_NIGHT_PREFIX = re.compile(r"^(\d{4}(\d{2}(\d{2})?)?)?$")


def night_statistics(
    *, date: str = "", columns: Sequence[str] | None = None, store: Store | None = None
) -> SearchRows:
    """Per-night counts of the nights starting with ``date`` (YYYYMMDD, YYYYMM, YYYY or '').

    Each row: ``key:key`` (``ztf_YYYYMMDD``), ``basic:raw`` and ``basic:sci`` (alerts held for
    the night: the portal stores the science alerts it ingests, so both are that count),
    ``basic:objects`` and one ``class:<name>`` per class seen that night. Oldest night first.
    ``columns`` keeps those columns (None where a night has no such class).
    """
    date = (date or "").strip()
    if not _NIGHT_PREFIX.match(date):
        raise SearchError("date", f"must be YYYYMMDD, YYYYMM, YYYY or empty (got {date!r})")
    store = store or get_store()
    result = SearchRows()
    for row in _index_rows(store[NightStatistics], [{"prefix": f"ztf_{date}"}], result, MAX_ROWS):
        out = {
            "key:key": row.key,
            "basic:raw": row.get("s:alerts"),
            "basic:sci": row.get("s:alerts"),
            "basic:objects": row.get("s:objects"),
        }
        for name, count in sorted((row.get("s:classes") or {}).items()):
            out[f"class:{name}"] = count
        if columns is not None:
            out = {name: out.get(name) for name in columns}
        result.rows.append(out)
    return result


# -- schema ---------------------------------------------------------------------------------------
def alert_schema() -> dict[str, dict[str, dict[str, str]]]:
    """Every column the API returns, with its type and description, grouped by family."""

    def described(table, family: str) -> dict[str, dict[str, str]]:
        return {
            column: {"type": f.codec.name, "doc": f.doc}
            for column, f in table.fields_by_column.items()
            if f.family == family
        }

    return {
        "ZTF original fields (i:)": described(Alert, "i"),
        "ZTF original cutouts (b:)": described(Cutout, "b"),
        "Fink science module outputs (d:)": described(Alert, "d"),
        "Fink added values (v:)": {
            column: {"type": "str" if column in _TEXT_VALUES else "float", "doc": doc}
            for column, doc in VALUE_COLUMN_DOCS.items()
        },
    }


_TEXT_VALUES = {"v:classification", "v:lastdate", "v:firstdate", "v:constellation"}


# -- resolver ----------------------------------------------------------------------------------
RESOLVERS = ("ssodnet", "tns", "simbad")
_OBJECT_ID = re.compile(r"^ZTF\d{2}[a-z]{7}$")


def resolve_name(
    *, resolver: str, name: str, reverse: bool = False, nmax: int = 10, store: Store | None = None
) -> SearchRows:
    """Name <-> ZTF object look-ups from the data the portal holds (no outside service is called).

    - ``ssodnet``: an asteroid number or designation (or a prefix of one) -> the ``ssnamenr``
      values the asteroid index holds, with ``i:ssnamenr``, ``name``, ``number``, ``type``.
      ``reverse``: a ZTF object id -> the ``ssnamenr`` of its latest alert.
    - ``tns``: a TNS type (``SN Ia``) -> the objects the alerts' TNS cross-match gave that type
      (``d:internalname`` = objectId, ``d:type``, ``d:ra``, ``d:declination``); TNS names
      (``2021abc``) are not held. ``reverse``: a ZTF object id -> its TNS type.
    - ``simbad``: a SIMBAD type (``QSO``) -> the objects the alerts' SIMBAD cross-match gave that
      type (``i:objectId``, ``otype``, ``jradeg``, ``jdedeg``); SIMBAD names are not held.
      ``reverse``: a ZTF object id -> its SIMBAD type.
    """
    if resolver not in RESOLVERS:
        raise SearchError("resolver", f"must be one of {', '.join(RESOLVERS)} (got {resolver!r})")
    store = store or get_store()
    name = " ".join(str(name).split())
    nmax = max(1, min(nmax, MAX_ROWS))
    result = SearchRows()
    if reverse:
        if not _OBJECT_ID.match(name) and resolver != "ssodnet":
            raise SearchError("name", f"with reverse, name is a ZTF object id such as ZTF21abfmbix (got {name!r})")
        if _OBJECT_ID.match(name):
            result.rows = _resolve_object(store, resolver, name)
            return result
    if resolver == "ssodnet":
        result.rows = _resolve_ssodnet(store, name, nmax, result)
        return result
    label = TNS_PREFIX + name if resolver == "tns" else _canonical_class(SIMBAD_PREFIX + name)[0]
    objects: dict[str, dict] = {}
    try:
        scan = _scan_index(store[ClassIndex], prefix=(label,), reverse=True, limit=INDEX_SCAN_CAP, columns=_INDEX_READ)
    except BadKey:
        return result
    with scan:
        for row in scan:
            result.scanned += 1
            oid = row["i:objectId"]
            if oid not in objects:
                objects[oid] = row
                if len(objects) >= nmax:
                    break
    typed = label[len(TNS_PREFIX):] if resolver == "tns" else label[len(SIMBAD_PREFIX):]
    for oid, row in objects.items():
        if resolver == "tns":
            result.rows.append(
                {"d:fullname": None, "d:internalname": oid, "d:type": typed,
                 "d:ra": row.get("i:ra"), "d:declination": row.get("i:dec")}
            )
        else:
            result.rows.append(
                {"i:objectId": oid, "oname": None, "otype": typed,
                 "jradeg": row.get("i:ra"), "jdedeg": row.get("i:dec")}
            )
    return result


def _latest_alert(store: Store, object_id: str, columns: list[str]) -> dict | None:
    try:
        with store[Alert].scan((object_id,), reverse=True, limit=1, columns=columns) as scan:
            row = next(iter(scan), None)
    except (BadKey, TableMissing):
        return None
    return None if row is None else dict(row)


def _resolve_object(store: Store, resolver: str, object_id: str) -> list[dict]:
    row = _latest_alert(store, object_id, ["i:ra", "i:dec", "i:ssnamenr", "d:tns", "d:cdsxmatch"])
    if row is None:
        return []
    if resolver == "ssodnet":
        ssnamenr = row.get("i:ssnamenr")
        if not ssnamenr or ssnamenr == "null":
            return []
        sso = sso_name_of(str(ssnamenr))
        return [{"i:objectId": object_id, "i:ssnamenr": sso.ssnamenr, "name": sso.name,
                 "number": sso.number, "type": _sso_type(sso.ssnamenr)}]
    if resolver == "tns":
        tns = row.get("d:tns") or None
        return [{"d:fullname": None, "d:internalname": object_id, "d:type": tns,
                 "d:ra": row.get("i:ra"), "d:declination": row.get("i:dec")}]
    simbad = row.get("d:cdsxmatch")
    if simbad in (None, "", "Unknown") or str(simbad).startswith("Fail"):
        simbad = None
    return [{"i:objectId": object_id, "oname": None, "otype": simbad,
             "jradeg": row.get("i:ra"), "jdedeg": row.get("i:dec")}]


def _sso_type(ssnamenr: str) -> str:
    return "Comet" if ssnamenr.endswith("P") or ssnamenr.startswith("C/") else "Asteroid"


def _resolve_ssodnet(store: Store, name: str, nmax: int, result: SearchRows) -> list[dict]:
    ssnamenr = _ssnamenr_of(name)
    if not ssnamenr or "|" in ssnamenr:
        return []
    names: list[str] = []
    manager = store[AsteroidIndex]
    with _scan_index(manager, prefix=(ssnamenr,), limit=1, columns=["i:ssnamenr"]) as scan:
        if next(iter(scan), None) is not None:
            names.append(ssnamenr)
    if not names:
        # A prefix of a designation or number: the distinct names starting with it, skipping
        # each name's alerts with a seek past its last key.
        start = ssnamenr
        while len(names) < nmax and result.scanned < INDEX_SCAN_CAP:
            with _scan_index(manager, start=start, stop=ssnamenr + "\U0010ffff", limit=1, columns=["i:ssnamenr"]) as scan:
                row = next(iter(scan), None)
            result.scanned += 1
            if row is None:
                break
            found = row.key.split("|", 1)[0]
            names.append(found)
            start = found + "}"  # "}" sorts after "|": past every key of that name
    rows = []
    for found in names[:nmax]:
        sso = sso_name_of(found)
        rows.append({"i:ssnamenr": sso.ssnamenr, "name": sso.name, "number": sso.number, "type": _sso_type(found)})
    return rows


# -- random ---------------------------------------------------------------------------------------
def random_objects(
    *, n: int = 10, class_name: str | None = None, seed: int | None = None, store: Store | None = None
) -> list[str]:
    """Up to ``n`` distinct object ids drawn at random, of a class or of all alerts.

    Each draw picks a time uniformly between the first and last alert (of the class), reads the
    next :data:`_RANDOM_WINDOW` alerts from it (wrapping round to the first), and picks one of
    their objects not drawn yet. The same seed on the same data gives the same objects.
    """
    if not 1 <= n <= MAX_RANDOM:
        raise SearchError("n", f"must be between 1 and {MAX_RANDOM} (got {n})")
    store = store or get_store()
    rng = _random.Random(seed)
    if class_name:
        name = resolve_class(class_name, store=store)
        manager, prefix = store[ClassIndex], f"{name}|"
    else:
        manager, prefix = store[TimeIndex], ""
    bounds = _first_and_last_jd(manager, prefix)
    if bounds is None:
        return []
    chosen: list[str] = []
    for _ in range(n * 4):
        if len(chosen) >= n:
            break
        near = [oid for oid in _objects_after(manager, prefix, rng.uniform(*bounds)) if oid not in chosen]
        if near:
            chosen.append(rng.choice(near))
    return chosen


# Alerts read after each random time: enough to pick among several objects of a busy night.
_RANDOM_WINDOW = 100


def alerts_of_random_objects(
    *,
    n: int = 10,
    class_name: str | None = None,
    seed: int | None = None,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
) -> SearchRows:
    """Every alert of ``n`` objects drawn by :func:`random_objects`, newest first."""
    from .objects import alerts_of_object

    object_ids = random_objects(n=n, class_name=class_name, seed=seed, store=store)
    rows = alerts_of_object(object_ids=object_ids, columns=columns)
    return SearchRows(list(rows), truncated=rows.truncated, scanned=len(rows))


def _first_and_last_jd(manager, prefix: str) -> tuple[float, float] | None:
    low = prefix or b"\x00"
    high = (prefix[:-1].encode() + b"}") if prefix else None
    with _scan_index(manager, start=low, stop=high, limit=1, columns=["i:jd"]) as scan:
        first = next(iter(scan), None)
    with _scan_index(manager, start=low, stop=high, limit=1, reverse=True, columns=["i:jd"]) as scan:
        last = next(iter(scan), None)
    if first is None or last is None:
        return None
    return first["i:jd"], last["i:jd"]


def _objects_after(manager, prefix: str, jd: float) -> list[str]:
    """Distinct objects of the :data:`_RANDOM_WINDOW` index rows at or after ``jd`` (wrapping)."""
    high = (prefix[:-1].encode() + b"}") if prefix else None
    found: dict[str, None] = {}
    read = 0
    for start in (prefix + _jd_key(jd), prefix or b"\x00"):
        with _scan_index(manager, start=start, stop=high, limit=_RANDOM_WINDOW - read, columns=["i:objectId"]) as scan:
            for row in scan:
                read += 1
                found[row["i:objectId"]] = None
        if read >= _RANDOM_WINDOW:
            break
    return list(found)


# -- time-window searches: sky maps --------------------------------------------------------------
@dataclass
class SkyRegion:
    """A region of the sky as sorted, merged ``[start, stop)`` ranges of sky-index pixels."""

    ranges: np.ndarray  # (N, 2) int64

    def contains(self, pixels: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.ranges[:, 0], pixels, side="right") - 1
        inside = index >= 0
        inside[inside] &= pixels[inside] < self.ranges[index[inside], 1]
        return inside

    @property
    def area_deg2(self) -> float:
        pixels = int((self.ranges[:, 1] - self.ranges[:, 0]).sum())
        return pixels * 41252.96124941927 / _NPIX_SKY


def credible_region(
    *, uniq: np.ndarray, probability_density: np.ndarray, credible_level: float
) -> SkyRegion:
    """The smallest region holding ``credible_level`` of the probability of a multi-order map.

    Pixels are ranked by probability density (as ligo.skymap does), and kept while the
    probability summed before them is below the level (so the most probable pixel is always
    kept: its credible level is 0).

    Parameters
    ----------
    uniq : array of int
        NUNIQ pixel ids (4·4^order + nested pixel).
    probability_density : array of float
        Probability per steradian of each pixel.
    credible_level : float
        In (0, 1].
    """
    uniq = np.asarray(uniq, dtype=np.int64)
    density = np.nan_to_num(np.asarray(probability_density, float), nan=0.0)
    if len(uniq) and (uniq.min() < 4 or uniq.max() >= 16 * 4**29):
        raise SearchError("bayestar", "UNIQ pixel ids must be 4·4^order + pixel, orders 0 to 29")
    # The order of a NUNIQ id, by integer comparisons (floating log2 rounds at high orders).
    order = np.searchsorted(4 * 4 ** np.arange(30, dtype=np.int64), uniq, side="right") - 1
    nested = uniq - 4 * 4**order
    probability = density * (4 * math.pi / (12 * 4.0**order))
    rank = np.argsort(-density, kind="stable")
    before = np.cumsum(probability[rank]) - probability[rank]
    total = probability.sum()
    keep = rank[before < credible_level * (total if total > 0 else 1.0)]
    ranges = [pixel_ranges(nested[keep][order[keep] == k], int(k)) for k in np.unique(order[keep])]
    merged = np.concatenate(ranges) if ranges else np.empty((0, 2), np.int64)
    return SkyRegion(_merge_ranges(merged))


def _merge_ranges(ranges: np.ndarray) -> np.ndarray:
    if len(ranges) == 0:
        return ranges.reshape(0, 2).astype(np.int64)
    ranges = ranges[np.argsort(ranges[:, 0], kind="stable")]
    out = [list(ranges[0])]
    for lo, hi in ranges[1:]:
        if lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return np.asarray(out, dtype=np.int64)


def _sky_pixels(ra: Sequence[float], dec: Sequence[float]) -> np.ndarray:
    import astropy.units as u

    hp = _healpix(SKY_ORDER)
    return np.asarray(hp.lonlat_to_healpix(np.asarray(ra, float) * u.deg, np.asarray(dec, float) * u.deg), np.int64)


def alerts_in_sky_region(
    *,
    region: SkyRegion,
    event_jd: float,
    days_before: float = 1.0,
    days_after: float = 6.0,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
    scan_cap: int = INDEX_SCAN_CAP,
) -> SearchRows:
    """Objects first detected in [event - before, event + after] inside a sky region.

    The time index is read over the window (a window of days is small next to the sky area of
    a typical map); each alert's position is tested against the region. The latest alert of the
    window is returned per object, newest first, with ``v:jdstartgw`` = ``event_jd``.
    """
    store = store or get_store()
    start, stop = event_jd - days_before, event_jd + days_after
    result = SearchRows()
    latest: dict[str, dict] = {}  # objectId -> index row of its latest alert in the window
    batch: list[dict] = []

    def flush() -> None:
        if not batch:
            return
        inside = region.contains(_sky_pixels([r.get("i:ra") for r in batch], [r.get("i:dec") for r in batch]))
        for row, ok in zip(batch, inside):
            first = row.get("i:jdstarthist") or row["i:jd"]
            if ok and start <= first <= stop:
                oid = row["i:objectId"]
                if oid not in latest or row["i:jd"] > latest[oid]["i:jd"]:
                    latest[oid] = row
        batch.clear()

    window = {"start": _jd_key(start), "stop": _jd_key(stop) + "}", "columns": _INDEX_READ}
    for row in _index_rows(store[TimeIndex], [window], result, scan_cap):
        batch.append(row)
        if len(batch) >= 4096:
            flush()
    flush()
    ordered = sorted(latest.values(), key=lambda row: row["i:jd"], reverse=True)
    if len(ordered) > MAX_ROWS:
        result.cut(MAX_ROWS)
        ordered = ordered[:MAX_ROWS]
    rows = _alerts_at(store, ordered, _read_columns(columns))
    for row in rows:
        row["v:jdstartgw"] = event_jd
    result.rows = _shape_rows(rows, columns, values=BASIC_VALUES, extra=["v:jdstartgw"])
    return result


def alerts_in_sky_map(
    *,
    uniq: np.ndarray,
    probability_density: np.ndarray,
    credible_level: float,
    event_jd: float,
    days_before: float = 1.0,
    days_after: float = 6.0,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
) -> SearchRows:
    """Objects first seen around a gravitational-wave event inside its credible region.

    The map is given as multi-order pixels (see :func:`credible_region`); see
    :func:`alerts_in_sky_region` for the rows returned.
    """
    region = credible_region(uniq=uniq, probability_density=probability_density, credible_level=credible_level)
    return alerts_in_sky_region(
        region=region, event_jd=event_jd, days_before=days_before, days_after=days_after,
        columns=columns, store=store,
    )


# -- catalogue cross-match ----------------------------------------------------------------------
def alerts_matching_catalog(
    *,
    rows: Sequence[dict[str, Any]],
    ra: Sequence[float],
    dec: Sequence[float],
    jd: Sequence[float] | None = None,
    radius_arcsec: float = 1.5,
    window_days: float | None = None,
    columns: Sequence[str] | None = None,
    store: Store | None = None,
    scan_cap: int = INDEX_SCAN_CAP * 5,
) -> SearchRows:
    """For each catalogue row, the objects with an alert within ``radius`` (and the time window).

    Each catalogue position is looked up in its HEALPix pixel and the 8 around it, at an order
    whose pixels are at least 4 radii wide, so that every pixel is scanned once however many
    catalogue rows fall in it.

    Parameters
    ----------
    rows : sequence of dict
        The catalogue's rows (their columns are copied into the output).
    ra, dec : sequence of float
        Positions of the rows [deg].
    jd : sequence of float, optional
        Times of the rows [JD] (NaN: no time); needed with ``window_days``.
    radius_arcsec : float
        Match radius, 0 < radius <= 18,000.
    window_days : float, optional
        Keep alerts with |i:jd - time| <= window / 2.

    Returns
    -------
    SearchRows
        One row per (catalogue row, object): the catalogue row's columns, then the latest
        matching alert's columns, then ``v:separation_degree``.
    """
    import astropy.units as u

    if not 0 < radius_arcsec <= MAX_CONE_RADIUS_ARCSEC:
        raise SearchError("radius", f"must be in (0, {MAX_CONE_RADIUS_ARCSEC:g}] arcseconds")
    store = store or get_store()
    result = SearchRows()
    ra, dec = np.asarray(ra, float), np.asarray(dec, float)
    times = None if jd is None else np.asarray(jd, float)
    radius_deg = radius_arcsec / 3600.0
    order = _order_for_pixel_size(4 * radius_deg)  # the 3x3 pixels around a row cover its radius
    hp = _healpix(order)
    valid = np.isfinite(ra) & np.isfinite(dec)
    centre = np.full(len(ra), -1, np.int64)
    if valid.any():
        centre[valid] = hp.lonlat_to_healpix(ra[valid] * u.deg, dec[valid] * u.deg)
    around = np.full((len(ra), 9), -1, np.int64)
    if valid.any():
        around[valid, 0] = centre[valid]
        around[valid, 1:] = np.asarray(hp.neighbours(centre[valid])).T
    # Index rows of each needed pixel, read once.
    by_pixel: dict[int, list[dict]] = {}
    width = 4 ** (SKY_ORDER - order)
    for pixel in np.unique(around[around >= 0]):
        if result.scanned >= scan_cap:
            result.cut(scan_cap)
            break
        hits = []
        with _scan_index(
            store[SkyIndex], start=_pixel_key(int(pixel) * width), stop=_pixel_key((int(pixel) + 1) * width),
            limit=scan_cap - result.scanned, columns=_INDEX_READ,
        ) as scan:
            for row in scan:
                result.scanned += 1
                hits.append(row)
        if scan.truncated:
            result.cut(scan_cap)
        by_pixel[int(pixel)] = hits
    matches: list[tuple[int, dict, float]] = []  # (catalogue row, index row, separation)
    for index in np.flatnonzero(valid):
        candidates = [hit for pixel in set(around[index]) if pixel >= 0 for hit in by_pixel.get(int(pixel), ())]
        if not candidates:
            continue
        separation = angular_separation_deg(
            ra[index], dec[index], [c.get("i:ra", math.nan) for c in candidates], [c.get("i:dec", math.nan) for c in candidates]
        )
        best: dict[str, tuple[float, float, dict]] = {}
        for hit, sep in zip(candidates, separation):
            oid, alert_jd = hit["i:objectId"], hit["i:jd"]
            if sep > radius_deg:
                continue
            if window_days is not None and not _within(alert_jd, times, index, window_days / 2):
                continue
            if oid not in best or alert_jd > best[oid][0]:
                best[oid] = (alert_jd, float(sep), hit)
        for oid, (alert_jd, sep, hit) in sorted(best.items(), key=lambda item: item[1][1]):
            matches.append((int(index), hit, sep))
    if len(matches) > MAX_ROWS:
        result.cut(MAX_ROWS)
        matches = matches[:MAX_ROWS]
    unique = list({(hit["i:objectId"], hit["i:jd"]): hit for _, hit, _ in matches}.values())
    alerts = {(a["i:objectId"], a["i:jd"]): a for a in _alerts_at(store, unique, _read_columns(columns))}
    shaped = _shape_rows(list(alerts.values()), columns, values=BASIC_VALUES)
    shaped_by_key = dict(zip(alerts.keys(), shaped))
    for index, hit, sep in matches:
        alert = shaped_by_key.get((hit["i:objectId"], hit["i:jd"]))
        if alert is None:
            continue
        out = dict(rows[index])
        for name, value in alert.items():
            out.setdefault(name, value)
        out["v:separation_degree"] = sep
        result.rows.append(out)
    return result


def _within(jd: float, times: np.ndarray | None, index: int, half_window: float) -> bool:
    return times is not None and math.isfinite(times[index]) and abs(jd - times[index]) <= half_window


__all__ = [
    "BASIC_VALUES",
    "COLOR_VALUES",
    "INDEX_SCAN_CAP",
    "MAX_CATALOG_ROWS",
    "MAX_CONE_RADIUS_ARCSEC",
    "MAX_RANDOM",
    "MAX_ROWS",
    "PLACED_VALUES",
    "RESOLVERS",
    "VALUE_COLUMN_DOCS",
    "SearchError",
    "SearchRows",
    "SkyRegion",
    "SsoName",
    "add_value_columns",
    "alert_columns",
    "alert_schema",
    "alerts_in_cone",
    "alerts_in_sky_map",
    "alerts_in_sky_region",
    "alerts_matching_catalog",
    "alerts_of_asteroids",
    "alerts_of_random_objects",
    "alerts_of_tracklets",
    "angular_separation_deg",
    "anomalous_alerts",
    "class_names",
    "credible_region",
    "latest_alerts_of_class",
    "night_statistics",
    "pixel_ranges",
    "random_objects",
    "resolve_class",
    "resolve_name",
    "sso_candidates",
    "sso_name_of",
    "tracklet_prefix",
]

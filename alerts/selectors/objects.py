"""Reads about one object (or a few): its alerts, history points, cutouts and summary.

Behind the ``objects`` and ``cutouts`` API routes and the object pages. Rows come out with Fink's
column names (``i:``, ``d:``, ``b:``, ``v:``), newest first, as Fink's ``objects`` route gives
them (fink-object-api ``extract_object_data``), so that a script reading Fink reads these.

Every read is a prefix scan of ``objectId_`` in a table keyed ``objectId_jd``: the alerts (``ztf``),
then, on request, the upper limits, the bad-quality points and the cutouts. Only the columns asked
for are read. Each scan is capped (:data:`MAX_ROWS_PER_TABLE`), and a cut result says so.
"""
from __future__ import annotations

import gzip
import io
import logging
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from store import BadKey, TableMissing, get_store

from ..derived import VALUE_COLUMNS, value_columns_of_object
from ..tables import Alert, BadQuality, Cutout, ObjectSummary, UpperLimit

logger = logging.getLogger(__name__)

#: The stamps of an alert, in Fink's order, and the column holding each (gzipped FITS).
CUTOUT_KINDS = ("Science", "Template", "Difference")
CUTOUT_COLUMNS = {kind: f"b:cutout{kind}_stampData" for kind in CUTOUT_KINDS}
#: ``cutout_kind`` value that means the three stamps.
ALL_CUTOUTS = "All"

#: With upper limits, ``d:tag`` tells the kinds of rows apart (Fink's values).
TAG_COLUMN = "d:tag"
TAG_VALID, TAG_UPPERLIM, TAG_BADQUALITY = "valid", "upperlim", "badquality"
#: ``i:candid`` of a row that is not an alert (Fink writes -1 rather than a null).
NO_CANDID = -1

#: Rows read per object and table at most (Fink's 10,000-row scan limit); objects have at most a
#: few thousand alerts and history points, so the cap only bounds a pathological request.
MAX_ROWS_PER_TABLE = 10_000

# What `value_columns_of_object` reads: asked for a `v:` column, the selector reads these too.
_VALUE_INPUTS = (
    "i:jd", "i:jdstarthist", "i:fid", "i:magpsf", "i:sigmapsf", "i:ra", "i:dec", "i:ndethist",
    "i:drb", "i:classtar", "d:cdsxmatch", "d:roid", "d:mulens", "d:snn_snia_vs_nonia",
    "d:snn_sn_vs_all", "d:rf_snia_vs_nonia", "d:rf_kn_vs_nonkn", "d:tracklet",
)

# Output order of the stored columns: the alert table's, then the history-only columns.
_ALERT_ORDER = tuple(Alert.fields_by_column)
_HISTORY_ONLY = tuple(c for c in UpperLimit.fields_by_column if c not in Alert.fields_by_column)
_STORED_ORDER = _ALERT_ORDER + _HISTORY_ONLY


class ObjectRows(list):
    """A list of row dicts that also says whether a capped scan cut it (``truncated``) and, for
    rows left sparse (``alerts_of_object(padded=False)``), the output ``columns`` in order."""

    truncated: bool = False
    columns: list[str] | None = None


class UnreadableCutout(ValueError):
    """A stored stamp that is not a (gzipped) FITS image."""


@dataclass
class AlertCutouts:
    """The stamps of one alert: ``stamps`` maps a kind to its gzipped FITS (None if absent)."""

    object_id: str
    candid: int | None
    jd: float
    stamps: dict[str, bytes | None] = field(default_factory=dict)


# -- columns --------------------------------------------------------------------------------------
def object_columns(*, with_upper_limits: bool = False, with_cutouts: bool = False) -> list[str]:
    """The column names the ``objects`` route can return (what ``columns`` may list).

    Parameters
    ----------
    with_upper_limits : bool
        Add the history-only columns and ``d:tag``.
    with_cutouts : bool
        Add the three ``b:`` stamp columns.
    """
    names = list(_ALERT_ORDER) + list(VALUE_COLUMNS)
    if with_upper_limits:
        names += list(_HISTORY_ONLY) + [TAG_COLUMN]
    if with_cutouts:
        names += list(CUTOUT_COLUMNS.values())
    return names


def cutout_kinds(cutout_kind: str) -> tuple[str, ...]:
    """The stamp kinds named by ``cutout_kind`` (``All`` or one of :data:`CUTOUT_KINDS`).

    Raises
    ------
    ValueError
        For any other value.
    """
    if cutout_kind == ALL_CUTOUTS:
        return CUTOUT_KINDS
    if cutout_kind in CUTOUT_KINDS:
        return (cutout_kind,)
    raise ValueError(f"unknown cutout kind {cutout_kind!r}: All, Science, Template or Difference")


@dataclass(frozen=True)
class _Plan:
    """What to read from each table and what to put out, for one ``columns`` request."""

    alert_read: list[str] | None  # projection of the alert scan (None: every column)
    history_read: list[str] | None  # projection of the upper-limit / bad-quality scans
    values: tuple[str, ...]  # v: columns to compute
    wanted: tuple[str, ...] | None  # output columns (None: every column present)

    @classmethod
    def of(cls, columns: Sequence[str] | None, with_upper_limits: bool) -> _Plan:
        if columns is None:
            return cls(None, None, VALUE_COLUMNS, None)
        wanted = tuple(dict.fromkeys(columns))
        allowed = set(object_columns(with_upper_limits=with_upper_limits, with_cutouts=True))
        unknown = [c for c in wanted if c not in allowed]
        if unknown:
            raise ValueError(f"unknown column(s): {', '.join(unknown)}")
        values = tuple(c for c in wanted if c in VALUE_COLUMNS)
        # i:jd is always read: rows are sorted on it.
        alert_read = ["i:jd"] + [c for c in wanted if c in Alert.fields_by_column]
        if values:
            alert_read += _VALUE_INPUTS
        history_read = ["i:jd"] + [c for c in wanted if c in UpperLimit.fields_by_column]
        return cls(
            list(dict.fromkeys(alert_read)), list(dict.fromkeys(history_read)), values, wanted
        )


# -- the object's rows ----------------------------------------------------------------------------
def alerts_of_object(
    *,
    object_ids: Sequence[str],
    columns: Sequence[str] | None = None,
    with_upper_limits: bool = False,
    with_cutouts: bool = False,
    cutout_kind: str = ALL_CUTOUTS,
    padded: bool = True,
) -> ObjectRows:
    """Every alert of the objects, newest first, as Fink's ``objects`` route gives them.

    Parameters
    ----------
    object_ids : sequence of str
        ZTF object ids; repeated ids count once, unknown ids give no rows.
    columns : sequence of str, optional
        The columns to return (``i:``, ``d:``, ``v:``; ``d:tag`` and the ``b:`` stamps may be
        named too). None: every stored column plus every ``v:`` column (see
        ``alerts.derived.VALUE_COLUMNS``); otherwise ``v:`` columns only when named.
    with_upper_limits : bool
        Add the object's upper limits and bad-quality points; every row then has ``d:tag``
        (``valid``, ``upperlim`` or ``badquality``) and these rows have ``i:candid`` = -1
        (when ``i:candid`` is returned). ``v:`` columns are computed on the alerts only.
    with_cutouts : bool
        Add the stamps of ``cutout_kind`` as 2-D lists of floats (None for a NaN pixel, and in
        place of a stamp the alert lacks).
    cutout_kind : str
        ``All``, ``Science``, ``Template`` or ``Difference``.
    padded : bool
        True: every row has every output column (None where it has no value). False: each row
        holds only its own values (and may hold columns read for ``v:`` columns that were not
        asked for); ``ObjectRows.columns`` gives the output columns. A renderer that fills the
        gaps itself (``api.tabular.TableResult``) is spared a copy of every row: a light curve
        with upper limits is ~30 values per row out of ~170 columns.

    Returns
    -------
    ObjectRows
        One dict per row, sorted by ``i:jd`` newest first; with ``padded``, every row has the
        same keys (None where a row has no value). ``truncated`` says a scan hit
        :data:`MAX_ROWS_PER_TABLE`.

    Raises
    ------
    ValueError
        An unknown column or cutout kind.
    store.StoreUnavailable
        The store cannot be reached.
    """
    kinds = cutout_kinds(cutout_kind) if with_cutouts else ()
    plan = _Plan.of(columns, with_upper_limits)
    store = get_store()
    out = ObjectRows()
    # (jd, tag, row, cutouts) for every row of every object, sorted once at the end.
    collected: list[tuple[float, str, dict, dict | None]] = []
    for object_id in dict.fromkeys(object_ids):
        alerts = _scan(store[Alert], object_id, plan.alert_read, out)
        if not alerts:
            continue  # an unknown object: no history or stamps to look for
        if plan.values:
            with_place = plan.wanted is None or "v:constellation" in plan.values
            values = value_columns_of_object(alerts, with_constellation=with_place)
            for row, extra in zip(alerts, values):
                row.update(extra)  # Rows are fresh dicts: no copy needed
        stamps = _stamps_by_key(store[Cutout], object_id, kinds, out) if kinds else None
        for row in alerts:
            cut = None if stamps is None else stamps.get(row.key)
            collected.append((row["i:jd"], TAG_VALID, row, cut))
        if with_upper_limits:
            alert_jds = {row["i:jd"] for row in alerts}
            for table, tag in ((UpperLimit, TAG_UPPERLIM), (BadQuality, TAG_BADQUALITY)):
                for row in _scan(store[table], object_id, plan.history_read, out):
                    # Ingestion keeps bad-quality points off alert times; keep it true here too.
                    if row["i:jd"] not in alert_jds:
                        collected.append((row["i:jd"], tag, row, None))
    collected.sort(key=itemgetter(0), reverse=True)
    names = _output_columns(collected, plan, with_upper_limits, kinds)
    if padded:
        out.extend(_shape(collected, names, plan, with_upper_limits))
    else:
        out.extend(_tagged(collected, names, with_upper_limits))
        out.columns = names
    return out


def _scan(manager, object_id: str, columns: list[str] | None, out: ObjectRows) -> list:
    """The rows of one object in one table, newest first ([] if the table is not created)."""
    try:
        with manager.scan(
            (object_id,), columns=columns, limit=MAX_ROWS_PER_TABLE, reverse=True
        ) as scan:
            rows = list(scan)
    except BadKey:  # an id that cannot be a key part (empty, holds "_"): no such object
        return []
    except TableMissing:  # a store not initialised yet holds no rows
        return []
    if scan.truncated:
        out.truncated = True
        logger.warning("%s rows of %s cut at %d", manager.table.name, object_id, MAX_ROWS_PER_TABLE)
    return rows


def _stamps_by_key(manager, object_id: str, kinds: Iterable[str], out: ObjectRows) -> dict:
    """``{alert row key: {b: column: 2-D list or None}}`` for an object's alerts with stamps."""
    names = [CUTOUT_COLUMNS[k] for k in kinds]
    stamps = {}
    for row in _scan(manager, object_id, names, out):
        stamps[row.key] = {name: _array_or_none(row.get(name)) for name in names}
    return stamps


def _array_or_none(data: bytes | None) -> list | None:
    if not data:
        return None
    try:
        return cutout_array(data)
    except UnreadableCutout as exc:
        logger.warning("unreadable stamp skipped: %s", exc)
        return None


def _output_columns(
    collected: list[tuple[float, str, dict, dict | None]],
    plan: _Plan,
    with_upper_limits: bool,
    kinds: tuple[str, ...],
) -> list[str]:
    """The output columns: those asked for, or every column present, then the tag and stamps."""
    stamp_names = [CUTOUT_COLUMNS[k] for k in kinds]
    if plan.wanted is None:
        present = set().union(*[item[2].keys() for item in collected])
        names = [c for c in _STORED_ORDER if c in present]
        names += [c for c in VALUE_COLUMNS if c in present]
    else:
        names = [c for c in plan.wanted if c not in stamp_names]
    if with_upper_limits and TAG_COLUMN not in names:
        names.append(TAG_COLUMN)
    return names + stamp_names


def _shape(
    collected: list[tuple[float, str, dict, dict | None]],
    names: list[str],
    plan: _Plan,
    with_upper_limits: bool,
) -> list[dict[str, Any]]:
    """Output rows with one key set, ``names``."""
    template = dict.fromkeys(names)
    with_candid = "i:candid" in template
    trim = plan.wanted is not None
    rows = []
    for _, tag, row, cut in collected:
        out = template.copy()
        if trim:
            for name in names:
                if name in row:
                    out[name] = row[name]
        else:
            out.update(row)
        if with_upper_limits:
            out[TAG_COLUMN] = tag
            if tag != TAG_VALID and with_candid:
                out["i:candid"] = NO_CANDID
        if cut:
            out.update(cut)
        rows.append(out)
    return rows


def _tagged(
    collected: list[tuple[float, str, dict, dict | None]], names: list[str], with_upper_limits: bool
) -> list[dict[str, Any]]:
    """The rows as read (fresh dicts), with their tag, Fink's candid of non-alerts, and stamps."""
    with_candid = "i:candid" in names
    rows = []
    for _, tag, row, cut in collected:
        if with_upper_limits:
            row[TAG_COLUMN] = tag
            if tag != TAG_VALID and with_candid:
                row["i:candid"] = NO_CANDID
        if cut:
            row.update(cut)
        rows.append(row)
    return rows


# -- cutouts --------------------------------------------------------------------------------------
def cutouts_of_alert(
    *, object_id: str, kinds: Sequence[str] = CUTOUT_KINDS, candid: int | None = None
) -> AlertCutouts | None:
    """The stamps of one alert of an object: the one with ``candid``, or the latest with stamps.

    Parameters
    ----------
    object_id : str
        ZTF object id.
    kinds : sequence of str
        Stamp kinds to read (of :data:`CUTOUT_KINDS`).
    candid : int, optional
        The alert's candid; None: the object's latest alert that has stamps.

    Returns
    -------
    AlertCutouts or None
        None when the object, or that alert of it, has no stamps stored.
    """
    names = [CUTOUT_COLUMNS[k] for k in kinds]
    manager = get_store()[Cutout]
    try:
        if candid is None:
            scan = manager.scan((object_id,), columns=["i:jd", "i:candid", *names], limit=1, reverse=True)
            with scan:
                row = next(scan, None)
        else:
            row = _cutout_row_of_candid(manager, object_id, int(candid), names)
    except (BadKey, TableMissing):
        return None
    if row is None:
        return None
    return AlertCutouts(
        object_id=object_id,
        candid=row.get("i:candid"),
        jd=row["i:jd"],
        stamps={kind: row.get(CUTOUT_COLUMNS[kind]) for kind in kinds},
    )


def _cutout_row_of_candid(manager, object_id: str, candid: int, names: list[str]):
    # The stamps table is keyed by time, not candid: find the key on a narrow scan, then read
    # the stamps of that one row.
    with manager.scan((object_id,), columns=["i:candid"], limit=MAX_ROWS_PER_TABLE) as scan:
        key = next((row.key for row in scan if row.get("i:candid") == candid), None)
    if key is None:
        return None
    return manager.get(key, columns=["i:jd", "i:candid", *names])


def cutout_of_alert(
    *, object_id: str, kind: str, candid: int | None = None
) -> tuple[bytes, int] | None:
    """One stamp (gzipped FITS, as stored) of an alert, and that alert's candid.

    Parameters
    ----------
    object_id : str
        ZTF object id.
    kind : str
        ``Science``, ``Template`` or ``Difference``.
    candid : int, optional
        The alert; None: the object's latest alert that has stamps.

    Returns
    -------
    (bytes, int) or None
        None when there is no such stamp.
    """
    if kind not in CUTOUT_KINDS:
        raise ValueError(f"unknown cutout kind {kind!r}: Science, Template or Difference")
    found = cutouts_of_alert(object_id=object_id, kinds=(kind,), candid=candid)
    if found is None or not found.stamps.get(kind):
        return None
    return found.stamps[kind], found.candid


def fits_bytes(data: bytes) -> bytes:
    """The FITS file of a stamp: stored stamps are gzipped FITS, this ungzips them."""
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnreadableCutout(f"corrupt gzip stream: {exc}") from None
    return data


def cutout_pixels(data: bytes) -> np.ndarray:
    """The image of a stamp (gzipped or plain FITS) as a 2-D float64 array (NaN kept).

    Raises
    ------
    UnreadableCutout
        The bytes hold no FITS image.
    """
    raw = fits_bytes(data)
    image = _primary_image(raw)
    return image if image is not None else _astropy_image(raw)


# FITS BITPIX -> numpy dtype (FITS data are big-endian).
_BITPIX_DTYPES = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
_FITS_BLOCK, _FITS_CARD = 2880, 80


def _primary_image(raw: bytes) -> np.ndarray | None:
    """The 2-D primary image of a plain single-HDU FITS file, read directly; None otherwise.

    ZTF stamps are such files: reading their few header cards here costs microseconds, where
    astropy's general reader costs milliseconds a stamp (4,500 stamps for an object with 1,500
    alerts). Anything unusual (integer image with BLANK, other axes) goes to astropy.
    """
    cards: dict[bytes, bytes] = {}
    end = None
    for offset in range(0, min(len(raw), 36 * _FITS_CARD * 10), _FITS_CARD):
        card = raw[offset : offset + _FITS_CARD]
        keyword = card[:8].rstrip()
        if keyword == b"END":
            end = offset + _FITS_CARD
            break
        if card[8:10] == b"= ":
            cards[keyword] = card[10:].split(b"/", 1)[0].strip()
    if end is None or cards.get(b"SIMPLE") != b"T" or b"BLANK" in cards:
        return None
    try:
        dtype = _BITPIX_DTYPES[int(cards[b"BITPIX"])]
        if int(cards[b"NAXIS"]) != 2:
            return None
        width, height = int(cards[b"NAXIS1"]), int(cards[b"NAXIS2"])
        scale = float(cards.get(b"BSCALE", b"1").replace(b"D", b"E"))
        zero = float(cards.get(b"BZERO", b"0").replace(b"D", b"E"))
    except (KeyError, ValueError):
        return None
    start = -(-end // _FITS_BLOCK) * _FITS_BLOCK
    if width <= 0 or height <= 0 or len(raw) < start + width * height * np.dtype(dtype).itemsize:
        return None
    image = np.frombuffer(raw, dtype=dtype, count=width * height, offset=start)
    image = image.reshape(height, width).astype(np.float64)
    if scale != 1.0 or zero != 0.0:
        image = image * scale + zero
    return image


def _astropy_image(raw: bytes) -> np.ndarray:
    from astropy.io import fits
    from astropy.io.fits.verify import VerifyWarning

    try:
        with warnings.catch_warnings():
            # ZTF writes a SIMPLE card astropy finds non-standard; the image reads fine.
            warnings.simplefilter("ignore", VerifyWarning)
            with fits.open(io.BytesIO(raw), memmap=False, ignore_missing_simple=True) as hdus:
                image = next((hdu.data for hdu in hdus if hdu.data is not None), None)
                if image is None or image.ndim != 2:
                    raise UnreadableCutout("the FITS file holds no 2-D image")
                return np.asarray(image, dtype=np.float64)
    except UnreadableCutout:
        raise
    except (OSError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        # What astropy raises on bytes that are not a FITS file.
        raise UnreadableCutout(f"not a FITS image: {exc}") from None


def cutout_array(data: bytes) -> list[list[float | None]]:
    """A stamp as a 2-D list of floats (rows first), None for NaN and infinite pixels."""
    pixels = cutout_pixels(data)
    finite = np.isfinite(pixels)
    if finite.all():
        return pixels.tolist()
    cells = pixels.astype(object)
    cells[~finite] = None
    return cells.tolist()


# -- summary --------------------------------------------------------------------------------------
def object_summary(*, object_id: str) -> dict[str, Any] | None:
    """The object's summary row (position, first/last alert, count, class), or None.

    Keys are the ``objects`` table's columns (``i:ra``, ``i:lastjd``, ``d:nalerts``, ...).
    """
    try:
        row = get_store()[ObjectSummary].get((object_id,))
    except (BadKey, TableMissing):
        return None
    return None if row is None else dict(row)


__all__ = [
    "ALL_CUTOUTS",
    "CUTOUT_COLUMNS",
    "CUTOUT_KINDS",
    "MAX_ROWS_PER_TABLE",
    "NO_CANDID",
    "TAG_BADQUALITY",
    "TAG_COLUMN",
    "TAG_UPPERLIM",
    "TAG_VALID",
    "AlertCutouts",
    "ObjectRows",
    "UnreadableCutout",
    "alerts_of_object",
    "cutout_array",
    "cutout_kinds",
    "cutout_of_alert",
    "cutout_pixels",
    "cutouts_of_alert",
    "fits_bytes",
    "object_columns",
    "object_summary",
]

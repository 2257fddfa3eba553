"""Read alert files (Parquet and Avro) into normalized alert dicts, and Fink's SSO tables.

This is the file-reading layer of ingestion: no Django, no store. `sniff` says what a file is
by its content; `read_alert_columns` yields batches of alerts normalized to the canonical columns
of `alerts.schema`, whatever the file's age, column by column in Arrow arrays (what ingestion
uses); `read_alerts` gives the same alerts as plain dicts. `read_sso_aggregated` and
`read_fink_fat` read Fink's Solar System tables. Anything that cannot be read whole raises
`UnreadableFile`, never a raw pyarrow or fastavro error, so the caller can discard that file's
writes and go on.

Parquet is converted column by column in Arrow (casts, missing fields added as nulls) and stays
there: building a Python dict per history point costs several times reading the file. Avro
records (Python dicts from fastavro) become Arrow arrays once, per batch, in C.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path

import fastavro
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from alerts.schema import (
    CANDIDATE_FIELDS,
    FINK_FIELDS,
    FINK_RENAMES,
    IGNORED_COLUMNS,
    MULENS_STRUCT_FIELDS,
    PRV_CANDIDATE_FIELDS,
    SIMBAD_RENAMES,
    TIMESTAMP_FIELDS,
    ZTF_TOP_LEVEL,
    Column,
)

__all__ = [
    "ALERT_KINDS",
    "AlertColumns",
    "UnreadableFile",
    "concat_alert_columns",
    "read_alert_columns",
    "read_alerts",
    "read_fink_fat",
    "read_sso_aggregated",
    "sniff",
]

logger = logging.getLogger(__name__)

#: The `sniff` kinds that `read_alerts` reads.
ALERT_KINDS = frozenset({"alerts-parquet", "alerts-avro"})

# Values that mean "no value" in string columns whose writers used placeholders over the years.
_NULL_TOKENS: dict[str, tuple[str, ...]] = {
    "ssnamenr": ("null", "None", ""),
    "tracklet": ("None", ""),
}

_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "str": pa.string(),
    "bytes": pa.binary(),
}

# Arrow types whose `to_pylist()` already gives the kind's Python type: no cast needed, and
# skipping the float32 -> float64 casts of the ZTF fields saves a third of the conversion time.
_COMPATIBLE = {
    "int": pa.types.is_integer,
    "float": lambda t: pa.types.is_float32(t) or pa.types.is_float64(t),
    "bool": pa.types.is_boolean,
    "str": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "bytes": lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t),
}

_CUTOUTS = {
    "Science": "cutoutScience",
    "Template": "cutoutTemplate",
    "Difference": "cutoutDifference",
}


class UnreadableFile(Exception):
    """A file that cannot be read whole: empty, truncated, corrupt, or of an unknown format.

    Attributes
    ----------
    path : str
        The file.
    reason : str
        One line saying what is wrong, for an operator.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(str(reason).split())  # one line, whatever the library said
        super().__init__(f"{self.path}: {self.reason}")


# --------------------------------------------------------------------------------------------
# sniff
# --------------------------------------------------------------------------------------------

_PARQUET_MAGIC = b"PAR1"
_AVRO_MAGIC = b"Obj\x01"
_GZIP_MAGIC = b"\x1f\x8b"
_FITS_MAGIC = b"SIMPLE  ="


def sniff(path: str | os.PathLike) -> str:
    """Say what kind of file ``path`` is, from its content.

    Parameters
    ----------
    path : str or PathLike
        The file to look at.

    Returns
    -------
    str
        One of ``'alerts-parquet'`` (Fink science Parquet, or Parquet rows of raw alerts),
        ``'alerts-avro'`` (raw ZTF, Fink Kafka or Fink data-transfer Avro, any codec),
        ``'sso-aggregated'`` (Fink's per-asteroid aggregated light curves),
        ``'fink-fat-orbits'``, ``'fink-fat-trajectories'`` (Fink-FAT candidates), or
        ``'other:<what>'`` for a recognised file that holds no alerts: ``other:catalogue``,
        ``other:lightcurve``, ``other:ztf-forced-photometry``, ``other:anomaly-features``,
        ``other:gcn-notice``, ``other:image-classification``, ``other:avro-schema``,
        ``other:healpix-map``, ``other:fits``.

    Raises
    ------
    UnreadableFile
        The file is missing, empty, truncated, corrupt, or of no format listed above. Parquet
        footers and the whole chain of Avro blocks are checked, so a truncated copy is caught
        here; damage inside a compressed page can still only show while reading.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path, "no such file" if not path.exists() else "not a regular file")
    try:
        if path.stat().st_size == 0:
            raise UnreadableFile(path, "empty file (0 bytes)")
        head = _read_head(path, 2880 * 8)  # enough for a FITS primary header and extension
        if head.startswith(_PARQUET_MAGIC):
            return _sniff_parquet(path)
        if head.startswith(_AVRO_MAGIC):
            return _sniff_avro(path)
        if head.startswith(_GZIP_MAGIC):
            return _sniff_gzip(path)
        if head.startswith(_FITS_MAGIC):
            return _sniff_fits_header(head)
        return _sniff_text(path)
    except OSError as exc:  # permissions, I/O errors
        raise UnreadableFile(path, f"cannot read: {exc}") from exc


def _read_head(path: Path, nbytes: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(nbytes)


# The file ``sniff`` opened last: reading it next (as ingestion does) does not parse its footer
# again. (path, inode, size, mtime) -> ParquetFile; one entry, taken by the first to ask.
_SNIFFED_PARQUET: dict[tuple, pq.ParquetFile] = {}
_SNIFFED_LOCK = threading.Lock()


def _parquet_identity(path: Path, stat: os.stat_result) -> tuple:
    return (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _open_parquet(path: Path, keep: bool = False) -> pq.ParquetFile:
    """Open a Parquet file after checking both magic numbers, or raise UnreadableFile.
    ``keep``: leave it for the next call on the same, unchanged file (see _SNIFFED_PARQUET)."""
    path = Path(path)
    stat = path.stat()
    identity = _parquet_identity(path, stat)
    with _SNIFFED_LOCK:
        found = _SNIFFED_PARQUET.pop(identity, None)
    if found is not None:
        return found
    opened = _open_parquet_now(path, stat.st_size)
    if keep:
        with _SNIFFED_LOCK:
            _SNIFFED_PARQUET.clear()
            _SNIFFED_PARQUET[identity] = opened
    return opened


def _open_parquet_now(path: Path, size: int) -> pq.ParquetFile:
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(max(size - 4, 0))
        tail = fh.read(4)
    if head != _PARQUET_MAGIC:
        raise UnreadableFile(path, "not a Parquet file (no PAR1 magic at the start)")
    if size < 12 or tail != _PARQUET_MAGIC:
        # The footer (schema and row-group index) is at the end: a cut file loses it first.
        raise UnreadableFile(path, f"truncated Parquet file: no footer ({size} bytes)")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableFile(path, f"corrupt Parquet footer: {exc}") from exc


def _sniff_parquet(path: Path) -> str:
    names = set(_open_parquet(path, keep=True).schema_arrow.names)
    if {"objectId", "candidate"} <= names:
        return "alerts-parquet"
    if {"ssnamenr", "cjd", "cmagpsf"} <= names:
        return "sso-aggregated"
    if "ssoCandId" in names:
        if {"a", "e", "i"} <= names:
            return "fink-fat-orbits"
        if {"ra", "dec", "jd"} <= names:
            return "fink-fat-trajectories"
    if {"lc_features", "cfid"} <= names:
        return "other:anomaly-features"
    if {"ivorn", "triggerTimejd"} <= names:
        return "other:gcn-notice"
    if {"cutoutScience", "labels"} <= names:
        return "other:image-classification"
    if _has_ra_dec(names):
        return "other:catalogue"
    shown = ", ".join(sorted(names)[:12])
    raise UnreadableFile(path, f"Parquet file of no known layout (columns: {shown})")


def _has_ra_dec(names: set[str]) -> bool:
    lowered = {re.sub(r"\(.*\)", "", n).strip().lower() for n in names}
    return bool(lowered & {"ra", "radeg", "ra_deg"}) and bool(
        lowered & {"dec", "decdeg", "dec_deg"}
    )


def _sniff_avro(path: Path) -> str:
    header = _walk_avro(path)
    names = {field["name"] for field in header["schema"].get("fields", [])}
    if {"objectId", "candidate"} <= names:
        return "alerts-avro"
    shown = ", ".join(sorted(names)[:12])
    raise UnreadableFile(path, f"Avro file of no known layout (fields: {shown})")


def _read_long(fh) -> int:
    """Read one Avro zig-zag varint."""
    shift = result = 0
    while True:
        byte = fh.read(1)
        if not byte:
            raise EOFError
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return (result >> 1) ^ -(result & 1)
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 64 bits")


def _walk_avro(path: Path) -> dict:
    """Parse an Avro container header and check every block without decoding it.

    Each block declares its record count and byte size and ends with the file's 16-byte sync
    marker, so a cut or damaged file shows as a block running past the end or a wrong marker,
    at the cost of a seek per block.

    Returns
    -------
    dict
        ``schema`` (the writer schema as parsed JSON), ``codec`` and ``records`` (count).
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        try:
            if fh.read(4) != _AVRO_MAGIC:
                raise UnreadableFile(path, "not an Avro container file")
            meta = {}
            while (count := _read_long(fh)) != 0:
                if count < 0:  # a negative count is followed by the block's byte size
                    count = -count
                    _read_long(fh)
                for _ in range(count):
                    key = fh.read(_read_long(fh)).decode()
                    meta[key] = fh.read(_read_long(fh))
            sync = fh.read(16)
            if len(sync) != 16:
                raise EOFError
            schema = json.loads(meta["avro.schema"])
        except (EOFError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise UnreadableFile(path, f"truncated or corrupt Avro header ({exc!r})") from exc
        codec = meta.get("avro.codec", b"null").decode()
        records = 0
        while fh.tell() < size:
            start = fh.tell()
            try:
                count, nbytes = _read_long(fh), _read_long(fh)
            except (EOFError, ValueError) as exc:
                raise UnreadableFile(
                    path, f"truncated Avro file: block header cut at byte {start}"
                ) from exc
            if count < 0 or nbytes < 0:
                raise UnreadableFile(path, f"corrupt Avro block header at byte {start}")
            if fh.tell() + nbytes + 16 > size:
                raise UnreadableFile(
                    path,
                    f"truncated Avro file: block at byte {start} needs {nbytes + 16} bytes, "
                    f"{size - fh.tell()} left",
                )
            fh.seek(nbytes, os.SEEK_CUR)
            if fh.read(16) != sync:
                raise UnreadableFile(
                    path, f"corrupt Avro file: bad sync marker after block at byte {start}"
                )
            records += count
    return {"schema": schema, "codec": codec, "records": records}


def _sniff_gzip(path: Path) -> str:
    try:
        with gzip.open(path, "rb") as fh:
            head = fh.read(2880 * 8)
    except (OSError, EOFError) as exc:
        raise UnreadableFile(path, f"corrupt or truncated gzip stream: {exc}") from exc
    if head.startswith(_FITS_MAGIC):
        return _sniff_fits_header(head)
    raise UnreadableFile(path, "gzip file holding neither FITS nor a known format")


def _sniff_fits_header(head: bytes) -> str:
    # BAYESTAR-style sky maps declare PIXTYPE = 'HEALPIX' in the binary-table header.
    if re.search(rb"PIXTYPE\s*=\s*'HEALPIX", head):
        return "other:healpix-map"
    return "other:fits"


_TIME_HEADERS = {"mjd", "jd", "bjd", "hjd", "time", "date", "jdobs", "mjdobs"}
_MAG_HEADERS = {"mag", "magnitude", "flux", "magpsf", "forcediffimflux"}


def _sniff_text(path: Path) -> str:
    raw = _read_head(path, 65536)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        if b"\0" in raw:
            raise UnreadableFile(path, "unknown binary format") from None
        text = raw.decode("latin-1")
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        return _sniff_json(path)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    comments = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
    data = [line for line in lines if not line.startswith("#")]
    if any("generated by forcedphotometry" in c.lower() for c in comments):  # ZTF's service output
        return "other:ztf-forced-photometry"
    # A header is the first data line, or else the last non-empty comment line ("# BJD mag ...").
    headers = [data[0]] if data else []
    headers += [c for c in comments if c][-1:]
    for header in headers:
        tokens = {re.sub(r"\(.*\)", "", t).strip().lower() for t in re.split(r"[,;\t ]+", header)}
        if _has_ra_dec(tokens):
            return "other:catalogue"
        if tokens & _TIME_HEADERS and tokens & _MAG_HEADERS:
            return "other:lightcurve"
    # Header-less light curves: the first column is a Julian date.
    rows = [re.split(r"[,;\s]+", line) for line in data[:20]]
    if len(rows) >= 3 and all(_looks_like_jd(row[0]) and len(row) >= 2 for row in rows):
        return "other:lightcurve"
    raise UnreadableFile(path, "unknown format (text that is no catalogue, light curve or schema)")


def _looks_like_jd(token: str) -> bool:
    try:
        return 2_400_000.0 < float(token) < 2_500_000.0
    except ValueError:
        return False


def _sniff_json(path: Path) -> str:
    if path.stat().st_size > 50_000_000:
        raise UnreadableFile(path, "JSON document too large to be an Avro schema")
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFile(path, f"invalid or truncated JSON: {exc}") from exc
    if (
        isinstance(doc, dict)
        and doc.get("type") == "record"
        and isinstance(doc.get("fields"), list)
    ):
        return "other:avro-schema"
    raise UnreadableFile(path, "JSON document that is not an Avro schema")


# --------------------------------------------------------------------------------------------
# read_alerts, read_alert_columns
# --------------------------------------------------------------------------------------------


def read_alerts(path: str | os.PathLike, batch_size: int = 500) -> Iterator[list[dict]]:
    """Yield the alerts of one file, normalized, in batches.

    Parameters
    ----------
    path : str or PathLike
        An alert file (``sniff`` says ``alerts-parquet`` or ``alerts-avro``).
    batch_size : int
        Largest number of alerts per yielded list.

    Yields
    ------
    list of dict
        Alerts, each a plain dict:

        - ``objectId`` (str), ``candid`` (int), ``schemavsn`` and ``publisher`` (str or None);
        - ``candidate``: every key of ``CANDIDATE_FIELDS``, absent ones None, values as Python
          scalars of the declared kind (NaN floats stay NaN, nulls are None);
        - ``prv_candidates``: list of dicts with every key of ``PRV_CANDIDATE_FIELDS``, ``[]``
          when absent or null;
        - ``fp_hists``: forced-photometry history records as in the file, ``[]`` when absent;
        - ``cutouts``: ``{'Science', 'Template', 'Difference'}`` -> gzipped FITS bytes or None;
        - ``fink``: every key of ``FINK_FIELDS``, absent ones None.

        Schema drift is normalized the same way for every format: ``ssnamenr`` placeholders
        ('null', 'None', '') and ``tracklet`` placeholders ('None', '') become None;
        ``cdsxmatch`` goes through ``SIMBAD_RENAMES``; ``rfscore``/``knscore`` are stored under
        their later names (``FINK_RENAMES``); an old ``mulens`` struct fills the ``mulens_*``
        columns and leaves ``mulens`` None; broker timestamps become float seconds (UTC);
        integer fields that pandas wrote as doubles become ints again (NaN -> None).
        Unknown top-level columns are skipped with a logged warning.

    Raises
    ------
    UnreadableFile
        Before the first batch if the file is not a readable alert file, or later if damage
        shows only while decoding: the caller must then drop everything read from this file.
    """
    for columns in read_alert_columns(path, batch_size, fp_hists=True):
        yield columns.to_alerts()


@dataclass
class AlertColumns:
    """A batch of alerts normalized as `read_alerts` gives them, but column by column.

    What ingestion works on: values stay in Arrow arrays, so rows are built without a Python
    object per value. Every array has one value per alert, except ``history`` (one per history
    point, the points of all alerts one after the other, ``history_length`` of each alert).

    Attributes
    ----------
    n : int
        Number of alerts.
    object_id, candid, schemavsn, publisher : pyarrow.Array
        string, int64 (never null: the candidate's candid where the file has none), string,
        string.
    candidate : dict of str to pyarrow.Array
        Every key of ``CANDIDATE_FIELDS``, in order, as int64 / float32 or float64 / bool /
        string (Python values of the declared kind); absent fields all null.
    history : dict of str to pyarrow.Array
        Every key of ``PRV_CANDIDATE_FIELDS`` the same way, over all history points.
    history_length : numpy.ndarray
        Number of history points of each alert (0 for none or null).
    cutouts : dict of str to pyarrow.Array
        ``'Science'``, ``'Template'``, ``'Difference'``: binary (gzipped FITS) or null.
    fink : dict of str to pyarrow.Array or list
        The ``FINK_FIELDS`` the file has, in their order: Arrow arrays for scalar kinds, Python
        lists for ``struct`` (dicts) and ``list`` kinds. A field not in the dict is null.
    fp_hists : list or None
        Forced-photometry histories (list per alert), only when asked for.
    """

    n: int
    object_id: pa.Array
    candid: pa.Array
    schemavsn: pa.Array
    publisher: pa.Array
    candidate: dict[str, pa.Array]
    history: dict[str, pa.Array]
    history_length: np.ndarray
    cutouts: dict[str, pa.Array]
    fink: dict[str, pa.Array | list]
    fp_hists: list | None = None

    def to_alerts(self) -> list[dict]:
        """The alerts as `read_alerts` yields them (one dict per alert)."""
        candidates = _dicts(self.candidate)
        points = _dicts(self.history)
        ends = np.cumsum(self.history_length).tolist()
        histories = [points[start:end] for start, end in zip([0] + ends[:-1], ends)]
        template = dict.fromkeys(FINK_FIELDS)
        present = list(self.fink)
        fink_values = [_pylist(self.fink[name]) for name in present]
        finks = []
        for values in zip(*fink_values) if present else repeat((), self.n):
            row = template.copy()
            row.update(zip(present, values))
            finks.append(row)
        stamps = [self.cutouts[k].to_pylist() for k in _CUTOUTS]
        fp_hists = self.fp_hists if self.fp_hists is not None else repeat(None)
        return [
            {
                "objectId": object_id,
                "candid": candid,
                "schemavsn": version,
                "publisher": pub,
                "candidate": candidate,
                "prv_candidates": history,
                "fp_hists": fp or [],
                "cutouts": {"Science": science, "Template": template_, "Difference": difference},
                "fink": fink,
            }
            for object_id, candid, version, pub, candidate, history, fp, science, template_,
            difference, fink in zip(
                self.object_id.to_pylist(), self.candid.to_pylist(), self.schemavsn.to_pylist(),
                self.publisher.to_pylist(), candidates, histories, fp_hists, *stamps, finks,
            )
        ]


def concat_alert_columns(batches: list[AlertColumns]) -> AlertColumns:
    """Several batches (of one file or of several) as one, in order.

    Arrays of one field are cast to one type where files differ (float32 or float64 for a
    float field...); a Fink field that only some batches have is null in the others.
    """
    if len(batches) == 1:
        return batches[0]
    fink_names = [name for name in FINK_FIELDS if any(name in b.fink for b in batches)]
    fink = {}
    for name in fink_names:
        kind = FINK_FIELDS[name].kind
        if kind in _ARROW_TYPES:
            fink[name] = _concat(
                [b.fink.get(name, pa.nulls(b.n, _ARROW_TYPES[kind])) for b in batches], kind
            )
        else:
            fink[name] = [v for b in batches for v in (_pylist(b.fink[name]) if name in b.fink else [None] * b.n)]
    fp_hists = None
    if any(b.fp_hists is not None for b in batches):
        fp_hists = [v for b in batches for v in (b.fp_hists if b.fp_hists is not None else [None] * b.n)]
    return AlertColumns(
        n=sum(b.n for b in batches),
        object_id=_concat([b.object_id for b in batches], "str"),
        candid=_concat([b.candid for b in batches], "int"),
        schemavsn=_concat([b.schemavsn for b in batches], "str"),
        publisher=_concat([b.publisher for b in batches], "str"),
        candidate={
            name: _concat([b.candidate[name] for b in batches], column.kind)
            for name, column in CANDIDATE_FIELDS.items()
        },
        history={
            name: _concat([b.history[name] for b in batches], column.kind)
            for name, column in PRV_CANDIDATE_FIELDS.items()
        },
        history_length=np.concatenate([b.history_length for b in batches]),
        cutouts={k: _concat([b.cutouts[k] for b in batches], "bytes") for k in _CUTOUTS},
        fink=fink,
        fp_hists=fp_hists,
    )


def _concat(arrays: list[pa.Array], kind: str) -> pa.Array:
    types = {a.type for a in arrays}
    if len(types) > 1:
        arrays = [a.cast(_ARROW_TYPES[kind]) for a in arrays]
    return pa.concat_arrays(arrays)


def _pylist(values: pa.Array | list) -> list:
    return values.to_pylist() if isinstance(values, pa.Array) else values


def _dicts(columns: dict[str, pa.Array]) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*(columns[n].to_pylist() for n in names))]


def read_alert_columns(
    path: str | os.PathLike, batch_size: int | None = None, *, fp_hists: bool = False,
    kind: str | None = None,
) -> Iterator[AlertColumns]:
    """Yield the alerts of one file, normalized, column by column (see `AlertColumns`).

    The same normalization as `read_alerts` (which is built on this), without a Python object
    per value: Parquet columns are cast and cleaned in Arrow, Avro records are turned into
    Arrow arrays once.

    Parameters
    ----------
    path : str or PathLike
        An alert file (``sniff`` says ``alerts-parquet`` or ``alerts-avro``).
    batch_size : int, optional
        Largest number of alerts per batch (default: the whole file, as few batches as it
        holds row groups).
    fp_hists : bool
        Also read the forced-photometry histories (``AlertColumns.fp_hists``).
    kind : str, optional
        What ``sniff`` said of the file, when the caller just asked (it is not asked again).

    Raises
    ------
    UnreadableFile
        As `read_alerts`.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if kind is None:
        kind = sniff(path)
    if kind == "alerts-parquet":
        yield from _read_parquet_columns(Path(path), batch_size, fp_hists)
    elif kind == "alerts-avro":
        yield from _read_avro_columns(Path(path), batch_size, fp_hists)
    else:
        raise UnreadableFile(path, f"not an alert file (it is {kind})")


# ---- Parquet ---------------------------------------------------------------------------------


def _read_parquet_columns(path: Path, batch_size: int | None, fp_hists: bool) -> Iterator[AlertColumns]:
    pf = _open_parquet(path)
    names = pf.schema_arrow.names
    wanted = [
        n
        for n in names
        if n not in IGNORED_COLUMNS and _is_known_top_level(n) and (fp_hists or n != "fp_hists")
    ]
    _warn_unknown(
        path, [n for n in names if n not in IGNORED_COLUMNS and not _is_known_top_level(n)]
    )
    try:
        if batch_size is None:
            # Whole row groups, their columns decoded on every core (what read_table does).
            batches = (
                pf.read_row_group(i, columns=wanted) for i in range(pf.metadata.num_row_groups)
            )
        else:
            batches = pf.iter_batches(batch_size=batch_size, columns=wanted)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            if batch.num_rows:
                yield _columns_from_arrow(path, batch)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableFile(path, f"cannot decode Parquet data: {exc}") from exc


def _is_known_top_level(name: str) -> bool:
    return name in ZTF_TOP_LEVEL or FINK_RENAMES.get(name, name) in FINK_FIELDS or name == "mulens"


def _warn_unknown(path: Path, names: list[str]) -> None:
    if names:
        logger.warning(
            "%s: columns not in alerts.schema skipped: %s", path, ", ".join(sorted(names))
        )


def _columns_from_arrow(path: Path, batch: pa.RecordBatch | pa.Table) -> AlertColumns:
    columns = {}
    for name, column in zip(batch.schema.names, batch.columns):
        columns[name] = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = batch.num_rows
    if "candidate" not in columns or "objectId" not in columns:
        raise UnreadableFile(path, "alert rows without objectId or candidate")
    try:
        object_id = _conform_array(columns["objectId"], "objectId", "str")
        cand = columns["candidate"]
        if cand.null_count:
            first = object_id[pc.index(cand.is_null(), True).as_py()].as_py()
            raise UnreadableFile(path, f"alert {first} has no candidate")
        candidate = _conform_children(cand, CANDIDATE_FIELDS)
        history, history_length = _conform_history_columns(columns.get("prv_candidates"), n)
        candid = candidate["candid"]
        if "candid" in columns:
            candid = pc.coalesce(_conform_array(columns["candid"], "candid", "int"), candid)
        fink = _fink_columns(
            {
                name: _arrow_fink_values(name, col)
                for name, col in columns.items()
                if name not in ZTF_TOP_LEVEL
            },
            n,
        )
        return _checked(
            path,
            AlertColumns(
                n=n,
                object_id=object_id,
                candid=candid,
                schemavsn=_optional_array(columns.get("schemavsn"), "schemavsn", "str", n),
                publisher=_optional_array(columns.get("publisher"), "publisher", "str", n),
                candidate=candidate,
                history=history,
                history_length=history_length,
                cutouts={k: _stamp_array(columns.get(c), n) for k, c in _CUTOUTS.items()},
                fink=fink,
                fp_hists=columns["fp_hists"].to_pylist() if "fp_hists" in columns else None,
            ),
        )
    except _ColumnError as exc:
        raise UnreadableFile(path, str(exc)) from exc


def _checked(path: Path, columns: AlertColumns) -> AlertColumns:
    """Refuse alerts without objectId, candid or jd (a row key cannot be made without them)."""
    missing = pc.or_(columns.object_id.is_null(), columns.candid.is_null())
    if pc.any(missing).as_py():
        i = pc.index(missing, True).as_py()
        raise UnreadableFile(
            path,
            f"alert without objectId or candid ({columns.object_id[i].as_py()}, "
            f"{columns.candid[i].as_py()})",
        )
    jd = columns.candidate["jd"]
    if jd.null_count:
        i = pc.index(jd.is_null(), True).as_py()
        raise UnreadableFile(path, f"alert {columns.object_id[i].as_py()} has no jd")
    return columns


class _ColumnError(Exception):
    """A column whose values cannot be converted to the declared kind without guessing."""


def _conform_array(arr: pa.Array, name: str, kind: str) -> pa.Array:
    """Cast one Arrow array to the Arrow type of ``kind``, placeholders removed."""
    target = _ARROW_TYPES[kind]
    if not _COMPATIBLE[kind](arr.type):
        try:
            if pa.types.is_null(arr.type):
                arr = pa.nulls(len(arr), target)
            elif pa.types.is_dictionary(arr.type):
                arr = arr.cast(arr.type.value_type).cast(target)
            elif kind == "int" and pa.types.is_floating(arr.type):
                # pandas writes integer columns holding nulls as doubles with NaN for null.
                arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr).cast(target)
            else:
                arr = arr.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _ColumnError(f"column {name}: cannot read {arr.type} as {kind}: {exc}") from exc
    tokens = _NULL_TOKENS.get(name)
    if tokens:
        arr = pc.if_else(pc.is_in(arr, value_set=pa.array(tokens)), pa.scalar(None, target), arr)
    return arr


def _optional_array(arr: pa.Array | None, name: str, kind: str, n: int) -> pa.Array:
    if arr is None:
        return pa.nulls(n, _ARROW_TYPES[kind])
    return _conform_array(arr, name, kind)


def _conform_children(arr: pa.Array, fields: dict[str, Column]) -> dict[str, pa.Array]:
    """The children of a struct array as ``fields`` (in order, missing ones all null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    # flatten() applies the struct's own nulls to its children.
    present = {arr.type.field(i).name: child for i, child in enumerate(arr.flatten())}
    children = {}
    for name, column in fields.items():
        child = present.get(name)
        if child is None:
            children[name] = pa.nulls(len(arr), _ARROW_TYPES[column.kind])
        else:
            children[name] = _conform_array(child, name, column.kind)
    return children


def _conform_history_columns(arr: pa.Array | None, n: int) -> tuple[dict[str, pa.Array], np.ndarray]:
    """A list<struct> history column as (point columns, points per alert); [] for null."""
    if arr is None or pa.types.is_null(arr.type):
        empty = {name: pa.nulls(0, _ARROW_TYPES[c.kind]) for name, c in PRV_CANDIDATE_FIELDS.items()}
        return empty, np.zeros(n, np.int64)
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        raise _ColumnError(f"column prv_candidates: {arr.type} is not a list")
    # flatten() skips the values behind null lists and honours slicing.
    lengths = pc.list_value_length(arr).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return _conform_children(arr.flatten(), PRV_CANDIDATE_FIELDS), lengths


def _stamp_array(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None or pa.types.is_null(arr.type) or not pa.types.is_struct(arr.type):
        return pa.nulls(n, pa.binary())
    index = arr.type.get_field_index("stampData")
    if index < 0:
        return pa.nulls(n, pa.binary())
    stamps = arr.flatten()[index]
    if not (pa.types.is_binary(stamps.type) or pa.types.is_large_binary(stamps.type)):
        stamps = stamps.cast(pa.binary())
    return stamps


def _arrow_fink_values(name: str, arr: pa.Array) -> pa.Array | list | dict[str, pa.Array | list]:
    """One Fink column converted at the Arrow level: Arrow for scalar kinds, else a list."""
    if name == "mulens" and pa.types.is_struct(arr.type):
        children = dict(
            zip([arr.type.field(i).name for i in range(arr.type.num_fields)], arr.flatten())
        )
        return {
            target: children[source].to_pylist() if source in children else [None] * len(arr)
            for source, target in MULENS_STRUCT_FIELDS.items()
        }
    target = FINK_RENAMES.get(name, name)
    kind = FINK_FIELDS[target].kind
    if target in TIMESTAMP_FIELDS:
        return _arrow_seconds(arr, target)
    if kind in _ARROW_TYPES:
        return _conform_array(arr, target, kind)
    return arr.to_pylist()


def _arrow_seconds(arr: pa.Array, name: str) -> pa.Array:
    """Timestamps (Arrow timestamp or ISO string) as float seconds since 1970 UTC."""
    try:
        if pa.types.is_null(arr.type):
            return pa.nulls(len(arr), pa.float64())
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.timestamp("us"))
        if not pa.types.is_timestamp(arr.type):
            raise _ColumnError(f"column {name}: {arr.type} is not a timestamp")
        ticks_per_second = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[arr.type.unit]
        # The ticks of an Arrow timestamp are UTC whether or not it carries a time zone.
        # Float seconds near 1.7e9 resolve ~0.2 us anyway: the unsafe (rounding) cast loses nothing.
        return pc.divide(arr.cast(pa.int64()).cast(pa.float64(), safe=False), ticks_per_second)
    except pa.ArrowInvalid as exc:
        raise _ColumnError(f"column {name}: unreadable timestamp: {exc}") from exc


# ---- Avro -----------------------------------------------------------------------------------


def _read_avro_columns(path: Path, batch_size: int | None, fp_hists: bool) -> Iterator[AlertColumns]:
    with open(path, "rb") as fh:
        try:
            reader = fastavro.reader(fh)
        except Exception as exc:  # fastavro raises assorted types for a bad header
            raise UnreadableFile(path, f"cannot read Avro header: {exc}") from exc
        plan = _AvroPlan(path, reader.writer_schema)
        records = iter(reader)
        size = batch_size or 20_000
        while True:
            batch = []
            try:
                for record in records:
                    batch.append(record)
                    if len(batch) == size:
                        break
            except Exception as exc:  # EOFError, ValueError, codec errors: damage inside a block
                raise UnreadableFile(
                    path, f"cannot decode Avro data: {type(exc).__name__}: {exc}"
                ) from exc
            if not batch:
                return
            yield plan.normalize(batch, fp_hists)
            if len(batch) < size:
                return


class _AvroPlan:
    """What one Avro file's writer schema adds, worked out once per file."""

    def __init__(self, path: Path, schema: dict) -> None:
        self.path = path
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        cand_names = _record_field_names(fields.get("candidate"), schema)
        cand_extra = [k for k in cand_names if k not in CANDIDATE_FIELDS]
        unknown = [n for n in fields if n not in IGNORED_COLUMNS and not _is_known_top_level(n)]
        _warn_unknown(path, unknown + [f"candidate.{k}" for k in cand_extra])
        self.fink_names = [
            n
            for n in fields
            if n not in ZTF_TOP_LEVEL and n not in IGNORED_COLUMNS and _is_known_top_level(n)
        ]

    def normalize(self, records: list[dict], fp_hists: bool = False) -> AlertColumns:
        try:
            return self._normalize(records, fp_hists)
        except _ColumnError as exc:
            raise UnreadableFile(self.path, str(exc)) from exc

    def _normalize(self, records: list[dict], fp_hists: bool) -> AlertColumns:
        candidates = [record["candidate"] for record in records]
        if None in candidates:
            missing = records[candidates.index(None)].get("objectId")
            raise UnreadableFile(self.path, f"alert {missing} has no candidate")
        points, lengths = [], []
        for record in records:
            history = record.get("prv_candidates") or ()
            points.extend(history)
            lengths.append(len(history))
        fink_values = {
            name: _python_fink_values(name, [r.get(name) for r in records])
            for name in self.fink_names
        }
        # Fields a schema lacks come out null, fields it adds are left out.
        candidate = _python_struct_columns(candidates, CANDIDATE_FIELDS, "candidate")
        candid = [
            c if c is not None else cand for c, cand in zip(
                (r.get("candid") for r in records), candidate["candid"].to_pylist()
            )
        ]
        n = len(records)
        return _checked(
            self.path,
            AlertColumns(
                n=n,
                object_id=_python_array([r.get("objectId") for r in records], "objectId", "str"),
                candid=_python_array(candid, "candid", "int"),
                schemavsn=_python_array([r.get("schemavsn") for r in records], "schemavsn", "str"),
                publisher=_python_array([r.get("publisher") for r in records], "publisher", "str"),
                candidate=candidate,
                history=_python_struct_columns(points, PRV_CANDIDATE_FIELDS, "prv_candidates"),
                history_length=np.array(lengths, np.int64),
                cutouts={
                    k: _python_array(
                        [(r.get(column) or {}).get("stampData") for r in records], column, "bytes"
                    )
                    for k, column in _CUTOUTS.items()
                },
                fink=_fink_columns(fink_values, n),
                fp_hists=[r.get("fp_hists") for r in records] if fp_hists else None,
            ),
        )


def _python_array(values: list, name: str, kind: str) -> pa.Array:
    """Python values of one kind as an Arrow array; integral floats of an int field become ints."""
    target = _ARROW_TYPES[kind]
    try:
        return pa.array(values, type=target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        pass
    try:
        return pa.array([_python_scalar(v, kind, name, ()) for v in values], type=target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
        raise _ColumnError(f"column {name}: values are not of kind {kind}: {exc}") from exc


_STRUCT_TYPES: dict[int, pa.DataType] = {}


def _python_struct_columns(records: list[dict], fields: dict[str, Column], name: str) -> dict[str, pa.Array]:
    """ZTF records (candidates or history points) as one Arrow array per field of ``fields``,
    converted in C; a field a record lacks is null. ``ssnamenr`` placeholders become null, and a
    number there its text."""
    struct_type = _STRUCT_TYPES.get(id(fields))
    if struct_type is None:
        struct_type = _STRUCT_TYPES[id(fields)] = pa.struct(
            [(k, _ARROW_TYPES[c.kind]) for k, c in fields.items()]
        )
    try:
        columns = dict(zip(fields, pa.array(records, type=struct_type).flatten()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        # A field of another type than declared (an int field holding doubles, a numeric
        # ssnamenr...): field by field, converting what can be converted without guessing.
        columns = {}
        for k, c in fields.items():
            values = [r.get(k) for r in records]
            if k == "ssnamenr":
                values = [v if v is None or isinstance(v, str) else str(v) for v in values]
            columns[k] = _python_array(values, f"{name}.{k}", c.kind)
    columns["ssnamenr"] = _conform_array(columns["ssnamenr"], "ssnamenr", "str")
    return columns


def _resolve(avro_type, schema: dict):
    """Strip a ["null", T] union and follow a reference to a named record type."""
    if isinstance(avro_type, list):
        rest = [t for t in avro_type if t != "null"]
        avro_type = rest[0] if len(rest) == 1 else None
    if isinstance(avro_type, str) and avro_type not in _AVRO_PRIMITIVES:
        avro_type = _find_named_record(schema, avro_type)
    return avro_type


_AVRO_PRIMITIVES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)


def _find_named_record(node, name: str) -> dict | None:
    """The record named ``name`` (short or full name) defined somewhere in ``node``."""
    if isinstance(node, list):
        for item in node:
            if (found := _find_named_record(item, name)) is not None:
                return found
    elif isinstance(node, dict):
        if node.get("type") == "record":
            full = (
                f"{node['namespace']}.{node['name']}"
                if node.get("namespace")
                else node.get("name", "")
            )
            if name in (node.get("name"), full, full.rsplit(".", 1)[-1]):
                return node
            return _find_named_record([f.get("type") for f in node.get("fields", [])], name)
        return _find_named_record([node.get("items"), node.get("values")], name)
    return None


def _record_field_names(avro_type, schema: dict) -> set[str]:
    avro_type = _resolve(avro_type, schema)
    if isinstance(avro_type, dict) and avro_type.get("type") == "record":
        return {f["name"] for f in avro_type["fields"]}
    return set()


def _array_items(avro_type, schema: dict):
    avro_type = _resolve(avro_type, schema)
    if isinstance(avro_type, dict) and avro_type.get("type") == "array":
        return avro_type["items"]
    return None


def _python_fink_values(name: str, values: list) -> list | dict[str, list]:
    """The Avro counterpart of `_arrow_fink_values`: same conversions on Python values."""
    if name == "mulens" and any(isinstance(v, dict) for v in values):
        return {
            target: [(v or {}).get(source) for v in values]
            for source, target in MULENS_STRUCT_FIELDS.items()
        }
    target = FINK_RENAMES.get(name, name)
    if target in TIMESTAMP_FIELDS:
        return [_python_seconds(v, target) for v in values]
    kind = FINK_FIELDS[target].kind
    tokens = _NULL_TOKENS.get(target, ())
    return [_python_scalar(v, kind, target, tokens) for v in values]


def _python_scalar(value, kind: str, name: str, tokens: tuple[str, ...]):
    if value is None:
        return None
    if kind == "int" and isinstance(value, float):
        if math.isnan(value):
            return None
        if not value.is_integer():
            raise _ColumnError(f"column {name}: {value} is not an integer")
        return int(value)
    if kind == "float" and isinstance(value, int):
        return float(value)
    if kind == "str" and value in tokens:
        return None
    return value


def _python_seconds(value, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise _ColumnError(f"column {name}: unreadable timestamp {value!r}") from exc
    if not isinstance(value, datetime):
        # A bare number could be s, ms or us since 1970: refuse rather than guess the unit.
        raise _ColumnError(f"column {name}: {type(value).__name__} is not a timestamp")
    if value.tzinfo is None:  # Fink writes UTC without saying so
        value = value.replace(tzinfo=UTC)
    return value.timestamp()



# ---- shared -------------------------------------------------------------------------------


def _fink_columns(
    by_column: dict[str, pa.Array | list | dict[str, list]], n: int
) -> dict[str, pa.Array | list]:
    """The Fink columns of a batch under their ``FINK_FIELDS`` names, in that order.

    ``by_column`` holds each Fink column of the file as converted by `_arrow_fink_values` or
    `_python_fink_values`. Old names are renamed (a file holding both names keeps the new
    one's values), old SIMBAD labels mapped, maps made dicts; scalar kinds become Arrow arrays.
    """
    by_name: dict[str, pa.Array | list] = {}
    for name, column_values in by_column.items():
        if isinstance(column_values, dict):  # an old mulens struct, already split
            by_name.update(column_values)
        elif name not in FINK_RENAMES:
            by_name[name] = column_values
    for old, new in FINK_RENAMES.items():
        if old in by_column and new not in by_name:
            by_name[new] = by_column[old]
    columns: dict[str, pa.Array | list] = {}
    for name, column in FINK_FIELDS.items():
        if name not in by_name:
            continue
        values = by_name[name]
        if name == "cdsxmatch":
            values = [SIMBAD_RENAMES.get(v, v) for v in _pylist(values)]
        if column.kind in _ARROW_TYPES:
            if not isinstance(values, pa.Array):
                values = _python_array(values, name, column.kind)
            if len(values) != n:
                raise _ColumnError(f"column {name}: {len(values)} values for {n} alerts")
        else:
            values = _pylist(values)
            if column.kind == "struct":
                # Arrow and Avro maps arrive as lists of (key, value) pairs.
                values = [dict(v) if isinstance(v, list) else v for v in values]
        columns[name] = values
    return columns


# --------------------------------------------------------------------------------------------
# Fink's Solar System tables
# --------------------------------------------------------------------------------------------


def read_sso_aggregated(path: str | os.PathLike) -> Iterator[dict]:
    """Yield Fink's aggregated light curve of each asteroid in one file.

    Parameters
    ----------
    path : str or PathLike
        A file ``sniff`` calls ``sso-aggregated``.

    Yields
    ------
    dict
        One asteroid: ``ssnamenr`` (str) and the per-point lists exactly as stored, all of one
        length: ``cjd`` (Julian date), ``cmagpsf``, ``csigmapsf`` (mag), ``cfid`` (1 g, 2 r),
        ``cra``, ``cdec`` (deg); files from 2025 add the ephemerides ``Phase`` (deg), ``Dobs``
        and ``Dhelio`` (au), ``Elong`` (deg), ``RA`` and ``DEC`` (deg), None where Fink had
        no ephemerides for the asteroid. Any other column is passed through under its own name.

    Raises
    ------
    UnreadableFile
        The file is not an aggregated light-curve file, or cannot be read whole.
    """
    yield from _parquet_rows(path, {"sso-aggregated"})


def read_fink_fat(path: str | os.PathLike) -> Iterator[dict]:
    """Yield the rows of a Fink-FAT (asteroid candidate) orbit or trajectory file.

    Parameters
    ----------
    path : str or PathLike
        A file ``sniff`` calls ``fink-fat-orbits`` or ``fink-fat-trajectories``.

    Yields
    ------
    dict
        One row with Fink's column names, keyed by ``ssoCandId``. Orbits (one row per
        candidate): ``ref_epoch`` (JD), ``a`` (au), ``e``, ``i``, ``long. node``,
        ``arg. peric``, ``mean anomaly`` (deg), their ``rms_*`` uncertainties and
        ``chi_reduced``. Trajectories (one row per associated alert): ``objectId``, ``candid``,
        ``ra``, ``dec``, ``jd``, ``nid``, ``fid``, ``magpsf``, ``sigmapsf``, ``dcmag``,
        ``dcmag_err``, ``ssnamenr``, ``not_updated``, ``last_assoc_date``, ``assoc_tag``.

    Raises
    ------
    UnreadableFile
        The file is not a Fink-FAT file, or cannot be read whole.
    """
    yield from _parquet_rows(path, {"fink-fat-orbits", "fink-fat-trajectories"})


def _parquet_rows(path: str | os.PathLike, kinds: set[str]) -> Iterator[dict]:
    kind = sniff(path)
    if kind not in kinds:
        raise UnreadableFile(path, f"expected {' or '.join(sorted(kinds))}, found {kind}")
    pf = _open_parquet(Path(path))
    names = [n for n in pf.schema_arrow.names if n not in IGNORED_COLUMNS]
    batches = pf.iter_batches(columns=names)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise UnreadableFile(path, f"cannot decode Parquet data: {exc}") from exc
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*columns):
            yield dict(zip(names, row))

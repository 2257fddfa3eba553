"""Read alert files (Parquet and Avro) into normalized alert dicts, and Fink's SSO tables.

This is the file-reading layer of ingestion: no Django, no store. `sniff` says what a file is
by its content; `read_alerts` yields batches of alerts normalized to the canonical columns of
`alerts.schema`, whatever the file's age; `read_sso_aggregated` and `read_fink_fat` read Fink's
Solar System tables. Anything that cannot be read whole raises `UnreadableFile`, never a raw
pyarrow or fastavro error, so the caller can discard that file's writes and go on.

Parquet is converted column by column in Arrow (casts, missing fields added as nulls) before a
single `to_pylist()` per column; going through pandas or row-by-row `as_py()` on the nested
`prv_candidates` is several times slower.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice, repeat
from pathlib import Path

import fastavro
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
    "UnreadableFile",
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


def _open_parquet(path: Path) -> pq.ParquetFile:
    """Open a Parquet file after checking both magic numbers, or raise UnreadableFile."""
    size = path.stat().st_size
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
    names = set(_open_parquet(path).schema_arrow.names)
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
# read_alerts
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
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    kind = sniff(path)
    if kind == "alerts-parquet":
        yield from _read_parquet_alerts(Path(path), batch_size)
    elif kind == "alerts-avro":
        yield from _read_avro_alerts(Path(path), batch_size)
    else:
        raise UnreadableFile(path, f"not an alert file (it is {kind})")


# ---- Parquet ---------------------------------------------------------------------------------


def _read_parquet_alerts(path: Path, batch_size: int) -> Iterator[list[dict]]:
    pf = _open_parquet(path)
    names = pf.schema_arrow.names
    wanted = [n for n in names if n not in IGNORED_COLUMNS and _is_known_top_level(n)]
    _warn_unknown(
        path, [n for n in names if n not in IGNORED_COLUMNS and not _is_known_top_level(n)]
    )
    batches = pf.iter_batches(batch_size=batch_size, columns=wanted)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise UnreadableFile(path, f"cannot decode Parquet data: {exc}") from exc
        yield _alerts_from_batch(path, batch)


def _is_known_top_level(name: str) -> bool:
    return name in ZTF_TOP_LEVEL or FINK_RENAMES.get(name, name) in FINK_FIELDS or name == "mulens"


def _warn_unknown(path: Path, names: list[str]) -> None:
    if names:
        logger.warning(
            "%s: columns not in alerts.schema skipped: %s", path, ", ".join(sorted(names))
        )


def _alerts_from_batch(path: Path, batch: pa.RecordBatch) -> list[dict]:
    columns = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
    n = batch.num_rows
    if "candidate" not in columns or "objectId" not in columns:
        raise UnreadableFile(path, "alert rows without objectId or candidate")
    try:
        candidates = _conform_struct(columns["candidate"], CANDIDATE_FIELDS).to_pylist()
        prv = _conform_history(columns.get("prv_candidates"), PRV_CANDIDATE_FIELDS, n)
        object_ids = _scalar_list(columns["objectId"], "str")
        candids = _scalar_list(columns["candid"], "int") if "candid" in columns else [None] * n
        schemavsn = (
            _scalar_list(columns["schemavsn"], "str") if "schemavsn" in columns else [None] * n
        )
        publisher = (
            _scalar_list(columns["publisher"], "str") if "publisher" in columns else [None] * n
        )
        fp_hists = columns["fp_hists"].to_pylist() if "fp_hists" in columns else repeat(None)
        cutouts = [_stamp_list(columns.get(column), n) for column in _CUTOUTS.values()]
        fink = _fink_rows(
            {
                name: _arrow_fink_values(name, col)
                for name, col in columns.items()
                if name not in ZTF_TOP_LEVEL
            },
            n,
        )
    except _ColumnError as exc:
        raise UnreadableFile(path, str(exc)) from exc
    return _assemble(
        path, object_ids, candids, schemavsn, publisher, candidates, prv, fp_hists, cutouts, fink
    )


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


def _conform_struct(arr: pa.Array, fields: dict[str, Column]) -> pa.StructArray:
    """Rebuild a struct array with exactly ``fields``, in order, missing ones as nulls."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    present = {arr.type.field(i).name: child for i, child in enumerate(arr.flatten())}
    children = []
    for name, column in fields.items():
        child = present.get(name)
        if child is None:
            children.append(pa.nulls(len(arr), _ARROW_TYPES[column.kind]))
        else:
            children.append(_conform_array(child, name, column.kind))
    mask = arr.is_null() if arr.null_count else None
    return pa.StructArray.from_arrays(children, names=list(fields), mask=mask)


def _conform_history(arr: pa.Array | None, fields: dict[str, Column], n: int) -> list:
    """Conform a list<struct> column; returns Python lists of dicts, [] for null or absent."""
    if arr is None:
        return [[] for _ in range(n)]
    if pa.types.is_null(arr.type):
        return [[] for _ in range(n)]
    values = _conform_struct(arr.values, fields)
    mask = arr.is_null() if arr.null_count else None
    list_class = pa.LargeListArray if pa.types.is_large_list(arr.type) else pa.ListArray
    # Null lists come back as None; `_assemble` turns them into [].
    return list_class.from_arrays(arr.offsets, values, mask=mask).to_pylist()


def _scalar_list(arr: pa.Array, kind: str, name: str = "") -> list:
    return _conform_array(arr, name, kind).to_pylist()


def _stamp_list(arr: pa.Array | None, n: int) -> list:
    if arr is None or pa.types.is_null(arr.type):
        return [None] * n
    index = arr.type.get_field_index("stampData")
    if index < 0:
        return [None] * n
    return arr.flatten()[index].to_pylist()


def _arrow_fink_values(name: str, arr: pa.Array) -> list | dict[str, list]:
    """Python values of one Fink column, converted at the Arrow level where possible."""
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
        return _arrow_seconds(arr, target).to_pylist()
    if kind in _ARROW_TYPES:
        return _conform_array(arr, target, kind).to_pylist()
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


def _read_avro_alerts(path: Path, batch_size: int) -> Iterator[list[dict]]:
    with open(path, "rb") as fh:
        try:
            reader = fastavro.reader(fh)
        except Exception as exc:  # fastavro raises assorted types for a bad header
            raise UnreadableFile(path, f"cannot read Avro header: {exc}") from exc
        plan = _AvroPlan(path, reader.writer_schema)
        records = iter(reader)
        while True:
            batch = []
            try:
                for record in records:
                    batch.append(record)
                    if len(batch) == batch_size:
                        break
            except Exception as exc:  # EOFError, ValueError, codec errors: damage inside a block
                raise UnreadableFile(
                    path, f"cannot decode Avro data: {type(exc).__name__}: {exc}"
                ) from exc
            if not batch:
                return
            yield plan.normalize(batch)
            if len(batch) < batch_size:
                return


class _AvroPlan:
    """What one Avro file's writer schema lacks or adds, worked out once per file."""

    def __init__(self, path: Path, schema: dict) -> None:
        self.path = path
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        cand_names = _record_field_names(fields.get("candidate"), schema)
        prv_names = _record_field_names(_array_items(fields.get("prv_candidates"), schema), schema)
        self.cand_missing = {k: None for k in CANDIDATE_FIELDS if k not in cand_names}
        self.cand_extra = [k for k in cand_names if k not in CANDIDATE_FIELDS]
        self.prv_missing = {k: None for k in PRV_CANDIDATE_FIELDS if k not in prv_names}
        self.prv_extra = [k for k in prv_names if k not in PRV_CANDIDATE_FIELDS]
        unknown = [n for n in fields if n not in IGNORED_COLUMNS and not _is_known_top_level(n)]
        _warn_unknown(path, unknown + [f"candidate.{k}" for k in self.cand_extra])
        self.fink_names = [
            n
            for n in fields
            if n not in ZTF_TOP_LEVEL and n not in IGNORED_COLUMNS and _is_known_top_level(n)
        ]

    def normalize(self, records: list[dict]) -> list[dict]:
        try:
            return self._normalize(records)
        except _ColumnError as exc:
            raise UnreadableFile(self.path, str(exc)) from exc

    def _normalize(self, records: list[dict]) -> list[dict]:
        candidates = []
        for record in records:
            candidate = record["candidate"]
            if candidate is None:
                raise UnreadableFile(self.path, f"alert {record.get('objectId')} has no candidate")
            _fix_record(candidate, self.cand_missing, self.cand_extra)
            candidates.append(candidate)
        prv = []
        for record in records:
            history = record.get("prv_candidates") or []
            for entry in history:
                _fix_record(entry, self.prv_missing, self.prv_extra)
            prv.append(history)
        fink_values = {
            name: _python_fink_values(name, [r.get(name) for r in records])
            for name in self.fink_names
        }
        cutouts = [
            [(r.get(column) or {}).get("stampData") for r in records]
            for column in _CUTOUTS.values()
        ]
        return _assemble(
            self.path,
            [r.get("objectId") for r in records],
            [r.get("candid") for r in records],
            [r.get("schemavsn") for r in records],
            [r.get("publisher") for r in records],
            candidates,
            prv,
            [r.get("fp_hists") for r in records],
            cutouts,
            _fink_rows(fink_values, len(records)),
        )


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


def _fix_record(record: dict, missing: dict, extra: list[str]) -> None:
    """Give a ZTF record (candidate or history entry) the canonical keys, in place."""
    for key in missing:
        record.setdefault(key, None)  # never overwrites, even if the schema plan were wrong
    for key in extra:
        del record[key]
    name = record["ssnamenr"]
    if name is not None and (name in _NULL_TOKENS["ssnamenr"] or not isinstance(name, str)):
        record["ssnamenr"] = None if name in _NULL_TOKENS["ssnamenr"] else str(name)


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


def _fink_rows(by_column: dict[str, list | dict[str, list]], n: int) -> list[dict]:
    """Per-alert Fink dicts with every key of FINK_FIELDS, from per-column value lists."""
    by_name: dict[str, list] = {}
    for name, column_values in by_column.items():
        if isinstance(column_values, dict):  # an old mulens struct, already split
            by_name.update(column_values)
        elif name not in FINK_RENAMES:
            by_name[name] = column_values
    for old, new in FINK_RENAMES.items():
        # A file holding both names keeps the new one's values.
        if old in by_column and new not in by_name:
            by_name[new] = by_column[old]
    if "cdsxmatch" in by_name:
        by_name["cdsxmatch"] = [SIMBAD_RENAMES.get(v, v) for v in by_name["cdsxmatch"]]
    for name in by_name.keys() & _STRUCT_FINK_FIELDS:
        # Arrow and Avro maps arrive as lists of (key, value) pairs.
        by_name[name] = [dict(v) if isinstance(v, list) else v for v in by_name[name]]
    # Copying an all-None template and updating the present columns beats building each dict.
    template = dict.fromkeys(FINK_FIELDS)
    present = [name for name in FINK_FIELDS if name in by_name]
    rows = []
    for values in (
        islice(zip(*[by_name[name] for name in present]), n) if present else repeat((), n)
    ):
        row = template.copy()
        row.update(zip(present, values))
        rows.append(row)
    return rows


_STRUCT_FINK_FIELDS = frozenset(
    name for name, column in FINK_FIELDS.items() if column.kind == "struct"
)


def _assemble(
    path, object_ids, candids, schemavsn, publisher, candidates, prv, fp_hists, cutouts, fink
) -> list[dict]:
    alerts = []
    for (
        object_id,
        candid,
        version,
        pub,
        candidate,
        history,
        fp,
        science,
        template,
        difference,
        extra,
    ) in zip(object_ids, candids, schemavsn, publisher, candidates, prv, fp_hists, *cutouts, fink):
        if candid is None:
            candid = candidate["candid"]
        if object_id is None or candid is None:
            raise UnreadableFile(path, f"alert without objectId or candid ({object_id}, {candid})")
        alerts.append(
            {
                "objectId": object_id,
                "candid": int(candid),
                "schemavsn": version,
                "publisher": pub,
                "candidate": candidate,
                "prv_candidates": history or [],
                "fp_hists": fp or [],
                "cutouts": {"Science": science, "Template": template, "Difference": difference},
                "fink": extra,
            }
        )
    return alerts


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

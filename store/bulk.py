"""Bulk writes: many rows of one table given column by column, keyed and encoded in bulk.

    block = RowBlock(UpperLimit, {"i:objectId": oids, "i:jd": jds, "i:magpsf": mags})
    write_blocks(store, {UpperLimit: [block], Alert: [...]})

A column is an Arrow array, a numpy array or a list, one value per row; a null (Arrow null,
None) is an absent cell, never "remove this cell", so a bulk write adds what it holds and never
erases what an earlier write said, like a put of the same rows without their None values.
The rows land exactly as ``Manager.batch().put(row)`` would write them: same keys (each codec's
``key_text``), same typed values, cells merged into existing rows.

Why it exists: ingestion writes some 30 rows per alert, most of them rows of a handful of
shapes (the history points of the alerts). One Python dict per row, a coercion per cell and a
msgpack call per row cost many times reading the files. Here each column is converted once
(numpy/Arrow); the embedded store's rows of one shape are assembled at once with numpy, byte for
byte as the backend would pack them (rows of many shapes are packed by msgpack from lists);
keys are sorted and put with one LMDB call per table and transaction; HBase cells are sent in
large batches over several connections at once.

The embedded fast path writes LMDB through the embedded backend's own environment, lock and
row layout: the layout of each shape of row assembled here is checked against the backend's own
encoding of one of its rows, and if they differ (the layout changed) those rows are encoded by
the backend's code (same result, slower). Other backends take ``Manager.batch``.
"""
from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import compress, pairwise, repeat
from operator import is_not
from typing import Any

import msgpack
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .codecs import Bool, Bytes, Float, Int, Str, Struct, pack, unpack
from .exceptions import BadKey, BadValue, UnknownColumn
from .model import Table

__all__ = ["RowBlock", "delete_keys", "write_blocks"]

logger = logging.getLogger(__name__)

# Rows of one table written per LMDB transaction, at most (bytes of encoded values): a bound on
# the memory LMDB holds dirty and on how long another writer waits for the lock.
TRANSACTION_BYTES = 128 << 20
# HBase: cells and bytes per Thrift call, and calls in flight (each on its own pooled
# connection). The Thrift server holds a whole call in memory, several times over while it
# decodes it: 4 calls of 20k cells of cutouts (5 kB each) exhausted its 512 MB heap.
HBASE_CELLS_PER_CALL = 20_000
# Rows per call: a region server warns above 5,000 rows in one batch (HBASE-18023), and batches of
# 20k one-cell rows from 8 writers at once took the standalone server's 2 GB heap.
HBASE_ROWS_PER_CALL = 2_000
HBASE_BYTES_PER_CALL = 4 << 20
HBASE_THREADS = 4


# -- columns ---------------------------------------------------------------------------------------
class _Column:
    """One column of a block: which rows hold a value, and the values in one array.

    ``kind`` is the codec's name. Scalars (float, int, bool) are a numpy array (``values``);
    str and bytes an Arrow array; struct a list of Python values (None where absent).
    """

    __slots__ = ("all_valid", "codec", "kind", "name", "valid", "values")

    def __init__(self, name: str, kind: str, codec, valid: np.ndarray, values):
        self.name, self.kind, self.codec = name, kind, codec
        self.valid = valid
        self.values = values
        self.all_valid = bool(valid.all()) if len(valid) else True

    def take(self, indices: np.ndarray) -> _Column:
        if self.kind in ("str", "bytes"):
            values = self.values.take(pa.array(indices))
        elif self.kind == "struct":
            values = [self.values[i] for i in indices.tolist()]
        else:
            values = self.values[indices]
        return _Column(self.name, self.kind, self.codec, self.valid[indices], values)

    def values_at(self, rows: np.ndarray) -> list:
        """Python values of these rows (that hold one)."""
        if self.kind in ("str", "bytes"):
            return self.values.take(pa.array(rows)).to_pylist()
        if self.kind == "struct":
            return [self.values[i] for i in rows.tolist()]
        return self.values[rows].tolist()

    def pylist(self) -> list:
        """Python values, None where absent (the canonical values the codec's coerce gives)."""
        if self.kind in ("str", "bytes", "struct"):
            return self.values.to_pylist() if self.kind != "struct" else list(self.values)
        values = self.values.tolist()
        if not self.all_valid:
            values = [v if ok else None for v, ok in zip(values, self.valid.tolist())]
        return values


_KINDS = {Float: "float", Int: "int", Bool: "bool", Str: "str", Bytes: "bytes", Struct: "struct"}
_ARROW = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string(), "bytes": pa.binary()}


def _kind_of(codec) -> str:
    for cls, kind in _KINDS.items():
        if isinstance(codec, cls):
            return kind
    return "other"


def _arrow(name: str, data, kind: str, n: int) -> pa.Array:
    """``data`` as an Arrow array of the kind's type, or BadValue (never a silent conversion)."""
    target = _ARROW[kind]
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    if isinstance(data, np.ndarray):
        if kind == "float" and data.dtype.kind not in "fiu":
            raise BadValue(f"{name}: expected floats, got numpy {data.dtype}")
        if kind == "int" and data.dtype.kind not in "iu":
            raise BadValue(f"{name}: expected ints, got numpy {data.dtype}")
        if kind == "bool" and data.dtype.kind != "b":
            raise BadValue(f"{name}: expected bools, got numpy {data.dtype}")
        data = pa.array(data)
    elif not isinstance(data, pa.Array):
        try:
            data = pa.array(list(data), type=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
            raise BadValue(f"{name}: {exc}") from None
    if len(data) != n:
        raise BadValue(f"{name}: {len(data)} values for {n} rows")
    if data.type == target:
        return data
    t = data.type
    allowed = {
        "float": pa.types.is_floating(t) or pa.types.is_integer(t),
        "int": pa.types.is_integer(t),
        "bool": pa.types.is_boolean(t),
        "str": pa.types.is_string(t) or pa.types.is_large_string(t),
        "bytes": pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t),
    }[kind] or pa.types.is_null(t)
    if not allowed:
        raise BadValue(f"{name}: expected {kind} values, got Arrow {t}")
    try:
        return data.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:  # e.g. uint64 above 2**63
        raise BadValue(f"{name}: {exc}") from None


def _column(name: str, codec, data, n: int) -> _Column:
    kind = _kind_of(codec)
    if kind in ("struct", "other"):
        if isinstance(data, (pa.Array, pa.ChunkedArray)):
            data = data.to_pylist()
        values = list(data)
        if len(values) != n:
            raise BadValue(f"{name}: {len(values)} values for {n} rows")
        values = [None if v is None else codec.coerce(v) for v in values]
        valid = np.fromiter(map(is_not, values, repeat(None)), bool, n)
        return _Column(name, "struct", codec, valid, values)
    arr = _arrow(name, data, kind, n)
    valid = np.ones(n, bool) if not arr.null_count else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False))
    if kind in ("str", "bytes"):
        return _Column(name, kind, codec, valid, arr)
    if kind == "bool":
        values = np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), bool)
    elif kind == "int":
        values = np.asarray(arr.fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    else:  # nulls come out as NaN: masked by ``valid``
        values = np.asarray(arr.to_numpy(zero_copy_only=False), np.float64)
    return _Column(name, kind, codec, valid, values)


# -- a block of rows -------------------------------------------------------------------------------
class RowBlock:
    """Rows of one table, column by column.

    Parameters
    ----------
    table : Table subclass
        The table the rows belong to; every column must be one of its fields.
    columns : mapping of column name to values
        One value per row each (Arrow array, numpy array or list). Cells of a row are stored in
        this order. Nulls are absent cells. Float NaN is a value, as with ``put``.
    n : int, optional
        Number of rows (default: the length of the first column).
    keys : list of bytes, optional
        The rows' keys, when a caller already made them with `row_keys` of a block of the same
        rows and key columns (they are taken as given).

    Raises
    ------
    UnknownColumn, BadValue
        A column the table lacks, or values its codec would refuse.
    """

    def __init__(self, table: type[Table], columns: Mapping[str, Any], n: int | None = None, *,
                 keys: list[bytes] | None = None):
        self.table = table
        if n is None:
            first = next(iter(columns.values()), ())
            n = len(first)
        self.n = n
        self.columns: list[_Column] = []
        fields = table.fields_by_column
        for name, data in columns.items():
            field = fields.get(name)
            if field is None:
                raise UnknownColumn(f"table {table.name} has no column {name!r}")
            self.columns.append(_column(name, field.codec, data, n))
        if keys is not None and len(keys) != n:
            raise BadValue(f"{len(keys)} keys for {n} rows")
        self._keys: list[bytes] | None = keys

    @classmethod
    def _of(cls, table, columns: list[_Column], n: int, keys) -> RowBlock:
        block = cls.__new__(cls)
        block.table, block.columns, block.n, block._keys = table, columns, n, keys
        return block

    def __len__(self) -> int:
        return self.n

    def take(self, indices, table: type[Table] | None = None) -> RowBlock:
        """The rows at ``indices`` (in that order), optionally as rows of another table with
        the same fields (UpperLimit / BadQuality)."""
        indices = np.asarray(indices, dtype=np.int64)
        keys = None
        if self._keys is not None and (table is None or table.key.columns == self.table.key.columns):
            keys = [self._keys[i] for i in indices.tolist()]
        target = table or self.table
        if target is not self.table:
            missing = [c.name for c in self.columns if c.name not in target.fields_by_column]
            if missing:
                raise UnknownColumn(f"table {target.name} has no columns {missing}")
        return RowBlock._of(target, [c.take(indices) for c in self.columns], len(indices), keys)

    def cells_of(self, i: int) -> dict[str, Any]:
        """The present cells of row ``i``."""
        return {c.name: _value_at(c, i) for c in self.columns if c.valid[i]}

    def column(self, name: str) -> list:
        """The Python values of one column (None where absent)."""
        for c in self.columns:
            if c.name == name:
                return c.pylist()
        raise UnknownColumn(f"block of {self.table.name} has no column {name!r}")

    # -- keys ----------------------------------------------------------------------------------
    def row_keys(self) -> list[bytes]:
        """The row key of each row, exactly as ``table.key.of_row`` makes it."""
        if self._keys is None:
            self._keys = _row_keys(self)
        return self._keys

    # -- encodings -----------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """Plain ``{column: value}`` dicts, absent cells left out (for the ordinary path)."""
        names = [c.name for c in self.columns]
        lists = [c.pylist() for c in self.columns]
        return [dict(compress(zip(names, values), map(is_not, values, repeat(None)))) for values in zip(*lists)]

    def cells(self) -> list[dict[str, bytes]]:
        """Each row as HBase cells: ``{column: codec.encode(value)}`` for present cells."""
        return _hbase_cells(self)

    def one_cell_rows(self) -> list[bytes]:
        """Each row as the one cell of a ``one_cell`` HBase table: a msgpack map of its present
        cells (column bytes to ``codec.encode(value)``), columns sorted, byte for byte as
        ``msgpack.packb`` makes it from the sorted dict (the HBase backend's own packing)."""
        return _one_cell_rows(self)


# -- keys ------------------------------------------------------------------------------------------
def _key_texts(column: _Column) -> list[str]:
    codec = column.codec
    name = column.name
    if not column.all_valid:
        raise BadKey(f"row lacks key column {name!r}")
    kind = column.kind
    if kind == "str" and type(codec).key_text is Str.key_text:
        texts = column.values.to_pylist()
        if not all(texts):
            raise BadKey("a text key part must be a non-empty str")
        return texts
    if kind == "float" and type(codec).key_text is Float.key_text:
        values = column.values
        if not (np.isfinite(values) & (values >= 0.0)).all():
            bad = values[~(np.isfinite(values) & (values >= 0.0))][0]
            raise BadKey(f"a float key part must be a finite non-negative number, got {float(bad)!r}")
        fmt = f".{codec.key_decimals}f"
        texts = [format(v, fmt) for v in values.tolist()]
        if codec.key_width:
            width = codec.key_width
            texts = [t.zfill(width) for t in texts]
        return texts
    if kind == "int" and type(codec).key_text is Int.key_text:
        values = column.values
        if len(values) and values.min() < 0:
            raise BadKey(f"an int key part must be a non-negative int, got {int(values.min())!r}")
        texts = [str(v) for v in values.tolist()]
        width = codec.key_width
        if texts and max(map(len, texts)) > width:
            raise BadKey(f"int key part {max(values.tolist())} is wider than {width} digits")
        return [t.zfill(width) for t in texts]
    return [codec.key_text(v) for v in column.pylist()]


def _row_keys(block: RowBlock) -> list[bytes]:
    key = block.table.key
    by_name = {c.name: c for c in block.columns}
    parts = []
    for name in key.columns:
        column = by_name.get(name)
        if column is None:
            raise BadKey(f"row lacks key column {name!r}")
        texts = _key_texts(column)
        if any(key.sep in t for t in set(texts)):
            text = next(t for t in texts if key.sep in t)
            raise BadKey(f"key part {name}={text!r} holds the key separator {key.sep!r}")
        parts.append(texts)
    if len(parts) == 1:
        keys = [t.encode() for t in parts[0]]
    else:
        sep = key.sep
        keys = [sep.join(p).encode() for p in zip(*parts)]
    # The rule lives in RowKey: check a few rows against it, in case it changes.
    if keys:
        for i in {0, len(keys) // 2, len(keys) - 1}:
            expected = key.of_values(*(_value_at(by_name[c], i) for c in key.columns))
            if expected != keys[i]:
                return [key.of_row(row) for row in block.rows()]
    return keys


def _value_at(column: _Column, i: int):
    if column.kind in ("str", "bytes"):
        return column.values[i].as_py()
    if column.kind == "struct":
        return column.values[i]
    return column.values[i].item()


# -- embedded rows ---------------------------------------------------------------------------------
class _NewShape(Exception):
    """A row shape the backend has not registered yet (see _EmbeddedFormat.shape_ids)."""


class _EmbeddedFormat:
    """How the embedded backend lays a row out in its LMDB value, asked of the backend itself.

    Two layouts are known: a msgpack map ``{column: value}`` (``codecs.pack`` of the cells), or,
    when the backend has a row layout (``backend._layout``, see ``backends/packed.py``), a
    msgpack array of the values followed by the id of the row's shape (its column names, stored
    once), Struct values wrapped in a msgpack ext type. Rows assembled here are checked against
    the backend's own encoding of the same cells, one row per shape: if the layout changed,
    those rows are encoded by the backend's code instead (same rows, slower).
    """

    def __init__(self, backend, lock, lmdb_error):
        self.backend, self.lock, self.lmdb_error = backend, lock, lmdb_error
        self.layout = getattr(backend, "_layout", None)
        self.keyed = self.layout is None
        if not self.keyed:
            from .backends import packed

            self.packed = packed
            self.struct_ext = packed.STRUCT_EXT

    # -- shapes --------------------------------------------------------------------------------
    def _register(self, txn, shapes_db):
        shape_key = self.packed.shape_key

        def register(shape_id: int, names: tuple[str, ...]):
            key = shape_key(shape_id)
            stored = txn.get(key, db=shapes_db)
            if stored is None:
                txn.put(key, pack(list(names)), db=shapes_db)
                return None
            return tuple(unpack(stored))

        return register

    def shape_ids(self, shapes: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
        """The id of each shape, registering new ones (in one write transaction, if any)."""
        shapes = list(dict.fromkeys(shapes))
        if self.keyed:
            return {}
        layout = self.layout

        def unknown(shape_id, names):
            raise _NewShape

        try:
            return {names: layout.shape_id(names, unknown, {}) for names in shapes}
        except _NewShape:
            pass
        shapes_db = self.backend._named_db(self.packed.SHAPES_DB, create=True)
        pending: dict = {}
        try:
            with self.lock, self.backend._env().begin(write=True) as txn:
                register = self._register(txn, shapes_db)
                ids = {names: layout.shape_id(names, register, pending) for names in shapes}
        except self.lmdb_error as exc:
            raise self.backend._translate(exc) from None
        layout.committed(pending)
        return ids

    # -- rows ----------------------------------------------------------------------------------
    def header(self, count: int) -> bytes:
        """msgpack header of a row of ``count`` cells."""
        if self.keyed:
            return _container_header(count, 0x80, 0xDE)
        return _container_header(count + 1, 0x90, 0xDC)

    def trailer(self, shape_id: int | None) -> bytes:
        return b"" if self.keyed else pack(shape_id)

    def encode(self, table, cells: dict, shape_id_of) -> bytes:
        """The backend's own encoding of a row (``shape_id_of(names)`` gives shape ids)."""
        if self.keyed:
            return pack(cells)
        return self.layout.encode(table, cells, shape_id_of)



def _container_header(count: int, fix: int, code16: int) -> bytes:
    if count < 16:
        return bytes([fix | count])
    if count < 65536:
        return bytes([code16]) + count.to_bytes(2, "big")
    return bytes([code16 + 1]) + count.to_bytes(4, "big")


def _str_header(length: int, binary: bool) -> bytes:
    """The msgpack header of a str (or bin) value of ``length`` bytes."""
    if binary:
        if length < 256:
            return bytes([0xC4, length])
        return (b"\xc5" + length.to_bytes(2, "big")) if length < 65536 else (b"\xc6" + length.to_bytes(4, "big"))
    if length < 32:
        return bytes([0xA0 | length])
    if length < 256:
        return bytes([0xD9, length])
    return (b"\xda" + length.to_bytes(2, "big")) if length < 65536 else (b"\xdb" + length.to_bytes(4, "big"))


def _str_header_sizes(lengths: np.ndarray, binary: bool) -> np.ndarray:
    """The size of the msgpack header of str (or bin) values of these lengths."""
    sizes = np.where(lengths < 256, 2, np.where(lengths < 65536, 3, 5))
    if not binary:
        sizes = np.where(lengths < 32, 1, sizes)
    return sizes


class _Encoded:
    """How a column's values are laid out in msgpack, for assembling rows of one shape at once.

    Every cell is ``key`` (map layout only), then constant bytes (a type prefix, or a text
    header that depends only on the length, the same for all rows of a shape), then the value's
    own bytes: a numpy scalar (``values`` stored as ``dtype``: floats, bools, and ints, whose
    msgpack form depends on their size, see ``classes``) or bytes gathered from a buffer
    (``data`` at ``offsets``: Arrow text and binary, and packed Struct values). ``lengths``: the
    size of each variable-width cell. Values are encoded as msgpack-python encodes them, so
    rows assembled here are byte for byte the rows ``codecs.pack`` makes.
    """

    __slots__ = ("binary", "classes", "data", "dtype", "key", "lengths", "offsets", "prefix", "values")

    def __init__(self, key: bytes, *, prefix=b"", dtype=None, values=None, data=None, offsets=None,
                 lengths=None, binary=None, classes=None):
        self.key, self.prefix, self.dtype, self.values = key, prefix, dtype, values
        self.data, self.offsets, self.lengths, self.binary = data, offsets, lengths, binary
        self.classes = classes

    def width(self, row: int) -> int:
        if self.classes is not None:
            prefix, dtype = _INT_FORMS[self.classes[row]]
            return len(prefix) + dtype.itemsize
        if self.dtype is not None:
            return len(self.prefix) + self.dtype.itemsize
        return int(self.lengths[row])

    def constant(self, row: int) -> bytes:
        """The bytes of the cell before its value, in a shape whose first row is ``row``."""
        if self.classes is not None:
            return _INT_FORMS[self.classes[row]][0]
        if self.binary is None:  # fixed width, or packed Struct values (no header of their own)
            return self.prefix
        return _str_header(int(self.offsets[row + 1] - self.offsets[row]), self.binary)

    def field(self, row: int, width: int):
        """The numpy type of the value's bytes (``width`` long) in the shape of ``row``."""
        if self.classes is not None:
            return _INT_FORMS[self.classes[row]][1]
        return self.dtype if self.dtype is not None else np.dtype((np.uint8, (width,)))

    def gather(self, rows: np.ndarray, width: int) -> np.ndarray:
        """The value bytes of ``rows`` (all ``width`` long)."""
        if self.values is not None:
            return self.values[rows]
        if width < 64 or len(rows) * width < 4096:
            return self.data[self.offsets[rows][:, None] + np.arange(width)]
        # Long values (stamps, long texts): a slice each, not an index per byte.
        out = np.empty((len(rows), width), np.uint8)
        data = self.data
        for j, start in enumerate(self.offsets[rows].tolist()):
            out[j] = data[start:start + width]
        return out


# msgpack's int forms, as msgpack-python picks them: (prefix, how the value follows).
_INT_FORMS = [
    (b"", np.dtype("i1")),  # fixint, positive (0..127) or negative (-32..-1): the byte itself
    (b"\xcc", np.dtype("u1")),
    (b"\xcd", np.dtype(">u2")),
    (b"\xce", np.dtype(">u4")),
    (b"\xcf", np.dtype(">u8")),
    (b"\xd0", np.dtype("i1")),
    (b"\xd1", np.dtype(">i2")),
    (b"\xd2", np.dtype(">i4")),
    (b"\xd3", np.dtype(">i8")),
]


def _int_classes(v: np.ndarray) -> np.ndarray:
    """The index in ``_INT_FORMS`` of each value's form."""
    return np.select(
        [
            (v >= -32) & (v <= 0x7F),
            (v >= 0) & (v <= 0xFF),
            (v >= 0) & (v <= 0xFFFF),
            (v >= 0) & (v <= 0xFFFFFFFF),
            v >= 0,
            v >= -(2**7),
            v >= -(2**15),
            v >= -(2**31),
        ],
        [0, 1, 2, 3, 4, 5, 6, 7],
        default=8,
    ).astype(np.uint8)


def _ext_header(length: int, code: int) -> bytes:
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}.get(length)
    if fixed is not None:
        return bytes([fixed, code])
    if length < 256:
        return bytes([0xC7, length, code])
    if length < 65536:
        return b"\xc8" + length.to_bytes(2, "big") + bytes([code])
    return b"\xc9" + length.to_bytes(4, "big") + bytes([code])


def _encode_column(column: _Column, fmt: _EmbeddedFormat) -> _Encoded:
    """The msgpack layout of a column's values (see `_Encoded`)."""
    key = pack(column.name) if fmt.keyed else b""
    valid = column.valid
    n = len(valid)
    kind = column.kind
    if kind == "float":
        return _Encoded(key, prefix=b"\xcb", dtype=np.dtype(">f8"), values=column.values)
    if kind == "int":
        classes = np.where(valid, _int_classes(column.values), 0).astype(np.uint8)
        return _Encoded(key, values=column.values, classes=classes)
    if kind == "bool":
        return _Encoded(key, dtype=np.dtype("u1"), values=0xC2 + column.values.astype(np.uint8))
    if kind in ("str", "bytes"):
        arr = column.values
        if pa.types.is_fixed_size_binary(arr.type):
            arr = arr.cast(pa.binary())
        buffers = arr.buffers()
        wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        offsets = np.frombuffer(buffers[1], np.int64 if wide else np.int32)[arr.offset:arr.offset + n + 1]
        offsets = offsets.astype(np.int64)
        data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        payload = np.diff(offsets)
        lengths = np.where(valid, payload + _str_header_sizes(payload, kind == "bytes"), 0)
        return _Encoded(key, data=data, offsets=offsets, lengths=lengths, binary=kind == "bytes")
    # Struct: each value packed on its own (a few columns of the alert rows).
    if fmt.keyed:
        pieces = [b"" if v is None else pack(v) for v in column.values]
    else:
        code = fmt.struct_ext
        pieces = []
        for v in column.values:
            if v is None:
                pieces.append(b"")
            else:
                data = pack(v)
                pieces.append(_ext_header(len(data), code) + data)
    lengths = np.fromiter(map(len, pieces), np.int64, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _Encoded(key, data=np.frombuffer(b"".join(pieces), np.uint8), offsets=offsets, lengths=lengths)


_PACKING = "auto"  # tests set "grouped" or "one by one"


def _one_by_one_is_cheaper(shapes: int, columns: int, n: int) -> bool:
    """Whether packing ``n`` rows one by one beats assembling their ``shapes`` shapes with numpy.

    Measured here: a shape costs about 15 µs per column (numpy calls), a row packed by msgpack
    about 2 µs plus 0.12 µs per cell. Alert rows (some 170 cells, hundreds of shapes among 10k
    rows, their texts of many lengths) go one by one; history and index rows (a few shapes
    among 100k rows) are assembled.
    """
    if _PACKING != "auto":
        return _PACKING == "one by one"
    return shapes * columns * 15.0 > n * (2.0 + 0.12 * columns)


_LARGE_VALUES = 1024  # bytes per row of binary values above which rows are packed one by one


class _Packing:
    """The rows of a block on their way to the embedded store's layout, in two steps: the
    shapes they need (`shapes`, registered by the caller for all blocks at once, one write
    transaction at most), then the encoded rows (`values`).

    Rows are grouped by the cells they hold. Where the bytes of each cell also have the same
    length within a group, the group is assembled with numpy (`_Encoded`); otherwise each row is
    packed by msgpack from a list of its values (alert rows: texts of many lengths, Struct
    values, images).
    """

    def __init__(self, block: RowBlock, fmt: _EmbeddedFormat):
        self.block, self.fmt = block, fmt
        self.by_presence: list | None = None  # (rows, present, names): packed by msgpack
        self.groups: list = []  # (rows, present, names): assembled with numpy
        n = block.n
        columns = block.columns
        if not n:
            self.by_presence = []
            return
        masks = np.stack([c.valid for c in columns])  # (column, row): contiguous rows to stack
        present_bits = np.packbits(masks, axis=0).T
        present_bits = np.ascontiguousarray(present_bits)
        if self._by_msgpack(columns, n):
            self.by_presence = self._group(present_bits, masks)
            return
        # A row's shape: which cells it holds, the length of each text and the form of each
        # int. Rows of one shape have the same layout: they are assembled together, as one numpy
        # structured array whose fields are the values, over a template of the constant bytes.
        shape_parts = [present_bits]
        encoded: list[_Encoded | None] = [None] * len(columns)
        variable = [i for i, c in enumerate(columns) if c.kind in ("str", "bytes")]
        ints = [i for i, c in enumerate(columns) if c.kind == "int"]
        for i in variable + ints:
            encoded[i] = _encode_column(columns[i], fmt)
        if variable:
            lengths = np.stack([encoded[i].lengths for i in variable], axis=1).astype("<u4")
            shape_parts.append(lengths.view(np.uint8).reshape(n, -1))
        if ints:
            shape_parts.append(np.stack([encoded[i].classes for i in ints]).T)
        groups = self._group(np.ascontiguousarray(np.concatenate(shape_parts, axis=1)), masks)
        if _one_by_one_is_cheaper(len(groups), len(columns), n):
            self.by_presence = self._group(present_bits, masks)
            return
        for i, c in enumerate(columns):
            if encoded[i] is None:
                encoded[i] = _encode_column(c, fmt)
        self.encoded = encoded
        self.groups = groups

    @staticmethod
    def _by_msgpack(columns: list[_Column], n: int) -> bool:
        if _PACKING != "auto":
            return _PACKING == "one by one"
        if any(c.kind == "struct" for c in columns):  # packed one by one anyway
            return True
        binary = [c for c in columns if c.kind == "bytes"]
        if binary and n > 1:  # images: every row its own shape, and msgpack copies them fast
            sizes = sum(int(pc.sum(pc.binary_length(c.values)).as_py() or 0) for c in binary)
            return sizes / n > _LARGE_VALUES
        return False

    def _group(self, shape_bytes: np.ndarray, masks: np.ndarray) -> list:
        """(rows, present columns, their names) of each distinct row of ``shape_bytes``."""
        shapes, inverse = np.unique(
            shape_bytes.view(np.dtype((np.void, shape_bytes.shape[1]))).ravel(), return_inverse=True
        )
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(shapes)))])
        columns = self.block.columns
        groups = []
        for g in range(len(shapes)):
            rows = order[bounds[g]:bounds[g + 1]]
            present = np.flatnonzero(masks[:, rows[0]]).tolist()
            groups.append((rows, present, tuple(columns[i].name for i in present)))
        return groups

    def shapes(self) -> list[tuple[str, ...]]:
        return [names for _, _, names in (self.by_presence if self.by_presence is not None else self.groups)]

    def values(self, ids: dict[tuple[str, ...], int]) -> list[bytes]:
        """Each row of the block as the embedded backend stores it."""
        if self.by_presence is not None:
            return self._packed(ids)
        fmt, table = self.fmt, self.block.table
        columns, encoded = self.block.columns, self.encoded
        out: list[bytes | None] = [None] * self.block.n
        for rows, present, names in self.groups:
            first = int(rows[0])
            template = bytearray(fmt.header(len(present)))
            fields = []  # (column, offset, width) of the bytes that vary
            for i in present:
                e = encoded[i]
                const = e.constant(first)
                template += e.key
                template += const
                width = e.width(first) - len(const)
                if width:
                    fields.append((i, len(template), width))
                    template += bytes(width)
            template += fmt.trailer(ids.get(names))
            size = len(template)
            dtype = np.dtype({
                "names": [f"c{i}" for i, _, _ in fields],
                "formats": [encoded[i].field(first, width) for i, _, width in fields],
                "offsets": [offset for _, offset, _ in fields],
                "itemsize": size,
            })
            matrix = np.empty(len(rows), dtype)
            whole = np.dtype((np.void, size))
            matrix.view(whole)[:] = np.frombuffer(bytes(template), whole)[0]
            for i, _, width in fields:
                matrix[f"c{i}"] = encoded[i].gather(rows, width)
            data = matrix.tobytes()
            # The layout is the backend's: check the first row against its own encoding.
            cells = {columns[i].name: _value_at(columns[i], first) for i in present}
            expected = fmt.encode(table, cells, ids.__getitem__)
            if data[:size] != expected:
                _warn_layout(table)
                for row in rows.tolist():
                    cells = {columns[i].name: _value_at(columns[i], row) for i in present}
                    out[row] = fmt.encode(table, cells, ids.__getitem__)
                continue
            for row, start in zip(rows.tolist(), range(0, len(data), size)):
                out[row] = data[start:start + size]
        return out


    def _packed(self, ids: dict[tuple[str, ...], int]) -> list[bytes]:
        """Rows packed by msgpack from lists of their values, a group of rows at a time."""
        fmt, table, columns = self.fmt, self.block.table, self.block.columns
        out: list[bytes | None] = [None] * self.block.n
        for rows, present, names in self.by_presence:
            values = [columns[i].values_at(rows) for i in present]
            if fmt.keyed:
                packed = [pack(dict(zip(names, row))) for row in zip(*values)]
            else:
                for j, i in enumerate(present):
                    if columns[i].kind == "struct":
                        code = fmt.struct_ext
                        values[j] = [msgpack.ExtType(code, pack(v)) for v in values[j]]
                values.append([ids.get(names)] * len(rows))
                packed = [pack(row) for row in zip(*values)]
            first = int(rows[0])
            cells = {columns[i].name: _value_at(columns[i], first) for i in present}
            if packed[0] != fmt.encode(table, cells, ids.__getitem__):
                _warn_layout(table)
                packed = [
                    fmt.encode(table, {columns[i].name: _value_at(columns[i], row) for i in present},
                               ids.__getitem__)
                    for row in rows.tolist()
                ]
            for row, value in zip(rows.tolist(), packed):
                out[row] = value
        return out


_WARNED: set[str] = set()


def _warn_layout(table) -> None:
    if table.name not in _WARNED:
        _WARNED.add(table.name)
        logger.warning(
            "store.bulk: the embedded row layout is not the one assembled here (table %s); "
            "rows are encoded one by one instead", table.name,
        )


# -- HBase cells ------------------------------------------------------------------------------------
_KNOWN_ENCODERS = {
    "float": Float.encode,
    "int": Int.encode,
    "bool": Bool.encode,
    "str": Str.encode,
    "bytes": Bytes.encode,
    "struct": Struct.encode,
}


def _cell_values(column: _Column) -> list:
    """``codec.encode(value)`` of each row, None where absent."""
    kind = column.kind
    codec = column.codec
    if _KNOWN_ENCODERS.get(kind) is not type(codec).encode:
        return [None if v is None else codec.encode(v) for v in column.pylist()]
    if kind in ("float", "int"):
        data = column.values.astype(">f8" if kind == "float" else ">i8").tobytes()
        values = [data[i:i + 8] for i in range(0, len(data), 8)]
    elif kind == "bool":
        values = [b"\x01" if v else b"\x00" for v in column.values.tolist()]
    elif kind == "str":
        values = column.values.cast(pa.binary()).to_pylist()
        return values
    elif kind == "bytes":
        return column.values.to_pylist()
    else:
        return [None if v is None else pack(v) for v in column.values]
    if not column.all_valid:
        values = [v if ok else None for v, ok in zip(values, column.valid.tolist())]
    return values


_BIN8_HEADERS = [_str_header(n, True) for n in range(256)]


def _one_cell_rows(block: RowBlock) -> list[bytes]:
    """See `RowBlock.one_cell_rows`: each present cell is ``packb(column) + packb(value)``, made
    column by column; a row joins its present cells after the map header."""
    columns = sorted(block.columns, key=lambda c: c.name.encode("utf-8"))
    parts = []
    for column in columns:
        name = msgpack.packb(column.name.encode("utf-8"))
        values = _cell_values(column)
        if column.kind in ("float", "int"):  # every cell 8 bytes
            head = name + _BIN8_HEADERS[8]
            parts.append([None if v is None else head + v for v in values])
        else:
            parts.append([
                None if v is None else name + (_BIN8_HEADERS[len(v)] if len(v) < 256 else _str_header(len(v), True)) + v
                for v in values
            ])
    out = []
    for row in zip(*parts):
        present = list(filter(None, row))
        out.append(_container_header(len(present), 0x80, 0xDE) + b"".join(present))
    return out


def _hbase_cells(block: RowBlock) -> list[dict[str, bytes]]:
    names = [c.name for c in block.columns]
    lists = [_cell_values(c) for c in block.columns]
    return [dict(compress(zip(names, values), map(is_not, values, repeat(None)))) for values in zip(*lists)]


# -- writing -----------------------------------------------------------------------------------------
def _embedded_format(backend) -> _EmbeddedFormat | None:
    """The embedded backend's row format, or None if it cannot be written to directly here."""
    try:
        from .backends import embedded
    except ImportError:  # pragma: no cover (lmdb missing)
        return None
    if not isinstance(backend, embedded.EmbeddedBackend):
        return None
    lock = getattr(embedded, "_WRITE_LOCK", None)
    needed = ("_env", "_db", "_translate") + (("_named_db",) if hasattr(backend, "_layout") else ())
    if lock is None or not all(hasattr(backend, name) for name in needed):
        return None
    try:
        return _EmbeddedFormat(backend, lock, embedded.lmdb.Error)
    except (ImportError, AttributeError):  # a row layout this module does not know
        return None


def _same(a, b) -> bool:
    return a is b or (a == b and type(a) is type(b)) or (
        isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    )


class _TableRows:
    """The rows of one table to put, in key order: keys, encoded values, and where each row's
    cells are (its block and index: read only for the rows to merge)."""

    def __init__(self, blocks: list[RowBlock], packings: list[_Packing], ids: dict):
        self.blocks, self.starts = blocks, []
        keys: list[bytes] = []
        values: list[bytes] = []
        for block, packing in zip(blocks, packings):
            self.starts.append(len(keys))
            keys += block.row_keys()
            values += packing.values(ids)
        # Sorted keys: LMDB appends to the pages it just filled instead of jumping around the
        # tree. Stable, so that a key given twice keeps its order (later cells win).
        order = np.argsort(np.array(keys), kind="stable").tolist() if keys else []
        self.keys = [keys[i] for i in order]
        self.values = [values[i] for i in order]
        self.origin = order

    def __len__(self) -> int:
        return len(self.keys)

    def cells(self, positions: list[int]) -> list[dict[str, Any]]:
        """The present cells of the rows at these positions (in key order)."""
        by_block: dict[int, list[tuple[int, int]]] = {}
        for j, position in enumerate(positions):
            i = self.origin[position]
            b = bisect_right(self.starts, i) - 1
            by_block.setdefault(b, []).append((j, i - self.starts[b]))
        out: list[dict[str, Any]] = [{}] * len(positions)
        for b, wanted in by_block.items():
            rows = self.blocks[b].take([i for _, i in wanted]).rows()
            for (j, _), row in zip(wanted, rows):
                out[j] = row
        return out


def _merged(fmt: _EmbeddedFormat, store, table, cursor, rows: _TableRows, lo: int, hi: int, shape_id_of) -> list:
    """(key, value) pairs to put for rows [lo, hi): new rows as given; a row stored exactly as
    given is left out (rows are encoded as the backend encodes them); a row stored otherwise,
    or given several times, is merged cell by cell with what is there, later cells winning."""
    keys, values = rows.keys[lo:hi], rows.values[lo:hi]
    found = dict(cursor.getmulti(keys))
    repeated = {a for a, b in pairwise(keys) if a == b}
    if not found and not repeated:
        return list(zip(keys, values))
    out, special = [], []
    for j, key in enumerate(keys):
        if key in repeated:
            special.append(j)
            continue
        old = found.get(key)
        if old is None:
            out.append((key, values[j]))
        elif old != values[j]:
            special.append(j)
    if not special:
        return out
    # Rows to merge: the stored ones are read through the store (its own decoding). The write
    # lock is held, so no other writer changes them before this transaction commits.
    existing = sorted({keys[j] for j in special} & found.keys())
    stored = {row.key.encode("utf-8"): dict(row) for row in store[table].rows(existing)} if existing else {}
    cells_at = dict(zip(special, rows.cells([lo + j for j in special])))
    merged: dict[bytes, list] = {}  # key -> [cells, value (None: to encode), changed]
    for j in special:
        key = keys[j]
        entry = merged.get(key)
        old = entry[0] if entry is not None else stored.get(key)
        new = cells_at[j]
        if old is None:
            merged[key] = [new, values[j], True]
            continue
        differs = any(c not in old or not _same(old[c], v) for c, v in new.items())
        if entry is None:
            merged[key] = [{**old, **new}, None, True] if differs else [old, None, False]
        elif differs:
            merged[key] = [{**old, **new}, None, True]
    out.extend(
        (key, value if value is not None else fmt.encode(table, cells, shape_id_of))
        for key, (cells, value, changed) in merged.items()
        if changed
    )
    return out


def _write_embedded(fmt: _EmbeddedFormat, store, tables: dict[type, _TableRows],
                    deletes: Mapping[type, Sequence[bytes]]) -> None:
    backend = fmt.backend
    dbs = {table: backend._db(table) for table in [*tables, *deletes]}
    shapes_db = None if fmt.keyed else backend._named_db(fmt.packed.SHAPES_DB, create=True)
    pending = [(table, rows, 0) for table, rows in tables.items() if len(rows)]
    try:
        if deletes and not pending:
            with fmt.lock, backend._env().begin(write=True) as txn:
                _delete(txn, dbs, deletes)
            return
        first = True
        while pending:
            budget = TRANSACTION_BYTES
            new_shapes: dict = {}
            with fmt.lock, backend._env().begin(write=True) as txn:
                shape_id_of = None
                if not fmt.keyed:
                    register = fmt._register(txn, shapes_db)

                    def shape_id_of(names, register=register, new_shapes=new_shapes):
                        return fmt.layout.shape_id(names, register, new_shapes)

                if first:
                    _delete(txn, dbs, deletes)
                    first = False
                while pending and budget > 0:
                    table, rows, lo = pending[0]
                    hi, size, values = lo, 0, rows.values
                    while hi < len(values) and size < budget:
                        size += len(values[hi])
                        hi += 1
                    # Never split the repeats of a key over two transactions.
                    keys = rows.keys
                    while hi < len(keys) and keys[hi] == keys[hi - 1]:
                        hi += 1
                    if hi < len(keys):
                        pending[0] = (table, rows, hi)
                    else:
                        pending.pop(0)
                    budget -= size
                    cursor = txn.cursor(db=dbs[table])
                    cursor.putmulti(_merged(fmt, store, table, cursor, rows, lo, hi, shape_id_of))
            if new_shapes:
                fmt.layout.committed(new_shapes)
    except fmt.lmdb_error as exc:
        raise backend._translate(exc) from None


def _write_hbase(backend, tables: dict[type, list[tuple[bytes, dict]]], threads: int) -> None:
    calls = []
    for table, items in tables.items():
        start, cells, size = 0, 0, 0
        one_cell = getattr(table, "one_cell", False)
        for i, (key, data) in enumerate(items):
            if one_cell:  # data: the row's one cell (bytes)
                cells += 1
                size += len(key) + len(data)
            else:
                cells += len(data)
                size += len(key) + sum(map(len, data)) + sum(map(len, data.values()))
            if cells >= HBASE_CELLS_PER_CALL or size >= HBASE_BYTES_PER_CALL or i + 1 - start >= HBASE_ROWS_PER_CALL:
                calls.append((table, items[start:i + 1]))
                start, cells, size = i + 1, 0, 0
        if start < len(items):
            calls.append((table, items[start:]))

    def send(call) -> None:
        table, items = call
        if getattr(table, "one_cell", False):
            backend.write_one_cell(table, items)
        else:
            backend.write_encoded(table, [(key, data) for key, data in items if data])

    threads = max(1, min(threads, getattr(backend, "pool_size", 1), len(calls)))
    if threads == 1:
        for call in calls:
            send(call)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(send, calls):
            pass


def write_blocks(
    store,
    blocks: Mapping[type[Table], Iterable[RowBlock]],
    *,
    deletes: Mapping[type[Table], Sequence[bytes]] | None = None,
    threads: int = HBASE_THREADS,
) -> int:
    """Write blocks of rows, by table, and delete rows by key; returns the number of rows written.

    Embedded: the rows of all tables go in as few LMDB transactions as their size allows
    (``TRANSACTION_BYTES``), keys sorted, cells merged into existing rows; ``deletes`` in the
    first of them (a key both deleted and written ends written). HBase: Thrift calls of about
    ``HBASE_CELLS_PER_CALL`` cells, ``threads`` at a time, then the deletes. Other backends:
    ``Manager.batch``.
    """
    backend = store.backend
    blocks = {table: [b for b in bs if len(b)] for table, bs in blocks.items()}
    blocks = {table: bs for table, bs in blocks.items() if bs}
    deletes = {table: keys for table, keys in (deletes or {}).items() if len(keys)}
    count = sum(len(b) for bs in blocks.values() for b in bs)
    if not count and not deletes:
        return 0
    if backend.name == "embedded":
        fmt = _embedded_format(backend)
        if fmt is not None:
            packings = {table: [_Packing(b, fmt) for b in bs] for table, bs in blocks.items()}
            ids = fmt.shape_ids(
                names for ps in packings.values() for packing in ps for names in packing.shapes()
            )
            _write_embedded(fmt, store, {
                table: _TableRows(bs, packings[table], ids) for table, bs in blocks.items()
            }, deletes)
            return count
    elif backend.name == "hbase" and hasattr(backend, "write_one_cell"):
        _write_hbase(backend, {
            table: [
                item
                for b in bs
                for item in zip(b.row_keys(), b.one_cell_rows() if getattr(table, "one_cell", False) else b.cells())
            ]
            for table, bs in blocks.items()
        }, threads)
        for table, keys in deletes.items():
            delete_keys(store, table, keys)
        return count
    for table, keys in deletes.items():
        delete_keys(store, table, keys)
    for table, bs in blocks.items():
        with store[table].batch(size=10000) as batch:
            for b in bs:
                for key, row in zip(b.row_keys(), b.rows()):
                    batch.put(row, key=key)
    return count


def _delete(txn, dbs, deletes: Mapping[type, Sequence[bytes]]) -> None:
    for table, keys in deletes.items():
        delete = txn.delete
        db = dbs[table]
        for key in keys:
            delete(key, db=db)


def delete_keys(store, table: type[Table], keys: Sequence[bytes]) -> None:
    """Delete rows by key (absent keys are fine)."""
    with store[table].batch(size=10000) as batch:
        for key in keys:
            batch.delete(key)

"""How the embedded backend lays a row out in one LMDB value: values by position, names once.

A row is a msgpack array: its cell values in the order of its *shape* (the tuple of its column
names), then the shape's id. Rows written in bulk share a few shapes per table, and each shape is
stored once (id → names, in the ``__shapes__`` database; see :class:`RowLayout`), so column names
are not repeated in every row. Reading a row is then one unpack of its values and a
``zip`` with names already in memory: with a msgpack map, every key string was built (and
interned) again for every row, which was most of the cost of a 150-column alert row. A projection
picks its values by position.

A Struct value (nested lists and maps) is packed on its own inside the row (msgpack ext type 1):
a projection that leaves it out never decodes it, and a whole-row read decodes it during the same
unpack (``ext_hook``).

Rows written as a msgpack map of ``{column: value}`` (the layout before this one) are still read;
writing such a row again (a put merges) stores it in this layout.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any

import msgpack

from ..codecs import Struct, pack, unpack
from ..exceptions import StoreError
from ..model import Row
from .base import project

#: The database holding the shapes (not a table: ``tables()`` leaves it out).
SHAPES_DB = "__shapes__"
#: msgpack ext type code of a Struct value packed inside a row.
STRUCT_EXT = 1

_MAX_PLANS = 4096  # projections remembered (by shape, table and columns)

_new_row = dict.__new__
_fill_row = dict.update


def _unpack_struct(code: int, data: bytes) -> Any:
    if code == STRUCT_EXT:
        return unpack(data)
    return msgpack.ExtType(code, data)


def _keep_struct(code: int, data: bytes) -> Any:
    # A projection decodes only the Struct values it keeps: leave them packed, marked by a tuple
    # (msgpack arrays come out as lists, so a tuple can only be one of these).
    return (code, data)


_unpack_full = partial(msgpack.unpackb, raw=False, strict_map_key=False, ext_hook=_unpack_struct)
_unpack_lazy = partial(msgpack.unpackb, raw=False, strict_map_key=False, ext_hook=_keep_struct)


def shape_key(shape_id: int) -> bytes:
    """The key of a shape in :data:`SHAPES_DB`."""
    return shape_id.to_bytes(8, "big")


def _shape_id(names: tuple[str, ...], attempt: int) -> int:
    digest = hashlib.blake2b(digest_size=8)
    digest.update(attempt.to_bytes(4, "big"))
    for name in names:
        digest.update(name.encode("utf-8"))
        digest.update(b"\x00")
    return int.from_bytes(digest.digest(), "big")


def _projection_plan(names: tuple[str, ...], columns: Sequence[str], structs: frozenset[str]):
    """``(values getter, kept names, their row template, positions of Struct values among them)``
    for rows of one shape."""
    wanted = set(columns)
    families = {c for c in wanted if ":" not in c}
    positions = [
        i for i, name in enumerate(names)
        if name in wanted or (families and name.partition(":")[0] in families)
    ]
    kept = tuple(names[i] for i in positions)
    template = dict.fromkeys(kept)
    if not positions:
        getter = lambda values: ()
    elif len(positions) == 1:
        only = positions[0]
        getter = lambda values: (values[only],)
    else:
        getter = itemgetter(*positions)
    return getter, kept, template, [j for j, name in enumerate(kept) if name in structs]


class RowLayout:
    """Encodes and decodes rows of one embedded store; remembers the shapes it has seen.

    The backend gives it ``load(shape_id) -> names`` (a read of :data:`SHAPES_DB`), and, when
    writing, ``register(shape_id, names) -> None or names`` (inside the write transaction: store
    the shape if that id is free and return None, else return the names stored under it). Shapes
    never change once written, so what is remembered never goes stale.
    """

    def __init__(self, load: Callable[[int], tuple[str, ...]]):
        self._load = load
        self._names: dict[int, tuple[str, ...]] = {}  # shape id -> column names (reads)
        # shape id -> (names, {name: None} in that order): a row starts as a copy of its template,
        # already sized and ordered, and takes its values (no rehashing as a dict grows).
        self._templates: dict[int, tuple[tuple[str, ...], dict[str, None]]] = {}
        self._ids: dict[tuple[str, ...], int] = {}  # column names -> shape id (writes)
        self._plans: dict[tuple, tuple] = {}  # (shape id, table, columns) -> projection plan
        self._structs: dict[str, frozenset[str]] = {}  # table name -> its Struct columns
        self._struct_positions: dict[tuple, list[int]] = {}  # (table, names) -> Struct positions

    # -- writing -------------------------------------------------------------------------------
    def structs_of(self, table) -> frozenset[str]:
        structs = self._structs.get(table.name)
        if structs is None:
            structs = self._structs[table.name] = frozenset(
                c for c, f in table.fields_by_column.items() if isinstance(f.codec, Struct)
            )
        return structs

    def encode(self, table, cells: dict[str, Any], shape_id_of) -> bytes:
        """The stored value of a row (``cells`` without None values).

        ``shape_id_of(names)`` gives the id of the row's shape, registering it when new.
        """
        names = tuple(cells)
        values = list(cells.values())
        positions = self._struct_positions.get((table.name, names))
        if positions is None:
            structs = self.structs_of(table)
            positions = [i for i, name in enumerate(names) if name in structs]
            if len(self._struct_positions) >= _MAX_PLANS:
                self._struct_positions.clear()
            self._struct_positions[(table.name, names)] = positions
        for i in positions:
            values[i] = msgpack.ExtType(STRUCT_EXT, pack(values[i]))
        values.append(shape_id_of(names))
        return pack(values)

    def shape_id(self, names: tuple[str, ...], register, pending: dict) -> int:
        """The id of a shape, registering it (``register(id, names)``) when this process has not
        seen it yet. New ids go to ``pending`` until the caller's transaction commits."""
        found = self._ids.get(names)
        if found is None:
            found = pending.get(names)
        if found is not None:
            return found
        for attempt in range(64):
            candidate = _shape_id(names, attempt)
            stored = register(candidate, names)
            if stored is None or stored == names:  # free (now ours) or already this shape
                pending[names] = candidate
                return candidate
        raise StoreError("no free shape id after 64 attempts")  # pragma: no cover

    def committed(self, pending: dict) -> None:
        """Remember the shapes a committed transaction registered."""
        for names, shape_id in pending.items():
            self._ids[names] = shape_id
            self._names[shape_id] = names

    # -- reading -------------------------------------------------------------------------------
    def names_of(self, shape_id: int) -> tuple[str, ...]:
        names = self._names.get(shape_id)
        if names is None:
            names = self._names[shape_id] = self._load(shape_id)
        return names

    def _template(self, shape_id: int) -> tuple[tuple[str, ...], dict[str, None]]:
        names = self.names_of(shape_id)
        entry = self._templates[shape_id] = (names, dict.fromkeys(names))
        return entry

    def cells(self, data: bytes, load: Callable[[int], tuple[str, ...]]) -> dict[str, Any]:
        """Every cell of a stored row as a plain dict (for merging on write).

        ``load`` reads a shape this process does not know yet: inside a write transaction it must
        read through that transaction, which sees the shapes it registered itself.
        """
        values = _unpack_full(data)
        if type(values) is dict:
            return values
        names = self._names.get(values[-1]) or load(values[-1])
        return dict(zip(names, values))

    def reader(self, table, columns: Sequence[str] | None) -> Callable[[bytes, bytes], Row]:
        """A function ``(key, stored value) -> Row`` for reads of ``columns`` (None: all)."""
        cells = self._cells_reader(table, columns)

        def read(key: bytes, data: bytes) -> Row:
            template, names, values = cells(key, data)
            row = _new_row(Row)
            if template is not None:
                _fill_row(row, template)
            _fill_row(row, zip(names, values))
            row.key = key.decode("utf-8")
            return row

        return read

    def uniform_rows(self, table, columns: Sequence[str] | None, items: Sequence[tuple[bytes, bytes]]) -> list[Row]:
        """Rows of ``(key, stored value)`` pairs that all have the same keys in the same order: the
        columns any of them holds, in first-seen order, None where a row has no cell.

        Each row is built once, from a template of those columns: the same work as reading the
        rows as they are, where padding them afterwards would build every row a second time.
        """
        cells = self._cells_reader(table, columns)
        decoded = [cells(key, data) for key, data in items]
        union = dict.fromkeys(chain.from_iterable(dict.fromkeys(names for _, names, _ in decoded)))
        template = dict.fromkeys(union)
        rows = []
        for (key, _), (_, names, values) in zip(items, decoded):
            row = _new_row(Row)
            _fill_row(row, template)
            _fill_row(row, zip(names, values))
            row.key = key.decode("utf-8")
            rows.append(row)
        return rows

    def _cells_reader(self, table, columns: Sequence[str] | None):
        """A function ``(key, stored value) -> (template, column names, values)``.

        The template (``{name: None}`` in the names' order, None for a row of the former layout)
        is what a row starts as: already sized and ordered, it takes its values without the
        rehashing of a growing dict.
        """
        if not columns:
            templates = self._templates
            template_of = self._template

            def cells_all(key: bytes, data: bytes):
                values = _unpack_full(data)
                if type(values) is dict:  # the former layout
                    return None, tuple(values), values.values()
                names, template = templates.get(values[-1]) or template_of(values[-1])
                if len(names) != len(values) - 1:
                    raise StoreError(f"row {key!r} of table {table.name!r} does not match its shape")
                return template, names, values

            return cells_all

        columns = tuple(columns)
        structs = self.structs_of(table)
        plans = self._plans
        plan_of = self._plan

        def cells_some(key: bytes, data: bytes):
            values = _unpack_lazy(data)
            if type(values) is dict:  # the former layout
                kept = project(values, columns)
                return None, tuple(kept), kept.values()
            shape_id = values[-1]
            plan = plans.get((shape_id, table.name, columns)) or plan_of(shape_id, table, columns, structs)
            getter, kept, template, nested = plan
            picked = getter(values)
            if nested:
                picked = list(picked)
                for j in nested:
                    if type(picked[j]) is tuple:
                        picked[j] = _unpack_struct(*picked[j])
            return template, kept, picked

        return cells_some

    def _plan(self, shape_id: int, table, columns: tuple, structs: frozenset[str]) -> tuple:
        names = self.names_of(shape_id)
        plan = _projection_plan(names, columns, structs)
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[(shape_id, table.name, columns)] = plan
        return plan


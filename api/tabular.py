"""A route's tabular result, and its two normal forms: records (for JSON) and an Arrow table.

A route returns rows as a list of dicts, a ``pyarrow.Table`` or a ``pandas.DataFrame``, wrapped in
:class:`TableResult` when it wants to say the result was cut at a cap. The renderers never look at
the route's own type: they ask for :meth:`TableResult.records` (JSON, the hot path: no conversion
of a list of dicts) or :meth:`TableResult.arrow` (CSV, Parquet, VOTable).

Normalisation rules, shared by every format so the four agree on values:

- every row has every column (a column missing from a row is null), in first-seen order or in
  the order the route gives (``columns``);
- a float NaN or ±infinity is null (orjson writes it as ``null``; Arrow keeps null);
- numpy arrays become (nested) lists; numpy scalars become Python numbers;
- a column whose values Arrow cannot type together (``[1, "a"]``) becomes text: strings as they
  are, anything else as its JSON text.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .encoding import dumps_json, json_text, null_filled_template

Rows = Sequence[Mapping[str, Any]]
Tabular = Rows | pa.Table | pd.DataFrame

_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


@dataclass
class TableResult:
    """Rows a route returns, with what the renderers need to say about them.

    Parameters
    ----------
    data : list of dict, pyarrow.Table or pandas.DataFrame
        The rows.
    truncated : bool
        True when the route stopped at ``limit`` while more rows matched: the response then
        carries ``X-Result-Truncated: true`` and ``X-Result-Limit``.
    limit : int, optional
        The cap that applied (reported when ``truncated``).
    columns : sequence of str, optional
        Column order (and the header of an empty result). By default, the order in which columns
        are first seen in the rows.
    """

    data: Tabular
    truncated: bool = False
    limit: int | None = None
    columns: Sequence[str] | None = None
    _records: list[dict[str, Any]] | None = field(default=None, init=False, repr=False, compare=False)
    _row_shapes: list[tuple[str, ...]] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def capped(cls, rows: Iterable[Mapping[str, Any]], limit: int, **kwargs: Any) -> TableResult:
        """Take at most ``limit`` rows from an iterable, and say whether more were there.

        Reads one row past the cap to know; closes the iterable when it can (a store ``Scan``).
        """
        taken = list(itertools.islice(rows, limit + 1))
        close = getattr(rows, "close", None)
        if callable(close):
            close()
        truncated = len(taken) > limit
        del taken[limit:]
        return cls(taken, truncated=truncated, limit=limit, **kwargs)

    def __len__(self) -> int:
        if isinstance(self.data, pa.Table):
            return self.data.num_rows
        return len(self.data)

    def column_names(self) -> list[str]:
        """The columns, in output order."""
        if self.columns is not None:
            return list(self.columns)
        if isinstance(self.data, pa.Table):
            return list(self.data.column_names)
        if isinstance(self.data, pd.DataFrame):
            return [str(c) for c in self.data.columns]
        # The keys of every row, in first-seen order: the union of the few distinct row shapes.
        return list(dict.fromkeys(itertools.chain.from_iterable(dict.fromkeys(self._shapes()))))

    def _shapes(self) -> list[tuple[str, ...]]:
        """Each row's keys, in its own order (rows of one table share a few such shapes)."""
        if self._row_shapes is None:
            self._row_shapes = list(map(tuple, self.data))
        return self._row_shapes

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts with every column, ready for orjson (NaN is left to orjson: null)."""
        if self._records is None:
            self._records = self._build_records()
        return self._records

    def _build_records(self) -> list[dict[str, Any]]:
        if isinstance(self.data, pa.Table):
            table = self.data if self.columns is None else self.data.select(list(self.columns))
            return table.to_pylist()
        if isinstance(self.data, pd.DataFrame):
            frame = self.data.rename(columns=str)
            return (frame if self.columns is None else frame[list(self.columns)]).to_dict("records")
        return _rows_with(self.column_names(), self.data, self._shapes(), _none_template)

    def json(self) -> bytes:
        """The rows as a JSON list of records, every record with every column (null if absent).

        Rows that lack columns are not padded with Python Nones first: each row shape gets a
        template whose runs of absent columns are pre-encoded (:func:`null_filled_template`).
        The bytes are those of ``dumps_json(self.records())``.
        """
        if isinstance(self.data, (pa.Table, pd.DataFrame)):
            return dumps_json(self.records())
        return dumps_json(_rows_with(self.column_names(), self.data, self._shapes(), null_filled_template))

    def arrow(self) -> pa.Table:
        """The rows as an Arrow table, normalised as described in the module docstring."""
        if isinstance(self.data, pa.Table):
            table = self.data
            if self.columns is not None:
                table = table.select(list(self.columns))
        elif isinstance(self.data, pd.DataFrame):
            table = _frame_to_arrow(self.data, self.column_names())
        else:
            table = _records_to_arrow(self.data, self.column_names())  # a missing key is null
        return _nulls_for_non_finite(table)


_PASS, _PICK = object(), object()


def _none_template(present: Sequence[str], names: Sequence[str]) -> dict[str, Any]:
    return dict.fromkeys(names)


def _rows_with(
    names: Sequence[str],
    rows: Rows,
    shapes: Sequence[tuple[str, ...]],
    template_of: Callable[[Sequence[str], Sequence[str]], dict[str, Any]],
) -> list[Mapping[str, Any]]:
    """The rows with exactly the keys ``names``, in that order.

    A row that has them already (a dict) is passed through, not copied. Otherwise, per row shape:
    a copy of ``template_of(shape, names)`` updated with the row (the template holds every name
    in order, so the row's values land in place), or, for a row holding keys outside ``names``,
    a new dict of ``names``.
    """
    names = tuple(names)
    known = frozenset(names)
    plans: dict[tuple[str, ...], Any] = {}
    out: list[Mapping[str, Any]] = []
    append = out.append
    for row, shape in zip(rows, shapes):
        plan = plans.get(shape)
        if plan is None:
            if shape == names:
                plan = _PASS
            elif known.issuperset(shape):
                plan = template_of(shape, names)
            else:
                plan = _PICK
            plans[shape] = plan
        if plan is _PASS and isinstance(row, dict):
            append(row)
        elif plan is _PICK or plan is _PASS:
            append({name: row.get(name) for name in names})
        else:
            filled = plan.copy()
            filled.update(row)
            append(filled)
    return out


def _frame_to_arrow(frame: pd.DataFrame, names: list[str]) -> pa.Table:
    frame = frame.rename(columns=str)[names]
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except _ARROW_ERRORS:
        # Object columns holding 2-D arrays (cutouts) or mixed types: go value by value.
        return _records_to_arrow(frame.to_dict("records"), names)


def _records_to_arrow(records: Rows, names: list[str]) -> pa.Table:
    arrays = [column_array([row.get(name) for row in records]) for name in names]
    return pa.Table.from_arrays(arrays, names=names)


def column_array(values: list[Any]) -> pa.Array:
    """One column as an Arrow array: typed if Arrow can, else as text.

    ``from_pandas=True`` makes Arrow read a float NaN as null, as the JSON output does.
    """
    try:
        return pa.array(values, from_pandas=True)
    except _ARROW_ERRORS:
        pass
    plain = [to_plain(v) for v in values]
    try:
        return pa.array(plain, from_pandas=True)
    except _ARROW_ERRORS:
        return pa.array([_as_text(v) for v in plain], type=pa.string())


def to_plain(value: Any) -> Any:
    """A value with numpy arrays and scalars turned into lists and Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def _as_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    return json_text(value)


def _nulls_for_non_finite(table: pa.Table) -> pa.Table:
    """Replace NaN and ±inf in floating columns by null (orjson writes all three as null)."""
    for index, column in enumerate(table.columns):
        if pa.types.is_floating(column.type):
            finite = pc.is_finite(column)  # null where the value is null
            if not pc.all(finite).as_py():
                table = table.set_column(
                    index, table.field(index), pc.if_else(finite, column, pa.scalar(None, column.type))
                )
    return table

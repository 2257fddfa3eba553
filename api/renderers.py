"""The one set of renderers for tabular results: json, csv, parquet, votable.

Every route's rows go through these (selected by ``output-format``), so a value reads the same in
all four formats; see :mod:`api.tabular` for the normalisation rules. Per format:

=========  ============================================================================
json       a list of records (orjson); NaN/inf → ``null``; bytes → base64 text;
           numpy arrays → nested lists (cutouts are lists of lists, as in Fink)
csv        a header line then one line per row (Arrow's writer); null → empty field;
           booleans ``true``/``false``; lists/dicts → their JSON text; bytes → base64
parquet    Arrow types kept (lists stay lists, bytes stay binary); null → null
votable    astropy VOTable 1.4 (TABLEDATA); ``:`` → ``_`` in column names; null → an
           empty cell (masked); lists/dicts → JSON text; bytes → base64
=========  ============================================================================

CSV and VOTable cannot tell a missing string from an empty one: both read back as empty.

A truncated result (:attr:`TableResult.truncated`) adds the response headers
``X-Result-Truncated: true`` and ``X-Result-Limit: <cap>`` whatever the format.
"""
from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from rest_framework.renderers import BaseRenderer

from .encoding import dumps_json, json_text
from .tabular import TableResult

TABULAR_FORMATS = ("json", "csv", "parquet", "votable")

TRUNCATED_HEADER = "X-Result-Truncated"
LIMIT_HEADER = "X-Result-Limit"

def as_table_result(data: Any) -> TableResult:
    """Wrap what a view returned as a :class:`TableResult` (a single dict is a one-row table)."""
    if isinstance(data, TableResult):
        return data
    if isinstance(data, Mapping):
        return TableResult([data])
    if isinstance(data, (pa.Table, pd.DataFrame, list, tuple)):
        return TableResult(data)
    raise TypeError(f"not tabular data: {type(data).__name__}")


def _mark_truncation(result: TableResult, renderer_context: Mapping[str, Any] | None) -> None:
    """Say on the response that the rows were cut at a cap: no silent caps."""
    response = (renderer_context or {}).get("response")
    if response is not None and result.truncated:
        response[TRUNCATED_HEADER] = "true"
        if result.limit is not None:
            response[LIMIT_HEADER] = str(result.limit)


def _drop_rows(data: Any, renderer_context: Mapping[str, Any] | None) -> None:
    """Once its body is rendered, let the response drop the rows it was made from.

    DRF's response and view refer to each other (``renderer_context``), so the response lives
    until the garbage collector finds that cycle, and the rows with it: thousands of dicts that a
    full collection then walks and frees in one pause (100-200 ms for a few ``latests`` n=1000
    answers). Dropped here, they are freed as soon as the body exists.
    """
    response = (renderer_context or {}).get("response")
    if response is not None and getattr(response, "data", None) is data:
        response.data = None


class JSONRenderer(BaseRenderer):
    """JSON through orjson: a :class:`TableResult` as a list of records, anything else as is.

    Also the default renderer of every DRF view (errors, non-tabular routes, ping).
    """

    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition; no charset parameter (as DRF's own renderer)

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, TableResult):
            _mark_truncation(data, renderer_context)
            body = data.json()
            _drop_rows(data, renderer_context)
            return body
        return dumps_json(data)


class TabularRenderer(BaseRenderer):
    """Base of the renderers that only know tables (csv, parquet, votable)."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        result = as_table_result(data)
        _mark_truncation(result, renderer_context)
        body = self.render_table(result)
        _drop_rows(data, renderer_context)
        return body

    def render_table(self, result: TableResult) -> bytes:
        raise NotImplementedError


class CSVRenderer(TabularRenderer):
    """CSV with a header line, written by Arrow (floats in their shortest exact form)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render_table(self, result: TableResult) -> bytes:
        table = _text_for_nested(result.arrow())
        if table.num_columns == 0:
            # No rows and no known columns: one empty line (as pandas writes it). An empty body
            # would lose its Content-Type: DRF drops the header of an empty response.
            return b"\n"
        sink = io.BytesIO()
        pa_csv.write_csv(table, sink)
        return sink.getvalue()


class ParquetRenderer(TabularRenderer):
    """Parquet, Arrow types kept (lists of lists for cutouts, binary for bytes)."""

    media_type = "application/vnd.apache.parquet"
    format = "parquet"
    charset = None
    render_style = "binary"

    def render_table(self, result: TableResult) -> bytes:
        sink = io.BytesIO()
        pq.write_table(result.arrow(), sink)
        return sink.getvalue()


class VOTableRenderer(TabularRenderer):
    """VOTable (astropy), with ``:`` in column names replaced by ``_`` as Fink does."""

    media_type = "application/x-votable+xml"
    format = "votable"
    charset = "utf-8"

    def render_table(self, result: TableResult) -> bytes:
        from astropy.io.votable import from_table
        from astropy.table import Table

        table = _text_for_nested(result.arrow())
        columns = [_votable_column(column) for column in table.columns]
        names = [votable_name(name) for name in table.column_names]
        sink = io.BytesIO()
        with warnings.catch_warnings():
            # Names such as v_g-r are valid FIELD names but not XML IDs: astropy warns and fixes.
            warnings.simplefilter("ignore")
            from_table(Table(columns, names=names)).to_xml(sink)
        return sink.getvalue()


TABULAR_RENDERERS: dict[str, type[BaseRenderer]] = {
    "json": JSONRenderer,
    "csv": CSVRenderer,
    "parquet": ParquetRenderer,
    "votable": VOTableRenderer,
}


def votable_name(column: str) -> str:
    """A column name as VOTable carries it (``i:ra`` → ``i_ra``)."""
    return column.replace(":", "_")


def _text_for_nested(table: pa.Table) -> pa.Table:
    """Turn columns a text format cannot hold into text: nested → JSON, binary → base64,
    dates → ISO. Scalar columns are left as they are."""
    for index, column in enumerate(table.columns):
        kind = column.type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            values = [None if v is None else base64.b64encode(v).decode("ascii") for v in column.to_pylist()]
        elif pa.types.is_nested(kind):
            values = [None if v is None else json_text(v) for v in column.to_pylist()]
        elif pa.types.is_temporal(kind):
            values = [None if v is None else _iso(v) for v in column.to_pylist()]
        else:
            continue
        table = table.set_column(index, pa.field(table.column_names[index], pa.string()), pa.array(values, pa.string()))
    return table


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _votable_column(column: pa.ChunkedArray) -> Any:
    """An astropy column with a mask where Arrow has nulls (VOTable writes those as empty cells)."""
    from astropy.table import MaskedColumn

    kind = column.type
    mask = column.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_null(kind):
        return MaskedColumn(np.full(len(column), math.nan), mask=mask)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = np.array([v or "" for v in column.to_pylist()], dtype=str)
        if values.dtype.itemsize == 0:  # all empty: numpy would make a zero-width dtype
            values = values.astype("U1")
        return MaskedColumn(values, mask=mask)
    if pa.types.is_boolean(kind):
        return MaskedColumn(column.fill_null(False).to_numpy(zero_copy_only=False), mask=mask)
    if pa.types.is_integer(kind):
        return MaskedColumn(column.fill_null(0).to_numpy(zero_copy_only=False), mask=mask)
    return MaskedColumn(column.to_numpy(zero_copy_only=False), mask=mask)

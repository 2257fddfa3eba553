"""The four renderers carry the same values for the same rows.

Each format is parsed back with the library a client would use (orjson, pandas for CSV, pyarrow
for Parquet, astropy for VOTable) and compared value by value with the JSON output, which is the
reference (NaN and infinity are null there).
"""
import base64
import io
import json
import math

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.io.votable import parse_single_table

from api.renderers import (
    CSVRenderer,
    JSONRenderer,
    ParquetRenderer,
    VOTableRenderer,
    votable_name,
)
from api.tabular import TableResult

STAMP = [[1.5, 2.0], [math.nan, -3.25]]  # a tiny "cutout": a 2-D array with a NaN pixel

ROWS = [
    {
        "i:objectId": "ZTF21abfmbix", "i:jd": 2459507.8742361, "i:fid": 1, "i:magpsf": 18.2,
        "i:candid": 1742518962715015003, "d:flag": True, "d:note": 'a,b "quoted"\nline two',
        "d:score": math.nan, "d:count": None, "v:g-r": 0.1 + 0.2, "b:stamp": STAMP,
        "b:raw": b"\x1f\x8b\x00binary",
    },
    {
        "i:objectId": "ZTF21aaaaaaa", "i:jd": 2459508.1, "i:fid": np.int64(2), "i:magpsf": None,
        "i:candid": -1, "d:flag": np.bool_(False), "d:note": None, "d:score": np.float64(1e-300),
        "d:count": 3, "v:g-r": -0.0, "b:stamp": None, "b:raw": None,
    },
    {
        "i:objectId": "ZTF21bbbbbbb", "i:jd": 2459509.25, "i:fid": 2, "i:magpsf": math.inf,
        "i:candid": 2**62, "d:flag": None, "d:note": "étoile ✓", "d:score": -1.5,
        "d:count": 2**40, "v:g-r": 1 / 3, "b:stamp": np.array([[0.0, 1.0], [2.0, 3.0]]),
        "b:raw": b"",
    },
]
COLUMNS = list(ROWS[0])


def render(renderer_class, result):
    return renderer_class().render(result, renderer_context={})


def missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is np.ma.masked


def same(got, expected, column):
    """``got`` (from a format) equals ``expected`` (from JSON), up to each format's spelling."""
    if missing(expected):
        # Text formats cannot tell a missing string from an empty one.
        return missing(got) or got == ""
    if column == "b:raw":  # base64 text in JSON, CSV, VOTable; raw bytes in Parquet
        if isinstance(got, bytes):
            got = base64.b64encode(got).decode()
        return got == expected or (expected == "" and missing(got))
    if isinstance(expected, list):
        if isinstance(got, str):
            got = json.loads(got)
        return _nested_same(got, expected)
    if isinstance(expected, bool):
        return bool(got) is expected and not isinstance(got, str)
    if isinstance(expected, (int, float)):
        return not isinstance(got, (str, bool)) and float(got) == float(expected)
    return got == expected


def _nested_same(got, expected):
    if isinstance(expected, list):
        return len(got) == len(expected) and all(map(_nested_same, got, expected))
    return (missing(got) and missing(expected)) or got == expected


def assert_agree(parsed_rows, reference, name_of=lambda c: c):
    assert len(parsed_rows) == len(reference)
    for got_row, ref_row in zip(parsed_rows, reference):
        for column, expected in ref_row.items():
            got = got_row[name_of(column)]
            assert same(got, expected, column), (column, got, expected)


def from_csv(body):
    frame = pd.read_csv(io.BytesIO(body), keep_default_na=False, na_values=[""])
    return [
        {c: (None if missing(v) else (v.item() if isinstance(v, np.generic) else v)) for c, v in row.items()}
        for row in frame.to_dict("records")
    ]


def from_parquet(body):
    return pq.read_table(io.BytesIO(body)).to_pylist()


def from_votable(body):
    table = parse_single_table(io.BytesIO(body)).to_table()
    rows = []
    for index in range(len(table)):
        row = {}
        for name in table.colnames:
            value = table[name][index]
            row[name] = None if value is np.ma.masked else (value.item() if isinstance(value, np.generic) else value)
        rows.append(row)
    return rows


SOURCES = {
    "records": lambda: ROWS,
    "arrow": lambda: TableResult(ROWS).arrow(),
    "pandas": lambda: pd.DataFrame(ROWS),
}


@pytest.mark.parametrize("source", SOURCES)
def test_four_formats_carry_the_same_values(source):
    result = TableResult(SOURCES[source]())
    reference = orjson.loads(render(JSONRenderer, result))
    assert [list(row) for row in reference] == [COLUMNS] * len(ROWS)

    assert_agree(from_csv(render(CSVRenderer, result)), reference)
    assert_agree(from_parquet(render(ParquetRenderer, result)), reference)
    assert_agree(from_votable(render(VOTableRenderer, result)), reference, votable_name)


def test_json_reference_values():
    """The JSON output itself: NaN/inf null, numpy values plain, cutouts lists of lists."""
    first, second, third = orjson.loads(render(JSONRenderer, TableResult(ROWS)))
    assert first["d:score"] is None and third["i:magpsf"] is None
    assert first["b:stamp"] == [[1.5, 2.0], [None, -3.25]]
    assert third["b:stamp"] == [[0.0, 1.0], [2.0, 3.0]]
    assert second["i:fid"] == 2 and second["d:flag"] is False
    assert first["i:candid"] == 1742518962715015003
    assert base64.b64decode(first["b:raw"]) == b"\x1f\x8b\x00binary"
    assert first["v:g-r"] == 0.1 + 0.2  # shortest exact repr, not rounded


def test_parquet_keeps_types():
    table = pq.read_table(io.BytesIO(render(ParquetRenderer, TableResult(ROWS))))
    assert table.schema.field("i:candid").type == pa.int64()
    assert table.schema.field("d:flag").type == pa.bool_()
    assert table.schema.field("b:raw").type == pa.binary()
    assert pa.types.is_list(table.schema.field("b:stamp").type)
    assert table.column("d:score").null_count == 1  # NaN is null, as in JSON


def test_votable_column_names_use_underscores():
    table = parse_single_table(io.BytesIO(render(VOTableRenderer, TableResult(ROWS)))).to_table()
    assert table.colnames[:3] == ["i_objectId", "i_jd", "i_fid"]
    assert "v_g-r" in table.colnames


def test_rows_with_different_columns_are_aligned():
    rows = [{"i:jd": 1.0, "d:tag": "valid"}, {"i:jd": 2.0, "i:candid": -1}]
    result = TableResult(rows)
    assert orjson.loads(render(JSONRenderer, result)) == [
        {"i:jd": 1.0, "d:tag": "valid", "i:candid": None},
        {"i:jd": 2.0, "d:tag": None, "i:candid": -1},
    ]
    assert render(CSVRenderer, result).decode().splitlines()[0] == '"i:jd","d:tag","i:candid"'


def test_columns_choose_order_and_subset():
    result = TableResult(ROWS, columns=["i:jd", "i:objectId"])
    assert [list(r) for r in orjson.loads(render(JSONRenderer, result))] == [["i:jd", "i:objectId"]] * 3
    assert from_parquet(render(ParquetRenderer, TableResult(pd.DataFrame(ROWS), columns=["i:fid"])))[1] == {
        "i:fid": 2
    }


def test_mixed_types_in_a_column_become_text():
    result = TableResult([{"x": 1}, {"x": "a"}])
    assert from_parquet(render(ParquetRenderer, result)) == [{"x": "1"}, {"x": "a"}]


@pytest.mark.parametrize("renderer", [JSONRenderer, CSVRenderer, ParquetRenderer, VOTableRenderer])
def test_empty_results_render(renderer):
    assert render(renderer, TableResult([])) is not None
    body = render(renderer, TableResult([], columns=["i:jd"]))
    if renderer is CSVRenderer:
        assert body.decode().strip() == '"i:jd"'


def test_capped_says_when_rows_were_cut():
    cut = TableResult.capped(iter(range(5)), 3)
    assert (cut.data, cut.truncated, cut.limit) == ([0, 1, 2], True, 3)
    whole = TableResult.capped(iter(range(3)), 3)
    assert (whole.data, whole.truncated) == ([0, 1, 2], False)


# -- sparse rows: the JSON renderer fills the gaps without padding every row first ----------------
SPARSE = [
    {"i:jd": 3.0, "i:fid": 1, "i:magpsf": 18.5, "d:tag": "valid", "v:lapse": 1.5},
    {"i:jd": 2.0, "i:fid": 2, "d:tag": "upperlim"},  # a run of absent columns in the middle
    {"d:tag": "badquality", "i:jd": 1.0},  # its own key order, absent columns at both ends
    {"i:jd": 0.5, "i:fid": 1, "i:magpsf": 19.0, "d:tag": "valid", "v:lapse": None},
    {"i:jd": 0.25, "i:fid": 2, "d:tag": "upperlim", "x:extra": "not an output column"},
]
SPARSE_COLUMNS = ["i:jd", "i:fid", "i:magpsf", "v:lapse", "d:tag", "i:ra"]


@pytest.mark.parametrize("columns", [None, SPARSE_COLUMNS, ["d:tag", "i:jd"]])
def test_json_of_sparse_rows_is_that_of_padded_rows(columns):
    result = TableResult(SPARSE, columns=columns)
    names = result.column_names()
    padded = [{name: row.get(name) for name in names} for row in SPARSE]
    body = render(JSONRenderer, result)
    assert body == orjson.dumps(padded)  # same bytes: same keys, same order, nulls in place
    assert [list(row) for row in orjson.loads(body)] == [names] * len(SPARSE)
    assert result.records() == padded


def test_rows_already_complete_are_passed_through():
    rows = [{"a": 1, "b": None}, {"a": 2, "b": 3}]
    records = TableResult(rows).records()
    assert records == rows and all(r is o for r, o in zip(records, rows))


def test_a_rendered_response_drops_its_rows_but_a_result_renders_again():
    class Response:
        data = None

    response = Response()
    result = response.data = TableResult(SPARSE)
    body = JSONRenderer().render(result, renderer_context={"response": response})
    assert response.data is None  # freed once rendered, not kept alive with the response
    assert render(JSONRenderer, result) == body  # the result itself is intact
    response.data = result
    CSVRenderer().render(result, renderer_context={"response": response})
    assert response.data is None


def test_json_keys_that_are_not_text():
    assert orjson.loads(render(JSONRenderer, {1: "a", "b": np.float64(2.5)})) == {"1": "a", "b": 2.5}

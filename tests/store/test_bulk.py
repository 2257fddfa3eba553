"""store.bulk writes what Manager.batch writes: same keys, same rows, same merges, both backends.

Rows are given column-wise (Arrow arrays, numpy arrays, lists); every codec, nulls, NaN, ints of
every msgpack width, text of every msgpack length class, repeated keys and rows that already
exist are covered, on the grouped (numpy) path and on the one-row-at-a-time path.
"""
import itertools

import numpy as np
import pyarrow as pa
import pytest

from store import BadKey, BadValue, UnknownColumn, bulk
from store.bulk import RowBlock, write_blocks
from tests.store.conftest import Counter, Sample, same


def _columns(ns: str, n: int, seed: int = 0) -> dict:
    """Columns of n rows over every codec, nulls and edge values mixed in."""
    rng = np.random.default_rng(seed)
    ints = [0, 1, 127, 128, -1, -32, -33, 255, -128, -129, 2**15, -(2**15) - 1, 2**31, -(2**31) - 1,
            2**63 - 1, -(2**63)]
    texts = ["", "t", "SN candidate", "Ångström ✓ 中文", "x" * 31, "y" * 32, "z" * 255, "w" * 256, "v" * 70000]
    return {
        "i:ns": pa.array([ns] * n),
        "i:name": pa.array([f"ZTF21a{i % 7:06d}" for i in range(n)]),
        "i:jd": pa.array(2459000.0 + np.arange(n) * 0.37 + rng.random(n) * 1e-3),
        "i:count": pa.array([None if i % 5 == 3 else ints[i % len(ints)] for i in range(n)], pa.int64()),
        "i:mag": pa.array([None if i % 4 == 0 else (float("nan") if i % 4 == 1 else float(i) / 3) for i in range(n)]),
        "d:flag": pa.array([None if i % 3 == 0 else bool(i % 2) for i in range(n)]),
        "d:label": pa.array([None if i % 6 == 0 else texts[i % len(texts)] for i in range(n)]),
        "b:blob": pa.array([None if i % 2 else bytes([i % 256]) * (i % 300) for i in range(n)], pa.binary()),
        "d:history": [None if i % 3 else [{"jd": 1.5 * i, "m": None, "s": "t", "b": b"\x00"}] for i in range(n)],
    }


def _via_manager(store, table, block: RowBlock) -> None:
    with store[table].batch() as batch:
        for row in block.rows():
            batch.put(row)


def _dump(store, table, ns: str) -> dict:
    return {r.key: dict(r) for r in store[table].scan((ns,))}


def _assert_same_stores(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, row in a.items():
        assert list(row) == list(b[key]), key  # same cells, in the same order
        assert same(row, b[key]), (key, row, b[key])


@pytest.fixture(params=["grouped", "one by one"])
def path(request, monkeypatch):
    monkeypatch.setattr(bulk, "_PACKING", request.param)
    monkeypatch.setattr(bulk, "_WARNED", set())
    yield request.param
    # The rows assembled with numpy matched the backend's own encoding (no fallback was needed).
    assert not bulk._WARNED


_ns = itertools.count()


def _pair() -> tuple[str, str]:
    i = next(_ns)
    return f"bulk{i:03d}a", f"bulk{i:03d}b"


def test_rows_as_manager_writes_them(store, path):
    bulk_ns, ref_ns = _pair()
    write_blocks(store, {Sample: [RowBlock(Sample, _columns(bulk_ns, 60))]})
    _via_manager(store, Sample, RowBlock(Sample, _columns(ref_ns, 60)))
    got, expected = _dump(store, Sample, bulk_ns), _dump(store, Sample, ref_ns)
    assert len(got) == 60
    _assert_same_stores(
        {k.replace(bulk_ns, ref_ns): v | {"i:ns": ref_ns} for k, v in got.items()}, expected
    )


def test_existing_and_repeated_rows_are_merged(store, path):
    """A second write adds and replaces cells, never removes one; a key repeated inside one
    write ends as if its rows had been put one after the other."""
    bulk_ns, ref_ns = _pair()
    for ns, write in ((bulk_ns, lambda b: write_blocks(store, {Sample: [b]})),
                      (ref_ns, lambda b: _via_manager(store, Sample, b))):
        first = _columns(ns, 30)
        write(RowBlock(Sample, first))
        again = {c: first[c] for c in ("i:ns", "i:name", "i:jd")}
        again["i:count"] = pa.array([None if i % 2 else 7 for i in range(30)], pa.int64())
        again["d:label"] = pa.array(["new"] * 30)
        write(RowBlock(Sample, again))
        # The same key three times in one block: later values win, nothing is lost.
        keys = {c: pa.array(first[c].to_pylist()[:1] * 3) for c in ("i:ns", "i:name", "i:jd")}
        write(RowBlock(Sample, {**keys, "i:mag": [1.0, None, 3.0], "d:flag": [None, True, None]}))
    got, expected = _dump(store, Sample, bulk_ns), _dump(store, Sample, ref_ns)
    _assert_same_stores(
        {k.replace(bulk_ns, ref_ns): v | {"i:ns": ref_ns} for k, v in got.items()}, expected
    )
    first_key = min(expected)
    assert expected[first_key]["i:mag"] == 3.0 and expected[first_key]["d:flag"] is True


def test_rewriting_the_same_rows_changes_nothing(store, path):
    ns, _ = _pair()
    block = RowBlock(Sample, _columns(ns, 40))
    write_blocks(store, {Sample: [block]})
    before = _dump(store, Sample, ns)
    write_blocks(store, {Sample: [RowBlock(Sample, _columns(ns, 40))]})
    _assert_same_stores(_dump(store, Sample, ns), before)


def test_keys_as_row_key_makes_them():
    n = 200
    rng = np.random.default_rng(3)
    block = RowBlock(Counter, {
        "c:ns": ["a"] * n,
        "c:n": pa.array(rng.integers(0, 10**10, n)),
        "c:value": np.arange(n),
    })
    assert block.row_keys() == [Counter.key.of_row(r) for r in block.rows()]
    jds = list(2459000.0 + rng.random(n) * 1000) + [0.0, 2459507.87423615, 1e-8, 2459507.999999951]
    block = RowBlock(Sample, {"i:ns": ["x"] * len(jds), "i:name": ["ZTF"] * len(jds), "i:jd": jds})
    assert block.row_keys() == [Sample.key.of_row(r) for r in block.rows()]


@pytest.mark.parametrize("columns, error", [
    ({"c:ns": ["a", "b"], "c:n": [1, -2]}, BadKey),
    ({"c:ns": ["a", "b"], "c:n": [1, 10**10]}, BadKey),
    ({"c:ns": ["a", "b"], "c:n": [1, None]}, BadKey),
    ({"c:ns": ["a", ""], "c:n": [1, 2]}, BadKey),
    ({"c:ns": ["a", "b_c"], "c:n": [1, 2]}, BadKey),
])
def test_bad_keys_are_refused(columns, error):
    with pytest.raises(error):
        RowBlock(Counter, columns).row_keys()


def test_bad_values_are_refused():
    with pytest.raises(BadValue):
        RowBlock(Counter, {"c:ns": ["a"], "c:n": [1], "c:value": ["seven"]})
    with pytest.raises(BadValue):
        RowBlock(Counter, {"c:ns": ["a"], "c:n": [1], "c:value": pa.array([1.5])})
    with pytest.raises(UnknownColumn):
        RowBlock(Counter, {"c:ns": ["a"], "c:n": [1], "c:other": [1]})
    with pytest.raises(BadKey):
        RowBlock(Sample, {"i:ns": ["a"], "i:name": ["b"], "i:jd": [float("nan")]}).row_keys()


def test_hbase_cells_are_the_codecs_encoding():
    block = RowBlock(Sample, _columns("cells", 30))
    for row, cells in zip(block.rows(), block.cells()):
        assert cells == {c: Sample.field(c).codec.encode(v) for c, v in row.items()}


def test_one_cell_rows_are_the_backends_packing():
    from store.backends.hbase import _pack_cells, _unpack_cells

    block = RowBlock(Sample, _columns("cells", 60))
    for cells, blob in zip(block.cells(), block.one_cell_rows()):
        assert blob == _pack_cells({c.encode(): v for c, v in cells.items()})
        assert _unpack_cells(blob) == {c.encode(): v for c, v in cells.items()}


def test_take_keeps_keys_and_can_change_table():
    from alerts.tables import BadQuality, UpperLimit

    block = RowBlock(UpperLimit, {"i:objectId": ["ZTF1", "ZTF2", "ZTF3"], "i:jd": [1.0, 2.0, 3.0],
                                  "i:magpsf": [None, 18.0, None]})
    keys = block.row_keys()
    part = block.take([2, 0], table=BadQuality)
    assert part.table is BadQuality and part.row_keys() == [keys[2], keys[0]]
    assert part.rows() == [{"i:objectId": "ZTF3", "i:jd": 3.0}, {"i:objectId": "ZTF1", "i:jd": 1.0}]


def test_deletes_go_with_the_writes(store, path):
    ns, _ = _pair()
    write_blocks(store, {Sample: [RowBlock(Sample, _columns(ns, 10))]})
    keys = sorted(_dump(store, Sample, ns))
    gone = [k.encode() for k in keys[:3]]
    again = RowBlock(Sample, {c: v[3:5] for c, v in _columns(ns, 10).items() if c in ("i:ns", "i:name", "i:jd")})
    write_blocks(store, {Sample: [again]}, deletes={Sample: gone + [b"no such key"]})
    assert sorted(_dump(store, Sample, ns)) == keys[3:]
    write_blocks(store, {}, deletes={Sample: [k.encode() for k in keys[3:]]})
    assert _dump(store, Sample, ns) == {}

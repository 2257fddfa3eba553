"""The store's conformance suite: every test runs on the embedded store and on real HBase."""
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from store import BadKey, BadValue, StoreUnavailable, TableMissing, UnknownColumn
from tests.store.conftest import Counter, Sample, same


def row(ns, name="ZTF21abc", jd=2459507.8742361, **cells):
    out = {"i:ns": ns, "i:name": name, "i:jd": jd}
    out.update(cells)
    return out


# --- round trips -----------------------------------------------------------------------------
VALUES = {
    "i:count": [0, -1, 2**63 - 1, -(2**63), 1664],
    "i:mag": [0.0, -0.0, 18.123456789012345, float("nan"), float("inf"), -float("inf"), 1e-300],
    "d:flag": [True, False],
    "d:label": ["", "SN candidate", "Ångström ✓ 中文", "a:b_c,d\x00e"],
    "b:blob": [b"", b"\x00\xff\x00", bytes(range(256)) * 10],
    "d:history": [
        [],
        [{"jd": 2459000.5, "magpsf": float("nan"), "isdiffpos": "t", "fid": 1, "ssnamenr": None}],
        {"nested": {"list": [1, 2.5, None, "x", b"\x01", True, float("nan")]}},
    ],
}


@pytest.mark.parametrize("column", sorted(VALUES))
def test_every_type_round_trips(store, ns, column):
    manager = store[Sample]
    for i, value in enumerate(VALUES[column]):
        manager.put(row(ns, jd=1.0 + i, **{column: value}))
        got = manager.get((ns, "ZTF21abc", 1.0 + i))
        assert same(got[column], value), (column, value, got[column])


def test_nan_and_none_are_kept_apart(store, ns):
    manager = store[Sample]
    manager.put(row(ns, **{"i:mag": float("nan")}))
    manager.put(row(ns, jd=2.0, **{"i:mag": None}))
    assert math.isnan(manager.get((ns, "ZTF21abc", 2459507.8742361))["i:mag"])
    assert "i:mag" not in manager.get((ns, "ZTF21abc", 2.0))


def test_none_removes_a_cell_and_puts_merge(store, ns):
    manager = store[Sample]
    manager.put(row(ns, **{"i:count": 3, "d:label": "x"}))
    manager.put(row(ns, **{"i:count": None, "i:mag": 1.5}))
    got = manager.get((ns, "ZTF21abc", 2459507.8742361))
    assert "i:count" not in got
    assert got["d:label"] == "x" and got["i:mag"] == 1.5


def test_real_prv_candidates_round_trip_exactly(store, ns, data_dir):
    path = next((data_dir / "fink-parquet" / "sso-varstars-20240115").glob("*.parquet"))
    table = pq.read_table(path, columns=["objectId", "prv_candidates"])
    histories = table.column("prv_candidates").to_pylist()
    longest = max(histories, key=lambda h: len(h or []))
    assert len(longest) > 500  # the README: up to 1,500 prv_candidates
    manager = store[Sample]
    manager.put(row(ns, **{"d:history": longest}))
    assert same(manager.get((ns, "ZTF21abc", 2459507.8742361))["d:history"], longest)


# --- keys and scans --------------------------------------------------------------------------
def test_keys_are_composed_from_fields(store, ns):
    key = store[Sample].put(row(ns, name="ZTF21abfmbix", jd=2459507.8742361))
    assert key == f"{ns}_ZTF21abfmbix_2459507.8742361"
    assert store[Sample].get(key)["i:name"] == "ZTF21abfmbix"


def test_scan_returns_key_order(store, ns):
    manager = store[Counter]
    for n in (10, 2, 300, 1, 25):
        manager.put({"c:ns": ns, "c:n": n, "c:value": n * 2})
    assert [r["c:n"] for r in manager.scan((ns,))] == [1, 2, 10, 25, 300]
    assert [r["c:n"] for r in manager.scan((ns,), reverse=True)] == [300, 25, 10, 2, 1]


def test_prefix_does_not_match_longer_ids(store, ns):
    manager = store[Sample]
    manager.put(row(ns, name="ZTF21abc", jd=1.0))
    manager.put(row(ns, name="ZTF21abcd", jd=1.0))
    assert [r["i:name"] for r in manager.scan((ns, "ZTF21abc"))] == ["ZTF21abc"]
    assert len(list(manager.scan(f"{ns}_ZTF21abc"))) == 2  # a raw text prefix matches both


def _fill(store, ns, n=50):
    with store[Counter].batch() as batch:
        for i in range(n):
            batch.put({"c:ns": ns, "c:n": i, "c:value": i})


def test_range_scan_start_inclusive_stop_exclusive(store, ns):
    _fill(store, ns)
    manager = store[Counter]
    start, stop = (ns, 10), (ns, 20)
    assert [r["c:n"] for r in manager.scan(start=start, stop=stop)] == list(range(10, 20))
    assert [r["c:n"] for r in manager.scan(start=start, stop=stop, reverse=True)] == list(range(19, 9, -1))


def test_limits_and_truncation(store, ns):
    _fill(store, ns)
    manager = store[Counter]
    scan = manager.scan((ns,), limit=5)
    assert [r["c:n"] for r in scan] == [0, 1, 2, 3, 4]
    assert scan.truncated
    scan = manager.scan((ns,), limit=5, reverse=True)
    assert [r["c:n"] for r in scan] == [49, 48, 47, 46, 45]
    assert scan.truncated
    scan = manager.scan((ns,), limit=50)
    assert len(list(scan)) == 50 and not scan.truncated
    scan = manager.scan((ns,), limit=0)
    assert list(scan) == []


def test_reverse_scan_of_a_prefix_stays_inside_it(store, ns):
    _fill(store, ns, 5)
    _fill(store, ns + "x", 5)  # a neighbour namespace sorting right after
    rows = list(store[Counter].scan((ns,), reverse=True))
    assert [r["c:ns"] for r in rows] == [ns] * 5


def test_closing_a_scan_early_releases_it(store, ns):
    _fill(store, ns, 30)
    manager = store[Counter]
    for _ in range(20):  # more scans than pooled connections: each must be released
        with manager.scan((ns,)) as scan:
            next(scan)
    assert len(list(manager.scan((ns,)))) == 30


def test_column_projection(store, ns):
    manager = store[Sample]
    manager.put(row(ns, **{"i:count": 1, "i:mag": 2.0, "d:label": "x", "b:blob": b"y"}))
    key = (ns, "ZTF21abc", 2459507.8742361)
    assert manager.get(key, columns=["i:mag"]) == {"i:mag": 2.0}
    assert set(manager.get(key, columns=["d"])) == {"d:label"}
    [only] = list(manager.scan((ns,), columns=["i:count", "b:blob"]))
    assert only == {"i:count": 1, "b:blob": b"y"}
    with pytest.raises(UnknownColumn):
        manager.get(key, columns=["i:nope"])


def test_batch_writes_many_rows(store, ns):
    with store[Counter].batch(size=300) as batch:
        for i in range(2500):
            batch.put({"c:ns": ns, "c:n": i, "c:value": -i})
    rows = list(store[Counter].scan((ns,)))
    assert len(rows) == 2500
    assert rows[1234]["c:value"] == -1234


def test_batch_dropped_on_error(store, ns):
    with pytest.raises(RuntimeError):
        with store[Counter].batch(size=1000) as batch:
            batch.put({"c:ns": ns, "c:n": 1, "c:value": 1})
            raise RuntimeError("stop")
    assert list(store[Counter].scan((ns,))) == []


def test_missing_rows(store, ns):
    manager = store[Sample]
    assert manager.get((ns, "ZTF99zzzzzzz", 1.0)) is None
    manager.put(row(ns, jd=5.0))
    found = manager.rows([(ns, "ZTF99zzzzzzz", 1.0), (ns, "ZTF21abc", 5.0)])
    assert [r["i:jd"] for r in found] == [5.0]
    assert list(manager.scan((ns, "ZTF99"))) == []


def test_deletes(store, ns):
    manager = store[Sample]
    key = manager.put(row(ns))
    manager.delete(key)
    assert manager.get(key) is None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        b"",
        None,
        12,
        ("ns", "ZTF_with_sep", 1.0),
        ("ns", "ZTF21abc", -1.0),
        ("ns", "ZTF21abc", float("nan")),
        ("ns", "ZTF21abc"),
        ("ns", "", 1.0),
    ],
)
def test_bad_keys_are_rejected(store, bad):
    with pytest.raises(BadKey):
        store[Sample].get(bad)


def test_bad_rows_are_rejected(store, ns):
    manager = store[Sample]
    with pytest.raises(UnknownColumn):
        manager.put(row(ns, **{"i:unknown": 1}))
    with pytest.raises(BadValue):
        manager.put(row(ns, **{"i:count": "twelve"}))
    with pytest.raises(BadValue):
        manager.put(row(ns, **{"d:flag": 1}))
    with pytest.raises(BadKey):
        manager.put({"i:ns": ns, "i:name": "x"})  # no jd: no key
    assert list(manager.scan((ns,))) == []  # nothing half-written


def test_schema_row_records_types(store):
    schema = store.schema(Sample)
    assert schema["key"] == ["i:ns", "i:name", "i:jd"]
    assert schema["columns"]["d:history"]["type"] == "struct"
    assert schema["columns"]["i:count"]["type"] == "int"
    assert {"sample", "counter", "schema"} <= set(store.tables())


def test_missing_table(store):
    class Ghost(Sample):
        name = "ghost_table"

    with pytest.raises(TableMissing):
        store[Ghost].get(("a", "b", 1.0))


# --- concurrency -----------------------------------------------------------------------------
def test_many_reader_threads(store, ns):
    _fill(store, ns, 200)
    manager = store[Counter]

    def read(i):
        assert manager.get((ns, i % 200))["c:value"] == i % 200
        return sum(1 for _ in manager.scan((ns,), limit=50))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(read, range(400))) == {50}


def _reader_process(settings, ns, queue):
    from store import Store

    store = Store.from_settings(settings)
    counts = []
    for _ in range(20):
        counts.append(sum(1 for _ in store[Counter].scan((ns,))))
    queue.put(counts)


def test_reader_processes_while_one_writes(store, ns, tmp_path):
    import multiprocessing

    _fill(store, ns, 100)
    settings = store.settings
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    readers = [ctx.Process(target=_reader_process, args=(settings, ns, queue)) for _ in range(4)]
    for p in readers:
        p.start()
    with store[Counter].batch(size=50) as batch:  # this process writes meanwhile
        for i in range(100, 400):
            batch.put({"c:ns": ns, "c:n": i, "c:value": i})
    results = [queue.get(timeout=120) for _ in readers]
    for p in readers:
        p.join(timeout=60)
        assert p.exitcode == 0
    for counts in results:
        # Each reader sees a consistent, growing prefix of the writes, never a torn row.
        assert counts == sorted(counts) and 100 <= counts[0] and counts[-1] <= 400
    assert sum(1 for _ in store[Counter].scan((ns,))) == 400


def test_many_threads_open_tables_at_once(tmp_path):
    """First use of a table from many threads at once must not hang (py-lmdb's open_db keeps
    the GIL while it waits for LMDB's write lock)."""
    from store import Store
    from tests.store.conftest import TABLES

    path = tmp_path / "threads"
    Store.from_settings({"BACKEND": "embedded", "PATH": str(path)}).create(*TABLES)

    def first_use(i):
        fresh = Store.from_settings({"BACKEND": "embedded", "PATH": str(path)})
        fresh.backend._dbs = {}  # as a new process would: no table opened yet
        if i % 3 == 0:
            fresh[Counter].put({"c:ns": "t", "c:n": i, "c:value": i})
        return fresh[Sample].get(("t", "x", 1.0))

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(first_use, i) for i in range(64)]
        assert [f.result(timeout=60) for f in futures] == [None] * 64


# --- reads of many rows, shapes, projections --------------------------------------------------
def test_rows_come_in_the_order_asked_missing_ones_skipped(store, ns):
    manager = store[Counter]
    _fill(store, ns, 40)
    wanted = [(ns, n) for n in (37, 3, 1000, 12, 0, 39, 5000, 21)]
    assert [r["c:n"] for r in manager.rows(wanted)] == [37, 3, 12, 0, 39, 21]
    assert [r.key for r in manager.rows([(ns, 7), (ns, 7)])] == [f"{ns}_{7:010d}"] * 2
    assert manager.rows([]) == []


def test_many_rows_at_once_keep_their_order(store, ns):
    # More keys than one HBase request carries (the backend reads them in chunks).
    _fill(store, ns, 700)
    order = [(i * 389) % 700 for i in range(700)]
    rows = store[Counter].rows([(ns, n) for n in order], columns=["c:n"])
    assert [r["c:n"] for r in rows] == order
    assert all(set(r) == {"c:n"} for r in rows)


def test_rows_of_different_columns_keep_exactly_their_cells(store, ns):
    manager = store[Sample]
    cells = [
        {"i:count": 1},
        {"i:mag": 2.5, "d:label": "x"},
        {"d:history": [{"jd": 1.5, "fid": 1}], "b:blob": b"\x00"},
        {"i:count": 4, "i:mag": 0.5, "d:flag": False, "d:label": "y", "d:history": {"a": [1, None]}},
        {},
    ]
    for i, extra in enumerate(cells):
        manager.put(row(ns, jd=1.0 + i, **extra))
    base = {"i:ns", "i:name", "i:jd"}
    scanned = list(manager.scan((ns,)))
    assert [set(r) - base for r in scanned] == [set(c) for c in cells]
    for got, extra in zip(scanned, cells):
        assert all(same(got[c], v) for c, v in extra.items())
    keys = [r.key for r in scanned]
    assert [dict(r) for r in manager.rows(keys)] == [dict(r) for r in scanned]


@pytest.mark.parametrize(
    "columns",
    [["i:mag"], ["d:history"], ["d:history", "i:count"], ["d"], ["i", "b:blob"], ["d:label", "i:jd"]],
)
def test_projections_return_exactly_the_columns_asked(store, ns, columns):
    manager = store[Sample]
    full = {"i:count": 3, "i:mag": 1.25, "d:flag": True, "d:label": "z", "b:blob": b"b",
            "d:history": [{"jd": 2.5, "magpsf": float("nan")}, {"jd": 3.5, "magpsf": None}]}
    manager.put(row(ns, jd=1.0, **full))
    manager.put(row(ns, jd=2.0, **{"i:count": 5}))  # holds few of the columns
    whole = {**row(ns, jd=1.0), **full}

    def expected(cells):
        return {c: v for c, v in cells.items() if c in columns or c.partition(":")[0] in columns}

    got = manager.get((ns, "ZTF21abc", 1.0), columns=columns)
    assert set(got) == set(expected(whole))
    assert all(same(got[c], v) for c, v in expected(whole).items())
    scanned = list(manager.scan((ns,), columns=columns))
    assert set(scanned[0]) == set(expected(whole))
    if len(scanned) > 1:  # HBase leaves out a row holding none of the columns
        assert set(scanned[1]) == set(expected({**row(ns, jd=2.0), "i:count": 5}))
    [again] = manager.rows([(ns, "ZTF21abc", 1.0)], columns=columns)
    assert set(again) == set(expected(whole))


def test_a_batch_writing_a_row_twice_merges_it(store, ns):
    manager = store[Sample]
    with manager.batch() as batch:
        batch.put(row(ns, **{"i:count": 1, "d:history": [1, 2]}))
        batch.put(row(ns, **{"i:mag": 2.0}))  # same key, other columns: merged
        batch.put(row(ns, **{"i:count": None, "d:label": "w"}))
    got = manager.get((ns, "ZTF21abc", 2459507.8742361))
    assert {c: got[c] for c in got if c not in ("i:ns", "i:name", "i:jd")} == {
        "d:history": [1, 2], "i:mag": 2.0, "d:label": "w"
    }


def test_uniform_rows_share_their_columns_in_first_seen_order(store, ns):
    manager = store[Sample]
    manager.put(row(ns, jd=1.0, **{"i:count": 1}))
    manager.put(row(ns, jd=2.0, **{"d:label": "b", "d:history": [1.5]}))
    manager.put(row(ns, jd=3.0, **{"i:mag": 3.5, "i:count": 3}))
    keys = [(ns, "ZTF21abc", jd) for jd in (2.0, 9.0, 1.0, 3.0)]  # 9.0: no such row
    rows = manager.rows(keys, uniform=True)
    assert [r["i:jd"] for r in rows] == [2.0, 1.0, 3.0]
    assert [r.key for r in rows] == [r.key for r in manager.rows(keys)]
    first = list(rows[0])
    assert all(list(r) == first for r in rows)  # same keys, same order
    assert {"i:count", "d:label", "d:history", "i:mag"} <= set(first)
    assert first.index("d:label") < first.index("i:count") < first.index("i:mag")  # as first seen
    assert "b:blob" not in first  # no row holds it
    assert rows[1]["d:label"] is None and rows[0]["d:history"] == [1.5] and rows[2]["i:count"] == 3
    projected = manager.rows(keys, columns=["i:count", "d:label"], uniform=True)
    assert [dict(r) for r in projected] == [
        {"d:label": "b", "i:count": None}, {"d:label": None, "i:count": 1}, {"d:label": None, "i:count": 3}
    ]


# --- many prefixes at once ------------------------------------------------------------------
PREFIX_PATTERNS = {
    "every name": lambda names: names,
    "one name in 7": lambda names: names[::7],  # other names' rows between those asked
    "runs between others": lambda names: [n for i, n in enumerate(names) if i % 40 < 25],
    "alternate": lambda names: names[::2],
}


@pytest.mark.parametrize("pattern", sorted(PREFIX_PATTERNS))
def test_scan_prefixes_gives_each_prefix_exactly_its_rows(store, ns, pattern):
    manager = store[Sample]
    names = [f"ZTF{i:04d}abc" for i in range(300)]
    with manager.batch() as batch:
        for i, name in enumerate(names):
            # 1 to 3 rows mostly, a few long runs (more rows than a joint HBase scan reads per
            # prefix before it is cut and resumed)
            for j in range(40 if i % 37 == 5 else 1 + i % 3):
                batch.put(row(ns, name=name, jd=1.0 + j, **{"i:count": i}))
    asked = PREFIX_PATTERNS[pattern](names)
    asked = asked[::-1] + ["ZTF9999zzz", asked[0]]  # any order, one with no rows, one twice
    got = manager.scan_prefixes([(ns, name) for name in asked], columns=["i:jd", "i:count"])
    assert len(got) == len(asked)
    for name, rows in zip(asked, got):
        expected = list(manager.scan((ns, name), columns=["i:jd", "i:count"]))
        assert [r.key for r in rows] == [r.key for r in expected], name
        assert [dict(r) for r in rows] == [dict(r) for r in expected]
    assert manager.scan_prefixes([]) == []

"""The embedded store's row layout (store/backends/packed.py): values by position, shapes once.

These look at the LMDB values themselves, so they only concern the embedded backend; what a
caller sees is the conformance suite's business (tests/store/test_conformance.py).
"""
import msgpack
import pytest

from store import Store
from store.backends.packed import SHAPES_DB
from tests.store.conftest import Sample, same

KEY = ("ns", "ZTF21abc", 2459507.8742361)
CELLS = {
    "i:ns": "ns", "i:name": "ZTF21abc", "i:jd": 2459507.8742361, "i:count": 7, "i:mag": float("nan"),
    "d:label": "SN", "d:flag": False, "b:blob": b"\x00\x01",
    "d:history": [{"jd": 2459500.5, "magpsf": 19.5, "isdiffpos": "t"}, {"jd": 1.0, "magpsf": None}],
}


@pytest.fixture
def store(tmp_path):
    store = Store.from_settings({"BACKEND": "embedded", "PATH": str(tmp_path / "store")})
    store.create(Sample)
    yield store
    store.close()


def _raw(store, key: bytes) -> bytes:
    backend = store.backend
    with backend._env().begin(db=backend._db(Sample)) as txn:
        return txn.get(key)


def test_a_row_is_its_values_and_the_id_of_its_column_names(store):
    key = store[Sample].put(CELLS).encode()
    values = msgpack.unpackb(_raw(store, key), raw=False)
    assert isinstance(values, list) and len(values) == len(CELLS) + 1
    names = store.backend._load_shape(values[-1])
    assert set(names) == set(CELLS)
    # The Struct value is packed apart (ext type 1): a projection can leave it undecoded.
    assert isinstance(values[names.index("d:history")], msgpack.ExtType)
    assert SHAPES_DB not in store.tables()


def test_another_process_reads_shapes_it_never_wrote(store, tmp_path):
    store[Sample].put(CELLS)
    fresh = Store.from_settings({"BACKEND": "embedded", "PATH": str(tmp_path / "store")})
    got = fresh[Sample].get(KEY)  # a new backend: no shape known, read from the store
    assert all(same(got[c], v) for c, v in CELLS.items()) and set(got) == set(CELLS)
    assert dict(fresh[Sample].get(KEY, columns=["d:history", "i:count"])) == {
        "i:count": 7, "d:history": CELLS["d:history"]
    }


def test_rows_written_as_maps_are_still_read_and_rewritten_on_put(store):
    # The former layout: a msgpack map of every cell.
    key = Sample.key.of_values(*KEY)
    backend = store.backend
    with backend._env().begin(write=True, db=backend._db(Sample)) as txn:
        txn.put(key, msgpack.packb(CELLS, use_bin_type=True))
    manager = store[Sample]
    got = manager.get(KEY)
    assert set(got) == set(CELLS) and got.key == key.decode()
    assert dict(manager.get(KEY, columns=["d"])) == {"d:label": "SN", "d:flag": False, "d:history": CELLS["d:history"]}
    assert [r.key for r in manager.scan(("ns",), columns=["i:count"])] == [key.decode()]
    manager.put({**CELLS, "i:jd": 1.0, "i:count": None, "d:flag": None})  # a row in the new layout
    both = manager.rows([KEY, ("ns", "ZTF21abc", 1.0)], uniform=True)
    assert list(both[0]) == list(both[1]) and set(both[0]) == set(CELLS)
    assert both[1]["i:count"] is None and both[0]["i:count"] == 7
    both = manager.rows([("ns", "ZTF21abc", 1.0), KEY], columns=["d", "i:count"], uniform=True)
    assert [dict(r) for r in both][1] == {"d:label": "SN", "d:flag": False, "d:history": CELLS["d:history"], "i:count": 7}
    manager.put({**{c: CELLS[c] for c in ("i:ns", "i:name", "i:jd")}, "i:count": 8})
    assert isinstance(msgpack.unpackb(_raw(store, key), raw=False), list)  # now in the new layout
    got = manager.get(KEY)
    assert got["i:count"] == 8 and set(got) == set(CELLS)


def test_a_row_whose_shape_is_missing_is_an_error_not_a_wrong_row(store):
    from store import StoreError

    key = Sample.key.of_values(*KEY)
    backend = store.backend
    with backend._env().begin(write=True, db=backend._db(Sample)) as txn:
        txn.put(key, msgpack.packb([1, 2, 12345], use_bin_type=True))
    with pytest.raises(StoreError):
        store[Sample].get(KEY)


def test_shapes_are_shared_not_repeated(store):
    backend = store.backend

    def shapes():
        with backend._env().begin(db=backend._named_db(SHAPES_DB)) as txn:
            return txn.stat()["entries"]

    before = shapes()  # the schema row's
    with store[Sample].batch() as batch:
        for i in range(200):
            batch.put({**CELLS, "i:jd": float(i)})
    assert shapes() == before + 1  # 200 rows, one shape

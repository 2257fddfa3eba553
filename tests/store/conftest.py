import itertools
import math

import pytest

from store import Bool, Bytes, Field, Float, Int, RowKey, SchemaRow, Store, Str, Struct, Table
from tests.backends import require_hbase, store_settings, unique_prefix


class Sample(Table):
    """A table using every codec, keyed like the alert table (a text part then a float part)."""

    name = "sample"
    families = ("i", "d", "b")
    key = RowKey("i:ns", "i:name", "i:jd")
    ns = Field("i:ns", Str())
    obj = Field("i:name", Str())
    jd = Field("i:jd", Float())
    count = Field("i:count", Int())
    mag = Field("i:mag", Float())
    flag = Field("d:flag", Bool())
    label = Field("d:label", Str())
    blob = Field("b:blob", Bytes())
    history = Field("d:history", Struct())


class Counter(Table):
    """An int-keyed table (zero-padded keys must sort numerically)."""

    name = "counter"
    families = ("c",)
    key = RowKey("c:ns", "c:n")
    ns = Field("c:ns", Str())
    n = Field("c:n", Int(key_width=10))
    value = Field("c:value", Int())


TABLES = (Sample, Counter)
_ns = itertools.count()


ONE_CELL = "hbase, one cell per row"


@pytest.fixture(
    scope="session",
    params=["embedded", pytest.param("hbase", marks=pytest.mark.hbase), pytest.param(ONE_CELL, marks=pytest.mark.hbase)],
)
def backend_store(request, tmp_path_factory):
    """One store per backend for the whole session, its tables created once. The third runs every
    test with the tables declared ``one_cell`` (an HBase layout: embedded rows are one value anyway)."""
    if request.param != "embedded":
        require_hbase()
        settings = store_settings("hbase", None, prefix=unique_prefix("c"))
    else:
        settings = store_settings("embedded", tmp_path_factory.mktemp("embedded"))
    store = Store.from_settings(settings)
    store.create(*TABLES)
    store.one_cell_tables = request.param == ONE_CELL
    yield store
    try:
        store.drop(*TABLES, SchemaRow)
    finally:
        store.close()


@pytest.fixture
def store(backend_store, monkeypatch):
    if backend_store.one_cell_tables:
        for table in TABLES:
            monkeypatch.setattr(table, "one_cell", True)
    return backend_store


@pytest.fixture
def ns():
    """A namespace (the first key part) no other test uses: tests share the session's tables."""
    return f"ns{next(_ns):04d}"


def same(a, b) -> bool:
    """Equality where NaN equals NaN (recursively), and types must match."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b

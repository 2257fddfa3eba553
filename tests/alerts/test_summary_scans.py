"""Object summaries read each object's alerts; on HBase several objects share a scan where no
other object's rows lie between them (alerts.ingest._alerts_of_run). Whatever the layout of the
store, each object must get exactly its own alerts, in key order."""

import random

import pytest

from alerts import ingest
from alerts.tables import Alert
from store import Store
from tests.backends import require_hbase, store_settings, unique_prefix


@pytest.fixture(scope="module", params=["embedded", pytest.param("hbase", marks=pytest.mark.hbase)])
def store(request, tmp_path_factory):
    if request.param == "hbase":
        require_hbase()
        settings = store_settings("hbase", None, prefix=unique_prefix("sum"))
    else:
        settings = store_settings("embedded", tmp_path_factory.mktemp("summary"))
    store = Store.from_settings(settings)
    store.create(Alert)
    yield store
    try:
        if request.param == "hbase":
            store.drop(Alert)
    finally:
        store.close()


def _object_ids(n: int, tag: str) -> list[str]:
    rng = random.Random(tag)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return sorted({f"ZTF{tag}{''.join(rng.choices(letters, k=7))}" for _ in range(n)})


def _fill(store, object_ids: list[str], alerts_of) -> dict[str, list[float]]:
    """Alert rows for each object (alerts_of(i) of them); returns their jds by object."""
    written: dict[str, list[float]] = {}
    with store[Alert].batch() as batch:
        for i, oid in enumerate(object_ids):
            jds = [2459000.5 + i + 0.01 * j for j in range(alerts_of(i))]
            for jd in jds:
                batch.put({"i:objectId": oid, "i:jd": jd, "i:candid": int(jd * 1000), "i:ra": 1.0, "i:dec": 2.0})
            written[oid] = jds
    return written


@pytest.mark.parametrize(
    "tag, touched",
    [
        ("11", lambda ids: ids),  # dense: every object asked for
        ("22", lambda ids: ids[::7]),  # sparse: one object in 7
        ("33", lambda ids: [o for i, o in enumerate(ids) if i % 40 < 25]),  # runs between others
        ("44", lambda ids: ids[::2]),  # alternate
    ],
)
def test_each_object_gets_exactly_its_alerts(store, tag, touched):
    ids = _object_ids(300, tag)
    # 1 to 3 alerts mostly, and a few long light curves (more rows than a joint scan reads
    # per object before it is cut and resumed).
    written = _fill(store, ids, lambda i: 40 if i % 37 == 5 else 1 + i % 3)
    asked = touched(ids) + [f"ZTF{tag}zzzzzzz"]  # and one with no alerts at all
    found = ingest._alerts_of_run(store[Alert], sorted(asked))
    assert set(found) == set(asked)
    for oid in asked:
        assert [row["i:jd"] for row in found[oid]] == written.get(oid, []), oid
        assert all(row.key.startswith(oid + "_") for row in found[oid])
    # The threaded path the ingestion takes gives the same, in the order asked.
    threaded = list(ingest._alerts_of_objects(store, sorted(asked)))
    assert [oid for oid, _ in threaded] == sorted(asked)
    assert all([r["i:jd"] for r in rows] == written.get(oid, []) for oid, rows in threaded)

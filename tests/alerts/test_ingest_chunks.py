"""How ingestion goes fast must not change what it writes (alerts.ingest, embedded store).

Small files are written together in chunks, files can be spread over processes, history rows
leave out null fields: the store must hold the same rows as when each file is ingested on its
own. (Re-ingest, crashes, parallel commands and bad files: test_ingest.py.)
"""

import msgpack
import pytest

from alerts.ingest import expand_paths, ingest_file, ingest_paths, refresh_statistics
from alerts.tables import ALL_TABLES, Alert, UpperLimit
from store import Store

FOLDERS = [
    "fink-parquet/sample-124-20211122",
    "fink-parquet/slsn-2025",  # several alerts per object
    "fink-parquet/tracklet-20210604",
    "fink-avro/kafka-2019-2021",
    "ztf-avro/night-20181129",
    "sso/aggregated-lightcurves",
]


@pytest.fixture
def files(data_dir):
    found, missing = expand_paths([str(data_dir / folder) for folder in FOLDERS])
    assert not missing
    return found


def new_store(path) -> Store:
    store = Store.from_settings({"BACKEND": "embedded", "PATH": str(path)})
    store.create(*ALL_TABLES)
    return store


def dump(store: Store) -> dict:
    """Every row of every table, values packed (so NaN compares equal to NaN)."""
    return {
        table.name: {
            row.key: msgpack.packb(sorted(row.items()), use_bin_type=True)
            for row in store[table].scan(start=b"\x00")
        }
        for table in ALL_TABLES
    }


def test_chunks_write_what_file_by_file_writes(files, tmp_path):
    chunked = new_store(tmp_path / "chunked")
    report = ingest_paths(files, store=chunked)
    assert not report.errors
    assert [o.path for o in report.files] == [str(f) for f in files]

    one_by_one = new_store(tmp_path / "one")
    nights = set()
    for path in files:
        _, touched = ingest_file(one_by_one, path)
        nights |= touched
    refresh_statistics(one_by_one, nights)

    assert dump(chunked) == dump(one_by_one)
    assert report.total("alerts") == len(dump(chunked)[Alert.name]) > 200


def test_workers_write_what_one_process_writes(files, tmp_path):
    one = new_store(tmp_path / "one")
    ingest_paths(files, store=one)
    several = new_store(tmp_path / "several")
    seen = []
    report = ingest_paths(files, store=several, workers=2, on_file=seen.append)
    assert not report.errors
    assert sorted(o.path for o in seen) == sorted(str(f) for f in files)
    assert [o.path for o in report.files] == [str(f) for f in files]
    assert dump(several) == dump(one)


def test_history_points_keep_what_any_alert_said(data_dir, tmp_path):
    """A history row holds no empty cell: a null field never erases another alert's value."""
    store = new_store(tmp_path / "s")
    ingest_paths(expand_paths([str(data_dir / "fink-parquet/young-transients-2024")])[0], store=store)
    rows = list(store[UpperLimit].scan(start=b"\x00", limit=50))
    assert rows and all(None not in row.values() for row in rows)
    assert all("i:magpsf" not in row for row in rows)  # upper limits: no photometry

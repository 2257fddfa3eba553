"""How ingestion goes fast must not change what it writes (alerts.ingest, embedded store).

Small files are written together in chunks, files can be spread over processes, history rows
leave out null fields: the store must hold the same rows as when each file is ingested on its
own. (Re-ingest, crashes, parallel commands and bad files: test_ingest.py.)
"""

import copy

import msgpack
import pytest

from alerts.alert_rows import AlertRows, build_rows
from alerts.ingest import (
    expand_paths,
    ingest_file,
    ingest_paths,
    refresh_statistics,
    write_alert_rows,
)
from alerts.readers import concat_alert_columns, read_alert_columns
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


def _built(paths) -> AlertRows:
    return build_rows(concat_alert_columns([batch for path in paths for batch in read_alert_columns(path)]))


def test_rows_hold_no_null_cells(data_dir):
    """Rows from files leave null fields out (a None would mean "erase this cell")."""
    paths, _ = expand_paths([str(data_dir / "fink-parquet/young-transients-2024")])
    built = _built(paths)
    for blocks in [*built.blocks.values(), built.detections]:
        for block in blocks:
            assert all(None not in row.values() for row in block.rows())
    limits = [row for block in built.blocks[UpperLimit] for row in block.rows()]
    assert limits and all("i:magpsf" not in r for r in limits)


def test_a_poorer_copy_of_an_alert_does_not_erase_a_richer_one(data_dir, tmp_path):
    """The raw ZTF copy of an alert (no Fink columns) after Fink's copy: Fink's values stay."""
    path = next((data_dir / "fink-parquet/young-transients-2024").glob("*.parquet"))
    rich = next(read_alert_columns(path, batch_size=3))
    raw = copy.copy(rich)
    raw.fink = {}
    store = new_store(tmp_path / "s")
    write_alert_rows(store, build_rows(rich))
    write_alert_rows(store, build_rows(raw))
    for alert in rich.to_alerts():
        stored = store[Alert].get((alert["objectId"], alert["candidate"]["jd"]))
        assert stored["d:cdsxmatch"] == alert["fink"]["cdsxmatch"] is not None

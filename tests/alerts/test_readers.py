"""Tests of alerts.readers and alerts.schema against every real file in ../shared/data.

Expected values are read from the files themselves with bare pyarrow / fastavro (never through
the reader under test), plus the counts documented in the data folder's README.
"""

import gzip
import math
from datetime import UTC, datetime
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from alerts.datadir import find_data_dir
from alerts.readers import (
    UnreadableFile,
    read_alert_columns,
    read_alerts,
    read_fink_fat,
    read_sso_aggregated,
    sniff,
)
from alerts.schema import (
    CANDIDATE_FIELDS,
    FINK_FIELDS,
    FINK_RENAMES,
    IGNORED_COLUMNS,
    KINDS,
    PRV_CANDIDATE_FIELDS,
    SIMBAD_RENAMES,
    TIMESTAMP_FIELDS,
    ZTF_TOP_LEVEL,
)

# Alert folders with (alerts, distinct objectIds) from the data README, checked against the
# files too. all-topics has 139 alerts in 139 files but one alert can sit in two topic files.
ALERT_FOLDERS = {
    "fink-parquet/sample-124-20211122": (124, 104),
    "fink-parquet/full-schema-2025": (9, 4),
    "fink-parquet/sso-varstars-20240115": (849, 846),
    "fink-parquet/slsn-2025": (55, 15),
    "fink-parquet/yso-2025": (26, 21),
    "fink-parquet/cv-symbiotic-2024": (20, None),
    "fink-parquet/agn-2023": (1, None),
    "fink-parquet/superluminous-2025": (74, None),
    "fink-parquet/young-transients-2024": (72, None),
    "fink-parquet/broker-tiny": (3, None),
    "fink-parquet/mm-20190903": (51, None),
    "fink-parquet/tracklet-20210604": (16, 16),
    "fink-parquet/sso-cutouts-20220804": (11, None),
    "fink-parquet/sso-8467-2025": (3, None),
    "fink-avro/data-transfer-2026": (31, None),
    "fink-avro/kafka-2019-2021": (18, None),
    "ztf-avro/official-samples": (4, None),
    "ztf-avro/night-20181129": (31, None),
    "ztf-avro/all-topics-20231018": (139, 131),
    "sso/asteroid-9016-202106": (182, None),
}

# What sniff says of each file, folder by folder.
SNIFFED_KINDS = {
    "anomaly": {"other:lightcurve", "other:anomaly-features"},
    "fink-avro/data-transfer-2026": {"alerts-avro", "other:avro-schema"},
    "gw": {"other:healpix-map"},
    "gw/gcn-notices": {"other:gcn-notice"},
    "images": {"other:image-classification"},
    "microlensing/gaia21dnc": {"other:lightcurve", "other:ztf-forced-photometry"},
    "sso/aggregated-lightcurves": {"sso-aggregated"},
    "sso/fink-fat-candidates": {"fink-fat-orbits", "fink-fat-trajectories"},
    "xmatch": {"other:catalogue"},
    "xmatch/catalogs": {"other:catalogue"},
}
for _folder in ALERT_FOLDERS:
    SNIFFED_KINDS.setdefault(_folder, {"alerts-avro" if "avro" in _folder else "alerts-parquet"})


# ---- helpers: facts straight from the files ---------------------------------------------------


def data_files(data_dir: Path, folder: str) -> list[Path]:
    return sorted(p for p in (data_dir / folder).iterdir() if p.suffix in (".parquet", ".avro"))


def raw_records(path: Path) -> list[dict]:
    """Every row of an alert file as bare pyarrow / fastavro give it."""
    if path.suffix == ".avro":
        with open(path, "rb") as fh:
            return list(fastavro.reader(fh))
    return pq.read_table(path).to_pylist()


def read_all(path: Path, batch_size: int = 500) -> list[dict]:
    return [alert for batch in read_alerts(path, batch_size=batch_size) for alert in batch]


def same_value(a, b) -> bool:
    """Equality that treats NaN as equal to NaN, through dicts and lists."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def non_null(avro_type):
    """T from an Avro ["null", T] union (T itself otherwise)."""
    if isinstance(avro_type, list):
        (avro_type,) = [t for t in avro_type if t != "null"]
    return avro_type


def as_seconds(value) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@pytest.fixture(scope="module")
def folder_alerts(data_dir):
    """Read each alert folder once for the module: {folder: [(path, raw rows, alerts)]}."""
    cache = {}

    def load(folder: str):
        if folder not in cache:
            cache[folder] = [(p, raw_records(p), read_all(p)) for p in data_files(data_dir, folder)]
        return cache[folder]

    return load


# ---- every alert file -----------------------------------------------------------------------


@pytest.mark.parametrize("folder", sorted(ALERT_FOLDERS))
def test_alert_folder_matches_file_contents(folder, folder_alerts):
    files = folder_alerts(folder)
    expected_alerts, expected_objects = ALERT_FOLDERS[folder]
    alerts = [a for _, _, file_alerts in files for a in file_alerts]
    assert len(alerts) == expected_alerts
    if expected_objects is not None:
        assert len({a["objectId"] for a in alerts}) == expected_objects

    for path, raw, file_alerts in files:
        assert len(file_alerts) == len(raw), path
        for row, alert in zip(raw, file_alerts):
            assert alert["objectId"] == row["objectId"]
            assert isinstance(alert["candid"], int)
            assert alert["candid"] == (row.get("candid") or row["candidate"]["candid"])
            assert alert["schemavsn"] == row.get("schemavsn")
            assert set(alert["candidate"]) == set(CANDIDATE_FIELDS)
            for name in ("jd", "ra", "dec", "magpsf", "sigmapsf", "fid", "isdiffpos"):
                assert same_value(alert["candidate"][name], row["candidate"][name]), (path, name)
            history = row.get("prv_candidates") or []
            assert len(alert["prv_candidates"]) == len(history)
            for entry, raw_entry in zip(alert["prv_candidates"], history):
                assert set(entry) == set(PRV_CANDIDATE_FIELDS)
                assert same_value(entry["jd"], raw_entry["jd"])
                assert same_value(
                    entry["magpsf"], raw_entry.get("magpsf")
                )  # absent in the 3.5 test schema
            assert alert["fp_hists"] == (row.get("fp_hists") or [])
            for short, column in (
                ("Science", "cutoutScience"),
                ("Template", "cutoutTemplate"),
                ("Difference", "cutoutDifference"),
            ):
                stamp = (row.get(column) or {}).get("stampData")
                assert alert["cutouts"][short] == stamp
                if stamp is not None:
                    assert gzip.decompress(stamp)[:9] == b"SIMPLE  ="  # gzipped FITS
            assert set(alert["fink"]) == set(FINK_FIELDS)


@pytest.mark.parametrize("folder", sorted(ALERT_FOLDERS))
def test_candids_unique_or_repeated_alert(folder, folder_alerts):
    seen = {}
    for _, _, alerts in folder_alerts(folder):
        for alert in alerts:
            first = seen.setdefault(alert["candid"], alert)
            # all-topics holds a few alerts twice (sent on two Fink topics): same alert then.
            assert first["objectId"] == alert["objectId"]
            assert first["candidate"]["jd"] == alert["candidate"]["jd"]


@pytest.mark.parametrize("folder", sorted(ALERT_FOLDERS))
def test_fink_scalars_match_file(folder, folder_alerts):
    """Plain scalar Fink columns arrive unchanged (NaN stays NaN, null stays None)."""
    changed = {"cdsxmatch", "tracklet", "mulens", *TIMESTAMP_FIELDS}
    for path, raw, alerts in folder_alerts(folder):
        for row, alert in zip(raw, alerts):
            for name, value in row.items():
                target = FINK_RENAMES.get(name, name)
                if name in ZTF_TOP_LEVEL or name in IGNORED_COLUMNS or target in changed:
                    continue
                if FINK_FIELDS[target].kind in ("int", "float", "str", "bool"):
                    if isinstance(value, float) and FINK_FIELDS[target].kind == "int":
                        value = None if math.isnan(value) else int(value)
                    assert same_value(alert["fink"][target], value), (path, name)


@pytest.mark.parametrize("folder", sorted(ALERT_FOLDERS))
def test_values_have_declared_kinds(folder, folder_alerts):
    python_types = {
        "int": int,
        "float": float,
        "str": str,
        "bool": bool,
        "bytes": bytes,
        "list": list,
        "struct": dict,
    }
    for _, _, alerts in folder_alerts(folder):
        for alert in alerts:
            records = [(alert["candidate"], CANDIDATE_FIELDS), (alert["fink"], FINK_FIELDS)]
            records += [(entry, PRV_CANDIDATE_FIELDS) for entry in alert["prv_candidates"]]
            for record, fields in records:
                for name, value in record.items():
                    if value is not None:
                        expected = python_types[fields[name].kind]
                        assert isinstance(value, expected) and not (
                            expected is int and isinstance(value, bool)
                        ), (name, value)


def test_every_alert_file_is_covered(data_dir):
    """A new alert file in the data folder must get an entry in ALERT_FOLDERS."""
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and path.suffix in (".parquet", ".avro"):
            try:
                kind = sniff(path)
            except UnreadableFile:
                continue
            if kind.startswith("alerts-"):
                assert str(path.parent.relative_to(data_dir)) in ALERT_FOLDERS, path


def test_sniff_kinds_by_folder(data_dir):
    for folder, kinds in SNIFFED_KINDS.items():
        found = {sniff(p) for p in (data_dir / folder).iterdir() if p.is_file()}
        assert found == kinds, folder


def test_sniff_rejects_docs_as_unknown(data_dir):
    with pytest.raises(UnreadableFile, match="unknown format"):
        sniff(data_dir / "README.md")


# ---- schema drift ----------------------------------------------------------------------------


def test_tracklets_kept_and_placeholders_dropped(folder_alerts):
    alerts = [
        a
        for _, _, file_alerts in folder_alerts("fink-parquet/sso-varstars-20240115")
        for a in file_alerts
    ]
    with_tracklet = {a["objectId"]: a["fink"]["tracklet"] for a in alerts if a["fink"]["tracklet"]}
    assert set(with_tracklet) == {"ZTF24aaciatp", "ZTF24aacbkwf"}
    assert all(t.startswith("TRCK_") for t in with_tracklet.values())

    # slsn-2025 writes the string 'None' where other files write null.
    ((_, raw, alerts),) = folder_alerts("fink-parquet/slsn-2025")
    assert {row["tracklet"] for row in raw} == {"None"}
    assert {a["fink"]["tracklet"] for a in alerts} == {None}


def test_roid_3_without_ssnamenr_kept_as_is(folder_alerts):
    ((_, raw, alerts),) = folder_alerts("fink-parquet/mm-20190903")
    raw_roid3 = [row for row in raw if row["roid"] == 3]
    nameless = [
        row["objectId"] for row in raw_roid3 if row["candidate"]["ssnamenr"] in (None, "null")
    ]
    assert nameless  # the file was edited this way
    by_id = {a["objectId"]: a for a in alerts}
    for object_id in nameless:
        assert by_id[object_id]["fink"]["roid"] == 3
        assert by_id[object_id]["candidate"]["ssnamenr"] is None


def test_mulens_float_null_and_old_struct(folder_alerts):
    varstars = [a for _, _, f in folder_alerts("fink-parquet/sso-varstars-20240115") for a in f]
    assert {a["fink"]["mulens"] for a in varstars} == {0.0}
    sample = [a for _, _, f in folder_alerts("fink-parquet/sample-124-20211122") for a in f]
    assert {a["fink"]["mulens"] for a in sample} == {None}

    ((_, raw, alerts),) = folder_alerts("fink-parquet/tracklet-20210604")
    for row, alert in zip(raw, alerts):
        assert isinstance(row["mulens"], dict)
        assert alert["fink"]["mulens"] is None  # a struct is not a probability: no guess
        assert alert["fink"]["mulens_class_1"] == row["mulens"]["class_1"]
        assert alert["fink"]["mulens_ml_score_2"] == row["mulens"]["ml_score_2"]
        assert alert["fink"]["rf_snia_vs_nonia"] == row["rfscore"]  # renamed in fink-science 0.5
        assert alert["fink"]["rf_kn_vs_nonkn"] == row["knscore"]


def test_cdsxmatch_old_labels_renamed(folder_alerts):
    ((_, raw, alerts),) = [
        f
        for f in folder_alerts("fink-avro/kafka-2019-2021")
        if f[0].name == "avro_multi_alerts.avro"
    ]
    pairs = {(row["cdsxmatch"], a["fink"]["cdsxmatch"]) for row, a in zip(raw, alerts)}
    assert ("EB*", "EclBin") in pairs

    varstars = [
        (row, a)
        for _, raw, alerts in folder_alerts("fink-parquet/sso-varstars-20240115")
        for row, a in zip(raw, alerts)
    ]
    assert any(
        row["cdsxmatch"] == "RRLyr" and a["fink"]["cdsxmatch"] == "RRLyrae" for row, a in varstars
    )


def test_no_placeholder_or_old_label_survives(folder_alerts):
    for folder in ALERT_FOLDERS:
        for _, _, alerts in folder_alerts(folder):
            for alert in alerts:
                assert alert["fink"]["cdsxmatch"] not in SIMBAD_RENAMES
                assert alert["fink"]["tracklet"] not in ("None", "")
                names = [alert["candidate"]["ssnamenr"]] + [
                    p["ssnamenr"] for p in alert["prv_candidates"]
                ]
                assert not set(names) & {"null", "None", ""}


def test_asteroid_9016(folder_alerts):
    alerts = [a for _, _, f in folder_alerts("sso/asteroid-9016-202106") for a in f]
    of_9016 = [a for a in alerts if a["candidate"]["ssnamenr"] == "9016"]
    assert len(of_9016) == 58
    assert len({a["candidate"]["jd"] for a in of_9016}) == 58
    # raw alert rows: no Fink columns, no cutouts
    assert all(v is None for a in alerts for v in a["fink"].values())
    assert all(
        a["cutouts"] == {"Science": None, "Template": None, "Difference": None} for a in alerts
    )


def test_pandas_doubles_back_to_ints(folder_alerts):
    """superluminous-2025 went through pandas: history candid/nneg are doubles with NaN."""
    ((path, raw, alerts),) = folder_alerts("fink-parquet/superluminous-2025")
    prv_type = pq.ParquetFile(path).schema_arrow.field("prv_candidates").type.value_type
    assert prv_type.field("candid").type == pa.float64()
    for row, alert in zip(raw, alerts):
        for raw_entry, entry in zip(row["prv_candidates"] or [], alert["prv_candidates"]):
            if raw_entry["candid"] is None or math.isnan(raw_entry["candid"]):
                assert entry["candid"] is None  # an upper limit
            else:
                assert entry["candid"] == int(raw_entry["candid"])


def test_broker_timestamps_as_utc_seconds(folder_alerts):
    for folder in (
        "fink-avro/data-transfer-2026",
        "fink-parquet/slsn-2025",
        "fink-parquet/full-schema-2025",
        "fink-avro/kafka-2019-2021",
    ):
        checked = 0
        for _, raw, alerts in folder_alerts(folder):
            for row, alert in zip(raw, alerts):
                for name in TIMESTAMP_FIELDS & row.keys():
                    if row[name] is not None:
                        assert alert["fink"][name] == pytest.approx(as_seconds(row[name]), abs=1e-5)
                        checked += 1
        assert checked, folder


def test_ssnamenr_null_string_in_raw_ztf(folder_alerts):
    for path, raw, alerts in folder_alerts("ztf-avro/official-samples"):
        for row, alert in zip(raw, alerts):
            assert row["candidate"]["ssnamenr"] == "null"
            assert alert["candidate"]["ssnamenr"] is None


def test_small_batches(data_dir):
    path = data_files(data_dir, "fink-parquet/sample-124-20211122")[0]
    batches = list(read_alerts(path, batch_size=10))
    assert all(len(b) <= 10 for b in batches)
    assert [a["candid"] for b in batches for a in b] == [a["candid"] for a in read_all(path)]
    avro = data_dir / "fink-avro/data-transfer-2026/part-3-305711.avro"
    assert [len(b) for b in read_alerts(avro, batch_size=8)] == [8, 8, 8, 7]


def test_a_file_changed_after_sniff_is_read_as_it_is_now(data_dir, tmp_path):
    # sniff keeps the Parquet file it opened for the read that follows; a file replaced in
    # between must be read anew, and another file never gets the kept one.
    files = data_files(data_dir, "fink-parquet/sample-124-20211122")
    first, other = files[0], files[1]
    path = tmp_path / "alerts.parquet"
    table = pq.read_table(first)
    pq.write_table(table, path)
    assert sniff(path) == "alerts-parquet"
    pq.write_table(table.slice(0, 3), path)  # rewritten: other size, other mtime
    # read as ingestion reads what it sniffed
    [batch] = read_alert_columns(path, kind="alerts-parquet")
    assert batch.candid.to_pylist() == table.column("candid").to_pylist()[:3]
    assert sniff(first) == "alerts-parquet"
    batches = read_alert_columns(other, kind="alerts-parquet")
    assert [c for b in batches for c in b.candid.to_pylist()] == pq.read_table(other).column("candid").to_pylist()


# ---- schema declarations ---------------------------------------------------------------------


def test_schema_columns_well_formed():
    for fields in (CANDIDATE_FIELDS, PRV_CANDIDATE_FIELDS, FINK_FIELDS):
        for name, column in fields.items():
            assert column.name == name and column.kind in KINDS
            assert column.doc and "\n" not in column.doc
    assert not set(FINK_FIELDS) & (ZTF_TOP_LEVEL | IGNORED_COLUMNS)


def test_simbad_renames_idempotent():
    assert SIMBAD_RENAMES["RRLyr"] == "RRLyrae" and SIMBAD_RENAMES["EB*"] == "EclBin"
    assert not set(SIMBAD_RENAMES.values()) & set(SIMBAD_RENAMES)


def test_schema_covers_every_field_in_the_data(data_dir):
    """Union check: every candidate, history and Fink field of every alert file is declared."""
    for folder in ALERT_FOLDERS:
        for path in data_files(data_dir, folder):
            if path.suffix == ".parquet":
                schema = pq.ParquetFile(path).schema_arrow
                top = set(schema.names)
                candidate = {f.name for f in schema.field("candidate").type}
                history = set()
                if "prv_candidates" in top:
                    history = {f.name for f in schema.field("prv_candidates").type.value_type}
            else:
                with open(path, "rb") as fh:
                    writer = fastavro.reader(fh).writer_schema
                fields = {f["name"]: non_null(f["type"]) for f in writer["fields"]}
                top = set(fields)
                candidate = {f["name"] for f in fields["candidate"]["fields"]}
                history = {f["name"] for f in non_null(fields["prv_candidates"]["items"])["fields"]}
            assert candidate <= set(CANDIDATE_FIELDS), (path, candidate - set(CANDIDATE_FIELDS))
            assert history <= set(PRV_CANDIDATE_FIELDS), (path, history - set(PRV_CANDIDATE_FIELDS))
            fink = {FINK_RENAMES.get(n, n) for n in top - ZTF_TOP_LEVEL - IGNORED_COLUMNS}
            assert fink <= set(FINK_FIELDS), (path, fink - set(FINK_FIELDS))


# ---- Solar System tables -------------------------------------------------------------------


def test_read_sso_aggregated(data_dir):
    for path in sorted((data_dir / "sso/aggregated-lightcurves").iterdir()):
        table = pq.read_table(path)
        rows = list(read_sso_aggregated(path))
        assert [r["ssnamenr"] for r in rows] == table.column("ssnamenr").to_pylist()
        for row in rows:
            assert set(row) == set(table.column_names) - IGNORED_COLUMNS
            # one length per asteroid; ephemerides may be null (2005XM12 has none)
            assert len({len(v) for k, v in row.items() if k != "ssnamenr" and v is not None}) == 1
    three = data_dir / "sso/aggregated-lightcurves/sso_ztf_lc_aggregated_202504_three_obj.parquet"
    three = list(read_sso_aggregated(three))
    assert {"Phase", "Dobs", "Dhelio"} <= set(three[0])


def test_read_fink_fat(data_dir):
    folder = data_dir / "sso/fink-fat-candidates"
    orbits = list(read_fink_fat(folder / "orbital.parquet"))
    points = list(read_fink_fat(folder / "trajectory_orb.parquet"))
    assert len(orbits) == pq.ParquetFile(folder / "orbital.parquet").metadata.num_rows
    assert len(points) == pq.ParquetFile(folder / "trajectory_orb.parquet").metadata.num_rows
    assert "__index_level_0__" not in orbits[0]
    assert {"ssoCandId", "a", "e", "i", "long. node"} <= set(orbits[0])
    assert {"ssoCandId", "objectId", "candid", "ra", "dec", "jd"} <= set(points[0])
    # every trajectory point belongs to a candidate with an orbit
    assert {p["ssoCandId"] for p in points} <= {o["ssoCandId"] for o in orbits}


def test_wrong_reader_for_kind(data_dir):
    with pytest.raises(UnreadableFile, match="not an alert file"):
        next(read_alerts(data_dir / "sso/fink-fat-candidates/orbital.parquet"))
    with pytest.raises(UnreadableFile, match="expected sso-aggregated"):
        next(read_sso_aggregated(data_dir / "fink-parquet/agn-2023/dwarf_agn.parquet"))


# ---- damaged and unknown files ---------------------------------------------------------------


def _truncated_copy(source: Path, target: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def _assert_unreadable(path: Path, words: str) -> None:
    with pytest.raises(UnreadableFile) as sniffed:
        sniff(path)
    with pytest.raises(UnreadableFile) as read:
        read_all(path)
    for error in (sniffed.value, read.value):
        assert error.path == str(path)
        assert words in error.reason, error.reason
        assert str(error) == f"{path}: {error.reason}" and "\n" not in str(error)


def test_truncated_parquet(data_dir, tmp_path):
    source = data_files(data_dir, "fink-parquet/sample-124-20211122")[0]
    _assert_unreadable(_truncated_copy(source, tmp_path / "half.parquet"), "truncated")


def test_truncated_avro(data_dir, tmp_path):
    source = data_dir / "fink-avro/data-transfer-2026/part-3-305711.avro"
    _assert_unreadable(_truncated_copy(source, tmp_path / "half.avro"), "truncated")
    _assert_unreadable(_truncated_copy(source, tmp_path / "header.avro", keep=0.001), "header")
    single = data_files(data_dir, "ztf-avro/night-20181129")[0]
    _assert_unreadable(_truncated_copy(single, tmp_path / "one.avro", keep=0.9), "truncated")


def test_empty_garbage_and_unknown_files(tmp_path):
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    _assert_unreadable(empty, "empty")
    garbage = tmp_path / "garbage.avro"
    garbage.write_bytes(bytes(range(256)) * 64)
    _assert_unreadable(garbage, "unknown")
    prose = tmp_path / "notes.txt"
    prose.write_text("Observing log, night of 2021-11-22.\nClouds after midnight.\n")
    _assert_unreadable(prose, "unknown format")
    fake_parquet = tmp_path / "fake.parquet"
    fake_parquet.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    _assert_unreadable(fake_parquet, "corrupt")
    with pytest.raises(UnreadableFile, match="no such file"):
        sniff(tmp_path / "missing.avro")


def test_parquet_of_unknown_layout(tmp_path):
    path = tmp_path / "table.parquet"
    pq.write_table(pa.table({"x": [1, 2], "y": ["a", "b"]}), path)
    _assert_unreadable(path, "no known layout")


def test_damage_inside_avro_block_found_while_reading(data_dir, tmp_path):
    """Sizes and sync markers intact, compressed data broken: sniff passes, reading raises."""
    with open(data_dir / "fink-avro/data-transfer-2026/part-3-305711.avro", "rb") as fh:
        reader = fastavro.reader(fh)
        schema, records = reader.writer_schema, list(reader)
    path = tmp_path / "deflate.avro"
    with open(path, "wb") as out:
        fastavro.writer(out, schema, records, codec="deflate", sync_interval=100_000)
    blob = bytearray(path.read_bytes())
    middle = len(blob) * 3 // 4
    blob[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(blob))
    assert sniff(path) == "alerts-avro"
    batches = read_alerts(path, batch_size=4)
    assert len(next(batches)) == 4  # the first block is sound
    with pytest.raises(UnreadableFile, match="cannot decode Avro data"):
        list(batches)


def test_snappy_avro_reads_like_the_original(data_dir, tmp_path):
    """Fink's old Kafka Avro uses the snappy codec (through cramjam)."""
    source = data_dir / "fink-avro/kafka-2019-2021/avro_multi_alerts.avro"
    with open(source, "rb") as fh:
        reader = fastavro.reader(fh)
        schema, records = reader.writer_schema, list(reader)
    path = tmp_path / "snappy.avro"
    with open(path, "wb") as out:
        fastavro.writer(out, schema, records, codec="snappy")
    assert same_value(read_all(path), read_all(source))


def test_parquet_written_back_reads_the_same(data_dir, tmp_path):
    """Row-group and batch boundaries do not change what is read."""
    source = data_files(data_dir, "fink-parquet/sample-124-20211122")[0]
    table = pq.read_table(source)
    path = tmp_path / "regrouped.parquet"
    pq.write_table(table, path, row_group_size=7)
    assert same_value(read_all(path, batch_size=5), read_all(source))


# ---- data folder -----------------------------------------------------------------------------


def test_find_data_dir_honours_portal_data(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_DATA", str(tmp_path))
    assert find_data_dir() == tmp_path
    monkeypatch.setenv("PORTAL_DATA", str(tmp_path / "nowhere"))
    assert find_data_dir() is None

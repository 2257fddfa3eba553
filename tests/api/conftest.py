"""Fixtures of the API tests: a store filled from real alert files, and facts read from those files.

``ingested_store`` is the store to test routes and selectors against: a few folders of
``../shared/data`` ingested once per backend and session (embedded always; HBase when its Thrift
server is reachable, under a table prefix of its own, dropped at the end), made the default store
(``store.get_store()``, what ``Table.objects`` and the views use) for the test that asks for it.

``alert_facts`` reads the same files with pyarrow alone, so tests compare what the API answers
with the files rather than with what ingestion wrote.
"""
from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings as django_settings

import store
from alerts.ingest import expand_paths, ingest_paths
from alerts.tables import ALL_TABLES
from tests.backends import require_hbase, store_settings, unique_prefix

#: The folders ingested (under the data folder): the classic Fink sample (with cutouts), long
#: light curves without cutouts (ZTF17aaaihfb), and objects with several alerts and cutouts.
INGESTED_FOLDERS = (
    "fink-parquet/sample-124-20211122",
    "fink-parquet/sso-varstars-20240115",
    "fink-parquet/slsn-2025",
    "fink-parquet/full-schema-2025",
    "fink-parquet/sso-8467-2025",
    "sso/asteroid-9016-202106",
    "sso/fink-fat-candidates",
)

# Built stores by backend, shared by every place the fixture is imported (tests/alerts imports
# it too): each backend is ingested once per session; the last user drops it.
_BUILT: dict[str, dict] = {}


def _acquire(backend: str, data_dir: Path, tmp_path_factory) -> dict:
    entry = _BUILT.get(backend)
    if entry is None:
        if backend == "hbase":
            require_hbase()
            settings = store_settings("hbase", None, prefix=unique_prefix("api"))
            # Creating and dropping a dozen tables takes HBase seconds each on a busy machine.
            settings["HBASE_TIMEOUT_MS"] = 60_000
            folder = None
        else:
            folder = tmp_path_factory.mktemp("ingested")
            settings = store_settings("embedded", folder)
        built = store.Store.from_settings(settings)
        try:
            built.create(*ALL_TABLES)
            files, missing = expand_paths([str(data_dir / f) for f in INGESTED_FOLDERS])
            assert not missing, f"data folders missing: {missing}"
            report = ingest_paths(files, store=built)
            assert not report.errors, [(f.path, f.error) for f in report.errors]
        except BaseException:
            _drop(built, backend)
            raise
        built.close()
        entry = _BUILT[backend] = {"settings": settings, "users": 0, "folder": folder}
    entry["users"] += 1
    return entry


def _drop(built: store.Store, backend: str) -> None:
    try:
        if backend == "hbase":
            built.drop(*ALL_TABLES, store.SchemaRow)
    finally:
        built.close()


def _release(backend: str) -> None:
    entry = _BUILT[backend]
    entry["users"] -= 1
    if entry["users"] > 0:
        return
    del _BUILT[backend]
    store.configure(django_settings.STORE)
    _drop(store.Store.from_settings(entry["settings"]), backend)
    if entry["folder"] is not None:
        shutil.rmtree(entry["folder"], ignore_errors=True)


@pytest.fixture(
    scope="session", params=["embedded", pytest.param("hbase", marks=pytest.mark.hbase)]
)
def ingested_store_settings(request, data_dir, tmp_path_factory) -> dict:
    """Settings of a store holding :data:`INGESTED_FOLDERS`, one per backend and session."""
    entry = _acquire(request.param, data_dir, tmp_path_factory)
    yield entry["settings"]
    _release(request.param)


@pytest.fixture
def ingested_store(ingested_store_settings) -> store.Store:
    """The default store (``store.get_store()``) pointed at the ingested data for one test.

    Reconfigured for each test (cheap: backends connect lazily) and put back to
    ``settings.STORE`` afterwards, so tests that do not ask for it never see it.
    """
    store.configure(ingested_store_settings)
    yield store.get_store()
    store.configure(django_settings.STORE)


# -- facts read from the files ---------------------------------------------------------------------
@dataclass
class ObjectFacts:
    """What the files say about one object."""

    alerts: dict[float, int] = field(default_factory=dict)  # jd -> candid
    upper_limits: set[float] = field(default_factory=set)  # jds of history points without magpsf
    bad_quality: set[float] = field(default_factory=set)  # jds of history detections, not alerts
    stamps: dict[int, dict[str, bytes]] = field(default_factory=dict)  # candid -> kind -> gz FITS
    magpsf: dict[float, float] = field(default_factory=dict)  # alert jd -> magpsf

    @property
    def latest_candid(self) -> int:
        return self.alerts[max(self.alerts)]


@pytest.fixture(scope="session")
def alert_facts(data_dir) -> dict[str, ObjectFacts]:
    """Per object of :data:`INGESTED_FOLDERS`: its alerts, upper limits, bad-quality points and
    stamps, read with pyarrow straight from the Parquet files."""
    facts: dict[str, ObjectFacts] = defaultdict(ObjectFacts)
    history: dict[str, list[tuple[float, float | None]]] = defaultdict(list)
    for folder in INGESTED_FOLDERS:
        for path in sorted((data_dir / folder).glob("*.parquet")):
            names = set(pq.read_schema(path).names)
            if not {"objectId", "candid", "candidate", "prv_candidates"} <= names:
                continue  # Fink-FAT orbits, aggregated light curves: not alert files
            wanted = ["objectId", "candid", "candidate", "prv_candidates"]
            kinds = [k for k in ("Science", "Template", "Difference") if f"cutout{k}" in names]
            table = pq.read_table(path, columns=wanted + [f"cutout{k}" for k in kinds])
            columns = {name: table.column(name).to_pylist() for name in table.column_names}
            for i, object_id in enumerate(columns["objectId"]):
                cand = columns["candidate"][i]
                fact = facts[object_id]
                fact.alerts[cand["jd"]] = columns["candid"][i]
                fact.magpsf[cand["jd"]] = cand["magpsf"]
                stamps = {}
                for kind in kinds:
                    cutout = columns[f"cutout{kind}"][i]
                    if cutout and cutout.get("stampData"):
                        stamps[kind] = cutout["stampData"]
                if stamps:
                    fact.stamps[columns["candid"][i]] = stamps
                for point in columns["prv_candidates"][i] or ():
                    if point["jd"] is not None:
                        history[object_id].append((point["jd"], point["magpsf"]))
    for object_id, points in history.items():
        fact = facts[object_id]
        for jd, magpsf in points:
            if jd in fact.alerts:
                continue
            (fact.upper_limits if magpsf is None else fact.bad_quality).add(jd)
    return dict(facts)

"""The REST API over HTTP beside its floors, measured in the same run on the same store.

    .venv/bin/python bench/api.py [--sizes 100000[,1000000]] [--backends embedded[,hbase]]
                                  [--repeat R] [--rebuild] [--output NAME]

For each size N, a store holds N generated alerts (``bench/generate.py``, Parquet, made when
missing) plus every real alert file of ``../shared/data`` (``alerts.ingest.ingest_paths``, as
``manage.py ingest``). The embedded store is kept in ``bench/data/N/api-store-embedded`` and
reused by later runs (``--rebuild`` makes it again); an HBase store is ingested under a fresh
``benchapi<random>`` table prefix and dropped at the end. The real server then answers over HTTP:
gunicorn ``portal.wsgi`` with 2 sync workers on a free 127.0.0.1 port (``STORE_BACKEND``,
``STORE_PATH``, ``API_THROTTLE_ANON=none``, ``DEBUG=false``, a ``SECRET_KEY``, a migrated SQLite
of its own), and a client (``requests.Session``, bounded loops) times each request, body read.

Each route is measured interleaved (route, floor, ping, ...) with

| route | floor (embedded: raw lmdb + msgpack; hbase: raw happybase + cell decoding) |
|---|---|
| ``objects`` of the object with most alerts, default columns | prefix scan of its ``ztf`` rows + orjson |
| ``objects`` of the longest light curve, ``withupperlim`` | prefix scans of ``ztf``, ``upper_limits``, ``bad_quality`` + orjson |
| ``conesearch`` 5″, 1′, 1°, 5°, n=1000 | range scans of the same sky-index pixel ranges (rows = ``X-Rows-Scanned``) + point reads of the rows returned + orjson |
| ``latests`` n=10, n=1000 | reverse range scan of the class index (n rows) + n point reads + orjson |
| ``ping`` (the trivial DRF view) | request overhead: each route's req/s (1 client, sequential) as a fraction of ping's |

Floors run in the client process; geometry (the cone's pixel ranges) and the keys of the rows to
read are computed before timing, so a floor is only the store reads and the JSON encoding. The
``↳ vs floor + ping`` rows (no target) compare the same route samples with floor + ping of the
same loop iteration: the least a served request could cost. ``↳ vs floor + same-size body`` rows
compare them with the floor plus fetching the same number of bytes from a bare WSGI app under
gunicorn (``body_application``): what moving a multi-megabyte answer costs by itself, client
included, which the floors (in the client process) do not pay.

Cost on the shared 2-core machine (load 2-8): with the embedded store built, the default run
(100k, embedded) takes under a minute; building it took 12 minutes (ingest at ~150 alerts/s with
2 processes, bench/data/100000 already generated); an HBase run adds its ingest (18 minutes at
~100 alerts/s for 100k) every time. Sets of 1M alerts are generated without cutouts (disk) and
would take about 2 hours to ingest at these rates.

Targets (``../shared/docs/PERFORMANCE.md``): objects p50 ≤ 3× floor and p95 ≤ 50 ms embedded
(≤ 0.5 s hbase); conesearch r ≤ 1′ p95 ≤ 50 ms embedded (≤ 0.5 s hbase); latests N ≤ 1000 p95
≤ 100 ms embedded; a 5° cone answers (200) without timing out. Results:
``bench/results/api.json`` and ``.md``. HBase is skipped with a message when its Thrift server is
not reachable.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is bench/: the repository root must come first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import msgpack
import orjson
import requests

from bench import generate
from bench.common import (
    SERVER_WORKERS,
    Result,
    Server,
    demo_files,
    fmt_ns,
    hbase_reachable,
    measure_interleaved,
    percentile,
    print_table,
    write_results,
)

REQUEST_TIMEOUT = 120  # client side; the server's own worker timeout is gunicorn's (see Server)
NO_CUTOUTS_FROM = 1_000_000  # as bench/ingest.py: sets this big are generated without cutouts
HBASE_FLOORS_TIMEOUT_MS = 60_000
CONE_RADII = (("5″", 5.0), ("1′", 60.0), ("1°", 3600.0), ("5°", 18000.0))
MS = 1_000_000  # ns
PREFERRED_CLASS = b"SN candidate"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _django():
    import django

    django.setup()


# -- results ------------------------------------------------------------------------------------
@dataclass
class ApiResult(Result):
    """A route beside its floor, with PERFORMANCE.md's targets: a ratio (p50), an absolute p95,
    and/or "must answer" (the 5° cone)."""

    ratio_max: float | None = None
    p95_max_ns: float | None = None
    must_finish: bool = False
    finished: bool = True

    @property
    def ok(self) -> bool | None:
        checks = []
        if self.ratio_max is not None:
            checks.append(self.ratio <= self.ratio_max)
        if self.p95_max_ns is not None:
            checks.append(self.adapter_p95 <= self.p95_max_ns)
        if self.must_finish:
            checks.append(self.finished)
        return all(checks) if checks else None

    def target_text(self) -> str:
        parts = []
        if self.ratio_max is not None:
            parts.append(f"≤ {self.ratio_max:g}×")
        if self.p95_max_ns is not None:
            parts.append(f"p95 ≤ {fmt_ns(self.p95_max_ns)}")
        if self.must_finish:
            parts.append("answers")
        return ", ".join(parts) or "-"

    def cells(self) -> list[str]:
        cells = super().cells()
        if not self.floor:  # ping: no floor, no ratio
            cells[6] = "-"
        cells[7] = self.target_text()
        return cells

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.update(target=self.target_text(), ratio_max=self.ratio_max, p95_max_ns=self.p95_max_ns,
                   must_finish=self.must_finish, finished=self.finished)
        return out


def targets(kind: str, backend: str) -> dict[str, Any]:
    """PERFORMANCE.md's targets for a route kind on a backend."""
    embedded = backend == "embedded"
    if kind == "objects":
        return {"ratio_max": 3.0, "p95_max_ns": (50 if embedded else 500) * MS}
    if kind == "cone-small":
        return {"p95_max_ns": (50 if embedded else 500) * MS}
    if kind == "cone-5deg":
        return {"must_finish": True}
    if kind == "latests":
        return {"p95_max_ns": 100 * MS} if embedded else {}
    return {}


# -- stores ---------------------------------------------------------------------------------------
def generated_files(n: int) -> list[str]:
    """The Parquet files of ``bench/data/N`` (made by bench/generate.py when missing)."""
    folder = generate.DATA_DIR / str(n)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    if manifest is None or manifest.get("alerts") != n:
        cutouts = n < NO_CUTOUTS_FROM
        log(f"  generating {n:,} alerts into {folder} (cutouts: {cutouts}) ...")
        started = time.perf_counter()
        generate.generate(n, folder, cutouts=cutouts, jobs=os.cpu_count() or 1, log=lambda *_: None)
        log(f"  generated in {time.perf_counter() - started:.0f} s")
    return sorted(str(p) for p in (folder / "parquet").iterdir() if p.name.endswith(".parquet"))


def fill(store, n: int) -> dict[str, Any]:
    """Ingest N generated alerts and the real demo files into ``store``; what it took."""
    from alerts.ingest import ingest_paths
    from alerts.tables import ALL_TABLES

    started = time.perf_counter()
    files = generated_files(n)
    generated_s = time.perf_counter() - started
    store.create(*ALL_TABLES)
    started = time.perf_counter()
    workers = os.cpu_count() or 1
    report = ingest_paths([Path(f) for f in files + demo_files()], store=store, workers=workers)
    seconds = time.perf_counter() - started
    if report.errors:
        raise SystemExit(f"ingest errors: {[(e.path, e.error) for e in report.errors][:3]}")
    info = {"generated": n, "alerts": report.total("alerts"), "objects": report.total("objects"),
            "upper_limits": report.total("upper_limits"), "bad_quality": report.total("bad_quality"),
            "ingest_s": round(seconds, 1), "ingest_workers": workers, "generate_s": round(generated_s, 1)}
    log(f"  ingested {info['alerts']:,} alerts in {seconds:.0f} s ({info['alerts'] / seconds:,.0f}/s, "
        f"{workers} processes)")
    return info


def embedded_store(n: int, rebuild: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings and build info of the embedded store of size N, built once and kept."""
    from store import Store

    folder = generate.DATA_DIR / str(n) / "api-store-embedded"
    marker = folder / "built.json"
    settings = {"BACKEND": "embedded", "PATH": str(folder)}
    if marker.exists() and not rebuild:
        info = json.loads(marker.read_text())
        if info.get("generated") == n:
            log(f"  reusing {folder} ({info['alerts']:,} alerts, built {info.get('date', '?')})")
            return settings, info
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log(f"  building the embedded store {folder} ...")
    store = Store.from_settings(settings)
    try:
        info = fill(store, n)
    finally:
        store.close()
    info["picks"] = pick_embedded(str(folder))
    info["date"] = time.strftime("%Y-%m-%d %H:%M")
    info["bytes"] = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    marker.write_text(json.dumps(info, indent=1) + "\n")
    return settings, info


def hbase_settings() -> dict[str, Any]:
    return {
        "BACKEND": "hbase",
        "HBASE_HOST": os.environ.get("HBASE_HOST", "127.0.0.1"),
        "HBASE_PORT": int(os.environ.get("HBASE_PORT", "9090")),
        "HBASE_TABLE_PREFIX": f"benchapi{uuid.uuid4().hex[:8]}",
        "HBASE_TIMEOUT_MS": HBASE_FLOORS_TIMEOUT_MS,
    }


def drop_hbase(settings: dict[str, Any]) -> None:
    from alerts.tables import ALL_TABLES
    from store import SchemaRow, Store

    store = Store.from_settings(settings)
    try:
        store.drop(*ALL_TABLES)
        store.manager(SchemaRow).drop()
    finally:
        store.close()


SKIP_HBASE = "SKIP hbase: Thrift server not reachable (deploy/hbase/hbase.sh start)"


@contextlib.contextmanager
def open_store(size: int, backend: str, rebuild: bool = False):
    """``(settings, build info)`` of a store of N generated alerts + the demo data, or None when
    HBase is not reachable. Embedded stores are kept (``bench/data/N/api-store-embedded``); an
    HBase one is ingested under a fresh table prefix and dropped on exit."""
    if backend == "embedded":
        yield embedded_store(size, rebuild)
        return
    if not hbase_reachable():
        print(SKIP_HBASE, flush=True)
        yield None
        return
    from store import Store

    settings = hbase_settings()
    log(f"  hbase table prefix {settings['HBASE_TABLE_PREFIX']}")
    try:
        store = Store.from_settings(settings)
        try:
            info = fill(store, size)
        finally:
            store.close()
        # The same data as the embedded store of this size: the same objects and class.
        _, embedded_info = embedded_store(size, False)
        info["picks"] = embedded_info["picks"]
        yield settings, info
    finally:
        drop_hbase(settings)


def parse_store_arguments(parser: argparse.ArgumentParser, argv) -> tuple[argparse.Namespace, list[int], list[str]]:
    """Add ``--sizes``, ``--backends`` and ``--rebuild`` (the stores :func:`run_stores` opens) to
    ``parser`` and parse ``argv``; ``(arguments, sizes, backends)``."""
    stores = parser.add_argument_group("stores")
    stores.add_argument("--sizes", default="100000", help="generated alerts per store, comma-separated")
    stores.add_argument("--backends", default="embedded", help="embedded, hbase (comma-separated)")
    stores.add_argument("--rebuild", action="store_true", help="rebuild the embedded stores")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - {"embedded", "hbase"}:
        parser.error("backends: embedded, hbase")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return args, sizes, backends


@dataclass
class StoreRuns:
    """What :func:`run_stores` measured on every store, and the machine's load around it."""

    results: list
    details: list
    skipped: list[str]  # backends not reachable
    loadavg_before: tuple[float, float, float]
    loadavg_after: tuple[float, float, float]

    def load_note(self) -> str:
        return (f"load average (1, 5, 15 min): {tuple(round(x, 2) for x in self.loadavg_before)} before, "
                f"{tuple(round(x, 2) for x in self.loadavg_after)} after.")


def run_stores(sizes: list[int], backends: list[str], rebuild: bool,
               run: Callable[[str, int, dict, dict], tuple[list, list]]) -> StoreRuns:
    """``run(backend, size, settings, build info) -> (results, details)`` on the store of each size
    and backend (see :func:`open_store`), HBase being skipped when not reachable. With several
    sizes, each result's name (but the indented ones under it) starts with its size."""
    load_before = os.getloadavg()
    results, details, skipped = [], [], []
    for size in sizes:
        for backend in backends:
            log(f"{size:,} alerts, {backend}:")
            with open_store(size, backend, rebuild) as opened:
                if opened is None:
                    skipped.append(backend)
                    continue
                res, det = run(backend, size, *opened)
            for r in res:
                if len(sizes) > 1 and not r.operation.startswith("  "):
                    r.operation = f"[{size:,}] {r.operation}"
            results += res
            details += det
    return StoreRuns(results, details, skipped, load_before, os.getloadavg())


# -- what to ask for ---------------------------------------------------------------------------------
def pick_embedded(path: str) -> dict[str, Any]:
    """Objects and class to query, read from the store's keys (raw lmdb, once per build).

    ``typical``: an object with 14 alerts, else the one with most alerts (generated copies keep
    their source's alert count); ``longest``: the most rows with upper limits and bad-quality
    points (the longest light curve); ``class``: ``SN candidate`` when it has 1,000 alerts, else
    the class with most alerts in the class index other than ``Unknown``.
    """
    import lmdb

    env = lmdb.open(path, readonly=True, max_dbs=128, map_size=1 << 40)
    try:
        record = record_reader(env)
        nalerts: dict[bytes, int] = {}
        points: Counter = Counter()
        classes: Counter = Counter()
        with env.begin() as txn:
            def db(name):  # a handle opened in a read transaction lives as long as it
                return env.open_db(name.encode(), txn=txn, create=False)

            for key, value in txn.cursor(db("objects")):
                nalerts[key] = record(value).get("d:nalerts") or 0
            for table in ("ztf", "upper_limits", "bad_quality"):
                for key in txn.cursor(db(table)).iternext(values=False):
                    points[key.rpartition(b"_")[0]] += 1
            for key in txn.cursor(db("index_class")).iternext(values=False):
                classes[key.partition(b"|")[0]] += 1
    finally:
        env.close()
    fourteen = sorted(k for k, v in nalerts.items() if v == 14)
    most = max(nalerts.values())
    typical = fourteen[0] if fourteen else min(k for k, v in nalerts.items() if v == most)
    longest, longest_rows = max(points.items(), key=lambda item: (item[1], item[0]))
    # Fink's usual example class when it holds enough alerts for n=1000, else the most common
    # class other than the catch-all "Unknown".
    ranked = [(k, v) for k, v in classes.most_common() if k != b"Unknown"] or classes.most_common()
    name, count = next(((k, v) for k, v in ranked if k == PREFERRED_CLASS and v >= 1000), ranked[0])
    return {
        "typical": typical.decode(), "typical_alerts": nalerts[typical], "has_14": bool(fourteen),
        "max_alerts": most, "longest": longest.decode(), "longest_rows": longest_rows,
        "class": name.decode(), "class_alerts": count,
    }


def summary_position(base: str, session: requests.Session, object_id: str) -> tuple[float, float]:
    rows = session.get(f"{base}/api/v1/objects", params={"objectId": object_id, "columns": "i:ra,i:dec"},
                       timeout=REQUEST_TIMEOUT).json()
    return rows[0]["i:ra"], rows[0]["i:dec"]


# -- the server ------------------------------------------------------------------------------------
def body_application():
    """A bare WSGI app (no Django) answering ``GET /?n=N`` with N bytes: served by gunicorn like
    the portal (``bench.api:body_application()``), it gives what moving an answer of that size
    costs over HTTP, client included, whatever produced it."""
    blob = b" " * (64 << 20)

    def application(environ, start_response):
        n = min(int(environ.get("QUERY_STRING", "n=0").partition("=")[2] or 0), len(blob))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(n))])
        return [blob[:n]]

    return application


# -- floors ----------------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    raise TypeError(type(value).__name__)


def encode(rows: list[dict]) -> bytes:
    return orjson.dumps(rows, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def record_reader(env) -> Callable[[bytes], dict]:
    """``record(stored value) -> {column: value}`` for the rows of an embedded store (raw lmdb)."""
    import lmdb

    shapes: dict[int, tuple[str, ...]] = {}
    with contextlib.suppress(lmdb.NotFoundError):  # a store holding only rows of the former layout
        db = env.open_db(b"__shapes__", create=False)
        with env.begin(db=db) as txn:
            shapes = {int.from_bytes(k, "big"): tuple(msgpack.unpackb(v, raw=False)) for k, v in txn.cursor()}

    def ext_hook(code: int, data: bytes) -> Any:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)

    def record(value: bytes, unpackb=msgpack.unpackb) -> dict:
        values = unpackb(value, raw=False, strict_map_key=False, ext_hook=ext_hook)
        if type(values) is dict:
            return values
        return dict(zip(shapes[values[-1]], values))

    return record


class EmbeddedFloor:
    """The least work on the embedded store: raw lmdb cursors and gets, msgpack, orjson.

    Rows are stored by position (``store/backends/packed.py``: a msgpack array of the values then
    the id of the row's column names, Struct values packed inside as ext type 1), so making a
    record also takes ``dict(zip(names, values))`` with the names read once from ``__shapes__``;
    a row in the former layout (a msgpack map) is its own record.
    """

    label = "lmdb + msgpack + zip + orjson"

    def __init__(self, path: str):
        import lmdb

        # As the embedded backend opens it (a table handle is kept only when opened outside a
        # read-only environment); nothing writes while the benchmark runs.
        self.env = lmdb.open(path, max_dbs=128, map_size=1 << 40, readahead=False)
        self.dbs = {name: self.env.open_db(name.encode(), create=False)
                    for name in ("ztf", "upper_limits", "bad_quality", "index_sky", "index_class")}
        self.record = record_reader(self.env)

    def close(self) -> None:
        self.env.close()

    def _prefix(self, txn, table: str, prefix: bytes, out: list) -> None:
        record = self.record
        cursor = txn.cursor(self.dbs[table])
        if cursor.set_range(prefix):
            for key, value in cursor:
                if not key.startswith(prefix):
                    break
                out.append(record(value))

    def objects(self, prefix: bytes, tables: tuple[str, ...]) -> bytes:
        rows: list[dict] = []
        with self.env.begin() as txn:
            for table in tables:
                self._prefix(txn, table, prefix, rows)
        return encode(rows)

    def cone(self, ranges: list[tuple[bytes, bytes]], keys: list[bytes]) -> tuple[bytes, int]:
        record = self.record
        scanned = 0
        with self.env.begin() as txn:
            cursor = txn.cursor(self.dbs["index_sky"])
            for low, high in ranges:
                if not cursor.set_range(low):
                    continue
                for key, value in cursor:
                    if key >= high:
                        break
                    record(value)
                    scanned += 1
            get = txn.get
            db = self.dbs["ztf"]
            rows = [record(get(k, db=db)) for k in keys]
        return encode(rows), scanned

    def latests(self, prefix: bytes, n: int, alert_key: Callable) -> bytes:
        record = self.record
        end = prefix[:-1] + b"}"
        index = []
        with self.env.begin() as txn:
            cursor = txn.cursor(self.dbs["index_class"])
            found = cursor.prev() if cursor.set_range(end) else cursor.last()
            while found and len(index) < n:
                key = cursor.key()
                if not key.startswith(prefix):
                    break
                index.append(record(cursor.value()))
                found = cursor.prev()
            get, db = txn.get, self.dbs["ztf"]
            rows = [record(get(alert_key(r["i:objectId"], r["i:jd"]), db=db)) for r in index]
        return encode(rows)


class HBaseFloor:
    """The least work on HBase: raw happybase scans and gets, each cell decoded by its codec (JSON
    cannot hold the raw bytes), orjson."""

    label = "happybase + cell decoding + orjson"

    def __init__(self, settings: dict[str, Any]):
        import happybase

        from alerts.tables import Alert, BadQuality, ClassIndex, SkyIndex, UpperLimit

        self.connection = happybase.Connection(
            settings["HBASE_HOST"], int(settings["HBASE_PORT"]), timeout=HBASE_FLOORS_TIMEOUT_MS,
            autoconnect=True, table_prefix=settings["HBASE_TABLE_PREFIX"], table_prefix_separator="_",
            transport="buffered", protocol="binary",
        )
        from store.backends.hbase import _row_column

        self.tables = {}
        self.decoders = {}
        self.row_columns = {}  # one_cell tables: the column holding the whole row
        for table in (Alert, UpperLimit, BadQuality, SkyIndex, ClassIndex):
            self.tables[table.name] = self.connection.table(table.name)
            self.decoders[table.name] = {c.encode(): (c, f.codec.decode) for c, f in table.fields_by_column.items()}
            self.row_columns[table.name] = _row_column(table)

    def close(self) -> None:
        self.connection.close()

    def _decode(self, table: str, data: dict, columns: list[bytes] | None = None) -> dict:
        dec = self.decoders[table]
        row_column = self.row_columns[table]
        if row_column is not None:  # one cell: unpack, keep the columns asked
            data = msgpack.unpackb(data[row_column], raw=True)
            if columns is not None:
                data = {c: v for c, v in data.items() if c in columns}
        out = {}
        for raw, value in data.items():
            column, decode = dec[raw]
            out[column] = decode(value)
        return out

    def objects(self, prefix: bytes, tables: tuple[str, ...]) -> bytes:
        rows = []
        for table in tables:
            for _, data in self.tables[table].scan(row_prefix=prefix, batch_size=1000):
                rows.append(self._decode(table, data))
        return encode(rows)

    def cone(self, ranges: list[tuple[bytes, bytes]], keys: list[bytes]) -> tuple[bytes, int]:
        from alerts.selectors.search import _INDEX_READ

        scanned = 0
        columns = [c.encode() for c in _INDEX_READ]
        ask = [self.row_columns["index_sky"]] if self.row_columns["index_sky"] else columns
        for low, high in ranges:
            for _, data in self.tables["index_sky"].scan(row_start=low, row_stop=high, columns=ask,
                                                          batch_size=1000):
                self._decode("index_sky", data, columns)
                scanned += 1
        rows = [self._decode("ztf", data) for _, data in self.tables["ztf"].rows(keys)] if keys else []
        return encode(rows), scanned

    def latests(self, prefix: bytes, n: int, alert_key: Callable) -> bytes:
        from alerts.selectors.search import _INDEX_READ

        end = prefix[:-1] + b"}"
        columns = [c.encode() for c in _INDEX_READ]
        ask = [self.row_columns["index_class"]] if self.row_columns["index_class"] else columns
        index = [self._decode("index_class", data, columns) for _, data in self.tables["index_class"].scan(
            row_start=end, row_stop=prefix, reverse=True, limit=n, columns=ask, batch_size=min(n, 1000))]
        keys = [alert_key(r["i:objectId"], r["i:jd"]) for r in index]
        rows = [self._decode("ztf", data) for _, data in self.tables["ztf"].rows(keys)] if keys else []
        return encode(rows)


# -- the measurements ----------------------------------------------------------------------------------
@dataclass
class Case:
    """One route request and its floor."""

    name: str
    kind: str
    path: str
    params: dict[str, Any]
    floor: Callable[[], Any]
    samples: int
    info: dict[str, Any] = field(default_factory=dict)


def http_get(session: requests.Session, url: str, params: dict[str, Any]) -> requests.Response:
    response = session.get(url, params=params, timeout=REQUEST_TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"{url} {params}: HTTP {response.status_code}: {response.text[:300]}")
    return response


def build_cases(base: str, session: requests.Session, floor, picks: dict[str, Any], repeat: int) -> list[Case]:
    """The requests to time, their floors, and what each returns (read once, untimed)."""
    from alerts.selectors.search import _cone_ranges, _pixel_key
    from alerts.tables import Alert, ClassIndex

    alert_prefix = Alert.key.prefix
    cases = []
    typical, longest = picks["typical"], picks["longest"]
    cases.append(Case(f"objects {typical} ({picks['typical_alerts']} alerts)", "objects", "/api/v1/objects",
                      {"objectId": typical},
                      lambda: floor.objects(alert_prefix(typical), ("ztf",)), 2 * repeat))
    cases.append(Case(f"objects {longest} withupperlim ({picks['longest_rows']:,} rows)", "objects",
                      "/api/v1/objects", {"objectId": longest, "withupperlim": "true"},
                      lambda: floor.objects(alert_prefix(longest), ("ztf", "upper_limits", "bad_quality")),
                      max(10, repeat // 2)))
    ra, dec = summary_position(base, session, typical)
    for label, radius in CONE_RADII:
        params = {"ra": ra, "dec": dec, "radius": radius, "n": 1000}
        rows = http_get(session, f"{base}/api/v1/conesearch", params).json()
        keys = [Alert.key.of_values(r["i:objectId"], r["i:jd"]) for r in rows]
        ranges = [(_pixel_key(lo).encode(), _pixel_key(hi).encode()) for lo, hi in _cone_ranges(ra, dec, radius / 3600)]
        kind = "cone-5deg" if radius >= 18000 else "cone-small" if radius <= 60 else "cone"
        samples = 2 * repeat if radius <= 60 else repeat if radius <= 3600 else max(10, repeat // 2)
        cases.append(Case(f"conesearch {label} n=1000", kind, "/api/v1/conesearch", params,
                          lambda ranges=ranges, keys=keys: floor.cone(ranges, keys), samples,
                          {"ranges": len(ranges)}))
    prefix = ClassIndex.key.prefix(picks["class"])
    for n in (10, 1000):
        cases.append(Case(f"latests n={n}", "latests", "/api/v1/latests", {"class": picks["class"], "n": n},
                          lambda n=n: floor.latests(prefix, n, Alert.key.of_values),
                          2 * repeat if n <= 10 else repeat))
    return cases


def run_backend(backend: str, size: int, store_settings: dict, picks: dict, repeat: int) -> tuple[list, list]:
    """Start the server over the store and measure every case; (results, detail rows)."""
    floor = EmbeddedFloor(store_settings["PATH"]) if backend == "embedded" else HBaseFloor(store_settings)
    results, details = [], []
    try:
        with Server(store_settings) as server, Server(store_settings, app="bench.api:body_application()") as bodies:
            log(f"  server {server.base} ({SERVER_WORKERS} gunicorn workers), floor: {floor.label}")
            session = requests.Session()
            ping_url = f"{server.base}/api/v1/ping"

            def ping():
                return http_get(session, ping_url, {})

            cases = build_cases(server.base, session, floor, picks, repeat)
            all_ping: list[int] = []
            for case in cases:
                url = server.base + case.path

                def route(url=url, params=case.params):
                    return http_get(session, url, params)

                # What the route returns (untimed), checked against its floor.
                try:
                    response = route()
                except (requests.RequestException, RuntimeError) as exc:
                    log(f"  {case.name}: FAILED {exc}")
                    results.append(ApiResult(case.name, backend, [], [], note=str(exc)[:300], finished=False,
                                             **targets(case.kind, backend)))
                    continue
                rows = len(response.json())
                scanned = response.headers.get("X-Rows-Scanned")
                floor_out = case.floor()
                floor_scanned = floor_out[1] if isinstance(floor_out, tuple) else None
                log(f"  {case.name}: {rows} rows, scanned {scanned}, {len(response.content):,} B; "
                    f"{case.samples} samples")
                # Both workers warm (imports, first store reads) before timing.
                for _ in range(2 * SERVER_WORKERS):
                    route()
                nbytes = len(response.content)

                def body(nbytes=nbytes):  # the same number of bytes from a bare WSGI app
                    return http_get(session, bodies.base, {"n": nbytes}).content

                a, f, p, b = measure_interleaved([route, case.floor, ping, body], case.samples, warmup=2)
                all_ping += p
                result = ApiResult(case.name, backend, a, f, note=f"floor: {floor.label}",
                                   **targets(case.kind, backend))
                mean_route, mean_ping = sum(a) / len(a), sum(p) / len(p)
                detail = {
                    "operation": case.name, "backend": backend, "size": size, "rows": rows,
                    "scanned": int(scanned) if scanned is not None else None,
                    "floor_scanned": floor_scanned, "bytes": len(response.content),
                    "req_s": 1e9 / mean_route, "ping_req_s": 1e9 / mean_ping,
                    "of_ping": mean_ping / mean_route, "ping_p50_ns": percentile(p, 50),
                    "route_p10_ns": percentile(a, 10), "floor_p10_ns": percentile(f, 10),
                    "ping_p10_ns": percentile(p, 10), **case.info,
                }
                result.extra = detail
                results.append(result)
                details.append(detail)
                # Diagnostic: the least a served request can cost, i.e. the floor plus the request
                # overhead (ping) of the same iteration; no target.
                results.append(ApiResult("  ↳ vs floor + ping", backend, a, [x + y for x, y in zip(f, p)],
                                         note="diagnostic: floor + ping of the same loop iteration"))
                # Diagnostic: the floor plus moving an answer of the same size over HTTP (a bare
                # WSGI app under gunicorn, no Django), i.e. what a large body costs by itself.
                results.append(ApiResult("  ↳ vs floor + same-size body", backend, a, [x + y for x, y in zip(f, b)],
                                         note="diagnostic: floor + the same bytes from a bare WSGI app"))
                detail["body_p50_ns"] = percentile(b, 50)
            ping_result = ApiResult("ping (trivial DRF view)", backend, all_ping, [],
                                    note="request overhead; no floor")
            results.insert(0, ping_result)
            details.insert(0, {"operation": ping_result.operation, "backend": backend, "size": size,
                               "rows": None, "scanned": None, "floor_scanned": None, "bytes": None,
                               "req_s": 1e9 / (sum(all_ping) / len(all_ping)), "of_ping": 1.0,
                               "route_p10_ns": percentile(all_ping, 10)})
    finally:
        floor.close()
    return results, details


# -- output ----------------------------------------------------------------------------------------
DETAIL_HEADER = ("operation", "backend", "size", "rows", "X-Rows-Scanned", "floor scanned", "bytes", "req/s",
                 "× ping req/s", "route p10", "floor p10", "ratio (p10)")


def detail_cells(d: dict) -> list[str]:
    def num(v):
        return "-" if v is None else f"{v:,}"

    return [d["operation"], d["backend"], f"{d['size']:,}", num(d["rows"]), num(d["scanned"]),
            num(d["floor_scanned"]), num(d["bytes"]), f"{d['req_s']:,.0f}", f"{d['of_ping']:.2f}",
            fmt_ns(d.get("route_p10_ns", math.nan)), fmt_ns(d.get("floor_p10_ns", math.nan)),
            f"{d['route_p10_ns'] / d['floor_p10_ns']:.2f}×" if d.get("floor_p10_ns") else "-"]


def format_details(details: list[dict]) -> str:
    cells = [detail_cells(d) for d in details]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(DETAIL_HEADER)]
    line = lambda cs: "  ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cs, widths)))
    return "\n".join([line(DETAIL_HEADER), "  ".join("-" * w for w in widths), *map(line, cells)])


def markdown_details(details: list[dict]) -> str:
    head = "| " + " | ".join(DETAIL_HEADER) + " |"
    sep = "|" + "|".join(["---"] * 2 + ["---:"] * (len(DETAIL_HEADER) - 2)) + "|"
    return "\n".join([head, sep, *("| " + " | ".join(detail_cells(d)) + " |" for d in details)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50,
                        help="samples of the middle cases (small ones take 2×, the heaviest ½×; default 50)")
    parser.add_argument("--output", default="api", help="bench/results/<name>.json and .md")
    args, sizes, backends = parse_store_arguments(parser, argv)
    _django()

    builds = {}

    def run(backend: str, size: int, settings: dict, info: dict) -> tuple[list, list]:
        builds[f"{size}-{backend}"] = info
        return run_backend(backend, size, settings, info["picks"], args.repeat)

    runs = run_stores(sizes, backends, args.rebuild, run)
    results, details = runs.results, runs.details
    if not results:
        return 0
    print()
    print_table(results)
    print()
    print(format_details(details))
    command = ".venv/bin/python bench/api.py " + " ".join(argv if argv is not None else sys.argv[1:])
    notes = [
        (f"server: gunicorn portal.wsgi, {SERVER_WORKERS} sync workers, DEBUG=false, API_THROTTLE_ANON=none; "
        "client: one requests.Session, sequential requests, each timed to the end of the body; "
        "gunicorn's sync workers close each connection, so every request (ping too) opens one."),
        ("floor (embedded): raw lmdb cursor/gets + msgpack.unpackb + dict(zip(names, values)) (rows are stored "
        "by position, names once per shape) + orjson.dumps in the client process; "
        "(hbase): raw happybase scans/gets + the codecs' decode of each cell + orjson.dumps."),
        ("objects: the object with most alerts (no object has 14: the real data's most is "
        f"{builds and next(iter(builds.values()))['picks']['max_alerts']} alerts and generated copies keep "
        "their source's count) and the longest light curve with withupperlim."),
        ("conesearch: centred on that object; floor = range scans of the same sky-index pixel ranges "
        "(computed before timing) + point reads of the rows returned. latests: SN candidate if it holds "
        "1,000 alerts, else the most common class but Unknown."),
        ("↳ rows are diagnostics (no target): the same route samples against floor + ping summed per "
        "loop iteration (the floor plus the least a Django/DRF request costs), and against floor + the "
        "same number of bytes served by a bare WSGI app under gunicorn (the floor plus moving an answer "
        "that size over HTTP, the client's reading included)."),
        "p10 columns: the 10th percentiles, steadier than p50 when other jobs preempt many samples.",
        ("req/s = 1 / mean latency of one sequential client; × ping = that over ping's req/s in the same "
        "interleaved loop."),
        runs.load_note(),
        *[SKIP_HBASE for _ in runs.skipped],
    ]
    meta = {"sizes": sizes, "backends": backends, "repeat": args.repeat, "builds": builds,
            "details": details, "details_table": markdown_details(details),
            "loadavg_before": runs.loadavg_before, "loadavg_after": runs.loadavg_after}
    json_path, md_path = write_results(args.output, results, command=command.strip(), meta=meta, notes=notes)
    with open(md_path, "a") as fh:
        fh.write("\n" + markdown_details(details) + "\n")
    print(f"\nwrote {json_path.relative_to(ROOT)} and {md_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

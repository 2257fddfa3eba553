"""Ingestion throughput beside the cost of only decoding the same files, same run.

    .venv/bin/python bench/ingest.py --sizes 10000,100000 [--backends embedded,hbase]
                                     [--format parquet,avro] [--demo] [--workers N] [--no-cutouts]

For each generated set (``bench/data/N``, made by ``bench/generate.py`` when missing) and format,
each backend ingests the files into a fresh store with ``alerts.ingest.ingest_paths`` (the
service behind ``manage.py ingest``), and the floor decodes the same files with the same number
of processes: ``pyarrow.parquet.read_table`` for Parquet, a fastavro read of every record for
Avro (``read_table`` decodes columns on all cores). Also reported, as diagnostics: ``read_table``
on one thread, ``read_table`` + ``to_pylist`` (what a row-wise consumer of Arrow pays at least)
and ``alerts.readers.read_alert_columns`` (the normalized alerts ingestion starts from). The
floor runs before and after the ingest and the faster run counts, so noise from other work on
the machine cannot flatter the ratio. One alert's rows are built untimed first, so that the
one-off import of astropy is not counted.

Targets (../shared/docs/PERFORMANCE.md): ingest ≥ 50 % of the floor rate on embedded, ≥ 25 % on
HBase. Beside the rates: the same ratio in CPU seconds per alert (all processes, ``getrusage``),
which other jobs on a shared machine disturb less, and the load average before and after.

``--demo`` adds the real files of ``../shared/data`` (mixed Parquet and Avro, many small files;
their floor is the decode of each alert file in its format). Sets of 1M alerts are made without
cutouts (the disk could not hold them); ``--no-cutouts`` makes and uses smaller sets without
cutouts too (``bench/data/N-nocutouts``), so that rates compare like with like. HBase is skipped
with a message when its Thrift server is not reachable; its tables are made under a fresh
``benchingest<random>`` prefix and dropped.

``--ceiling`` also times, after each ingest, a raw write of exactly the rows the ingest stored
into an empty store of the same backend (read back untimed): LMDB ``putmulti`` + commit of the
stored key/value pairs in chunks of 64 MB (embedded), happybase batch puts of the stored cells
over 4 connections, calls of at most 20k cells or 4 MB as ingestion makes them (HBase). No
ingestion, whatever its code, can write those rows faster: ``raw write /s`` (alerts per second
of that write alone) against the floor says which ratio the store allows at most, and
``of raw`` how much of that rate the ingest reaches.
Results: ``bench/results/ingest.json`` and ``.md``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is bench/, where bench/store.py would shadow the ``store`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import fastavro
import pyarrow.parquet as pq

from alerts.alert_rows import build_rows
from alerts.ingest import ingest_paths
from alerts.readers import UnreadableFile, read_alert_columns, sniff
from alerts.tables import ALL_TABLES
from bench import generate
from bench.common import Result, demo_files, hbase_reachable, write_results
from store import SchemaRow, Store

TARGETS = {"embedded": 0.50, "hbase": 0.25}  # ingest rate / floor rate, at least
NO_CUTOUTS_FROM = 1_000_000  # sets this big are generated without cutouts (disk)


# -- floors ---------------------------------------------------------------------------------------
def _decode_parquet(path: str) -> int:
    return pq.read_table(path).num_rows


def _decode_parquet_one_thread(path: str) -> int:
    return pq.read_table(path, use_threads=False).num_rows


def _decode_parquet_pylist(path: str) -> int:
    return len(pq.read_table(path).to_pylist())


def _decode_avro(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fastavro.reader(fh))


def _read_normalized(path: str) -> int:
    return sum(batch.n for batch in read_alert_columns(path))


def _kinds(files: list[str]) -> dict[str, str]:
    """Each file's format, 'parquet', 'avro', or '' for files holding no alerts (not timed)."""
    kinds = {}
    for path in files:
        try:
            kind = sniff(path)
        except UnreadableFile:  # ingestion reports it, the floor skips it
            kind = ""
        kinds[path] = {"alerts-parquet": "parquet", "alerts-avro": "avro"}.get(kind, "")
    return kinds


_FLOORS = {"parquet": _decode_parquet, "avro": _decode_avro}
_PYLIST_FLOORS = {"parquet": _decode_parquet_pylist, "avro": _decode_avro}
_ONE_THREAD_FLOORS = {"parquet": _decode_parquet_one_thread, "avro": _decode_avro}


def _floor_of(item: tuple[str, str]) -> int:
    path, kind = item
    return _FLOORS[kind](path) if kind else 0


def _floor_pylist(item: tuple[str, str]) -> int:
    path, kind = item
    return _PYLIST_FLOORS[kind](path) if kind else 0


def _floor_one_thread(item: tuple[str, str]) -> int:
    path, kind = item
    return _ONE_THREAD_FLOORS[kind](path) if kind else 0


def _read_normalized_of(item: tuple[str, str]) -> int:
    path, kind = item
    return _read_normalized(path) if kind else 0


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_map(fn, files: list[str], workers: int) -> tuple[float, int, float]:
    """Seconds to run ``fn`` over ``files`` with ``workers`` processes, the sum of results, and
    the CPU seconds it took (all processes)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            total = sum(pool.imap_unordered(fn, files))
            pool.close()
            pool.join()  # reaped: their CPU time counts
    else:
        total = sum(fn(f) for f in files)
    return time.perf_counter() - started, total, cpu_seconds() - cpu


# -- stores ----------------------------------------------------------------------------------------
class FreshStore:
    """A new, empty store with the alert tables; removed on exit."""

    def __init__(self, backend: str):
        self.backend = backend
        self.folder: str | None = None

    def __enter__(self) -> Store:
        if self.backend == "embedded":
            self.folder = tempfile.mkdtemp(prefix="benchingest", dir=os.environ.get("BENCH_TMP"))
            settings = {"BACKEND": "embedded", "PATH": self.folder}
        else:
            settings = {
                "BACKEND": "hbase",
                "HBASE_HOST": os.environ.get("HBASE_HOST", "127.0.0.1"),
                "HBASE_PORT": os.environ.get("HBASE_PORT", "9090"),
                "HBASE_TABLE_PREFIX": f"benchingest{uuid.uuid4().hex[:8]}",
                "HBASE_TIMEOUT_MS": "60000",
            }
        self.store = Store.from_settings(settings)
        self.store.create(*ALL_TABLES)
        return self.store

    def size(self) -> int:
        if not self.folder:
            return 0
        return sum(p.stat().st_size for p in Path(self.folder).rglob("*") if p.is_file())

    def __exit__(self, *exc) -> None:
        try:
            if self.backend == "hbase":
                self.store.drop(*ALL_TABLES)
                self.store.manager(SchemaRow).drop()
        finally:
            self.store.close()
            if self.folder:
                shutil.rmtree(self.folder, ignore_errors=True)


def ingest(files: list[str], backend: str, workers: int, ceiling: bool = False) -> dict:
    fresh = FreshStore(backend)
    raw = {}
    with fresh as store:
        started, cpu = time.perf_counter(), cpu_seconds()
        options = {"workers": workers} if workers > 1 else {}
        report = ingest_paths([Path(f) for f in files], store=store, **options)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        stored = fresh.size()
        if ceiling and not report.errors:
            raw = raw_write_embedded(store) if backend == "embedded" else raw_write_hbase(store)
    if report.errors:
        raise SystemExit(f"ingest errors: {[(e.path, e.error) for e in report.errors][:3]}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "alerts": report.total("alerts"),
        "upper_limits": report.total("upper_limits"),
        "bad_quality": report.total("bad_quality"),
        "objects": report.total("objects"),
        "store_bytes": stored,
        **raw,
    }


# -- the store's own ceiling --------------------------------------------------------------------------
RAW_CHUNK_BYTES = 64 << 20


def raw_write_embedded(store: Store) -> dict:
    """Time LMDB writes of the stored key/value pairs, table by table, into a new environment."""
    import lmdb

    source = store.backend._env()  # the ingest's own environment (LMDB opens a path once per process)
    target_dir = tempfile.mkdtemp(prefix="benchraw", dir=os.environ.get("BENCH_TMP"))
    target = lmdb.open(target_dir, map_size=1 << 40, max_dbs=128, max_readers=1024, readahead=False)
    seconds, rows, size = 0.0, 0, 0
    try:
        with source.begin() as txn:
            names = [key for key, _ in txn.cursor()]
        for name in names:
            db = source.open_db(name, create=False)
            out = target.open_db(name)
            with source.begin(db=db) as txn:
                cursor = txn.cursor()
                more = cursor.first()
                while more:
                    chunk, chunk_bytes = [], 0
                    while more and chunk_bytes < RAW_CHUNK_BYTES:
                        key, value = cursor.item()
                        chunk.append((bytes(key), bytes(value)))
                        chunk_bytes += len(key) + len(value)
                        more = cursor.next()
                    started = time.perf_counter()
                    with target.begin(write=True, db=out) as write:
                        write.cursor().putmulti(chunk)
                    seconds += time.perf_counter() - started
                    rows += len(chunk)
                    size += chunk_bytes
    finally:
        target.close()
        shutil.rmtree(target_dir, ignore_errors=True)
    return {"raw_write_seconds": seconds, "raw_rows": rows, "raw_bytes": size}


def raw_write_hbase(store: Store) -> dict:
    """Time happybase puts of the stored cells, over 4 connections, into new tables."""
    from concurrent.futures import ThreadPoolExecutor

    import happybase

    from store.bulk import HBASE_BYTES_PER_CALL, HBASE_CELLS_PER_CALL, HBASE_THREADS

    backend = store.backend
    prefix = f"benchraw{uuid.uuid4().hex[:8]}"

    def connect(table_prefix):
        return happybase.Connection(backend.host, backend.port, timeout=120000, table_prefix=table_prefix,
                                    table_prefix_separator="_", transport="buffered", protocol="binary")

    source, targets = connect(backend.table_prefix), [connect(prefix) for _ in range(HBASE_THREADS)]
    seconds, rows, size, made = 0.0, 0, 0, []
    try:
        for table in ALL_TABLES:
            targets[0].create_table(table.name, {f: dict(max_versions=1) for f in table.families})
            made.append(table.name)
            calls, items, cells, nbytes = [], [], 0, 0
            for key, data in source.table(table.name).scan(batch_size=1000):
                items.append((key, data))
                cells += len(data)
                nbytes += len(key) + sum(map(len, data)) + sum(map(len, data.values()))
                rows += 1
                if cells >= HBASE_CELLS_PER_CALL or nbytes >= HBASE_BYTES_PER_CALL:
                    calls.append(items)
                    size += nbytes
                    items, cells, nbytes = [], 0, 0
            if items:
                calls.append(items)
                size += nbytes

            def send(job, name=table.name):
                i, items = job
                with targets[i % len(targets)].table(name).batch(batch_size=len(items) * 1000) as batch:
                    for key, data in items:
                        batch.put(key, data)

            started = time.perf_counter()
            with ThreadPoolExecutor(len(targets)) as pool:
                list(pool.map(send, enumerate(calls)))
            seconds += time.perf_counter() - started
    finally:
        for name in made:
            try:
                targets[0].delete_table(name, disable=True)
            except Exception:
                pass
        for connection in (source, *targets):
            connection.close()
    return {"raw_write_seconds": seconds, "raw_rows": rows, "raw_bytes": size}


# -- sets -----------------------------------------------------------------------------------------
def generated_files(n: int, fmt: str, log, cutouts: bool = True) -> list[str]:
    """The files of the generated set of ``n`` alerts, generated first if missing. Sets of
    ``NO_CUTOUTS_FROM`` alerts and more never have cutouts (disk); ``cutouts=False`` asks for a
    smaller set without them too (``bench/data/<n>-nocutouts``), to compare like with like."""
    cutouts = cutouts and n < NO_CUTOUTS_FROM
    folder = generate.DATA_DIR / (str(n) if cutouts or n >= NO_CUTOUTS_FROM else f"{n}-nocutouts")
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    if (manifest is None or manifest.get("alerts") != n or manifest.get("cutouts") != cutouts
            or (fmt == "avro" and not manifest.get("avro"))):
        log(f"generating {n} alerts into {folder} (avro: {fmt == 'avro'}, cutouts: {cutouts}) ...")
        generate.generate(n, folder, cutouts=cutouts, avro=fmt == "avro", jobs=os.cpu_count() or 1,
                          log=lambda *_: None)
    sub = folder / fmt
    suffix = ".avro" if fmt == "avro" else ".parquet"
    return sorted(str(p) for p in sub.iterdir() if p.name.endswith(suffix))


def _warm_up(items: list[tuple[str, str]]) -> None:
    """Build the rows of one alert, untimed: the first call imports astropy (about a second),
    which a long ingest pays once and a benchmark should not count."""
    for path, kind in items:
        if kind:
            build_rows(next(read_alert_columns(path, batch_size=1)))
            return


def run_set(label: str, fmt: str, files: list[str], backends: list[str], workers: int,
            diagnostics: bool, log, ceiling: bool = False) -> list[dict]:
    kinds = _kinds(files)
    items = [(f, kinds[f]) for f in files]
    rows = []
    floor_before, decoded, floor_cpu_before = timed_map(_floor_of, items, workers)
    extra = {}
    if diagnostics:
        if fmt != "avro":
            extra["one_thread_seconds"], _, _ = timed_map(_floor_one_thread, items, workers)
            extra["pylist_seconds"], _, _ = timed_map(_floor_pylist, items, workers)
        extra["readers_seconds"], _, _ = timed_map(_read_normalized_of, items, workers)
    _warm_up(items)
    for backend in backends:
        log(f"{label} {fmt} -> {backend} ...")
        load_before = os.getloadavg()
        result = ingest(files, backend, workers, ceiling)
        load_after = os.getloadavg()
        floor_after, _, floor_cpu_after = timed_map(_floor_of, items, workers)
        floor = min(floor_before, floor_after)
        floor_cpu = min(floor_cpu_before, floor_cpu_after)
        alerts = result["alerts"]
        row = {
            "set": label,
            "format": fmt,
            "backend": backend,
            "workers": workers,
            "files": len(files),
            "alerts_decoded": decoded,
            **result,
            "rate": alerts / result["seconds"],
            "floor_seconds": floor,
            "floor_rate": decoded / floor,
            "floor_cpu_seconds": floor_cpu,
            # Other jobs on the machine slow both; CPU time says what this process spent.
            "cpu_ratio": (floor_cpu / decoded) / (result["cpu_seconds"] / max(alerts, 1)),
            "load": [round(v, 1) for v in (*load_before, *load_after)],
            **{k: v for k, v in extra.items()},
        }
        row["ratio"] = row["rate"] / row["floor_rate"]
        row["target"] = TARGETS[backend]
        if "one_thread_seconds" in extra:
            row["one_thread_rate"] = decoded / extra["one_thread_seconds"]
        if "pylist_seconds" in extra:
            row["pylist_rate"] = decoded / extra["pylist_seconds"]
        if "readers_seconds" in extra:
            row["readers_rate"] = decoded / extra["readers_seconds"]
        if result.get("raw_write_seconds"):
            row["raw_rate"] = alerts / result["raw_write_seconds"]
            log(f"  raw write of the {result['raw_rows']:,} rows stored ({result['raw_bytes'] / 1e6:,.0f} MB): "
                f"{result['raw_write_seconds']:.2f} s = {row['raw_rate']:,.0f} alerts/s, "
                f"{row['raw_rate'] / row['floor_rate']:.1%} of the floor")
        rows.append(row)
        log(
            f"  {alerts} alerts in {result['seconds']:.1f} s = {row['rate']:.0f}/s; floor "
            f"{row['floor_rate']:.0f}/s; ratio {row['ratio']:.1%} (CPU time {row['cpu_ratio']:.1%}); "
            f"load {load_before[0]:.1f} -> {load_after[0]:.1f}"
        )
    return rows


# -- output ---------------------------------------------------------------------------------------
HEADER = (
    "set", "format", "backend", "alerts", "ingest s", "ingest /s", "floor /s", "ratio", "target",
    "ok", "CPU ratio", "load", "1 thread /s", "to_pylist /s", "readers /s", "raw write /s",
    "raw / floor", "of raw", "vs first size",
)


def table_rows(rows: list[dict]) -> list[list[str]]:
    first: dict[tuple, float] = {}
    out = []
    for r in rows:
        key = (r["format"], r["backend"], r["workers"], r.get("cutouts", True))
        if r["set"] != "demo":
            first.setdefault(key, r["rate"])
        scale = "-" if r["set"] == "demo" else f"{r['rate'] / first[key]:.2f}×"
        out.append([
            r["set"], r["format"], r["backend"] + (f" ×{r['workers']}" if r["workers"] > 1 else ""),
            str(r["alerts"]), f"{r['seconds']:.1f}", f"{r['rate']:,.0f}", f"{r['floor_rate']:,.0f}",
            f"{r['ratio']:.1%}", f"≥ {r['target']:.0%}", "ok" if r["ratio"] >= r["target"] else "NOT OK",
            f"{r['cpu_ratio']:.1%}" if "cpu_ratio" in r else "-",
            f"{r['load'][0]:.1f}-{r['load'][3]:.1f}" if "load" in r else "-",
            f"{r['one_thread_rate']:,.0f}" if "one_thread_rate" in r else "-",
            f"{r['pylist_rate']:,.0f}" if "pylist_rate" in r else "-",
            f"{r['readers_rate']:,.0f}" if "readers_rate" in r else "-",
            f"{r['raw_rate']:,.0f}" if "raw_rate" in r else "-",
            f"{r['raw_rate'] / r['floor_rate']:.1%}" if "raw_rate" in r else "-",
            f"{r['rate'] / r['raw_rate']:.1%}" if "raw_rate" in r else "-",
            scale,
        ])
    return out


def format_table(rows: list[dict]) -> str:
    cells = table_rows(rows)
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(HEADER)]
    line = lambda cs: "  ".join(c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(cs, widths)))
    return "\n".join([line(HEADER), "  ".join("-" * w for w in widths), *map(line, cells)])


def markdown_table(rows: list[dict]) -> str:
    head = "| " + " | ".join(HEADER) + " |"
    sep = "|" + "|".join(["---"] * 3 + ["---:"] * (len(HEADER) - 3)) + "|"
    return "\n".join([head, sep, *("| " + " | ".join(c) + " |" for c in table_rows(rows))])


def as_results(rows: list[dict]) -> list[Result]:
    """The rows as bench.common Results: time per alert (ns), ingest beside its floor."""
    results = []
    for r in rows:
        results.append(Result(
            operation=f"ingest {r['format']} {r['set']}",
            backend=r["backend"],
            adapter=[int(r["seconds"] / max(r["alerts"], 1) * 1e9)],
            floor=[int(r["floor_seconds"] / max(r["alerts_decoded"], 1) * 1e9)],
            target=1 / r["target"],  # time per alert at most 1/target × the floor's
            note="rate = alerts/s; ratio target as time per alert",
            extra=r,
        ))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="generated set sizes ('' for none)")
    parser.add_argument("--backends", default="embedded,hbase")
    parser.add_argument("--format", default="parquet", help="parquet,avro")
    parser.add_argument("--demo", action="store_true", help="also ingest the real files of ../shared/data")
    parser.add_argument("--workers", type=int, default=1, help="ingest and floor processes")
    parser.add_argument("--no-cutouts", action="store_true",
                        help="sets without cutouts (bench/data/N-nocutouts; 1M sets never have them)")
    parser.add_argument("--no-diagnostics", action="store_true", help="skip to_pylist/readers rates")
    parser.add_argument("--ceiling", action="store_true",
                        help="also time a raw write of the rows stored (the store's own limit)")
    parser.add_argument("--output", default="ingest", help="bench/results/<name>.json")
    args = parser.parse_args(argv)

    backends = [b for b in args.backends.split(",") if b]
    if "hbase" in backends and not hbase_reachable():
        print("HBase Thrift server not reachable: hbase skipped (deploy/hbase/hbase.sh start)")
        backends.remove("hbase")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    formats = [f for f in args.format.split(",") if f]

    def log(message):
        print(message, file=sys.stderr, flush=True)

    rows = []
    if args.demo:
        rows += run_set("demo", "mixed", demo_files(), backends, args.workers,
                        not args.no_diagnostics, log, args.ceiling)
    for fmt in formats:
        for n in sizes:
            cutouts = not args.no_cutouts and n < NO_CUTOUTS_FROM
            files = generated_files(n, fmt, log, cutouts=cutouts)
            label = f"{n:,}" + ("" if cutouts else " no cutouts")
            for row in run_set(label, fmt, files, backends, args.workers, not args.no_diagnostics, log,
                               args.ceiling):
                row["cutouts"] = cutouts
                rows.append(row)
    print(format_table(rows))
    command = "bench/ingest.py " + " ".join(argv if argv is not None else sys.argv[1:])
    notes = [
        (
            "rates are alerts/s; floor: pyarrow.parquet.read_table (Parquet) or fastavro decode "
            "(Avro) of the same files with the same process count, best of a run before and after "
            "the ingest"
        ),
        (
            "1 thread: read_table(use_threads=False); to_pylist: read_table + Table.to_pylist; "
            "readers: alerts.readers.read_alert_columns"
        ),
        f"sets of {NO_CUTOUTS_FROM:,}+ alerts are generated without cutouts",
        "CPU ratio: the same ratio in CPU seconds (all processes) per alert: steadier when other jobs load the machine",
        "load: 1-minute load average before and after the ingest",
        (
            "raw write /s: alerts/s of a raw write of exactly the rows stored into an empty store "
            "(LMDB putmulti, or happybase puts over 4 connections); raw / floor: the ratio that "
            "write alone would allow; of raw: ingest rate / raw write rate"
        ),
    ]
    write_results(args.output, as_results(rows), command=command,
                  meta={"table": markdown_table(rows), "rows": rows}, notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())

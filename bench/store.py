"""Store adapter overhead: the adapter beside the raw engine doing the same work, same run.

    .venv/bin/python bench/store.py [--backends embedded,hbase] [--rows N] [--repeat R]

Fills a table declared with the store adapter with rows shaped like real ZTF alerts: ~100 real
alerts from the Fink Parquet sample (their ``candidate`` fields as typed ``i:`` columns, their
``prv_candidates`` as a Struct column), copied under new objectIds with shifted times and
positions so that one object has 10 rows, one has 1,500 rows and many others have 1-20 rows.
Then, per backend, each operation beside its floor:

| operation | adapter | floor (embedded) | floor (hbase) |
|---|---|---|---|
| point read | ``manager.get(key)`` | read txn + ``txn.get`` + ``msgpack.unpackb`` + ``dict(zip(names, values))`` | happybase ``table.row(key)`` |
| prefix scan | ``list(manager.scan((oid,)))`` | lmdb cursor from ``set_range`` + unpack + zip | ``table.scan(row_prefix=...)`` |
| batch write | ``manager.batch()`` of 1,000 row dicts | ``txn.put`` of pre-packed values, one txn | ``batch(batch_size=1000)`` of pre-encoded cells |

Targets: adapter p50 ≤ 1.5× floor (embedded), ≤ 1.2× floor (hbase). Writes insert fresh rows
(as ingestion does): on embedded the 1,000 rows are deleted, untimed, after every sample; on HBase
a put never reads, so each sample rewrites the same 1,000 keys.

``--repeat R`` is the sample count of the 1,500-row scan and the 1,000-row write; point reads and
10-row scans take 25×R samples. HBase is skipped with a message when its Thrift server is not
reachable (``HBASE_HOST``/``HBASE_PORT``, default 127.0.0.1:9090). HBase tables are made under a
fresh ``bench<random>`` prefix and dropped at the end; the embedded store lives in a temporary
folder that is removed.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is bench/, where this file would shadow the ``store`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import msgpack
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import (
    Result,
    hbase_reachable,
    measure_interleaved,
    print_table,
    write_results,
)
from store import Bool, Field, Float, Int, RowKey, Store, Str, Struct, Table

SAMPLE = "/work/shared/data/fink-parquet/sample-124-20211122/*.parquet"
TEMPLATES = 100
SMALL, BIG = 10, 1500  # rows of the two scanned objects
WRITE_ROWS = 1000
TARGETS = {"embedded": 1.5, "hbase": 1.2}
CHEAP_FACTOR = 25  # point reads and 10-row scans: samples per --repeat


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------------------------
def _codec(arrow_type):
    if pa.types.is_floating(arrow_type):
        return Float()
    if pa.types.is_integer(arrow_type):
        return Int()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return Str()
    if pa.types.is_boolean(arrow_type):
        return Bool()
    return Struct()


def load_alerts(
    pattern: str = SAMPLE, count: int = TEMPLATES
) -> tuple[list[Field], list[dict]]:
    """The table's fields and ``count`` real alert rows ({column: value}) from the sample."""
    files = sorted(glob.glob(pattern))
    if not files:
        sys.exit(f"no Parquet files match {pattern}")
    data = pq.read_table(files, columns=["objectId", "candidate", "prv_candidates"])
    data = data.slice(0, count)
    candidate = data.schema.field("candidate").type
    fields = [Field("i:objectId", Str(), "ZTF object id")]
    fields += [Field(f"i:{f.name}", _codec(f.type)) for f in candidate]
    fields.append(
        Field("i:prv_candidates", Struct(), "previous detections (real light curve)")
    )
    rows = []
    for alert in data.to_pylist():
        row = {"i:objectId": alert["objectId"]}
        row.update(
            {f"i:{k}": v for k, v in alert["candidate"].items() if v is not None}
        )
        if alert["prv_candidates"] is not None:
            row["i:prv_candidates"] = alert["prv_candidates"]
        rows.append(row)
    return fields, rows


def make_table(fields: list[Field]) -> type[Table]:
    return type(
        "BenchAlert",
        (Table,),
        {
            "name": "bench_alerts",
            "families": ("i",),
            "key": RowKey("i:objectId", "i:jd"),
            "fields": fields,
            "__module__": __name__,
        },
    )


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def object_id(index: int, year: int = 21) -> str:
    """A ZTF-shaped id (ZTF + 2 digits + 7 letters), scattered over the key space."""
    n = (index * 2_654_435_761 + 12_345) % 26**7
    letters = []
    for _ in range(7):
        n, r = divmod(n, 26)
        letters.append(_LETTERS[r])
    return f"ZTF{year:02d}{''.join(reversed(letters))}"


def copy_alert(template: dict, oid: str, k: int, obj: int, candid: int) -> dict:
    """A real alert under a new object id: k-th detection, shifted time and position."""
    row = dict(template)
    row["i:objectId"] = oid
    row["i:jd"] = 2458300.5 + k * 0.9 + (obj % 997) * 1e-5  # unique within the object
    row["i:candid"] = candid
    row["i:ra"] = (template["i:ra"] + (obj % 3600) * 0.1) % 360.0
    row["i:dec"] = max(
        -90.0, min(90.0, template["i:dec"] + ((obj * 7) % 100 - 50) * 0.01)
    )
    return row


def plan_objects(total: int, seed: int = 1) -> list[tuple[str, int]]:
    """(objectId, rows) for every object: the 10-row one, the 1,500-row one and the others."""
    rng = random.Random(seed)
    plan, left, index = [], total - SMALL - BIG, 0
    while left > 0:
        n = min(left, rng.randint(1, 20))
        plan.append((object_id(index), n))
        left -= n
        index += 1
    # Put the scanned objects amid the others, not at an edge of the key space.
    plan.insert(len(plan) // 3, (object_id(index), SMALL))
    plan.insert(2 * len(plan) // 3, (object_id(index + 1), BIG))
    return plan


def fill_rows(plan, templates):
    candid = 10**15
    for obj, (oid, n) in enumerate(plan):
        for k in range(n):
            candid += 1
            yield copy_alert(
                templates[(obj * 31 + k) % len(templates)], oid, k, obj, candid
            )


def write_batch_rows(templates, obj: int) -> list[dict]:
    """1,000 fresh rows (one new object) for the write samples."""
    oid = object_id(10**7 + obj, year=29)
    return [
        copy_alert(templates[k % len(templates)], oid, k, obj, 2 * 10**15 + k)
        for k in range(WRITE_ROWS)
    ]


# -- measurements ----------------------------------------------------------------------------------
def cycling(keys):
    """A callable returning the next key each call (adapter and floor see the same sequence)."""
    it = itertools.cycle(keys)
    return it.__next__


def run_ops(backend, manager, floor, plan, templates, repeat, target) -> list[Result]:
    """Point reads, 10- and 1,500-row scans, 1,000-row batch writes; adapter vs ``floor``."""
    rng = random.Random(7)
    small_oid = next(o for o, n in plan if n == SMALL)
    big_oid = next(o for o, n in plan if n == BIG)
    # Every key of the table, rebuilt from the plan (cheap), then a random sample to read.
    keys = [manager.table.key.of_row(r) for r in _key_rows(plan)]
    picks = [keys[rng.randrange(len(keys))] for _ in range(CHEAP_FACTOR * repeat + 64)]
    results = []

    # Sanity: both sides return the same rows, so they do the same work.
    for oid, n in ((small_oid, SMALL), (big_oid, BIG)):
        a, f = (
            len(list(manager.scan((oid,)))),
            len(floor.scan(manager.table.key.prefix(oid))),
        )
        if a != n or f != n:
            raise SystemExit(
                f"{backend}: scan of {oid} gave {a} rows (adapter), {f} (floor), expected {n}"
            )
    row = manager.get(picks[0].decode())
    raw = floor.get(picks[0])
    if row is None or raw is None or len(row) != len(raw):
        raise SystemExit(f"{backend}: point read mismatch for {picks[0]!r}")

    # Point reads: one random key per sample; the adapter gets the key as text, as a view would.
    a_next, f_next = cycling([k.decode() for k in picks]), cycling(picks)
    log(f"  {backend}: point reads ({CHEAP_FACTOR * repeat} samples)")
    fns = [lambda: manager.get(a_next()), lambda: floor.get(f_next())]
    if floor.decodes_cells:
        d_next = cycling(picks)
        fns.append(lambda: floor.get_decoded(d_next()))
    a, f, *d = measure_interleaved(fns, CHEAP_FACTOR * repeat, warmup=20)
    results.append(Result("point read", backend, a, f, target))
    if d:
        results.append(
            Result(
                "  ↳ vs floor + cell decoding",
                backend,
                a,
                d[0],
                None,
                note="diagnostic: raw get + the codecs' decode of every cell",
            )
        )

    for oid, n, samples in (
        (small_oid, SMALL, CHEAP_FACTOR * repeat),
        (big_oid, BIG, repeat),
    ):
        prefix = manager.table.key.prefix(oid)
        log(f"  {backend}: {n}-row prefix scans ({samples} samples)")
        fns = [
            lambda oid=oid: list(manager.scan((oid,))),
            lambda prefix=prefix: floor.scan(prefix),
        ]
        if (
            floor.decodes_cells
        ):  # diagnostic: the same raw scan plus decoding the typed cells
            fns.append(lambda prefix=prefix: floor.scan_decoded(prefix))
        a, f, *d = measure_interleaved(fns, samples, warmup=2)
        results.append(Result(f"prefix scan {n:,} rows", backend, a, f, target))
        if d:
            results.append(
                Result(
                    "  ↳ vs floor + cell decoding",
                    backend,
                    a,
                    d[0],
                    None,
                    note="diagnostic: raw scan + the codecs' decode of every cell",
                )
            )

    # Batch writes of 1,000 fresh rows.
    rows = write_batch_rows(templates, 1)
    prepared = floor.prepare(
        [manager._prepare(r) for r in rows]
    )  # floor input: pre-encoded

    def adapter_write():
        with manager.batch(size=WRITE_ROWS) as batch:
            for r in rows:
                batch.put(r)

    floor.check_write(adapter_write, prepared)
    log(f"  {backend}: {WRITE_ROWS:,}-row batch writes ({repeat} samples)")
    coerced = [
        manager._prepare(r) for r in rows
    ]  # diagnostic floor input: typed, not encoded
    a, f, d = measure_interleaved(
        [
            adapter_write,
            lambda: floor.write(prepared),
            lambda: floor.write_encoding(coerced),
        ],
        repeat,
        warmup=1,
        between=lambda: floor.reset_write(prepared),
    )
    results.append(Result(f"batch write {WRITE_ROWS:,} rows", backend, a, f, target))
    results.append(
        Result(
            "  ↳ vs floor + cell encoding",
            backend,
            a,
            d,
            None,
            note="diagnostic: the raw write encoding the typed cells inside the timing",
        )
    )
    return results


def _key_rows(plan):
    for obj, (oid, n) in enumerate(plan):
        for k in range(n):
            yield {"i:objectId": oid, "i:jd": 2458300.5 + k * 0.9 + (obj % 997) * 1e-5}


class EmbeddedFloor:
    """The same work straight on LMDB + msgpack (same environment: LMDB opens a path once).

    Rows are stored by position (``store/backends/packed.py``): a msgpack array of the values
    (a Struct value packed inside as ext type 1) then the id of the row's column names, so a
    record is ``dict(zip(names, values))`` with the names looked up once per shape, and a write
    packs that array.
    """

    decodes_cells = False  # its floor already unpacks the rows

    def __init__(self, backend, table):
        from store.backends.packed import SHAPES_DB

        self.env = backend._env()
        self.db = backend._db(table)
        self.shapes_db = backend._named_db(SHAPES_DB, create=True)
        self.structs = {c for c, f in table.fields_by_column.items() if isinstance(f.codec, Struct)}
        self.names: dict[int, tuple[str, ...]] = {}
        self.ids: dict[tuple[str, ...], int] = {}

        def ext_hook(code, data):
            return msgpack.unpackb(data, raw=False)

        self.ext_hook = ext_hook

    def _names(self, shape_id: int) -> tuple[str, ...]:
        names = self.names.get(shape_id)
        if names is None:
            with self.env.begin(db=self.shapes_db) as txn:
                names = self.names[shape_id] = tuple(msgpack.unpackb(txn.get(shape_id.to_bytes(8, "big"))))
        return names

    def _record(self, value: bytes) -> dict:
        values = msgpack.unpackb(value, raw=False, ext_hook=self.ext_hook)
        return dict(zip(self.names.get(values[-1]) or self._names(values[-1]), values))

    def get(self, key: bytes):
        with self.env.begin(db=self.db) as txn:
            data = txn.get(key)
        return None if data is None else self._record(data)

    def scan(self, prefix: bytes):
        out = []
        record = self._record
        with self.env.begin(db=self.db) as txn:
            cursor = txn.cursor()
            if cursor.set_range(prefix):
                for key, value in cursor:
                    if not key.startswith(prefix):
                        break
                    out.append((key, record(value)))
        return out

    def _pack(self, cells: dict) -> bytes:
        from store.backends.packed import STRUCT_EXT, _shape_id

        cells = {c: v for c, v in cells.items() if v is not None}
        names = tuple(cells)
        shape_id = self.ids.get(names)
        if shape_id is None:  # the id the adapter gives (no hash collision among these few shapes)
            shape_id = self.ids[names] = _shape_id(names, 0)
        values = [
            msgpack.ExtType(STRUCT_EXT, msgpack.packb(v, use_bin_type=True)) if c in self.structs else v
            for c, v in cells.items()
        ]
        values.append(shape_id)
        return msgpack.packb(values, use_bin_type=True)

    def prepare(self, items):
        return [(key, self._pack(cells)) for key, cells in items]

    def write(self, prepared):
        with self.env.begin(write=True, db=self.db) as txn:
            put = txn.put
            for key, value in prepared:
                put(key, value)

    def write_encoding(self, items):
        pack = self._pack
        with self.env.begin(write=True, db=self.db) as txn:
            put = txn.put
            for key, cells in items:
                put(key, pack(cells))

    def reset_write(self, prepared):
        with self.env.begin(write=True, db=self.db) as txn:
            for key, _ in prepared:
                txn.delete(key)

    def check_write(self, adapter_write, prepared):
        """Both sides store the same bytes."""
        self.reset_write(prepared)
        adapter_write()
        with self.env.begin(db=self.db) as txn:
            same = all(txn.get(k) == v for k, v in prepared)
        self.reset_write(prepared)
        if not same:
            raise SystemExit("embedded: adapter and floor writes store different bytes")


class HBaseFloor:
    """The same work straight on happybase, with the adapter's connection settings."""

    decodes_cells = True

    def __init__(self, backend, table):
        import happybase

        self.connection = happybase.Connection(
            backend.host,
            backend.port,
            timeout=backend.timeout_ms,
            autoconnect=True,
            table_prefix=backend.table_prefix,
            table_prefix_separator="_",
            transport="buffered",
            protocol="binary",
        )
        self.table = self.connection.table(table.name)
        self.encoders = {c: f.codec.encode for c, f in table.fields_by_column.items()}
        self.decoders = {
            c.encode(): (c, f.codec.decode) for c, f in table.fields_by_column.items()
        }

    def get(self, key: bytes):
        return self.table.row(key) or None

    def scan(self, prefix: bytes):
        return list(self.table.scan(row_prefix=prefix))

    def _decode(self, data):
        dec = self.decoders
        cells = {}
        for raw, value in data.items():
            column, decode = dec[raw]
            cells[column] = decode(value)
        return cells

    def get_decoded(self, key: bytes):
        data = self.table.row(key)
        return self._decode(data) if data else None

    def scan_decoded(self, prefix: bytes):
        dec = self.decoders
        out = []
        for key, data in self.table.scan(row_prefix=prefix):
            cells = {}
            for raw, value in data.items():
                column, decode = dec[raw]
                cells[column] = decode(value)
            out.append((key, cells))
        return out

    def prepare(self, items):
        enc = self.encoders
        return [
            (key, {c.encode(): enc[c](v) for c, v in cells.items()})
            for key, cells in items
        ]

    def write(self, prepared):
        with self.table.batch(batch_size=WRITE_ROWS) as batch:
            for key, data in prepared:
                batch.put(key, data)

    def write_encoding(self, items):
        enc = self.encoders
        with self.table.batch(batch_size=WRITE_ROWS) as batch:
            for key, cells in items:
                batch.put(key, {c.encode(): enc[c](v) for c, v in cells.items()})

    def reset_write(self, prepared):
        pass  # a put never reads: rewriting the same keys costs what new rows cost

    def check_write(self, adapter_write, prepared):
        adapter_write()
        key, data = prepared[0]
        if self.table.row(key) != data:
            raise SystemExit("hbase: adapter and floor writes store different cells")

    def close(self):
        self.connection.close()


def fill(manager, plan, templates) -> float:
    start = time.perf_counter()
    n = 0
    with manager.batch(size=1000) as batch:
        for row in fill_rows(plan, templates):
            batch.put(row)
            n += 1
    took = time.perf_counter() - start
    log(
        f"  filled {n:,} rows in {took:.1f} s ({n / took:,.0f} rows/s through the adapter)"
    )
    return took


def bench_backend(name, table, plan, templates, repeat) -> tuple[list[Result], dict]:
    target = TARGETS[name]
    cleanup = []
    if name == "embedded":
        folder = tempfile.mkdtemp(prefix="bench-store-")
        cleanup.append(lambda: shutil.rmtree(folder, ignore_errors=True))
        store = Store.from_settings({"BACKEND": "embedded", "PATH": folder})
    else:
        host = os.environ.get("HBASE_HOST", "127.0.0.1")
        port = int(os.environ.get("HBASE_PORT", "9090"))
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        store = Store.from_settings(
            {
                "BACKEND": "hbase",
                "HBASE_HOST": host,
                "HBASE_PORT": port,
                "HBASE_TABLE_PREFIX": prefix,
                "HBASE_TIMEOUT_MS": 30000,
            }
        )
        log(f"  hbase at {host}:{port}, table prefix {prefix}")
    manager = store.manager(table)
    floor = None
    info = {}
    try:
        manager.create()
        info["fill_s"] = fill(manager, plan, templates)
        floor = (
            EmbeddedFloor(store.backend, table)
            if name == "embedded"
            else HBaseFloor(store.backend, table)
        )
        return run_ops(name, manager, floor, plan, templates, repeat, target), info
    finally:
        if isinstance(floor, HBaseFloor):
            floor.close()
        try:
            manager.drop()
        finally:
            store.close()
            for step in cleanup:
                step()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backends",
        default="embedded,hbase",
        help="comma-separated: embedded, hbase (default both)",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=5_000,
        help="rows in the table, including the 10- and 1,500-row objects (default 5000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=10,
        help="samples of the heavy ops (1,500-row scan, 1,000-row write); "
        f"point reads and 10-row scans take {CHEAP_FACTOR}× as many (default 10)",
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in TARGETS]
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {sorted(TARGETS)}")
    if args.rows < SMALL + BIG + 1:
        parser.error(f"--rows must be at least {SMALL + BIG + 1}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    fields, templates = load_alerts()
    table = make_table(fields)
    plan = plan_objects(args.rows)
    log(
        f"{len(templates)} real alerts, {len(fields)} columns; {args.rows:,} rows over {len(plan):,} objects"
    )

    results, skipped, meta = (
        [],
        [],
        {
            "rows": args.rows,
            "objects": len(plan),
            "repeat": args.repeat,
            "columns": len(fields),
            "templates": len(templates),
        },
    )
    for name in backends:
        if name == "hbase":
            host = os.environ.get("HBASE_HOST", "127.0.0.1")
            port = int(os.environ.get("HBASE_PORT", "9090"))
            if not hbase_reachable(host, port):
                message = (
                    f"SKIP hbase: HBase Thrift server not reachable at {host}:{port} "
                    "(start it with deploy/hbase/hbase.sh start)"
                )
                print(message, flush=True)
                skipped.append(message)
                continue
        log(f"{name}:")
        res, info = bench_backend(name, table, plan, templates, args.repeat)
        results += res
        meta[f"{name}_fill_s"] = info.get("fill_s")

    if not results:
        return 0
    print()
    print_table(results)
    command = ".venv/bin/python bench/store.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    notes = [
        (
            f"{args.rows:,} rows (objectId, {len(fields) - 2} candidate columns and prv_candidates; ~15 kB each) over "
            f"{len(plan):,} objects; samples: {args.repeat} for the 1,500-row scan and the writes, "
            f"{CHEAP_FACTOR * args.repeat} for point reads and 10-row scans."
        ),
        "floor: embedded = raw lmdb + msgpack; hbase = raw happybase with the adapter's connection settings.",
        (
            "↳ rows are diagnostics (no target): the same adapter samples against a floor that also "
            "encodes (writes) or decodes (HBase reads) the typed cells, i.e. what is left once the "
            "unavoidable (de)serialisation is counted on both sides."
        ),
        *skipped,
    ]
    json_path, md_path = write_results(
        "store", results, command=command.strip(), meta=meta, notes=notes
    )
    print(f"\nwrote {json_path.relative_to(ROOT)} and {md_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

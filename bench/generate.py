"""Make N benchmark alerts by copying the real Fink alerts under new ids, positions and times.

    .venv/bin/python bench/generate.py 100000 [--out bench/data/100000] [--seed 1] [--avro]
                                              [--no-cutouts] [--part-size 10000] [--source DIR]

Every alert of the real Fink Parquet files (``../shared/data/fink-parquet`` by default) is copied
again and again: copy ``r`` of a source object becomes a new object ``ZTFyy`` + 7 lowercase letters
(a seeded bijection of ``(r, source object)``, so ids are unique and the same for every N), moved
on the sky by the copy's own offset (ra + Δra mod 360, dec + Δdec reflected at the poles) and in
time by a whole number of days (``jd``, ``jdstarthist``, ``jdendhist``, the history's ``jd`` and
``jd_first_real_det``, the broker ``timestamp``). Everything else is the real alert: its light
curve (``prv_candidates``), its cutouts, its Fink scores. Alerts of one source object stay
together in each copy, so multi-alert objects stay multi-alert objects. ``candid`` (top level,
candidate and history) moves by ``r * 10**12`` so that copies do not share candids.

Source files of one schema are copied together and written, column-wise with pyarrow, as Parquet
part files of at most ``--part-size`` alerts in that same schema (``<out>/parquet/``). The sources
span ZTF schemas 3.1-4.02 and Fink columns of 2019-2025, so the parts carry the same schema drift
ingestion meets for real. ``--avro`` also writes the same alerts as Fink data-transfer-like Avro
(``<out>/avro/``, a schema derived from the Parquet one; rows go through Python there, which is
the slow part). ``--no-cutouts`` writes the cutout columns as nulls (for sets too big for the disk
otherwise). ``<out>/manifest.json`` records what was made.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: alerts.datadir must be importable
    sys.path.insert(0, str(ROOT))

from alerts.datadir import find_data_dir

DATA_DIR = ROOT / "bench" / "data"
DEFAULT_SOURCE = (find_data_dir() or ROOT.parent / "shared" / "data") / "fink-parquet"
PART_SIZE = 10_000
CANDID_STEP = 10**12  # candid shift per copy

# Columns moved in time (days) and on the sky, wherever they appear.
_TIME_FIELDS = ("jd", "jdstarthist", "jdendhist", "jd_first_real_det")
_RA_FIELDS = ("ra", "ranr")
_DEC_FIELDS = ("dec", "decnr")
_CUTOUT_COLUMNS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
_LETTERS = 26**7


# -- sources -------------------------------------------------------------------------------------
def source_groups(source: Path) -> list[pa.Table]:
    """The alert Parquet files under ``source``, one table per distinct schema, in a stable order."""
    groups: list[tuple[pa.Schema, list[pa.Table]]] = []
    for path in sorted(source.rglob("*.parquet")):
        schema = pq.read_schema(path)
        if not {"objectId", "candidate"} <= set(schema.names):
            continue
        table = pq.read_table(path)
        for known, tables in groups:
            if known.equals(table.schema, check_metadata=False):
                tables.append(table.replace_schema_metadata(known.metadata))
                break
        else:
            groups.append((table.schema, [table]))
    return [pa.concat_tables(tables).combine_chunks() for _, tables in groups]


# -- per-copy offsets and new ids --------------------------------------------------------------
class Copies:
    """The offsets of each copy and the object-id bijection, all from one seed."""

    def __init__(self, seed: int, copies: int, objects: int):
        offsets = [np.random.default_rng([seed, r]) for r in range(copies)]
        self.days = np.array([float(rng.integers(-365, 366)) for rng in offsets])
        self.dra = np.array([rng.uniform(0.0, 360.0) for rng in offsets])
        self.ddec = np.array([rng.uniform(-30.0, 30.0) for rng in offsets])
        rng = np.random.default_rng(seed)
        multiplier = int(rng.integers(1, _LETTERS // 2)) * 2 + 1
        while math.gcd(multiplier, _LETTERS) != 1:  # 26**7 = 2**7 * 13**7: odd and not 13k
            multiplier += 2
        self.multiplier, self.increment = multiplier, int(rng.integers(0, _LETTERS))
        self.objects = objects

    def object_ids(self, copy: np.ndarray, source_object: np.ndarray) -> pa.Array:
        """``ZTFyy`` + 7 letters, unique for each (copy, source object)."""
        index = copy.astype(np.int64) * self.objects + source_object
        code = (index * self.multiplier + self.increment) % _LETTERS
        chars = np.empty((len(index), 12), dtype=np.uint8)
        chars[:, :3] = np.frombuffer(b"ZTF", dtype=np.uint8)
        year = 18 + copy % 8
        chars[:, 3] = ord("0") + year // 10
        chars[:, 4] = ord("0") + year % 10
        for position in range(7):
            chars[:, 11 - position] = ord("a") + code % 26
            code //= 26
        return pa.array(chars.reshape(-1).view("S12")).cast(pa.string())


# -- column-wise moves ----------------------------------------------------------------------------
def _shift(arr: pa.Array, by: np.ndarray) -> pa.Array:
    return pc.add(arr, pa.array(by).cast(arr.type))


def _move_ra(arr: pa.Array, by: np.ndarray) -> pa.Array:
    moved = pc.add(arr.cast(pa.float64()), pa.array(by))
    moved = pc.if_else(pc.greater_equal(moved, 360.0), pc.subtract(moved, 360.0), moved)
    return moved.cast(arr.type)


def _move_dec(arr: pa.Array, by: np.ndarray) -> pa.Array:
    moved = pc.add(arr.cast(pa.float64()), pa.array(by))
    moved = pc.if_else(pc.greater(moved, 90.0), pc.subtract(180.0, moved), moved)
    moved = pc.if_else(pc.less(moved, -90.0), pc.subtract(-180.0, moved), moved)
    return moved.cast(arr.type)


def _numeric(arr: pa.Array) -> bool:
    return pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)


def _move_struct(arr: pa.StructArray, days, dra, ddec, candid) -> pa.StructArray:
    """A struct array with its time, position and candid children moved, per row."""
    children, fields = [], [arr.type.field(i) for i in range(arr.type.num_fields)]
    for i, field in enumerate(fields):
        child = arr.field(i)
        if _numeric(child) and field.name in _TIME_FIELDS:
            child = _shift(child, days)
        elif _numeric(child) and field.name in _RA_FIELDS:
            child = _move_ra(child, dra)
        elif _numeric(child) and field.name in _DEC_FIELDS:
            child = _move_dec(child, ddec)
        elif field.name == "candid" and pa.types.is_integer(child.type):
            child = _shift(child, candid)
        children.append(child)
    mask = arr.is_null() if arr.null_count else None
    return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


def _move_list(arr: pa.Array, days, dra, ddec, candid) -> pa.Array:
    """A list<struct> column (history) moved: each element by the offsets of its row."""
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        return arr
    if not pa.types.is_struct(arr.type.value_type):
        return arr
    offsets = arr.offsets.to_numpy()
    start, stop = int(offsets[0]), int(offsets[-1])
    values = arr.values.slice(start, stop - start)
    parent = np.repeat(np.arange(len(arr)), np.diff(offsets))
    moved = _move_struct(values, days[parent], dra[parent], ddec[parent], candid[parent])
    mask = arr.is_null() if arr.null_count else None
    return type(arr).from_arrays(pa.array(offsets - start, arr.offsets.type), moved, mask=mask)


def make_part(group: pa.Table, rows: np.ndarray, copy: np.ndarray, copies: Copies,
              object_index: dict[str, int], cutouts: bool) -> pa.Table:
    """Alerts ``rows`` of a source group, each as the copy ``copy`` of itself."""
    part = group.take(pa.array(rows)).combine_chunks()
    days, dra, ddec = copies.days[copy], copies.dra[copy], copies.ddec[copy]
    candid = copy.astype(np.int64) * CANDID_STEP
    columns = {}
    for name, column in zip(part.column_names, part.columns):
        arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if name == "objectId":
            source = np.array([object_index[o] for o in arr.to_pylist()], dtype=np.int64)
            arr = copies.object_ids(copy, source).cast(arr.type)
        elif name == "candid" and pa.types.is_integer(arr.type):
            arr = _shift(arr, candid)
        elif name in _TIME_FIELDS and _numeric(arr):
            arr = _shift(arr, days)
        elif name == "timestamp" and pa.types.is_timestamp(arr.type):
            ticks = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[arr.type.unit] * 86400
            arr = pc.add(arr.cast(pa.int64()), pa.array((days * ticks).astype(np.int64))).cast(arr.type)
        elif name in _CUTOUT_COLUMNS:
            if not cutouts:
                arr = pa.nulls(len(arr), arr.type)
        elif pa.types.is_struct(arr.type) and name == "candidate":
            arr = _move_struct(arr, days, dra, ddec, candid)
        elif name in ("prv_candidates", "fp_hists"):
            arr = _move_list(arr, days, dra, ddec, candid)
        columns[name] = arr
    return pa.Table.from_arrays(list(columns.values()), schema=part.schema)


# -- Avro ---------------------------------------------------------------------------------------
def avro_schema(table: pa.Table) -> dict:
    """A Fink data-transfer-like Avro schema for an Arrow table.

    Scalars are ``["null", T]``; records, arrays and maps are nullable only where the data hold
    nulls, because fastavro validates a whole nested record to pick a union branch.
    """
    def convert(arr: pa.Array, name: str):
        arrow_type = arr.type
        if pa.types.is_dictionary(arrow_type):
            arr = arr.cast(arrow_type.value_type)
            arrow_type = arr.type
        if pa.types.is_null(arrow_type):
            return "null"
        if pa.types.is_boolean(arrow_type):
            return ["null", "boolean"]
        if pa.types.is_integer(arrow_type):
            return ["null", "long" if arrow_type.bit_width == 64 else "int"]
        if pa.types.is_float32(arrow_type) or pa.types.is_float16(arrow_type):
            return ["null", "float"]
        if pa.types.is_floating(arrow_type):
            return ["null", "double"]
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return ["null", "string"]
        if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
            return ["null", "bytes"]
        if pa.types.is_timestamp(arrow_type):
            return ["null", {"type": "long", "logicalType": "timestamp-micros"}]
        if pa.types.is_struct(arrow_type):
            avro_type = {
                "type": "record",
                "name": name,
                "fields": [
                    _field(f.name, convert(arr.field(i), f"{name}_{f.name}"))
                    for i, f in enumerate(arrow_type)
                ],
            }
        elif pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
            avro_type = {"type": "array", "items": convert(arr.flatten(), f"{name}_item")}
        elif pa.types.is_map(arrow_type):
            avro_type = {"type": "map", "values": convert(arr.items, f"{name}_value")}
        else:
            raise ValueError(f"no Avro type for {arrow_type}")
        return ["null", avro_type] if arr.null_count else avro_type

    def _field(field_name: str, avro_type):
        if isinstance(avro_type, list) or avro_type == "null":
            return {"name": field_name, "type": avro_type, "default": None}
        return {"name": field_name, "type": avro_type}

    return {
        "type": "record",
        "name": "alert",
        "namespace": "bench.generated",
        "fields": [
            _field(name, convert(column.combine_chunks(), f"alert_{name}"))
            for name, column in zip(table.column_names, table.columns)
        ],
    }


def write_avro(table: pa.Table, path: Path, codec: str = "null") -> None:
    import fastavro

    # Avro has no ns timestamps; Python datetimes carry us.
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
            column = column.cast(pa.timestamp("us", column.type.tz), safe=False)
        columns.append(column)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    schema = fastavro.parse_schema(avro_schema(table))
    with open(path, "wb") as fh:
        fastavro.writer(fh, schema, table.to_pylist(maps_as_pydicts="lossy"), codec=codec)


# -- the run -------------------------------------------------------------------------------------
_JOB: dict = {}  # what forked part writers need (set before the pool forks)


def _write_part(task: tuple[int, int, int]) -> dict:
    """Make and write one part: alerts [start, stop) of group ``g``'s share of the sequence."""
    g, start, stop = task
    job = _JOB
    rows, copy = job["rows"][g][start:stop], job["copy"][g][start:stop]
    table = make_part(job["groups"][g], rows, copy, job["copies"], job["object_index"], job["cutouts"])
    name = f"part-{job['first_part'][g] + start // job['part_size']:05d}-g{g:02d}"
    out = job["out"]
    pq.write_table(table, out / "parquet" / f"{name}.snappy.parquet", compression="snappy",
                   use_dictionary=False)  # unique alerts: copies must not share dictionary pages
    entry = {"file": f"{name}.snappy.parquet", "alerts": table.num_rows, "group": g}
    if job["avro"]:
        write_avro(table, out / "avro" / f"{name}.avro")
        entry["avro"] = f"{name}.avro"
    return entry


def generate(n: int, out: Path, *, seed: int = 1, source: Path = DEFAULT_SOURCE,
             part_size: int = PART_SIZE, cutouts: bool = True, avro: bool = False,
             jobs: int = 1, log=print) -> dict:
    """Write ``n`` alerts into ``out`` (replacing what was there); return the manifest."""
    started = time.perf_counter()
    groups = source_groups(source)
    if not groups:
        raise SystemExit(f"no alert Parquet file under {source}")
    sizes = [g.num_rows for g in groups]
    total = sum(sizes)
    names = sorted({o for g in groups for o in g.column("objectId").to_pylist()})
    object_index = {o: i for i, o in enumerate(names)}
    copies = Copies(seed, math.ceil(n / total), len(names))

    # The first n alerts of the endless sequence "copy 0 of every source alert, copy 1, ...",
    # split by source group (one schema per file), then into parts.
    sequence = np.arange(n)
    copy_of, position = sequence // total, sequence % total
    first_row = np.cumsum([0] + sizes)
    for path in (out / "parquet", out / "avro"):
        shutil.rmtree(path, ignore_errors=True)
    (out / "parquet").mkdir(parents=True, exist_ok=True)
    if avro:
        (out / "avro").mkdir(parents=True, exist_ok=True)
    rows, copy, first_part, tasks = [], [], [], []
    for g in range(len(groups)):
        mine = (position >= first_row[g]) & (position < first_row[g + 1])
        rows.append(position[mine] - first_row[g])
        copy.append(copy_of[mine])
        first_part.append(len(tasks))
        tasks += [(g, start, start + part_size) for start in range(0, int(mine.sum()), part_size)]
    _JOB.update(groups=groups, rows=rows, copy=copy, first_part=first_part, copies=copies,
                object_index=object_index, cutouts=cutouts, avro=avro, out=out, part_size=part_size)
    parts = []
    try:
        if jobs > 1:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for entry in pool.imap(_write_part, tasks):
                    parts.append(entry)
                    log(f"  {entry['file']}: {entry['alerts']} alerts ({time.perf_counter() - started:.0f} s)")
        else:
            for task in tasks:
                parts.append(entry := _write_part(task))
                log(f"  {entry['file']}: {entry['alerts']} alerts ({time.perf_counter() - started:.0f} s)")
    finally:
        _JOB.clear()
    manifest = {
        "alerts": n,
        "seed": seed,
        "source": str(source),
        "source_alerts": total,
        "source_objects": len(names),
        "copies": int(copy_of[-1]) + 1 if n else 0,
        "cutouts": cutouts,
        "avro": avro,
        "parts": parts,
        "seconds": round(time.perf_counter() - started, 1),
        "bytes_parquet": sum(p.stat().st_size for p in (out / "parquet").iterdir()),
        "bytes_avro": sum(p.stat().st_size for p in (out / "avro").iterdir()) if avro else 0,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of alerts (10000, 100000, 1000000)")
    parser.add_argument("--out", type=Path, help="folder (default bench/data/N)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="folder of real Fink alert Parquet files")
    parser.add_argument("--part-size", type=int, default=PART_SIZE)
    parser.add_argument("--avro", action="store_true", help="also write the alerts as Avro")
    parser.add_argument("--no-cutouts", action="store_true", help="write cutouts as nulls")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes writing parts (default: one per core)")
    args = parser.parse_args(argv)
    out = args.out or DATA_DIR / str(args.n)
    manifest = generate(args.n, out, seed=args.seed, source=args.source, part_size=args.part_size,
                        cutouts=not args.no_cutouts, avro=args.avro, jobs=args.jobs)
    print(f"{manifest['alerts']} alerts in {len(manifest['parts'])} parts, "
          f"{manifest['bytes_parquet'] / 1e6:.0f} MB Parquet"
          + (f", {manifest['bytes_avro'] / 1e6:.0f} MB Avro" if args.avro else "")
          + f", {manifest['seconds']} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

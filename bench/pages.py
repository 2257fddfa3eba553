"""The object page's first byte beside the ``objects`` query for the same object, same run; and
the light curve's data callback of the longest light curve.

    .venv/bin/python bench/pages.py [--sizes 100000] [--backends embedded[,hbase]] [--repeat R]

Uses the stores and the server of ``bench/api.py`` (N generated alerts + the real demo data;
gunicorn ``portal.wsgi``, 2 workers, ``DEBUG=false``), and a ``requests.Session`` client. Timed,
interleaved in one loop:

| operation | timed until | floor |
|---|---|---|
| object page ``/ZTF…`` | its first bytes: status line and headers (``stream=True``) | ``/api/v1/objects?objectId=…`` to the end of its body |
| Dash light curve callback (``_dash-update-component``, upper limits shown) | the end of the body | ``objects`` with ``withupperlim`` and the plot's columns (``objects.lightcurve.LIGHTCURVE_COLUMNS``) |

for the object with most alerts and the longest light curve (alerts + upper limits +
bad-quality points, 1,501 rows in these data). Target (``../shared/docs/PERFORMANCE.md``): page
first byte ≤ 1.5× the ``objects`` query; the callback's time and payload are reported. Results:
``bench/results/pages.json`` and ``.md``.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import requests

from bench.api import (
    REQUEST_TIMEOUT,
    SERVER_WORKERS,
    ApiResult,
    Server,
    _django,
    log,
    open_store,
)
from bench.common import print_table, write_results

PAGE_TARGET = 1.5
DASH_APP = "/django_plotly_dash/app/LightCurve/"


def timed_get(session: requests.Session, url: str, params=None, first_byte: bool = False) -> tuple[int, int]:
    """(ns to the response's first bytes, its status line and headers, or to the end of the body;
    body bytes) of one GET."""
    start = time.perf_counter_ns()
    with session.get(url, params=params, timeout=REQUEST_TIMEOUT, stream=True) as response:
        if first_byte:  # requests returns once the status line and headers are read
            took = time.perf_counter_ns() - start
        size = len(response.content)
        if not first_byte:
            took = time.perf_counter_ns() - start
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return took, size


def dash_update(session: requests.Session, base: str, object_id: str) -> tuple[int, int]:
    """(ns, bytes) of the light curve's data callback, as the iframe's first load sends it."""
    body = {
        "output": "..lc-graph.figure...lc-counts.children..",
        "outputs": [{"id": "lc-graph", "property": "figure"}, {"id": "lc-counts", "property": "children"}],
        "inputs": [
            {"id": "url", "property": "search", "value": f"?objectId={object_id}"},
            {"id": "lc-options", "property": "value", "value": ["upperlim"]},
            {"id": "lc-mode", "property": "value", "value": "mag"},
        ],
        "changedPropIds": ["url.search"],
        "state": [],
    }
    start = time.perf_counter_ns()
    response = session.post(f"{base}{DASH_APP}_dash-update-component", json=body, timeout=REQUEST_TIMEOUT)
    took = time.perf_counter_ns() - start
    if response.status_code != 200:
        raise RuntimeError(f"dash callback: HTTP {response.status_code}: {response.text[:300]}")
    return took, len(response.content)


def interleaved(fns, repeat: int, warmup: int = 2) -> list[list[int]]:
    """Like bench.common.measure_interleaved, for functions that time themselves ((ns, bytes))."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    gc.collect()
    samples: list[list[int]] = [[] for _ in fns]
    for i in range(repeat):
        for j in range(len(fns)):
            k = (i + j) % len(fns)
            samples[k].append(fns[k]()[0])
    return samples


def run_backend(backend: str, size: int, settings: dict, picks: dict, repeat: int) -> tuple[list, list]:
    from objects.lightcurve import LIGHTCURVE_COLUMNS

    results, details = [], []
    with Server(settings) as server:
        log(f"  server {server.base} ({SERVER_WORKERS} gunicorn workers)")
        session = requests.Session()
        base = server.base
        objects_url = f"{base}/api/v1/objects"
        lightcurve_columns = ",".join(LIGHTCURVE_COLUMNS)
        for label, oid, rows, what in (
            ("most alerts", picks["typical"], picks["typical_alerts"], f"{picks['typical_alerts']} alerts"),
            ("longest light curve", picks["longest"], picks["longest_rows"],
             f"{picks['longest_rows']:,} light-curve rows"),
        ):
            page = lambda oid=oid: timed_get(session, f"{base}/{oid}", first_byte=True)
            page_full = lambda oid=oid: timed_get(session, f"{base}/{oid}")
            query = lambda oid=oid: timed_get(session, objects_url, {"objectId": oid})
            query_lc = lambda oid=oid: timed_get(
                session, objects_url, {"objectId": oid, "withupperlim": "true", "columns": lightcurve_columns})
            dash = lambda oid=oid: dash_update(session, base, oid)
            sizes = {name: fn()[1] for name, fn in (("page", page_full), ("objects", query),
                                                     ("objects withupperlim", query_lc), ("dash", dash))}
            for _ in range(2 * SERVER_WORKERS):  # both workers warm
                for fn in (page, query, query_lc, dash):
                    fn()
            n = repeat if rows < 100 else max(10, repeat // 2)
            log(f"  {oid} ({label}): {n} samples; bytes {sizes}")
            t_page, t_full, t_query, t_lc, t_dash = interleaved([page, page_full, query, query_lc, dash], n)
            name = f"{oid} ({label})"
            results.append(ApiResult(f"page first byte {name}", backend, t_page, t_query, ratio_max=PAGE_TARGET,
                                     note="floor: the objects query (default parameters), to the end of its body"))
            results.append(ApiResult("  ↳ whole page vs objects", backend, t_full, t_query,
                                     note="diagnostic: the page to the end of its body"))
            results.append(ApiResult(f"light-curve callback {name}", backend, t_dash, t_lc,
                                     note="floor: objects withupperlim, the plot's columns"))
            details.append({"object": oid, "label": label, "backend": backend, "size": size,
                            "rows": what, "bytes": sizes})
    return results, details


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000", help="generated alerts per store, comma-separated")
    parser.add_argument("--backends", default="embedded", help="embedded, hbase (comma-separated)")
    parser.add_argument("--repeat", type=int, default=60, help="samples per object (the longest: ½×)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the embedded stores")
    parser.add_argument("--output", default="pages", help="bench/results/<name>.json and .md")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - {"embedded", "hbase"}:
        parser.error("backends: embedded, hbase")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    _django()

    load_before = os.getloadavg()
    results, details, skipped = [], [], []
    for size in sizes:
        for backend in backends:
            log(f"{size:,} alerts, {backend}:")
            with open_store(size, backend, args.rebuild) as opened:
                if opened is None:
                    skipped.append(f"SKIP {backend}: not reachable")
                    continue
                settings, info = opened
                res, det = run_backend(backend, size, settings, info["picks"], args.repeat)
            for r in res:
                if len(sizes) > 1 and not r.operation.startswith("  ↳"):
                    r.operation = f"[{size:,}] {r.operation}"
            results += res
            details += det
    load_after = os.getloadavg()
    if not results:
        return 0
    print()
    print_table(results)
    print()
    for d in details:
        print(f"{d['backend']} {d['size']:,}: {d['object']} ({d['label']}, {d['rows']}): bytes {d['bytes']}")
    command = ".venv/bin/python bench/pages.py " + " ".join(argv if argv is not None else sys.argv[1:])
    notes = [
        (f"server: gunicorn portal.wsgi, {SERVER_WORKERS} sync workers, DEBUG=false; client: one requests.Session, "
        "sequential requests, interleaved (page first byte, whole page, objects, objects withupperlim, callback)."),
        ("page first byte: GET /<objectId> with stream=True, timed until the status line and headers are "
        "read (Django renders the whole page before sending anything, so this is the server's whole "
        "work); floor: GET "
        "/api/v1/objects?objectId=<id> to the end of its body."),
        ("light-curve callback: POST _dash-update-component as the iframe's first load (upper limits on, "
        "difference magnitudes); floor: objects with withupperlim=true and the plot's 10 columns."),
        *[f"{d['object']}: bytes {d['bytes']}" for d in details],
        (f"load average (1, 5, 15 min): {tuple(round(x, 2) for x in load_before)} before, "
        f"{tuple(round(x, 2) for x in load_after)} after."),
        *skipped,
    ]
    json_path, md_path = write_results(args.output, results, command=command.strip(),
                                       meta={"details": details, "loadavg_before": load_before,
                                             "loadavg_after": load_after}, notes=notes)
    print(f"\nwrote {json_path.relative_to(ROOT)} and {md_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

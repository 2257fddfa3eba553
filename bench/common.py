"""Shared helpers for the benchmarks in bench/ (see ../shared/docs/PERFORMANCE.md).

Every benchmark measures an operation *and* a floor (the least work doing the same thing, usually
the raw engine) in the same run on the same data, and reports both with their ratio:

    from bench.common import Result, measure_pair, print_table, write_results

    adapter, floor = measure_pair(lambda: manager.get(key), lambda: raw_get(key), repeat=500)
    results = [Result("point read", "embedded", adapter, floor, target=1.5)]
    print_table(results)
    write_results("store", results, command="...")

Benchmarks that go over HTTP (bench/api.py, bench/pages.py) start the portal under gunicorn with
:class:`Server`.

Samples are nanoseconds from ``time.perf_counter_ns``. Adapter and floor samples are interleaved
(A, F, A, F, ...) so that both see the same machine noise on these shared machines. Benchmarks
are not timed tests: nothing here asserts a time, ``ok`` is only reported.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
SERVER_WORKERS = 2
GUNICORN_TIMEOUT = 60

COLUMNS = (
    "operation",
    "backend",
    "adapter p50",
    "adapter p95",
    "floor p50",
    "floor p95",
    "ratio (p50)",
    "target",
    "ok",
)


# -- timing ------------------------------------------------------------------------------------
def time_once(fn: Callable[[], Any]) -> int:
    """Nanoseconds taken by one call of ``fn``."""
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def measure(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> list[int]:
    """``repeat`` samples (ns) of ``fn()`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    gc.collect()
    return [time_once(fn) for _ in range(repeat)]


def measure_interleaved(
    fns: Sequence[Callable[[], Any]],
    repeat: int,
    warmup: int = 3,
    between: Callable[[], Any] | None = None,
    timer: Callable[[Callable[[], Any]], int] = time_once,
) -> list[list[int]]:
    """``repeat`` samples (ns) of each of ``fns``, interleaved so all share the machine's noise.

    Sample i runs the functions in a rotated order, so no function always runs first (on a cache
    another one warmed, or right after another one's garbage). ``between`` (untimed) runs after
    every timed call, e.g. to delete the rows a write sample made so the next one starts from the
    same state. ``timer(fn)`` takes one sample; by default the wall time of the call, but
    functions that time themselves (a request timed to its first byte) can say what to count.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
            if between:
                between()
    gc.collect()
    samples: list[list[int]] = [[] for _ in fns]
    n = len(fns)
    for i in range(repeat):
        for j in range(n):
            k = (i + j) % n
            samples[k].append(timer(fns[k]))
            if between:
                between()
    return samples


def measure_pair(
    adapter: Callable[[], Any],
    floor: Callable[[], Any],
    repeat: int,
    warmup: int = 3,
    between: Callable[[], Any] | None = None,
) -> tuple[list[int], list[int]]:
    """Samples of ``adapter()`` and ``floor()``, interleaved (see :func:`measure_interleaved`)."""
    a, f = measure_interleaved([adapter, floor], repeat, warmup, between)
    return a, f


def percentile(samples: Sequence[int], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not samples:
        return float("nan")
    data = sorted(samples)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def p50_p95(samples: Sequence[int]) -> tuple[float, float]:
    return percentile(samples, 50), percentile(samples, 95)


def fmt_ns(ns: float) -> str:
    """A duration in the unit that keeps 3 significant digits readable."""
    if math.isnan(ns):
        return "-"
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.3g} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.3g} ms"
    return f"{ns / 1_000_000_000:.3g} s"


# -- results -----------------------------------------------------------------------------------
@dataclass
class Result:
    """One operation on one backend: adapter and floor samples (ns) and the target ratio."""

    operation: str
    backend: str
    adapter: list[int]
    floor: list[int]
    target: float | None = None  # max adapter/floor p50 ratio; None: reported only
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def adapter_p50(self) -> float:
        return percentile(self.adapter, 50)

    @property
    def adapter_p95(self) -> float:
        return percentile(self.adapter, 95)

    @property
    def floor_p50(self) -> float:
        return percentile(self.floor, 50)

    @property
    def floor_p95(self) -> float:
        return percentile(self.floor, 95)

    @property
    def ratio(self) -> float:
        return self.adapter_p50 / self.floor_p50 if self.floor_p50 else float("nan")

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.ratio <= self.target

    def cells(self) -> list[str]:
        ok = self.ok
        return [
            self.operation,
            self.backend,
            fmt_ns(self.adapter_p50),
            fmt_ns(self.adapter_p95),
            fmt_ns(self.floor_p50),
            fmt_ns(self.floor_p95),
            f"{self.ratio:.2f}×",
            "-" if self.target is None else f"≤ {self.target:g}×",
            "-" if ok is None else ("ok" if ok else "NOT OK"),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "backend": self.backend,
            "samples": len(self.adapter),
            "adapter_p10_ns": percentile(self.adapter, 10),
            "adapter_p50_ns": self.adapter_p50,
            "adapter_p95_ns": self.adapter_p95,
            "floor_p10_ns": percentile(self.floor, 10),
            "floor_p50_ns": self.floor_p50,
            "floor_p95_ns": self.floor_p95,
            "ratio_p50": self.ratio,
            # p10 is steadier than p50 when other jobs preempt about half the samples
            "ratio_p10": percentile(self.adapter, 10) / percentile(self.floor, 10)
            if self.floor
            else None,
            "target": self.target,
            "ok": self.ok,
            "note": self.note,
            **({"extra": self.extra} if self.extra else {}),
        }


def _widths(rows: Iterable[Sequence[str]]) -> list[int]:
    widths = [len(c) for c in COLUMNS]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    return widths


def format_table(results: Sequence[Result]) -> str:
    """A plain-text table for the terminal."""
    rows = [r.cells() for r in results]
    widths = _widths(rows)
    right = set(range(2, len(COLUMNS)))

    def line(cells):
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        )

    out = [line(COLUMNS), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def print_table(results: Sequence[Result], file=None) -> None:
    print(format_table(results), file=file or sys.stdout, flush=True)


def markdown_table(results: Sequence[Result]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |"
    sep = "|" + "|".join(["---", "---"] + ["---:"] * (len(COLUMNS) - 2)) + "|"
    body = ["| " + " | ".join(r.cells()) + " |" for r in results]
    return "\n".join([head, sep, *body])


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def write_results(
    name: str,
    results: Sequence[Result],
    command: str = "",
    meta: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> tuple[Path, Path]:
    """Write ``bench/results/<name>.json`` and ``bench/results/<name>.md``; return both paths."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    when = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    info = machine()
    payload = {
        "name": name,
        "date": when,
        "command": command,
        "machine": info,
        "meta": meta or {},
        "results": [r.as_dict() for r in results],
        "notes": list(notes),
    }
    json_path = RESULTS_DIR / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md = [
        f"Measured {when[:10]} on {info['cores']} cores ({info['platform']}, Python {info['python']}).",
        "",
    ]
    if command:
        md += [f"Command: `{command}`", ""]
    md.append(markdown_table(results))
    if notes:
        md += ["", *[f"- {n}" for n in notes]]
    md_path = RESULTS_DIR / f"{name}.md"
    md_path.write_text("\n".join(md) + "\n")
    return json_path, md_path


# -- the portal over HTTP ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving ``app`` (by default ``portal.wsgi``) over a store, on a free local port;
    stopped on exit.

    ``store_settings`` are a store's settings (``BACKEND`` with ``PATH`` or the ``HBASE_*`` keys).
    The server has a migrated SQLite of its own, ``DEBUG=false`` and no anonymous throttle; it
    is up once a GET of ``ready_path`` answers 200.
    """

    def __init__(self, store_settings: dict[str, Any], workers: int = SERVER_WORKERS, app: str = "portal.wsgi",
                 ready_path: str = "/api/v1/ping"):
        self.store_settings = store_settings
        self.workers = workers
        self.app = app
        self.ready_path = ready_path
        self.process: subprocess.Popen | None = None
        self.folder = tempfile.mkdtemp(prefix="bench-api-server-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        s = self.store_settings
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            STORE_BACKEND=s["BACKEND"],
            API_THROTTLE_ANON="none",
            DEBUG="false",
            SECRET_KEY=f"bench-api-{uuid.uuid4().hex}",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=f"sqlite:///{self.folder}/portal.sqlite3",
            LOG_LEVEL="WARNING",
        )
        if s["BACKEND"] == "embedded":
            env["STORE_PATH"] = s["PATH"]
        else:
            env.update(HBASE_HOST=str(s["HBASE_HOST"]), HBASE_PORT=str(s["HBASE_PORT"]),
                       HBASE_TABLE_PREFIX=s["HBASE_TABLE_PREFIX"], HBASE_TIMEOUT_MS=str(s["HBASE_TIMEOUT_MS"]))
        return env

    def __enter__(self) -> Self:
        import requests

        env = self.env()
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        self.errors = open(Path(self.folder) / "gunicorn.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", self.app, "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}", "--timeout", str(GUNICORN_TIMEOUT), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.errors, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}{self.ready_path}", timeout=5).status_code == 200:
                    return self
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"gunicorn did not answer within 90 s: {self.log_tail()}")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (Path(self.folder) / "gunicorn.log").read_text()[-2000:]
        return ""

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own session only
                self.process.wait()
        with contextlib.suppress(Exception):
            self.errors.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def hbase_reachable(host: str | None = None, port: int | None = None) -> bool:
    """Whether an HBase Thrift server answers (``HBASE_HOST``/``HBASE_PORT``, 127.0.0.1:9090 by default)."""
    host = host or os.environ.get("HBASE_HOST", "127.0.0.1")
    port = port or int(os.environ.get("HBASE_PORT", "9090"))
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def demo_files() -> list[str]:
    """Every alert file of the demo data (../shared/data or PORTAL_DATA)."""
    from alerts.datadir import find_data_dir
    from alerts.ingest import expand_paths

    found = find_data_dir()
    if found is None:
        raise SystemExit("no demo data (../shared/data or PORTAL_DATA)")
    files, _ = expand_paths([str(found)])
    return [str(f) for f in files]

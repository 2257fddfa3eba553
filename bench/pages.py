"""The object page: its first byte beside the ``objects`` query for the same object, the light
curve's data callback, and the page in headless Chromium (load to plot drawn, plotly
interactions, a click on an alert to its cutouts), each beside its floor, in the same run.

    .venv/bin/python bench/pages.py [--sizes 100000] [--backends embedded[,hbase]] [--repeat R]
                                    [--parts http,browser] [--browser-repeat B]

Uses the stores and the server of ``bench/api.py`` (N generated alerts + the real demo data;
gunicorn ``portal.wsgi``, 2 workers, ``DEBUG=false``), and a ``requests.Session`` client. Timed,
interleaved in one loop (``http``):

| operation | timed until | floor |
|---|---|---|
| object page ``/ZTF…`` | its first bytes: status line and headers (``stream=True``) | ``/api/v1/objects?objectId=…`` to the end of its body |
| Dash light curve callback (``_dash-update-component``, upper limits shown) | the end of the body | ``objects`` with ``withupperlim`` and the plot's columns (``objects.lightcurve.LIGHTCURVE_COLUMNS``) |

for the object with most alerts and the longest light curve (alerts + upper limits +
bad-quality points, 1,501 rows in these data). Target (``../shared/docs/PERFORMANCE.md``): page
first byte ≤ 1.5× the ``objects`` query; the callback's time and payload are reported.

In the browser (``browser``; Playwright driving /usr/bin/chromium as tests/web/test_browser.py
does, against the same gunicorn set-up with Django serving the static files), for those two
objects and the one with most detections (its bad-quality points shown):

| operation | timed | floor |
|---|---|---|
| load → plot drawn | navigation start to the light curve's points in the DOM, new profile and again warm | a blank page: plotly.js + the same callback + ``Plotly.newPlot`` |
| legend click (hide / show the largest trace), zoom (relayout and back) | the plotly call to the next frame | the same call on the floor page's graph |
| bad-quality points on/off | a click on the app's checkbox to the plot redrawn | the visible flags flipped + ``Plotly.react`` |
| click on an alert → cutouts | mouse press on a plotted alert to its three stamps loaded | the three cutout URLs fetched at once |

Target for the interactions: p95 ≤ 100 ms (RAIL: a response within 100 ms reads as
immediate). Results: ``bench/results/pages.json`` and ``.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import requests

from bench.api import (
    MS,
    REQUEST_TIMEOUT,
    ApiResult,
    _django,
    log,
    parse_store_arguments,
    run_stores,
)
from bench.common import (
    SERVER_WORKERS,
    Server,
    measure_interleaved,
    print_table,
    write_results,
)

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


def dash_body(object_id: str, options: tuple[str, ...] = ("upperlim",), mode: str = "mag") -> dict[str, Any]:
    """The light curve's data callback as the iframe sends it (first load: upper limits shown).

    It answers the figure with every layer (``lc-figure``); the checkboxes' state only sets which
    are visible, and the browser flips those flags itself afterwards."""
    return {
        "output": "..lc-figure.data...lc-counts.children..",
        "outputs": [{"id": "lc-figure", "property": "data"}, {"id": "lc-counts", "property": "children"}],
        "inputs": [
            {"id": "url", "property": "search", "value": f"?objectId={object_id}"},
            {"id": "lc-mode", "property": "value", "value": mode},
        ],
        "changedPropIds": ["url.search"],
        "state": [{"id": "lc-options", "property": "value", "value": list(options)}],
    }


def dash_update(session: requests.Session, base: str, object_id: str) -> tuple[int, int]:
    """(ns, bytes) of the light curve's data callback, as the iframe's first load sends it."""
    start = time.perf_counter_ns()
    response = session.post(f"{base}{DASH_APP}_dash-update-component", json=dash_body(object_id),
                            timeout=REQUEST_TIMEOUT)
    took = time.perf_counter_ns() - start
    if response.status_code != 200:
        raise RuntimeError(f"dash callback: HTTP {response.status_code}: {response.text[:300]}")
    return took, len(response.content)


def interleaved(fns, repeat: int, warmup: int = 2) -> list[list[int]]:
    """bench.common.measure_interleaved for functions that time themselves ((ns, bytes))."""
    return measure_interleaved(fns, repeat, warmup, timer=lambda fn: fn()[0])


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

# -- in the browser ---------------------------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # as the browser tests (tests/web/conftest.py)
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
#: An answer to a click within 100 ms reads as immediate (the RAIL model's "response").
INTERACTION_P95_NS = 100 * MS
#: A static file (dcc.Graph's full plotly.js bundle): the browser server is up once it serves it.
STATIC_PROBE = "dash/component/plotly/package_data/plotly.min.js"

#: In a frame: the time (ms since the epoch) once the light curve's plot holds the callback's
#: data and has drawn points (SVG points or a WebGL canvas), else false.
DRAWN_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullData || !gd.data || !gd.data.length) return false;
  const drawn = gd.querySelector('.scatterlayer .point, .gl-container canvas');
  return drawn ? performance.timeOrigin + performance.now() : false;
}"""

#: In a frame: time (ms) of plotly operations on its graph, each from the call to the next frame
#: after it (requestAnimationFrame + a task: the work and the paint it asked for).
INTERACT_JS = """async ([op, reps]) => {
  const gd = document.querySelector('.js-plotly-plot');
  const settle = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  const time = async (f) => { await settle(); const t0 = performance.now(); await f(); await settle(); return performance.now() - t0; };
  const sizes = gd.data.map(t => t.visible === false ? -1 : (t.x || []).length);  // hidden layers: not these
  const big = sizes.indexOf(Math.max(...sizes));
  const xa = gd._fullLayout.xaxis, [lo, hi] = xa.range.map(xa.r2l);
  const out = [];
  for (let i = 0; i < reps; i++) {
    if (op === 'hide') {
      out.push(await time(() => Plotly.restyle(gd, {visible: 'legendonly'}, [big])));
      await Plotly.restyle(gd, {visible: true}, [big]);
    } else if (op === 'show') {
      await Plotly.restyle(gd, {visible: 'legendonly'}, [big]);
      out.push(await time(() => Plotly.restyle(gd, {visible: true}, [big])));
    } else if (op === 'zoom') {
      const a = lo + (hi - lo) * (0.1 + 0.05 * (i % 3));
      out.push(await time(() => Plotly.relayout(gd, {'xaxis.range': [xa.l2r(a), xa.l2r(a + (hi - lo) / 2)]})));
      out.push(await time(() => Plotly.relayout(gd, {'xaxis.autorange': true, 'yaxis.autorange': gd.layout.yaxis.autorange === 'reversed' || gd._fullLayout.yaxis.autorange === 'reversed' ? 'reversed' : true})));
    }
  }
  return out;
}"""

#: The least a page can do to draw the same light curve: plotly.js and the same callback's
#: answer (fetched while plotly.js loads), drawn with Plotly.newPlot; no Dash.
FLOOR_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><div id="gd" style="width:{width}px;height:430px"></div>
<script>
window.shown = (figure, options) => ({{layout: figure.layout, data: figure.data.map(t =>
  Object.assign({{}}, t, {{visible: t.meta === "valid" || options.includes(t.meta)}}))}});
window.figure = fetch({callback}, {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({body})}}).then(r => r.json()).then(j => j.response["lc-figure"].data);
</script>
<script src={plotly}></script>
<script>
window.figure.then(f => {{ window.full = f; const s = window.shown(f, {options});
  return Plotly.newPlot("gd", s.data, Object.assign({{}}, s.layout, {{width: {width}, height: 430}}), {{displaylogo: false}}); }})
  .then(() => {{ window.drawnAt = performance.timeOrigin + performance.now(); }});
</script></body></html>"""


BROWSER_NOTES = [
    ("browser: headless Chromium (Playwright, /usr/bin/chromium, WebGL by SwiftShader), 1280×900, against "
     "gunicorn with Django serving the static files (bench.pages:static_application()), same workers."),
    ("load → plot drawn: navigation start to the light curve's points in the DOM (polled every frame); cold: "
     "a new browser profile; warm: the page again in it. Floor: a blank page that fetches the same "
     "callback while plotly.js loads, then Plotly.newPlot (no Dash, no page around it)."),
    ("legend click / zoom: Plotly.restyle (visible) of the largest trace and Plotly.relayout, in the "
     "page's frame, timed to the next frame after (rAF + task); plotly's own legend click waits 300 ms "
     "first (its double-click delay), not counted. Floor: the same call on the floor page's graph. "
     "Target: p95 ≤ 100 ms (RAIL: a response within 100 ms reads as immediate)."),
    ("click → cutouts: mouse press on an alert of the plot (real mouse events, browser cache off) to the "
     "three cutout images loaded (or failed) in the page; floor: the three cutout URLs fetched at once."),
    ("bad-quality points on/off: a click on the app's checkbox to the plot redrawn (the browser flips the "
     "traces' visible flags: no request); floor: the same flags flipped on the floor page + Plotly.react."),
]


def static_application():
    """``portal.wsgi`` with Django serving the static files, for the browser runs.

    With ``DEBUG=false`` Django serves none, and the page needs Dash's and plotly's scripts (a
    reverse proxy serves them in production). Gunicorn calls this: ``bench.pages:static_application()``.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    return StaticFilesHandler(get_wsgi_application())


def browser_server(settings: dict) -> Server:
    """bench.common's gunicorn server, serving the static files too (:func:`static_application`);
    up once it serves one of them."""
    return Server(settings, app="bench.pages:static_application()", ready_path=f"/static/{STATIC_PROBE}")


def _ns(ms_values) -> list[int]:
    return [int(v * MS) for v in ms_values]


class BrowserBench:
    """One object's page in headless Chromium: load to plot drawn, plotly interactions, a click
    on an alert to its cutouts, and an option toggled; each beside its floor."""

    def __init__(self, browser, base: str, object_id: str, bad_quality: bool = False):
        from django.templatetags.static import static

        from objects import dash_apps

        self.browser, self.base, self.object_id = browser, base, object_id
        self.bad_quality = bad_quality  # interactions and clicks with the bad-quality points shown
        self.options = ("upperlim", "badquality") if bad_quality else ("upperlim",)
        # The floor draws with the plotly.js the app loads (before it named one: dcc.Graph's own).
        self.plotly = static(getattr(dash_apps, "PLOTLY_JS", STATIC_PROBE))
        self.floor_url = f"{base}/__bench/plot-floor"

    # -- pages ------------------------------------------------------------------------------------
    # The page and its floor each get a context (a window) of their own: a second page of the same
    # window is a background tab once the other has run script, and its timers wait a second.
    def context(self):
        context = self.browser.new_context(viewport=VIEWPORT, base_url=self.base)
        context.route(self.floor_url, lambda route: route.fulfill(body=self.floor_html, content_type="text/html"))
        return context

    def open_page(self, context, bad_quality: bool = False):
        """The object page, once its plot is drawn: (page, light-curve frame, ms to the plot);
        with ``bad_quality``, once the plot has been redrawn with the bad-quality points."""
        page = context.new_page()
        page.goto(f"/{self.object_id}", wait_until="commit")
        frame = page.wait_for_selector("#lightcurve-frame").content_frame()
        drawn = frame.wait_for_function(DRAWN_JS, polling="raf", timeout=60_000).json_value()
        if bad_quality:
            frame.locator("#lc-options label", has_text="bad-quality").click()
            frame.wait_for_function("() => document.querySelector('.js-plotly-plot').data"
                                    ".some(t => (t.name || '').includes('bad quality'))", timeout=30_000)
        return page, frame, drawn - page.evaluate("performance.timeOrigin")

    def open_floor(self, context, width: int):
        page = context.new_page()
        page.goto(self.floor_url, wait_until="commit")
        drawn = page.wait_for_function("() => window.drawnAt || false", polling="raf", timeout=60_000).json_value()
        return page, drawn - page.evaluate("performance.timeOrigin")

    def prepare(self) -> None:
        """The plot's width (the floor draws at the same size) and the floor page."""
        context = self.browser.new_context(viewport=VIEWPORT, base_url=self.base)
        try:
            _, frame, _ = self.open_page(context, self.bad_quality)
            self.width = int(frame.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.width"))
            self.traces = frame.evaluate(
                "() => document.querySelector('.js-plotly-plot').data.map(t => [t.type, t.name, (t.x || []).length])")
        finally:
            context.close()
        self.floor_html = FLOOR_PAGE.format(
            width=self.width, plotly=json.dumps(self.plotly),
            callback=json.dumps(f"{DASH_APP}_dash-update-component"),
            body=json.dumps(dash_body(self.object_id, self.options)), options=json.dumps(list(self.options)))

    # -- measurements -----------------------------------------------------------------------------
    def loads(self, repeat: int) -> dict[str, list[float]]:
        """ms from navigation start to the plot drawn: cold (a new browser profile, empty cache)
        and warm (the page again in the same profile), the page and the floor interleaved."""
        out: dict[str, list[float]] = {"cold": [], "warm": [], "floor cold": [], "floor warm": []}
        for i in range(repeat):
            for kind in (("page", "floor") if i % 2 == 0 else ("floor", "page")):
                context = self.context()
                try:
                    for temperature in ("cold", "warm"):
                        if kind == "page":
                            page, _, took = self.open_page(context)
                        else:
                            page, took = self.open_floor(context, self.width)
                        page.close()
                        out[temperature if kind == "page" else f"floor {temperature}"].append(took)
                finally:
                    context.close()
        return out

    def interactions(self, repeat: int) -> dict[str, list[float]]:
        """ms of plotly's legend click (hide / show the largest trace shown: the restyle the legend
        does once its double-click wait is over) and of a zoom (relayout to half the range, and
        back), on the page's graph and on the floor page's, interleaved."""
        context, floor_context = self.context(), self.context()
        try:
            page, frame, _ = self.open_page(context, self.bad_quality)
            page.wait_for_load_state("load")
            floor, _ = self.open_floor(floor_context, self.width)
            out: dict[str, list[float]] = {}
            for i in range(repeat):
                for op in ("hide", "show", "zoom"):
                    for name, target in (("page", frame), ("floor", floor))[:: 1 if i % 2 == 0 else -1]:
                        out.setdefault(f"{name} {op}", []).extend(target.evaluate(INTERACT_JS, [op, 1]))
            return out
        finally:
            context.close()
            floor_context.close()

    def clicks(self, repeat: int) -> dict[str, list[float]]:
        """ms from the mouse press on an alert of the plot to its three cutouts loaded in the
        page (or failed: generated objects may have none); floor: the same three cutout
        requests fetched at once by the page. The browser cache is off (every click asks)."""
        context = self.context()
        out: dict[str, list[float]] = {"page": [], "floor": []}
        try:
            page, frame, _ = self.open_page(context, self.bad_quality)
            page.wait_for_load_state("load")
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            frame.evaluate("() => document.addEventListener('mousedown',"
                           " e => { window.downAt = performance.timeOrigin + e.timeStamp; }, true)")
            alerts = frame.evaluate("""() => document.querySelector('.js-plotly-plot').data
                .map((t, k) => [k, t.customdata ? t.customdata.length : 0]).filter(([k, n]) => n > 0)""")
            points = [(k, i) for k, n in alerts for i in range(n)]
            if not points:
                return out
            page.locator("#lightcurve-frame").scroll_into_view_if_needed()
            box = page.locator("#lightcurve-frame").bounding_box()
            misses = 0
            for i in range(repeat + 2 * len(points)):
                if len(out["page"]) == repeat or misses > len(points):
                    break
                trace, index = points[i % len(points)]
                x, y = frame.evaluate("""([k, i]) => {
                    const gd = document.querySelector('.js-plotly-plot'), t = gd._fullData[k];
                    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
                    return [r.left + xa._offset + xa.c2p(xa.d2c(t.x[i])),
                            r.top + ya._offset + ya.c2p(ya.d2c(t.y[i]))]; }""", [trace, index])
                # Points close together: the click shows the alert plotly picks, whichever it is.
                page.evaluate("""() => {
                    const imgs = [...document.querySelectorAll('img.cutout')];
                    imgs.forEach(img => img.removeAttribute('src'));
                    window.cutoutsAt = new Promise(resolve => {
                      const done = new Map();
                      imgs.forEach(img => ['load', 'error'].forEach(kind => img.addEventListener(kind, () => {
                        const candid = img.src && new URL(img.src).searchParams.get('candid');
                        if (!candid) return;
                        done.set(img, candid);
                        if (done.size === imgs.length && new Set(done.values()).size === 1) {
                          resolve(performance.timeOrigin + performance.now());
                        }
                      })));
                    }); }""")
                page.wait_for_timeout(400)  # two clicks within 300 ms are plotly's double click
                page.mouse.move(box["x"] + x, box["y"] + y)
                page.wait_for_timeout(50)  # the hover settles, as under a hand
                page.mouse.click(box["x"] + x, box["y"] + y)
                done = page.evaluate("() => Promise.race([window.cutoutsAt,"
                                     " new Promise(r => setTimeout(() => r(null), 5000))])")
                if done is None:  # plotly picked a point with no alert (an upper limit on top)
                    misses += 1
                    continue
                out["page"].append(done - frame.evaluate("window.downAt"))
                out["floor"].append(page.evaluate("""() => {
                    const t0 = performance.now();
                    return Promise.all([...document.querySelectorAll('img.cutout')].map(img =>
                      fetch(img.src, {cache: 'no-store'}).then(r => r.blob())))
                      .then(() => performance.now() - t0); }"""))
            if not out["page"]:
                raise RuntimeError(f"{self.object_id}: no click on a plotted alert showed its cutouts")
            return out
        finally:
            context.close()

    def toggles(self, repeat: int) -> dict[str, list[float]]:
        """ms from a click on "bad-quality points" to the plot redrawn with (or without) them.
        Floor: the floor page's figure with those traces' visible flags flipped, Plotly.react."""
        context, floor_context = self.context(), self.context()
        out: dict[str, list[float]] = {"page": [], "floor": []}
        try:
            page, frame, _ = self.open_page(context)
            page.wait_for_load_state("load")
            floor, _ = self.open_floor(floor_context, self.width)
            for i in range(2 * repeat):
                shown = i % 2 == 0  # bad-quality points shown after this click
                out["page"].append(frame.evaluate("""async () => {
                    const gd = document.querySelector('.js-plotly-plot');
                    const settle = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
                    await settle();
                    const before = gd.data, t0 = performance.now();
                    [...document.querySelectorAll('#lc-options label')].find(l => l.textContent.includes('bad-quality')).querySelector('input').click();
                    while (gd.data === before && performance.now() < t0 + 15000) {
                      await new Promise(r => requestAnimationFrame(r));
                    }
                    await settle();
                    return performance.now() - t0; }"""))
                options = ["upperlim", "badquality"] if shown else ["upperlim"]
                out["floor"].append(floor.evaluate("""async ([options, width]) => {
                    const settle = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
                    await settle();
                    const t0 = performance.now();
                    const f = window.shown(window.full, options);
                    await Plotly.react('gd', f.data, Object.assign({}, f.layout, {width: width, height: 430}));
                    await settle();
                    return performance.now() - t0; }""", [options, self.width]))
            return out
        finally:
            context.close()
            floor_context.close()


def most_detections(size: int) -> str | None:
    """The object with most detections (alerts + bad-quality history points) in the embedded
    store of this size (the HBase one holds the same data), read from its keys; None if none."""
    from collections import Counter

    import lmdb

    from bench import generate

    path = generate.DATA_DIR / str(size) / "api-store-embedded"
    if not path.exists():
        return None
    env = lmdb.open(str(path), readonly=True, lock=False, max_dbs=128, map_size=1 << 40)
    try:
        counts: Counter = Counter()
        with env.begin() as txn:
            for table in ("ztf", "bad_quality"):
                db = env.open_db(table.encode(), txn=txn, create=False)
                for key in txn.cursor(db).iternext(values=False):
                    counts[key.rpartition(b"_")[0]] += 1
    finally:
        env.close()
    return max(counts.items(), key=lambda item: (item[1], item[0]))[0].decode() if counts else None


def run_browser(backend: str, size: int, settings: dict, picks: dict, repeat: int) -> tuple[list, list]:
    """The object pages of ``picks`` in headless Chromium (see :class:`BrowserBench`)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log("  SKIP browser: playwright is not installed")
        return [], []
    if not Path(CHROMIUM).exists():
        log(f"  SKIP browser: {CHROMIUM} not found")
        return [], []
    results, details = [], []
    with browser_server(settings) as server, sync_playwright() as playwright:
        log(f"  browser server {server.base} ({SERVER_WORKERS} gunicorn workers, static files served)")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            cases = [("most alerts", picks["typical"], False), ("longest light curve", picks["longest"], False)]
            if picks.get("detections"):
                cases.append(("most detections, bad-quality points shown", picks["detections"], True))
            for label, oid, bad_quality in cases:
                bench = BrowserBench(browser, server.base, oid, bad_quality=bad_quality)
                bench.prepare()
                name = f"{oid} ({label})"
                log(f"  {name}: traces {bench.traces}")
                acts = bench.interactions(repeat)
                clicks = bench.clicks(repeat)
                toggles = bench.toggles(max(3, repeat // 2))
                if not bad_quality:  # the page loads as for the others: its load is not measured again
                    loads = bench.loads(max(3, repeat // 3))
                    results += [
                        ApiResult(f"browser: load → plot drawn {name}", backend, _ns(loads["cold"]),
                                  _ns(loads["floor cold"]),
                                  note="new browser profile; floor: plotly.js + the same callback + newPlot, no Dash"),
                        ApiResult("  ↳ again, warm cache", backend, _ns(loads["warm"]), _ns(loads["floor warm"])),
                    ]
                else:
                    results.append(ApiResult(f"browser: {name}", backend, [], []))
                results += [
                    ApiResult("  legend click: hide the largest trace", backend, _ns(acts["page hide"]),
                              _ns(acts["floor hide"]), p95_max_ns=INTERACTION_P95_NS),
                    ApiResult("  legend click: show it again", backend, _ns(acts["page show"]),
                              _ns(acts["floor show"]), p95_max_ns=INTERACTION_P95_NS),
                    ApiResult("  zoom (relayout to half the range, and back)", backend, _ns(acts["page zoom"]),
                              _ns(acts["floor zoom"]), p95_max_ns=INTERACTION_P95_NS),
                    ApiResult("  bad-quality points on/off (checkbox → redrawn)", backend,
                              _ns(toggles["page"]), _ns(toggles["floor"])),
                ]
                if clicks["page"]:
                    results.append(ApiResult("  click on an alert → its 3 cutouts loaded", backend,
                                             _ns(clicks["page"]), _ns(clicks["floor"])))
                details.append({"object": oid, "label": label, "backend": backend, "size": size,
                                "traces": bench.traces, "plot_width": bench.width})
        finally:
            browser.close()
    return results, details


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=60, help="samples per object (the longest: ½×)")
    parser.add_argument("--parts", default="http,browser",
                        help="http (first byte, callback), browser (headless Chromium); comma-separated")
    parser.add_argument("--browser-repeat", type=int, default=12,
                        help="samples of each browser interaction (page loads: ⅓×, option toggles: ½×)")
    parser.add_argument("--output", default="pages", help="bench/results/<name>.json and .md")
    args, sizes, backends = parse_store_arguments(parser, argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or parts - {"http", "browser"}:
        parser.error("parts: http, browser")
    _django()


    def run(backend: str, size: int, settings: dict, info: dict) -> tuple[list, list]:
        res, det = [], []
        if "http" in parts:
            res, det = run_backend(backend, size, settings, info["picks"], args.repeat)
        if "browser" in parts:
            picks = {**info["picks"], "detections": most_detections(size)}
            more, browser_details = run_browser(backend, size, settings, picks, args.browser_repeat)
            res += more
            det += browser_details
        return res, det

    runs = run_stores(sizes, backends, args.rebuild, run)
    results, details = runs.results, runs.details
    if not results:
        return 0
    print()
    print_table(results)
    print()
    for d in details:
        if "bytes" in d:
            print(f"{d['backend']} {d['size']:,}: {d['object']} ({d['label']}, {d['rows']}): bytes {d['bytes']}")
        else:
            print(f"{d['backend']} {d['size']:,}: {d['object']} ({d['label']}) in the browser: traces {d['traces']}")
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
        *[f"{d['object']}: bytes {d['bytes']}" for d in details if "bytes" in d],
        *BROWSER_NOTES * ("browser" in parts),
        *[f"{d['object']} in the browser: traces (type, name, points) {d['traces']}" for d in details
          if "traces" in d],
        runs.load_note(),
        *[f"SKIP {backend}: not reachable" for backend in runs.skipped],
    ]
    json_path, md_path = write_results(args.output, results, command=command.strip(),
                                       meta={"details": details, "loadavg_before": runs.loadavg_before,
                                             "loadavg_after": runs.loadavg_after}, notes=notes)
    print(f"\nwrote {json_path.relative_to(ROOT)} and {md_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

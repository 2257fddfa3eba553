"""The object page's light curve: a Dash app served by django-plotly-dash, in an iframe.

The page embeds ``/django_plotly_dash/app/LightCurve/?objectId=ZTF...``: the app reads the id from
its own URL (no per-view state is stored, so any worker can serve it) and draws the light curve
from :func:`objects.lightcurve.lightcurve_of_object`. The server builds the figure with every
layer (alerts, bad-quality points, upper limits) when the quantity (difference magnitude, DC
magnitude, flux) changes; showing or hiding a layer is a clientside callback that only changes
the traces' ``visible`` flags, with no request. A click on an alert posts
``{"type": "lightcurve-click", "candid", "date"}`` to the page, which then shows that alert's
cutouts.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from dash import Input, Output, State, dcc, html
from dash.fingerprint import check_fingerprint
from django.templatetags.static import static
from django_plotly_dash import DjangoDash

from .lightcurve import lightcurve_of_object

APP_NAME = "LightCurve"
BAND_COLORS = {"g": "#2a9d3b", "r": "#d1495b", "i": "#7b5ea7"}
MODES = {
    "mag": ("mag", "err", "difference magnitude"),
    "dcmag": ("dcmag", "dcerr", "apparent (DC) magnitude"),
    "flux": ("flux", "fluxerr", "difference flux [µJy]"),
}
#: Decimals kept in the figure: magnitudes to 0.1 mmag, fluxes to 1 nJy (the data hold no more).
DECIMALS = {"mag": 4, "dcmag": 4, "flux": 3}
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
#: plotly.js for the light curve: the "basic" bundle (scatter, bar, pie; npm plotly.js-basic-dist-min,
#: the same version as the plotly package's plotly.js), 1.2 MB where the full bundle dcc.Graph
#: would fetch is 4.8 MB: parsing and running that was most of the time from page load to plot.
#: A plain script of the app's page, so it loads while Dash's own scripts do (dcc.Graph uses
#: ``window.Plotly`` when it is there).
PLOTLY_JS = "objects/vendor/plotly-basic-4.1.1.min.js"


def _numbers(values: np.ndarray, decimals: int) -> list[float | None]:
    """Rounded floats for the figure's JSON, NaN as None (null: plotly leaves a gap)."""
    return [None if math.isnan(v) else v for v in np.round(values, decimals).tolist()]


def _times(values: np.ndarray) -> list[int]:
    """ms since 1970 as integers (a date axis's numbers; the rows selected have a date)."""
    return np.rint(values).astype(np.int64).tolist()


def lightcurve_figure(
    data: dict[str, Any], *, mode: str = "mag", upper_limits: bool = True, bad_quality: bool = False
) -> dict[str, Any]:
    """The light curve as a plotly figure (a plain ``{"data", "layout"}`` dict): per band, the
    alerts with error bars, the bad-quality points (open circles) and the upper limits (open
    triangles; none in flux), the last two shown as ``bad_quality`` and ``upper_limits`` say.

    ``data`` is :func:`objects.lightcurve.lightcurve_of_object`'s. Every trace is in the figure,
    hidden ones with ``visible: false``, and says its layer in ``meta`` (valid, badquality,
    upperlim): the app's checkboxes flip ``visible`` in the browser. Dates are ms numbers on a
    date axis (no date strings to parse in the browser); the alerts' traces carry each point's
    candid as ``customdata`` (a click shows that alert's cutouts). Built as plain dicts: plotly's
    ``go.Figure`` validated every property and was half of the callback.
    """
    y_key, err_key, title = MODES.get(mode, MODES["mag"])
    decimals = DECIMALS.get(mode, 4)
    points = data["points"]
    dated = ~np.isnan(points["time"])
    kinds = [("valid", "alerts", True), ("badquality", "bad quality", bad_quality)]
    traces: list[dict[str, Any]] = []
    for band, color in BAND_COLORS.items():
        in_band = (points["band"] == band) & dated
        for tag, label, shown in kinds:
            rows = np.flatnonzero(in_band & (points["tag"] == tag) & ~np.isnan(points[y_key]))
            if not rows.size:
                continue
            valid = tag == "valid"
            trace = {
                "type": "scatter",
                "mode": "markers",
                "name": f"{band} {label}",
                "legendgroup": band,
                "meta": tag,
                "visible": shown,
                "x": _times(points["time"][rows]),
                "y": _numbers(points[y_key][rows], decimals),
                "error_y": {
                    "type": "data",
                    "array": _numbers(points[err_key][rows], decimals),
                    "thickness": 1,
                    "width": 0,
                    "color": color,
                },
                "marker": {
                    "color": color,
                    "size": 8 if valid else 7,
                    "symbol": "circle" if valid else "circle-open",
                    "opacity": 1.0 if valid else 0.6,
                    **({"line": {"width": 1, "color": "#fff"}} if valid else {}),
                },
                "hovertemplate": f"%{{x}}<br>{band} = %{{y:.3f}} ± %{{error_y.array:.3f}}<extra>{label}</extra>",
            }
            if valid:  # only alerts have cutouts: a click on one of them shows its stamps
                trace["customdata"] = [points["candid"][k] for k in rows]
            traces.append(trace)
        if mode != "flux":  # a limit has no flux
            rows = np.flatnonzero(in_band & (points["tag"] == "upperlim") & ~np.isnan(points["limit"]))
            if rows.size:
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "name": f"{band} upper limits",
                        "legendgroup": band,
                        "meta": "upperlim",
                        "visible": upper_limits,
                        "x": _times(points["time"][rows]),
                        "y": _numbers(points["limit"][rows], 2),
                        "marker": {"color": color, "symbol": "triangle-down-open", "size": 7, "opacity": 0.45},
                        "hovertemplate": f"%{{x}}<br>{band} > %{{y:.2f}}<extra>upper limit</extra>",
                    }
                )
    layout = {
        "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
        "hovermode": "closest",
        "xaxis": {
            "type": "date",
            "title": {"text": "date (UTC)"},
            "hoverformat": "%Y-%m-%d %H:%M:%S",
            "gridcolor": "#eef0f3",
        },
        "yaxis": {
            "title": {"text": title},
            "autorange": True if mode == "flux" else "reversed",
            "gridcolor": "#eef0f3",
            "zeroline": mode == "flux",
        },
        "legend": {"orientation": "h", "y": -0.2},
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "font": {"family": _FONT, "size": 12},
        "uirevision": mode,
    }
    return {"data": traces, "layout": layout}


def empty_figure(text: str) -> dict[str, Any]:
    return {
        "data": [],
        "layout": {
            "annotations": [{"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff",
        },
    }


def counts_text(data: dict[str, Any]) -> str:
    counts = data["counts"]
    text = (
        f"{counts['valid']} alerts, {counts['upperlim']} upper limits, "
        f"{counts['badquality']} bad-quality points."
    )
    if data.get("truncated"):
        text += " Cut at the row cap."
    return text + " Click an alert to see its stamps."


#: Dash's page for the app (its default ``index_string``) with two scripts around Dash's own. The
#: first of those is babel-polyfill 7 (core-js 2), which in today's browsers replaces
#: ``String.prototype.trim`` and ``parseInt`` with slower versions; plotly parses a colour with
#: them for every point it styles (a quarter of the time to show 1,500 points, measured). The
#: browser's own functions are kept before Dash's scripts and put back after them.
INDEX_STRING = """<!DOCTYPE html>
<html>
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        <script>
        window._portalNatives = [
            [String.prototype, "trim", String.prototype.trim],
            [String.prototype, "trimStart", String.prototype.trimStart],
            [String.prototype, "trimEnd", String.prototype.trimEnd],
            [window, "parseInt", window.parseInt],
            [window, "parseFloat", window.parseFloat],
            [Number, "parseInt", Number.parseInt],
            [Number, "parseFloat", Number.parseFloat]
        ];
        </script>
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            <script>
            window._portalNatives.forEach(function (n) { if (n[0][n[1]] !== n[2]) { n[0][n[1]] = n[2]; } });
            </script>
            {%renderer%}
        </footer>
    </body>
</html>"""


#: A script of Dash's page: ``src="<app>/_dash-component-suites/<package>/<fingerprinted path>"``.
_COMPONENT_SCRIPT = re.compile(r'src="[^"]*/_dash-component-suites/(?P<package>[^/"]+)/(?P<path>[^"?]+)[^"]*"')


def _static_script(match: re.Match) -> str:
    """The static URL django-plotly-dash's component view would redirect the script to."""
    path, _ = check_fingerprint(match["path"])
    package = match["package"]
    return 'src="{}"'.format(static(f"dash/component/{package}/{path}"))


class StatelessDash(DjangoDash):
    """A DjangoDash app whose Dash instance is built once per process, and whose page loads
    Dash's scripts from the static files directly.

    django-plotly-dash builds a new Dash app (a Flask app, its routes and callbacks) for every
    request to a stateless app: a few ms of each callback, and with Dash 3 each build appends
    plotly.js to ``dcc._js_dist`` again, a list that then grows with every request. This app
    keeps no per-user state (the object comes from the URL; dispatch reads the instance and
    never changes it), so one instance serves every request. Dash's page asks for each of its
    nine scripts at ``_dash-component-suites/...``, which django-plotly-dash answers with a
    redirect to the static file: the page names the static files itself (nine requests less to
    Django per view, and no round trip before each script).
    """

    def as_dash_instance(self, cache_id=None):
        if cache_id is not None:  # initial arguments stored per request: build as usual
            return super().as_dash_instance(cache_id=cache_id)
        instance = self.__dict__.get("_dash_instance")
        if instance is None:
            instance = super().as_dash_instance()
            instance.index_string = INDEX_STRING
            scripts_html = instance._generate_scripts_html
            instance._generate_scripts_html = lambda: _COMPONENT_SCRIPT.sub(_static_script, scripts_html())
            self._dash_instance = instance
        return instance


# -- the app --------------------------------------------------------------------------------------
app = StatelessDash(APP_NAME, serve_locally=True, external_scripts=[static(PLOTLY_JS)])

_control = {"display": "inline-flex", "gap": "0.9rem", "marginRight": "1.5rem"}
app.layout = html.Div(
    [
        dcc.Location(id="url", refresh=False),
        html.Div(
            [
                dcc.Checklist(
                    id="lc-options",
                    options=[
                        {"label": " upper limits", "value": "upperlim"},
                        {"label": " bad-quality points", "value": "badquality"},
                    ],
                    value=["upperlim"],
                    inline=True,
                    style=_control,
                    inputStyle={"marginRight": "0.3rem"},
                ),
                dcc.RadioItems(
                    id="lc-mode",
                    options=[
                        {"label": " difference magnitude", "value": "mag"},
                        {"label": " DC magnitude", "value": "dcmag"},
                        {"label": " flux", "value": "flux"},
                    ],
                    value="mag",
                    inline=True,
                    style=_control,
                    inputStyle={"marginRight": "0.3rem"},
                ),
            ],
            style={"fontSize": "14px", "marginBottom": "0.4rem"},
        ),
        dcc.Loading(
            [
                dcc.Graph(
                    id="lc-graph", config={"displaylogo": False, "responsive": True}, style={"height": "430px"}
                ),
                dcc.Store(id="lc-figure"),  # the figure with every layer, as the server built it
            ]
        ),
        html.Div(id="lc-counts", style={"fontSize": "13px", "color": "#5b6474"}),
        dcc.Store(id="lc-click"),
    ],
    style={"fontFamily": _FONT, "color": "#1d2330"},
)


def object_id_of(search: str | None) -> str:
    """The ``objectId`` of the app URL's query string ('' if absent)."""
    return parse_qs((search or "").lstrip("?")).get("objectId", [""])[0].strip()


@app.callback(
    Output("lc-figure", "data"),
    Output("lc-counts", "children"),
    Input("url", "search"),
    Input("lc-mode", "value"),
    State("lc-options", "value"),
)
def draw_lightcurve(search, mode, options):
    """The figure with every layer (the checkboxes' state says which are shown), and the counts."""
    data = lightcurve_of_object(object_id=object_id_of(search))
    if not data["points"]["jd"].size:
        return empty_figure("No photometry"), ""
    options = options or []
    figure = lightcurve_figure(
        data, mode=mode or "mag", upper_limits="upperlim" in options, bad_quality="badquality" in options
    )
    return figure, counts_text(data)


# The checkboxes show and hide layers in the browser: only the traces' visible flags change (a
# new object where one does, so that dcc.Graph redraws), no request is made.
app.clientside_callback(
    """
    function (figure, options) {
        if (!figure) { return window.dash_clientside.no_update; }
        var on = options || [];
        var shown = {upperlim: on.indexOf("upperlim") >= 0, badquality: on.indexOf("badquality") >= 0};
        return {
            data: figure.data.map(function (trace) {
                var visible = trace.meta in shown ? shown[trace.meta] : true;
                return trace.visible === visible ? trace : Object.assign({}, trace, {visible: visible});
            }),
            layout: figure.layout
        };
    }
    """,
    Output("lc-graph", "figure"),
    Input("lc-figure", "data"),
    Input("lc-options", "value"),
)


# A click on an alert tells the embedding page, which shows that alert's cutouts.
app.clientside_callback(
    """
    function (click) {
        var point = click && click.points && click.points[0];
        if (point && point.customdata) {
            var date = typeof point.x === "number" ? new Date(point.x).toISOString() : String(point.x);
            window.parent.postMessage(
                {type: "lightcurve-click", candid: String(point.customdata), date: date.replace("T", " ")},
                window.location.origin
            );
        }
        return null;
    }
    """,
    Output("lc-click", "data"),
    Input("lc-graph", "clickData"),
)

"""The object page's light curve: a Dash app served by django-plotly-dash, in an iframe.

The page embeds ``/django_plotly_dash/app/LightCurve/?objectId=ZTF...``: the app reads the id from
its own URL (no per-view state is stored, so any worker can serve it), draws the light curve from
:func:`objects.lightcurve.lightcurve_of_object`, and redraws it when the upper-limit / bad-quality
toggles or the quantity (difference magnitude, DC magnitude, flux) change. A click on an alert
posts ``{"type": "lightcurve-click", "candid", "date"}`` to the page, which then shows that
alert's cutouts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from django_plotly_dash import DjangoDash

from .lightcurve import lightcurve_of_object

APP_NAME = "LightCurve"
BAND_COLORS = {"g": "#2a9d3b", "r": "#d1495b", "i": "#7b5ea7"}
MODES = {
    "mag": ("mag", "err", "difference magnitude"),
    "dcmag": ("dcmag", "dcerr", "apparent (DC) magnitude"),
    "flux": ("flux", "fluxerr", "difference flux [µJy]"),
}
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def lightcurve_figure(
    data: dict[str, Any], *, mode: str = "mag", upper_limits: bool = True, bad_quality: bool = False
) -> go.Figure:
    """The light curve as a plotly figure: per band, the alerts with error bars, optionally the
    bad-quality points (open circles) and upper limits (open triangles; not in flux).

    ``data`` is :func:`objects.lightcurve.lightcurve_of_object`'s; the alerts' traces carry each
    point's candid as ``customdata``.
    """
    y_key, err_key, title = MODES.get(mode, MODES["mag"])
    points = data["points"]
    kinds = [("valid", "alerts")] + ([("badquality", "bad quality")] if bad_quality else [])
    figure = go.Figure()
    for band, color in BAND_COLORS.items():
        for tag, label in kinds:
            rows = [
                k
                for k, (b, t) in enumerate(zip(points["band"], points["tag"]))
                if b == band and t == tag and points[y_key][k] is not None
            ]
            if not rows:
                continue
            valid = tag == "valid"
            figure.add_trace(
                go.Scatter(
                    x=[points["date"][k] for k in rows],
                    y=[points[y_key][k] for k in rows],
                    error_y={
                        "type": "data",
                        "array": [points[err_key][k] for k in rows],
                        "visible": True,
                        "thickness": 1,
                        "width": 0,
                        "color": color,
                    },
                    customdata=[points["candid"][k] for k in rows],
                    mode="markers",
                    name=f"{band} {label}",
                    legendgroup=band,
                    marker={
                        "color": color,
                        "size": 8 if valid else 7,
                        "symbol": "circle" if valid else "circle-open",
                        "opacity": 1.0 if valid else 0.6,
                        "line": {"width": 1, "color": "#fff"} if valid else None,
                    },
                    hovertemplate=f"%{{x}}<br>{band} = %{{y:.3f}} ± %{{error_y.array:.3f}}<extra>{label}</extra>",
                )
            )
        if upper_limits and mode != "flux":
            rows = [
                k
                for k, (b, t) in enumerate(zip(points["band"], points["tag"]))
                if b == band and t == "upperlim" and points["limit"][k] is not None
            ]
            if rows:
                figure.add_trace(
                    go.Scatter(
                        x=[points["date"][k] for k in rows],
                        y=[points["limit"][k] for k in rows],
                        mode="markers",
                        name=f"{band} upper limits",
                        legendgroup=band,
                        marker={"color": color, "symbol": "triangle-down-open", "size": 7, "opacity": 0.45},
                        hovertemplate=f"%{{x}}<br>{band} > %{{y:.2f}}<extra>upper limit</extra>",
                    )
                )
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 10, "b": 40},
        hovermode="closest",
        xaxis={"title": {"text": "date (UTC)"}, "gridcolor": "#eef0f3"},
        yaxis={
            "title": {"text": title},
            "autorange": True if mode == "flux" else "reversed",
            "gridcolor": "#eef0f3",
            "zeroline": mode == "flux",
        },
        legend={"orientation": "h", "y": -0.2},
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        font={"family": _FONT, "size": 12},
        uirevision=mode,
    )
    return figure


def counts_text(data: dict[str, Any]) -> str:
    counts = data["counts"]
    text = (
        f"{counts['valid']} alerts, {counts['upperlim']} upper limits, "
        f"{counts['badquality']} bad-quality points."
    )
    if data.get("truncated"):
        text += " Cut at the row cap."
    return text + " Click an alert to see its stamps."


# -- the app --------------------------------------------------------------------------------------
app = DjangoDash(APP_NAME, serve_locally=True)

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
            dcc.Graph(
                id="lc-graph", config={"displaylogo": False, "responsive": True}, style={"height": "430px"}
            )
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
    Output("lc-graph", "figure"),
    Output("lc-counts", "children"),
    Input("url", "search"),
    Input("lc-options", "value"),
    Input("lc-mode", "value"),
)
def draw_lightcurve(search, options, mode):
    data = lightcurve_of_object(object_id=object_id_of(search))
    if not data["points"]["jd"]:
        return go.Figure(layout={"annotations": [{"text": "No photometry", "showarrow": False}]}), ""
    options = options or []
    figure = lightcurve_figure(
        data, mode=mode or "mag", upper_limits="upperlim" in options, bad_quality="badquality" in options
    )
    return figure, counts_text(data)


# A click on an alert tells the embedding page, which shows that alert's cutouts.
app.clientside_callback(
    """
    function (click) {
        var point = click && click.points && click.points[0];
        if (point && point.customdata) {
            window.parent.postMessage(
                {type: "lightcurve-click", candid: String(point.customdata), date: point.x},
                window.location.origin
            );
        }
        return null;
    }
    """,
    Output("lc-click", "data"),
    Input("lc-graph", "clickData"),
)

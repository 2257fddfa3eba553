"""The statistics, gravitational-wave and cross-match pages.

Each view parses its input with a form of :mod:`search.forms` (the two uploads through the API
routes' serializers), calls the selectors the API routes call, and shapes their rows for a
template. Bad input re-shows the form with a message naming the problem (status 400); results can
be downloaded in the API's formats, rendered by the API's own renderers.
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import numpy as np
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from alerts.derived import jd_to_iso
from alerts.selectors import search as selectors
from alerts.tables import SKY_ORDER
from api.renderers import TABULAR_RENDERERS
from api.tabular import TableResult
from store import StoreError

from .forms import (
    DOWNLOAD_FORMATS,
    ApiParamsForm,
    CatalogForm,
    SkyMapForm,
    StatisticsForm,
    form_problems,
)
from .views import alert_rows

logger = logging.getLogger(__name__)

#: Rows shown on a page; the downloads hold every row.
SHOWN_ROWS = 1000
#: Classes plotted when none is picked: the most frequent ones.
DEFAULT_CLASSES = 6
#: Most pixels drawn for a credible region on the sky plot.
MAX_REGION_POINTS = 6000


def _store_trouble(exc: StoreError) -> str:
    logger.warning("tool page: store unavailable: %s", exc)
    return f"The alert store is unavailable ({exc}). Try again shortly."


def _download(found: selectors.SearchRows, fmt: str, name: str) -> HttpResponse:
    """The rows as a file in ``fmt``, written by the API's renderer of that format."""
    renderer = TABULAR_RENDERERS[fmt]()
    response = HttpResponse(
        content_type=renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
    )
    result = TableResult(found.rows, truncated=found.truncated, limit=found.limit)
    response.content = renderer.render(result, renderer_context={"response": response})
    extension = {"votable": "xml"}.get(fmt, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


def _wanted_download(request: HttpRequest) -> str | None:
    fmt = request.POST.get("output-format", "")
    return fmt if fmt in DOWNLOAD_FORMATS else None


def _upload_page(
    request: HttpRequest,
    *,
    tool: str,
    route: str,
    form_class: type[ApiParamsForm],
    search: Callable[[ApiParamsForm], tuple[selectors.SearchRows, Any]],
    results: Callable[[ApiParamsForm, selectors.SearchRows, Any], dict[str, Any]],
    problem_label: str | None = None,
) -> HttpResponse:
    """A page that uploads a file to a search (``gw``, ``xmatch``), rendered by ``search/<tool>.html``.

    GET shows the empty form. A POST is read by ``form_class`` (bad input: the form again with
    its problems, status 400), then ``search(form)`` returns the rows found and anything else
    ``results`` needs (a value it cannot search: 400, each problem named by the error's parameter
    or by ``problem_label``; the store down: 503). The rows are then downloaded in the format the
    POST asks for, as a file named after the API ``route``, or shown with the context
    ``results(form, found, extra)`` returns.
    """
    template = f"search/{tool}.html"
    context: dict[str, Any] = {"tool": tool, "route": route, "formats": DOWNLOAD_FORMATS}
    if request.method != "POST":
        return render(request, template, {**context, "form": form_class()})
    form = form_class(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        context["problems"] = form.problems()
        return render(request, template, context, status=400)
    try:
        found, extra = search(form)
    except selectors.SearchError as exc:
        context["problems"] = [f"{problem_label or exc.param}: {exc}"]
        return render(request, template, context, status=400)
    except StoreError as exc:
        context["problems"] = [_store_trouble(exc)]
        return render(request, template, context, status=503)
    fmt = _wanted_download(request)
    if fmt:
        return _download(found, fmt, route)
    context.update(searched=True, **results(form, found, extra))
    return render(request, template, context)


# -- statistics --------------------------------------------------------------------------------
@dataclass
class Period:
    """Counts of a night, month or year."""

    label: str
    alerts: int = 0
    objects: int = 0
    nights: int = 0
    classes: Counter = field(default_factory=Counter)


def _period_label(night: str, group: str) -> str:
    """``ztf_20250901`` → ``2025-09-01`` (night), ``2025-09`` (month), ``2025`` (year)."""
    digits = night.removeprefix("ztf_")
    iso = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return {"night": iso, "month": iso[:7], "year": iso[:4]}[group]


def statistics_page(request: HttpRequest) -> HttpResponse:
    """``/statistics``: alerts per night (or month, year) and per class, plotted and tabled."""
    form = StatisticsForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "formats": DOWNLOAD_FORMATS}
    if request.GET and not form.is_valid():
        context["problems"] = form_problems(form)
        return render(request, "search/statistics.html", context, status=400)
    cleaned = form.cleaned_data if form.is_bound else {}
    date = cleaned.get("date", "")
    group = cleaned.get("group") or "night"
    mode = cleaned.get("mode") or "stack"
    try:
        found = selectors.night_statistics(date=date)
    except selectors.SearchError as exc:  # pragma: no cover - the form checks the date first
        context["problems"] = [f"Period: {exc}"]
        return render(request, "search/statistics.html", context, status=400)
    except StoreError as exc:
        context["problems"] = [_store_trouble(exc)]
        return render(request, "search/statistics.html", context, status=503)

    periods: dict[str, Period] = {}
    totals: Counter = Counter()
    nights_of: Counter = Counter()
    for row in found.rows:
        period = periods.setdefault(_period_label(row["key:key"], group), Period(_period_label(row["key:key"], group)))
        period.alerts += row.get("basic:sci") or 0
        period.objects += row.get("basic:objects") or 0
        period.nights += 1
        for column, count in row.items():
            if column.startswith("class:") and count:
                name = column.removeprefix("class:")
                period.classes[name] += count
                totals[name] += count
                nights_of[name] += 1
    ranked = [name for name, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0]))]
    asked = request.GET.getlist("classes")
    picked = [name for name in ranked if name in asked] if asked else ranked[:DEFAULT_CLASSES]
    absent = [name for name in asked if name not in totals]
    rows = list(periods.values())
    alerts_total = sum(p.alerts for p in rows)

    plot = {
        "group": group,
        "mode": mode,
        "periods": [p.label for p in rows],
        "alerts": [p.alerts for p in rows],
        "objects": [p.objects for p in rows],
        "classes": {name: [p.classes.get(name, 0) for p in rows] for name in picked},
        "other": [p.alerts - sum(p.classes.get(name, 0) for name in picked) for p in rows],
    }
    api_params = {"date": date} if date else {}
    context.update(
        {
            "date": date,
            "group": group,
            "mode": mode,
            "periods": rows,
            "table": [
                {"period": p, "picked": [p.classes.get(name, 0) for name in picked]} for p in reversed(rows)
            ],
            "nights": sum(p.nights for p in rows),
            "alerts_total": alerts_total,
            "objects_total": sum(p.objects for p in rows),
            "first_night": rows[0].label if rows else None,
            "last_night": rows[-1].label if rows else None,
            "class_table": [
                {
                    "name": name,
                    "alerts": totals[name],
                    "share": 100.0 * totals[name] / alerts_total if alerts_total else 0.0,
                    "nights": nights_of[name],
                    "picked": name in picked,
                }
                for name in ranked
            ],
            "picked": picked,
            "absent": absent,
            "plot": plot,
            "truncated": found.truncated,
            "downloads": [
                (fmt, "/api/v1/statistics?" + urlencode({**api_params, "output-format": fmt}))
                for fmt in DOWNLOAD_FORMATS
            ],
        }
    )
    return render(request, "search/statistics.html", context)


# -- gravitational waves -----------------------------------------------------------------------
def _region_points(region: selectors.SkyRegion) -> tuple[list[float], list[float], float]:
    """Centres of the HEALPix pixels inside a credible region, at the finest order that keeps
    them under :data:`MAX_REGION_POINTS`; and that order's pixel size [deg]."""
    import astropy.units as u
    from astropy_healpix import HEALPix

    order = 7
    while True:
        width = 4 ** (SKY_ORDER - order)
        pixels = np.arange(12 * 4**order, dtype=np.int64)
        inside = np.flatnonzero(region.contains(pixels * width + width // 2))
        if len(inside) <= MAX_REGION_POINTS or order == 3:
            break
        order -= 1
    healpix = HEALPix(nside=2**order, order="nested")
    ra, dec = healpix.healpix_to_lonlat(inside)
    size = math.degrees(math.sqrt(4 * math.pi / (12 * 4**order)))
    return (
        np.round(ra.to_value(u.deg), 3).tolist(),
        np.round(dec.to_value(u.deg), 3).tolist(),
        size,
    )


def gw_page(request: HttpRequest) -> HttpResponse:
    """``/gw``: upload a sky map, get the objects first seen around the event in its credible region.

    The rows are those of the API's ``skymap`` route for the same parameters: the same
    serializer reads the map, the same selectors (credible region, then alerts in it) answer.
    """
    return _upload_page(request, tool="gw", route="skymap", form_class=SkyMapForm, search=_gw_search,
                        results=_gw_results, problem_label="Sky map")


def _gw_search(form: SkyMapForm) -> tuple[selectors.SearchRows, selectors.SkyRegion]:
    p = form.params
    sky_map = p["bayestar"]
    region = selectors.credible_region(
        uniq=sky_map.uniq, probability_density=sky_map.probability_density,
        credible_level=p["credible_level"],
    )
    found = selectors.alerts_in_sky_region(
        region=region, event_jd=sky_map.event_jd, days_before=p["n_day_before"], days_after=p["n_day_after"],
    )
    return found, region


def _gw_results(form: SkyMapForm, found: selectors.SearchRows, region: selectors.SkyRegion) -> dict[str, Any]:
    p = form.params
    sky_map = p["bayestar"]
    event_iso, start_iso, stop_iso = jd_to_iso(
        [sky_map.event_jd, sky_map.event_jd - p["n_day_before"], sky_map.event_jd + p["n_day_after"]]
    )
    rows = alert_rows(found.rows)
    firsts = jd_to_iso([row.get("i:jdstarthist") for row in found.rows])
    for row, raw, first in zip(rows, found.rows, firsts):
        row["firstdate"] = (first or "")[:19]
        start = raw.get("i:jdstarthist")
        row["delay"] = None if start is None else start - sky_map.event_jd
    region_ra, region_dec, pixel_size = _region_points(region)
    return {
        "event": event_iso[:19],
        "window": (start_iso[:19], stop_iso[:19]),
        "level": p["credible_level"],
        "area": region.area_deg2,
        "count": len(rows),
        "rows": rows[:SHOWN_ROWS],
        "shown": min(len(rows), SHOWN_ROWS),
        "truncated": found.truncated,
        "limit": found.limit,
        "scanned": found.scanned,
        "sky": {
            "region": {"ra": region_ra, "dec": region_dec, "size": pixel_size},
            "alerts": {
                "ra": [r["ra"] for r in rows],
                "dec": [r["dec"] for r in rows],
                "id": [r["objectId"] for r in rows],
            },
            "title": f"{p['credible_level']:g} credible region",
        },
    }


# -- cross-match -------------------------------------------------------------------------------
def _catalog_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def xmatch_page(request: HttpRequest) -> HttpResponse:
    """``/xmatch``: upload a catalogue, get the objects with alerts near each of its rows.

    The rows are those of the API's ``xmatch`` route: the same serializer reads the catalogue,
    the same selector matches it.
    """
    return _upload_page(request, tool="xmatch", route="xmatch", form_class=CatalogForm, search=_xmatch_search,
                        results=_xmatch_results)


def _xmatch_search(form: CatalogForm) -> tuple[selectors.SearchRows, None]:
    p = form.params
    catalog = p["catalog"]
    found = selectors.alerts_matching_catalog(
        rows=catalog.rows, ra=catalog.ra, dec=catalog.dec, jd=catalog.jd,
        radius_arcsec=p["radius"], window_days=p.get("window"),
    )
    return found, None


def _xmatch_results(form: CatalogForm, found: selectors.SearchRows, _: None) -> dict[str, Any]:
    p = form.params
    catalog = p["catalog"]
    header = form.header
    shaped = alert_rows(found.rows)
    rows = []
    for raw, alert in zip(found.rows, shaped):
        rows.append(
            {
                **alert,
                "source": [_catalog_text(raw.get(name)) for name in header],
                "separation": raw["v:separation_degree"] * 3600.0,
            }
        )
    return {
        "header": header,
        "catalog_rows": len(catalog.rows),
        "count": len(rows),
        "rows": rows[:SHOWN_ROWS],
        "shown": min(len(rows), SHOWN_ROWS),
        "matched_rows": len({tuple(r["source"]) for r in rows}),
        "objects": len({r["objectId"] for r in rows}),
        "radius": p["radius"],
        "window": p.get("window"),
        "truncated": found.truncated,
        "limit": found.limit,
        "unplaced": int(np.count_nonzero(~(np.isfinite(catalog.ra) & np.isfinite(catalog.dec)))),
    }

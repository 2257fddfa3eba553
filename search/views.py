"""The home page and the search results page.

A search is one GET URL (``/search?q=...``): the bar's text is parsed by :mod:`search.grammar`,
one selector is called, and the rows are shown as a sortable, paginated table with links to the
same search on the REST API in each output format. Bad input and empty results get a page that
says why and what to try: never an error page.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from alerts.derived import jd_to_iso
from alerts.selectors import search as search_selectors
from alerts.selectors.objects import object_summary
from store import StoreError, get_store

from . import grammar, sso_names
from .selectors import alerts_between, objects_with_prefix, store_summary
from .sparklines import sparkline_of_object

logger = logging.getLogger(__name__)

#: Rows per results page.
PAGE_SIZE = 50
#: Most rows a page-search asks the selectors for (the API download has the API's own caps).
MAX_RESULTS = 1000
#: Output formats of the download links (the API's ``output-format`` values).
DOWNLOAD_FORMATS = ("json", "csv", "parquet", "votable")
BANDS = {1: "g", 2: "r", 3: "i"}
#: The ways a results page shows its rows (``view=``): the table (default) or cards.
VIEWS = ("table", "cards")


def home(request):
    """The home page: the search bar, and what the store holds."""
    try:
        tables = store_summary()
        error = None
    except StoreError as exc:
        tables, error = [], str(exc)
    status = 503 if error else 200
    return render(
        request,
        "search/home.html",
        {"tables": tables, "error": error, "backend": get_store().name, "examples": grammar.EXAMPLES},
        status=status,
    )


# -- results --------------------------------------------------------------------------------------
@dataclass
class Column:
    """A column of the results table: its key in the display rows, its heading, its kind."""

    key: str
    label: str
    kind: str = "text"  # text | number | object | date | band


@dataclass
class Results:
    """What a search found, shaped for the results page."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    truncated: bool = False
    limit: int | None = None
    api_route: str | None = None
    api_params: dict[str, Any] = field(default_factory=dict)
    note: str = ""


_ALERT_COLUMNS = [
    Column("objectId", "object", "object"),
    Column("lastdate", "alert date (UTC)", "date"),
    Column("classification", "classification"),
    Column("band", "band", "band"),
    Column("magpsf", "mag", "number"),
    Column("ra", "RA [deg]", "number"),
    Column("dec", "Dec [deg]", "number"),
    Column("ndethist", "detections", "number"),
]


def search(request):
    """``/search?q=...``: parse, search, show (or explain why nothing was shown)."""
    text = request.GET.get("q", "").strip()
    if not text:
        return redirect("search:home")
    try:
        query = grammar.parse_search(text, is_asteroid_name=sso_names.is_asteroid_name)
    except grammar.SearchSyntaxError as exc:
        return _nothing(request, text, exc.message, exc.hints, status=400)
    try:
        found = _run(query)
    except search_selectors.SearchError as exc:
        hints = []
        if isinstance(query, grammar.ClassQuery):
            hints = [f"class={name}" for name in grammar.close_class_names(query.class_name)]
        return _nothing(request, text, str(exc), hints + _example_hints(), status=400)
    except StoreError as exc:
        logger.warning("search %r: store unavailable: %s", text, exc)
        return _nothing(
            request, text, f"The alert store is unavailable ({exc}). Try again shortly.", [], status=503
        )
    if isinstance(found, str):  # a URL: one object matched
        return redirect(found)
    if not found.rows:
        message, hints = _why_empty(query)
        return _nothing(request, text, message, hints, status=200, results=found)
    return _results_page(request, text, query, found)


def _run(query: grammar.Query) -> Results | str:
    """Call the selector the query needs; a URL when the search names one object."""
    if isinstance(query, grammar.ObjectQuery):
        if query.exact:
            if object_summary(object_id=query.object_id) is not None:
                return object_url(query.object_id)
            return Results(f"Object {query.object_id}", [], [])
        rows, truncated = objects_with_prefix(prefix=query.object_id, limit=MAX_RESULTS)
        if len(rows) == 1:
            return object_url(rows[0]["i:objectId"])
        return Results(
            f"Objects whose id starts with {query.object_id}",
            [
                Column("objectId", "object", "object"),
                Column("classification", "classification"),
                Column("firstdate", "first alert (UTC)", "date"),
                Column("lastdate", "last alert (UTC)", "date"),
                Column("nalerts", "alerts", "number"),
                Column("ra", "RA [deg]", "number"),
                Column("dec", "Dec [deg]", "number"),
            ],
            _summary_rows(rows),
            truncated=truncated,
            limit=MAX_RESULTS if truncated else None,
            api_route="objects" if rows else None,
            api_params={"objectId": ",".join(r["i:objectId"] for r in rows)},
        )
    if isinstance(query, grammar.ConeQuery):
        found = search_selectors.alerts_in_cone(
            ra=query.ra,
            dec=query.dec,
            radius_arcsec=query.radius_arcsec,
            n=MAX_RESULTS,
            first_jd_min=query.after.jd if query.after else None,
            first_jd_max=query.before.jd if query.before else None,
        )
        params = {"ra": f"{query.ra:.6f}", "dec": f"{query.dec:.6f}", "radius": f"{query.radius_arcsec:g}"}
        params.update(_dates(query, "startdate", "stopdate"))
        return Results(
            f"Objects within {_radius_text(query.radius_arcsec)} of RA {query.ra:.5f}, Dec {query.dec:+.5f}",
            [Column("separation", "distance [arcsec]", "number"), *_ALERT_COLUMNS],
            alert_rows(found.rows),
            found.truncated,
            found.limit,
            "conesearch",
            params,
            note="The latest alert of each object, nearest first.",
        )
    if isinstance(query, grammar.ClassQuery):
        found = search_selectors.latest_alerts_of_class(
            class_name=query.class_name,
            n=query.last,
            jd_min=query.after.jd if query.after else None,
            jd_max=query.before.jd if query.before else None,
        )
        params = {"class": query.class_name, "n": query.last}
        params.update(_dates(query, "startdate", "stopdate"))
        return Results(
            f"Latest alerts of class {query.class_name}"
            + (f" (up to {query.last})" if query.last != grammar.DEFAULT_LAST else ""),
            _ALERT_COLUMNS,
            alert_rows(found.rows),
            found.truncated,
            found.limit,
            "latests",
            params,
        )
    if isinstance(query, grammar.SsoQuery):
        # A name (Benoitcarry) is searched as its number (8467): ZTF alerts carry only the number.
        found = search_selectors.alerts_of_asteroids(names=sso_names.sso_search_names([query.name]))
        return Results(
            f"Alerts of Solar System object {sso_names.sso_label(query.name)}",
            [*_ALERT_COLUMNS, Column("ssnamenr", "MPC name")],
            alert_rows(found.rows),
            found.truncated,
            found.limit,
            "sso",
            {"n_or_d": query.name},
        )
    if isinstance(query, grammar.TrackletQuery):
        found = search_selectors.alerts_of_tracklets(prefix=query.prefix)
        return Results(
            f"Alerts of tracklets {query.prefix}…",
            [*_ALERT_COLUMNS, Column("tracklet", "tracklet")],
            alert_rows(found.rows),
            found.truncated,
            found.limit,
            "tracklet",
            {"id": query.prefix},
        )
    if isinstance(query, grammar.DateQuery):
        rows, truncated = alerts_between(jd_min=query.start.jd, jd_max=query.stop.jd, limit=MAX_RESULTS)
        return Results(
            f"Alerts of {query.day.isoformat()} (UTC)",
            _ALERT_COLUMNS,
            alert_rows(rows),
            truncated,
            MAX_RESULTS if truncated else None,
            note="No API route lists a night's alerts: the download links are not offered.",
        )
    raise TypeError(f"unhandled query {query!r}")  # pragma: no cover - the grammar's types are closed


def _dates(query, start_name: str, stop_name: str) -> dict[str, str]:
    out = {}
    if query.after:
        out[start_name] = query.after.iso
    if query.before:
        out[stop_name] = query.before.iso
    return out


def _radius_text(arcsec: float) -> str:
    if arcsec >= 3600:
        return f"{arcsec / 3600:g}°"
    if arcsec >= 60:
        return f"{arcsec / 60:g}′"
    return f"{arcsec:g}″"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def alert_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Display rows of alert rows (Fink column names in, short keys out)."""
    missing = [i for i, row in enumerate(rows) if not row.get("v:lastdate")]
    dates = jd_to_iso([rows[i].get("i:jd") for i in missing]) if missing else []
    filled = dict(zip(missing, dates))
    out = []
    for index, row in enumerate(rows):
        separation = row.get("v:separation_degree")
        out.append(
            {
                "objectId": row.get("i:objectId"),
                "lastdate": (row.get("v:lastdate") or filled.get(index) or "")[:19],
                "jd": row.get("i:jd"),
                "classification": row.get("v:classification") or row.get("d:classification") or "",
                "band": BANDS.get(row.get("i:fid"), ""),
                "magpsf": _finite(row.get("i:magpsf")),
                "ra": _finite(row.get("i:ra")),
                "dec": _finite(row.get("i:dec")),
                "ndethist": row.get("i:ndethist"),
                "separation": None if separation is None else separation * 3600.0,
                "ssnamenr": row.get("i:ssnamenr") or "",
                "tracklet": row.get("d:tracklet") or "",
            }
        )
    return out


def _summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    firsts = jd_to_iso([row.get("i:firstjd") for row in rows])
    lasts = jd_to_iso([row.get("i:lastjd") for row in rows])
    return [
        {
            "objectId": row.get("i:objectId"),
            "classification": row.get("d:classification") or "",
            "firstdate": (first or "")[:19],
            "lastdate": (last or "")[:19],
            "nalerts": row.get("d:nalerts"),
            "ra": _finite(row.get("i:ra")),
            "dec": _finite(row.get("i:dec")),
        }
        for row, first, last in zip(rows, firsts, lasts)
    ]


def object_url(object_id: str) -> str:
    return reverse("object_page", kwargs={"object_id": object_id})


# -- pages ----------------------------------------------------------------------------------------
def _sorted_rows(rows: list[dict], columns: list[Column], sort: str, descending: bool) -> list[dict]:
    if sort not in {c.key for c in columns}:
        return rows
    present = [r for r in rows if r.get(sort) not in (None, "")]
    absent = [r for r in rows if r.get(sort) in (None, "")]
    present.sort(key=lambda r: r[sort], reverse=descending)
    return present + absent  # blanks last either way


def _results_page(request, text: str, query: grammar.Query, found: Results):
    sort = request.GET.get("sort", "")
    descending = request.GET.get("dir") == "desc"
    view = request.GET.get("view", "table")
    view = view if view in VIEWS else "table"
    rows = _sorted_rows(found.rows, found.columns, sort, descending)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # Every link of the page keeps the view; the table's view is the default and not written.
    kept_view = {"view": view} if view != "table" else {}
    headers = []
    for column in found.columns:
        active = column.key == sort
        direction = "asc" if active and descending else ("desc" if active else "asc")
        headers.append(
            {
                "column": column,
                "active": active,
                "descending": active and descending,
                "url": "?" + urlencode({"q": text, "sort": column.key, "dir": direction, **kept_view}),
            }
        )
    kept = {k: v for k, v in (("q", text), ("sort", sort), ("dir", request.GET.get("dir", ""))) if v}
    page_base = "?" + urlencode({**kept, **kept_view})
    page_number = {"page": page.number} if page.number > 1 else {}
    view_links = [
        (name, "?" + urlencode({**kept, **({"view": name} if name != "table" else {}), **page_number}))
        for name in VIEWS
    ]
    cells = [
        [
            {
                "column": column,
                "value": row.get(column.key),
                "text": _cell_text(column, row.get(column.key)),
            }
            for column in found.columns
        ]
        for row in page.object_list
    ]
    return render(
        request,
        "search/results.html",
        {
            "q": text,
            "query": query,
            "results": found,
            "headers": headers,
            "page": page,
            "cells": cells if view == "table" else [],
            "cards": _cards(page.object_list) if view == "cards" else [],
            "view": view,
            "view_links": view_links,
            "page_base": page_base,
            "downloads": _downloads(found),
            "count": len(found.rows),
            "sky": _sky_points(found.rows),
        },
    )


def _cards(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One card per object of the page's rows (its first row there), with cutout and sparkline."""
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("objectId"):
            firsts.setdefault(row["objectId"], row)
    return [
        {
            "row": row,
            "magpsf": _cell_text(Column("magpsf", "mag", "number"), row.get("magpsf")),
            # The page's cutout URL, not the API route: fifty cards would spend its throttle.
            "cutout_url": reverse("objects:cutout", args=[object_id]) + "?kind=Science",
            "sparkline": sparkline_of_object(object_id=object_id),
        }
        for object_id, row in firsts.items()
    ]


def _sky_points(rows: list[dict[str, Any]]) -> dict[str, list]:
    """The positions of the result rows, for the sky plot (rows without one left out)."""
    placed = [r for r in rows if r.get("ra") is not None and r.get("dec") is not None]
    return {
        "ra": [r["ra"] for r in placed],
        "dec": [r["dec"] for r in placed],
        "id": [r["objectId"] for r in placed],
    }


_DECIMALS = {"ra": 5, "dec": 5, "magpsf": 2, "separation": 2}


def _cell_text(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{_DECIMALS.get(column.key, 3)}f}"
    return str(value)


def _downloads(found: Results) -> list[tuple[str, str]]:
    if not found.api_route:
        return []
    base = f"/api/v1/{found.api_route}"
    return [
        (fmt, base + "?" + urlencode({**found.api_params, "output-format": fmt}))
        for fmt in DOWNLOAD_FORMATS
    ]


def _nothing(
    request, text: str, message: str, hints: list[str], *, status: int, results: Results | None = None
):
    """The page of a search that shows nothing: why, searches that may be meant, examples."""
    examples = {example for example, _ in grammar.EXAMPLES}
    suggestions = [hint for hint in dict.fromkeys(hints) if hint != text and hint not in examples]
    return render(
        request,
        "search/nothing.html",
        {
            "q": text,
            "message": message[:1].upper() + message[1:],
            "suggestions": [(hint, "/search?" + urlencode({"q": hint})) for hint in suggestions[:6]],
            "results": results,
            "examples": grammar.EXAMPLES,
        },
        status=status,
    )


def _why_empty(query: grammar.Query) -> tuple[str, list[str]]:
    """Why a search found nothing, and searches to try instead."""
    if isinstance(query, grammar.ObjectQuery):
        # Did you mean: objects sharing the longest start of the id.
        for length in range(len(query.object_id) - 1, 6, -1):
            rows, _ = objects_with_prefix(prefix=query.object_id[:length], limit=5)
            if rows:
                return (f"No object {query.object_id} is held here.", [r["i:objectId"] for r in rows])
        return f"No object id starts with {query.object_id}.", _example_hints()
    if isinstance(query, grammar.ConeQuery):
        wider = min(query.radius_arcsec * 10, grammar.MAX_RADIUS_ARCSEC)
        return (
            f"No object within {_radius_text(query.radius_arcsec)} of that position"
            + (" in that date window." if query.after or query.before else "."),
            [f"{query.ra:.5f} {query.dec:+.5f} r={wider:g}s"],
        )
    if isinstance(query, grammar.ClassQuery):
        hints = [f"class={query.class_name} last={query.last}"] if query.after or query.before else []
        return (
            f"No alert of class {query.class_name}" + (" in that date window." if hints else "."),
            hints + _example_hints(),
        )
    if isinstance(query, grammar.SsoQuery):
        return _why_no_sso(query.name), ["9016", "sso=8467", "sso=2005 XM12"]
    if isinstance(query, grammar.TrackletQuery):
        return f"No tracklet starts with {query.prefix}.", [query.prefix[:13]] if len(
            query.prefix
        ) > 13 else ["TRCK_20240115"]
    if isinstance(query, grammar.DateQuery):
        return f"No alert on {query.day.isoformat()}.", _example_hints()
    return "Nothing found.", _example_hints()


def _why_no_sso(name: str) -> str:
    """Why a Solar System search found nothing: no alert of a known object, or a name not known."""
    label = sso_names.sso_label(name)
    if label != name or name.isdigit() or grammar.is_designation(name):
        return f"No alert of Solar System object {label} is held here."
    if sso_names.asteroid_names_loaded():
        known = "is not the name of a numbered asteroid in the Minor Planet Center's list loaded here"
    else:
        known = "is not a known asteroid name: no asteroid names are loaded on this portal"
    return (
        f"No alert of Solar System object {name}: {name} {known}. Asteroid numbers (8467) and "
        "designations (2005 XM12) work. Fink resolves names with the SsODNet service, which this "
        "portal does not call; it resolves them offline from the MPC's list of numbered minor "
        f"planets, which an operator loads with {sso_names.LOAD_COMMAND}."
    )


def _example_hints() -> list[str]:
    return [example for example, _ in grammar.EXAMPLES[:5]]

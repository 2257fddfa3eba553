"""The object page (``/ZTF21abfmbix``, ``/objects/ZTF21abfmbix``) and its lazily loaded panels.

The page itself reads one row (the object's summary), asks the user database nothing, and
renders at once; the detections and cross-matches, the alert table, the fits card and the
annotations are fetched by the browser afterwards from the small views below, and the light
curve is a Dash app in an iframe (``objects/dash_apps.py``), so that a slow panel never blanks the
page. Cutouts are ``<img>`` tags on :func:`cutout_image`, a page URL that draws them as the
``cutouts`` API route does but outside its throttle (a cards page shows fifty at once).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

from alerts.derived import VALUE_COLUMNS, classification_reason, jd_to_iso
from alerts.selectors.objects import (
    UnreadableCutout,
    alerts_of_object,
    cutout_of_alert,
    cutout_pixels,
    object_columns,
    object_summary,
)
from alerts.tables import Alert
from fits.api import FitJobOut
from fits.selectors import fit_jobs_of_object
from search.selectors import objects_with_prefix
from search.sso_names import asteroid_names
from store import StoreError

from .api import CutoutsParams
from .cutout_images import render_options_png
from .dash_apps import APP_NAME
from .lightcurve import BAND_NAMES, lightcurve_of_object

logger = logging.getLogger(__name__)

DOWNLOAD_FORMATS = ("csv", "json", "votable", "parquet")
#: Columns of the alert table panel.
ALERT_TABLE_COLUMNS = [
    "i:jd",
    "i:candid",
    "i:fid",
    "i:magpsf",
    "i:sigmapsf",
    "i:diffmaglim",
    "i:drb",
    "i:ra",
    "i:dec",
    "i:ssnamenr",
    "d:classification",
    "d:tracklet",
]
#: Columns of the latest alert the details panel reads (cross-matches, scores).
DETAIL_COLUMNS = [
    "i:jd",
    "i:ra",
    "i:dec",
    "i:ndethist",
    "i:ssnamenr",
    "i:neargaia",
    "i:maggaia",
    "i:distpsnr1",
    "i:sgscore1",
    "i:classtar",
    "d:cdsxmatch",
    "d:DR3Name",
    "d:Plx",
    "d:e_Plx",
    "d:gaiaClass",
    "d:gaiaVarFlag",
    "d:tns",
    "d:tnsclass",
    "d:gcvs",
    "d:vsx",
    "d:snn_snia_vs_nonia",
    "d:snn_sn_vs_all",
    "d:rf_snia_vs_nonia",
    "d:rf_kn_vs_nonkn",
    "d:mulens",
    "d:roid",
    "d:classification",
]


#: Columns of each alert the classification history reads: the class and what decides it.
HISTORY_COLUMNS = [
    "i:jd",
    "i:candid",
    "d:classification",
    "d:cdsxmatch",
    "d:roid",
    "d:mulens",
    "d:snn_snia_vs_nonia",
    "d:snn_sn_vs_all",
    "d:rf_snia_vs_nonia",
    "d:rf_kn_vs_nonkn",
    "d:tracklet",
]


# -- the page -------------------------------------------------------------------------------------
def object_page(request, object_id: str):
    """The object's page: summary card, then panels the browser fetches."""
    try:
        summary = object_summary(object_id=object_id)
    except StoreError as exc:
        logger.warning("object %s: store unavailable: %s", object_id, exc)
        return render(
            request, "objects/unavailable.html", {"object_id": object_id, "error": str(exc)}, status=503
        )
    if summary is None:
        return object_not_found(request, object_id)
    ra, dec = summary.get("i:ra"), summary.get("i:dec")
    first, last, start = jd_to_iso(
        [summary.get("i:firstjd"), summary.get("i:lastjd"), summary.get("i:jdstarthist")]
    )
    context = {
        "object_id": object_id,
        "summary": summary,
        "classification": summary.get("d:classification") or "Unknown",
        "nalerts": summary.get("d:nalerts"),
        "first_alert": (first or "")[:19],
        "last_alert": (last or "")[:19],
        "first_detection": (start or "")[:19],
        "coordinates": coordinates(ra, dec),
        "links": external_links(object_id, ra, dec),
        "downloads": [
            (
                fmt,
                "/api/v1/objects?"
                + urlencode({"objectId": object_id, "withupperlim": "true", "output-format": fmt}),
            )
            for fmt in DOWNLOAD_FORMATS
        ],
        "api_snippet": api_snippet(request, object_id),
        "solar_system": solar_system_object(_blank_none(summary.get("i:ssnamenr"))),
        "cutout_kinds": ("Science", "Template", "Difference"),
        "lightcurve_app": f"/django_plotly_dash/app/{APP_NAME}/?" + urlencode({"objectId": object_id}),
        "plotly_src": static("dash/component/plotly/package_data/plotly.min.js"),
    }
    return render(request, "objects/object.html", context)


#: How long a browser or proxy may keep the stamp of a named alert (it never changes).
CUTOUT_MAX_AGE = 7 * 24 * 3600


@require_GET
def cutout_image(request, object_id: str):
    """One stamp as a PNG for the pages' ``<img>`` tags (``/objects/<id>/cutout.png?kind=...``).

    The parameters and the drawing are the ``cutouts`` API route's (:class:`objects.api.CutoutsParams`,
    :func:`objects.cutout_images.render_png`), PNG only. Pages are not throttled, so a cards page of
    fifty objects does not spend an anonymous visitor's API allowance. 400 for a bad parameter, 404
    (no image) when the object or that alert has no such stamp.
    """
    params = CutoutsParams(data={**request.GET.dict(), "objectId": object_id})
    if not params.is_valid() or params.validated_data["kind"] not in ("Science", "Template", "Difference"):
        errors = params.errors if params.errors else {"kind": "Science, Template or Difference"}
        return HttpResponse(json.dumps(errors), status=400, content_type="application/json")
    options = params.validated_data
    candid = options.get("candid")
    try:
        found = cutout_of_alert(object_id=object_id, kind=options["kind"], candid=candid)
        if found is None:
            return HttpResponse(f"no {options['kind']} stamp", status=404, content_type="text/plain")
        png = render_options_png(cutout_pixels(found[0]), options)
    except UnreadableCutout:
        return HttpResponse("unreadable stamp", status=404, content_type="text/plain")
    except StoreError as exc:
        return HttpResponse(f"store unavailable: {exc}", status=503, content_type="text/plain")
    response = HttpResponse(png, content_type="image/png")
    response["X-Candid"] = str(found[1])
    # The latest stamp changes when a new alert arrives; a named alert's never does.
    response["Cache-Control"] = f"public, max-age={CUTOUT_MAX_AGE}" if candid is not None else "no-cache"
    return response


def solar_system_object(ssnamenr: str, *, with_name: bool = False) -> dict[str, str] | None:
    """The asteroid an object's alerts are of (``i:ssnamenr``): its number or designation, the
    search of all its alerts and, ``with_name``, its name when the loaded MPC list knows it (a
    query of the user database, which the page leaves to its ``solar_system_panel``). None for no
    asteroid."""
    if not ssnamenr:
        return None
    name = asteroid_names([ssnamenr]).get(int(ssnamenr)) if with_name and ssnamenr.isdigit() else None
    return {
        "ssnamenr": ssnamenr,
        "name": name or "",
        "search_url": reverse("search:search") + "?" + urlencode({"q": ssnamenr}),
    }


@require_GET
def solar_system_panel(request, object_id: str):
    """The summary's Solar System line with the asteroid's name (HTML fragment): the page shows
    the number at once and asks the name table only here, so that it queries no database."""
    try:
        summary = object_summary(object_id=object_id)
    except StoreError as exc:
        return render(request, "objects/panel_error.html", {"error": str(exc)}, status=503)
    solar = solar_system_object(_blank_none((summary or {}).get("i:ssnamenr")), with_name=True)
    if solar is None:
        raise Http404(f"{object_id} is no Solar System object")
    return render(request, "objects/panel_solar_system.html", {"solar_system": solar})


@require_GET
def lightcurve_detections(request, object_id: str):
    """The object's detections (alerts, ``d:tag`` valid) as JSON for folding in the browser:
    ``{"objectId", "jd": [...], "mag": [...], "err": [...], "band": ["g", ...]}``, oldest first.

    A page URL, not the ``objects`` API route: the light-curve card's Fold button is for anyone
    and should not spend an anonymous visitor's API allowance."""
    try:
        data = lightcurve_of_object(object_id=object_id)
    except StoreError as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    points = data["points"]
    valid = [i for i, tag in enumerate(points["tag"]) if tag == "valid" and _finite(float(points["mag"][i]))]
    if not valid and not data["counts"]["upperlim"]:
        return JsonResponse({"error": f"no object {object_id}"}, status=404)

    def rounded(column: str, decimals: int) -> list[float | None]:
        return [round(float(points[column][i]), decimals) if _finite(float(points[column][i])) else None for i in valid]

    return JsonResponse(
        {
            "objectId": object_id,
            "jd": [float(points["jd"][i]) for i in valid],
            "mag": rounded("mag", 4),
            "err": rounded("err", 4),
            "band": [str(points["band"][i]) for i in valid],
        }
    )


def fits_panel_context(object_id: str, ssnamenr: str) -> dict[str, Any]:
    """The Fits card: the object's kept fits as ``/api/v1/fits`` shows them, plus who asked
    (which the API leaves out), and the asteroid name that phase-curve fits are keyed by."""
    jobs = fit_jobs_of_object(object_ids=[object_id, ssnamenr])
    return {
        "object_id": object_id,
        "ssnamenr": ssnamenr,
        "fit_jobs": [
            {
                **FitJobOut(job).data,
                "requestedBy": job.requested_by.get_username() if job.requested_by else None,
                "foldPeriod": _fold_period(job),
            }
            for job in jobs
        ],
    }


def _fold_period(job) -> float | None:
    """The period a done period fit found (or was given), for the card's "fold on this period"."""
    if job.kind != "period" or job.status != "done" or not isinstance(job.result, dict):
        return None
    period = (job.result.get("params") or {}).get("period")
    return float(period) if _finite(period) else None


def object_not_found(request, object_id: str):
    """A friendly 404: the id is not held; objects with a similar id, if any."""
    similar: list[str] = []
    for length in range(len(object_id) - 1, 6, -1):
        rows, _ = objects_with_prefix(prefix=object_id[:length], limit=6)
        if rows:
            similar = [row["i:objectId"] for row in rows]
            break
    return render(
        request, "objects/not_found.html", {"object_id": object_id, "similar": similar}, status=404
    )


def coordinates(ra: float | None, dec: float | None) -> dict[str, str] | None:
    """Equatorial (degrees and sexagesimal) and galactic coordinates, as display strings."""
    if ra is None or dec is None or not (math.isfinite(ra) and math.isfinite(dec)):
        return None
    longitude, latitude = galactic(ra, dec)
    return {
        "ra": f"{ra:.6f}",
        "dec": f"{dec:+.6f}",
        "ra_hms": sexagesimal(math.fmod(ra, 360.0) % 360.0 * _DEG_TO_HOURANGLE, precision=2),
        "dec_dms": sexagesimal(dec, precision=1, alwayssign=True),
        "l": f"{longitude:.5f}",
        "b": f"{latitude:+.5f}",
    }


#: astropy's degree -> hour angle scale (1 h = 15 deg), so that the hours match its to_string.
_DEG_TO_HOURANGLE = 1.0 / 15.0


def sexagesimal(value: float, *, precision: int, alwayssign: bool = False) -> str:
    """``value`` (hours or degrees) as ``[+-]DD:MM:SS.s…``, the string astropy's
    ``Angle.to_string(sep=":", pad=True, precision=..., alwayssign=...)`` gives.

    The same floating-point steps as astropy's formatter (split, round the seconds, carry),
    without building an Angle: astropy took 0.1 ms of each page view for two strings.
    """
    sign = math.copysign(1.0, value)
    fraction, whole = math.modf(abs(value))
    fraction, minutes = math.modf(fraction * 60.0)
    seconds = fraction * 60.0
    if round(seconds, precision) >= 60.0:
        seconds, minutes = 0.0, minutes + 1.0
    if minutes >= 60.0:
        minutes, whole = 0.0, whole + 1.0
    last = f"{seconds:.{precision}f}"
    if len(last) == 1 or last[1] == ".":
        last = "0" + last
    text = f"{math.copysign(whole, sign):0{3 if sign < 0 else 2}.0f}:{int(minutes):02d}:{last}"
    return "+" + text if alwayssign and not text.startswith("-") else text


@functools.cache
def _icrs_to_galactic() -> np.ndarray:
    """astropy's ICRS -> galactic rotation (3×3), read once from the images of the ICRS axes.

    The transform is a fixed rotation; asking a SkyCoord for ``.galactic`` on every page view
    cost several milliseconds (half of the page's time), the rotation a few microseconds.
    """
    from astropy.coordinates import SkyCoord

    axes = SkyCoord(
        x=[1.0, 0.0, 0.0], y=[0.0, 1.0, 0.0], z=[0.0, 0.0, 1.0],
        representation_type="cartesian", frame="icrs",
    )
    return np.asarray(axes.galactic.cartesian.xyz.value, dtype=float)  # column k: image of axis k


def galactic(ra: float, dec: float) -> tuple[float, float]:
    """Galactic longitude and latitude [deg] of an ICRS position [deg] (astropy's frames)."""
    a, d = math.radians(ra), math.radians(dec)
    x, y, z = _icrs_to_galactic() @ np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.asin(max(-1.0, min(1.0, z))))


def external_links(object_id: str, ra: float | None, dec: float | None) -> list[tuple[str, str]]:
    """Links to the object at other services (by position where they have no ZTF id)."""
    links = [
        ("Fink", f"https://fink-portal.org/{object_id}"),
        ("ALeRCE", f"https://alerce.online/object/{object_id}"),
        ("Lasair", f"https://lasair-ztf.lsst.ac.uk/objects/{object_id}/"),
        (
            "ANTARES",
            "https://antares.noirlab.edu/loci?query="
            + quote(
                '{"currentPage":1,"filters":[{"type":"query_string","field":{"query":"*'
                + object_id
                + '*","fields":["properties.ztf_object_id"]},"value":null,"text":"ZTF Object ID"}],'
                '"sortBy":"properties.newest_alert_observation_time","sortDesc":true,"perPage":25}'
            ),
        ),
    ]
    if ra is not None and dec is not None and math.isfinite(ra) and math.isfinite(dec):
        links.insert(
            0,
            (
                "SIMBAD",
                "https://simbad.cds.unistra.fr/simbad/sim-coo?"
                + urlencode({"Coord": f"{ra:.6f} {dec:+.6f}", "Radius": "5", "Radius.unit": "arcsec"}),
            ),
        )
        links.insert(
            1,
            (
                "TNS",
                "https://www.wis-tns.org/search?"
                + urlencode(
                    {"ra": f"{ra:.6f}", "decl": f"{dec:+.6f}", "radius": "5", "coords_unit": "arcsec"}
                ),
            ),
        )
    return links


def api_snippet(request, object_id: str) -> str:
    """Python that downloads this light curve from the API (shown, with a copy button)."""
    base = request.build_absolute_uri("/api/v1/objects")
    return (
        "import io\n\nimport pandas as pd\nimport requests\n\n"
        f'r = requests.post(\n    "{base}",\n'
        "    json={\n"
        f'        "objectId": "{object_id}",\n'
        '        "withupperlim": True,\n'
        '        "output-format": "json",\n'
        "    },\n)\n"
        "lightcurve = pd.read_json(io.BytesIO(r.content))"
    )


# -- the lazily loaded panels ---------------------------------------------------------------------
# Each answers an HTML fragment that static/objects/object.js puts in its place on the page (and
# whose scripts it runs); an error is a fragment too, with a Retry button.
@require_GET
def fits_panel(request, object_id: str):
    """The Fits card (HTML fragment): forms to start fits and the kept fits of the object (and,
    for an asteroid, of its name). Its script, static/js/fits.js, runs once it is in the page."""
    try:
        summary = object_summary(object_id=object_id)
    except StoreError as exc:
        return render(request, "objects/panel_error.html", {"error": str(exc)}, status=503)
    if summary is None:
        raise Http404(f"no object {object_id}")
    context = fits_panel_context(object_id, _blank_none(summary.get("i:ssnamenr")))
    return render(request, "objects/panel_fits.html", context)


@require_GET
def annotations_panel(request, object_id: str):
    """The annotations card (HTML fragment): the accounts app's ``{% annotations_panel %}``."""
    return render(request, "objects/panel_annotations.html", {"object_id": object_id})


@require_GET
def alerts_panel(request, object_id: str):
    """The alert table (HTML fragment), newest first."""
    try:
        rows = alerts_of_object(object_ids=[object_id], columns=ALERT_TABLE_COLUMNS)
    except StoreError as exc:
        return render(request, "objects/panel_error.html", {"error": str(exc)}, status=503)
    dates = jd_to_iso([row["i:jd"] for row in rows])
    shown = []
    for row, date in zip(rows, dates):
        shown.append(
            {
                "date": (date or "")[:19],
                "jd": row.get("i:jd"),
                "candid": row.get("i:candid"),
                "band": BAND_NAMES.get(row.get("i:fid"), ""),
                "mag": _num(row.get("i:magpsf"), 3),
                "err": _num(row.get("i:sigmapsf"), 3),
                "limit": _num(row.get("i:diffmaglim"), 2),
                "drb": _num(row.get("i:drb"), 2),
                "ra": _num(row.get("i:ra"), 5),
                "dec": _num(row.get("i:dec"), 5),
                "ssnamenr": _blank_none(row.get("i:ssnamenr")),
                "classification": row.get("d:classification") or "",
                "tracklet": _blank_none(row.get("d:tracklet")),
            }
        )
    return render(
        request,
        "objects/panel_alerts.html",
        {"rows": shown, "truncated": rows.truncated, "object_id": object_id},
    )


@require_GET
def details_panel(request, object_id: str):
    """Counts, cross-matches and classifier scores of the latest alert, and the classification
    history (HTML fragment)."""
    try:
        latest = alerts_of_object(object_ids=[object_id], columns=DETAIL_COLUMNS)
        tags = alerts_of_object(object_ids=[object_id], columns=HISTORY_COLUMNS, with_upper_limits=True)
    except StoreError as exc:
        return render(request, "objects/panel_error.html", {"error": str(exc)}, status=503)
    if not latest:
        raise Http404(f"no object {object_id}")
    row = latest[0]
    counts = {tag: 0 for tag in ("valid", "upperlim", "badquality")}
    for item in tags:
        counts[item["d:tag"]] = counts.get(item["d:tag"], 0) + 1
    context = {
        "counts": counts,
        "ndethist": row.get("i:ndethist"),
        "crossmatches": [(name, value) for name, value in _crossmatches(row) if value],
        "scores": [(name, value) for name, value in _scores(row) if value],
        "history": classification_history([item for item in tags if item["d:tag"] == "valid"]),
    }
    return render(request, "objects/panel_details.html", context)


def classification_history(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The object's classification over time: one entry per run of alerts with the same class.

    Parameters
    ----------
    alerts : list of dict
        Alert rows with :data:`HISTORY_COLUMNS`, in any order.

    Returns
    -------
    list of dict
        Oldest first: ``classification``, ``first`` and ``last`` (ISO dates of the run's first and
        last alert), ``count`` (alerts in the run), ``candid`` (the run's first alert) and
        ``decided_by`` (what set the class at that alert, for the reader).
    """
    ordered = sorted(alerts, key=lambda row: row["i:jd"])
    dates = jd_to_iso([row["i:jd"] for row in ordered])
    runs: list[dict[str, Any]] = []
    for row, date in zip(ordered, dates):
        label = row.get("d:classification") or "Unknown"
        if runs and runs[-1]["classification"] == label:
            runs[-1]["last"] = (date or "")[:19]
            runs[-1]["count"] += 1
            continue
        runs.append(
            {
                "classification": label,
                "first": (date or "")[:19],
                "last": (date or "")[:19],
                "count": 1,
                "candid": row.get("i:candid"),
                "decided_by": classification_reason(label, row),
            }
        )
    return runs


# -- one alert's content --------------------------------------------------------------------------
#: Groups of the alert content panel, in order: a title and a test on the column name (the first
#: group whose test holds takes the column).
ALERT_GROUPS: list[tuple[str, Any]] = [
    ("Fink classification", re.compile(r"^[dv]:(classification|finkclass)$").match),
    (
        "Fink scores",
        re.compile(r"^d:(rf_|snn|mulens|t2$|slsn|is_transient|anomaly)").match,
    ),
    (
        "Fink cross-matches",
        re.compile(
            r"^d:(cdsxmatch|DR3Name|Plx|e_Plx|gaia|gcvs|vsx|x3hsp|x4lac|mangrove|spicy|tns|manga|symbiotic)"
        ).match,
    ),
    ("Solar System", re.compile(r"^(d:(roid|tracklet)|i:ss)").match),
    (
        "Light-curve features and history",
        re.compile(
            r"^d:(lc_features|c[a-z]|mag_rate|sigma_rate|lower_rate|upper_rate|delta_time|from_upper"
            r"|jd_first|jdstarthist_dt|nalerthist|blazar)"
        ).match,
    ),
    ("Broker", re.compile(r"^d:").match),
    (
        "ZTF: nearby catalogue sources (PS1, Gaia)",
        re.compile(r"^i:(objectidps|s[girz]mag|sgscore|distpsnr|nmtchps|neargaia|maggaia)").match,
    ),
    (
        "ZTF: reference image and calibration",
        re.compile(r"^i:(rfid|jdstartref|jdendref|nframesref|magzp|clr|zp|nmatches|dsnrms|ssnrms|dsdiff)").match,
    ),
    ("ZTF candidate", re.compile(r"^i:").match),
]
#: What the panel shows for a missing value.
NO_VALUE = "—"


def alert_content_columns() -> list[str]:
    """Every stored column of an alert (no stamps, no values computed over the light curve)."""
    return [c for c in object_columns() if c not in VALUE_COLUMNS]


def alert_content_groups(row: dict[str, Any]) -> list[dict[str, Any]]:
    """One alert's columns as display groups: ``[{"title", "fields": [{"column", "value", "doc"}]}]``,
    groups in :data:`ALERT_GROUPS` order, columns in the table's order within a group."""
    groups: dict[str, list[dict[str, str]]] = {title: [] for title, _ in ALERT_GROUPS}
    for column, value in row.items():
        title = next((title for title, test in ALERT_GROUPS if test(column)), "Other")
        field_ = Alert.fields_by_column.get(column)
        groups.setdefault(title, []).append(
            {"column": column, "value": format_alert_value(column, value), "doc": field_.doc if field_ else ""}
        )
    return [{"title": title, "fields": fields} for title, fields in groups.items() if fields]


def format_alert_value(column: str, value: Any) -> str:
    """A value of an alert column as shown: floats to a sensible precision (Julian dates with
    their UTC date), lists and structures as compact JSON, missing values as :data:`NO_VALUE`."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NO_VALUE
    if isinstance(value, str):
        return value if value.strip() not in ("", "null", "None", "nan", "NaN") else NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if re.search(r"jd", column, re.IGNORECASE) and value > 2_400_000:
            iso = jd_to_iso([value])[0]
            return f"{value:.6f}" + (f" ({iso[:19]} UTC)" if iso else "")
        return f"{value:.8g}" if abs(value) < 1e8 else f"{value:.1f}"
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not value:
            return NO_VALUE
        return json.dumps(value, default=str, allow_nan=True)
    return str(value)


def _panel_message(request, message: str, status: int):
    """A fragment saying what went wrong, in words; object.js shows it in place (``X-Panel-Message``)."""
    response = render(request, "objects/panel_message.html", {"message": message}, status=status)
    response["X-Panel-Message"] = "1"
    return response


@require_GET
def alert_panel(request, object_id: str):
    """The full content of one alert of the object (HTML fragment): ``?candid=``, or the latest."""
    raw = request.GET.get("candid", "").strip()
    candid = None
    if raw:
        try:
            candid = int(raw)
        except ValueError:
            return _panel_message(request, f"“{raw}” is not an alert id (a candid is a number).", 400)
    try:
        rows = alerts_of_object(object_ids=[object_id], columns=alert_content_columns(), padded=False)
    except StoreError as exc:
        return render(request, "objects/panel_error.html", {"error": str(exc)}, status=503)
    if not rows:
        return _panel_message(request, f"No alert of {object_id} is held.", 404)
    row = rows[0] if candid is None else next((r for r in rows if r.get("i:candid") == candid), None)
    if row is None:
        return _panel_message(
            request,
            f"{object_id} has no alert {candid}: pick a point of the light curve or a row of the alert table.",
            404,
        )
    order = {name: i for i, name in enumerate(rows.columns or alert_content_columns())}
    ordered = dict(sorted(((c, row.get(c)) for c in order), key=lambda item: order[item[0]]))
    date = jd_to_iso([row.get("i:jd")])[0]
    context = {
        "object_id": object_id,
        "candid": row.get("i:candid"),
        "date": (date or "")[:19],
        "latest": row is rows[0],
        "groups": alert_content_groups(ordered),
        "ncolumns": len(ordered),
    }
    return render(request, "objects/panel_alert.html", context)


def _crossmatches(row: dict[str, Any]) -> list[tuple[str, str]]:
    gaia = _blank_none(row.get("d:DR3Name"))
    plx = row.get("d:Plx")
    if gaia and _finite(plx):
        gaia += f" (parallax {_num(plx, 3)} ± {_num(row.get('d:e_Plx'), 3)} mas)"
    distance = row.get("i:neargaia")
    near = ""
    if _finite(distance) and distance >= 0:  # ZTF writes -999 when there is none
        near = f"{distance:.2f}″ away, G = {_num(row.get('i:maggaia'), 2)}"
    return [
        ("SIMBAD", _xmatch(row.get("d:cdsxmatch"))),
        ("Gaia DR3", gaia),
        ("Gaia class", _xmatch(row.get("d:gaiaClass"))),
        ("TNS", _xmatch(row.get("d:tns")) or _xmatch(row.get("d:tnsclass")).removeprefix("(TNS) ")),
        ("GCVS", _xmatch(row.get("d:gcvs"))),
        ("VSX", _xmatch(row.get("d:vsx"))),
        ("Nearest Gaia source", near),
        ("Solar System (MPC)", _blank_none(row.get("i:ssnamenr"))),
    ]


def _scores(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("SuperNNova: SN Ia", _num(row.get("d:snn_snia_vs_nonia"), 3)),
        ("SuperNNova: SN", _num(row.get("d:snn_sn_vs_all"), 3)),
        ("Random forest: SN Ia", _num(row.get("d:rf_snia_vs_nonia"), 3)),
        ("Kilonova score", _num(row.get("d:rf_kn_vs_nonkn"), 3)),
        ("Star/galaxy (classtar)", _num(row.get("i:classtar"), 3)),
        ("Asteroid flag (roid)", "" if row.get("d:roid") is None else str(row.get("d:roid"))),
    ]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any, decimals: int) -> str:
    return f"{value:.{decimals}f}" if _finite(value) else ""


def _blank_none(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return "" if value is None or str(value).strip() in ("", "null", "None", "nan", "NaN") else str(value)


def _xmatch(value: Any) -> str:
    text = _blank_none(value)
    return "" if text in ("Unknown", "Fail") or text.startswith("Fail") or text == "nan" else text

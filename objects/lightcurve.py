"""The light curve of an object as the page's plot draws it: one array per quantity.

The selector gives the rows (alerts, upper limits, bad-quality points, told apart by ``d:tag``);
this turns them into columns the browser plots without further arithmetic: difference magnitudes,
DC (apparent) magnitudes and difference fluxes, each with its error, from ``alerts.derived``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from alerts.derived import dc_mag, jd_to_iso, mag_to_flux
from alerts.selectors.objects import TAG_COLUMN, alerts_of_object

#: Columns the plot needs (read narrowly: a light curve can hold thousands of points).
LIGHTCURVE_COLUMNS = [
    "i:jd",
    "i:fid",
    "i:magpsf",
    "i:sigmapsf",
    "i:diffmaglim",
    "i:magnr",
    "i:sigmagnr",
    "i:isdiffpos",
    "i:candid",
    "i:magzpsci",
]
BAND_NAMES = {1: "g", 2: "r", 3: "i"}


def _clean(values: Any) -> list[float | None]:
    """A float array as JSON-ready numbers (NaN -> None)."""
    return [
        None if v is None or not math.isfinite(v) else round(float(v), 6) for v in np.asarray(values, float)
    ]


def lightcurve_of_object(*, object_id: str) -> dict[str, Any]:
    """The plot data of an object: ``{"objectId", "points": {column: list}, "counts", "truncated"}``.

    ``points`` has one entry per row, oldest first: ``jd``, ``date`` (UTC ISO), ``band`` (g/r/i),
    ``tag`` (valid/upperlim/badquality), ``candid`` (a string: JavaScript numbers cannot hold
    it), ``mag``/``err`` (PSF difference magnitude), ``limit`` (5-sigma limiting magnitude),
    ``dcmag``/``dcerr`` (apparent magnitude), ``flux``/``fluxerr`` (difference flux, uJy).
    """
    found = alerts_of_object(object_ids=[object_id], columns=LIGHTCURVE_COLUMNS, with_upper_limits=True)
    rows = list(reversed(found))  # oldest first: lines drawn in time order

    def column(name: str) -> list:
        return [row.get(name) for row in rows]

    def floats(name: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in column(name)], float)

    mag, err = floats("i:magpsf"), floats("i:sigmapsf")
    isdiffpos = [row.get("i:isdiffpos") or "t" for row in rows]
    dcmag, dcerr = dc_mag(
        floats("i:fid"), mag, err, floats("i:magnr"), floats("i:sigmagnr"), floats("i:magzpsci"), isdiffpos
    )
    flux, fluxerr = mag_to_flux(mag, err, isdiffpos)
    tags = column(TAG_COLUMN)
    counts = {tag: tags.count(tag) for tag in ("valid", "upperlim", "badquality")}
    candids = column("i:candid")
    return {
        "objectId": object_id,
        "points": {
            "jd": _clean(floats("i:jd")),
            "date": jd_to_iso(column("i:jd")),
            "band": [BAND_NAMES.get(fid, str(fid)) for fid in column("i:fid")],
            "tag": tags,
            "candid": [None if c in (None, -1) else str(c) for c in candids],
            "mag": _clean(mag),
            "err": _clean(err),
            "limit": _clean(floats("i:diffmaglim")),
            "dcmag": _clean(np.atleast_1d(dcmag)),
            "dcerr": _clean(np.atleast_1d(dcerr)),
            "flux": _clean(np.atleast_1d(flux)),
            "fluxerr": _clean(np.atleast_1d(fluxerr)),
        },
        "counts": counts,
        "truncated": found.truncated,
    }

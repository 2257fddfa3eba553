"""The light curve of an object as the page's plot draws it: one numpy array per quantity.

The selector gives the rows (alerts, upper limits, bad-quality points, told apart by ``d:tag``);
this turns them into columns the plot draws without further arithmetic: difference magnitudes,
DC (apparent) magnitudes and difference fluxes, each with its error, from ``alerts.derived``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alerts.derived import dc_mag, mag_to_flux
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
#: Julian date of the Unix epoch, and milliseconds a day: plotly's date axes take ms numbers.
_JD_UNIX_EPOCH, _MS_PER_DAY = 2440587.5, 86_400_000.0


def lightcurve_of_object(*, object_id: str) -> dict[str, Any]:
    """The plot data of an object: ``{"objectId", "points": {column: array}, "counts", "truncated"}``.

    ``points`` has one entry per row, oldest first, as numpy arrays (NaN where a value is
    missing): ``jd``; ``time`` (ms since 1970-01-01 UTC, what a plotly date axis takes);
    ``band`` (g/r/i) and ``tag`` (valid/upperlim/badquality), arrays of str; ``candid`` (str or
    None: JavaScript numbers cannot hold it); ``mag``/``err`` (PSF difference magnitude);
    ``limit`` (5-sigma limiting magnitude); ``dcmag``/``dcerr`` (apparent magnitude);
    ``flux``/``fluxerr`` (difference flux, uJy).
    """
    found = alerts_of_object(object_ids=[object_id], columns=LIGHTCURVE_COLUMNS, with_upper_limits=True)
    rows = list(reversed(found))  # oldest first

    def floats(name: str) -> np.ndarray:
        return np.array([row.get(name) for row in rows], dtype=float)  # None -> NaN

    jd, fid = floats("i:jd"), floats("i:fid")
    mag, err = floats("i:magpsf"), floats("i:sigmapsf")
    isdiffpos = [row.get("i:isdiffpos") or "t" for row in rows]
    dcmag, dcerr = dc_mag(fid, mag, err, floats("i:magnr"), floats("i:sigmagnr"), floats("i:magzpsci"), isdiffpos)
    flux, fluxerr = mag_to_flux(mag, err, isdiffpos)
    tags = np.array([row.get(TAG_COLUMN) for row in rows], dtype=object)
    return {
        "objectId": object_id,
        "points": {
            "jd": jd,
            "time": (jd - _JD_UNIX_EPOCH) * _MS_PER_DAY,
            "band": np.array([BAND_NAMES.get(row.get("i:fid"), str(row.get("i:fid"))) for row in rows], dtype=object),
            "tag": tags,
            "candid": [None if row.get("i:candid") in (None, -1) else str(row["i:candid"]) for row in rows],
            "mag": mag,
            "err": err,
            "limit": floats("i:diffmaglim"),
            "dcmag": np.atleast_1d(np.asarray(dcmag, dtype=float)),
            "dcerr": np.atleast_1d(np.asarray(dcerr, dtype=float)),
            "flux": np.atleast_1d(np.asarray(flux, dtype=float)),
            "fluxerr": np.atleast_1d(np.asarray(fluxerr, dtype=float)),
        },
        "counts": {tag: int(np.count_nonzero(tags == tag)) for tag in ("valid", "upperlim", "badquality")},
        "truncated": found.truncated,
    }

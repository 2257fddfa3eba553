"""Reads of the fits app: the light curve a fitter takes, and fit jobs.

Light curves come from the store through the alert selectors (an object's alerts plus its
bad-quality history detections) or, for asteroid phase curves, from Fink's aggregated asteroid
light curves (``SsoLightcurve``, keyed by ``ssnamenr``), the only table holding the ephemerides
(phase angle, distances) a phase-curve fit needs.
"""
from __future__ import annotations

from django.db.models import QuerySet

from alerts.selectors.objects import TAG_COLUMN, TAG_UPPERLIM, alerts_of_object
from alerts.tables import Alert, SsoLightcurve
from store import BadKey, TableMissing, get_store

from .fitters import LightCurve
from .models import FitJob

#: Fit kinds whose ``object_id`` is an asteroid name rather than a ZTF objectId.
SSO_KINDS = frozenset({"phase_curve"})

# What LightCurve.from_alert_rows reads: the PSF magnitude, and what DC magnitudes need.
LIGHTCURVE_COLUMNS = (
    "i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:isdiffpos",
    "i:magnr", "i:sigmagnr", "i:distnr", "i:ra", "i:dec",
)


class NoLightCurve(LookupError):
    """The store holds no light curve for this object (unknown id, or no usable table)."""


def lightcurve_of_object(*, object_id: str, kind: str) -> LightCurve:
    """The light curve a ``kind`` fit of ``object_id`` runs on.

    Parameters
    ----------
    object_id : str
        A ZTF objectId, or an asteroid name / number (``ssnamenr``) when ``kind`` is in
        :data:`SSO_KINDS`.
    kind : str
        The fitter kind.

    Returns
    -------
    LightCurve
        Alerts and bad-quality history detections (upper limits left out), oldest first; or
        the asteroid's aggregated light curve with its ephemerides.

    Raises
    ------
    NoLightCurve
        Nothing stored for this object.
    store.StoreUnavailable
        The store cannot be reached.
    """
    if kind in SSO_KINDS:
        return _asteroid_lightcurve(object_id)
    rows = alerts_of_object(object_ids=[object_id], columns=LIGHTCURVE_COLUMNS, with_upper_limits=True)
    detections = [r for r in rows if r.get(TAG_COLUMN) != TAG_UPPERLIM and r.get("i:magpsf") is not None]
    if not detections:
        raise NoLightCurve(f"no alert of {object_id} in the store")
    detections.reverse()  # the selector gives newest first
    return LightCurve.from_alert_rows(detections, name=object_id)


def _asteroid_lightcurve(ssnamenr: str) -> LightCurve:
    try:
        row = get_store()[SsoLightcurve].get((ssnamenr,))
    except (BadKey, TableMissing):
        row = None
    if row is None or not row.get("d:data"):
        raise NoLightCurve(f"no aggregated light curve of asteroid {ssnamenr} in the store")
    return LightCurve.from_sso_aggregate(row["d:data"])


def lightcurve_exists(*, object_id: str, kind: str) -> bool:
    """Whether the store holds anything to fit for this object (one short read, no decoding)."""
    try:
        if kind in SSO_KINDS:
            return get_store()[SsoLightcurve].get((object_id,), columns=["d:ssnamenr"]) is not None
        with get_store()[Alert].scan((object_id,), columns=["i:jd"], limit=1) as scan:
            return next(scan, None) is not None
    except (BadKey, TableMissing):
        return False


def fit_jobs(*, object_id: str | None = None, kind: str | None = None, status: str | None = None) -> QuerySet[FitJob]:
    """Fit jobs, newest first, optionally of one object, kind or status."""
    jobs = FitJob.objects.select_related("requested_by")
    if object_id:
        jobs = jobs.of_object(object_id)
    if kind:
        jobs = jobs.filter(kind=kind)
    if status:
        jobs = jobs.filter(status=status)
    return jobs


def fit_jobs_of_object(*, object_ids: list[str], limit: int = 50) -> list[FitJob]:
    """The latest fit jobs of an object, newest first, with who asked for each.

    ``object_ids`` is the ZTF objectId and, for an asteroid, its ``ssnamenr``: phase-curve fits
    are kept under the asteroid's name (:data:`SSO_KINDS`).
    """
    ids = [i for i in object_ids if i]
    return list(FitJob.objects.select_related("requested_by").filter(object_id__in=ids)[:limit])

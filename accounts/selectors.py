"""Reads of user data (tokens, annotations, watchlists, saved searches) and the watchlist's reads
of the alert store.

The store is read through the alert selectors only (``alerts.selectors``): an object's alerts by
``alerts_of_object``, a cone's objects by ``alerts_in_cone``.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from alerts.derived import jd_to_iso
from alerts.selectors.objects import alerts_of_object
from alerts.selectors.search import alerts_in_cone
from search.models import ObjectAnnotation
from store import StoreError

from .models import ApiToken, SavedSearch, WatchlistEntry, hash_api_key

logger = logging.getLogger(__name__)

#: New alerts listed per watchlist entry at most (all are counted).
MAX_SHOWN_PER_ENTRY = 20
#: Objects a watched cone returns at most (the nearest are kept; a cut says so).
MAX_CONE_OBJECTS = 1000
#: Columns the watchlist reads of each alert.
WATCH_COLUMNS = ("i:objectId", "i:jd", "i:candid", "i:fid", "i:magpsf", "i:sigmapsf", "d:classification")


# -- tokens -----------------------------------------------------------------------------------------
def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    """The user's API tokens, newest first."""
    return ApiToken.objects.filter(user=user)


def api_token_of_key(*, key: str) -> ApiToken | None:
    """The token whose key is ``key`` (with its user), or None."""
    return ApiToken.objects.select_related("user").filter(key_hash=hash_api_key(key)).first()


# -- annotations ------------------------------------------------------------------------------------
def annotations_of_object(*, object_id: str) -> QuerySet[ObjectAnnotation]:
    """Every user's annotation of an object, newest first, with its author."""
    return ObjectAnnotation.objects.of_object(object_id).select_related("user")


def annotations_of_user(*, user) -> QuerySet[ObjectAnnotation]:
    """The user's annotations, newest first."""
    return ObjectAnnotation.objects.filter(user=user)


# -- saved searches ---------------------------------------------------------------------------------
def saved_searches_of(*, user) -> QuerySet[SavedSearch]:
    """The user's saved searches, by name."""
    return SavedSearch.objects.filter(user=user)


# -- watchlist --------------------------------------------------------------------------------------
def watchlist_of(*, user) -> QuerySet[WatchlistEntry]:
    """The user's watchlist, oldest entry first."""
    return WatchlistEntry.objects.filter(user=user)


def is_watched(*, user, object_id: str) -> bool:
    """Whether the user watches the object."""
    if not user.is_authenticated:
        return False
    return WatchlistEntry.objects.filter(user=user, kind=WatchlistEntry.OBJECT, object_id=object_id).exists()


@dataclass
class WatchReport:
    """What is new for one watchlist entry.

    ``new`` holds the new alerts (newest first, at most :data:`MAX_SHOWN_PER_ENTRY`), each a dict
    with ``objectId``, ``jd``, ``date``, ``candid``, ``band``, ``magpsf``, ``sigmapsf``,
    ``classification`` and, for a cone, ``separation_arcsec``; ``new_count`` counts them all.
    For a cone, each object counts with its latest alert. ``newest_jd`` is the time of the newest
    alert read (new or not); ``error`` says why the store could not be read.
    """

    entry: WatchlistEntry
    new: list[dict[str, Any]] = field(default_factory=list)
    new_count: int = 0
    newest_jd: float | None = None
    newest_date: str | None = None
    truncated: bool = False
    error: str | None = None


_BANDS = {1: "g", 2: "r", 3: "i"}


def watch_newest_jd(*, entry: WatchlistEntry) -> float | None:
    """Time (JD) of the newest alert of the entry, None if none (or the store is unreadable)."""
    try:
        rows, _ = _alerts_of_entry(entry)
    except (StoreError, ValueError) as exc:
        logger.warning("watchlist entry %s: %s", entry.pk, exc)
        return None
    return max((r["i:jd"] for r in rows), default=None)


def watch_report(*, entry: WatchlistEntry) -> WatchReport:
    """The alerts of ``entry`` newer than its ``seen_jd`` (all of them when it is not set).

    Reads the store; writes nothing (:func:`accounts.services.watchlist_visit` marks them seen).
    """
    report = WatchReport(entry=entry)
    try:
        rows, report.truncated = _alerts_of_entry(entry)
    except (StoreError, ValueError) as exc:
        report.error = str(exc) or exc.__class__.__name__
        return report
    seen = -math.inf if entry.seen_jd is None else entry.seen_jd
    new = sorted((r for r in rows if r["i:jd"] > seen), key=lambda r: r["i:jd"], reverse=True)
    report.new_count = len(new)
    shown = new[:MAX_SHOWN_PER_ENTRY]
    dates = jd_to_iso([r["i:jd"] for r in shown])
    report.new = [_alert_line(row, date) for row, date in zip(shown, dates)]
    if rows:
        report.newest_jd = max(r["i:jd"] for r in rows)
        report.newest_date = jd_to_iso([report.newest_jd])[0]
    return report


def _alerts_of_entry(entry: WatchlistEntry) -> tuple[list[dict], bool]:
    """The alerts to compare with ``seen_jd``, and whether a cap cut them."""
    if entry.kind == WatchlistEntry.OBJECT:
        rows = alerts_of_object(object_ids=[entry.object_id], columns=WATCH_COLUMNS)
        return list(rows), bool(getattr(rows, "truncated", False))
    found = alerts_in_cone(
        ra=entry.ra, dec=entry.dec, radius_arcsec=entry.radius_arcsec, n=MAX_CONE_OBJECTS, columns=WATCH_COLUMNS
    )
    return found.rows, found.truncated


def _alert_line(row: dict[str, Any], date: str | None) -> dict[str, Any]:
    line = {
        "objectId": row.get("i:objectId"),
        "jd": row["i:jd"],
        "date": date,
        "candid": row.get("i:candid"),
        "band": _BANDS.get(row.get("i:fid"), "?"),
        "magpsf": row.get("i:magpsf"),
        "sigmapsf": row.get("i:sigmapsf"),
        "classification": row.get("d:classification"),
    }
    if row.get("v:separation_degree") is not None:
        line["separation_arcsec"] = row["v:separation_degree"] * 3600.0
    return line

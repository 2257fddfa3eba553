"""Writes of user data: accounts, API tokens, annotations, watchlists, saved searches.

Plain keyword-only functions the views (and the admin, and tests) call; input is validated by
the forms before it gets here.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from search.models import ObjectAnnotation, annotation_save

from .models import ApiToken, SavedSearch, WatchlistEntry, hash_api_key
from .selectors import WatchReport, watch_newest_jd, watch_report, watchlist_of

#: A token's ``last_used`` is rewritten at most this often (not one database write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_create(*, username: str, email: str, password: str):
    """A new active user with a usable password."""
    return get_user_model().objects.create_user(username=username, email=email, password=password)


# -- tokens -----------------------------------------------------------------------------------------
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new API token of ``user``; returns it and its key, which is not stored and cannot be
    shown again."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_api_key(key), prefix=key[:8])
    return token, key


def api_token_revoke(*, user, token_id: int) -> bool:
    """Delete one of the user's tokens; False if the user has no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0


def api_token_mark_used(*, token: ApiToken) -> None:
    """Record that ``token`` was just used (to the minute)."""
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


# -- annotations ------------------------------------------------------------------------------------
def annotation_add(*, user, object_id: str, internal_name: str, comments: str = "") -> ObjectAnnotation:
    """Annotate an object; a user's new annotation of an object replaces their previous one
    (as the ``metadata`` API route does: both write :class:`search.models.ObjectAnnotation`)."""
    return annotation_save(user=user, object_id=object_id, internal_name=internal_name, comments=comments)


def annotation_delete(*, user, annotation_id: int) -> bool:
    """Delete one of the user's annotations; False if the user has no such annotation."""
    deleted, _ = ObjectAnnotation.objects.filter(user=user, pk=annotation_id).delete()
    return deleted > 0


# -- watchlist --------------------------------------------------------------------------------------
def watch_object(*, user, object_id: str, label: str = "") -> tuple[WatchlistEntry, bool]:
    """Watch an object (once per user); returns the entry and whether it is new.

    The alerts the object has now count as seen: the watchlist shows those that come after.
    """
    entry, created = WatchlistEntry.objects.get_or_create(
        user=user, kind=WatchlistEntry.OBJECT, object_id=object_id, defaults={"label": label}
    )
    if created:
        _start_from_now(entry)
    return entry, created


def watch_cone(*, user, ra: float, dec: float, radius_arcsec: float, label: str = "") -> WatchlistEntry:
    """Watch a cone of the sky for alerts of objects inside it (from the alerts held now on)."""
    entry = WatchlistEntry.objects.create(
        user=user, kind=WatchlistEntry.CONE, ra=ra, dec=dec, radius_arcsec=radius_arcsec, label=label
    )
    _start_from_now(entry)
    return entry


def _start_from_now(entry: WatchlistEntry) -> None:
    # If the store cannot be read now, seen_jd stays empty and the first visit shows everything.
    entry.seen_jd = watch_newest_jd(entry=entry)
    if entry.seen_jd is not None:
        entry.save(update_fields=["seen_jd"])


def watch_remove(*, user, entry_id: int) -> bool:
    """Stop watching one entry; False if the user has no such entry."""
    deleted, _ = WatchlistEntry.objects.filter(user=user, pk=entry_id).delete()
    return deleted > 0


def watchlist_visit(*, user) -> list[WatchReport]:
    """What is new in each of the user's watchlist entries since their last visit, then mark it
    seen: the next visit shows only alerts newer than the newest one read now.

    An entry whose alerts cannot be read keeps its ``seen_jd`` (nothing is lost).
    """
    now = timezone.now()
    reports = [watch_report(entry=entry) for entry in watchlist_of(user=user)]
    with transaction.atomic():
        for report in reports:
            entry = report.entry
            fields = ["visited"]
            entry.visited = now
            newer = report.newest_jd is not None and (entry.seen_jd is None or report.newest_jd > entry.seen_jd)
            if report.error is None and newer:
                entry.seen_jd = report.newest_jd
                fields.append("seen_jd")
            entry.save(update_fields=fields)
    return reports


# -- saved searches ---------------------------------------------------------------------------------
def saved_search_create(*, user, name: str, query: str) -> SavedSearch:
    """Save a search under a name (unique per user; the form checks it)."""
    return SavedSearch.objects.create(user=user, name=name, query=query)


def saved_search_delete(*, user, search_id: int) -> bool:
    """Delete one of the user's saved searches; False if the user has no such search."""
    deleted, _ = SavedSearch.objects.filter(user=user, pk=search_id).delete()
    return deleted > 0

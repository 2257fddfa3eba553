"""What users keep in the Django database: API tokens, watchlists and saved searches.

Annotations of objects are :class:`search.models.ObjectAnnotation` (the ``metadata`` API route
writes them too); the accounts pages reuse that model rather than keep a second one.
"""
from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


def hash_api_key(key: str) -> str:
    """The stored form of an API key: its SHA-256, hex.

    Keys are 160 random bits, so a fast hash is enough (a slow password hash protects guessable
    secrets); a database leak then gives no usable key.
    """
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A named API key of a user, sent as ``Authorization: Token <key>``.

    Only the key's hash is stored: the key is shown once, when it is created. A user may hold
    several (one per script or machine), each revoked on its own.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, to tell tokens apart in lists without storing the key.
    prefix = models.CharField(max_length=8, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created", "-id")
        verbose_name = "API token"
        constraints = (models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique_per_user"),)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"


class WatchlistEntry(models.Model):
    """An object or a sky cone a user watches for new alerts.

    ``seen_jd`` is the time (JD) of the newest alert shown on the user's last visit of the
    watchlist: alerts after it are new. It is an alert time rather than the wall-clock time of the
    visit because alerts are ingested hours or days after they are observed.
    """

    OBJECT, CONE = "object", "cone"
    KINDS = ((OBJECT, "object"), (CONE, "cone"))

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist")
    kind = models.CharField(max_length=8, choices=KINDS)
    object_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    ra = models.FloatField(null=True, blank=True, help_text="degrees")
    dec = models.FloatField(null=True, blank=True, help_text="degrees")
    radius_arcsec = models.FloatField(null=True, blank=True, help_text="arcseconds")
    label = models.CharField(max_length=100, blank=True, default="")
    seen_jd = models.FloatField(null=True, blank=True, help_text="newest alert time (JD) shown so far")
    created = models.DateTimeField(auto_now_add=True)
    visited = models.DateTimeField(null=True, blank=True, help_text="last visit of the watchlist page")

    class Meta:
        ordering = ("created", "id")
        verbose_name = "watchlist entry"
        verbose_name_plural = "watchlist entries"
        constraints = (
            models.UniqueConstraint(
                fields=["user", "object_id"], condition=Q(kind="object"), name="watch_object_once_per_user"
            ),
            models.CheckConstraint(
                condition=(Q(kind="object") & ~Q(object_id=""))
                | (Q(kind="cone") & Q(ra__isnull=False) & Q(dec__isnull=False) & Q(radius_arcsec__gt=0)),
                name="watch_object_or_cone",
            ),
        )

    def __str__(self) -> str:
        return self.label or self.target

    @property
    def target(self) -> str:
        """What is watched, in words: the object id, or the cone."""
        if self.kind == self.OBJECT:
            return self.object_id
        return f"cone RA {self.ra:.5f}, Dec {self.dec:+.5f}, radius {self.radius_arcsec:g}″"

    @property
    def url(self) -> str:
        """The page of what is watched: the object page, or the cone's search results."""
        if self.kind == self.OBJECT:
            return reverse("object_page", args=[self.object_id])
        # The search bar reads "ra dec radius" (degrees, degrees, arcseconds).
        query = urlencode({"q": f"{self.ra:.6f} {self.dec:.6f} {self.radius_arcsec:g}"})
        return f"{reverse('search:search')}?{query}"


class SavedSearch(models.Model):
    """A named search of the search page: ``query`` is its URL's query string (``q=...``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=100)
    query = models.TextField(max_length=2000)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "id")
        verbose_name_plural = "saved searches"
        constraints = (models.UniqueConstraint(fields=["user", "name"], name="saved_search_name_unique_per_user"),)

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        """The search page URL of this search."""
        return f"{reverse('search:search')}?{self.query}"

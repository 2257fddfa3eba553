"""Django-database data of the search app: annotations of objects (the ``metadata`` route) and
the names of numbered asteroids (name -> number look-ups of the ``sso`` searches).

Alert data lives in the store; what users write lives in the Django database. The accounts pages
reuse :class:`ObjectAnnotation` to list a user's annotations.
"""
from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models


def encode_internal_name(name: str) -> str:
    """The form names are looked up by: without spaces, as Fink's ``internal_name_encoded``."""
    return "".join(name.split())


class ObjectAnnotationQuerySet(models.QuerySet):
    def of_object(self, object_id: str) -> ObjectAnnotationQuerySet:
        return self.filter(object_id=object_id)

    def named(self, internal_name: str) -> ObjectAnnotationQuerySet:
        return self.filter(internal_name_encoded=encode_internal_name(internal_name))


class ObjectAnnotation(models.Model):
    """A user's name and comments for a ZTF object; one per user and object (a new post updates it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="object_annotations"
    )
    object_id = models.CharField(max_length=32, db_index=True)
    internal_name = models.CharField(max_length=100)
    # Looked up by name without spaces, as Fink does; kept in a column to be indexed.
    internal_name_encoded = models.CharField(max_length=100, db_index=True)
    comments = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ObjectAnnotationQuerySet.as_manager()

    class Meta:
        ordering = ("-updated", "-id")
        constraints = (
            models.UniqueConstraint(fields=["user", "object_id"], name="one_annotation_per_user_and_object"),
        )

    def __str__(self) -> str:
        return f"{self.object_id}: {self.internal_name}"

    def save(self, *args, **kwargs) -> None:
        self.internal_name_encoded = encode_internal_name(self.internal_name)
        super().save(*args, **kwargs)


def annotation_save(*, user, object_id: str, internal_name: str, comments: str = "") -> ObjectAnnotation:
    """Create or update ``user``'s annotation of an object."""
    annotation, _ = ObjectAnnotation.objects.update_or_create(
        user=user,
        object_id=object_id,
        defaults={
            "internal_name": internal_name,
            # Named too: update_or_create saves only the fields in defaults.
            "internal_name_encoded": encode_internal_name(internal_name),
            "comments": comments,
        },
    )
    return annotation


def annotations_find(*, object_id: str | None = None, internal_name: str | None = None) -> list[dict]:
    """Annotations of an object, or of the objects users gave a name, as rows with Fink's
    ``metadata`` column names (newest first)."""
    found = ObjectAnnotation.objects.select_related("user")
    if object_id:
        found = found.of_object(object_id)
    if internal_name:
        found = found.named(internal_name)
    return [
        {
            "key:key": a.object_id,
            "d:internal_name": a.internal_name,
            "d:internal_name_encoded": a.internal_name_encoded,
            "d:comments": a.comments,
            "d:username": a.user.get_username(),
            "d:created": a.created.isoformat(),
            "d:updated": a.updated.isoformat(),
        }
        for a in found[:10_000]
    ]


# -- asteroid names ---------------------------------------------------------------------------
# Letters NFKD does not split into a base letter and an accent.
_UNACCENTED = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


def asteroid_name_key(name: str) -> str:
    """The form asteroid names are looked up by: case, spaces and accents ignored.

    ``"Benoît Carry"`` and ``"benoitcarry"`` both give ``"benoitcarry"``.
    """
    decomposed = unicodedata.normalize("NFKD", str(name))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(bare.casefold().translate(_UNACCENTED).split())


class AsteroidName(models.Model):
    """The IAU name of a numbered minor planet, from the Minor Planet Center's list of numbered
    minor planets (``NumberedMPs.txt``, loaded by ``manage.py load_sso_names``).

    ZTF alerts carry only the number (``i:ssnamenr``): this table turns a name typed in the search
    bar or given to the ``sso`` and ``resolver`` routes into that number, offline. Unnamed minor
    planets are not held.
    """

    number = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=64)
    # Several names may share a key (they differ by accents only): a look-up returns them all.
    key = models.CharField(max_length=64, db_index=True, editable=False)

    class Meta:
        ordering = ("number",)

    def __str__(self) -> str:
        return f"({self.number}) {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.key = asteroid_name_key(self.name)
        super().save(*args, **kwargs)

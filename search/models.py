"""User data of the search app: annotations of objects (the ``metadata`` route).

Alert data lives in the store; what users write lives in the Django database. The accounts pages
reuse :class:`ObjectAnnotation` to list a user's annotations.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


def encode_internal_name(name: str) -> str:
    """The form names are looked up by: without spaces, as Fink's ``internal_name_encoded``."""
    return "".join(name.split())


class ObjectAnnotationQuerySet(models.QuerySet):
    def of_object(self, object_id: str) -> "ObjectAnnotationQuerySet":
        return self.filter(object_id=object_id)

    def named(self, internal_name: str) -> "ObjectAnnotationQuerySet":
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
        ordering = ["-updated", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "object_id"], name="one_annotation_per_user_and_object")
        ]

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

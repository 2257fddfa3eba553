from django.apps import AppConfig


class ObjectsConfig(AppConfig):
    """Object pages (light curve, cutouts, alerts) and their API routes (``objects``, ``cutouts``)."""

    name = "objects"

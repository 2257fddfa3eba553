from django.apps import AppConfig


class FitsConfig(AppConfig):
    """Fits that run in the background: ``FitJob`` rows, the Celery task, the admin pages."""

    name = "fits"
    verbose_name = "Fits"

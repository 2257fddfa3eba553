from django.apps import AppConfig


class StoreConfig(AppConfig):
    """Django glue: configure the default store from ``settings.STORE`` (the store itself is Django-free)."""

    name = "store"

    def ready(self) -> None:
        from django.conf import settings

        from . import configure

        configure(settings.STORE)

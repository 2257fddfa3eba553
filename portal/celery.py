"""The Celery app of the portal: fits run in its workers (``celery -A portal worker``).

Configured from Django settings (the ``CELERY_`` names, section "Celery and fits" of
``portal/settings.py``). With no ``CELERY_BROKER_URL`` the broker is kombu's filesystem
transport under ``var/celery`` (no server; one machine); with ``redis://...`` workers may run on
other machines. Tasks are found in each app's ``tasks.py``.

Run a worker (one fit per process; ``--concurrency`` = CPU cores given to fits)::

    celery -A portal worker --loglevel=INFO --concurrency=2
    CELERY_BROKER_URL=redis://host:6379/0 celery -A portal worker --loglevel=INFO
    celery -A portal beat          # optional: runs the fits reaper every FITS_REAP_EVERY s

Without beat, ``manage.py fits_reap`` from cron does the same.
"""
import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _make_filesystem_folders() -> None:
    """kombu's filesystem transport lists its folders without creating them."""
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
    backend = str(getattr(settings, "CELERY_RESULT_BACKEND", "") or "")
    if backend.startswith("file://"):
        Path(backend[len("file://"):]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_broker(sender, **kwargs) -> None:
    _make_filesystem_folders()

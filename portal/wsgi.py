"""WSGI entry point (gunicorn portal.wsgi)."""
import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# Import every view now rather than on the first request, then take everything loaded so far
# (Django, DRF, astropy, pyarrow...: ~200k objects that live as long as the process) out of the
# garbage collector's reach. A full collection then walks only what requests allocate, instead of
# pausing a request for 50-300 ms on these machines (gc.freeze is Python's advice for pre-fork
# servers such as gunicorn).
get_resolver().url_patterns  # noqa: B018
gc.freeze()

"""Fits in the background: a ``FitJob`` row per request, run by a Celery worker with a fitter
from ``fits.fitters``; the result is kept and reused by identical requests."""

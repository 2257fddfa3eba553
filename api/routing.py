"""URL helper for API routes: Fink's paths have no trailing slash; accept one anyway."""
from __future__ import annotations

from typing import Any

from django.urls import URLPattern, re_path


def fink_path(route: str, view: Any, name: str | None = None) -> URLPattern:
    """A URL pattern matching ``route`` with or without a trailing slash.

    Fink's clients call ``/api/v1/objects``; a POST to ``/api/v1/objects/`` cannot be redirected
    (APPEND_SLASH only redirects GET), so both spellings are served.

    Parameters
    ----------
    route : str
        The route, relative to the including prefix (``"objects"``).
    view : callable
        The view (``Objects.as_view()``).
    name : str, optional
        URL name (default: ``route``).
    """
    return re_path(rf"^{route}/?$", view, name=name or route)

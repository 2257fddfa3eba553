"""One exception handler for the API: every error is ``{"status": "error", "text": "..."}``.

=====================================  ======  ==============================================
raised                                 status  text
=====================================  ======  ==============================================
DRF ``ValidationError`` (bad input)    400     ``<param>: <what was wrong>`` (joined by ``; ``)
``ParseError`` (malformed body)        400     the parser's message
``NotAuthenticated`` / bad token       401     (``WWW-Authenticate: Token``)
``PermissionDenied``                   403
``Http404`` / ``NotFound``             404
``Throttled``                          429     with ``Retry-After``
``store.StoreUnavailable`` (+timeout)  503     ``the alert store is unavailable: ...``
``store.StoreBusy``                    503     ``the alert store is busy: ...`` (transient)
other ``store.StoreError``             500     ``alert store error: ...`` (no traceback)
anything else                          500     ``internal error`` (traceback logged)
=====================================  ======  ==============================================

Set as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``. Outside DRF views (an unknown ``/api/`` URL, a
crash in middleware), ``handler404`` / ``handler500`` in ``portal/urls.py`` point at
:func:`page_not_found` / :func:`server_error`, which answer JSON under ``/api/`` and Django's HTML
pages elsewhere.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from store import StoreBusy, StoreError, StoreUnavailable

logger = logging.getLogger("api")

API_PREFIX = "/api/"


def error_body(text: str) -> dict[str, str]:
    """The body of every API error."""
    return {"status": "error", "text": text}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF exception handler: map ``exc`` to a JSON error response (see the module table)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    set_rollback()  # a view inside a transaction must not commit half its work
    if isinstance(exc, exceptions.APIException):
        response = Response(error_body(_api_error_text(exc)), status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            response["Retry-After"] = str(int(exc.wait))
        return response

    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body(
                "request body too large: send big inputs (catalogues, sky maps) as a multipart file upload"
            ),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, StoreUnavailable):
        return Response(
            error_body(f"the alert store is unavailable: {exc}"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, StoreBusy):
        # Another process holds the embedded store's write lock: transient, so "try again".
        return Response(
            error_body(f"the alert store is busy: {exc}"), status=status.HTTP_503_SERVICE_UNAVAILABLE
        )
    if isinstance(exc, StoreError):
        _log_exception(exc, context, "store error")
        return Response(
            error_body(f"alert store error: {exc}"), status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )

    _log_exception(exc, context, "unhandled error")
    return Response(error_body("internal error"), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _log_exception(exc: Exception, context: Mapping[str, Any], what: str) -> None:
    request = context.get("request")
    where = f"{request.method} {request.get_full_path()}" if request is not None else "?"
    logger.error("%s in %s", what, where, exc_info=(type(exc), exc, exc.__traceback__))


def _api_error_text(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.Throttled):
        # DRF's own message says "Expected available in N seconds"; keep it plain.
        wait = f"; try again in {int(exc.wait)} s" if exc.wait is not None else ""
        return f"too many requests for your tier (see the API page for the limits){wait}"
    return "; ".join(flatten_errors(exc.detail))


def flatten_errors(detail: Any, prefix: str = "") -> list[str]:
    """DRF error detail (dicts of lists, nested) as ``"param: message"`` lines.

    ``non_field_errors`` and top-level lists carry no parameter name.
    """
    if isinstance(detail, Mapping):
        lines = []
        for key, value in detail.items():
            if key in ("non_field_errors", "detail"):
                lines.extend(flatten_errors(value, prefix))
            else:
                lines.extend(flatten_errors(value, _child_name(prefix, key)))
        return lines
    if isinstance(detail, (list, tuple)):
        return [line for item in detail for line in flatten_errors(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _child_name(prefix: str, key: Any) -> str:
    if not prefix:
        return str(key)
    return f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}"


# --- Django-level handlers (outside DRF views) -------------------------------------------------


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: JSON under ``/api/``, Django's page elsewhere (used when DEBUG is off)."""
    if is_api_request(request):
        return JsonResponse(error_body(f"no API route at {request.path}"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: JSON under ``/api/``, Django's page elsewhere (used when DEBUG is off)."""
    if is_api_request(request):
        return JsonResponse(error_body("internal error"), status=500)
    return defaults.server_error(request)

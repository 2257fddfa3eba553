"""Pieces of the accounts app other pages draw, so that they need not know its templates:

``{% account_nav %}``
    the navigation bar's links: watchlist, profile, log out; or log in, sign up.
``{% annotations_panel object_id %}``
    the object page's annotations card (list, form, a "watch this object" button).
``{% save_search_button %}``
    on the search results page: save the current search (logged-in users only).

Each needs ``{% load accounts_tags %}`` and the ``request`` context processor.
"""
from __future__ import annotations

from django import template
from django.utils.http import urlencode

from .. import selectors
from ..forms import annotation_form_for

register = template.Library()


@register.inclusion_tag("accounts/nav.html", takes_context=True)
def account_nav(context) -> dict:
    request = context.get("request")
    return {"user": getattr(request, "user", None) or context.get("user"), "request": request, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("accounts/annotations_card.html", takes_context=True)
def annotations_panel(context, object_id: str) -> dict:
    request = context["request"]
    return {
        "object_id": object_id,
        "annotations": selectors.annotations_of_object(object_id=object_id),
        "form": annotation_form_for(user=request.user, object_id=object_id),
        "watched": selectors.is_watched(user=request.user, object_id=object_id),
        "user": request.user,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("accounts/save_search.html", takes_context=True)
def save_search_button(context) -> dict:
    request = context["request"]
    pairs = [(k, v) for k, v in request.GET.items() if k not in ("page",) and v.strip()]
    return {
        "query": urlencode(pairs) if any(k == "q" for k, _ in pairs) else "",
        "name": request.GET.get("q", "")[:100],
        "user": request.user,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }

"""The accounts pages: sign-up, profile (API tokens, saved searches, annotations), watchlist,
the annotations panel of an object, and the human API page.

Views parse input with :mod:`accounts.forms`, call one selector or service, and render. Every
write is a POST behind Django's CSRF check; login, logout and password views are Django's own
(wired in :mod:`accounts.urls` with our templates).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.throttles import throttle_tiers

from . import selectors, services
from .forms import (
    AnnotationForm,
    ApiTokenForm,
    SavedSearchForm,
    SignUpForm,
    WatchConeForm,
    WatchObjectForm,
    annotation_form_for,
)


def _next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` field of a POST when it is a URL of this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _wants_fragment(request: HttpRequest) -> bool:
    """A script of the page asks (annotations.js): answer with the HTML fragment, not a page."""
    return request.headers.get("X-Requested-With") in ("fetch", "XMLHttpRequest")


# -- sign-up ------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """Create an account, log in with it, go to the profile page."""
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}: your account is ready.")
        return redirect("accounts:profile")
    return render(request, "accounts/sign_up.html", {"form": form}, status=400 if form.errors else 200)


# -- profile: tokens and saved searches ---------------------------------------------------------------
def _profile(request: HttpRequest, *, token_form=None, search_form=None, status: int = 200) -> HttpResponse:
    user = request.user
    context = {
        "tokens": selectors.api_tokens_of(user=user),
        "token_form": token_form or ApiTokenForm(user=user),
        "saved_searches": selectors.saved_searches_of(user=user),
        "search_form": search_form or SavedSearchForm(user=user),
        "annotations": selectors.annotations_of_user(user=user),
        "watch_count": selectors.watchlist_of(user=user).count(),
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """The user's API tokens, saved searches, annotations, and links to the watchlist and password
    change."""
    return _profile(request)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show its key, once."""
    form = ApiTokenForm(request.POST, user=request.user)
    if not form.is_valid():
        return _profile(request, token_form=form, status=400)
    token, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
    response = render(request, "accounts/token_created.html", {"token": token, "key": key}, status=201)
    response["Cache-Control"] = "no-store"  # the key must not stay in a cache
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if services.api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "The token is revoked: requests sending it are now refused (401).")
    else:
        messages.error(request, "No such token (revoked already?).")
    return redirect("accounts:profile")


@login_required
@require_POST
def saved_search_create(request: HttpRequest) -> HttpResponse:
    form = SavedSearchForm(request.POST, user=request.user)
    if not form.is_valid():
        return _profile(request, search_form=form, status=400)
    search = services.saved_search_create(user=request.user, **form.cleaned_data)
    messages.success(request, f"Search “{search.name}” saved.")
    return redirect(_next_url(request, reverse("accounts:profile")))


@login_required
@require_POST
def saved_search_delete(request: HttpRequest, search_id: int) -> HttpResponse:
    if services.saved_search_delete(user=request.user, search_id=search_id):
        messages.success(request, "Saved search deleted.")
    else:
        messages.error(request, "No such saved search.")
    return redirect("accounts:profile")


# -- annotations --------------------------------------------------------------------------------------
def _annotations(request: HttpRequest, object_id: str, form=None, status: int = 200) -> HttpResponse:
    context = {
        "object_id": object_id,
        "annotations": selectors.annotations_of_object(object_id=object_id),
        "form": form if form is not None else annotation_form_for(user=request.user, object_id=object_id),
        "watched": selectors.is_watched(user=request.user, object_id=object_id),
    }
    template = "accounts/annotations_panel.html" if request.method == "GET" or _wants_fragment(request) else "accounts/annotations_page.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def annotations(request: HttpRequest, object_id: str) -> HttpResponse:
    """GET: the annotations of an object as an HTML fragment (the object page's panel). POST
    (logged-in users only): add or replace the user's annotation, then back to the object page (a
    script asking with ``X-Requested-With`` gets the updated fragment instead)."""
    if request.method == "GET":
        return _annotations(request, object_id)
    object_page = reverse("object_page", args=[object_id])
    if not request.user.is_authenticated:
        if _wants_fragment(request):
            return HttpResponseForbidden("Log in to annotate objects.")
        return redirect_to_login(object_page + "#annotations")
    form = AnnotationForm(request.POST)
    if not form.is_valid():
        return _annotations(request, object_id, form=form, status=400)
    services.annotation_add(user=request.user, object_id=object_id, **form.cleaned_data)
    if _wants_fragment(request):
        return _annotations(request, object_id, status=201)
    messages.success(request, f"Your annotation of {object_id} is saved.")
    return redirect(_next_url(request, object_page + "#annotations"))


@login_required
@require_POST
def annotation_delete(request: HttpRequest, annotation_id: int) -> HttpResponse:
    if services.annotation_delete(user=request.user, annotation_id=annotation_id):
        messages.success(request, "Annotation deleted.")
    else:
        messages.error(request, "No such annotation of yours.")
    return redirect(_next_url(request, reverse("accounts:profile")))


# -- watchlist ----------------------------------------------------------------------------------------
def _watchlist(request: HttpRequest, reports, *, object_form=None, cone_form=None, status: int = 200) -> HttpResponse:
    context = {
        "reports": reports,
        "object_form": object_form or WatchObjectForm(user=request.user),
        "cone_form": cone_form or WatchConeForm(),
    }
    return render(request, "accounts/watchlist.html", context, status=status)


def _unmarked_reports(request: HttpRequest):
    """The reports without marking them seen: a page shown again for a form error."""
    return [selectors.watch_report(entry=entry) for entry in selectors.watchlist_of(user=request.user)]


@login_required
@require_GET
def watchlist(request: HttpRequest) -> HttpResponse:
    """Each watched object or cone with its alerts new since the last visit (now marked seen)."""
    return _watchlist(request, services.watchlist_visit(user=request.user))


@login_required
@require_POST
def watch_object_add(request: HttpRequest) -> HttpResponse:
    form = WatchObjectForm(request.POST, user=request.user)
    if not form.is_valid():
        return _watchlist(request, _unmarked_reports(request), object_form=form, status=400)
    entry, _ = services.watch_object(user=request.user, **form.cleaned_data)
    messages.success(request, f"You now watch {entry.object_id}: its next alerts will show here.")
    return redirect(_next_url(request, reverse("accounts:watchlist")))


@login_required
@require_POST
def watch_cone_add(request: HttpRequest) -> HttpResponse:
    form = WatchConeForm(request.POST)
    if not form.is_valid():
        return _watchlist(request, _unmarked_reports(request), cone_form=form, status=400)
    data = form.cleaned_data
    entry = services.watch_cone(
        user=request.user, ra=data["ra"], dec=data["dec"], radius_arcsec=data["radius"], label=data["label"]
    )
    messages.success(request, f"You now watch the {entry.target}.")
    return redirect("accounts:watchlist")


@login_required
@require_POST
def watch_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    if services.watch_remove(user=request.user, entry_id=entry_id):
        messages.success(request, "Removed from your watchlist.")
    else:
        messages.error(request, "No such watchlist entry.")
    return redirect(_next_url(request, reverse("accounts:watchlist")))


# -- the API page -------------------------------------------------------------------------------------
@require_GET
def api_page(request: HttpRequest) -> HttpResponse:
    """What the REST API is, its rate limits by tier, and links to its documentation."""
    base = request.build_absolute_uri("/api/v1/")
    return render(request, "accounts/api.html", {"tiers": throttle_tiers(), "api_base": base})

"""URLs of the accounts app, included at the root by ``portal/urls.py``: ``accounts/...`` (sign-up,
login, password, profile, tokens, saved searches), ``watchlist``, ``api/`` (the human API page),
and ``objects/<id>/annotations`` (the object page's annotations panel)."""
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path, reverse_lazy

from objects.urls import ZtfIdConverter

from . import views

app_name = "accounts"

def _auth_page(route: str, view, name: str, *, then: str | None = None, **options):
    """Django's auth ``view`` at ``route``, named ``name``, with our template ``accounts/<name>.html``;
    ``then`` names the page of this app it goes to once done (its success URL)."""
    if then:
        options["success_url"] = reverse_lazy(f"accounts:{then}")
    return path(route, view.as_view(template_name=f"accounts/{name}.html", **options), name=name)


# Django's own views with our templates; success URLs named in this app's namespace.
_auth = [
    _auth_page("login/", auth_views.LoginView, "login", redirect_authenticated_user=True),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django 5)
    _auth_page("password/change/", auth_views.PasswordChangeView, "password_change", then="password_change_done"),
    _auth_page("password/change/done/", auth_views.PasswordChangeDoneView, "password_change_done"),
    _auth_page(
        "password/reset/", auth_views.PasswordResetView, "password_reset", then="password_reset_done",
        email_template_name="accounts/email/password_reset.txt",
        subject_template_name="accounts/email/password_reset_subject.txt",
    ),
    _auth_page("password/reset/sent/", auth_views.PasswordResetDoneView, "password_reset_done"),
    _auth_page(
        "password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView, "password_reset_confirm",
        then="password_reset_complete",
    ),
    _auth_page("password/reset/complete/", auth_views.PasswordResetCompleteView, "password_reset_complete"),
]

_account = [
    *_auth,
    path("signup/", views.sign_up, name="sign_up"),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("searches/", views.saved_search_create, name="saved_search_create"),
    path("searches/<int:search_id>/delete/", views.saved_search_delete, name="saved_search_delete"),
    path("annotations/<int:annotation_id>/delete/", views.annotation_delete, name="annotation_delete"),
]

urlpatterns = [
    path("accounts/", include(_account)),
    path("watchlist", views.watchlist, name="watchlist"),
    path("watchlist/objects", views.watch_object_add, name="watch_object_add"),
    path("watchlist/cones", views.watch_cone_add, name="watch_cone_add"),
    path("watchlist/<int:entry_id>/remove", views.watch_remove, name="watch_remove"),
    re_path(rf"^objects/(?P<object_id>{ZtfIdConverter.regex})/annotations$", views.annotations, name="annotations"),
    path("api/", views.api_page, name="api"),
]

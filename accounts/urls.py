"""URLs of the accounts app, included at the root by ``portal/urls.py``: ``accounts/...`` (sign-up,
login, password, profile, tokens, saved searches), ``watchlist``, ``api/`` (the human API page),
and ``objects/<id>/annotations`` (the object page's annotations panel)."""
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path, reverse_lazy

from objects.urls import ZtfIdConverter

from . import views

app_name = "accounts"

# Django's own views with our templates; success URLs named in this app's namespace.
_auth = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django 5)
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("accounts:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
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

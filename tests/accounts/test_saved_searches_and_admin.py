"""Saved searches on the profile page, and the admin of users and their data."""
from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, SavedSearch, WatchlistEntry
from search.models import ObjectAnnotation, annotation_save

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "given",
    ["q=class%3DSN+candidate", "?q=class%3DSN+candidate", "/search?q=class%3DSN+candidate&page=",
     "http://portal.example/search?q=class%3DSN+candidate"],
)
def test_save_a_search_from_its_url_or_query_string(logged_in, user, given):
    response = logged_in.post(reverse("accounts:saved_search_create"), {"name": "SNe", "query": given})
    assert response.status_code == 302
    search = SavedSearch.objects.get(user=user)
    assert search.query == "q=class%3DSN+candidate" and search.url == "/search?q=class%3DSN+candidate"
    page = logged_in.get(reverse("accounts:profile")).content.decode()
    assert '<a href="/search?q=class%3DSN+candidate">SNe</a>' in page


def test_save_button_comes_back_to_the_search(logged_in):
    response = logged_in.post(
        reverse("accounts:saved_search_create"), {"name": "QSO", "query": "q=class%3DQSO", "next": "/search?q=class%3DQSO"}
    )
    assert response["Location"] == "/search?q=class%3DQSO"
    response = logged_in.post(
        reverse("accounts:saved_search_create"), {"name": "x", "query": "q=a", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("accounts:profile")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "query": "q=x"}, "Give the search a name."),
        ({"name": "mine", "query": ""}, "Give the search to save"),
        ({"name": "mine", "query": "page=2"}, "it has no q=... parameter"),
        ({"name": "mine", "query": "/objects/ZTF21abfmbix?q=x"}, "is not the search page"),
        ({"name": "taken", "query": "q=x"}, "You already have a search named “taken”."),
    ],
)
def test_saved_search_form_rejects_bad_input(logged_in, user, data, message):
    services.saved_search_create(user=user, name="taken", query="q=y")
    response = logged_in.post(reverse("accounts:saved_search_create"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert SavedSearch.objects.count() == 1


def test_delete_own_saved_search_only(logged_in, user, other_user):
    mine = services.saved_search_create(user=user, name="a", query="q=a")
    theirs = services.saved_search_create(user=other_user, name="b", query="q=b")
    logged_in.post(reverse("accounts:saved_search_delete", args=[theirs.pk]))
    logged_in.post(reverse("accounts:saved_search_delete", args=[mine.pk]))
    assert list(SavedSearch.objects.values_list("name", flat=True)) == ["b"]


def test_admin_lists_users_and_all_their_data(admin_client, user):
    services.api_token_create(user=user, name="laptop")
    services.saved_search_create(user=user, name="SNe", query="q=class%3DSN")
    annotation_save(user=user, object_id="ZTF21abfmbix", internal_name="mine")
    WatchlistEntry.objects.create(user=user, kind="object", object_id="ZTF21abfmbix")
    for model in (ApiToken, SavedSearch, WatchlistEntry, ObjectAnnotation):
        opts = model._meta
        response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, model
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()
    for text in ("laptop", "SNe", "mine", "ZTF21abfmbix"):
        assert text in page
    # Keys are not made in the admin (it could not show them): it lists and revokes.
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403

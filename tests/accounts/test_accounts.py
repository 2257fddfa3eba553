"""Sign-up, login, password change and reset, API tokens used against the API, the API page."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, hash_api_key
from api.throttles import throttle_tiers
from search.models import ObjectAnnotation

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

OBJECT = "ZTF21abfmbix"


def _errors(response) -> str:
    """The text of the page's error lists."""
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.DOTALL))


# -- sign-up, login -------------------------------------------------------------------------------
def test_sign_up_log_in_make_token_call_api_revoke(client, token_auth):
    response = client.post(
        reverse("accounts:sign_up"),
        {"username": "ada", "email": "ada@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    user = get_user_model().objects.get(username="ada")
    assert user.email == "ada@example.org" and user.check_password(PASSWORD)
    assert client.get(reverse("accounts:profile")).status_code == 200  # logged in by sign-up

    client.post(reverse("accounts:logout"))
    assert client.get(reverse("accounts:profile")).status_code == 302
    response = client.post(reverse("accounts:login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")

    response = client.post(reverse("accounts:token_create"), {"name": "laptop"})
    assert response.status_code == 201
    key = response.context["key"]
    assert key in response.content.decode() and response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hash_api_key(key) and key not in (token.key_hash, token.prefix)
    assert key[:8] in client.get(reverse("accounts:profile")).content.decode()

    # The API, without any session: the key alone says who writes.
    api = Client()
    body = {"objectId": OBJECT, "internal_name": "my-sn", "comments": "rising"}
    response = api.post("/api/v1/metadata", body, content_type="application/json", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200, response.content
    assert ObjectAnnotation.objects.get(object_id=OBJECT).user == user
    token.refresh_from_db()
    assert token.last_used is not None

    assert api.post("/api/v1/metadata", body, content_type="application/json").status_code == 401  # no token

    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302 and not ApiToken.objects.exists()
    response = api.post("/api/v1/metadata", body, content_type="application/json", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 401
    # Even a route anyone may read refuses a revoked key rather than serving it as anonymous.
    assert api.get("/api/v1/ping", headers={"Authorization": f"Token {key}"}).status_code == 401


def test_several_named_tokens_each_revoked_alone(logged_in, user, other_user, token_auth):
    keys = [logged_in.post(reverse("accounts:token_create"), {"name": n}).context["key"] for n in ("a", "b")]
    assert len(set(keys)) == 2 and ApiToken.objects.filter(user=user).count() == 2
    first = ApiToken.objects.get(name="a")
    # A token of another user cannot be revoked from this account.
    theirs = ApiToken.objects.create(user=other_user, name="x", key_hash=hash_api_key("k" * 40), prefix="kkkkkkkk")
    logged_in.post(reverse("accounts:token_revoke", args=[theirs.pk]))
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    logged_in.post(reverse("accounts:token_revoke", args=[first.pk]))
    api = Client()
    assert api.get("/api/v1/ping", headers={"Authorization": f"Token {keys[0]}"}).status_code == 401
    assert api.get("/api/v1/ping", headers={"Authorization": f"Token {keys[1]}"}).status_code == 200


def test_token_form_rejects_empty_and_repeated_names(logged_in):
    response = logged_in.post(reverse("accounts:token_create"), {"name": "  "})
    assert response.status_code == 400 and "Give the token a name" in _errors(response)
    logged_in.post(reverse("accounts:token_create"), {"name": "cron"})
    response = logged_in.post(reverse("accounts:token_create"), {"name": "cron"})
    assert response.status_code == 400 and "already have a token named" in _errors(response)


def test_bad_token_headers_are_401(token_auth):
    api = Client()
    assert api.get("/api/v1/ping", headers={"Authorization": "Token nosuchkey"}).status_code == 401
    assert api.get("/api/v1/ping", headers={"Authorization": "Token a b"}).status_code == 401


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "bob", "email": "bob@example.org", "password1": PASSWORD, "password2": PASSWORD + "x"}, "didn’t match"),
        ({"username": "vera", "email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}, "username already exists"),
        ({"username": "bob", "email": "VERA@example.org", "password1": PASSWORD, "password2": PASSWORD}, "e-mail address exists already"),
        ({"username": "bob", "email": "", "password1": PASSWORD, "password2": PASSWORD}, "Give an e-mail address"),
        ({"username": "bob", "email": "not-an-address", "password1": PASSWORD, "password2": PASSWORD}, "valid email address"),
        ({"username": "bob", "email": "bob@example.org", "password1": "abc", "password2": "abc"}, "too short"),
        ({"username": "bad name!", "email": "bob@example.org", "password1": PASSWORD, "password2": PASSWORD}, "valid username"),
    ],
)
def test_sign_up_rejects_bad_input(client, user, data, message):
    response = client.post(reverse("accounts:sign_up"), data)
    assert response.status_code == 400
    assert message in _errors(response)
    assert get_user_model().objects.count() == 1


def test_log_in_with_a_wrong_password_says_so(client, user):
    response = client.post(reverse("accounts:login"), {"username": "vera", "password": "wrong"})
    assert response.status_code == 200 and "correct username and password" in _errors(response)
    assert "_auth_user_id" not in client.session


def test_password_change(logged_in, user):
    url = reverse("accounts:password_change")
    response = logged_in.post(url, {"old_password": "nope", "new_password1": "Comet-tail-77", "new_password2": "Comet-tail-77"})
    assert "old password was entered incorrectly" in _errors(response)
    response = logged_in.post(url, {"old_password": PASSWORD, "new_password1": "Comet-tail-77", "new_password2": "Comet-tail-77"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password("Comet-tail-77")


def test_password_reset_sends_a_mail_whose_link_sets_a_new_password(client, user):
    response = client.post(reverse("accounts:password_reset"), {"email": "vera@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["vera@example.org"] and "Reset your password" in message.subject
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)
    response = client.get(link)  # redirects to the same form without the token in the URL
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": "Quasar-lamp-19", "new_password2": "Quasar-lamp-19"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_complete")
    assert client.login(username="vera", password="Quasar-lamp-19")


def test_password_reset_of_an_unknown_address_sends_nothing_and_reveals_nothing(client, user):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302 and mail.outbox == []
    response = client.post(reverse("accounts:password_reset"), {"email": "not an address"})
    assert response.status_code == 200 and "valid email address" in _errors(response)


def test_pages_of_an_account_need_a_login(client):
    for name in ("accounts:profile", "accounts:watchlist", "accounts:password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# -- the API page -----------------------------------------------------------------------------------
def test_api_page_shows_the_throttling_tiers_and_links(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "7/min", "user": "700/hour", "staff": None}}
    response = client.get("/api/")
    page = response.content.decode()
    assert response.status_code == 200
    for tier in throttle_tiers():
        assert f'data-tier="{tier["tier"]}"' in page and tier["rate"] in page
    assert "7/min" in page and "700/hour" in page and "unlimited" in page
    for link in ("/api/v1/docs/", "/api/v1/redoc/", "/api/v1/openapi"):
        assert f'href="{link}"' in page
